import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** <quarantine>/quarantine.jsonl: one line per quarantined file, written by the anonymizer, read by the run's steps. */
export const QUARANTINE_LOG = 'quarantine.jsonl';

export interface QuarantineRecord {
  /** The input's path relative to the input directory (from_staging/<Study>/<Series>/<SOP>.dcm in a run). */
  readonly file: string;
  /** The copy's path relative to the quarantine directory. */
  readonly copy: string;
  readonly reason: string;
  readonly detail?: string;
  readonly at: string;
}

export function appendQuarantineRecord(quarantineDir: string, record: QuarantineRecord): void {
  appendFileSync(join(quarantineDir, QUARANTINE_LOG), JSON.stringify(record) + '\n');
}

export function readQuarantineLog(quarantineDir: string): QuarantineRecord[] {
  const log = join(quarantineDir, QUARANTINE_LOG);
  if (!existsSync(log)) return [];
  return readFileSync(log, 'utf8').split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l) as QuarantineRecord);
}
