/**
 * The files of a push: found and routed by their meta header, loaded (small ones whole, so the next
 * can be read while the peer stores the current one; large ones only up to Pixel Data, the rest
 * read from disk as it is sent), and turned into the dataset to send in the syntax the peer accepted:
 * the file's own bytes, or their lossless conversion.
 */
import { readFile } from 'node:fs/promises';
import fg from 'fast-glob';
import { PipelineError } from '../errors';
import { convertDataset, describeSyntax, losslessAlternatives } from '../dicom/convert-syntax';
import { findElement, type Element } from '../dicom/dataset';
import { readChunks, readRange } from '../dicom/file-range';
import { inflatedDataset, readDeflatedHead, readLargePart10 } from '../dicom/large-file';
import { inflate, parseDataset } from '../dicom/parse';
import { readFileHeader } from '../dicom/part10';
import { encodeDataset, encodeDatasetChunks } from '../dicom/serialize';
import { EXPLICIT_LE, transferSyntax } from '../dicom/transfer-syntax';
import { decodeText } from '../dicom/values';

export interface PushItem {
  readonly path: string;
  readonly sopClassUid: string;
  sopInstanceUid: string;
  readonly transferSyntaxUid: string;
  readonly datasetOffset: number;
  readonly size: number;
  studyInstanceUid?: string;
  /** The transfer syntax it was last sent in: its own, or a lossless alternative the archive accepted. */
  sentAs?: string;
  lastError?: string;
}

export interface PushFailure {
  readonly path: string;
  readonly reason: string;
}

/**
 * Files up to this size are read whole, the next one while the peer stores the current one (a
 * measured speed win for small files); larger ones are sent from disk in PDU-sized pieces, so a
 * push holds at most two such files per association in memory whatever the instance size.
 */
export const READ_AHEAD_MAX_BYTES = Number(process.env.DICOM_PIPELINE_PUSH_READ_AHEAD_BYTES) || 4 << 20;

/** Every file under dir, or only `files` (a resumed run's push: what is not delivered yet). */
export async function scan(dir: string, files?: readonly string[]): Promise<{ items: PushItem[]; unreadable: PushFailure[] }> {
  const paths = files ? [...files].sort() : (await fg('**/*', { cwd: dir, absolute: true, onlyFiles: true, dot: false, followSymbolicLinks: false })).sort();
  if (paths.length === 0) throw new PipelineError('E_USAGE', `no files to push under ${dir}`);
  const items: PushItem[] = [];
  const unreadable: PushFailure[] = [];
  for (const path of paths) {
    try {
      const header = readFileHeader(path);
      if (!header.sopClassUid || !header.sopInstanceUid || !transferSyntax(header.transferSyntaxUid)) {
        unreadable.push({ path, reason: 'file meta information lacks SOP class, SOP instance or a known transfer syntax' });
        continue;
      }
      items.push({ path, ...header });
    } catch (err) {
      unreadable.push({ path, reason: `not a DICOM Part-10 file (${(err as Error).message})` });
    }
  }
  return { items, unreadable };
}

export interface DatasetUids {
  readonly study?: string;
  readonly sopClass?: string;
  readonly sopInstance?: string;
}

/**
 * A file ready to send: its dataset bytes in memory (small files), its parsed elements (when they
 * parse; not for a large Deflated file, which is only ever inflated as it is sent) and UIDs.
 */
export type Loaded =
  | { readonly bytes?: Buffer; readonly elements?: Element[]; readonly uids: DatasetUids }
  | { readonly error: string };

/** Reads a file's dataset (or, for a large file, what precedes Pixel Data) and the UIDs the receiver will file it under; never rejects. */
export async function load(item: PushItem): Promise<Loaded> {
  const ts = transferSyntax(item.transferSyntaxUid)!;
  let bytes: Buffer | undefined;
  try {
    if (item.size <= READ_AHEAD_MAX_BYTES) bytes = (await readFile(item.path)).subarray(item.datasetOffset);
  } catch (err) {
    return { error: `cannot read file: ${(err as Error).message}` };
  }
  if (!bytes && ts.deflated) {
    const head = await readDeflatedHead(item.path, item.datasetOffset);
    return { uids: head ? uidsOf(head) : {} };
  }
  let elements: Element[] | undefined;
  try {
    elements = bytes ? parseDataset(bytes, ts) : readLargePart10(item.path).dataset;
  } catch {
    // Sent as it is, unparsed, when the peer takes its syntax: the receiver judges it, as before.
  }
  return { bytes, elements, uids: elements ? uidsOf(elements) : {} };
}

function uidsOf(elements: readonly Element[]): DatasetUids {
  const text = (tag: number): string | undefined => {
    const el = findElement(elements, tag);
    return el ? decodeText(el) || undefined : undefined;
  };
  return { study: text(0x0020000d), sopClass: text(0x00080016), sopInstance: text(0x00080018) };
}

/** The transfer syntaxes a file can travel in: its own first, then its lossless alternatives. */
export function syntaxesFor(item: PushItem): string[] {
  return [item.transferSyntaxUid, ...losslessAlternatives(item.transferSyntaxUid)];
}

/**
 * The dataset to send in `targetUid`: the file's own bytes when it is the file's syntax, else the
 * same elements encoded in the target (bulk data left on disk is read, and swapped, as it is sent).
 * Throws a one-line PipelineError when the file cannot be converted.
 */
export function datasetIn(item: PushItem, loaded: Exclude<Loaded, { error: string }>, targetUid: string): Buffer | AsyncIterable<Buffer> {
  if (targetUid === item.transferSyntaxUid) {
    return loaded.bytes ?? readRange({ path: item.path, offset: item.datasetOffset, length: item.size - item.datasetOffset });
  }
  const from = transferSyntax(item.transferSyntaxUid)!;
  const to = transferSyntax(targetUid)!;
  // Deflated to Explicit VR LE is inflating: the file's own dataset bytes, decompressed.
  if (from.deflated && to.uid === EXPLICIT_LE) {
    return loaded.bytes ? inflate(loaded.bytes) : inflatedDataset(item.path, item.datasetOffset);
  }
  if (from.deflated && !loaded.bytes) {
    throw new PipelineError('E_PARSE', `a Deflated file larger than ${READ_AHEAD_MAX_BYTES} bytes is only sent inflated (Explicit VR Little Endian), not converted to ${describeSyntax(to.uid)}`);
  }
  if (!loaded.elements) {
    throw new PipelineError('E_PARSE', `dataset does not parse, so it cannot be converted from ${describeSyntax(from.uid)} to ${describeSyntax(to.uid)}`);
  }
  let converted: Element[];
  try {
    converted = convertDataset(loaded.elements, from, to);
  } catch (err) {
    throw new PipelineError('E_PARSE', `cannot convert from ${describeSyntax(from.uid)} to ${describeSyntax(to.uid)}: ${(err as Error).message}`, { cause: err });
  }
  return loaded.bytes ? Buffer.concat(encodeDataset(converted, to)) : readChunks(encodeDatasetChunks(converted, to));
}
