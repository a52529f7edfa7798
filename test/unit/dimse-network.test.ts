import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { classifyStatus, describeStatus, isDone } from '../../src/dicom/dimse-status';
import { describeReject, rejectHint } from '../../src/dicom/dimse-pdu-text';
import { decideAssociation, isStorageSopClass } from '../../src/scp/policy';
import { isSafeUid } from '../../src/scp/store';
import { parsePeer } from '../../src/scu/peer';
import { parseQueryKeys } from '../../src/scu/query';
import { networkOptions } from '../../src/scu/options';

describe('DIMSE status classification', () => {
  test('success, pending, warning, failure and transient failures', () => {
    assert.equal(classifyStatus(0).kind, 'success');
    assert.equal(classifyStatus(0xff00).kind, 'pending');
    assert.equal(classifyStatus(0xff01).kind, 'pending');
    assert.equal(classifyStatus(0xb000).kind, 'warning');
    assert.equal(classifyStatus(0xb123).kind, 'warning');
    assert.ok(isDone(classifyStatus(0xb007)));
    assert.equal(classifyStatus(0xa700).transient, true);
    assert.equal(classifyStatus(0xa7ff).transient, true);
    assert.equal(classifyStatus(0xa801).meaning, 'move destination unknown');
    assert.equal(classifyStatus(0xa905).kind, 'failure');
    assert.equal(classifyStatus(0xc123).kind, 'failure');
    assert.equal(classifyStatus(0x1234).kind, 'failure');
    assert.ok(!isDone(classifyStatus(0xc000)));
    assert.equal(describeStatus(classifyStatus(0xa700), 'disk full'), '0xA700 refused: out of resources (disk full)');
  });
});

describe('association reject wording', () => {
  test('names the reason and what to change', () => {
    assert.equal(describeReject({ result: 1, source: 1, reason: 3 }), 'calling AE title not recognized (permanent)');
    assert.match(rejectHint({ result: 1, source: 1, reason: 3 }, 'ME', 'THEM'), /add "ME"/);
    assert.equal(describeReject({ result: 2, source: 3, reason: 2 }), 'local limit exceeded (transient)');
  });
});

describe('SCP association policy', () => {
  const policy = { aeTitle: 'PIPE', allowedCallingAets: ['STAGING'], allowedAddresses: [], maxAssociations: 2 };
  const ctx = (id: number, abstractSyntax: string, transferSyntaxes: string[]) => ({ id, abstractSyntax, transferSyntaxes });
  const info = (over: object = {}) => ({
    callingAet: 'STAGING', calledAet: 'PIPE', remoteAddress: '10.0.0.1',
    contexts: [
      ctx(1, '1.2.840.10008.5.1.4.1.1.2', ['1.2.840.10008.1.2.4.90', '1.2.840.10008.1.2.1']),
      ctx(3, '1.2.840.10008.1.1', ['1.2.840.10008.1.2']),
      ctx(5, '1.2.840.10008.5.1.4.1.2.2.1', ['1.2.840.10008.1.2']),
      ctx(7, '1.2.840.10008.5.1.4.1.1.4', ['9.9.9']),
      ctx(9, '1.3.12.2.1107.5.9.1', ['1.2.840.10008.1.2.1']),
    ],
    ...over,
  });
  test('one transfer syntax per context: the first proposed that we support, compressed included', () => {
    const d = decideAssociation(info(), policy, 1);
    assert.ok(d.accept);
    if (!d.accept) return;
    assert.equal(d.transferSyntaxes.get(1), '1.2.840.10008.1.2.4.90');
    assert.equal(d.transferSyntaxes.get(3), '1.2.840.10008.1.2');
    assert.ok(d.unsupportedAbstract.has(5), 'C-FIND is not storage');
    assert.equal(d.transferSyntaxes.has(7), false, 'unknown transfer syntax rejected');
    assert.equal(d.transferSyntaxes.get(9), '1.2.840.10008.1.2.1', 'private storage SOP class accepted');
  });
  test('called AE, calling AE allow list, address allow list, association limit', () => {
    assert.deepEqual(decideAssociation(info({ calledAet: 'OTHER' }), policy, 1), { accept: false, cause: 'called-ae' });
    assert.deepEqual(decideAssociation(info({ callingAet: 'EVIL' }), policy, 1), { accept: false, cause: 'calling-ae' });
    assert.deepEqual(decideAssociation(info(), { ...policy, allowedAddresses: ['10.0.0.2'] }, 1), { accept: false, cause: 'not-allowed' });
    assert.deepEqual(decideAssociation(info(), policy, 3), { accept: false, cause: 'limit' });
  });
  test('storage SOP classes are recognized beyond a fixed list', () => {
    assert.ok(isStorageSopClass('1.2.840.10008.5.1.4.1.1.481.2'));
    assert.ok(isStorageSopClass('1.2.840.10008.5.1.4.38.1'));
    assert.ok(!isStorageSopClass('1.2.840.10008.5.1.4.1.2.2.2'));
    assert.ok(!isStorageSopClass('1.2.840.10008.3.1.2.3.3'));
  });
});

describe('inputs', () => {
  test('UIDs used as path components are digits and dots only', () => {
    assert.ok(isSafeUid('1.2.840.10008.1'));
    for (const bad of ['', '../etc', '1.2/3', '1.2.3 ', 'a.b', '1'.repeat(65)]) assert.ok(!isSafeUid(bad), bad);
  });
  test('peers are AE@host:port', () => {
    assert.deepEqual(parsePeer('STAGING@pacs.example.org:104'), { aeTitle: 'STAGING', host: 'pacs.example.org', port: 104 });
    assert.deepEqual(parsePeer('A@[::1]:11112'), { aeTitle: 'A', host: '::1', port: 11112 });
    for (const bad of ['pacs:104', 'A@pacs', 'A@pacs:0', 'A@pacs:70000', 'WAY_TOO_LONG_AE_TITLE@h:1', 'A\\B@h:1']) {
      assert.throws(() => parsePeer(bad), /invalid/, bad);
    }
  });
  test('query keys are DICOM keywords', () => {
    assert.deepEqual(parseQueryKeys(['PatientID=', 'StudyDate=20240101-']), { PatientID: '', StudyDate: '20240101-' });
    assert.throws(() => parseQueryKeys(['NoSuchKeyword=1']), /unknown query key/);
  });
  test('network options: defaults, overrides, undefined ignored', () => {
    const o = networkOptions({ dimseTimeoutMs: 5000, retries: undefined });
    assert.equal(o.dimseTimeoutMs, 5000);
    assert.equal(o.retries, 3);
    assert.ok(Object.isFrozen(o));
  });
});
