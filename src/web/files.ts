/** The Part-10 files a DICOMweb push sends, with what the archive will file them under. */
import { statSync } from 'node:fs';
import fg from 'fast-glob';
import { readFileHeader } from '../dicom/part10';
import { errorMessage, PipelineError } from '../errors';
import { readInstanceInfo } from '../tools/instance-info';

export interface WebItem {
  readonly path: string;
  readonly size: number;
  /** The dataset's own SOP Instance UID: the one the archive's answer and QIDO-RS listing name. */
  readonly sopInstanceUid: string;
  readonly studyInstanceUid: string;
}

export interface Unsendable {
  readonly path: string;
  readonly reason: string;
}

/**
 * The given files, or every regular file under dir (hidden files skipped, links not followed),
 * sorted; nothing to push is a usage error.
 */
export function listWebItems(dir: string, only?: readonly string[]): { items: WebItem[]; unsendable: Unsendable[] } {
  const paths = only ? [...only].sort() : fg.sync('**/*', { cwd: dir, absolute: true, onlyFiles: true, dot: false, followSymbolicLinks: false }).sort();
  if (paths.length === 0) throw new PipelineError('E_USAGE', `no files to push under ${dir}`);
  const items: WebItem[] = [];
  const unsendable: Unsendable[] = [];
  for (const path of paths) {
    try {
      // STOW-RS takes Part-10 files only (the meta header names the transfer syntax).
      readFileHeader(path);
      const info = readInstanceInfo(path);
      if (!info.sopInstanceUid) throw new Error('no SOP Instance UID');
      items.push({ path, size: statSync(path).size, sopInstanceUid: info.sopInstanceUid, studyInstanceUid: info.studyUid });
    } catch (err) {
      unsendable.push({ path, reason: `not a DICOM Part-10 file (${errorMessage(err)})` });
    }
  }
  return { items, unsendable };
}

/** Requests of at most `files` instances and about `bytes` bytes (a larger single file goes alone). */
export function batchItems<T extends { readonly size: number }>(items: readonly T[], files: number, bytes: number): T[][] {
  const batches: T[][] = [];
  let batch: T[] = [];
  let size = 0;
  for (const item of items) {
    if (batch.length > 0 && (batch.length >= files || size + item.size > bytes)) {
      batches.push(batch);
      batch = [];
      size = 0;
    }
    batch.push(item);
    size += item.size;
  }
  if (batch.length) batches.push(batch);
  return batches;
}
