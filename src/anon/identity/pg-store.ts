import type { Pool, PoolClient } from 'pg';
import { PipelineError } from '../../errors';
import { BatchView, KnownMappings, type PatientRequest } from './batch-view';
import { checkFingerprint, FINGERPRINT_KEY, keyFingerprint } from './fingerprint';
import { loadOrCreateKey, resolveKeyFile } from './key-file';
import { connectError, openPool, type PgTarget } from './pg-connect';
import { ensurePgSchema } from './pg-schema';
import { MAX_ATTEMPTS, Pseudonyms, remember, validateDicomRoot, type Identity, type PatientPseudonym, type PseudonymOptions, type UidRole, type ValueKind } from './pseudonyms';
import type { IdentityStore } from './store';

/** Transient failures of concurrent transactions: the whole transaction is simply run again. */
const RETRYABLE = new Set(['40P01', '40001']);
const MAX_TX_ATTEMPTS = 5;

interface MapRow {
  r_kind: 'u' | 'p' | 'v';
  r_k1: string;
  r_k2: string;
  r_cleaned: string;
  r_name: string | null;
  r_offset: number | null;
  r_check: string | null;
}

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
 * A batch of files costs one statement (dp_map_batch, one transaction): its misses are learned by
 * running it once against the cache (see BatchView), fetched or made together, and the batch run again.
 */
export class PgIdentityStore implements IdentityStore {
  private readonly known = new KnownMappings();
  private readonly queue: Array<{ view: BatchView; complete: boolean; resolve: () => void; reject: (err: unknown) => void }> = [];
  private writing = false;
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
      await this.enqueue(view, complete);
      if (complete) return result;
    }
  }

  /**
   * Batches of one thread that wait while a statement is on its way go together in the next one:
   * one round trip and one commit for all of them (the pool keeps two batches in flight per worker).
   */
  private enqueue(view: BatchView, complete: boolean): Promise<void> {
    return new Promise((resolve, reject) => {
      this.queue.push({ view, complete, resolve, reject });
      if (!this.writing) void this.drain();
    });
  }

  private async drain(): Promise<void> {
    this.writing = true;
    while (this.queue.length) {
      const group = this.queue.splice(0);
      try {
        this.learn(await this.write(group));
        for (const g of group) g.resolve();
      } catch (err) {
        for (const g of group) g.reject(err);
      }
    }
    this.writing = false;
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

  /**
   * Maps a batch's misses and records its roles (and, once complete, its study links) with
   * dp_map_batch: one statement, so one round trip and one transaction. What is still unmapped
   * afterwards met a pseudonym collision and goes again with new pseudonyms.
   */
  private async write(group: ReadonlyArray<{ view: BatchView; complete: boolean }>): Promise<Learned> {
    const at = new Date().toISOString();
    const learned: Learned = { uids: [], patients: [], values: [], roles: [], links: [] };
    const resolved = new Set<string>();
    const uidSet = new Set<string>();
    const patientMap = new Map<string, PatientRequest>();
    const valueMap = new Map<string, { kind: ValueKind; original: string }>();
    const roleMap = new Map<string, { original: string; role: UidRole }>();
    const linkMap = new Map<string, string>();
    for (const { view, complete } of group) {
      view.uidMisses.forEach((o) => uidSet.add(o));
      // Roles reference uid_map: their UIDs are mapped first, whether asked for or not.
      for (const { original } of view.roleWrites.values()) if (!this.known.uids.has(original)) uidSet.add(original);
      for (const [key, p] of view.patientMisses) patientMap.set(key, { ...p, check: p.check ?? patientMap.get(key)?.check });
      view.valueMisses.forEach((v, key) => valueMap.set(key, v));
      view.roleWrites.forEach((r, key) => roleMap.set(key, r));
      // Links name cleaned values: only a run without placeholders may write them.
      if (complete) view.linkWrites.forEach((p, s) => linkMap.set(s, p));
    }
    let uids = [...uidSet].sort();
    let patients = [...patientMap.values()];
    let values = [...valueMap.values()];
    let roles = [...roleMap.entries()];
    let links = [...linkMap.entries()];
    for (let attempt = 0; uids.length || patients.length || values.length || roles.length || links.length; attempt++) {
      if (attempt >= MAX_ATTEMPTS) throw new PipelineError('E_IDENTITY', `identity store ${this.description}: could not make unique pseudonyms (store inconsistent?)`);
      const fresh = patients.map(() => this.make.newPatient());
      const rows = await this.statement({
        name: 'id-map-batch',
        text: 'SELECT * FROM dp_map_batch($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::int[], $9::text[], $10::text[], $11::text[], $12::text[], $13::text[], $14::text[], $15)',
        values: [
          uids, uids.map((o) => this.make.uid(o, attempt)),
          roles.map(([, r]) => r.original), roles.map(([, r]) => r.role),
          patients.map((p) => p.original), patients.map((p) => p.issuer), fresh.map((f) => f.id), fresh.map((f) => f.offset), patients.map((p) => p.check ?? null),
          values.map((v) => v.kind), values.map((v) => v.original), values.map((v) => this.make.newValue(v.kind)),
          links.map(([s]) => s), links.map(([, p]) => p), at,
        ],
      });
      const found = new Set<string>();
      for (const r of rows) {
        if (r.r_kind === 'u') {
          learned.uids.push([r.r_k1, r.r_cleaned]);
          resolved.add(r.r_k1);
        } else if (r.r_kind === 'p') {
          const key = `${r.r_k2}\0${r.r_k1}`;
          found.add(`p\0${key}`);
          learned.patients.push([key, { id: r.r_cleaned, name: r.r_name!, dateOffsetDays: r.r_offset!, nameCheck: r.r_check ?? undefined }]);
        } else {
          const key = `${r.r_k1}\0${r.r_k2}`;
          found.add(`v\0${key}`);
          learned.values.push([key, r.r_cleaned]);
        }
      }
      uids = uids.filter((o) => !resolved.has(o));
      patients = patients.filter((p) => !found.has(`p\0${p.issuer}\0${p.original}`));
      values = values.filter((v) => !found.has(`v\0${v.kind}\0${v.original}`));
      // A role is recorded once its UID is mapped (a colliding UID's role goes again with it).
      const mappedNow = (o: string): boolean => resolved.has(o) || this.known.uids.has(o);
      learned.roles.push(...roles.filter(([, r]) => mappedNow(r.original)).map(([key]) => key));
      roles = roles.filter(([, r]) => !mappedNow(r.original));
      learned.links.push(...links);
      links = [];
    }
    return learned;
  }

  /** One statement in its own transaction, again on a deadlock; errors name the server. */
  private async statement(query: { name: string; text: string; values: unknown[] }): Promise<MapRow[]> {
    for (let attempt = 1; ; attempt++) {
      try {
        return (await this.pool.query<MapRow>(query)).rows;
      } catch (err) {
        const code = (err as { code?: string }).code;
        if (code && RETRYABLE.has(code) && attempt < MAX_TX_ATTEMPTS) continue;
        if (code === 'ECONNREFUSED' || code === 'ENOTFOUND' || code === '28P01') throw connectError(this.target, 'identity store', err);
        throw new PipelineError('E_IDENTITY', `identity store ${this.description}: ${(err as Error).message}`, { cause: err });
      }
    }
  }

  private learn(l: Learned): void {
    for (const [o, cleaned] of l.uids) remember(this.known.uids, o, cleaned);
    for (const [key, p] of l.patients) remember(this.known.patients, key, p);
    for (const [key, v] of l.values) remember(this.known.values, key, v);
    for (const key of l.roles) remember(this.known.roles, key, true);
    for (const [s, p] of l.links) remember(this.known.links, s, p);
  }
}
