/**
 * Storage commitment, pure: the N-ACTION dataset we send and the N-EVENT-REPORT we read, in both
 * uncompressed syntaxes; the command fields of N-ACTION / N-EVENT-REPORT; the SCP policy that takes
 * commitment reports without taking storage.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { findElement } from '../../src/dicom/dataset';
import { COMMAND, decodeCommand, encodeCommand, responseTo } from '../../src/dicom/dimse-command';
import { parseDataset } from '../../src/dicom/parse';
import { encodeDataset } from '../../src/dicom/serialize';
import {
  STORAGE_COMMITMENT_SOP_CLASS, STORAGE_COMMITMENT_SOP_INSTANCE, describeFailureReason, encodeCommitmentRequest, newTransactionUid, parseCommitmentReport,
} from '../../src/dicom/storage-commitment';
import { EXPLICIT_LE, IMPLICIT_LE, transferSyntax } from '../../src/dicom/transfer-syntax';
import { textOf } from '../../src/dicom/values';
import { decideAssociation } from '../../src/scp/policy';
import { seq, text, us } from '../helpers/dicom-builder';

const CT = '1.2.840.10008.5.1.4.1.1.2';

describe('storage commitment datasets', () => {
  for (const ts of [EXPLICIT_LE, IMPLICIT_LE]) {
    test(`N-ACTION request in ${ts}: Transaction UID and every reference`, () => {
      const tx = newTransactionUid();
      const refs = [{ sopClassUid: CT, sopInstanceUid: '1.2.3.4' }, { sopClassUid: CT, sopInstanceUid: '1.2.3.45' }];
      const elements = parseDataset(encodeCommitmentRequest(tx, refs, ts), transferSyntax(ts)!);
      assert.equal(textOf(elements, 0x00081195), tx);
      const items = findElement(elements, 0x00081199)!.items!;
      assert.deepEqual(items.map((i) => [textOf(i.elements, 0x00081150), textOf(i.elements, 0x00081155)]), [[CT, '1.2.3.4'], [CT, '1.2.3.45']]);
    });

    test(`N-EVENT-REPORT in ${ts}: committed and failed instances with their reasons`, () => {
      const report = encodeDataset([
        text(0x00081195, 'UI', '2.25.7'),
        seq(0x00081198, [[text(0x00081150, 'UI', CT), text(0x00081155, 'UI', '1.2.3.9'), us(0x00081197, 0x0112)]]),
        seq(0x00081199, [[text(0x00081150, 'UI', CT), text(0x00081155, 'UI', '1.2.3.4')]]),
      ], transferSyntax(ts)!);
      const parsed = parseCommitmentReport(report, ts);
      assert.equal(parsed.transactionUid, '2.25.7');
      assert.deepEqual(parsed.committed, [{ sopClassUid: CT, sopInstanceUid: '1.2.3.4' }]);
      assert.deepEqual(parsed.failed, [{ sopClassUid: CT, sopInstanceUid: '1.2.3.9', reason: 0x0112 }]);
      assert.equal(describeFailureReason(0x0112), '0x0112 no such object instance');
    });
  }

  test('a report without a Transaction UID is refused', () => {
    assert.throws(() => parseCommitmentReport(encodeDataset([seq(0x00081199, [])], transferSyntax(EXPLICIT_LE)!), EXPLICIT_LE), /Transaction UID/);
  });

  test('Transaction UIDs are fresh, valid UIDs', () => {
    const a = newTransactionUid();
    assert.match(a, /^2\.25\.[1-9][0-9]*$/);
    assert.ok(a.length <= 64);
    assert.notEqual(a, newTransactionUid());
  });
});

describe('N-ACTION / N-EVENT-REPORT command sets', () => {
  test('N-ACTION-RQ carries the requested SOP class/instance and the action type', () => {
    const bytes = encodeCommand({ commandField: COMMAND.N_ACTION_RQ, messageId: 3, requestedSopClassUid: STORAGE_COMMITMENT_SOP_CLASS, requestedSopInstanceUid: STORAGE_COMMITMENT_SOP_INSTANCE, actionTypeId: 1, hasDataset: true });
    assert.deepEqual(decodeCommand(bytes), { commandField: COMMAND.N_ACTION_RQ, messageId: 3, requestedSopClassUid: STORAGE_COMMITMENT_SOP_CLASS, requestedSopInstanceUid: STORAGE_COMMITMENT_SOP_INSTANCE, actionTypeId: 1, hasDataset: true });
  });
  test('the N-EVENT-REPORT-RSP answers the event type, class and instance of the request', () => {
    const rq = { commandField: COMMAND.N_EVENT_REPORT_RQ, messageId: 9, affectedSopClassUid: STORAGE_COMMITMENT_SOP_CLASS, affectedSopInstanceUid: STORAGE_COMMITMENT_SOP_INSTANCE, eventTypeId: 2, hasDataset: true };
    const rsp = decodeCommand(encodeCommand(responseTo(rq, 0)));
    assert.deepEqual(rsp, { commandField: COMMAND.N_EVENT_REPORT_RSP, messageIdBeingRespondedTo: 9, affectedSopClassUid: STORAGE_COMMITMENT_SOP_CLASS, affectedSopInstanceUid: STORAGE_COMMITMENT_SOP_INSTANCE, eventTypeId: 2, status: 0, hasDataset: false });
  });
});

describe('SCP policy for commitment reports', () => {
  const info = {
    callingAet: 'ARCHIVE', calledAet: 'PIPE', remoteAddress: '10.0.0.1',
    contexts: [{ id: 1, abstractSyntax: STORAGE_COMMITMENT_SOP_CLASS, transferSyntaxes: [EXPLICIT_LE] }, { id: 3, abstractSyntax: CT, transferSyntaxes: [EXPLICIT_LE] }],
  };
  const base = { aeTitle: 'PIPE', allowedCallingAets: ['ARCHIVE'], allowedAddresses: [], maxAssociations: 2 };
  test('a report listener takes commitment and refuses storage', () => {
    const d = decideAssociation(info, { ...base, acceptStorage: false, acceptCommitment: true }, 1);
    assert.ok(d.accept && d.transferSyntaxes.get(1) === EXPLICIT_LE && d.unsupportedAbstract.has(3));
  });
  test('the storage SCP of a pull refuses commitment', () => {
    const d = decideAssociation(info, base, 1);
    assert.ok(d.accept && d.unsupportedAbstract.has(1) && d.transferSyntaxes.get(3) === EXPLICIT_LE);
  });
});
