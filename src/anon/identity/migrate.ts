import { PipelineError } from '../../errors';
import { FINGERPRINT_KEY, keyFingerprint } from './fingerprint';
import { loadOrCreateKey, resolveKeyFile } from './key-file';
import { insertRows, metaValue, openRawStore, page, rowsByKey, TABLES, type RawStore, type Row, type TableSpec } from './raw-store';

const PAGE = 500;
const LISTED = 20;

export interface MigrationResult {
  readonly tables: ReadonlyArray<{ readonly table: string; readonly rows: number; readonly copied: number; readonly present: number }>;
}

/** A conflict, named by pseudonyms only: originals are identifying and never printed. */
function describeConflict(t: TableSpec, source: Row, target: Row | undefined): string {
  const shown = (r: Row): string => t.compared.map((i) => `${t.columns[i]} ${String(r[i])}`).join(', ');
  if (!target) return `${t.name}: the target already uses ${shown(source)} for another original`;
  return `${t.name}: ${shown(source)} in the source is ${shown(target)} in the target`;
}

function same(t: TableSpec, a: Row, b: Row): boolean {
  return t.compared.every((i) => String(a[i]) === String(b[i]));
}

/**
 * Copies every mapping from one identity store into another (typically identity.db into PostgreSQL)
 * in one transaction of the target, then checks that every source row is in the target as it is in
 * the source. Mappings the target holds differently are conflicts: nothing is copied, and they are
 * listed. The stores must have the same key fingerprint. Running it again copies nothing.
 */
export async function migrateIdentity(from: string, to: string, keyFile?: string): Promise<MigrationResult> {
  const source = await openRawStore(from, false);
  let target: RawStore | undefined;
  try {
    target = await openRawStore(to, true);
    // A store made before fingerprints existed was made with the configured key, if anything.
    const sourceFp = (await metaValue(source, FINGERPRINT_KEY)) ?? keyFingerprint(loadOrCreateKey(resolveKeyFile(keyFile)).key);
    await target.begin();
    try {
      const targetFp = await metaValue(target, FINGERPRINT_KEY);
      if (targetFp && targetFp !== sourceFp) {
        throw new PipelineError('E_IDENTITY', `${target.label} was made with another key than ${source.label} (fingerprints ${targetFp.slice(0, 12)}… and ${sourceFp.slice(0, 12)}…): their mappings cannot be merged`);
      }
      if (!targetFp) await target.run('INSERT INTO meta (key, value) VALUES (?, ?)', [FINGERPRINT_KEY, sourceFp]);
      const tables: Array<MigrationResult['tables'][number]> = [];
      const conflicts: string[] = [];
      let conflictCount = 0;
      for (const t of TABLES) {
        let rows = 0;
        let copied = 0;
        let matched = 0;
        for (let batch = await page(source, t, undefined, PAGE); batch.length; batch = await page(source, t, batch[batch.length - 1], PAGE)) {
          rows += batch.length;
          copied += await insertRows(target, t, batch);
          const stored = new Map((await rowsByKey(target, t, batch)).map((r) => [JSON.stringify(r.slice(0, t.key)), r]));
          for (const r of batch) {
            const there = stored.get(JSON.stringify(r.slice(0, t.key)));
            if (there && same(t, r, there)) {
              matched++;
              continue;
            }
            conflictCount++;
            if (conflicts.length < LISTED) conflicts.push(describeConflict(t, r, there));
          }
        }
        tables.push({ table: t.name, rows, copied, present: rows - copied });
        if (!conflictCount && matched !== rows) throw new PipelineError('E_INTERNAL', `${t.name}: ${rows} rows in the source but ${matched} found in the target after copying`);
      }
      if (conflictCount) {
        throw new PipelineError('E_IDENTITY',
          `${to === from ? '' : `${target.label} `}already holds ${conflictCount} mapping(s) that differ from ${source.label}; nothing was copied. ` +
          `Conflicts (by pseudonym; look the originals up in each store's views): ${conflicts.join('; ')}${conflictCount > LISTED ? `; and ${conflictCount - LISTED} more` : ''}`);
      }
      await target.commit();
      return { tables };
    } catch (err) {
      await target.rollback().catch(() => undefined);
      throw err;
    }
  } finally {
    await target?.close();
    await source.close();
  }
}
