import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lookupTag, tagForKeyword } from '../../src/dicom/dictionary';

test('PatientName is PN', () => {
  const e = lookupTag(0x00100010);
  assert.ok(e);
  assert.equal(e.vr, 'PN');
  assert.equal(e.keyword, 'PatientName');
  assert.equal(e.vm, '1');
  assert.equal(e.retired, false);
});

test('AccessionNumber is SH', () => {
  assert.deepEqual({ ...lookupTag(0x00080050) }, { vr: 'SH', vrs: ['SH'], keyword: 'AccessionNumber', vm: '1', retired: false });
});

test('(6002,3000) resolves to OverlayData with VR OB (OB or OW)', () => {
  const e = lookupTag(0x60023000);
  assert.equal(e?.keyword, 'OverlayData');
  assert.equal(e?.vr, 'OB');
  assert.deepEqual(e?.vrs, ['OB', 'OW']);
});

test('odd (private) groups never match repeating-group entries', () => {
  assert.equal(lookupTag(0x60013000), undefined);
  assert.equal(lookupTag(0x00090010), undefined);
  assert.equal(lookupTag(0x00291010), undefined);
});

test('masked entries in elements: (0020,31XX), (0028,04X0)', () => {
  assert.equal(lookupTag(0x00203105)?.keyword, 'SourceImageIDs');
  const rows = lookupTag(0x00280410);
  assert.equal(rows?.keyword, 'RowsForNthOrderCoefficients');
  assert.equal(rows?.retired, true);
});

test('exact wins over masked: PixelData is not VariablePixelData', () => {
  assert.equal(lookupTag(0x7fe00010)?.keyword, 'PixelData');
  assert.equal(lookupTag(0x7f000010)?.keyword, 'VariablePixelData');
});

test('multiple VRs keep the first token', () => {
  assert.equal(lookupTag(0x00280106)?.vr, 'US'); // SmallestImagePixelValue, US or SS
  assert.deepEqual(lookupTag(0x00283006)?.vrs, ['US', 'OW']); // LUTData
});

test('item tags have VR ""', () => {
  const item = lookupTag(0xfffee000);
  assert.equal(item?.keyword, 'Item');
  assert.equal(item?.vr, '');
  assert.deepEqual(item?.vrs, []);
  assert.equal(lookupTag(0xfffee0dd)?.keyword, 'SequenceDelimitationItem');
});

test('tagForKeyword', () => {
  assert.equal(tagForKeyword('StudyInstanceUID'), 0x0020000d);
  assert.equal(tagForKeyword('PatientID'), 0x00100020);
  assert.equal(tagForKeyword('OverlayData'), 0x60003000);
  assert.equal(tagForKeyword('NoSuchKeyword'), undefined);
  assert.equal(tagForKeyword(''), undefined);
});

test('unknown standard tag gives undefined', () => {
  assert.equal(lookupTag(0x00080003), undefined);
});
