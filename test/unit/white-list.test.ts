import { test } from 'node:test';
import assert from 'node:assert/strict';
import { normalizeDescriptor, WhiteList } from '../../src/anon/white-list';
import { PipelineError } from '../../src/errors';

test('matching ignores case, -_,. and repeated spaces', () => {
  assert.equal(normalizeDescriptor(' ct-chest_w,contrast.  '), 'CT CHEST W CONTRAST');
  const list = WhiteList.fromJson({ '0008,1030': ['CT CHEST W/CONTRAST', 'NECK STUDY'], '0008,103E': ['3D HEAD BONE'] }, 't');
  assert.ok(list.allows(0x00081030, 'ct chest w/contrast'));
  assert.ok(list.allows(0x00081030, 'NECK_STUDY'));
  assert.ok(list.allows(0x0008103e, '3d  head-bone'));
  assert.ok(!list.allows(0x00081030, '3D HEAD BONE'), 'values are per attribute');
  assert.ok(!list.allows(0x00081030, 'CT CHEST W/CONTRAST SMITH'));
});

test('a malformed list names every problem', () => {
  assert.throws(() => WhiteList.fromJson({ 'not-a-tag': ['x'], '0008,1030': 'CT' }, 'wl.json'), (err: unknown) => {
    assert.ok(err instanceof PipelineError && err.code === 'E_CONFIG');
    assert.match(err.message, /not-a-tag/);
    assert.match(err.message, /0008,1030/);
    return true;
  });
});
