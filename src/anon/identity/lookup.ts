import { existsSync } from 'node:fs';
import Database from 'better-sqlite3';
import type { UidRole } from './identity-map';

/** Cleaned UIDs of originals seen in a role, read-only (e.g. which anonymized study a reviewed study became). */
export function cleanedUids(identityDb: string, originals: readonly string[], role: UidRole): Map<string, string> {
  const out = new Map<string, string>();
  if (!existsSync(identityDb) || originals.length === 0) return out;
  const db = new Database(identityDb, { readonly: true, fileMustExist: true, timeout: 30_000 });
  try {
    const view = { studyuid: 'studyuid', seriesuid: 'seriesuid', sopinstanceuid: 'sopinstanceuid' }[role];
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
