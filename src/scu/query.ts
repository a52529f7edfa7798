/** C-ECHO and C-FIND (Study Root) as typed functions. */
import { PipelineError } from '../errors';
import { STUDY_ROOT_FIND, VERIFICATION, type ScuAssociation } from '../dicom/dimse-association';
import { classifyStatus, describeStatus, isDone, type ClassifiedStatus } from '../dicom/dimse-status';
import { tagForKeyword } from '../dicom/dictionary';
import { formatPeer, type Peer } from './peer';
import type { NetworkOptions } from './options';
import { ECHO_CONTEXTS, FIND_CONTEXTS, requireService, withAssociation } from './session';

export type QueryLevel = 'STUDY' | 'SERIES' | 'IMAGE';
export const QUERY_LEVELS: readonly QueryLevel[] = ['STUDY', 'SERIES', 'IMAGE'];

/** Keys returned when the user asks for none: identifiers and counts, no patient data. */
export const DEFAULT_RETURN_KEYS: Record<QueryLevel, readonly string[]> = {
  STUDY: ['StudyInstanceUID', 'StudyDate', 'ModalitiesInStudy', 'NumberOfStudyRelatedSeries', 'NumberOfStudyRelatedInstances'],
  SERIES: ['StudyInstanceUID', 'SeriesInstanceUID', 'Modality', 'SeriesNumber', 'NumberOfSeriesRelatedInstances'],
  IMAGE: ['StudyInstanceUID', 'SeriesInstanceUID', 'SOPInstanceUID', 'SOPClassUID', 'InstanceNumber'],
};

export interface EchoResult {
  readonly status: ClassifiedStatus;
  readonly elapsedMs: number;
  /** Protocol and cipher suite when the association ran over TLS. */
  readonly tls?: string;
}

export async function echo(peer: Peer, callingAet: string, options: NetworkOptions): Promise<EchoResult> {
  const started = Date.now();
  return withAssociation(peer, callingAet, ECHO_CONTEXTS, options, async (assoc) => {
    requireService(assoc, peer, VERIFICATION);
    const reply = await assoc.echo();
    const status = classifyStatus(reply.status);
    if (status.kind !== 'success') {
      throw new PipelineError('E_DIMSE', `C-ECHO to ${formatPeer(peer)} failed: ${describeStatus(status, reply.errorComment)}`);
    }
    return { status, elapsedMs: Date.now() - started, tls: assoc.tlsSession };
  });
}

/** Parses "Keyword=Value" query keys; unknown keywords are usage errors. */
export function parseQueryKeys(pairs: readonly string[]): Record<string, string> {
  const keys: Record<string, string> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    const keyword = (eq < 0 ? pair : pair.slice(0, eq)).trim();
    if (!keyword || tagForKeyword(keyword) === undefined) {
      throw new PipelineError('E_USAGE', `unknown query key "${keyword}": use a DICOM keyword such as StudyInstanceUID=1.2.3 or PatientID=`);
    }
    keys[keyword] = eq < 0 ? '' : pair.slice(eq + 1);
  }
  return keys;
}

/** Runs one C-FIND on an open association; a failure status is an error naming the peer. */
export async function findOn(assoc: ScuAssociation, peer: Peer, level: QueryLevel, keys: Record<string, string>): Promise<Record<string, string>[]> {
  requireService(assoc, peer, STUDY_ROOT_FIND);
  const matches: Record<string, string>[] = [];
  const reply = await assoc.find(level, keys, (m) => matches.push(m));
  const status = classifyStatus(reply.status);
  if (!isDone(status)) {
    throw new PipelineError('E_DIMSE', `C-FIND (${level}) at ${formatPeer(peer)} failed: ${describeStatus(status, reply.errorComment)}`);
  }
  return matches;
}

export function find(peer: Peer, callingAet: string, level: QueryLevel, keys: Record<string, string>, options: NetworkOptions): Promise<Record<string, string>[]> {
  const withDefaults: Record<string, string> = {};
  for (const k of DEFAULT_RETURN_KEYS[level]) withDefaults[k] = '';
  return withAssociation(peer, callingAet, FIND_CONTEXTS, options, (assoc) => findOn(assoc, peer, level, { ...withDefaults, ...keys }));
}

export interface InstanceRef {
  readonly seriesInstanceUid: string;
  readonly sopInstanceUid: string;
}

/**
 * Every instance of a study as the peer lists it (C-FIND at IMAGE level): one entry per row, so two
 * instances sharing a SOP Instance UID (one image filed under two patients) count as two.
 */
export async function findStudyInstances(assoc: ScuAssociation, peer: Peer, studyInstanceUid: string): Promise<InstanceRef[]> {
  const matches = await findOn(assoc, peer, 'IMAGE', { StudyInstanceUID: studyInstanceUid, SeriesInstanceUID: '', SOPInstanceUID: '' });
  const out: InstanceRef[] = [];
  for (const m of matches) {
    const sop = (m.SOPInstanceUID ?? '').trim();
    if (sop) out.push({ seriesInstanceUid: (m.SeriesInstanceUID ?? '').trim(), sopInstanceUid: sop });
  }
  return out;
}
