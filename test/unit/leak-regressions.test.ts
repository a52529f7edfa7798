/**
 * Regression tests for the leaks an adversarial review found (each input once reached an output
 * file with the verifier's blessing). They run the real file pipeline on files built in memory.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { anonymizeBatch, type FileOutcome } from '../../src/anon/anonymize-file';
import { createEnvironment } from '../../src/anon/environment';
import { DEFAULT_PROFILE } from '../../src/anon/options';
import { DEFAULT_QUARANTINE_RULES } from '../../src/anon/quarantine-rules';
import { findElement, type Element } from '../../src/dicom/dataset';
import type { SitePrivateRule } from '../../src/anon/rules/private-rules';
import { tempDir } from '../helpers/anon-env';
import { part10Bytes, phiDataset, seq, sorted, text } from '../helpers/dicom-builder';
import { DEFLATED_LE, EXPLICIT_BE, IMPLICIT_LE } from '../../src/dicom/transfer-syntax';
import { parsePart10 } from '../../src/dicom/parse';

const PHI = ['SMITHSON', 'JOHANNA', 'MRN0042', '19700401', 'ZHIVAGO'];

function raw(tag: number, vr: string, value: string): Element {
  return { tag, vr, value: Buffer.from(value.length % 2 ? `${value} ` : value, 'latin1') };
}

interface Setup {
  readonly profile?: object;
  readonly privateKeep?: readonly SitePrivateRule[];
  readonly tsUid?: string;
  /** Bytes written after the dataset (elements out of order). */
  readonly append?: Buffer;
  readonly allowedModalities?: readonly string[] | '*';
  readonly whiteList?: unknown;
}

/** Anonymizes one file built from phiDataset() plus overrides; returns its outcome and output bytes. */
async function anonymizeOne(overrides: Element[], setup: Setup = {}): Promise<{ outcome: FileOutcome; bytes?: string }> {
  const { dir, cleanup } = tempDir();
  try {
    const input = join(dir, 'in');
    mkdirSync(input);
    const tags = new Set(overrides.map((e) => e.tag));
    writeFileSync(join(input, 'a.dcm'), Buffer.concat([part10Bytes(sorted([...phiDataset().filter((e) => !tags.has(e.tag)), ...overrides]), setup.tsUid), setup.append ?? Buffer.alloc(0)]));
    const env = await createEnvironment({
      inputDir: input, outputDir: join(dir, 'out'), quarantineDir: join(dir, 'q'), identityDb: join(dir, 'id.db'),
      identity: { keyFile: join(dir, 'key') }, profile: { ...DEFAULT_PROFILE, ...setup.profile },
      quarantine: { ...DEFAULT_QUARANTINE_RULES, allowedModalities: setup.allowedModalities ?? '*' },
      whiteList: setup.whiteList, privateKeep: setup.privateKeep,
    }, async (claims) => claims.map(() => 'first' as const));
    try {
      const [outcome] = await anonymizeBatch([join(input, 'a.dcm')], env);
      return { outcome, bytes: outcome.kind === 'anonymized' ? readFileSync(outcome.output).toString('latin1') : undefined };
    } finally {
      await env.close();
    }
  } finally {
    cleanup();
  }
}

async function assertNoLeak(overrides: Element[]): Promise<FileOutcome> {
  const { outcome, bytes } = await anonymizeOne(overrides);
  if (bytes) for (const phi of PHI) assert.ok(!bytes.includes(phi), `${phi} reached the output`);
  return outcome;
}

test('text hidden in kept numbers, times, codes and class UIDs never reaches the output', async () => {
  await assertNoLeak([raw(0x00180050, 'DS', 'SMITHSON^JOHANNA')]); // Slice Thickness
  await assertNoLeak([raw(0x00200013, 'IS', 'MRN0042')]); // Instance Number
  await assertNoLeak([raw(0x00080030, 'TM', 'ZHIVAGO')]); // Study Time (kept by Modified Dates)
  await assertNoLeak([raw(0x00080060, 'CS', 'CT\\SMITHSON')]); // lower-case-free, but a name in a code
  await assertNoLeak([seq(0x00081140, [[raw(0x00081150, 'UI', 'SMITHSON^JOHANNA MRN0042'), text(0x00081155, 'UI', '1.2.3.4')]])]);
});

test('a public attribute with a VR the dictionary does not allow is not kept (a date sent as TM, text as OW, a name as a sequence)', async () => {
  await assertNoLeak([raw(0x00080020, 'TM', '19700401')]);
  await assertNoLeak([raw(0x00081090, 'OW', 'ZHIVAGO ')]);
  await assertNoLeak([seq(0x00080080, [[text(0x00081090, 'LO', 'SMITHSON HOSPITAL')]])]);
});

test('encapsulated or bulk data is kept only as the top-level Pixel Data', async () => {
  const fragments = Buffer.concat([Buffer.from([0xfe, 0xff, 0x00, 0xe0, 8, 0, 0, 0]), Buffer.from('SMITHSON'), Buffer.from([0xfe, 0xff, 0xdd, 0xe0, 0, 0, 0, 0])]);
  await assertNoLeak([{ tag: 0x00082218, vr: 'OB', fragments, undefinedLength: true }]);
  await assertNoLeak([seq(0x52009229, [[raw(0x7fe00010, 'OB', 'SMITHSON')]])]);
});

test('a PHI source sent as OB still gives the verifier its token', async () => {
  const outcome = await assertNoLeak([raw(0x00100010, 'OB', 'SMITHSON^JOHANNA'), raw(0x00181020, 'LO', 'SMITHSON JOHANNA')]);
  assert.ok(outcome.kind === 'quarantined' || outcome.kind === 'anonymized');
});

test('dates copied into text in another format are found', async () => {
  const { outcome } = await anonymizeOne([text(0x00181020, 'LO', 'BUILD 1970-04-01')]);
  assert.equal(outcome.kind, 'quarantined');
  assert.equal(outcome.kind === 'quarantined' && outcome.reason, 'phi-verify: PatientBirthDate');
});

test('a local code keeps its value but not its free-text meaning', async () => {
  const sq = seq(0x00082218, [[text(0x00080100, 'SH', 'X1'), text(0x00080102, 'SH', '99LOCAL'), text(0x00080104, 'LO', 'Discussed with Dr Zhivago')]]);
  const { outcome, bytes } = await anonymizeOne([sq]);
  assert.equal(outcome.kind, 'anonymized');
  assert.ok(!bytes!.includes('Zhivago') && bytes!.includes('99LOCAL'));
});

test('quarantine: retired ultrasound classes, any Burned In Annotation but NO, overlays embedded in pixel data', async () => {
  for (const sop of ['1.2.840.10008.5.1.4.1.1.6', '1.2.840.10008.5.1.4.1.1.3']) {
    const { outcome } = await anonymizeOne([text(0x00080016, 'UI', sop)]);
    assert.equal(outcome.kind === 'quarantined' && outcome.reason, 'SOP class may carry burned-in or free text', sop);
  }
  const burned = await anonymizeOne([text(0x00280301, 'CS', 'YES\\NO')]);
  assert.equal(burned.outcome.kind === 'quarantined' && burned.outcome.reason, 'burned in annotation');
  const overlay = await anonymizeOne([{ tag: 0x60000010, vr: 'US', value: Buffer.from([2, 0]) }, { tag: 0x60000102, vr: 'US', value: Buffer.from([12, 0]) }]);
  assert.equal(overlay.outcome.kind === 'quarantined' && overlay.outcome.reason, 'overlay embedded in pixel data');
});

test('quarantine details never repeat a value that is not a standard code or a UID', async () => {
  const modality = await anonymizeOne([text(0x00080060, 'CS', 'SMITHSON')], { allowedModalities: ['CT'] });
  assert.deepEqual(modality.outcome.kind === 'quarantined' && [modality.outcome.reason, modality.outcome.detail], ['modality not allowed', 'not a standard modality code']);
  const sc = await anonymizeOne([raw(0x00080016, 'UI', '1.2.840.10008.5.1.4.1.1.7.SMITHSON')]);
  assert.equal(sc.outcome.kind, 'quarantined');
  assert.ok(sc.outcome.kind === 'quarantined' && !(sc.outcome.detail ?? '').includes('SMITHSON'));
});

test('a removed description that is a phrase of a white-listed value does not quarantine it', async () => {
  // phiDataset() has Requested Procedure Description "CT CHEST" (removed) in a sequence item.
  const listed = { '0008,1030': ['CT CHEST W/CONTRAST'] };
  const { outcome, bytes } = await anonymizeOne([text(0x00081030, 'LO', 'CT CHEST W/CONTRAST')], { whiteList: listed });
  assert.equal(outcome.kind, 'anonymized');
  assert.ok(bytes!.includes('CT CHEST W/CONTRAST'), 'the white-listed description is kept');
});

// Retain Safe Private (profile.retainSafePrivate): what an adversarial review of the option found.
const SAFE: Setup = { profile: { retainSafePrivate: true } };
const ACME_AT_10 = (vr: string): SitePrivateRule[] => [{ creator: 'SITE REVIEWED', element: '(0029,xx10)', vr }];
/** GEMS_ACQU_01 (0019,xx9E) Internal Pulse Sequence Name: a kept LO. */
const pulseSequenceName = (value: string): Element[] => [text(0x00190010, 'LO', 'GEMS_ACQU_01'), raw(0x0019109e, 'LO', value)];

test('Retain Safe Private, Implicit VR: a kept private value arrives as UN and is still searched as the text its row says', async () => {
  const implicit = { ...SAFE, tsUid: IMPLICIT_LE };
  const plain = await anonymizeOne(pulseSequenceName('EPI2 DIFF'), implicit);
  assert.equal(plain.outcome.kind, 'anonymized');
  assert.ok(plain.bytes!.includes('EPI2 DIFF'), 'the listed attribute is kept');
  // A Study Description is a weak token: searched in free text only, so before the fix the UN copy passed.
  const { outcome } = await anonymizeOne(pulseSequenceName('CT CHEST W/CONTRAST'), implicit);
  assert.equal(outcome.kind === 'quarantined' && outcome.reason, 'phi-verify: StudyDescription');
  // A kept private sequence travels as UN too: its items are searched as items, a kept LO inside them as text.
  const hologic = (value: string): Element[] => [text(0x7e010010, 'LO', 'HOLOGIC, Inc.'),
    seq(0x7e011010, [[text(0x7e010010, 'LO', 'HOLOGIC, Inc.'), raw(0x7e011001, 'LO', value)]], false)];
  const nestedPlain = await anonymizeOne(hologic('CODEC 2.1'), implicit);
  assert.equal(nestedPlain.outcome.kind, 'anonymized');
  assert.ok(nestedPlain.bytes!.includes('CODEC 2.1'));
  const nested = await anonymizeOne(hologic('SAINT EXAMPLE HOSPITAL'), implicit);
  assert.equal(nested.outcome.kind === 'quarantined' && nested.outcome.reason, 'phi-verify: InstitutionName');
});

test('Retain Safe Private: a site rule\'s date is shifted like any date, removed without a longitudinal option, kept only with Full Dates', async () => {
  for (const [vr, value] of [['DA', '19991231'], ['DT', '19991231101010']]) {
    const file = [text(0x00290010, 'LO', 'SITE REVIEWED'), text(0x00291010, vr, value)];
    const modified = await anonymizeOne(file, { ...SAFE, privateKeep: ACME_AT_10(vr) });
    assert.equal(modified.outcome.kind, 'anonymized');
    assert.ok(modified.bytes!.includes('SITE REVIEWED'), 'the rule applied');
    assert.ok(!modified.bytes!.includes('19991231'), `the ${vr} value left unshifted`);
    assert.ok(!modified.bytes!.includes('20200315'), 'the study date left unshifted');
    const off = await anonymizeOne(file, { profile: { retainSafePrivate: true, retainLongitudinal: 'off' }, privateKeep: ACME_AT_10(vr) });
    assert.equal(off.outcome.kind, 'anonymized');
    assert.ok(!off.bytes!.includes('19991231') && !off.bytes!.includes('SITE REVIEWED'), 'removed, its creator with it');
    const full = await anonymizeOne(file, { profile: { retainSafePrivate: true, retainLongitudinal: 'full' }, privateKeep: ACME_AT_10(vr) });
    assert.ok(full.bytes!.includes(value), 'Full Dates keeps it');
  }
  // The original private date is a token: a copy of it in a kept text value is caught.
  const copied = await anonymizeOne([text(0x00290010, 'LO', 'SITE REVIEWED'), text(0x00291010, 'DA', '19991231'), ...pulseSequenceName('EPI 19991231')],
    { ...SAFE, privateKeep: ACME_AT_10('DA') });
  assert.equal(copied.outcome.kind === 'quarantined' && copied.outcome.reason, 'phi-verify: private (0029,1010)');
});

test('Retain Safe Private: no rule keeps a person name (PN), even one that bypassed the config check', async () => {
  const { outcome, bytes } = await anonymizeOne([text(0x00290010, 'LO', 'SITE REVIEWED'), text(0x00291010, 'PN', 'DOE^JANE')], { ...SAFE, privateKeep: ACME_AT_10('PN') });
  assert.equal(outcome.kind, 'anonymized');
  assert.ok(!bytes!.includes('DOE^JANE') && !bytes!.includes('SITE REVIEWED'));
});

test('Retain Safe Private: a Private Creator sent with a VR other than LO reserves nothing', async () => {
  const { outcome, bytes } = await anonymizeOne([raw(0x00190010, 'UT', 'GEMS_ACQU_01'), raw(0x0019109e, 'LO', 'EPI2 DIFF')], SAFE);
  assert.equal(outcome.kind, 'anonymized');
  assert.ok(!bytes!.includes('EPI2 DIFF') && !bytes!.includes('GEMS_ACQU_01'));
});

test('Retain Safe Private: a block reserved again after its elements (another creator at the same tag) makes the file unreadable, nothing is written', async () => {
  const header = Buffer.from([0x19, 0x00, 0x10, 0x00, 0x4c, 0x4f, 12, 0]); // (0019,0010) LO, 12 bytes, Explicit VR LE
  const again = Buffer.concat([header, Buffer.from('OTHER VENDOR', 'latin1')]);
  const { outcome } = await anonymizeOne(pulseSequenceName('EPI2 DIFF'), { ...SAFE, append: again });
  assert.equal(outcome.kind === 'quarantined' && outcome.reason, 'unreadable or not DICOM');
  // Out of order but reserved once: read in order, the listed attribute kept with its creator.
  const late = Buffer.concat([header, Buffer.from('GEMS_ACQU_01', 'latin1')]);
  const ok = await anonymizeOne([raw(0x0019109e, 'LO', 'EPI2 DIFF')], { ...SAFE, append: late });
  assert.equal(ok.outcome.kind, 'anonymized');
  assert.ok(ok.bytes!.includes('GEMS_ACQU_01') && ok.bytes!.includes('EPI2 DIFF'));
});

test('Retain Safe Private: a site rule\'s age (AS) or AE title stays only under Retain Patient Characteristics or Retain Device Identity', async () => {
  for (const [vr, value, option] of [['AS', '094Y', 'retainPatientCharacteristics'], ['AE', 'CT_ROOM_3', 'retainDeviceIdentity']]) {
    const file = [text(0x00290010, 'LO', 'SITE REVIEWED'), text(0x00291010, vr, value)];
    const without = await anonymizeOne(file, { ...SAFE, privateKeep: ACME_AT_10(vr) });
    assert.equal(without.outcome.kind, 'anonymized');
    assert.ok(!without.bytes!.includes(value) && !without.bytes!.includes('SITE REVIEWED'), `${vr} removed without ${option}`);
    const withOption = await anonymizeOne(file, { profile: { retainSafePrivate: true, [option]: true }, privateKeep: ACME_AT_10(vr) });
    assert.equal(withOption.outcome.kind, 'anonymized');
    assert.ok(withOption.bytes!.includes(value), `${vr} kept with ${option}`);
  }
});

test('Retain Safe Private, attacks that found nothing to fix: non-block private elements, orphans, text in numbers, PHI in a kept sequence sent as UN; Big Endian and Deflated keep the listed value byte for byte', async () => {
  const bValue = raw(0x00431039, 'IS', '1000\\8\\0\\0');
  const hostile: Element[] = [
    raw(0x00090001, 'LO', 'ZHIVAGO ONE'), raw(0x00090100, 'LO', 'ZHIVAGO TWO'), // (gggg,0001-000F) and (gggg,0100-0FFF) are no blocks
    raw(0x0021109e, 'LO', 'ZHIVAGO THREE'), // no creator reserved its block
    text(0x00430010, 'LO', 'GEMS_PARM_01'), bValue, raw(0x0043106f, 'DS', 'ZHIVAGO'), // letters in a listed DS
    text(0x7e010010, 'LO', 'HOLOGIC, Inc.'),
    { tag: 0x7e011010, vr: 'UN', undefinedLength: true, implicitItems: true, items: [{ undefinedLength: true, elements: [text(0x00100010, 'PN', 'SMITHSON^JOHANNA'), text(0x00100020, 'LO', 'MRN0042')] }] },
  ];
  for (const tsUid of [EXPLICIT_BE, DEFLATED_LE, IMPLICIT_LE]) {
    const { outcome, bytes } = await anonymizeOne(hostile, { ...SAFE, tsUid });
    assert.equal(outcome.kind, 'anonymized', tsUid);
    const out = parsePart10(Buffer.from(bytes!, 'latin1')); // Deflated: searched once inflated
    const text = (els: readonly Element[]): string => els.map((e) => (e.value?.toString('latin1') ?? '') + (e.items ?? []).map((i) => text(i.elements)).join('')).join('|');
    for (const phi of ['ZHIVAGO', 'SMITHSON', 'MRN0042']) assert.ok(!text(out.dataset).includes(phi), `${phi} in the ${tsUid} output`);
    assert.ok(findElement(out.dataset, 0x00431039)!.value!.equals(bValue.value!), `the b-value byte for byte in ${tsUid}`);
    assert.ok(findElement(out.dataset, 0x7e011010), `the kept sequence in ${tsUid}`);
  }
});
