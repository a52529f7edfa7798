/**
 * pull: C-MOVE studies from a peer into our embedded Storage SCP, then reconcile what is on disk
 * against the peer's own instance list (C-FIND at IMAGE level): move counters are shown, never
 * trusted. Missing instances are moved again per series, then per instance, with backoff.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { PipelineError } from '../errors';
import type { ScuAssociation } from '../dicom/dimse-association';
import { isDone } from '../dicom/dimse-status';
import { StorageScp } from '../scp/server';
import { instancePath } from '../scp/store';
import { silentLogger, type Logger } from '../util/logger';
import { moveOn, type MoveOutcome, type MoveProgress } from './move';
import type { NetworkOptions } from './options';
import { formatPeer, type Peer } from './peer';
import { findStudyInstances, type InstanceRef } from './query';
import { FIND_CONTEXTS, FIND_MOVE_CONTEXTS, openAssociation, withAssociation } from './session';

export interface PullOptions {
  readonly peer: Peer;
  readonly studies: readonly string[];
  readonly outDir: string;
  /** Our AE title: the C-MOVE destination the peer must know. */
  readonly localAet: string;
  readonly localPort: number;
  readonly localHost?: string;
  /** Calling AE title of our C-FIND/C-MOVE association (default: localAet). */
  readonly callingAet?: string;
  /** Calling AEs allowed to store into our SCP (default: the peer's AE title only). */
  readonly allowedCallingAets?: readonly string[];
  readonly network: NetworkOptions;
  readonly logger?: Logger;
  readonly onProgress?: (event: PullProgress) => void;
}

/**
 * Progress of the whole pull. Studies are pulled `network.associations` at a time, so the counts are
 * totals over the studies started so far; `study` is the most recently started one (1-based).
 */
export interface PullProgress {
  readonly study: number;
  readonly studies: number;
  readonly phase: 'find' | 'move' | 'retry';
  /** Instances expected in the studies started so far (from their C-FIND). */
  readonly expected: number;
  /** Instances of those studies on disk (already there, or received in this run). */
  readonly received: number;
  /** Sub-operation counters of the C-MOVE that reported last. */
  readonly move?: MoveProgress;
}

export interface StudyPullReport {
  readonly studyInstanceUid: string;
  readonly expected: number;
  readonly received: number;
  readonly failed: number;
  /** Final status of the study-level C-MOVE (e.g. "0x0000 success", "0xC000 cannot understand"). */
  readonly moveStatus: string;
  readonly retries: number;
  readonly error?: string;
}

export interface PullReport {
  readonly studies: readonly StudyPullReport[];
  readonly complete: boolean;
  readonly receivedThisRun: number;
}

/**
 * Studies are pulled `network.associations` at a time (each with its own C-FIND/C-MOVE association,
 * each C-MOVE bringing its own sub-association to our SCP): the peer sends, and we fsync, several
 * instances at once instead of one after the other. The first fatal error (e.g. the peer does not
 * know our AE title) stops every study in flight and is thrown.
 */
export async function pull(options: PullOptions): Promise<PullReport> {
  const logger = options.logger ?? silentLogger;
  const scp = new StorageScp({
    aeTitle: options.localAet,
    port: options.localPort,
    host: options.localHost,
    outDir: options.outDir,
    allowedCallingAets: options.allowedCallingAets ?? [options.peer.aeTitle],
    maxPduLength: options.network.maxPduLength,
    associationTimeoutMs: options.network.associationTimeoutMs,
    idleTimeoutMs: options.network.dimseTimeoutMs,
    logger,
  });
  await scp.start();
  const tracker = new ProgressTracker(options);
  const sessions: PeerSession[] = [];
  const reports: StudyPullReport[] = new Array(options.studies.length);
  let next = 0;
  let fatal: { err: unknown } | undefined;
  const worker = async (): Promise<void> => {
    const session = new PeerSession(options);
    sessions.push(session);
    try {
      for (let i = next++; i < options.studies.length && !fatal; i = next++) {
        reports[i] = await pullStudy(options, session, scp, i, tracker);
      }
    } catch (err) {
      if (!fatal) {
        fatal = { err };
        for (const s of sessions) s.abort();
      }
    }
  };
  try {
    const parallel = Math.max(1, Math.min(options.network.associations, options.studies.length));
    await Promise.all(Array.from({ length: parallel }, worker));
    if (fatal) throw fatal.err;
    return { studies: reports, complete: reports.every((r) => r.failed === 0 && !r.error), receivedThisRun: scp.counts.stored };
  } finally {
    await Promise.all(sessions.map((s) => s.close()));
    await scp.stop();
  }
}

/** Totals over the studies started so far, reported through options.onProgress. */
class ProgressTracker {
  private readonly studies = new Map<number, { expected: number; received: number }>();
  private latest = 0;
  constructor(private readonly options: PullOptions) {}

  update(index: number, phase: PullProgress['phase'], expected: number, received: number, move?: MoveProgress): void {
    this.studies.set(index, { expected, received });
    this.latest = Math.max(this.latest, index + 1);
    if (!this.options.onProgress) return;
    let e = 0;
    let r = 0;
    for (const s of this.studies.values()) {
      e += s.expected;
      r += s.received;
    }
    this.options.onProgress({ study: this.latest, studies: this.options.studies.length, phase, expected: e, received: r, move });
  }
}

/** Keeps one association for the whole pull, reopening it after the peer dropped it. */
class PeerSession {
  private assoc?: ScuAssociation;
  private aborted = false;
  constructor(private readonly options: PullOptions) {}

  async get(): Promise<ScuAssociation> {
    if (this.aborted) throw new PipelineError('E_ASSOCIATION', 'pull stopped after a fatal error on another study');
    if (this.assoc?.isOpen) return this.assoc;
    const { peer, callingAet, localAet, network } = this.options;
    this.assoc = await openAssociation(peer, callingAet ?? localAet, FIND_MOVE_CONTEXTS, network);
    return this.assoc;
  }

  async close(): Promise<void> {
    if (this.assoc?.isOpen) await this.assoc.release().catch(() => this.assoc?.abort());
  }

  /** Ends the association at once (another study failed fatally); get() refuses afterwards. */
  abort(): void {
    this.aborted = true;
    this.assoc?.abort();
  }
}

async function pullStudy(options: PullOptions, session: PeerSession, scp: StorageScp, index: number, tracker: ProgressTracker): Promise<StudyPullReport> {
  const { peer, outDir, localAet, network } = options;
  const study = options.studies[index];
  const progress = (phase: PullProgress['phase'], expected: number, received: number, move?: MoveProgress): void =>
    tracker.update(index, phase, expected, received, move);

  const onDisk = (ref: InstanceRef): boolean => existsSync(instancePath(outDir, { studyInstanceUid: study, seriesInstanceUid: ref.seriesInstanceUid, sopInstanceUid: ref.sopInstanceUid, sopClassUid: '' }));
  const notFound = (moveStatus: string): StudyPullReport => ({ studyInstanceUid: study, expected: 0, received: 0, failed: 0, moveStatus, retries: 0, error: `study not found on ${formatPeer(peer)}` });
  let expected: InstanceRef[];
  let todo: InstanceRef[];
  let first: MoveOutcome;
  const connectionsBefore = scp.counts.connections;
  if (existsSync(join(outDir, study))) {
    // Some of it is here already (an earlier run): list the study first, move only if something is missing.
    progress('find', 0, 0);
    expected = await findStudyInstances(await session.get(), peer, study);
    if (expected.length === 0) return notFound('not moved');
    todo = expected.filter((ref) => !onDisk(ref));
    if (todo.length === 0) {
      return { studyInstanceUid: study, expected: expected.length, received: expected.length, failed: 0, moveStatus: 'already complete', retries: 0 };
    }
    const before = expected.length - todo.length;
    first = await moveOn(await session.get(), peer, localAet, 'STUDY', { StudyInstanceUID: study }, (p) => progress('move', expected.length, before + p.completed, p));
  } else {
    // Nothing of it here: move at once, and list the study (C-FIND on an association of its own)
    // while it moves. Reconciliation below is the same; the listing no longer delays the transfer.
    progress('move', 0, 0);
    const listing = withAssociation(peer, options.callingAet ?? localAet, FIND_CONTEXTS, network, (assoc) => findStudyInstances(assoc, peer, study));
    listing.catch(() => undefined); // awaited below; a failed move may throw first
    let listed: number | undefined;
    void listing.then((l) => (listed = l.length), () => undefined);
    first = await moveOn(await session.get(), peer, localAet, 'STUDY', { StudyInstanceUID: study }, (p) =>
      progress('move', listed ?? p.completed + p.remaining + p.failed + p.warning, p.completed, p),
    );
    expected = await listing;
    if (expected.length === 0) return notFound(first.description);
  }
  const missing = (): InstanceRef[] => expected.filter((ref) => !onDisk(ref));
  // No connection to our SCP at all while this move ran (with parallel studies, another study's
  // sub-association also counts: then the study is retried and reported instead).
  if (!isDone(first.status) && scp.counts.connections === connectionsBefore) {
    throw neverConnected(options, first);
  }
  todo = missing();

  let retries = 0;
  // Round 1: per series with missing instances; further rounds: per instance, with backoff.
  for (let round = 0; todo.length > 0 && round < Math.max(1, network.retries); round++) {
    if (round > 0) await sleep(network.retryBackoffMs * 2 ** (round - 1));
    retries++;
    progress('retry', expected.length, expected.length - todo.length);
    try {
      const assoc = await session.get();
      if (round === 0) {
        for (const series of new Set(todo.map((r) => r.seriesInstanceUid))) {
          await moveOn(assoc, peer, localAet, 'SERIES', { StudyInstanceUID: study, SeriesInstanceUID: series });
        }
      } else {
        for (const ref of todo) {
          await moveOn(assoc, peer, localAet, 'IMAGE', { StudyInstanceUID: study, SeriesInstanceUID: ref.seriesInstanceUid, SOPInstanceUID: ref.sopInstanceUid });
        }
      }
    } catch (err) {
      if (!(err instanceof PipelineError) || err.code === 'E_DIMSE') throw err;
      options.logger?.warn({ err: err.message }, 'retry move failed; will retry');
    }
    todo = missing();
  }
  const received = expected.length - todo.length;
  return {
    studyInstanceUid: study,
    expected: expected.length,
    received,
    failed: todo.length,
    moveStatus: first.description,
    retries,
  };
}

/** The peer refused the move without ever connecting to us: almost always an unknown destination. */
function neverConnected(options: PullOptions, outcome: MoveOutcome): PipelineError {
  return new PipelineError(
    'E_DIMSE',
    `C-MOVE refused by ${formatPeer(options.peer)} (${outcome.description}) and it never connected to our SCP: ` +
      `check that it knows "${options.localAet}" as a move destination at this host, port ${options.localPort}`,
  );
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
