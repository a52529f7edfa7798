import { closeSync, existsSync, lstatSync, openSync, readdirSync, readSync, rmdirSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { errorMessage, PipelineError } from '../errors';
import { isInside, requireDirectory } from './paths';

/** A run directory as the runner names it: data/run_at_<epoch seconds>. */
export const RUN_DIR_NAME = /^run_at_(\d+)$/;
/** The directories of a run that hold DICOM files (identified or anonymized); everything else in a run is kept. */
export const DATA_SUBDIRS = ['from_staging', 'quarantine', 'to_production'] as const;

/**
 * Text logs written directly inside one of DATA_SUBDIRS (quarantine/quarantine.jsonl) are kept.
 * Only at their top level: deeper files are copies of inputs (quarantine keeps the input's path).
 */
export function isKeptLogName(name: string): boolean {
  return /\.(txt|jsonl|log)$/i.test(name) || /journal/i.test(name);
}

/** <date> as YYYY-MM-DD, a real calendar day; the cutoff is local midnight at its start. */
export function parseCutoffDate(text: string): Date {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  const date = m ? new Date(Number(m[1]), Number(m[2]) - 1, Number(m[3])) : undefined;
  if (!m || !date || date.getFullYear() !== Number(m[1]) || date.getMonth() !== Number(m[2]) - 1 || date.getDate() !== Number(m[3])) {
    throw new PipelineError('E_USAGE', `clean-data expects <date> as YYYY-MM-DD (runs started before that day are cleaned), got "${text}"`);
  }
  return date;
}

export interface Skipped {
  /** Relative to the data directory. */
  readonly path: string;
  readonly reason: string;
}

export interface DirectoryCleaning {
  /** Relative to the data directory, e.g. run_at_1700000000/from_staging. */
  readonly path: string;
  /** Files (and symbolic links, removed as links) deleted, or that would be with --dry-run. */
  readonly files: number;
  readonly bytes: number;
  /** Directories removed (the directory itself included unless it keeps logs). */
  readonly dirs: number;
  /** Log files kept inside it (relative to the data directory). */
  readonly kept: readonly string[];
}

export interface RunCleaning {
  readonly name: string;
  readonly startedAt: Date;
  /** done.txt is present: the run completed. An unfinished run cannot be resumed once cleaned. */
  readonly finished: boolean;
  readonly directories: readonly DirectoryCleaning[];
  readonly skipped: readonly Skipped[];
}

export interface CleanDataResult {
  readonly dataDir: string;
  readonly cutoff: Date;
  readonly dryRun: boolean;
  /** Runs older than the cutoff, oldest first. */
  readonly runs: readonly RunCleaning[];
  /** Runs started on or after the cutoff: untouched. */
  readonly newerRuns: readonly string[];
  /** Entries of the data directory that are not run directories: untouched. */
  readonly skipped: readonly Skipped[];
  /** Runs where something was (or would be) deleted. */
  readonly runsCleaned: number;
  readonly filesDeleted: number;
  readonly bytesFreed: number;
  readonly failures: readonly Skipped[];
}

export interface CleanDataOptions {
  readonly dataDir: string;
  readonly cutoff: Date;
  readonly dryRun?: boolean;
  /** Called after each run is handled (for progress). */
  readonly onRun?: (done: number, total: number) => void;
}

interface Plan {
  files: { path: string; bytes: number }[];
  /** Sub-directories, deepest first, then the directory itself unless it keeps logs. */
  dirs: string[];
  kept: string[];
  /** Absolute paths that stay (kept logs, unlistable directories): their parent directories stay too. */
  staying: string[];
}

/**
 * Deletes from_staging/, quarantine/ and to_production/ of every run_at_<epoch> directory started
 * before the cutoff, keeping the run directory and its logs. Symbolic links are never followed:
 * a linked run or data directory is skipped, a link inside one is removed as a link.
 */
export function cleanData(options: CleanDataOptions): CleanDataResult {
  const dataDir = requireDirectory(options.dataDir, 'data directory');
  const dryRun = options.dryRun ?? false;
  const skipped: Skipped[] = [];
  const newerRuns: string[] = [];
  const older: { name: string; epoch: number }[] = [];
  for (const name of readdirSync(dataDir).sort()) {
    const m = RUN_DIR_NAME.exec(name);
    if (!m) {
      skipped.push({ path: name, reason: 'not a run_at_<epoch> directory' });
      continue;
    }
    const st = lstatSync(join(dataDir, name));
    const epoch = Number(m[1]);
    if (st.isSymbolicLink()) skipped.push({ path: name, reason: 'symbolic link, not followed' });
    else if (!st.isDirectory()) skipped.push({ path: name, reason: 'not a directory' });
    else if (!Number.isSafeInteger(epoch)) skipped.push({ path: name, reason: 'epoch out of range' });
    else if (epoch * 1000 < options.cutoff.getTime()) older.push({ name, epoch });
    else newerRuns.push(name);
  }
  older.sort((a, b) => a.epoch - b.epoch || a.name.localeCompare(b.name));

  const runs: RunCleaning[] = [];
  const failures: Skipped[] = [];
  let runsCleaned = 0;
  let filesDeleted = 0;
  let bytesFreed = 0;
  for (const { name, epoch } of older) {
    const runPath = join(dataDir, name);
    const directories: DirectoryCleaning[] = [];
    const runSkipped: Skipped[] = [];
    for (const sub of DATA_SUBDIRS) {
      const rel = `${name}/${sub}`;
      const path = join(runPath, sub);
      let st;
      try {
        st = lstatSync(path);
      } catch {
        continue; // absent: nothing to clean
      }
      if (st.isSymbolicLink()) {
        runSkipped.push({ path: rel, reason: 'symbolic link, not followed' });
        continue;
      }
      if (!st.isDirectory()) {
        runSkipped.push({ path: rel, reason: 'not a directory' });
        continue;
      }
      const plan = planDirectory(path, dataDir, failures);
      const done = dryRun ? { files: plan.files.length, bytes: sum(plan.files), dirs: plan.dirs.length } : execute(plan, path, dataDir, failures);
      directories.push({ path: rel, ...done, kept: plan.kept });
      filesDeleted += done.files;
      bytesFreed += done.bytes;
    }
    if (directories.some((d) => d.files > 0 || d.dirs > 0)) runsCleaned++;
    runs.push({ name, startedAt: new Date(epoch * 1000), finished: existsSync(join(runPath, 'done.txt')), directories, skipped: runSkipped });
    options.onRun?.(runs.length, older.length);
  }
  return { dataDir, cutoff: options.cutoff, dryRun, runs, newerRuns, skipped, runsCleaned, filesDeleted, bytesFreed, failures };
}

function sum(files: readonly { bytes: number }[]): number {
  return files.reduce((n, f) => n + f.bytes, 0);
}

/** Lists what is to go, without following any link (lstat only). */
function planDirectory(top: string, dataDir: string, failures: Skipped[]): Plan {
  const plan: Plan = { files: [], dirs: [], kept: [], staying: [] };
  const walk = (dir: string, atTop: boolean): void => {
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch (err) {
      failures.push({ path: relTo(dataDir, dir), reason: `cannot list: ${errorMessage(err)}` });
      plan.staying.push(dir);
      return;
    }
    for (const entry of entries.sort((a, b) => a.name.localeCompare(b.name))) {
      const path = join(dir, entry.name);
      let st;
      try {
        st = lstatSync(path);
      } catch (err) {
        failures.push({ path: relTo(dataDir, path), reason: errorMessage(err) });
        continue;
      }
      if (st.isDirectory()) {
        walk(path, false);
        if (!plan.staying.some((p) => isInside(p, path))) plan.dirs.push(path);
      } else if (atTop && st.isFile() && isKeptLogName(entry.name) && !startsWithDicomPrefix(path)) {
        plan.kept.push(relTo(dataDir, path));
        plan.staying.push(path);
      } else {
        plan.files.push({ path, bytes: st.isFile() ? st.size : 0 });
      }
    }
  };
  walk(top, true);
  if (plan.staying.length === 0) plan.dirs.push(top);
  return plan;
}

/** Deletes what the plan lists; every path is checked to lie inside the directory being cleaned. */
function execute(plan: Plan, top: string, dataDir: string, failures: Skipped[]): { files: number; bytes: number; dirs: number } {
  let files = 0;
  let bytes = 0;
  let dirs = 0;
  for (const f of plan.files) {
    if (!isInside(f.path, top)) throw new PipelineError('E_INTERNAL', `refusing to delete ${f.path}: outside ${top}`);
    try {
      unlinkSync(f.path); // removes a symbolic link itself, never its target
      files++;
      bytes += f.bytes;
    } catch (err) {
      failures.push({ path: relTo(dataDir, f.path), reason: errorMessage(err) });
    }
  }
  for (const dir of plan.dirs) {
    if (!isInside(dir, top)) throw new PipelineError('E_INTERNAL', `refusing to delete ${dir}: outside ${top}`);
    try {
      rmdirSync(dir);
      dirs++;
    } catch (err) {
      failures.push({ path: relTo(dataDir, dir), reason: errorMessage(err) });
    }
  }
  return { files, bytes, dirs };
}

function relTo(dataDir: string, path: string): string {
  return path.slice(dataDir.length + 1);
}

/** A log name on a DICOM file does not save it. */
function startsWithDicomPrefix(path: string): boolean {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return false; // unreadable here, so not checkable: a log name keeps it
  }
  try {
    const head = Buffer.alloc(132);
    return readSync(fd, head, 0, 132, 0) === 132 && head.toString('latin1', 128, 132) === 'DICM';
  } finally {
    closeSync(fd);
  }
}
