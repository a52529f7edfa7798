/**
 * A full disk is the operator's problem, not a crash: wherever a write fails for lack of space
 * (received files, anonymized files, journal, log, reports, the identity database), the run stops
 * with one line naming where, how much is free there, and what to do.
 */
import { existsSync, statfsSync } from 'node:fs';
import { dirname } from 'node:path';
import { PipelineError } from '../errors';

/** Codes that mean "no space left", whoever raised them: errno, SQLite's, and ours once typed. */
const NO_SPACE = new Set(['ENOSPC', 'EDQUOT', 'SQLITE_FULL', 'E_DISK_FULL']);

export function isDiskFull(err: unknown): boolean {
  const code = (err as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' && NO_SPACE.has(code);
}

/** "12.3 MB free" on the file system holding path (its nearest existing ancestor), or "free space unknown". */
export function freeSpace(path: string): string {
  let p = path;
  while (!existsSync(p) && dirname(p) !== p) p = dirname(p);
  try {
    const s = statfsSync(p);
    return `${formatBytes(Number(s.bavail) * Number(s.bsize))} free`;
  } catch {
    return 'free space unknown';
  }
}

function formatBytes(bytes: number): string {
  if (bytes < 1e6) return `${Math.round(bytes / 1e3)} kB`;
  if (bytes < 1e9) return `${(bytes / 1e6).toFixed(1)} MB`;
  return `${(bytes / 1e9).toFixed(1)} GB`;
}

/**
 * The one-line error for a full disk at `where` (a directory or file of ours, never a path made of
 * identified UIDs). The hint says how to continue: free space, then resume.
 */
export function diskFullError(where: string, cause?: unknown): PipelineError {
  const code = (cause as { code?: string } | undefined)?.code ?? 'ENOSPC';
  return new PipelineError(
    'E_DISK_FULL',
    `disk full writing ${where} (${code}, ${freeSpace(where)}): free space on that file system ` +
      '(e.g. `dicom-pipeline clean-data` for old runs) or give it more, then resume with `dicom-pipeline -r`',
    { cause },
  );
}
