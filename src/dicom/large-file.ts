import { closeSync, createReadStream, fstatSync, openSync, readSync } from 'node:fs';
import { pipeline } from 'node:stream';
import { createInflateRaw } from 'node:zlib';
import { DicomParseError } from '../errors';
import type { Element } from './dataset';
import { findElement } from './dataset';
import { parseDataset, parseDatasetUntilPixelData, parseMetaGroup, sortByTag, type ParsedFile } from './parse';
import { PIXEL_DATA, SEQUENCE_DELIMITATION, ITEM, UNDEFINED_LENGTH } from './tag';
import { EXPLICIT_LE, transferSyntax, type TransferSyntax } from './transfer-syntax';
import { decodeText } from './values';
import { isLongVr } from './vr';

const FIRST_READ = 1 << 20;
const MAX_HEADER = 256 << 20;
const MAX_TAIL = 4 << 20;

function readAt(fd: number, offset: number, length: number): Buffer {
  const buf = Buffer.allocUnsafe(length);
  let done = 0;
  while (done < length) {
    const n = readSync(fd, buf, done, length - done, offset + done);
    if (n === 0) break;
    done += n;
  }
  return done === length ? buf : buf.subarray(0, done);
}

/**
 * Reads a large Part-10 file with bounded memory: everything up to Pixel Data is parsed in memory,
 * Pixel Data itself stays in the file as a range the writer copies, and what follows it (padding,
 * signatures) is parsed too. Deflated files are inflated whole, as they must be.
 */
export function readLargePart10(path: string): ParsedFile {
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    let prefix = readAt(fd, 0, Math.min(size, FIRST_READ));
    if (prefix.length < 132 || prefix.toString('latin1', 128, 132) !== 'DICM') throw new DicomParseError('not a DICOM Part-10 file (no DICM prefix)');
    const { meta, end: metaEnd } = parseMetaGroup(prefix);
    const tsElement = findElement(meta, 0x00020010);
    const ts = transferSyntax(tsElement ? decodeText(tsElement) : '');
    if (!ts) throw new DicomParseError('missing or unsupported transfer syntax');
    if (ts.deflated) return { meta, dataset: parseDataset(readAt(fd, metaEnd, size - metaEnd), ts), transferSyntax: ts, bareDataset: false };
    for (;;) {
      try {
        const head = parseDatasetUntilPixelData(prefix, metaEnd, ts);
        if (head.pixelDataAt === undefined && prefix.length < size) throw new DicomParseError('truncated element header');
        if (head.pixelDataAt === undefined) return { meta, dataset: head.elements, transferSyntax: ts, bareDataset: false };
        const { element, end } = pixelDataElement(fd, prefix, head.pixelDataAt, ts, path, size);
        const tail = end < size ? parseTail(fd, end, size, ts) : [];
        // Elements after Pixel Data can be out of order or repeat one before it: sorted and checked as in memory.
        return { meta, dataset: sortByTag([...head.elements, element, ...tail]), transferSyntax: ts, bareDataset: false };
      } catch (err) {
        // Parsing ran off the end of the prefix: read more, unless the whole file is already in.
        if (!(err instanceof DicomParseError) || prefix.length >= size || prefix.length >= MAX_HEADER) throw err;
        prefix = readAt(fd, 0, Math.min(size, prefix.length * 4, MAX_HEADER));
      }
    }
  } finally {
    closeSync(fd);
  }
}

function pixelDataElement(fd: number, prefix: Buffer, at: number, ts: TransferSyntax, path: string, size: number): { element: Element; end: number } {
  if (at + 12 > prefix.length) throw new DicomParseError('truncated element header', at);
  let vr = 'OW';
  let length: number;
  let valueStart: number;
  if (ts.explicitVr) {
    vr = prefix.toString('latin1', at + 4, at + 6);
    if (!isLongVr(vr)) throw new DicomParseError('Pixel Data with a short VR', at);
    length = ts.littleEndian ? prefix.readUInt32LE(at + 8) : prefix.readUInt32BE(at + 8);
    valueStart = at + 12;
  } else {
    length = prefix.readUInt32LE(at + 4);
    valueStart = at + 8;
  }
  if (length !== UNDEFINED_LENGTH) {
    if (valueStart + length > size) throw new DicomParseError('value of (7FE0,0010) runs past the end', valueStart);
    return { element: { tag: PIXEL_DATA, vr, external: { path, offset: valueStart, length } }, end: valueStart + length };
  }
  // Encapsulated: walk the fragment headers only, 8 bytes at a time.
  let pos = valueStart;
  for (;;) {
    const header = readAt(fd, pos, 8);
    if (header.length < 8) throw new DicomParseError('truncated fragment header', pos);
    const tag = ((header.readUInt16LE(0) << 16) | header.readUInt16LE(2)) >>> 0;
    const fragmentLength = header.readUInt32LE(4);
    pos += 8;
    if (tag === SEQUENCE_DELIMITATION) break;
    if (tag !== ITEM || fragmentLength === UNDEFINED_LENGTH || pos + fragmentLength > size) throw new DicomParseError('bad fragment in (7FE0,0010)', pos - 8);
    pos += fragmentLength;
  }
  return { element: { tag: PIXEL_DATA, vr, undefinedLength: true, external: { path, offset: valueStart, length: pos - valueStart } }, end: pos };
}

function parseTail(fd: number, start: number, size: number, ts: TransferSyntax): Element[] {
  if (size - start > MAX_TAIL) throw new DicomParseError('more than 4 MiB of data after Pixel Data', start);
  return parseDataset(readAt(fd, start, size - start), ts);
}

/** The inflated (Explicit VR Little Endian) bytes of a Deflated dataset that starts at `offset` in a file, as they are inflated. */
export function inflatedDataset(path: string, offset: number): AsyncIterable<Buffer> {
  const inflate = createInflateRaw();
  // pipeline ends the inflate stream with the read error, so a reader of `inflate` sees it.
  pipeline(createReadStream(path, { start: offset, highWaterMark: 1 << 20 }), inflate, () => undefined);
  return inflate;
}

/**
 * The elements before Pixel Data of a large Deflated dataset, from what it inflates to, read 1 MiB,
 * then 4, then 16 at most (the rest is never held): enough to route the file. Undefined when they
 * do not fit or do not parse.
 */
export async function readDeflatedHead(path: string, offset: number, maxBytes = MAX_TAIL * 4): Promise<Element[] | undefined> {
  const parts: Buffer[] = [];
  let have = 0;
  let tryAt = FIRST_READ;
  const source = inflatedDataset(path, offset) as ReturnType<typeof createInflateRaw>;
  const attempt = (complete: boolean): Element[] | undefined => {
    try {
      const head = parseDatasetUntilPixelData(Buffer.concat(parts), 0, transferSyntax(EXPLICIT_LE)!);
      return head.pixelDataAt !== undefined || complete ? head.elements : undefined;
    } catch {
      return undefined;
    }
  };
  try {
    for await (const piece of source) {
      parts.push(piece);
      have += piece.length;
      if (have < tryAt) continue;
      const head = attempt(false);
      if (head || have >= maxBytes) return head;
      tryAt *= 4;
    }
    return attempt(true);
  } catch {
    return undefined;
  } finally {
    source.destroy();
  }
}
