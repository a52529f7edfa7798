import { deflateRawSync } from 'node:zlib';
import type { Element, Item } from './dataset';
import { ITEM, ITEM_DELIMITATION, SEQUENCE_DELIMITATION, UNDEFINED_LENGTH } from './tag';
import type { TransferSyntax } from './transfer-syntax';
import { isLongVr } from './vr';
import { isFileRange, type Chunk } from './file-range';

interface Encoding {
  readonly explicitVr: boolean;
  readonly littleEndian: boolean;
}

const IMPLICIT: Encoding = { explicitVr: false, littleEndian: true };

function tagHeader(tag: number, length: number, enc: Encoding): Buffer {
  const b = Buffer.allocUnsafe(8);
  if (enc.littleEndian) {
    b.writeUInt16LE(tag >>> 16, 0);
    b.writeUInt16LE(tag & 0xffff, 2);
    b.writeUInt32LE(length >>> 0, 4);
  } else {
    b.writeUInt16BE(tag >>> 16, 0);
    b.writeUInt16BE(tag & 0xffff, 2);
    b.writeUInt32BE(length >>> 0, 4);
  }
  return b;
}

function elementHeader(tag: number, vr: string, length: number, enc: Encoding): Buffer {
  if (!enc.explicitVr) return tagHeader(tag, length, enc);
  const long = isLongVr(vr) || (length > 0xffff && length !== UNDEFINED_LENGTH);
  const writtenVr = long && !isLongVr(vr) ? 'UN' : vr; // a value too long for its 16-bit length field can only travel as UN
  const b = Buffer.allocUnsafe(long ? 12 : 8);
  if (enc.littleEndian) {
    b.writeUInt16LE(tag >>> 16, 0);
    b.writeUInt16LE(tag & 0xffff, 2);
  } else {
    b.writeUInt16BE(tag >>> 16, 0);
    b.writeUInt16BE(tag & 0xffff, 2);
  }
  b.write(writtenVr, 4, 'latin1');
  if (long) {
    b.writeUInt16LE(0, 6);
    if (enc.littleEndian) b.writeUInt32LE(length >>> 0, 8);
    else b.writeUInt32BE(length >>> 0, 8);
  } else if (enc.littleEndian) b.writeUInt16LE(length, 6);
  else b.writeUInt16BE(length, 6);
  return b;
}

/** Appends the encoding of elements to out and returns the number of bytes appended. */
function encodeElements(elements: readonly Element[], enc: Encoding, out: Chunk[]): number {
  let total = 0;
  for (const el of elements) total += encodeElement(el, enc, out);
  return total;
}

function encodeElement(el: Element, enc: Encoding, out: Chunk[]): number {
  if (el.external) {
    const header = elementHeader(el.tag, el.vr, el.undefinedLength ? UNDEFINED_LENGTH : el.external.length, enc);
    out.push(header, el.external);
    return header.length + el.external.length;
  }
  if (el.fragments) {
    const header = elementHeader(el.tag, el.vr, UNDEFINED_LENGTH, enc);
    out.push(header, el.fragments);
    return header.length + el.fragments.length;
  }
  if (el.items) {
    const itemEnc = el.implicitItems ? IMPLICIT : enc;
    if (el.undefinedLength) {
      const header = elementHeader(el.tag, el.vr, UNDEFINED_LENGTH, enc);
      out.push(header);
      const body = encodeItems(el.items, itemEnc, out);
      const end = tagHeader(SEQUENCE_DELIMITATION, 0, itemEnc);
      out.push(end);
      return header.length + body + end.length;
    }
    const body: Chunk[] = [];
    const length = encodeItems(el.items, itemEnc, body);
    const header = elementHeader(el.tag, el.vr, length, enc);
    out.push(header, ...body);
    return header.length + length;
  }
  const value = el.value ?? EMPTY;
  const header = elementHeader(el.tag, el.vr, value.length, enc);
  out.push(header);
  if (value.length) out.push(value);
  return header.length + value.length;
}

const EMPTY = Buffer.alloc(0);

function encodeItems(items: readonly Item[], enc: Encoding, out: Chunk[]): number {
  let total = 0;
  for (const item of items) {
    if (item.undefinedLength) {
      out.push(tagHeader(ITEM, UNDEFINED_LENGTH, enc));
      total += 8 + encodeElements(item.elements, enc, out);
      out.push(tagHeader(ITEM_DELIMITATION, 0, enc));
      total += 8;
    } else {
      const body: Chunk[] = [];
      const length = encodeElements(item.elements, enc, body);
      out.push(tagHeader(ITEM, length, enc), ...body);
      total += 8 + length;
    }
  }
  return total;
}

/** Encodes a dataset in the given transfer syntax, as chunks: bytes, or ranges of a source file to copy. */
export function encodeDatasetChunks(elements: readonly Element[], ts: TransferSyntax): Chunk[] {
  const enc: Encoding = { explicitVr: ts.explicitVr, littleEndian: ts.littleEndian };
  const out: Chunk[] = [];
  encodeElements(elements, enc, out);
  if (!ts.deflated) return out;
  return [deflateRawSync(Buffer.concat(inMemory(out)))];
}

function inMemory(chunks: Chunk[]): Buffer[] {
  if (chunks.some(isFileRange)) throw new Error('bulk data left in a file cannot be encoded in memory');
  return chunks as Buffer[];
}

/** Encodes a dataset held wholly in memory (no external bulk data), as buffers for writev. */
export function encodeDataset(elements: readonly Element[], ts: TransferSyntax): Buffer[] {
  return inMemory(encodeDatasetChunks(elements, ts));
}

/** File meta information is always Explicit VR Little Endian, with its group length first. */
export function encodeMetaGroup(meta: readonly Element[]): Buffer[] {
  const enc: Encoding = { explicitVr: true, littleEndian: true };
  const body: Chunk[] = [];
  const length = encodeElements(meta.filter((e) => e.tag !== 0x00020000), enc, body);
  const groupLength = Buffer.allocUnsafe(4);
  groupLength.writeUInt32LE(length, 0);
  return [elementHeader(0x00020000, 'UL', 4, enc), groupLength, ...inMemory(body)];
}

function preamble(): Buffer {
  const b = Buffer.alloc(132);
  b.write('DICM', 128, 'latin1');
  return b;
}

export function encodePart10(meta: readonly Element[], dataset: readonly Element[], ts: TransferSyntax): Buffer[] {
  return [preamble(), ...encodeMetaGroup(meta), ...encodeDataset(dataset, ts)];
}

/** As encodePart10, but bulk data left in the source file stays a range to copy. */
export function encodePart10Chunks(meta: readonly Element[], dataset: readonly Element[], ts: TransferSyntax): Chunk[] {
  return [preamble(), ...encodeMetaGroup(meta), ...encodeDatasetChunks(dataset, ts)];
}
