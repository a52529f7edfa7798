import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PhiIgnore, PhiTokens } from '../../src/anon/phi-tokens';

test('person names count by component: 3+ letters, or any ideographic part', () => {
  const t = new PhiTokens(new PhiIgnore(new Set()));
  t.addText('Wang^XiaoDong=王^小东', 0x00100010, 'PN');
  t.addText('Li^Bo', 0x00101001, 'PN');
  assert.deepEqual(t.texts().sort(), ['WANG', 'XIAODONG', '小东', '王'].sort());
});

test('other values count whole (4+), not all-zero, not ignored ones', () => {
  const t = new PhiTokens(new PhiIgnore(new Set(['CT CHEST'])));
  t.addText('CT CHEST', 0x00081030, 'LO');
  t.addText('0000', 0x00181000, 'LO');
  t.addText('AB', 0x00081010, 'SH');
  t.addText('North Wing\\Room 12', 0x00081040, 'LO');
  assert.deepEqual(t.texts().sort(), ['NORTH WING', 'ROOM 12']);
});

test('matches whole words only; weak tokens are not searched in coded values', () => {
  const t = new PhiTokens(new PhiIgnore(new Set()));
  t.addText('LEE^ANN', 0x00100010, 'PN');
  t.addText('HEAD', 0x00081030, 'LO');
  t.addText('SAINT EXAMPLE HOSPITAL', 0x00080080, 'LO', true);
  assert.equal(t.findIn('SLEEP STUDY', false), undefined);
  assert.equal(t.findIn('DR LEE CLINIC', false), 0x00100010);
  assert.equal(t.findIn('HEAD AND NECK', true), undefined);
  assert.equal(t.findIn('HEAD AND NECK', false), 0x00081030);
  assert.equal(t.findIn('SAINT EXAMPLE', false), undefined, 'a multi-word token must appear whole');
  assert.equal(t.findIn('AT SAINT EXAMPLE HOSPITAL TODAY', true), 0x00080080);
});
