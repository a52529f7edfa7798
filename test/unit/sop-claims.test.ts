import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SopClaims } from '../../src/anon/pool';
import { tempDir } from '../helpers/anon-env';

test('a repeated SOP Instance UID is "same" for identical bytes and "conflict" otherwise', () => {
  const { dir, cleanup } = tempDir();
  try {
    const [a, b, c] = ['a', 'b', 'c'].map((n) => join(dir, n));
    writeFileSync(a, 'same bytes');
    writeFileSync(b, 'same bytes');
    writeFileSync(c, 'other bytes');
    const claims = new SopClaims();
    assert.equal(claims.claim({ sopInstanceUid: '1.2.3', input: a }), 'first');
    assert.equal(claims.claim({ sopInstanceUid: '1.2.3', input: b }), 'same');
    assert.equal(claims.claim({ sopInstanceUid: '1.2.3', input: c }), 'conflict');
    assert.equal(claims.claim({ sopInstanceUid: '1.2.4', input: c }), 'first');
  } finally {
    cleanup();
  }
});
