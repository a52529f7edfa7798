/**
 * pull: C-MOVE studies from a peer into our embedded Storage SCP, then reconcile what is on disk
 * against the peer's own instance list (C-FIND at IMAGE level): move counters are shown, never
 * trusted. Missing instances are moved again per series, then per instance, with backoff.
 */
import { existsSync } from 'node:fs';
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
import { FIND_MOVE_CONTEXTS, openAssociation } from './session';

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

export interface PullProgress {
  readonly study: number;
  readonly studies: number;
  readonly phase: 'find' | 'move' | 'retry';
  readonly expected: number;
  readonly received: number;
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
  const session = new PeerSession(options);
  try {
    const reports: StudyPullReport[] = [];
    for (let i = 0; i < options.studies.length; i++) {
      reports.push(await pullStudy(options, session, scp, i));
    }
    return { studies: reports, complete: reports.every((r) => r.failed === 0 && !r.error), receivedThisRun: scp.counts.stored };
  } finally {
    await session.close();
    await scp.stop();
  }
}

/** Keeps one association for the whole pull, reopening it after the peer dropped it. */
class PeerSession {
  private assoc?: ScuAssociation;
  constructor(private readonly options: PullOptions) {}

  async get(): Promise<ScuAssociation> {
    if (this.assoc?.isOpen) return this.assoc;
    const { peer, callingAet, localAet, network } = this.options;
    this.assoc = await openAssociation(peer, callingAet ?? localAet, FIND_MOVE_CONTEXTS, network);
    return this.assoc;
  }

  async close(): Promise<void> {
    if (this.assoc?.isOpen) await this.assoc.release().catch(() => this.assoc?.abort());
  }
}

async function pullStudy(options: PullOptions, session: PeerSession, scp: StorageScp, index: number): Promise<StudyPullReport> {
  const { peer, outDir, localAet, network } = options;
  const study = options.studies[index];
  const progress = (phase: PullProgress['phase'], expected: number, received: number, move?: MoveProgress): void =>
    options.onProgress?.({ study: index + 1, studies: options.studies.length, phase, expected, received, move });

  progress('find', 0, 0);
  const expected = await findStudyInstances(await session.get(), peer, study);
  const missing = (): InstanceRef[] => expected.filter((ref) => !existsSync(instancePath(outDir, { studyInstanceUid: study, seriesInstanceUid: ref.seriesInstanceUid, sopInstanceUid: ref.sopInstanceUid, sopClassUid: '' })));
  if (expected.length === 0) {
    return { studyInstanceUid: study, expected: 0, received: 0, failed: 0, moveStatus: 'not moved', retries: 0, error: `study not found on ${formatPeer(peer)}` };
  }
  let todo = missing();
  if (todo.length === 0) {
    return { studyInstanceUid: study, expected: expected.length, received: expected.length, failed: 0, moveStatus: 'already complete', retries: 0 };
  }

  const connectionsBefore = scp.counts.connections;
  const first = await moveOn(await session.get(), peer, localAet, 'STUDY', { StudyInstanceUID: study }, (p) =>
    progress('move', expected.length, expected.length - todo.length + p.completed, p),
  );
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
