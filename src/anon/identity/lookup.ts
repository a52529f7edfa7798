import { existsSync } from 'node:fs';
import Database from 'better-sqlite3';
import type { UidRole } from './pseudonyms';
import { openPool } from './pg-connect';
import { isPostgresUrl } from './store';

/** Cleaned UIDs of originals seen in a role, read-only (e.g. which anonymized study a reviewed study became). */
export async function cleanedUids(identityDb: string, originals: readonly string[], role: UidRole): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  if (originals.length === 0) return out;
  const view = { studyuid: 'studyuid', seriesuid: 'seriesuid', sopinstanceuid: 'sopinstanceuid' }[role];
  if (isPostgresUrl(identityDb)) {
    const { pool } = await openPool(identityDb, 'identity store', 1);
    try {
      const rows = await pool.query<{ original: string; cleaned: string }>(`SELECT original, cleaned FROM ${view} WHERE original = ANY($1::text[])`, [[...originals]]);
      for (const r of rows.rows) out.set(r.original, r.cleaned);
    } finally {
      await pool.end();
    }
    return out;
  }
  if (!existsSync(identityDb)) return out;
  const db = new Database(identityDb, { readonly: true, fileMustExist: true, timeout: 30_000 });
  try {
    const stmt = db.prepare<[string], { cleaned: string }>(`SELECT cleaned FROM ${view} WHERE original = ?`);
    for (const original of originals) {
      const row = stmt.get(original);
      if (row) out.set(original, row.cleaned);
    }
  } finally {
    db.close();
  }
  return out;
}
