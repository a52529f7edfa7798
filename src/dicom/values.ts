import { convertBytes } from 'dicom-character-set';
import { findElement, type Element } from './dataset';
import { CHARSET_VRS, paddingByte } from './vr';

/** Strips the trailing padding (spaces and NULs) and, for text other than LT/ST/UT, leading spaces. */
function trimValue(text: string, vr: string): string {
  const end = text.replace(/[\0 ]+$/, '');
  return vr === 'LT' || vr === 'ST' || vr === 'UT' ? end : end.replace(/^ +/, '');
}

/** Decodes a text element; charset-dependent VRs go through the declared Specific Character Set. */
export function decodeText(element: Element, specificCharacterSet?: string): string {
  const raw = element.value;
  if (!raw || raw.length === 0) return '';
  if (specificCharacterSet && CHARSET_VRS.has(element.vr) && needsCharsetDecoding(raw, specificCharacterSet)) {
    try {
      return trimValue(convertBytes(specificCharacterSet, raw, { vr: element.vr }), element.vr);
    } catch {
      // An unknown or malformed Specific Character Set: read the bytes as Latin-1, consistently everywhere.
    }
  }
  return trimValue(raw.toString('latin1'), element.vr);
}

/** Pure ASCII bytes decode the same in every DICOM character set; skip the converter for them. */
function needsCharsetDecoding(raw: Buffer, charset: string): boolean {
  if (charset === '' || charset === 'ISO_IR 6') return false;
  for (let i = 0; i < raw.length; i++) if (raw[i] >= 0x80 || raw[i] === 0x1b) return true;
  return false;
}

/** Values of a multi-valued text element. */
export function decodeTextValues(element: Element, specificCharacterSet?: string): string[] {
  const text = decodeText(element, specificCharacterSet);
  return element.vr === 'LT' || element.vr === 'ST' || element.vr === 'UT' ? [text] : text.split('\\');
}

/** Encodes an ASCII value, padded to even length with the VR's padding byte. */
export function encodeAscii(text: string, vr: string): Buffer {
  const bytes = Buffer.from(text, 'latin1');
  if (bytes.length % 2 === 0) return bytes;
  const padded = Buffer.alloc(bytes.length + 1, paddingByte(vr));
  bytes.copy(padded);
  return padded;
}

export function readUint16(element: Element, littleEndian: boolean): number | undefined {
  const v = element.value;
  if (!v || v.length < 2) return undefined;
  return littleEndian ? v.readUInt16LE(0) : v.readUInt16BE(0);
}

export function readUint32(element: Element, littleEndian: boolean): number | undefined {
  const v = element.value;
  if (!v || v.length < 4) return undefined;
  return littleEndian ? v.readUInt32LE(0) : v.readUInt32BE(0);
}

/** The decoded text of an attribute at this level, or '' when it is absent. */
export function textOf(elements: readonly Element[], tag: number, specificCharacterSet?: string): string {
  const el = findElement(elements, tag);
  return el ? decodeText(el, specificCharacterSet) : '';
}
