import { hostname } from 'node:os';
import type { Pool } from 'pg';
import { openPool } from '../../anon/identity/pg-connect';
import { PipelineError } from '../../errors';

/**
 * Work sharing between instances through the PostgreSQL identity store: no protocol of our own, only
 * transactions. Each instance announces itself (pipeline_instance), waits a moment for others
 * started with it, then claims its share of the selected studies (study_claim: owner, lease,
 * heartbeat) with one INSERT … ON CONFLICT … DO UPDATE … WHERE the lease expired. A heartbeat renews
 * its leases; a study whose owner stopped renewing is taken over by another. A pushed study stays
 * 'done'; a study that failed is released (the review database records the failure).
 */
export const CLAIMS_SCHEMA = `
CREATE TABLE IF NOT EXISTS pipeline_instance (
  owner TEXT PRIMARY KEY,
  heartbeat_at TIMESTAMPTZ NOT NULL,
  lease_until TIMESTAMPTZ NOT NULL
);
CREATE TABLE IF NOT EXISTS study_claim (
  study_uid TEXT PRIMARY KEY,
  owner TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('claimed', 'done')),
  claimed_at TIMESTAMPTZ NOT NULL,
  heartbeat_at TIMESTAMPTZ NOT NULL,
  lease_until TIMESTAMPTZ NOT NULL,
  done_at TIMESTAMPTZ,
  anonymized_study_uid TEXT,
  takeovers INTEGER NOT NULL DEFAULT 0
);`;
const SCHEMA_LOCK = 0x44504343; // 'DPCC'

export interface ClaimStatus {
  /** Held by a live owner (not this instance), not finished. */
  readonly heldElsewhere: readonly string[];
  /** Claimed by an owner whose lease ran out: anyone may take them over. */
  readonly expired: readonly string[];
  /** Pushed by another instance. */
  readonly doneElsewhere: readonly string[];
  /** Claimed by nobody: never claimed (an instance counted in the split that never claimed), or released after a failure. */
  readonly unclaimed: readonly string[];
}
export class Claims {
  private timer: NodeJS.Timeout | undefined;
  private readonly startedAt = new Date();

  private ownerName: string | undefined;

  private constructor(private readonly pool: Pool, private readonly localAet: string, readonly leaseS: number) {}

  static async open(url: string, localAet: string, leaseS: number): Promise<Claims> {
    const { pool } = await openPool(url, 'work sharing (identityDb)', 2, 'E_IDENTITY');
    const claims = new Claims(pool, localAet, leaseS);
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      await client.query('SELECT pg_advisory_xact_lock($1)', [SCHEMA_LOCK]);
      await client.query(CLAIMS_SCHEMA);
      await client.query('COMMIT');
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw new PipelineError('E_IDENTITY', `work sharing: cannot create the claims tables: ${(err as Error).message}`, { cause: err });
    } finally {
      client.release();
    }
    return claims;
  }

  /** LOCAL_AE@host/<first run directory>: a resumed run owns its claims again. */
  get owner(): string {
    if (!this.ownerName) throw new PipelineError('E_INTERNAL', 'work sharing used before a run directory exists');
    return this.ownerName;
  }

  /** Announces this instance (named after its first run directory) and keeps its leases alive until stop(). */
  async start(runName: string): Promise<void> {
    if (this.ownerName) return;
    this.ownerName = `${this.localAet}@${hostname()}/${runName}`;
    await this.beat();
    this.timer = setInterval(() => void this.beat().catch(() => undefined), Math.max(1000, (this.leaseS * 1000) / 4));
    this.timer.unref();
  }

  private async beat(): Promise<void> {
    const lease = `${this.leaseS} seconds`;
    await this.pool.query(`INSERT INTO pipeline_instance(owner, heartbeat_at, lease_until) VALUES ($1, now(), now() + $2::interval)
      ON CONFLICT (owner) DO UPDATE SET heartbeat_at = now(), lease_until = EXCLUDED.lease_until`, [this.owner, lease]);
    await this.pool.query(`UPDATE study_claim SET heartbeat_at = now(), lease_until = now() + $2::interval WHERE owner = $1 AND state = 'claimed'`, [this.owner, lease]);
  }

  /** Instances whose lease is current (this one included). */
  async liveInstances(): Promise<number> {
    const r = await this.pool.query<{ n: string }>('SELECT count(*) AS n FROM pipeline_instance WHERE lease_until > now()');
    return Math.max(1, Number(r.rows[0].n));
  }

  /**
   * Claims studies among `studies` (in order) that nobody holds, or whose owner's lease expired, or
   * that this run already owns, or (redoDone) that were done before this instance started (selected
   * again on purpose); at most `limit`. Returns those now ours.
   */
  async claim(studies: readonly string[], limit: number, { redoDone = true } = {}): Promise<string[]> {
    const mine: string[] = [];
    for (const study of studies) {
      if (mine.length >= limit) break;
      const r = await this.pool.query(`
        INSERT INTO study_claim(study_uid, owner, state, claimed_at, heartbeat_at, lease_until)
        VALUES ($1, $2, 'claimed', now(), now(), now() + $3::interval)
        ON CONFLICT (study_uid) DO UPDATE SET owner = EXCLUDED.owner, state = 'claimed', claimed_at = now(), heartbeat_at = now(),
          lease_until = EXCLUDED.lease_until, done_at = NULL, anonymized_study_uid = NULL,
          takeovers = study_claim.takeovers + CASE WHEN study_claim.state = 'claimed' AND study_claim.owner <> EXCLUDED.owner THEN 1 ELSE 0 END
        WHERE (study_claim.state = 'claimed' AND (study_claim.owner = EXCLUDED.owner OR study_claim.lease_until < now()))
           OR (study_claim.state = 'done' AND study_claim.done_at < $4 AND $5)
        RETURNING study_uid`, [study, this.owner, `${this.leaseS} seconds`, this.startedAt, redoDone]);
      if (r.rowCount) mine.push(study);
    }
    return mine;
  }

  /** Where the given studies stand, seen from this instance. */
  async status(studies: readonly string[]): Promise<ClaimStatus> {
    const r = await this.pool.query<{ study_uid: string; owner: string; state: string; expired: boolean }>(
      'SELECT study_uid, owner, state, lease_until < now() AS expired FROM study_claim WHERE study_uid = ANY($1::text[])', [[...studies]]);
    const byStudy = new Map(r.rows.map((row) => [row.study_uid, row]));
    const out = { heldElsewhere: [] as string[], expired: [] as string[], doneElsewhere: [] as string[], unclaimed: [] as string[] };
    for (const study of studies) {
      const row = byStudy.get(study);
      if (!row) out.unclaimed.push(study);
      else if (row.state === 'done') {
        if (row.owner !== this.owner) out.doneElsewhere.push(study);
      }
      else if (row.expired) out.expired.push(study);
      else if (row.owner !== this.owner) out.heldElsewhere.push(study);
    }
    return out;
  }

  /** After the review-database mark: pushed studies are done for everyone, failed ones released. */
  async finish(outcomes: ReadonlyArray<{ studyInstanceUid: string; pushed: boolean; anonymizedStudyUid?: string }>): Promise<void> {
    for (const o of outcomes) {
      if (o.pushed) {
        await this.pool.query(`UPDATE study_claim SET state = 'done', done_at = now(), anonymized_study_uid = $3 WHERE study_uid = $1 AND owner = $2`,
          [o.studyInstanceUid, this.owner, o.anonymizedStudyUid ?? null]);
      } else {
        await this.pool.query(`DELETE FROM study_claim WHERE study_uid = $1 AND owner = $2 AND state = 'claimed'`, [o.studyInstanceUid, this.owner]);
      }
    }
  }

  /** Drops expired claims of studies that are no longer to be done (their owner marked them, then stopped). */
  async forget(studies: readonly string[]): Promise<void> {
    if (studies.length) await this.pool.query(`DELETE FROM study_claim WHERE study_uid = ANY($1::text[]) AND state = 'claimed' AND lease_until < now()`, [[...studies]]);
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    if (this.ownerName) await this.pool.query('DELETE FROM pipeline_instance WHERE owner = $1', [this.ownerName]).catch(() => undefined);
    await this.pool.end();
  }
}
