import { closeSync, fstatSync, openSync, readFileSync, readSync } from 'node:fs';
import { DicomParseError } from '../errors';
import { findElement, type Element } from './dataset';
import { parseMetaGroup, parsePart10, type ParsedFile } from './parse';
import { decodeText, encodeAscii } from './values';
import { isLongVr } from './vr';

/** Our own root: a UUID-derived 2.25 UID, fixed for the project. */
export const IMPLEMENTATION_CLASS_UID = '2.25.196759520044593143110416411972379287911';
export const IMPLEMENTATION_VERSION_NAME = 'DICOMPIPE_010';

export interface MetaFields {
  readonly sopClassUid: string;
  readonly sopInstanceUid: string;
  readonly transferSyntaxUid: string;
  readonly sourceAeTitle?: string;
}

/** A complete file meta group (0002) with our implementation identity. */
export function buildMeta(fields: MetaFields): Element[] {
  const meta: Element[] = [
    { tag: 0x00020001, vr: 'OB', value: Buffer.from([0, 1]) },
    { tag: 0x00020002, vr: 'UI', value: encodeAscii(fields.sopClassUid, 'UI') },
    { tag: 0x00020003, vr: 'UI', value: encodeAscii(fields.sopInstanceUid, 'UI') },
    { tag: 0x00020010, vr: 'UI', value: encodeAscii(fields.transferSyntaxUid, 'UI') },
    { tag: 0x00020012, vr: 'UI', value: encodeAscii(IMPLEMENTATION_CLASS_UID, 'UI') },
    { tag: 0x00020013, vr: 'SH', value: encodeAscii(IMPLEMENTATION_VERSION_NAME, 'SH') },
  ];
  if (fields.sourceAeTitle) meta.push({ tag: 0x00020016, vr: 'AE', value: encodeAscii(fields.sourceAeTitle, 'AE') });
  return meta;
}

export function readPart10File(path: string): ParsedFile {
  return parsePart10(readFileSync(path));
}

export interface FileHeader extends MetaFields {
  /** Byte offset of the dataset (after the meta group) in the file. */
  readonly datasetOffset: number;
  /** Size of the whole file. */
  readonly size: number;
}

/** Reads only the preamble and meta group: enough to route a file without loading it. */
export function readFileHeader(path: string): FileHeader {
  const fd = openSync(path, 'r');
  try {
    const head = Buffer.alloc(144);
    if (readSync(fd, head, 0, 144, 0) < 144 || head.toString('latin1', 128, 132) !== 'DICM') {
      throw new DicomParseError('not a DICOM Part-10 file (no DICM prefix)');
    }
    let metaLength: number;
    if (head.readUInt16LE(132) === 2 && head.readUInt16LE(134) === 0 && head.toString('latin1', 136, 138) === 'UL') {
      metaLength = 12 + head.readUInt32LE(140);
    } else {
      metaLength = scanMetaLength(fd);
    }
    if (metaLength > 1 << 20) throw new DicomParseError('file meta information too long');
    const buf = Buffer.alloc(132 + metaLength);
    if (readSync(fd, buf, 0, buf.length, 0) < buf.length) throw new DicomParseError('truncated file meta information');
    const { meta } = parseMetaGroup(buf);
    const text = (tag: number): string => {
      const el = findElement(meta, tag);
      return el ? decodeText(el) : '';
    };
    return {
      sopClassUid: text(0x00020002),
      sopInstanceUid: text(0x00020003),
      transferSyntaxUid: text(0x00020010),
      sourceAeTitle: text(0x00020016) || undefined,
      datasetOffset: 132 + metaLength,
      size: fstatSync(fd).size,
    };
  } finally {
    closeSync(fd);
  }
}

function scanMetaLength(fd: number): number {
  const buf = Buffer.alloc(12);
  let pos = 132;
  for (;;) {
    if (readSync(fd, buf, 0, 12, pos) < 8 || buf.readUInt16LE(0) !== 2) return pos - 132;
    const vr = buf.toString('latin1', 4, 6);
    pos += isLongVr(vr) ? 12 + buf.readUInt32LE(8) : 8 + buf.readUInt16LE(6);
  }
}
