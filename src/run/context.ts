import type { PipelineConfig } from '../config/schema';
import type { NetworkOptions } from '../scu/options';
import type { Peer } from '../scu/peer';
import type { TlsSettings } from '../tls/settings';
import type { Logger } from '../util/logger';
import type { WebDestination } from '../web/destination';
import type { Claims } from './coordination/claims';
import type { Journal } from './journal';
import type { ReviewSource } from './review';
import type { RunDir } from './run-dir';

export interface RunOptions {
  readonly practice: boolean;
  readonly noPush: boolean;
  readonly max: number;
  readonly allowedModalities: readonly string[] | '*';
}

export interface Peers {
  /** Our SCP during the pull; with `tls`, its port speaks DICOM TLS only. */
  readonly local: { readonly aet: string; readonly port: number; readonly allowedCallingAets: readonly string[]; readonly tls?: TlsSettings; readonly idleTimeoutMs: number };
  readonly staging: Peer;
  /** The research PACS when it is a DIMSE peer... */
  readonly research?: Peer;
  /** ...or when it is a DICOMweb archive (STOW-RS). */
  readonly researchWeb?: WebDestination;
}

/** Work sharing with other instances (identityDb on PostgreSQL, not in practice runs). */
export interface Sharing {
  readonly claims: Claims;
  /** Seconds to wait after announcing this instance, so instances started together split the studies. */
  readonly gatherS: number;
  /** Take over only these studies (their owner stopped renewing its lease). */
  readonly only?: readonly string[];
  /** Filled by the select step: selected studies that other instances hold. */
  readonly held: string[];
}

/** Everything a step needs; built once per run. */
export interface RunContext {
  readonly run: RunDir;
  readonly journal: Journal;
  readonly config: PipelineConfig;
  readonly options: RunOptions;
  readonly peers: Peers;
  readonly network: NetworkOptions;
  readonly review: ReviewSource;
  /** The identity map this run writes: identity.db, or a copy in the run directory in practice runs. */
  readonly identityDb: string;
  readonly logger: Logger;
  /** Key of the hashes that name identified instances in the journal (the identity key). */
  readonly journalKey: Buffer;
  readonly sharing?: Sharing;
  /** One plain line for the person running it (stdout). */
  readonly say: (line: string) => void;
}

/** What a step leaves for the final summary. */
export interface StepOutcome {
  /** Shown after the step's name in the summary. */
  readonly summary: string;
}

export const RUN_FILES = {
  overview: 'overview.txt',
  comments: 'comments.txt',
  studies: 'studies_to_retrieve.txt',
  fromStaging: 'from_staging',
  quarantine: 'quarantine',
  toProduction: 'to_production',
  pullOutput: 'pull_output.txt',
  anonymizeOutput: 'anonymize_output.txt',
  postAnonOutput: 'post_anon_output.txt',
  pushOutput: 'push_output.txt',
  reviewedProtocol: 'reviewed_protocol_studies.txt',
  foundProtocol: 'found_protocol_studies.txt',
  missingProtocol: 'missing_protocol_studies.txt',
  done: 'done.txt',
  heldElsewhere: 'held_by_other_instances.txt',
  journal: 'journal.jsonl',
  log: 'pipeline.log',
  pullReport: 'pull_report.json',
  pushReport: 'push_report.json',
} as const;
