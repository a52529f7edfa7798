/**
 * Lossless transfer syntax changes, the one exception to "bytes in, bytes out" (house rule 2): for a
 * peer that refuses a file's own syntax, the same dataset in Explicit or Implicit VR Little Endian.
 * Only the encoding changes: element for element the same values (multi-byte binary values swapped
 * from big endian, VRs made explicit from PS3.6 or dropped, group lengths recomputed for the new
 * headers). Encapsulated (compressed) pixel data is never decoded, so those syntaxes convert to nothing.
 */
import { DicomParseError } from '../errors';
import type { Element, Item } from './dataset';
import { findElement } from './dataset';
import { lookupTag } from './dictionary';
import { swapInPlace } from './file-range';
import { encodeDatasetChunks } from './serialize';
import { formatTag, isGroupLength } from './tag';
import { EXPLICIT_LE, IMPLICIT_LE, TRANSFER_SYNTAX_NAMES, transferSyntax, type TransferSyntax } from './transfer-syntax';
import { isTextVr } from './vr';

/** Syntaxes a file in `uid` can be converted to without touching pixel data, most faithful first. */
export function losslessAlternatives(uid: string): string[] {
  const ts = transferSyntax(uid);
  if (!ts || ts.encapsulated) return [];
  return [EXPLICIT_LE, IMPLICIT_LE].filter((t) => t !== uid);
}

/** "Explicit VR Little Endian (1.2.840.10008.1.2.1)": for messages. */
export function describeSyntax(uid: string): string {
  const name = TRANSFER_SYNTAX_NAMES[uid];
  return name ? `${name} (${uid})` : uid;
}

/**
 * The dataset (parsed in `from`; deflated data already inflated by the parser) re-expressed for
 * encoding in `to`, which must be one of losslessAlternatives(from). Values are new buffers where
 * bytes change, the source's subarrays elsewhere; bulk data left in a big endian file is marked to
 * be swapped while it is copied. Throws DicomParseError when a value's byte order cannot be known.
 */
export function convertDataset(elements: readonly Element[], from: TransferSyntax, to: TransferSyntax): Element[] {
  if (!losslessAlternatives(from.uid).includes(to.uid)) {
    throw new DicomParseError(`no lossless conversion from ${describeSyntax(from.uid)} to ${describeSyntax(to.uid)}`);
  }
  let out = [...elements];
  if (!from.littleEndian) out = toLittleEndian(out);
  if (!from.explicitVr) out = withExplicitVrs(out, { pixelRepresentation: 0 });
  if (from.explicitVr !== to.explicitVr) out = withGroupLengths(out, to);
  return out;
}

/** Bytes per swapped unit of a VR's value in a big endian encoding; undefined: bytes stay as they are. */
function swapUnit(vr: string): number | undefined {
  switch (vr) {
    case 'US': case 'SS': case 'OW': case 'AT': return 2;
    case 'UL': case 'SL': case 'FL': case 'OF': case 'OL': return 4;
    case 'FD': case 'OD': case 'SV': case 'UV': case 'OV': return 8;
    default: return undefined;
  }
}


function toLittleEndian(elements: readonly Element[]): Element[] {
  return elements.map((el) => {
    if (el.items) return el.implicitItems ? el : { ...el, items: el.items.map((i) => ({ ...i, elements: toLittleEndian(i.elements) })) };
    if (el.fragments) throw new DicomParseError(`encapsulated ${formatTag(el.tag)} in a big endian dataset`);
    const unit = bigEndianUnit(el);
    if (!unit) return el;
    if (el.external) {
      if (el.external.length % unit !== 0) throw new DicomParseError(`${formatTag(el.tag)}: length ${el.external.length} is not a multiple of ${unit}`);
      return { ...el, external: { ...el.external, swapUnit: unit } };
    }
    const value = el.value;
    if (!value || value.length === 0) return el;
    if (value.length % unit !== 0) throw new DicomParseError(`${formatTag(el.tag)}: length ${value.length} is not a multiple of ${unit}`);
    return { ...el, value: swapInPlace(Buffer.from(value), unit) };
  });
}

/** UN in a big endian file: its bytes follow the VR PS3.6 gives the tag; without one, nobody can tell. */
function bigEndianUnit(el: Element): number | undefined {
  if (el.vr !== 'UN') return swapUnit(el.vr);
  const vrs = lookupTag(el.tag)?.vrs ?? [];
  const vr = vrs.length === 1 ? vrs[0] : '';
  if (isTextVr(vr) || vr === 'OB' || swapUnit(vr)) return swapUnit(vr);
  throw new DicomParseError(`${formatTag(el.tag)} has VR UN in a big endian dataset: its byte order is unknown`);
}

interface ImageContext {
  readonly pixelRepresentation: number;
}

/**
 * Elements read from an implicit VR dataset carry PS3.6's first VR; where PS3.6 lists several, the
 * explicit one is chosen as dcmtk does: US or SS from Pixel Representation (nearest enclosing
 * dataset), OW for OB-or-OW data (Pixel Data read implicitly is OW, PS3.5 A.1) and for LUT Data.
 */
function withExplicitVrs(elements: readonly Element[], outer: ImageContext): Element[] {
  const pr = findElement(elements, 0x00280103)?.value;
  const context: ImageContext = pr && pr.length >= 2 ? { pixelRepresentation: pr.readUInt16LE(0) } : outer;
  return elements.map((el) => {
    if (el.items) return el.implicitItems ? el : { ...el, items: el.items.map((i): Item => ({ ...i, elements: withExplicitVrs(i.elements, context) })) };
    const vrs = lookupTag(el.tag)?.vrs ?? [];
    if (vrs.length < 2 || el.vr !== vrs[0]) return el;
    if (vrs.includes('OW') && !vrs.includes('SS')) return { ...el, vr: 'OW' };
    if (vrs.includes('SS')) return { ...el, vr: context.pixelRepresentation === 1 ? 'SS' : 'US' };
    return el;
  });
}

/** Group lengths (retired, still found) counted again for the target's element headers, at every level. */
function withGroupLengths(elements: readonly Element[], to: TransferSyntax): Element[] {
  const out = elements.map((el) => (el.items && !el.implicitItems ? { ...el, items: el.items.map((i) => ({ ...i, elements: withGroupLengths(i.elements, to) })) } : el));
  return out.map((el) => {
    if (!isGroupLength(el.tag) || el.vr !== 'UL' || !el.value || el.value.length !== 4) return el;
    const group = el.tag >>> 16;
    const members = out.filter((m) => m.tag >>> 16 === group && m.tag !== el.tag);
    const length = encodeDatasetChunks(members, to).reduce((sum, c) => sum + c.length, 0);
    const value = Buffer.alloc(4);
    value.writeUInt32LE(length, 0);
    return { ...el, value };
  });
}
