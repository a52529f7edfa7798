import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deidentify } from '../../src/anon/deidentify';
import { collectPhiTokens, findPhi } from '../../src/anon/verify';
import { findElement, type Element } from '../../src/dicom/dataset';
import { decodeText } from '../../src/dicom/values';
import { encodePart10 } from '../../src/dicom/serialize';
import { parsePart10 } from '../../src/dicom/parse';
import { anonContext } from '../helpers/anon-env';
import { part10, phiDataset, text } from '../helpers/dicom-builder';

const val = (ds: readonly Element[], tag: number): string | undefined => {
  const el = findElement(ds, tag);
  return el ? decodeText(el) : undefined;
};

function allValues(ds: readonly Element[], out: string[] = []): string[] {
  for (const el of ds) {
    if (el.items) for (const item of el.items) allValues(item.elements, out);
    else if (el.value) out.push(el.value.toString('latin1'));
  }
  return out;
}

test('names, IDs, accession and study ID become pseudonyms; PHI text is gone at every depth', () => {
  const ctx = anonContext();
  try {
    const file = part10(phiDataset());
    const out = ctx.identity.transaction(() => deidentify(file, ctx));
    const ds = out.dataset;
    assert.equal(val(ds, 0x00100010), out.patient.name);
    assert.equal(val(ds, 0x00100020), out.patient.id);
    assert.match(out.patient.id, /^P[0-9A-Z]{11}$/);
    assert.match(val(ds, 0x00080050)!, /^A[0-9A-Z]{11}$/);
    assert.match(val(ds, 0x00200010)!, /^S[0-9A-Z]{9}$/);
    assert.equal(val(ds, 0x00100030), ''); // birth date emptied (Z), not shifted
    assert.equal(val(ds, 0x00104000), undefined); // Patient Comments removed
    assert.equal(val(ds, 0x00091001), undefined); // private removed
    assert.equal(val(ds, 0x00090010), undefined); // private creator removed
    assert.equal(val(ds, 0x00080080), 'ANONYMIZED'); // X/Z/D with a value: dummy
    const joined = allValues(ds).join('|').toUpperCase();
    for (const phi of ['SMITHSON', 'JOHANNA', 'MRN0042', 'OTHERID77', 'ACC123456', 'HOUSE', 'OLIVIA', 'HARBOUR', '19700401', 'EXAMPLE HOSPITAL', 'STUDY9', 'SPS77']) {
      assert.ok(!joined.includes(phi), `${phi} survived`);
    }
    assert.equal(findElement(ds, 0x00280010)?.value?.readUInt16LE(0), 2, 'Rows kept');
    assert.ok(findElement(ds, 0x7fe00010)!.value!.equals(Buffer.from([1, 2, 3, 4, 5, 6, 7, 8])), 'pixel data byte-identical');
    assert.equal(val(ds, 0x00080060), 'CT');
  } finally {
    ctx.close();
  }
});

test('dates shift by one per-patient offset, in sequences too; times stay', () => {
  const ctx = anonContext();
  try {
    const a = ctx.identity.transaction(() => deidentify(part10(phiDataset({ studyDate: '20200315' })), ctx));
    const b = ctx.identity.transaction(() => deidentify(part10(phiDataset({ studyDate: '20200415', sop: '1.2.9.9', study: '1.2.9.8' })), ctx));
    const offset = a.patient.dateOffsetDays;
    assert.notEqual(offset, 0);
    const day = (s: string): number => Date.UTC(+s.slice(0, 4), +s.slice(4, 6) - 1, +s.slice(6, 8)) / 86_400_000;
    assert.equal(day(val(a.dataset, 0x00080020)!) - day('20200315'), offset);
    assert.equal(day(val(b.dataset, 0x00080020)!) - day(val(a.dataset, 0x00080020)!), 31, 'interval preserved');
    assert.equal(val(a.dataset, 0x00080030), '101500');
    assert.equal(val(a.dataset, 0x00280303), 'MODIFIED');
    assert.equal(a.patient.id, b.patient.id, 'one pseudonym per patient across studies');
  } finally {
    ctx.close();
  }
});

test('UIDs map consistently, references inside sequences included', () => {
  const ctx = anonContext();
  try {
    const referenced = '1.2.826.0.1.3680043.2.1125.1.0';
    const first = ctx.identity.transaction(() => deidentify(part10(phiDataset({ sop: referenced })), ctx));
    const second = ctx.identity.transaction(() => deidentify(part10(phiDataset({ sop: '1.2.826.0.1.3680043.2.1125.1.1' })), ctx));
    const ref = findElement(second.dataset, 0x00081140)!.items![0].elements;
    assert.equal(val(ref, 0x00081155), first.sopInstanceUid, 'Referenced SOP Instance UID resolves to the new UID');
    assert.equal(val(ref, 0x00081150), '1.2.840.10008.5.1.4.1.1.2', 'class UID kept');
    assert.equal(first.studyUid, second.studyUid);
    for (const uid of [first.studyUid, first.seriesUid, first.sopInstanceUid]) {
      assert.match(uid, /^2\.25\.[1-9]\d{37}$/);
      assert.ok(uid.length <= 64);
    }
    assert.equal(val(first.meta, 0x00020003), first.sopInstanceUid);
  } finally {
    ctx.close();
  }
});

test('de-identification attributes: YES, method, one code item per option', () => {
  const ctx = anonContext({ retainPatientCharacteristics: true });
  try {
    const out = ctx.identity.transaction(() => deidentify(part10(phiDataset()), ctx));
    assert.equal(val(out.dataset, 0x00120062), 'YES');
    assert.match(val(out.dataset, 0x00120063)!, /Basic Application Confidentiality Profile/);
    const items = findElement(out.dataset, 0x00120064)!.items!;
    assert.deepEqual(items.map((i) => val(i.elements, 0x00080100)), ['113100', '113105', '113107', '113108']);
    assert.ok(items.every((i) => val(i.elements, 0x00080102) === 'DCM' && val(i.elements, 0x00080104)));
    assert.equal(val(out.dataset, 0x00101010), '049Y', 'patient characteristics retained');
  } finally {
    ctx.close();
  }
});

test('white-listed descriptors are kept, others follow the profile', () => {
  const ctx = anonContext({}, { '0008,1030': ['ct chest w/contrast'], '0008,103E': ['AXIAL 5MM'] });
  try {
    const out = ctx.identity.transaction(() => deidentify(part10(phiDataset()), ctx));
    assert.equal(val(out.dataset, 0x00081030), 'CT CHEST W/CONTRAST');
    assert.equal(val(out.dataset, 0x0008103e), undefined, 'a value not on the list is removed');
  } finally {
    ctx.close();
  }
});

test('the verifier finds a planted leak and passes the clean output', () => {
  const ctx = anonContext();
  try {
    const original = part10(phiDataset());
    const out = ctx.identity.transaction(() => deidentify(original, ctx));
    const tokens = collectPhiTokens(original.dataset, ctx.rules, ctx.options, ctx.whiteList);
    const reread = parsePart10(Buffer.concat(encodePart10(out.meta, out.dataset, original.transferSyntax)));
    assert.equal(findPhi(reread.dataset, tokens), undefined);
    const leaked = [...reread.dataset.filter((e) => e.tag !== 0x00180015), text(0x00180015, 'CS', 'SMITHSON')].sort((x, y) => x.tag - y.tag);
    assert.deepEqual(findPhi(leaked, tokens), { keyword: 'PatientName' });
    const uidLeak = [...reread.dataset.filter((e) => e.tag !== 0x00081115), text(0x00081115, 'UI', '1.2.826.0.1.3680043.2.1125.2.1')].sort((x, y) => x.tag - y.tag);
    assert.deepEqual(findPhi(uidLeak, tokens), { keyword: 'StudyInstanceUID' });
  } finally {
    ctx.close();
  }
});

test('a sequence that arrived as UN (defined length) is opened and cleaned, and the verifier sees inside it', async () => {
  const { encodeDataset } = await import('../../src/dicom/serialize');
  const { transferSyntax, IMPLICIT_LE } = await import('../../src/dicom/transfer-syntax');
  const { seq } = await import('../helpers/dicom-builder');
  const inner = seq(0x00081140, [[
    text(0x00081150, 'UI', '1.2.840.10008.5.1.4.1.1.2'), text(0x00081155, 'UI', '1.2.826.0.1.3680043.2.1125.1.0'), text(0x00100020, 'LO', 'HIDDENID99'),
  ]], false);
  const encoded = Buffer.concat(encodeDataset([inner], transferSyntax(IMPLICIT_LE)!));
  const asUn: Element = { tag: 0x00081140, vr: 'UN', value: encoded.subarray(8) };
  const ctx = anonContext();
  try {
    const original = part10([...phiDataset().filter((e) => e.tag !== 0x00081140), asUn]);
    const out = ctx.identity.transaction(() => deidentify(original, ctx));
    const cleaned = findElement(out.dataset, 0x00081140);
    assert.ok(cleaned?.items, 'the UN sequence was opened');
    assert.equal(val(cleaned.items[0].elements, 0x00081155), ctx.identity.uid('1.2.826.0.1.3680043.2.1125.1.0'), 'its reference remapped');
    assert.ok(!allValues(out.dataset).join('|').includes('HIDDENID99'));
    const tokens = collectPhiTokens(original.dataset, ctx.rules, ctx.options, ctx.whiteList);
    assert.equal(tokens.sourceOf('HIDDENID99'), 0x00100020, 'collected as Patient ID');
  } finally {
    ctx.close();
  }
});
