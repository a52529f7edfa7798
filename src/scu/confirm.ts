/**
 * After the stores: confirm that the archive holds what it answered Success for, the way the
 * configuration asks (research.confirm / push --confirm). A refused or failing confirmation never
 * fails a push by itself: it leaves instances "unconfirmed", with why; only instances the archive
 * says it does not hold (commitment Failed SOP Sequence after our resends, or absent from its C-FIND)
 * are not delivered.
 */
import { errorMessage } from '../errors';
import type { Logger } from '../util/logger';
import { requestCommitment, type CommitmentEndpoint } from './commitment';
import type { NetworkOptions } from './options';
import type { Peer } from './peer';
import { findStudyInstances } from './query';
import { FIND_CONTEXTS, withAssociation } from './session';

export const CONFIRM_MODES = ['auto', 'commitment', 'find', 'none'] as const;
export type ConfirmMode = (typeof CONFIRM_MODES)[number];
export type ConfirmedBy = 'storage commitment' | 'C-FIND' | 'QIDO-RS';

/** Rounds of re-sending instances the archive reported as failed in its commitment report. */
export const COMMITMENT_RESENDS = 2;
/** With auto: an archive that neither reports nor connects back within this time cannot reach us. */
export const CONNECT_BACK_GRACE_MS = 30_000;

/** An instance the archive answered Success for: what confirmation asks about. */
export interface SentInstance {
  readonly path: string;
  readonly sopClassUid: string;
  readonly sopInstanceUid: string;
  readonly studyInstanceUid?: string;
}

export interface ConfirmRequest {
  readonly peer: Peer;
  readonly callingAet: string;
  readonly network: NetworkOptions;
  readonly logger: Logger;
  readonly mode: ConfirmMode;
  /** Where the archive sends commitment reports; without it, commitment cannot be used. */
  readonly endpoint?: CommitmentEndpoint;
  /** Why commitment did not work for an earlier push to this archive (auto then goes straight to C-FIND). */
  readonly commitmentUnusable?: string;
  /** Sends instances again; resolves to those the archive stored again, and why the others were not. */
  resend(items: readonly SentInstance[]): Promise<{ stored: readonly SentInstance[]; failed: ReadonlyMap<string, string> }>;
  /** Instances answered for so far, of those asked about, and how (a wait for reports can be long). */
  onProgress?(done: number, total: number, how: string): void;
}

export interface Unconfirmed {
  readonly why: string;
  /** Counts as delivered: confirmation was not asked for (none), or auto found no way to confirm. */
  readonly delivered: boolean;
}

export interface ConfirmResult {
  /** path → how it was confirmed. */
  readonly confirmed: Map<string, ConfirmedBy>;
  /** path → why it is not delivered although it was stored once (the archive says it lacks it). */
  readonly failed: Map<string, string>;
  readonly unconfirmed: Map<string, Unconfirmed>;
  /** One line for the operator when auto could not confirm (why no way worked). */
  warning?: string;
  /** auto: why storage commitment did not confirm everything (later pushes need not try it again). */
  commitmentUnusable?: string;
}

export async function confirmDelivery(request: ConfirmRequest, stored: readonly SentInstance[]): Promise<ConfirmResult> {
  const result: ConfirmResult = { confirmed: new Map(), failed: new Map(), unconfirmed: new Map() };
  if (stored.length === 0) return result;
  if (request.mode === 'none') {
    for (const item of stored) result.unconfirmed.set(item.path, { why: 'not asked for (confirm: none)', delivered: true });
    return result;
  }
  let left = stored;
  let commitmentWhy: string | undefined;
  if (request.mode === 'commitment' || request.mode === 'auto') {
    ({ left, why: commitmentWhy } = await byCommitment(request, stored, result));
    if (left.length > 0) result.commitmentUnusable = commitmentWhy;
    if (request.mode === 'commitment') {
      for (const item of left) result.unconfirmed.set(item.path, { why: commitmentWhy ?? 'no storage commitment report', delivered: false });
      return result;
    }
  }
  if (left.length === 0) return result;
  const findWhy = await byFind(request, left, result);
  if (findWhy !== undefined) {
    const auto = request.mode === 'auto';
    const why = auto ? `the archive offers no way to confirm: ${commitmentWhy}; C-FIND: ${findWhy}` : `C-FIND: ${findWhy}`;
    for (const item of left) if (!result.confirmed.has(item.path) && !result.unconfirmed.has(item.path)) result.unconfirmed.set(item.path, { why, delivered: auto });
    if (auto) result.warning = `stored but unconfirmed: ${why}`;
  }
  return result;
}

/** Commitment with bounded resends of reported failures; returns what is left to confirm another way. */
async function byCommitment(request: ConfirmRequest, stored: readonly SentInstance[], result: ConfirmResult): Promise<{ left: SentInstance[]; why?: string }> {
  if (request.mode === 'auto' && request.commitmentUnusable) return { left: [...stored], why: request.commitmentUnusable };
  if (!request.endpoint) return { left: [...stored], why: 'storage commitment not tried: no port of ours for its reports (push --port)' };
  const left: SentInstance[] = [];
  let why: string | undefined;
  let todo = [...stored];
  for (let round = 0; todo.length > 0; round++) {
    let answered = 0;
    const how = round === 0 ? 'storage commitment' : `storage commitment, resent ${round}`;
    const total = todo.length;
    request.onProgress?.(0, total, how);
    const outcome = await requestCommitment(
      {
        peer: request.peer, callingAet: request.callingAet, network: request.network, endpoint: request.endpoint, logger: request.logger,
        connectBackGraceMs: request.mode === 'auto' ? Math.min(CONNECT_BACK_GRACE_MS, request.network.commitmentTimeoutMs) : undefined,
        onReport: (n) => request.onProgress?.((answered += n), total, how),
      },
      todo,
    );
    if (outcome.kind === 'unavailable') {
      why = outcome.why;
      request.logger.info({ why }, 'storage commitment unavailable');
      // Resent instances the archive reported failed once: that report stands.
      if (round > 0) for (const item of todo) result.failed.set(item.path, `storage commitment failed, then: ${outcome.why}`);
      else left.push(...todo);
      break;
    }
    const retry: SentInstance[] = [];
    for (const item of todo) {
      const failure = outcome.failed.get(item.sopInstanceUid);
      const notReported = outcome.unreported.get(item.sopInstanceUid);
      if (outcome.committed.has(item.sopInstanceUid) && failure === undefined) result.confirmed.set(item.path, 'storage commitment');
      else if (failure !== undefined && round < COMMITMENT_RESENDS) retry.push(item);
      else if (failure !== undefined) result.failed.set(item.path, `storage commitment failed: ${failure} (sent ${round + 1} times)`);
      else {
        why = notReported;
        left.push(item);
      }
    }
    if (retry.length === 0) break;
    request.logger.warn({ files: retry.length, round: round + 1 }, 'archive reported instances not committed: sending them again');
    const again = await request.resend(retry);
    for (const [path, reason] of again.failed) result.failed.set(path, `storage commitment failed, and sending again failed: ${reason}`);
    todo = [...again.stored];
  }
  return { left, why };
}

/** C-FIND at IMAGE level per study; returns why when the archive would not answer. */
async function byFind(request: ConfirmRequest, items: readonly SentInstance[], result: ConfirmResult): Promise<string | undefined> {
  const byStudy = new Map<string, SentInstance[]>();
  for (const item of items) {
    if (!item.studyInstanceUid) {
      result.unconfirmed.set(item.path, { why: 'no Study Instance UID to query', delivered: false });
      continue;
    }
    byStudy.set(item.studyInstanceUid, [...(byStudy.get(item.studyInstanceUid) ?? []), item]);
  }
  try {
    await withAssociation(request.peer, request.callingAet, FIND_CONTEXTS, request.network, async (assoc) => {
      let checked = 0;
      request.onProgress?.(0, items.length, 'C-FIND');
      for (const [study, list] of byStudy) {
        const present = new Set((await findStudyInstances(assoc, request.peer, study)).map((r) => r.sopInstanceUid));
        for (const item of list) {
          if (present.has(item.sopInstanceUid)) result.confirmed.set(item.path, 'C-FIND');
          else result.unconfirmed.set(item.path, { why: "answered Success, but absent from the archive's C-FIND", delivered: false });
        }
        request.onProgress?.((checked += list.length), items.length, 'C-FIND');
      }
    });
    return undefined;
  } catch (err) {
    request.logger.info({ error: errorMessage(err) }, 'C-FIND confirmation unavailable');
    return errorMessage(err);
  }
}
