import { createHmac, randomInt } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { PipelineError } from '../../errors';
import { loadOrCreateKey, resolveKeyFile } from './key-file';
import { MIGRATIONS, SCHEMA_SQL, SCHEMA_VERSION } from './schema';

export interface IdentityMapOptions {
  /** Root for new UIDs; '2.25' (UUID-derived) when absent. */
  readonly dicomRoot?: string;
  readonly keyFile?: string;
  /** Per-patient date offsets are drawn from -maxDays..-minDays (never zero). */
  readonly dateShiftDays?: { readonly min: number; readonly max: number };
}

export interface PatientPseudonym {
  readonly id: string;
  readonly name: string;
  readonly dateOffsetDays: number;
  /** Keyed hash of the family name first seen with this Patient ID, if any. */
  readonly nameCheck?: string;
}

export type ValueKind = 'accession_no' | 'study_id';
export type UidRole = 'studyuid' | 'seriesuid' | 'sopinstanceuid';

const BASE32 = '0123456789ABCDEFGHJKMNPQRSTVWXYZ'; // Crockford: no I, L, O, U
const VALUE_PREFIX: Record<ValueKind, [string, number]> = { accession_no: ['A', 11], study_id: ['S', 9] };
const CACHE_LIMIT = 50_000;

export function validateDicomRoot(root: string): string | undefined {
  if (!/^(0|[1-9]\d*)(\.(0|[1-9]\d*))*$/.test(root)) return 'must be dot-separated numbers without leading zeros';
  if (63 - root.length < 20) return 'is too long: it must leave at least 20 digits of a 64-character UID';
  return undefined;
}

function randomCode(prefix: string, length: number): string {
  let out = prefix;
  for (let i = 0; i < length; i++) out += BASE32[randomInt(32)];
  return out;
}

/**
 * The identity map: every pseudonym comes from here, inside a transaction. UIDs derive from an HMAC
 * of the original under the site's key; patient, accession and study-ID pseudonyms are stored random
 * values. Whatever is stored wins over what would be derived, so a new key never changes old mappings.
 */
export class IdentityMap {
  private readonly uidCache = new Map<string, string>();
  private readonly roleCache = new Set<string>();
  private readonly patientCache = new Map<string, PatientPseudonym>();
  private readonly valueCache = new Map<string, string>();
  private readonly root: string;
  private readonly digits: number;
  private readonly stmt: ReturnType<IdentityMap['prepare']>;
  private readonly shift: { min: number; max: number };

  private constructor(private readonly db: Database.Database, private readonly key: Buffer, options: IdentityMapOptions) {
    this.root = options.dicomRoot ?? '2.25';
    // 38 digits keep a 2.25 UID below 2^128, as a UUID-derived UID must be.
    this.digits = Math.min(38, 63 - this.root.length);
    this.shift = { min: options.dateShiftDays?.min ?? 1, max: options.dateShiftDays?.max ?? 3650 };
    this.stmt = this.prepare();
  }

  static open(path: string, options: IdentityMapOptions = {}): IdentityMap {
    const rootProblem = options.dicomRoot === undefined ? undefined : validateDicomRoot(options.dicomRoot);
    if (rootProblem) throw new PipelineError('E_CONFIG', `dicomRoot ${rootProblem}`);
    const { key } = loadOrCreateKey(resolveKeyFile(options.keyFile));
    let db: Database.Database;
    try {
      createPrivately(path);
      db = new Database(path, { timeout: 30_000 });
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
      db.exec(SCHEMA_SQL);
      for (const m of MIGRATIONS) {
        const columns = db.prepare<[], { name: string }>(`PRAGMA table_info(${m.table})`).all().map((c) => c.name);
        if (!columns.includes(m.column)) db.exec(`ALTER TABLE ${m.table} ADD COLUMN ${m.column} ${m.definition}`);
      }
      db.prepare("INSERT OR IGNORE INTO meta(key, value) VALUES ('schema_version', ?)").run(String(SCHEMA_VERSION));
    } catch (err) {
      throw new PipelineError('E_IDENTITY', `cannot open identity database ${path}: ${(err as Error).message}`, { cause: err });
    }
    return new IdentityMap(db, key, options);
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

  uid(original: string): string {
    const cached = this.uidCache.get(original);
    if (cached) return cached;
    let cleaned = this.stmt.uidGet.get(original)?.cleaned;
    for (let attempt = 0; !cleaned; attempt++) {
      if (attempt > 5) throw new PipelineError('E_IDENTITY', 'could not derive a unique UID (identity database inconsistent?)');
      this.stmt.uidPut.run(original, this.deriveUid(original, attempt), new Date().toISOString());
      cleaned = this.stmt.uidGet.get(original)?.cleaned; // absent only if the derived UID collided with another's
    }
    remember(this.uidCache, original, cleaned);
    return cleaned;
  }

  /** Records what a UID was seen as, for the studyuid/seriesuid/sopinstanceuid views. */
  recordRole(original: string, role: UidRole): void {
    const key = `${role}\0${original}`;
    if (this.roleCache.has(key)) return;
    this.stmt.rolePut.run(original, role);
    if (this.roleCache.size >= CACHE_LIMIT) this.roleCache.clear();
    this.roleCache.add(key);
  }

  private deriveUid(original: string, attempt: number): string {
    const mac = createHmac('sha256', this.key).update(`uid\0${original}\0${attempt}`).digest('hex');
    const span = 9n * 10n ** BigInt(this.digits - 1);
    const value = 10n ** BigInt(this.digits - 1) + (BigInt('0x' + mac) % span);
    return `${this.root}.${value}`;
  }

  /**
   * The patient's pseudonym. familyName, when given, is remembered as a keyed hash the first time;
   * `sameName` then says whether this file's family name is the one first seen with the ID (two
   * patients sharing an ID without an issuer would otherwise merge silently).
   */
  patient(patientId: string, issuer: string, familyName = ''): PatientPseudonym & { readonly sameName: boolean } {
    const cacheKey = `${issuer}\0${patientId}`;
    const check = familyName ? this.nameCheck(familyName) : undefined;
    let pseudonym = this.patientCache.get(cacheKey);
    if (!pseudonym || (check && !pseudonym.nameCheck)) {
      let row = this.stmt.patientGet.get(patientId, issuer);
      while (!row) {
        const id = randomCode('P', 11);
        const offset = -randomInt(this.shift.min, this.shift.max + 1);
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

  private nameCheck(familyName: string): string | undefined {
    const letters = familyName.toUpperCase().replace(/[^\p{L}\p{N}]+/gu, '');
    return letters ? createHmac('sha256', this.key).update(`name\0${letters}`).digest('hex').slice(0, 32) : undefined;
  }

  value(kind: ValueKind, original: string): string {
    const cacheKey = `${kind}\0${original}`;
    const cached = this.valueCache.get(cacheKey);
    if (cached) return cached;
    let cleaned = this.stmt.valueGet.get(kind, original)?.cleaned;
    while (!cleaned) {
      const [prefix, length] = VALUE_PREFIX[kind];
      this.stmt.valuePut.run(kind, original, randomCode(prefix, length), new Date().toISOString());
      cleaned = this.stmt.valueGet.get(kind, original)?.cleaned;
    }
    remember(this.valueCache, cacheKey, cleaned);
    return cleaned;
  }

  linkStudy(studyCleaned: string, patientCleaned: string): void {
    this.stmt.studyPatientPut.run(studyCleaned, patientCleaned);
  }

  close(): void {
    this.db.close();
  }
}

function remember<V>(cache: Map<string, V>, key: string, value: V): void {
  if (cache.size >= CACHE_LIMIT) cache.clear();
  cache.set(key, value);
}

/** identity.db holds the re-identification key to every study: create it readable by its owner only. */
function createPrivately(path: string): void {
  if (path === ':memory:' || existsSync(path)) return;
  mkdirSync(dirname(path), { recursive: true });
  try {
    closeSync(openSync(path, 'wx', 0o600));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
}
