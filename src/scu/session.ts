/** Opening an association to a peer with our options, and always closing it. */
import { PipelineError } from '../errors';
import {
  ScuAssociation, STUDY_ROOT_FIND, STUDY_ROOT_MOVE, VERIFICATION, type ProposedContext,
} from '../dicom/dimse-association';
import { EXPLICIT_LE, IMPLICIT_LE } from '../dicom/transfer-syntax';
import { formatPeer, type Peer } from './peer';
import { timeoutsOf, type NetworkOptions } from './options';

/** Command-only services: any of the two uncompressed syntaxes, the peer picks. */
const COMMAND_SYNTAXES = [EXPLICIT_LE, IMPLICIT_LE];

export const ECHO_CONTEXTS: ProposedContext[] = [{ abstractSyntax: VERIFICATION, transferSyntaxes: COMMAND_SYNTAXES }];
export const FIND_CONTEXTS: ProposedContext[] = [{ abstractSyntax: STUDY_ROOT_FIND, transferSyntaxes: COMMAND_SYNTAXES }];
export const FIND_MOVE_CONTEXTS: ProposedContext[] = [
  ...FIND_CONTEXTS,
  { abstractSyntax: STUDY_ROOT_MOVE, transferSyntaxes: COMMAND_SYNTAXES },
];

const SERVICE_NAMES: Record<string, string> = {
  [VERIFICATION]: 'Verification (C-ECHO)',
  [STUDY_ROOT_FIND]: 'Study Root C-FIND',
  [STUDY_ROOT_MOVE]: 'Study Root C-MOVE',
};

export function openAssociation(peer: Peer, callingAet: string, contexts: readonly ProposedContext[], options: NetworkOptions): Promise<ScuAssociation> {
  return ScuAssociation.open({
    host: peer.host,
    port: peer.port,
    callingAet,
    calledAet: peer.aeTitle,
    contexts,
    maxPduLength: options.maxPduLength,
    timeouts: timeoutsOf(options),
    tls: peer.tls,
  });
}

/** Throws a one-line error when the peer accepted none of the contexts for a service we need. */
export function requireService(assoc: ScuAssociation, peer: Peer, abstractSyntax: string): void {
  if (!assoc.findContext(abstractSyntax)) {
    throw new PipelineError('E_ASSOCIATION', `${formatPeer(peer)} accepted no presentation context for ${SERVICE_NAMES[abstractSyntax] ?? abstractSyntax}`);
  }
}

export async function withAssociation<T>(
  peer: Peer,
  callingAet: string,
  contexts: readonly ProposedContext[],
  options: NetworkOptions,
  work: (assoc: ScuAssociation) => Promise<T>,
): Promise<T> {
  const assoc = await openAssociation(peer, callingAet, contexts, options);
  try {
    const result = await work(assoc);
    await assoc.release();
    return result;
  } catch (err) {
    assoc.abort();
    throw err;
  }
}
