/**
 * Storage Commitment Push Model as the requesting SCU: N-ACTION-RQ per batch of stored instances,
 * then wait for the archive's N-EVENT-REPORT, which may come on our association or (Orthanc, most
 * archives) on a new association the archive opens to our AE. A listener that accepts only the
 * commitment SOP class, and only from the archive's AE, runs while we wait.
 */
import { tmpdir } from 'node:os';
import type { EventReportRequest } from '../dicom/dimse-command';
import type { ScuAssociation } from '../dicom/dimse-association';
import { classifyStatus, describeStatus, isDone, STATUS_PROCESSING_FAILURE, STATUS_SUCCESS } from '../dicom/dimse-status';
import {
  STORAGE_COMMITMENT_SOP_CLASS, describeFailureReason, newTransactionUid, parseCommitmentReport, type CommitmentReport, type SopReference,
} from '../dicom/storage-commitment';
import { EXPLICIT_LE, IMPLICIT_LE } from '../dicom/transfer-syntax';
import { errorMessage } from '../errors';
import type { TlsSettings } from '../tls/settings';
import { StorageScp } from '../scp/server';
import type { Logger } from '../util/logger';
import type { NetworkOptions } from './options';
import { formatPeer, type Peer } from './peer';
import { openAssociation } from './session';

/** Where the archive sends its reports: our AE title and the port of our SCP, as the archive knows them. */
export interface CommitmentEndpoint {
  readonly aeTitle: string;
  readonly port: number;
  readonly host?: string;
  /** The reports come over DICOM TLS (the archive's "UseDicomTls" for our AE); the port is then TLS-only. */
  readonly tls?: TlsSettings;
}

export interface CommitmentRequest {
  readonly peer: Peer;
  readonly callingAet: string;
  readonly network: NetworkOptions;
  readonly endpoint: CommitmentEndpoint;
  readonly logger: Logger;
  /**
   * Give up early when the archive has neither reported nor connected to us by then (auto: it
   * evidently cannot reach us, so waiting the whole commitment timeout would only delay C-FIND).
   */
  readonly connectBackGraceMs?: number;
  /** Each report as it arrives: how many instances it answered for (committed or failed). */
  readonly onReport?: (instances: number) => void;
}

export type CommitmentOutcome =
  /** Nothing was committed or refused: the archive offers no commitment, or refused our request. */
  | { readonly kind: 'unavailable'; readonly why: string }
  | {
    readonly kind: 'reported';
    readonly committed: ReadonlySet<string>;
    /** SOP Instance UID → the archive's failure reason. */
    readonly failed: ReadonlyMap<string, string>;
    /** Requested but not reported on (timeout, or the request failed midway), with why. */
    readonly unreported: ReadonlyMap<string, string>;
  };

/** Instances per N-ACTION-RQ (one transaction each): keeps each request and report a modest size. */
export const COMMITMENT_BATCH = 500;

export const COMMITMENT_CONTEXTS = [{ abstractSyntax: STORAGE_COMMITMENT_SOP_CLASS, transferSyntaxes: [EXPLICIT_LE, IMPLICIT_LE] }];

/** Transactions we wait for, by Transaction UID; fed by the listener and by our own association. */
class CommitmentInbox {
  private readonly waiting = new Map<string, (report: CommitmentReport) => void>();
  reports = 0;

  constructor(private readonly logger: Logger) {}

  expect(transactionUid: string): Promise<CommitmentReport> {
    return new Promise((resolve) => this.waiting.set(transactionUid, resolve));
  }

  /** Answers an N-EVENT-REPORT-RQ: Success once we have read it, whether or not we still wait for it. */
  deliver = (request: EventReportRequest): number => {
    if (request.sopClassUid !== STORAGE_COMMITMENT_SOP_CLASS || !request.dataset) return STATUS_PROCESSING_FAILURE;
    let report: CommitmentReport;
    try {
      report = parseCommitmentReport(request.dataset, request.transferSyntaxUid);
    } catch (err) {
      this.logger.warn({ from: request.callingAet, error: errorMessage(err) }, 'unreadable storage commitment report');
      return STATUS_PROCESSING_FAILURE;
    }
    this.reports++;
    const waiter = this.waiting.get(report.transactionUid);
    if (!waiter) {
      // A report for a transaction we stopped waiting for: taking it spares the archive endless retries.
      this.logger.warn({ from: request.callingAet }, 'storage commitment report for a transaction no longer awaited (ignored)');
      return STATUS_SUCCESS;
    }
    this.waiting.delete(report.transactionUid);
    waiter(report);
    return STATUS_SUCCESS;
  };
}

/** Requests commitment of `refs` and waits for the reports; never throws for the archive's doing. */
export async function requestCommitment(request: CommitmentRequest, refs: readonly SopReference[]): Promise<CommitmentOutcome> {
  const { peer, endpoint, logger } = request;
  const inbox = new CommitmentInbox(logger);
  const listener = new StorageScp({
    aeTitle: endpoint.aeTitle,
    port: endpoint.port,
    host: endpoint.host,
    outDir: tmpdir(), // never written: storage is not accepted
    acceptStorage: false,
    allowedCallingAets: [peer.aeTitle],
    onCommitmentReport: inbox.deliver,
    tls: endpoint.tls,
    logger,
  });
  try {
    await listener.start();
  } catch (err) {
    return { kind: 'unavailable', why: `cannot receive storage commitment reports: ${errorMessage(err)}` };
  }
  let assoc: ScuAssociation | undefined;
  try {
    try {
      assoc = await openAssociation(peer, request.callingAet, COMMITMENT_CONTEXTS, request.network);
    } catch (err) {
      return { kind: 'unavailable', why: `storage commitment association refused: ${errorMessage(err)}` };
    }
    if (!assoc.findContext(STORAGE_COMMITMENT_SOP_CLASS)) return { kind: 'unavailable', why: `${formatPeer(peer)} offers no storage commitment` };
    assoc.onEventReport = inbox.deliver;

    const pending = new Map<string, { refs: readonly SopReference[]; report: Promise<CommitmentReport> }>();
    const unreported = new Map<string, string>();
    for (let at = 0; at < refs.length; at += COMMITMENT_BATCH) {
      const batch = refs.slice(at, at + COMMITMENT_BATCH);
      const transactionUid = newTransactionUid();
      const report = inbox.expect(transactionUid);
      void report.then((r) => request.onReport?.(r.committed.length + r.failed.length));
      let refusal: string | undefined;
      try {
        const reply = await assoc.requestStorageCommitment(transactionUid, batch);
        const status = classifyStatus(reply.status);
        if (!isDone(status)) refusal = `N-ACTION ${describeStatus(status, reply.errorComment)}`;
      } catch (err) {
        refusal = errorMessage(err);
      }
      if (refusal !== undefined) {
        // Refused before anything was accepted: the archive does not commit for us at all.
        if (pending.size === 0) return { kind: 'unavailable', why: `storage commitment refused: ${refusal}` };
        for (const r of refs.slice(at)) unreported.set(r.sopInstanceUid, `storage commitment request failed: ${refusal}`);
        break;
      }
      pending.set(transactionUid, { refs: batch, report });
    }

    const reports = await waitForReports(request, listener, inbox, [...pending.values()].map((p) => p.report));
    const committed = new Set<string>();
    const failed = new Map<string, string>();
    for (const report of reports.received) {
      for (const r of report.committed) committed.add(r.sopInstanceUid);
      for (const f of report.failed) failed.set(f.sopInstanceUid, describeFailureReason(f.reason));
    }
    for (const { refs: batch } of pending.values()) {
      for (const r of batch) {
        if (committed.has(r.sopInstanceUid) || failed.has(r.sopInstanceUid)) continue;
        unreported.set(r.sopInstanceUid, reports.why ?? 'left out of the storage commitment report');
      }
    }
    return { kind: 'reported', committed, failed, unreported };
  } finally {
    if (assoc?.isOpen) await assoc.release().catch(() => assoc?.abort());
    await listener.stop();
  }
}

/** Every report, or those that came before the timeout (or the connect-back grace) ran out, with why. */
async function waitForReports(
  request: CommitmentRequest,
  listener: StorageScp,
  inbox: CommitmentInbox,
  expected: readonly Promise<CommitmentReport>[],
): Promise<{ received: CommitmentReport[]; why?: string }> {
  const received: CommitmentReport[] = [];
  const all = Promise.all(expected.map((p) => p.then((r) => void received.push(r))));
  const timeoutMs = request.network.commitmentTimeoutMs;
  const grace = request.connectBackGraceMs;
  const endpoint = `${request.endpoint.aeTitle} port ${request.endpoint.port}`;
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<string>((resolve) => {
    const started = Date.now();
    const check = (): void => {
      const waited = Date.now() - started;
      if (waited >= timeoutMs) {
        const rejected = listener.counts.rejectedAssociations;
        // Our listener takes reports from the archive's AE title only: say so when someone else tried.
        const hint = rejected ? ` (${rejected} association(s) to ${endpoint} rejected: not from AE title "${request.peer.aeTitle}", see the log)` : '';
        resolve(`no storage commitment report within ${Math.round(timeoutMs / 1000)} s${hint}`);
        return;
      }
      if (grace !== undefined && waited >= grace && listener.counts.connections === 0 && inbox.reports === 0) {
        resolve(`the archive sent no storage commitment report and did not connect to ${endpoint} within ${Math.round(grace / 1000)} s (does it know our AE title, host and port?)`);
        return;
      }
      timer = setTimeout(check, Math.min(1000, timeoutMs - waited, grace !== undefined && waited < grace ? grace - waited : 1000));
    };
    check();
  });
  try {
    const why = await Promise.race([all.then(() => undefined), expired]);
    return { received, why };
  } finally {
    if (timer) clearTimeout(timer);
  }
}
