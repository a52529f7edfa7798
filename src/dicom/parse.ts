import { constants as zlibConstants, inflateRawSync } from 'node:zlib';
import { DicomParseError } from '../errors';
import type { Element, Item } from './dataset';
import { lookupTag } from './dictionary';
import {
  formatTag, isPrivateCreator, ITEM, ITEM_DELIMITATION, PIXEL_DATA, SEQUENCE_DELIMITATION, UNDEFINED_LENGTH,
} from './tag';
import { EXPLICIT_LE, IMPLICIT_LE, transferSyntax, type TransferSyntax } from './transfer-syntax';
import { isKnownVr, isLongVr } from './vr';
import { decodeText } from './values';
import { findElement } from './dataset';

interface Encoding {
  readonly explicitVr: boolean;
  readonly littleEndian: boolean;
}

const IMPLICIT: Encoding = { explicitVr: false, littleEndian: true };
const EXPLICIT: Encoding = { explicitVr: true, littleEndian: true };

/** Parses elements of one dataset level from buf[pos, end); stops at an item delimiter when inItem. */
class Parser {
  pos: number;
  /** Set when a top-level parse stopped at stopTag: the offset of that element's header. */
  stoppedAt: number | undefined;
  private depth = 0;
  /** stopTag: stop at that top-level tag; with stopAtOrAbove, at the first top-level tag >= it. */
  constructor(readonly buf: Buffer, start: number, private readonly stopTag?: number, private readonly stopAtOrAbove = false) {
    this.pos = start;
  }

  private u16(enc: Encoding): number {
    const v = enc.littleEndian ? this.buf.readUInt16LE(this.pos) : this.buf.readUInt16BE(this.pos);
    this.pos += 2;
    return v;
  }

  private u32(enc: Encoding): number {
    const v = enc.littleEndian ? this.buf.readUInt32LE(this.pos) : this.buf.readUInt32BE(this.pos);
    this.pos += 4;
    return v;
  }

  private need(bytes: number, end: number, what: string): void {
    if (this.pos + bytes > end) throw new DicomParseError(`truncated ${what}`, this.pos);
  }

  elements(end: number, enc: Encoding, inUndefinedItem: boolean): Element[] {
    const out: Element[] = [];
    let lastTag = -1;
    let unsorted = false;
    while (this.pos < end) {
      this.need(8, end, 'element header');
      const group = this.u16(enc);
      const elem = this.u16(enc);
      const tag = ((group << 16) | elem) >>> 0;
      if (tag === ITEM_DELIMITATION) {
        this.pos += 4;
        if (inUndefinedItem) return unsorted ? sortByTag(out) : out;
        continue; // a stray delimiter inside a defined-length item: tolerated, dropped
      }
      if (tag === SEQUENCE_DELIMITATION || tag === ITEM) {
        throw new DicomParseError(`unexpected ${formatTag(tag)} in dataset`, this.pos - 4);
      }
      if (this.stopTag !== undefined && this.depth === 0 && (tag === this.stopTag || (this.stopAtOrAbove && tag > this.stopTag))) {
        this.pos -= 4;
        this.stoppedAt = this.pos;
        return unsorted ? sortByTag(out) : out;
      }
      if (tag === lastTag) throw new DicomParseError(`element ${formatTag(tag)} repeated`, this.pos - 4);
      if (tag < lastTag) unsorted = true;
      lastTag = tag;
      out.push(this.element(tag, end, enc));
    }
    if (inUndefinedItem) throw new DicomParseError('item without delimiter', this.pos);
    return unsorted ? sortByTag(out) : out;
  }

  private element(tag: number, end: number, enc: Encoding): Element {
    let vr: string;
    let length: number;
    if (enc.explicitVr) {
      vr = String.fromCharCode(this.buf[this.pos], this.buf[this.pos + 1]);
      this.pos += 2;
      if (!isKnownVr(vr)) throw new DicomParseError(`invalid VR for ${formatTag(tag)}`, this.pos - 2);
      if (isLongVr(vr)) {
        this.need(6, end, 'element header');
        this.pos += 2;
        length = this.u32(enc);
      } else {
        length = this.u16(enc);
      }
    } else {
      vr = implicitVr(tag);
      length = this.u32(enc);
    }
    if (length === UNDEFINED_LENGTH) {
      if (tag === PIXEL_DATA || vr === 'OB' || vr === 'OW') return this.encapsulated(tag, vr, end);
      if (vr === 'SQ') return { tag, vr, items: this.items(end, enc, true), undefinedLength: true };
      if (vr === 'UN') return { tag, vr, items: this.items(end, IMPLICIT, true), undefinedLength: true, implicitItems: true };
      throw new DicomParseError(`undefined length on ${vr} element ${formatTag(tag)}`, this.pos);
    }
    if (this.pos + length > end) throw new DicomParseError(`value of ${formatTag(tag)} runs past the end`, this.pos);
    if (vr === 'SQ') {
      const items = this.items(this.pos + length, enc, false);
      return { tag, vr, items, undefinedLength: false };
    }
    const value = this.buf.subarray(this.pos, this.pos + length);
    this.pos += length;
    return { tag, vr, value };
  }

  parseItems(end: number, enc: Encoding, undefinedLength: boolean): Item[] {
    return this.items(end, enc, undefinedLength);
  }

  private items(end: number, enc: Encoding, undefinedLength: boolean): Item[] {
    this.depth++;
    try {
      return this.itemList(end, enc, undefinedLength);
    } finally {
      this.depth--;
    }
  }

  private itemList(end: number, enc: Encoding, undefinedLength: boolean): Item[] {
    const items: Item[] = [];
    for (;;) {
      if (!undefinedLength && this.pos >= end) return items;
      this.need(8, end, 'item header');
      const group = this.u16(enc);
      const elem = this.u16(enc);
      const tag = ((group << 16) | elem) >>> 0;
      const length = this.u32(enc);
      if (tag === SEQUENCE_DELIMITATION) {
        if (undefinedLength) return items;
        throw new DicomParseError('sequence delimiter in a defined-length sequence', this.pos - 8);
      }
      if (tag !== ITEM) throw new DicomParseError(`expected an item, found ${formatTag(tag)}`, this.pos - 8);
      if (length === UNDEFINED_LENGTH) {
        items.push({ elements: this.elements(end, enc, true), undefinedLength: true });
      } else {
        const itemEnd = this.pos + length;
        if (itemEnd > end) throw new DicomParseError('item runs past the end of its sequence', this.pos);
        items.push({ elements: this.elements(itemEnd, enc, false), undefinedLength: false });
        this.pos = itemEnd;
      }
    }
  }

  /** Keeps the fragment stream as raw bytes: it is copied, never decoded. */
  private encapsulated(tag: number, vr: string, end: number): Element {
    const start = this.pos;
    for (;;) {
      this.need(8, end, 'fragment header');
      const itemTag = ((this.buf.readUInt16LE(this.pos) << 16) | this.buf.readUInt16LE(this.pos + 2)) >>> 0;
      const length = this.buf.readUInt32LE(this.pos + 4);
      this.pos += 8;
      if (itemTag === SEQUENCE_DELIMITATION) break;
      if (itemTag !== ITEM || length === UNDEFINED_LENGTH) {
        throw new DicomParseError(`bad fragment in ${formatTag(tag)}`, this.pos - 8);
      }
      if (this.pos + length > end) throw new DicomParseError(`fragment of ${formatTag(tag)} runs past the end`, this.pos);
      this.pos += length;
    }
    return { tag, vr, fragments: this.buf.subarray(start, this.pos), undefinedLength: true };
  }
}

/** Out-of-order elements are invalid but occur; we write them back in order. Repeats are rejected. */
export function sortByTag(elements: Element[]): Element[] {
  elements.sort((a, b) => a.tag - b.tag);
  for (let i = 1; i < elements.length; i++) {
    if (elements[i].tag === elements[i - 1].tag) throw new DicomParseError(`element ${formatTag(elements[i].tag)} repeated`);
  }
  return elements;
}

function implicitVr(tag: number): string {
  if ((tag & 0xffff) === 0) return 'UL';
  if (isPrivateCreator(tag)) return 'LO';
  if ((tag >>> 16) & 1) return 'UN';
  const entry = lookupTag(tag);
  if (!entry || !entry.vr) return 'UN';
  return entry.vr;
}

export interface ParsedFile {
  /** File meta information (group 0002), Explicit VR Little Endian. */
  readonly meta: Element[];
  readonly dataset: Element[];
  readonly transferSyntax: TransferSyntax;
  /** True when the file had no preamble/DICM/meta and was read as a bare Implicit VR LE dataset. */
  readonly bareDataset: boolean;
}

/**
 * Items of a sequence that arrived as UN with a defined length: PS3.5 6.2.2 says its content is
 * Implicit VR Little Endian. Returns undefined when the bytes are not a well-formed item list.
 */
export function parseUnknownSequence(value: Buffer): Item[] | undefined {
  try {
    return new Parser(value, 0).parseItems(value.length, IMPLICIT, false);
  } catch (err) {
    if (err instanceof DicomParseError || err instanceof RangeError) return undefined;
    throw err;
  }
}

function encodingOf(ts: TransferSyntax): Encoding {
  return ts.explicitVr ? (ts.littleEndian ? EXPLICIT : { explicitVr: true, littleEndian: false }) : IMPLICIT;
}

export function parseDataset(buf: Buffer, ts: TransferSyntax): Element[] {
  const body = ts.deflated ? inflate(buf) : buf;
  return new Parser(body, 0).elements(body.length, encodingOf(ts), false);
}

/**
 * Parses the top level of a dataset until Pixel Data: the elements before it, and the offset of its
 * header (undefined when the dataset has none). Used on a prefix of a large file.
 */
export function parseDatasetUntilPixelData(buf: Buffer, start: number, ts: TransferSyntax): { elements: Element[]; pixelDataAt?: number } {
  const parser = new Parser(buf, start, PIXEL_DATA);
  const elements = parser.elements(buf.length, encodingOf(ts), false);
  return { elements, pixelDataAt: parser.stoppedAt };
}

/**
 * The top-level elements at the start of a dataset, up to (not including) the first tag >= stopTag:
 * what a receiver checks before the rest has arrived. `head` may be a prefix of the dataset (of the
 * compressed bytes, for a deflated one). While `complete` is false, a prefix that ends before
 * stopTag, or does not parse yet, gives undefined (more bytes may settle it); once the whole
 * dataset (or all the caller will wait for) is there, a parse failure throws DicomParseError.
 */
export function parseDatasetHead(head: Buffer, ts: TransferSyntax, stopTag: number, complete: boolean): Element[] | undefined {
  try {
    // A prefix of a deflate stream inflates to a prefix of the dataset (SYNC_FLUSH: no error at its end).
    const body = !ts.deflated ? head : complete ? inflate(head) : inflateRawSync(head, { finishFlush: zlibConstants.Z_SYNC_FLUSH });
    const parser = new Parser(body, 0, stopTag, true);
    const elements = parser.elements(body.length, encodingOf(ts), false);
    return parser.stoppedAt !== undefined || complete ? elements : undefined;
  } catch (err) {
    if (!complete) return undefined;
    if (err instanceof DicomParseError) throw err;
    throw new DicomParseError(`dataset does not parse: ${(err as Error).message}`);
  }
}

/** The Explicit VR Little Endian bytes of a Deflated dataset held in memory. */
export function inflate(buf: Buffer): Buffer {
  try {
    return inflateRawSync(buf);
  } catch (err) {
    throw new DicomParseError(`deflated dataset does not inflate: ${(err as Error).message}`);
  }
}

/** Parses a whole Part-10 file held in memory. */
export function parsePart10(buf: Buffer): ParsedFile {
  const hasPreamble = buf.length >= 132 && buf.toString('latin1', 128, 132) === 'DICM';
  if (!hasPreamble) return parseBare(buf);
  const { meta, end: metaEnd } = parseMetaGroup(buf);
  const tsElement = findElement(meta, 0x00020010);
  const tsUid = tsElement ? decodeText(tsElement) : '';
  if (!tsUid) throw new DicomParseError('file meta information has no Transfer Syntax UID');
  const ts = transferSyntax(tsUid);
  // The UID is repeated only when it is one: reasons and logs never carry a file's free text.
  if (!ts) throw new DicomParseError(`unsupported transfer syntax${/^[0-9.]{1,64}$/.test(tsUid) ? ` ${tsUid}` : ' (not a valid UID)'}`);
  return { meta, dataset: parseDataset(buf.subarray(metaEnd), ts), transferSyntax: ts, bareDataset: false };
}

/** Parses the file meta group of a buffer that starts with the preamble and DICM prefix. */
export function parseMetaGroup(buf: Buffer): { meta: Element[]; end: number } {
  const end = metaGroupEnd(buf);
  return { meta: new Parser(buf, 132).elements(end, EXPLICIT, false), end };
}

/** End of group 0002: from its group length when present, else by scanning group-2 tags. */
function metaGroupEnd(buf: Buffer): number {
  let pos = 132;
  if (buf.length >= 144 && buf.readUInt16LE(pos) === 2 && buf.readUInt16LE(pos + 2) === 0 && buf.toString('latin1', 136, 138) === 'UL') {
    const end = 144 + buf.readUInt32LE(140);
    if (end <= buf.length) return end;
  }
  while (pos + 8 <= buf.length && buf.readUInt16LE(pos) === 2) {
    const vr = buf.toString('latin1', pos + 4, pos + 6);
    if (isLongVr(vr)) pos += 12 + buf.readUInt32LE(pos + 8);
    else pos += 8 + buf.readUInt16LE(pos + 6);
  }
  if (pos === 132) throw new DicomParseError('DICM prefix without file meta information', pos);
  return Math.min(pos, buf.length);
}

/** Some archives hold datasets without the Part-10 header; accept them as Implicit VR LE, or Explicit if the VR bytes say so. */
function parseBare(buf: Buffer): ParsedFile {
  if (buf.length < 8) throw new DicomParseError('not a DICOM file (too short)');
  const group = buf.readUInt16LE(0);
  if (group !== 0x0008 && group !== 0x0002 && group !== 0x0010) throw new DicomParseError('not a DICOM file (no DICM prefix)');
  const looksExplicit = isKnownVr(buf.toString('latin1', 4, 6));
  const ts = transferSyntax(looksExplicit ? EXPLICIT_LE : IMPLICIT_LE)!;
  const all = parseDataset(buf, ts);
  const meta = all.filter((e) => e.tag >>> 16 === 2);
  const dataset = all.filter((e) => e.tag >>> 16 !== 2);
  return { meta, dataset, transferSyntax: ts, bareDataset: true };
}
