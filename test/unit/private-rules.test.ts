import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deidentify } from '../../src/anon/deidentify';
import { collectPhiTokens, findPhi } from '../../src/anon/verify';
import { creatorsOf, fitsVm, keptPrivateRow, normalizeCreator, PrivateRules } from '../../src/anon/rules/private-rules';
import { SAFE_PRIVATE_ROWS, SAFE_PRIVATE_ROWS_WITHOUT_VR } from '../../src/anon/rules/safe-private-table';
import { parseConfig } from '../../src/config/load';
import { settingsFromConfig } from '../../src/anon/settings-from-config';
import { PipelineError } from '../../src/errors';
import { findElement, type Element } from '../../src/dicom/dataset';
import { decodeText } from '../../src/dicom/values';
import { anonContext } from '../helpers/anon-env';
import { part10, phiDataset, seq, text } from '../helpers/dicom-builder';

function binary(tag: number, vr: string, value: Buffer): Element {
  return { tag, vr, value };
}

function floats(...values: number[]): Buffer {
  const b = Buffer.alloc(values.length * 4);
  values.forEach((v, i) => b.writeFloatLE(v, i * 4));
  return b;
}

test('Table E.3.10-1 is generated as data: 125 rows applied, 5 listed without a VR and never applied', () => {
  assert.equal(SAFE_PRIVATE_ROWS.length + SAFE_PRIVATE_ROWS_WITHOUT_VR.length, 130);
  assert.equal(SAFE_PRIVATE_ROWS_WITHOUT_VR.length, 5);
  const find = (creator: string, group: number, offset: number) => SAFE_PRIVATE_ROWS.find((r) => r.creator === creator && r.group === group && r.offset === offset);
  assert.deepEqual(find('GEMS_PARM_01', 0x0043, 0x39), { creator: 'GEMS_PARM_01', group: 0x0043, offset: 0x39, vr: 'IS', vm: '4', meaning: '1st value is B Value' });
  assert.equal(find('Philips Imaging DD 001', 0x2001, 0x03)?.vr, 'FL');
  assert.equal(find('SIEMENS MR HEADER', 0x0019, 0x0e)?.vm, '3');
  assert.equal(find('Philips PET Private Group', 0x7053, 0x00)?.vr, 'DS');
});

test('creators compare with trailing spaces trimmed; case and inner spaces count', () => {
  const rules = new PrivateRules();
  assert.equal(normalizeCreator('SIEMENS MR HEADER   '), 'SIEMENS MR HEADER');
  assert.ok(rules.match('SIEMENS MR HEADER ', 0x0019100c));
  assert.equal(rules.match('Siemens MR Header', 0x0019100c), undefined);
  assert.equal(rules.match('SIEMENS  MR HEADER', 0x0019100c), undefined);
  assert.equal(rules.match(' SIEMENS MR HEADER', 0x0019100c), undefined);
  assert.equal(rules.match('SIEMENS MR HEADER', 0x0021100c), undefined, 'the group is part of the row');
  assert.ok(rules.match('GEMS_PARM_01', 0x00431139), 'any block: the offset is what counts');
});

test('a value must fit the row\'s VM', () => {
  assert.ok(fitsVm('IS', '4', Buffer.from('1000\\8\\0\\0 ')));
  assert.ok(!fitsVm('IS', '4', Buffer.from('1000')));
  assert.ok(fitsVm('DS', '3-4', Buffer.from('0\\1\\2 ')));
  assert.ok(!fitsVm('DS', '3-4', Buffer.from('0\\1\\2\\3\\4 ')));
  assert.ok(fitsVm('FD', '3', Buffer.alloc(24)));
  assert.ok(!fitsVm('FD', '3', Buffer.alloc(16)));
  assert.ok(!fitsVm('FL', '1', Buffer.alloc(6)), 'not a whole number of values');
  assert.ok(fitsVm('FD', '1-n', Buffer.alloc(80)));
  assert.ok(fitsVm('IS', '4', Buffer.alloc(0)), 'an empty value always fits');
});

test('a listed attribute is kept only with its creator, its VR (or UN read per that VR) and a fitting value', () => {
  const rules = new PrivateRules();
  const items = [text(0x00430010, 'LO', 'GEMS_PARM_01')];
  const creators = creatorsOf(items);
  const kept = (el: Element) => keptPrivateRow(el, creators, rules);
  assert.ok(kept(text(0x00431039, 'IS', '1000\\8\\0\\0')));
  assert.ok(kept(binary(0x00431039, 'UN', Buffer.from('1000\\8\\0\\0 '))), 'UN read as IS');
  assert.equal(kept(binary(0x00431039, 'UN', Buffer.from('SMITH^JOHN'))), undefined, 'UN that is no IS');
  assert.equal(kept(text(0x00431039, 'LO', '1000\\8\\0\\0')), undefined, 'sent with another VR');
  assert.equal(kept(text(0x00431139, 'IS', '1000\\8\\0\\0')), undefined, 'no creator for block 11');
  assert.equal(kept(text(0x00431040, 'IS', '1')), undefined, 'not listed');
  assert.equal(kept(text(0x00430039, 'IS', '1')), undefined, '(0043,0039) is no private data element');
});

test('Philips DWI in memory: b-factor and direction kept with their creator; an unlisted neighbour, a misfit UN and another vendor\'s block removed', () => {
  const ctx = anonContext({ retainSafePrivate: true });
  try {
    const file = part10([
      ...phiDataset(),
      text(0x20010010, 'LO', 'Philips Imaging DD 001'),
      text(0x20010011, 'LO', 'Philips Imaging DD 002'),
      binary(0x20011003, 'FL', floats(1000)),
      text(0x20011004, 'CS', 'I'),
      binary(0x20011005, 'SS', Buffer.from([1, 0])),
      binary(0x20011103, 'FL', floats(5)),
      text(0x20050010, 'LO', 'Philips MR Imaging DD 001'),
      binary(0x2005100e, 'UN', Buffer.alloc(6)),
    ]);
    const out = ctx.identity.transaction(() => deidentify(file, ctx));
    const privateTags = out.dataset.filter((e) => (e.tag >>> 16) & 1).map((e) => e.tag.toString(16));
    assert.deepEqual(privateTags, ['20010010', '20011003', '20011004']);
    assert.deepEqual(out.privateKept, { 'Philips Imaging DD 001 (2001,xx03) FL [table]': 1, 'Philips Imaging DD 001 (2001,xx04) CS [table]': 1 });
  } finally {
    ctx.close();
  }
});

test('a kept private UID is remapped like any UID; a kept private sequence is cleaned item by item; the verifier passes it', () => {
  const ctx = anonContext({ retainSafePrivate: true });
  try {
    const series = '1.2.826.0.1.3680043.2.1125.9.9';
    const file = part10([
      ...phiDataset({ patientName: 'GRUMBLE^HAROLD' }),
      text(0x00990010, 'LO', 'NQHeader'),
      text(0x00991002, 'UI', series),
      text(0x7e010010, 'LO', 'HOLOGIC, Inc.'),
      seq(0x7e011010, [[text(0x00100010, 'PN', 'GRUMBLE^HAROLD'), text(0x7e010010, 'LO', 'HOLOGIC, Inc.'), text(0x7e011001, 'LO', 'codec 2.1')]]),
    ]);
    const out = ctx.identity.transaction(() => deidentify(file, ctx));
    const uid = decodeText(findElement(out.dataset, 0x00991002)!);
    assert.notEqual(uid, series);
    assert.equal(uid, ctx.identity.uid(series));
    const item = findElement(out.dataset, 0x7e011010)!.items![0].elements;
    assert.equal(findElement(item, 0x00100010)?.value?.length, 0, 'a patient name inside the kept sequence is emptied (PS3.15 rules apply in its items)');
    assert.equal(decodeText(findElement(item, 0x7e011001)!), 'codec 2.1', 'a listed private attribute of the item stays');
    const tokens = collectPhiTokens(file.dataset, ctx.rules, ctx.options, ctx.whiteList);
    assert.equal(findPhi(out.dataset, tokens), undefined);
  } finally {
    ctx.close();
  }
});

test('config: profile.retainSafePrivate is off by default; privateKeep is checked, every problem listed at once', () => {
  const base = parseConfig({}, 'test');
  assert.equal(base.profile.retainSafePrivate, false);
  assert.deepEqual(base.privateKeep, []);
  const ok = parseConfig({ profile: { retainSafePrivate: true }, privateKeep: [{ creator: 'ACME LAB', element: '(0031,xx10)', vr: 'DS' }] }, 'test');
  assert.equal(ok.privateKeep[0].vr, 'DS');
  assert.throws(() => parseConfig({
    privateKeep: [
      { creator: 'ACME', element: '(0030,xx10)', vr: 'DS' },
      { creator: '', element: '(0031,xx10)', vr: 'UN' },
      { creator: 'ACME', element: '(0031,xx10)', vr: 'DS', colour: 'red' },
      { creator: 'ACME', element: '(0031,xx12)', vr: 'PN' },
    ],
  }, 'test'), (err: unknown) => {
    assert.ok(err instanceof PipelineError);
    const message = (err as Error).message;
    assert.match(message, /privateKeep\.3\.vr: PN is never kept/);
    for (const expected of ['privateKeep.0.element', 'privateKeep.1.creator', 'privateKeep.1.vr', 'privateKeep.2']) {
      assert.ok(message.includes(expected), `${expected} in: ${message}`);
    }
    return true;
  });
  assert.throws(() => parseConfig({
    privateKeep: [{ creator: 'ACME LAB', element: '(0031,xx10)', vr: 'DS' }, { creator: 'ACME LAB ', element: '0031,xx10', vr: 'FD' }],
  }, 'test'), /privateKeep\.1: ACME LAB  0031,xx10 is listed twice/);
});

test('the pipeline\'s anonymize step and the anonymize command get the same slice: profile.retainSafePrivate and privateKeep', () => {
  const config = parseConfig({ profile: { retainSafePrivate: true }, privateKeep: [{ creator: 'ACME LAB', element: '(0031,xx10)', vr: 'DS' }] }, 'test');
  const settings = settingsFromConfig(config, { inputDir: 'in', outputDir: 'out', quarantineDir: 'q' });
  assert.equal(settings.profile.retainSafePrivate, true);
  assert.deepEqual(settings.privateKeep, [{ creator: 'ACME LAB', element: '(0031,xx10)', vr: 'DS' }]);
});
