/** The Part-10 files a DICOMweb push sends, with what the archive will file them under. */
import { closeSync, fstatSync, openSync, readSync, statSync } from 'node:fs';
import fg from 'fast-glob';
import { parseDatasetUntilPixelData, parseMetaGroup } from '../dicom/parse';
import { readFileHeader } from '../dicom/part10';
import { transferSyntax } from '../dicom/transfer-syntax';
import { textOf } from '../dicom/values';
import { DicomParseError, errorMessage, PipelineError } from '../errors';
import { readInstanceInfo } from '../tools/instance-info';

/** Bytes read to find the UIDs: the attributes before Pixel Data of almost any file. */
const HEAD_BYTES = 64 << 10;

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
      items.push(readWebItem(path));
    } catch (err) {
      unsendable.push({ path, reason: `not a DICOM Part-10 file (${errorMessage(err)})` });
    }
  }
  return { items, unsendable };
}

/**
 * The UIDs the archive will file a Part-10 file under, from one read of its first 64 KiB (the
 * attributes before Pixel Data); a file whose header is longer, or deflated, is parsed the long way.
 */
export function readWebItem(path: string): WebItem {
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    const head = Buffer.allocUnsafe(Math.min(size, HEAD_BYTES));
    const got = readSync(fd, head, 0, head.length, 0);
    // STOW-RS takes Part-10 files only (the meta header names the transfer syntax).
    if (got < 132 || head.toString('latin1', 128, 132) !== 'DICM') throw new DicomParseError('no DICM prefix');
    const { meta, end } = parseMetaGroup(head.subarray(0, got));
    const ts = transferSyntax(textOf(meta, 0x00020010));
    if (ts && !ts.deflated) {
      try {
        const { elements } = parseDatasetUntilPixelData(head.subarray(0, got), end, ts);
        const studyInstanceUid = textOf(elements, 0x0020000d);
        const sopInstanceUid = textOf(elements, 0x00080018);
        if (studyInstanceUid && sopInstanceUid) return { path, size, sopInstanceUid, studyInstanceUid };
      } catch {
        /* the header runs past the bytes read: the long way below */
      }
    }
  } finally {
    closeSync(fd);
  }
  readFileHeader(path);
  const info = readInstanceInfo(path);
  if (!info.sopInstanceUid) throw new DicomParseError('no SOP Instance UID');
  return { path, size: statSync(path).size, sopInstanceUid: info.sopInstanceUid, studyInstanceUid: info.studyUid };
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
