import type { Element, Item } from '../../src/dicom/dataset';
import { encodeAscii } from '../../src/dicom/values';
import { buildMeta } from '../../src/dicom/part10';
import { encodePart10 } from '../../src/dicom/serialize';
import { transferSyntax, EXPLICIT_LE } from '../../src/dicom/transfer-syntax';
import { parsePart10, type ParsedFile } from '../../src/dicom/parse';

/** A text element (ASCII). */
export function text(tag: number, vr: string, value: string): Element {
  return { tag, vr, value: encodeAscii(value, vr) };
}

export function us(tag: number, value: number): Element {
  const b = Buffer.alloc(2);
  b.writeUInt16LE(value);
  return { tag, vr: 'US', value: b };
}

export function seq(tag: number, items: Element[][], undefinedLength = true): Element {
  const its: Item[] = items.map((elements, i) => ({ elements: sorted(elements), undefinedLength: undefinedLength && i % 2 === 0 }));
  return { tag, vr: 'SQ', items: its, undefinedLength };
}

export function sorted(elements: Element[]): Element[] {
  return [...elements].sort((a, b) => a.tag - b.tag);
}

/** The bytes of a Part-10 file of these elements, its meta group naming the dataset's own SOP UIDs. */
export function part10Bytes(elements: Element[], tsUid = EXPLICIT_LE): Buffer {
  const ds = sorted(elements);
  const uid = (tag: number, fallback: string): string => ds.find((e) => e.tag === tag)?.value?.toString('latin1').replace(/\0/g, '') ?? fallback;
  const meta = buildMeta({ sopClassUid: uid(0x00080016, '1.2.840.10008.5.1.4.1.1.2'), sopInstanceUid: uid(0x00080018, '1.2.3.4'), transferSyntaxUid: tsUid });
  return Buffer.concat(encodePart10(meta, ds, transferSyntax(tsUid)!));
}

/** A Part-10 file in memory, round-tripped through our writer and reader. */
export function part10(elements: Element[], tsUid = EXPLICIT_LE): ParsedFile {
  return parsePart10(part10Bytes(elements, tsUid));
}

/** A CT-like dataset full of fake PHI, nested sequences included. */
export function phiDataset(overrides: { patientId?: string; patientName?: string; study?: string; series?: string; sop?: string; studyDate?: string } = {}): Element[] {
  return [
    text(0x00080005, 'CS', 'ISO_IR 100'),
    text(0x00080008, 'CS', 'ORIGINAL\\PRIMARY\\AXIAL'),
    text(0x00080016, 'UI', '1.2.840.10008.5.1.4.1.1.2'),
    text(0x00080018, 'UI', overrides.sop ?? '1.2.826.0.1.3680043.2.1125.1.1'),
    text(0x00080020, 'DA', overrides.studyDate ?? '20200315'),
    text(0x00080021, 'DA', '20200315'),
    text(0x00080030, 'TM', '101500'),
    text(0x00080050, 'SH', 'ACC123456'),
    text(0x00080060, 'CS', 'CT'),
    text(0x00080070, 'LO', 'ACME MEDICAL'),
    text(0x00080080, 'LO', 'SAINT EXAMPLE HOSPITAL'),
    text(0x00080081, 'ST', '12 Harbour Road, Springfield'),
    text(0x00080090, 'PN', 'HOUSE^GREGORY'),
    text(0x00081030, 'LO', 'CT CHEST W/CONTRAST'),
    text(0x0008103e, 'LO', 'AXIAL 5MM SMITHSON'),
    text(0x00081070, 'PN', 'OPERATOR^OLIVIA'),
    seq(0x00081140, [[text(0x00081150, 'UI', '1.2.840.10008.5.1.4.1.1.2'), text(0x00081155, 'UI', '1.2.826.0.1.3680043.2.1125.1.0')]]),
    text(0x00100010, 'PN', overrides.patientName ?? 'SMITHSON^JOHANNA^Q'),
    text(0x00100020, 'LO', overrides.patientId ?? 'MRN0042'),
    text(0x00100030, 'DA', '19700401'),
    text(0x00100040, 'CS', 'F'),
    text(0x00101010, 'AS', '049Y'),
    seq(0x00101002, [[text(0x00100020, 'LO', 'OTHERID77'), text(0x00100022, 'CS', 'TEXT')]]),
    text(0x00104000, 'LT', 'Patient Johanna called about results'),
    text(0x00180050, 'DS', '5.0'),
    text(0x00180060, 'DS', '120'),
    text(0x0020000d, 'UI', overrides.study ?? '1.2.826.0.1.3680043.2.1125.2.1'),
    text(0x0020000e, 'UI', overrides.series ?? '1.2.826.0.1.3680043.2.1125.3.1'),
    text(0x00200010, 'SH', 'STUDY9'),
    text(0x00200013, 'IS', '1'),
    text(0x00200052, 'UI', '1.2.826.0.1.3680043.2.1125.4.1'),
    seq(0x00400275, [[
      text(0x00321060, 'LO', 'CT CHEST'),
      text(0x00400007, 'LO', 'SMITHSON CHEST PROTOCOL'),
      text(0x00400009, 'SH', 'SPS77'),
      seq(0x00400008, [[text(0x00080100, 'SH', 'CT123'), text(0x00080102, 'SH', 'LOCAL'), text(0x00080104, 'LO', 'CT chest')]], false),
    ]]),
    us(0x00280010, 2),
    us(0x00280011, 2),
    text(0x00090010, 'LO', 'ACME PRIVATE'),
    text(0x00091001, 'LO', 'SMITHSON private note'),
    { tag: 0x7fe00010, vr: 'OW', value: Buffer.from([1, 2, 3, 4, 5, 6, 7, 8]) },
  ];
}
