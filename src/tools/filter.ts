import { randomBytes } from 'node:crypto';
import { constants, copyFileSync, linkSync, lstatSync, mkdirSync, renameSync, unlinkSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { errorMessage, PipelineError } from '../errors';
import { sameContent } from '../util/same-content';
import { listFiles, scanFile, type InstanceInfo } from './instance-info';
import { isInside, realPathOfFuture, requireDirectory } from './paths';

export const LEVELS = ['studies', 'series', 'instances'] as const;
export type Level = (typeof LEVELS)[number];

/** UIDs to select, by level; a file is selected when its Study, Series or SOP Instance UID is listed. */
export type UidSelection = Readonly<Record<Level, ReadonlySet<string>>>;
export type UidLists = Partial<Record<Level, readonly string[]>>;

const UID = /^[0-9]+(\.[0-9]+)*$/;

/** A comma-separated list of UIDs from the command line (empty items ignored). */
export function parseUidList(text: string, option: string): string[] {
  const uids = text.split(',').map((u) => u.trim()).filter(Boolean);
  checkUids(uids, option);
  return uids;
}

/** The message names bad items by position, not value: a mistaken paste may hold a name (no PHI in errors). */
function checkUids(uids: readonly string[], where: string): void {
  const bad = uids.flatMap((u, i) => (!UID.test(u) || u.length > 64 ? [i + 1] : []));
  if (bad.length) {
    const which = `${bad.slice(0, 5).join(', ')}${bad.length > 5 ? ` and ${bad.length - 5} more` : ''}`;
    throw new PipelineError('E_USAGE', `${where}: item${bad.length > 1 ? 's' : ''} ${which} of ${uids.length} not a DICOM UID (digits and dots, at most 64 characters)`);
  }
}

/** The content of a --json file: {"studies": [...], "series": [...], "instances": [...]}, each optional. */
export function uidListsFromJson(json: unknown, source: string): UidLists {
  if (!json || typeof json !== 'object' || Array.isArray(json)) {
    throw new PipelineError('E_USAGE', `${source}: expected an object like {"studies": [...], "series": [...], "instances": [...]}`);
  }
  const problems: string[] = [];
  const lists: Record<string, string[]> = {};
  for (const [key, value] of Object.entries(json)) {
    if (!(LEVELS as readonly string[]).includes(key)) problems.push(`unknown key "${key}" (expected studies, series, instances)`);
    else if (!Array.isArray(value) || value.some((v) => typeof v !== 'string')) problems.push(`"${key}" must be an array of UID strings`);
    else lists[key] = value.map((v: string) => v.trim()).filter(Boolean);
  }
  if (problems.length) throw new PipelineError('E_USAGE', `${source}: ${problems.join('; ')}`);
  for (const level of LEVELS) if (lists[level]) checkUids(lists[level], `${source} "${level}"`);
  return lists;
}

/** Merges lists from the options and the JSON file; at least one UID is required. */
export function buildSelection(...parts: readonly UidLists[]): UidSelection {
  const sel = { studies: new Set<string>(), series: new Set<string>(), instances: new Set<string>() };
  for (const part of parts) for (const level of LEVELS) for (const uid of part[level] ?? []) sel[level].add(uid);
  if (LEVELS.every((l) => sel[l].size === 0)) {
    throw new PipelineError('E_USAGE', 'filter needs at least one UID: --studies, --series, --instances or --json FILE');
  }
  return sel;
}

export function isSelected(sel: UidSelection, info: InstanceInfo): boolean {
  return sel.studies.has(info.studyUid) || sel.series.has(info.seriesUid) || sel.instances.has(info.sopInstanceUid);
}

export type FilterAction = { readonly kind: 'copy'; readonly to: string } | { readonly kind: 'delete' };

/** Exactly one of --to DIR and --delete. */
export function filterAction(to: string | undefined, del: boolean | undefined): FilterAction {
  if (to !== undefined && del) throw new PipelineError('E_USAGE', 'filter takes either --to DIR or --delete, not both');
  if (to !== undefined) return { kind: 'copy', to };
  if (del) return { kind: 'delete' };
  throw new PipelineError('E_USAGE', 'filter needs one of --to DIR (copy the selected files) or --delete (delete them)');
}

export interface FileProblem {
  /** Relative to --from. */
  readonly path: string;
  readonly reason: string;
}

export interface FilterResult {
  readonly from: string;
  readonly action: FilterAction;
  /** Files looked at (hidden files and symbolic links are not listed). */
  readonly scanned: number;
  readonly dicom: number;
  readonly selected: number;
  readonly copied: number;
  /** Already present at the destination with identical content: left as is. */
  readonly identical: number;
  /** A different file (or a directory) is at the destination: not overwritten. */
  readonly conflicts: readonly FileProblem[];
  readonly deleted: number;
  readonly failures: readonly FileProblem[];
  readonly nonDicom: readonly FileProblem[];
  /** Requested UIDs that no file had. */
  readonly notFound: Readonly<Record<Level, readonly string[]>>;
}

export interface FilterOptions {
  readonly from: string;
  readonly action: FilterAction;
  readonly selection: UidSelection;
  readonly onFile?: (done: number, total: number) => void;
}

/** Copies (never overwriting a different file) or deletes the DICOM files under `from` that the selection names. */
export function filterFiles(options: FilterOptions): FilterResult {
  const from = requireDirectory(options.from, '--from');
  const action = options.action;
  let to = '';
  if (action.kind === 'copy') {
    to = realPathOfFuture(action.to);
    if (isInside(to, from)) throw new PipelineError('E_USAGE', `--to ${action.to} must not be --from or inside it`);
  }
  const files = listFiles(from);
  const seen = { studies: new Set<string>(), series: new Set<string>(), instances: new Set<string>() };
  const nonDicom: FileProblem[] = [];
  const conflicts: FileProblem[] = [];
  const failures: FileProblem[] = [];
  let dicom = 0;
  let selected = 0;
  let copied = 0;
  let identical = 0;
  let deleted = 0;
  files.forEach((rel, i) => {
    const file = scanFile(from, rel);
    options.onFile?.(i + 1, files.length);
    if (file.kind === 'other') {
      nonDicom.push({ path: rel, reason: file.reason });
      return;
    }
    dicom++;
    seen.studies.add(file.info.studyUid);
    seen.series.add(file.info.seriesUid);
    seen.instances.add(file.info.sopInstanceUid);
    if (!isSelected(options.selection, file.info)) return;
    selected++;
    try {
      if (action.kind === 'delete') {
        unlinkSync(file.path);
        deleted++;
        return;
      }
      const outcome = copyNoOverwrite(file.path, join(to, rel));
      if (outcome === 'copied') copied++;
      else if (outcome === 'identical') identical++;
      else conflicts.push({ path: rel, reason: outcome.conflict });
    } catch (err) {
      failures.push({ path: rel, reason: errorMessage(err) });
    }
  });
  const notFound = {
    studies: [...options.selection.studies].filter((u) => !seen.studies.has(u)),
    series: [...options.selection.series].filter((u) => !seen.series.has(u)),
    instances: [...options.selection.instances].filter((u) => !seen.instances.has(u)),
  };
  return {
    from, action: action.kind === 'copy' ? { kind: 'copy', to } : action, scanned: files.length, dicom, selected,
    copied, identical, conflicts, deleted, failures, nonDicom, notFound,
  };
}

type CopyOutcome = 'copied' | 'identical' | { conflict: string };

/**
 * Copies through a temp file in the destination directory, then hard-links it into place: the link
 * fails if anything appeared at the destination meanwhile, so nothing is ever overwritten.
 */
export function copyNoOverwrite(src: string, dest: string): CopyOutcome {
  const existing = compareExisting(src, dest);
  if (existing) return existing;
  mkdirSync(dirname(dest), { recursive: true });
  const temp = join(dirname(dest), `.${basename(dest)}.${randomBytes(6).toString('hex')}.tmp`);
  copyFileSync(src, temp, constants.COPYFILE_EXCL);
  try {
    try {
      linkSync(temp, dest);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EEXIST') return compareExisting(src, dest) ?? { conflict: 'destination appeared during the copy' };
      if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP') throw err;
      // No hard links on this file system: check, then rename (a small window, but no link support).
      const raced = compareExisting(src, dest);
      if (raced) return raced;
      renameSync(temp, dest);
    }
    return 'copied';
  } finally {
    try {
      unlinkSync(temp);
    } catch {
      // already renamed into place
    }
  }
}

/** undefined when dest does not exist; otherwise identical, or the reason it conflicts. */
function compareExisting(src: string, dest: string): CopyOutcome | undefined {
  let st;
  try {
    st = lstatSync(dest);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  if (!st.isFile()) return { conflict: 'destination exists and is not a regular file' };
  return sameContent(src, dest) ? 'identical' : { conflict: 'a different file exists at the destination (not overwritten)' };
}

