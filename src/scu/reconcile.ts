/**
 * A pull's reconciliation: the peer's IMAGE-level C-FIND rows against the files our SCP wrote. Rows
 * are counted, not distinct UIDs: two instances under one SOP Instance UID (stored as <SOP>.dcm and
 * <SOP>.dup-1.dcm) need two files.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseInstanceFileName } from '../scp/store';
import type { InstanceRef } from './query';

const key = (series: string, sop: string): string => `${series}/${sop}`;

/** Files on disk per Series/SOP Instance UID, in the series directories `refs` name. */
function filesOnDisk(outDir: string, study: string, refs: readonly InstanceRef[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const series of new Set(refs.map((r) => r.seriesInstanceUid))) {
    let names: string[];
    try {
      names = readdirSync(join(outDir, study, series));
    } catch {
      continue; // nothing of that series yet (or an unusable UID)
    }
    for (const name of names) {
      const parsed = parseInstanceFileName(name);
      if (parsed) counts.set(key(series, parsed.sopInstanceUid), (counts.get(key(series, parsed.sopInstanceUid)) ?? 0) + 1);
    }
  }
  return counts;
}

/** The rows with no file of their own on disk yet (for a UID listed twice with one file there: one of the two). */
export function missingInstances(outDir: string, study: string, expected: readonly InstanceRef[]): InstanceRef[] {
  const have = filesOnDisk(outDir, study, expected);
  const missing: InstanceRef[] = [];
  for (const ref of expected) {
    const k = key(ref.seriesInstanceUid, ref.sopInstanceUid);
    const left = have.get(k) ?? 0;
    if (left > 0) have.set(k, left - 1);
    else missing.push(ref);
  }
  return missing;
}

/** SOP Instance UIDs of the study held by more than one instance: listed more than once by the peer, or kept twice on disk. */
export function sharedSopInstanceUids(outDir: string, study: string, expected: readonly InstanceRef[]): number {
  const rows = new Map<string, number>();
  for (const ref of expected) rows.set(ref.sopInstanceUid, (rows.get(ref.sopInstanceUid) ?? 0) + 1);
  const shared = new Set([...rows].filter(([, n]) => n > 1).map(([sop]) => sop));
  for (const [k, n] of filesOnDisk(outDir, study, expected)) if (n > 1) shared.add(k.slice(k.indexOf('/') + 1));
  return shared.size;
}
