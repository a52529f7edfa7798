import { closeSync, existsSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { PipelineError } from '../../errors';
import { checkFingerprint, FINGERPRINT_KEY, keyFingerprint } from './fingerprint';
import { loadOrCreateKey, resolveKeyFile } from './key-file';
import { CACHE_LIMIT, MAX_ATTEMPTS, Pseudonyms, remember, validateDicomRoot, type Identity, type PatientAnswer, type PatientPseudonym, type PseudonymOptions, type UidRole, type ValueKind } from './pseudonyms';
import type { IdentityStore } from './store';
import { MIGRATIONS, SCHEMA_SQL, SCHEMA_VERSION } from './schema';

export type IdentityMapOptions = PseudonymOptions;
export type { PatientPseudonym, UidRole, ValueKind } from './pseudonyms';
export { validateDicomRoot } from './pseudonyms';

/**
 * The SQLite identity store (identity.db, the embedded default): every pseudonym comes from here,
 * inside a transaction. Whatever is stored wins over what would be derived, so a new key never
 * changes old mappings; the key's fingerprint is recorded so a different key is refused.
 */
export class IdentityMap implements Identity, IdentityStore {
  private readonly uidCache = new Map<string, string>();
  private readonly roleCache = new Set<string>();
  private readonly patientCache = new Map<string, PatientPseudonym>();
  private readonly valueCache = new Map<string, string>();
  private readonly make: Pseudonyms;
  private readonly stmt: ReturnType<IdentityMap['prepare']>;

  private constructor(private readonly db: Database.Database, readonly description: string, key: Buffer, options: IdentityMapOptions) {
    this.make = new Pseudonyms(key, options);
    this.stmt = this.prepare();
  }

  static open(path: string, options: IdentityMapOptions = {}): IdentityMap {
    const rootProblem = options.dicomRoot === undefined ? undefined : validateDicomRoot(options.dicomRoot);
    if (rootProblem) throw new PipelineError('E_CONFIG', `dicomRoot ${rootProblem}`);
    const keyFile = resolveKeyFile(options.keyFile);
    const { key } = loadOrCreateKey(keyFile);
    let db: Database.Database;
    let stored: string;
    try {
      createPrivately(path);
      db = new Database(path, { timeout: 30_000 });
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
      ensureSqliteSchema(db);
      // A store made before fingerprints existed gets the fingerprint of the first key that opens it.
      db.prepare('INSERT OR IGNORE INTO meta(key, value) VALUES (?, ?)').run(FINGERPRINT_KEY, keyFingerprint(key));
      stored = db.prepare<[string], { value: string }>('SELECT value FROM meta WHERE key = ?').get(FINGERPRINT_KEY)!.value;
    } catch (err) {
      throw new PipelineError('E_IDENTITY', `cannot open identity database ${path}: ${(err as Error).message}`, { cause: err });
    }
    try {
      checkFingerprint(stored, key, path, keyFile);
    } catch (err) {
      db.close();
      throw err;
    }
    return new IdentityMap(db, path, key, options);
  }

  private prepare() {
    const db = this.db;
    return {
      uidGet: db.prepare<[string], { cleaned: string }>('SELECT cleaned FROM uid_map WHERE original = ?'),
      uidPut: db.prepare('INSERT OR IGNORE INTO uid_map(original, cleaned, created_at) VALUES (?, ?, ?)'),
      rolePut: db.prepare('INSERT OR IGNORE INTO uid_role(original, role) VALUES (?, ?)'),
      patientGet: db.prepare<[string, string], { cleaned: string; cleaned_name: string; date_offset_days: number; name_check: string | null }>(
        'SELECT cleaned, cleaned_name, date_offset_days, name_check FROM patient_map WHERE original = ? AND issuer = ?'),
      patientNameCheckPut: db.prepare('UPDATE patient_map SET name_check = ? WHERE original = ? AND issuer = ? AND name_check IS NULL'),
      patientPut: db.prepare('INSERT OR IGNORE INTO patient_map(original, issuer, cleaned, cleaned_name, date_offset_days, created_at) VALUES (?, ?, ?, ?, ?, ?)'),
      valueGet: db.prepare<[string, string], { cleaned: string }>('SELECT cleaned FROM value_map WHERE kind = ? AND original = ?'),
      valuePut: db.prepare('INSERT OR IGNORE INTO value_map(kind, original, cleaned, created_at) VALUES (?, ?, ?, ?)'),
      studyPatientPut: db.prepare('INSERT OR IGNORE INTO study_patient(study_cleaned, patient_cleaned) VALUES (?, ?)'),
    };
  }

  /** Runs fn in one write transaction (BEGIN IMMEDIATE): concurrent processes never map one original twice. */
  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn).immediate();
  }

  /** The store interface: one synchronous transaction, fn run once. */
  batch<T>(fn: (identity: Identity) => T): Promise<T> {
    try {
      return Promise.resolve(this.transaction(() => fn(this)));
    } catch (err) {
      return Promise.reject(err);
    }
  }

  uid(original: string): string {
    const cached = this.uidCache.get(original);
    if (cached) return cached;
    let cleaned = this.stmt.uidGet.get(original)?.cleaned;
    for (let attempt = 0; !cleaned; attempt++) {
      if (attempt >= MAX_ATTEMPTS) throw new PipelineError('E_IDENTITY', 'could not derive a unique UID (identity database inconsistent?)');
      this.stmt.uidPut.run(original, this.make.uid(original, attempt), new Date().toISOString());
      cleaned = this.stmt.uidGet.get(original)?.cleaned; // absent only if the derived UID collided with another's
    }
    remember(this.uidCache, original, cleaned);
    return cleaned;
  }

  recordRole(original: string, role: UidRole): void {
    const key = `${role}\0${original}`;
    if (this.roleCache.has(key)) return;
    this.stmt.rolePut.run(original, role);
    if (this.roleCache.size >= CACHE_LIMIT) this.roleCache.clear();
    this.roleCache.add(key);
  }

  patient(patientId: string, issuer: string, familyName = ''): PatientAnswer {
    const cacheKey = `${issuer}\0${patientId}`;
    const check = familyName ? this.make.nameCheck(familyName) : undefined;
    let pseudonym = this.patientCache.get(cacheKey);
    if (!pseudonym || (check && !pseudonym.nameCheck)) {
      let row = this.stmt.patientGet.get(patientId, issuer);
      while (!row) {
        const { id, offset } = this.make.newPatient();
        this.stmt.patientPut.run(patientId, issuer, id, id, offset, new Date().toISOString());
        row = this.stmt.patientGet.get(patientId, issuer);
      }
      if (check && !row.name_check) {
        this.stmt.patientNameCheckPut.run(check, patientId, issuer);
        row = this.stmt.patientGet.get(patientId, issuer)!;
      }
      pseudonym = { id: row.cleaned, name: row.cleaned_name, dateOffsetDays: row.date_offset_days, nameCheck: row.name_check ?? undefined };
      remember(this.patientCache, cacheKey, pseudonym);
    }
    return { ...pseudonym, sameName: !check || !pseudonym.nameCheck || pseudonym.nameCheck === check };
  }

  value(kind: ValueKind, original: string): string {
    const cacheKey = `${kind}\0${original}`;
    const cached = this.valueCache.get(cacheKey);
    if (cached) return cached;
    let cleaned = this.stmt.valueGet.get(kind, original)?.cleaned;
    while (!cleaned) {
      this.stmt.valuePut.run(kind, original, this.make.newValue(kind), new Date().toISOString());
      cleaned = this.stmt.valueGet.get(kind, original)?.cleaned;
    }
    remember(this.valueCache, cacheKey, cleaned);
    return cleaned;
  }

  linkStudy(studyCleaned: string, patientCleaned: string): void {
    this.stmt.studyPatientPut.run(studyCleaned, patientCleaned);
  }

  close(): Promise<void> {
    this.db.close();
    return Promise.resolve();
  }

  /** For tools that read the store directly (migration, lookups); closed with the store. */
  get database(): Database.Database {
    return this.db;
  }
}

/** Creates or updates identity.db's tables and views (idempotent). */
export function ensureSqliteSchema(db: Database.Database): void {
  db.exec(SCHEMA_SQL);
  for (const m of MIGRATIONS) {
    const columns = db.prepare<[], { name: string }>(`PRAGMA table_info(${m.table})`).all().map((c) => c.name);
    if (!columns.includes(m.column)) db.exec(`ALTER TABLE ${m.table} ADD COLUMN ${m.column} ${m.definition}`);
  }
  db.prepare("INSERT OR IGNORE INTO meta(key, value) VALUES ('schema_version', ?)").run(String(SCHEMA_VERSION));
}

/** identity.db holds the re-identification key to every study: create it readable by its owner only. */
export function createPrivately(path: string): void {
  if (path === ':memory:' || existsSync(path)) return;
  mkdirSync(dirname(path), { recursive: true });
  try {
    closeSync(openSync(path, 'wx', 0o600));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
}
