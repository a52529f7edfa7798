import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FileOutcome } from '../../src/anon/anonymize-file';
import { SopClaims } from '../../src/anon/sop-claims';
import { tempDir } from '../helpers/anon-env';

const anonymized = (input: string): FileOutcome => ({
  kind: 'anonymized', input, output: `${input}.out`, studyUid: '2.25.1', seriesUid: '2.25.2', sopInstanceUid: '2.25.3', patientId: 'P', bytes: 10, patientNameDiffers: false, privateKept: {},
});

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

test('the first file of a conflicting UID is withdrawn, whether its outcome came before or after the conflict', () => {
  const { dir, cleanup } = tempDir();
  try {
    const [a1, a2, b1, b2, c1] = ['a1', 'a2', 'b1', 'b2', 'c1'].map((n) => join(dir, n));
    for (const [f, text] of [[a1, 'one'], [a2, 'two'], [b1, 'three'], [b2, 'four'], [c1, 'five']]) writeFileSync(f, text);
    const claims = new SopClaims();
    // a: the first is anonymized before the second copy arrives.
    claims.claim({ sopInstanceUid: '1.1', input: a1 });
    claims.observe(anonymized(a1));
    assert.deepEqual(claims.takeWithdrawals(), []);
    assert.equal(claims.claim({ sopInstanceUid: '1.1', input: a2 }), 'conflict');
    assert.deepEqual(claims.takeWithdrawals().map((o) => o.input), [a1]);
    // b: the conflict is found while the first is still being anonymized.
    claims.claim({ sopInstanceUid: '1.2', input: b1 });
    assert.equal(claims.claim({ sopInstanceUid: '1.2', input: b2 }), 'conflict');
    assert.deepEqual(claims.takeWithdrawals(), []);
    claims.observe(anonymized(b1));
    assert.deepEqual(claims.takeWithdrawals().map((o) => o.input), [b1]);
    // c: no conflict, nothing withdrawn; a third copy of a withdraws nothing more.
    claims.claim({ sopInstanceUid: '1.3', input: c1 });
    claims.observe(anonymized(c1));
    writeFileSync(join(dir, 'a3'), 'six');
    assert.equal(claims.claim({ sopInstanceUid: '1.1', input: join(dir, 'a3') }), 'conflict');
    assert.deepEqual(claims.takeWithdrawals(), []);
  } finally {
    cleanup();
  }
});
