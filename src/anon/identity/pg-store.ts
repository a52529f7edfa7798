import type { Pool, PoolClient } from 'pg';
import { PipelineError } from '../../errors';
import { BatchView, KnownMappings, type PatientRequest } from './batch-view';
import { checkFingerprint, FINGERPRINT_KEY, keyFingerprint } from './fingerprint';
import { loadOrCreateKey, resolveKeyFile } from './key-file';
import { connectError, openPool, type PgTarget } from './pg-connect';
import { ensurePgSchema } from './pg-schema';
import { MAX_ATTEMPTS, Pseudonyms, remember, validateDicomRoot, type Identity, type PatientPseudonym, type PseudonymOptions, type ValueKind } from './pseudonyms';
import type { IdentityStore } from './store';

/** Transient failures of concurrent transactions: the whole transaction is simply run again. */
const RETRYABLE = new Set(['40P01', '40001']);
const MAX_TX_ATTEMPTS = 5;

/** What one transaction learned; becomes known only once committed. */
interface Learned {
  uids: Array<[string, string]>;
  patients: Array<[string, PatientPseudonym]>;
  values: Array<[string, string]>;
  roles: string[];
  links: Array<[string, string]>;
}

/**
 * The identity store on PostgreSQL, shared by any number of instances. Same tables and views as
 * identity.db. Every mapping is INSERT … ON CONFLICT DO NOTHING at READ COMMITTED (unique on original
 * and on cleaned) followed by a read of what is stored, so whichever instance wins, all use its value;
 * an original still unmapped after that met a pseudonym collision and is tried again with a new one.
 * A batch of files costs one transaction: its misses are learned by running it once against the
 * cache (see BatchView), fetched or made together, and the batch run again.
 */
export class PgIdentityStore implements IdentityStore {
  private readonly known = new KnownMappings();
  private readonly make: Pseudonyms;

  private constructor(private readonly pool: Pool, private readonly target: PgTarget, key: Buffer, options: PseudonymOptions) {
    this.make = new Pseudonyms(key, options);
  }

  get description(): string {
    return `PostgreSQL ${this.target.label}`;
  }

  /** Connects, creates the schema if needed and checks the key fingerprint: every problem before any file. */
  static async open(url: string, options: PseudonymOptions = {}, connections = 2): Promise<PgIdentityStore> {
    const rootProblem = options.dicomRoot === undefined ? undefined : validateDicomRoot(options.dicomRoot);
    if (rootProblem) throw new PipelineError('E_CONFIG', `dicomRoot ${rootProblem}`);
    const keyFile = resolveKeyFile(options.keyFile);
    const { key } = loadOrCreateKey(keyFile);
    const { pool, target } = await openPool(url, 'identity store', connections);
    const store = new PgIdentityStore(pool, target, key, options);
    try {
      const stored = await store.transaction(async (c) => {
        await ensurePgSchema(c);
        await c.query('INSERT INTO meta(key, value) VALUES ($1, $2) ON CONFLICT DO NOTHING', [FINGERPRINT_KEY, keyFingerprint(key)]);
        return (await c.query<{ value: string }>('SELECT value FROM meta WHERE key = $1', [FINGERPRINT_KEY])).rows[0].value;
      });
      checkFingerprint(stored, key, store.description, keyFile);
    } catch (err) {
      await pool.end().catch(() => undefined);
      throw err;
    }
    return store;
  }

  async batch<T>(fn: (identity: Identity) => T): Promise<T> {
    for (let round = 0; ; round++) {
      const view = new BatchView(this.known, (name) => this.make.nameCheck(name));
      const result = fn(view);
      const complete = view.complete;
      if (complete && view.roleWrites.size === 0 && view.linkWrites.size === 0) return result;
      if (round >= MAX_ATTEMPTS) throw new PipelineError('E_IDENTITY', `identity store ${this.description}: a batch kept asking for new mappings (internal error)`);
      const learned = await this.transaction((c) => this.write(c, view, complete));
      this.learn(learned);
      if (complete) return result;
    }
  }

  async close(): Promise<void> {
    await this.pool.end();
  }

  /** Runs fn in one transaction (READ COMMITTED), again on a deadlock; errors name the server. */
  async transaction<T>(fn: (client: PoolClient) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      let client: PoolClient;
      try {
        client = await this.pool.connect();
      } catch (err) {
        throw connectError(this.target, 'identity store', err);
      }
      try {
        await client.query('BEGIN');
        const result = await fn(client);
        await client.query('COMMIT');
        client.release();
        return result;
      } catch (err) {
        await client.query('ROLLBACK').catch(() => undefined);
        client.release();
        if (err instanceof PipelineError) throw err;
        const code = (err as { code?: string }).code;
        if (code && RETRYABLE.has(code) && attempt < MAX_TX_ATTEMPTS) continue;
        throw new PipelineError('E_IDENTITY', `identity store ${this.description}: ${(err as Error).message}`, { cause: err });
      }
    }
  }

  private async write(c: PoolClient, view: BatchView, complete: boolean): Promise<Learned> {
    const now = new Date().toISOString();
    const learned: Learned = { uids: [], patients: [], values: [], roles: [], links: [] };
    // Roles reference uid_map: their UIDs are mapped first, whether asked for or not.
    const uids = new Set(view.uidMisses);
    for (const { original } of view.roleWrites.values()) if (!this.known.uids.has(original)) uids.add(original);
    if (uids.size) learned.uids = await this.mapUids(c, [...uids].sort(), now);
    if (view.patientMisses.size) learned.patients = await this.mapPatients(c, [...view.patientMisses.values()], now);
    if (view.valueMisses.size) learned.values = await this.mapValues(c, [...view.valueMisses.values()], now);
    if (view.roleWrites.size) {
      const roles = [...view.roleWrites.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
      await c.query({
        name: 'id-role-put',
        text: 'INSERT INTO uid_role(original, role) SELECT o, r FROM unnest($1::text[], $2::text[]) AS t(o, r) ORDER BY o, r ON CONFLICT DO NOTHING',
        values: [roles.map(([, v]) => v.original), roles.map(([, v]) => v.role)],
      });
      learned.roles = roles.map(([key]) => key);
    }
    // Links name cleaned values: only a run without placeholders may write them.
    if (complete && view.linkWrites.size) {
      const links = [...view.linkWrites.entries()].sort();
      await c.query({
        name: 'id-link-put',
        text: 'INSERT INTO study_patient(study_cleaned, patient_cleaned) SELECT s, p FROM unnest($1::text[], $2::text[]) AS t(s, p) ORDER BY s ON CONFLICT DO NOTHING',
        values: [links.map(([s]) => s), links.map(([, p]) => p)],
      });
      learned.links = links;
    }
    return learned;
  }

  private async mapUids(c: PoolClient, originals: string[], now: string): Promise<Array<[string, string]>> {
    const out: Array<[string, string]> = [];
    let pending = originals;
    for (let attempt = 0; pending.length; attempt++) {
      if (attempt >= MAX_ATTEMPTS) throw new PipelineError('E_IDENTITY', `identity store ${this.description}: could not derive a unique UID (store inconsistent?)`);
      const inserted = await c.query<{ original: string; cleaned: string }>({
        name: 'id-uid-put',
        text: 'INSERT INTO uid_map(original, cleaned, created_at) SELECT o, c, $3 FROM unnest($1::text[], $2::text[]) AS t(o, c) ORDER BY o ON CONFLICT DO NOTHING RETURNING original, cleaned',
        values: [pending, pending.map((o) => this.make.uid(o, attempt)), now],
      });
      const found = new Map(inserted.rows.map((r) => [r.original, r.cleaned]));
      const rest = pending.filter((o) => !found.has(o));
      if (rest.length) {
        // Mapped before (by anyone) or, rarely, a collision of the derived UID: read what is stored now.
        const stored = await c.query<{ original: string; cleaned: string }>({
          name: 'id-uid-get', text: 'SELECT original, cleaned FROM uid_map WHERE original = ANY($1::text[])', values: [rest],
        });
        for (const r of stored.rows) found.set(r.original, r.cleaned);
      }
      for (const [o, cleaned] of found) out.push([o, cleaned]);
      pending = pending.filter((o) => !found.has(o));
    }
    return out;
  }

  private async mapPatients(c: PoolClient, requests: PatientRequest[], now: string): Promise<Array<[string, PatientPseudonym]>> {
    const out: Array<[string, PatientPseudonym]> = [];
    let pending = [...requests].sort((a, b) => (a.original + '\0' + a.issuer < b.original + '\0' + b.issuer ? -1 : 1));
    for (let attempt = 0; pending.length; attempt++) {
      if (attempt >= MAX_ATTEMPTS) throw new PipelineError('E_IDENTITY', `identity store ${this.description}: could not make a unique patient pseudonym`);
      const fresh = pending.map(() => this.make.newPatient());
      const originals = pending.map((p) => p.original);
      const issuers = pending.map((p) => p.issuer);
      const checks = pending.map((p) => p.check ?? null);
      await c.query({
        name: 'id-patient-put',
        text: `INSERT INTO patient_map(original, issuer, cleaned, cleaned_name, date_offset_days, created_at, name_check)
               SELECT o, i, p, p, d, $5, n FROM unnest($1::text[], $2::text[], $3::text[], $4::int[], $6::text[]) AS t(o, i, p, d, n)
               ORDER BY o, i ON CONFLICT DO NOTHING`,
        values: [originals, issuers, fresh.map((f) => f.id), fresh.map((f) => f.offset), now, checks],
      });
      if (checks.some((x) => x !== null)) {
        await c.query({
          name: 'id-patient-check',
          text: `UPDATE patient_map p SET name_check = t.n FROM unnest($1::text[], $2::text[], $3::text[]) AS t(o, i, n)
                 WHERE p.original = t.o AND p.issuer = t.i AND p.name_check IS NULL AND t.n IS NOT NULL`,
          values: [originals, issuers, checks],
        });
      }
      const rows = await c.query<{ original: string; issuer: string; cleaned: string; cleaned_name: string; date_offset_days: number; name_check: string | null }>({
        name: 'id-patient-get',
        text: `SELECT p.original, p.issuer, p.cleaned, p.cleaned_name, p.date_offset_days, p.name_check
               FROM patient_map p JOIN unnest($1::text[], $2::text[]) AS t(o, i) ON p.original = t.o AND p.issuer = t.i`,
        values: [originals, issuers],
      });
      const found = new Set<string>();
      for (const r of rows.rows) {
        const key = `${r.issuer}\0${r.original}`;
        found.add(key);
        out.push([key, { id: r.cleaned, name: r.cleaned_name, dateOffsetDays: r.date_offset_days, nameCheck: r.name_check ?? undefined }]);
      }
      pending = pending.filter((p) => !found.has(`${p.issuer}\0${p.original}`));
    }
    return out;
  }

  private async mapValues(c: PoolClient, requests: Array<{ kind: ValueKind; original: string }>, now: string): Promise<Array<[string, string]>> {
    const out: Array<[string, string]> = [];
    let pending = [...requests].sort((a, b) => (a.kind + '\0' + a.original < b.kind + '\0' + b.original ? -1 : 1));
    for (let attempt = 0; pending.length; attempt++) {
      if (attempt >= MAX_ATTEMPTS) throw new PipelineError('E_IDENTITY', `identity store ${this.description}: could not make a unique pseudonym`);
      const kinds = pending.map((p) => p.kind);
      const originals = pending.map((p) => p.original);
      await c.query({
        name: 'id-value-put',
        text: `INSERT INTO value_map(kind, original, cleaned, created_at) SELECT k, o, c, $4 FROM unnest($1::text[], $2::text[], $3::text[]) AS t(k, o, c)
               ORDER BY k, o ON CONFLICT DO NOTHING`,
        values: [kinds, originals, pending.map((p) => this.make.newValue(p.kind)), now],
      });
      const rows = await c.query<{ kind: string; original: string; cleaned: string }>({
        name: 'id-value-get',
        text: 'SELECT v.kind, v.original, v.cleaned FROM value_map v JOIN unnest($1::text[], $2::text[]) AS t(k, o) ON v.kind = t.k AND v.original = t.o',
        values: [kinds, originals],
      });
      const found = new Set<string>();
      for (const r of rows.rows) {
        const key = `${r.kind}\0${r.original}`;
        found.add(key);
        out.push([key, r.cleaned]);
      }
      pending = pending.filter((p) => !found.has(`${p.kind}\0${p.original}`));
    }
    return out;
  }

  private learn(l: Learned): void {
    for (const [o, cleaned] of l.uids) remember(this.known.uids, o, cleaned);
    for (const [key, p] of l.patients) remember(this.known.patients, key, p);
    for (const [key, v] of l.values) remember(this.known.values, key, v);
    for (const key of l.roles) remember(this.known.roles, key, true);
    for (const [s, p] of l.links) remember(this.known.links, s, p);
  }
}
