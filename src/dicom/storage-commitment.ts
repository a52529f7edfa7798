/**
 * Storage Commitment Push Model (PS3.4 Annex J): the N-ACTION-RQ dataset we send and the
 * N-EVENT-REPORT-RQ dataset the archive answers with. Both are tiny (UIDs only), so they are built
 * and parsed here with our own dataset code, in the presentation context's transfer syntax.
 */
import { randomUUID } from 'node:crypto';
import { findElement, type Element } from './dataset';
import { parseDataset } from './parse';
import { encodeDataset } from './serialize';
import { transferSyntax } from './transfer-syntax';
import { encodeAscii, readUint16, textOf } from './values';

export const STORAGE_COMMITMENT_SOP_CLASS = '1.2.840.10008.1.20.1';
/** The well-known SOP instance every N-ACTION of the Push Model is addressed to. */
export const STORAGE_COMMITMENT_SOP_INSTANCE = '1.2.840.10008.1.20.1.1';
/** Action Type ID 1: "Request Storage Commitment". */
export const ACTION_REQUEST_COMMITMENT = 1;
/** Event Type IDs of the report: 1 every instance committed, 2 some failed. */
export const EVENT_ALL_COMMITTED = 1;
export const EVENT_SOME_FAILED = 2;

const TRANSACTION_UID = 0x00081195;
const REFERENCED_SOP_SEQUENCE = 0x00081199;
const FAILED_SOP_SEQUENCE = 0x00081198;
const REFERENCED_SOP_CLASS_UID = 0x00081150;
const REFERENCED_SOP_INSTANCE_UID = 0x00081155;
const FAILURE_REASON = 0x00081197;

export interface SopReference {
  readonly sopClassUid: string;
  readonly sopInstanceUid: string;
}

export interface CommitmentReport {
  readonly transactionUid: string;
  readonly committed: readonly SopReference[];
  readonly failed: readonly (SopReference & { readonly reason: number })[];
}

/** Failure Reason (0008,1197) values of PS3.4 J.3.3.1.1 (a few more are general DIMSE statuses). */
const FAILURE_REASONS: Record<number, string> = {
  0x0110: 'processing failure',
  0x0112: 'no such object instance',
  0x0213: 'resource limitation',
  0x0122: 'referenced SOP class not supported',
  0x0119: 'class / instance conflict',
  0x0131: 'duplicate transaction UID',
};

export function describeFailureReason(reason: number): string {
  const hex = `0x${reason.toString(16).toUpperCase().padStart(4, '0')}`;
  return `${hex} ${FAILURE_REASONS[reason] ?? 'unknown failure reason'}`;
}

/** A fresh Transaction UID under the UUID-derived root 2.25 (PS3.5 B.2): unique without a registered root. */
export function newTransactionUid(): string {
  return `2.25.${BigInt(`0x${randomUUID().replace(/-/g, '')}`).toString()}`;
}

function uid(tag: number, value: string): Element {
  return { tag, vr: 'UI', value: encodeAscii(value, 'UI') };
}

/** The N-ACTION-RQ dataset: Transaction UID and the Referenced SOP Sequence. */
export function encodeCommitmentRequest(transactionUid: string, refs: readonly SopReference[], tsUid: string): Buffer {
  const ts = transferSyntax(tsUid);
  if (!ts) throw new Error(`internal: unknown transfer syntax ${tsUid}`);
  const items = refs.map((r) => ({ elements: [uid(REFERENCED_SOP_CLASS_UID, r.sopClassUid), uid(REFERENCED_SOP_INSTANCE_UID, r.sopInstanceUid)], undefinedLength: false }));
  const elements: Element[] = [uid(TRANSACTION_UID, transactionUid), { tag: REFERENCED_SOP_SEQUENCE, vr: 'SQ', items, undefinedLength: false }];
  return Buffer.concat(encodeDataset(elements, ts));
}

/** Parses an N-EVENT-REPORT-RQ dataset; throws on bytes that are not one. */
export function parseCommitmentReport(chunks: readonly Buffer[], tsUid: string): CommitmentReport {
  const ts = transferSyntax(tsUid);
  if (!ts) throw new Error(`report in unsupported transfer syntax ${tsUid}`);
  const elements = parseDataset(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks), ts);
  const transactionUid = textOf(elements, TRANSACTION_UID);
  if (!transactionUid) throw new Error('report without a Transaction UID');
  const refs = (tag: number): Element[][] => (findElement(elements, tag)?.items ?? []).map((i) => i.elements);
  const ref = (item: Element[]): SopReference => ({ sopClassUid: textOf(item, REFERENCED_SOP_CLASS_UID), sopInstanceUid: textOf(item, REFERENCED_SOP_INSTANCE_UID) });
  return {
    transactionUid,
    committed: refs(REFERENCED_SOP_SEQUENCE).map(ref),
    failed: refs(FAILED_SOP_SEQUENCE).map((item) => {
      const reasonElement = findElement(item, FAILURE_REASON);
      return { ...ref(item), reason: (reasonElement && readUint16(reasonElement, ts.littleEndian)) ?? 0x0110 };
    }),
  };
}
