import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PhiTokens } from '../../src/anon/phi-tokens';

test('person names count by component: 3+ letters, or any ideographic part', () => {
  const t = new PhiTokens(new Set());
  t.addText('Wang^XiaoDong=王^小东', 'PatientName', 'PN');
  t.addText('Li^Bo', 'OtherPatientNames', 'PN');
  assert.deepEqual([...t.text.keys()].sort(), ['WANG', 'XIAODONG', '小东', '王'].sort());
});

test('other values count whole (4+), not all-zero, not ignored ones', () => {
  const t = new PhiTokens(new Set(['CT CHEST']));
  t.addText('CT CHEST', 'StudyDescription', 'LO');
  t.addText('0000', 'DeviceSerialNumber', 'LO');
  t.addText('AB', 'StationName', 'SH');
  t.addText('North Wing\\Room 12', 'InstitutionalDepartmentName', 'LO');
  assert.deepEqual([...t.text.keys()].sort(), ['NORTH WING', 'ROOM 12']);
});

test('matches whole words only; weak tokens are not searched in coded values', () => {
  const t = new PhiTokens(new Set());
  t.addText('LEE^ANN', 'PatientName', 'PN');
  t.addText('HEAD', 'StudyDescription', 'LO');
  assert.equal(t.findIn('SLEEP STUDY', false), undefined);
  assert.equal(t.findIn('DR LEE CLINIC', false), 'PatientName');
  assert.equal(t.findIn('HEAD AND NECK', true), undefined);
  assert.equal(t.findIn('HEAD AND NECK', false), 'StudyDescription');
});
