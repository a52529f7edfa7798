/**
 * pull: list every study at the peer (C-FIND at IMAGE level), C-MOVE them into our embedded
 * Storage SCP, then reconcile what is on disk against those lists: move counters are shown, never
 * trusted. Missing instances are moved again per series, then per instance, with backoff.
 */
import { PipelineError } from '../errors';
import type { ScuAssociation } from '../dicom/dimse-association';
import { isDone } from '../dicom/dimse-status';
import { StorageScp } from '../scp/server';
import { diskFullError, isDiskFull } from '../util/disk-full';
import type { TlsSettings } from '../tls/settings';
import { silentLogger, type Logger } from '../util/logger';
import { moveOn, type MoveOutcome, type MoveProgress } from './move';
import type { NetworkOptions } from './options';
import { formatPeer, type Peer } from './peer';
import { findStudyInstances, type InstanceRef } from './query';
import { missingInstances, sharedSopInstanceUids } from './reconcile';
import { FIND_MOVE_CONTEXTS, openAssociation } from './session';

export interface PullOptions {
  readonly peer: Peer;
  readonly studies: readonly string[];
  readonly outDir: string;
  /** Our AE title: the C-MOVE destination the peer must know. */
  readonly localAet: string;
  readonly localPort: number;
  readonly localHost?: string;
  /** DICOM TLS on our SCP's port (then TLS-only): the peer's C-MOVE sub-associations must use it. */
  readonly localTls?: TlsSettings;
  /** Calling AE title of our C-FIND/C-MOVE association (default: localAet). */
  readonly callingAet?: string;
  /** Calling AEs allowed to store into our SCP (default: the peer's AE title only). */
  readonly allowedCallingAets?: readonly string[];
  /** Silence after which our SCP aborts an association (default SCP_DEFAULTS.idleTimeoutMs; local.idleTimeoutS in a run). */
  readonly idleTimeoutMs?: number;
  readonly network: NetworkOptions;
  readonly logger?: Logger;
  readonly onProgress?: (event: PullProgress) => void;
}

/**
 * Progress of the whole pull. Phase 'find': `study` studies of `studies` listed so far; then 'move'
 * and 'retry', with `study` the most recently started one (1-based; studies move in parallel).
 */
export interface PullProgress {
  readonly study: number;
  readonly studies: number;
  readonly phase: 'find' | 'move' | 'retry';
  /** Instances in the studies listed so far: from 'move' on, the whole pull's total. */
  readonly expected: number;
  /** Instances of those studies on disk (already there, or received in this run). */
  readonly received: number;
  /** Sub-operation counters of the C-MOVE that reported last. */
  readonly move?: MoveProgress;
}

/** What a progress bar shows next to the counts: "C-FIND 3/20" while listing, then "study 7/20". */
export function pullProgressDetail(p: PullProgress): string {
  return `${p.phase === 'find' ? 'C-FIND' : 'study'} ${p.study}/${p.studies}`;
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
  /** SOP Instance UIDs held by more than one instance (all kept: <SOP>.dup-<n>.dcm); the anonymizer quarantines them. */
  readonly sharedSopInstanceUids?: number;
}

/** "; N SOP Instance UIDs held by more than one instance ..." when the study has some, else "". */
export function sharedNote(s: StudyPullReport): string {
  const n = s.sharedSopInstanceUids;
  if (!n) return '';
  return `; ${n} SOP Instance UID${n === 1 ? ' is' : 's are'} held by more than one different instance (all kept as <SOP>.dup-<n>.dcm beside <SOP>.dcm; anonymize quarantines every copy)`;
}

export interface PullReport {
  readonly studies: readonly StudyPullReport[];
  readonly complete: boolean;
  readonly receivedThisRun: number;
}

/**
 * First every study is listed (C-FIND at IMAGE level), so the pull's total is known before the
 * first C-MOVE and its ETA means something; then the studies are moved `network.associations` at a
 * time, on the same associations (each C-MOVE bringing its own sub-association to our SCP: the
 * peer sends, and we fsync, several instances at once). The first fatal error (the peer does not
 * know our AE title, our disk is full) stops every study in flight and is thrown.
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
    idleTimeoutMs: options.idleTimeoutMs,
    tls: options.localTls,
    logger,
  });
  await scp.start();
  const sessions = new SessionPool(options);
  // Our disk is full: staging is answered 0xA700 (out of resources) until we stop, which is now.
  scp.on('failed', (failure) => {
    if (isDiskFull(failure)) sessions.fail(diskFullError(options.outDir, failure));
  });
  const tracker = new ProgressTracker(options, scp);
  try {
    const listings = await sessions.map(options.studies.length, (session, i) => listStudy(options, session, i, tracker));
    tracker.moving();
    const reports = await sessions.map(options.studies.length, (session, i) => moveStudy(options, session, scp, i, listings[i], tracker));
    return { studies: reports, complete: reports.every((r) => r.failed === 0 && !r.error), receivedThisRun: scp.counts.stored };
  } finally {
    await sessions.close();
    await scp.stop();
  }
}

/**
 * Honest counts for options.onProgress: the total is every listed instance; received counts the
 * files on disk (there before, or written by our SCP since), not the peer's move counters.
 */
class ProgressTracker {
  /** Instances listed but not on disk yet, per Study/SOP Instance UID (two when the peer holds two under one UID). */
  private readonly awaited = new Map<string, number>();
  private listed = 0;
  private expected = 0;
  private received = 0;
  private phase: PullProgress['phase'] = 'find';
  private study = 0;
  constructor(private readonly options: PullOptions, scp: StorageScp) {
    scp.on('stored', (s) => {
      const key = `${s.studyInstanceUid}/${s.sopInstanceUid}`;
      const left = this.awaited.get(key);
      if (!left || s.identical) return; // not awaited, or a repeat that added no file
      if (left > 1) this.awaited.set(key, left - 1);
      else this.awaited.delete(key);
      this.received++;
      this.report();
    });
  }

  /** A study's listing: its instances count towards the total, those on disk (all but `missing`) as received. */
  listedStudy(study: string, refs: readonly InstanceRef[], missing: readonly InstanceRef[]): void {
    this.listed++;
    this.study = this.listed;
    this.expected += refs.length;
    this.received += refs.length - missing.length;
    for (const ref of missing) {
      const key = `${study}/${ref.sopInstanceUid}`;
      this.awaited.set(key, (this.awaited.get(key) ?? 0) + 1);
    }
    this.report();
  }

  moving(): void {
    this.phase = 'move';
    this.study = 0;
  }

  /** A study's C-MOVE (phase 'move') or retry (phase 'retry') starts. */
  started(index: number, phase: 'move' | 'retry', move?: MoveProgress): void {
    this.phase = phase;
    this.study = Math.max(this.study, index + 1);
    this.report(move);
  }

  private report(move?: MoveProgress): void {
    this.options.onProgress?.({ study: this.study, studies: this.options.studies.length, phase: this.phase, expected: this.expected, received: this.received, move });
  }
}

/**
 * `network.associations` associations to the peer, kept for the whole pull (reopened after the peer
 * dropped one), shared by the C-FINDs and the C-MOVEs. The first fatal error aborts them all.
 */
class SessionPool {
  private readonly sessions: PeerSession[] = [];
  private fatal?: { err: unknown };
  constructor(private readonly options: PullOptions) {}

  /** Runs work(session, i) for i in [0, count), at most network.associations at a time, in order of i. */
  async map<T>(count: number, work: (session: PeerSession, index: number) => Promise<T>): Promise<T[]> {
    const results: T[] = new Array(count);
    let next = 0;
    const parallel = Math.max(1, Math.min(this.options.network.associations, count));
    for (let k = this.sessions.length; k < parallel; k++) this.sessions.push(new PeerSession(this.options));
    await Promise.all(this.sessions.slice(0, parallel).map(async (session) => {
      try {
        for (let i = next++; i < count && !this.fatal; i = next++) results[i] = await work(session, i);
      } catch (err) {
        this.fail(err);
      }
    }));
    if (this.fatal) throw this.fatal.err;
    return results;
  }

  /** Stops everything in flight; map() then throws err (the first one given). */
  fail(err: unknown): void {
    if (this.fatal) return;
    this.fatal = { err };
    for (const s of this.sessions) s.abort();
  }

  close(): Promise<void> {
    return Promise.all(this.sessions.map((s) => s.close())).then(() => undefined);
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

/** The peer's own list of the study's instances: what the pull expects, and reconciles against. */
async function listStudy(options: PullOptions, session: PeerSession, index: number, tracker: ProgressTracker): Promise<InstanceRef[]> {
  const study = options.studies[index];
  const refs = await findStudyInstances(await session.get(), options.peer, study);
  tracker.listedStudy(study, refs, missingInstances(options.outDir, study, refs));
  return refs;
}

async function moveStudy(options: PullOptions, session: PeerSession, scp: StorageScp, index: number, expected: readonly InstanceRef[], tracker: ProgressTracker): Promise<StudyPullReport> {
  const { peer, localAet, network } = options;
  const study = options.studies[index];
  if (expected.length === 0) {
    return { studyInstanceUid: study, expected: 0, received: 0, failed: 0, moveStatus: 'not moved', retries: 0, error: `study not found on ${formatPeer(peer)}` };
  }
  // Rows are counted, not distinct UIDs: two instances under one SOP Instance UID need two files.
  const missing = (): InstanceRef[] => missingInstances(options.outDir, study, expected);
  let todo = missing();
  if (todo.length === 0) {
    // All of it is here already (an earlier run): nothing to move.
    return { studyInstanceUid: study, expected: expected.length, received: expected.length, failed: 0, moveStatus: 'already complete', retries: 0, ...shared(options.outDir, study, expected) };
  }
  const connectionsBefore = scp.counts.connections;
  tracker.started(index, 'move');
  const first = await moveOn(await session.get(), peer, localAet, 'STUDY', { StudyInstanceUID: study }, (p) => tracker.started(index, 'move', p));
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
    tracker.started(index, 'retry');
    try {
      const assoc = await session.get();
      if (round === 0) {
        for (const series of new Set(todo.map((r) => r.seriesInstanceUid))) {
          await moveOn(assoc, peer, localAet, 'SERIES', { StudyInstanceUID: study, SeriesInstanceUID: series });
        }
      } else {
        for (const ref of uniqueInstances(todo)) {
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
    ...shared(options.outDir, study, expected),
  };
}

/** The report's sharedSopInstanceUids, present only when there are some. */
function shared(outDir: string, study: string, expected: readonly InstanceRef[]): { sharedSopInstanceUids?: number } {
  const n = sharedSopInstanceUids(outDir, study, expected);
  return n ? { sharedSopInstanceUids: n } : {};
}

/** One IMAGE-level move per Series/SOP Instance UID: it brings every instance under that UID. */
function uniqueInstances(refs: readonly InstanceRef[]): InstanceRef[] {
  const seen = new Set<string>();
  return refs.filter((r) => {
    const k = `${r.seriesInstanceUid}/${r.sopInstanceUid}`;
    return !seen.has(k) && seen.add(k);
  });
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
