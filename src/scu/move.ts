/** One C-MOVE (Study Root) with its final status classified; counters are reported, never trusted. */
import { PipelineError } from '../errors';
import { STUDY_ROOT_MOVE, type ScuAssociation } from '../dicom/dimse-association';
import { classifyStatus, describeStatus, STATUS_MOVE_DESTINATION_UNKNOWN, type ClassifiedStatus } from '../dicom/dimse-status';
import { formatPeer, type Peer } from './peer';
import { requireService } from './session';

export interface MoveProgress {
  readonly completed: number;
  readonly remaining: number;
  readonly failed: number;
  readonly warning: number;
}

export interface MoveOutcome extends MoveProgress {
  readonly status: ClassifiedStatus;
  readonly description: string;
  /** Failed SOP Instance UID List (0008,0058) of the final response, when the peer gives it. */
  readonly failedUids: readonly string[];
}

export type MoveLevel = 'STUDY' | 'SERIES' | 'IMAGE';

export async function moveOn(
  assoc: ScuAssociation,
  peer: Peer,
  destination: string,
  level: MoveLevel,
  keys: Record<string, string>,
  onProgress?: (progress: MoveProgress) => void,
): Promise<MoveOutcome> {
  requireService(assoc, peer, STUDY_ROOT_MOVE);
  const reply = await assoc.move(destination, level, keys, (pending) =>
    onProgress?.({ completed: pending.completed ?? 0, remaining: pending.remaining ?? 0, failed: pending.failed ?? 0, warning: pending.warning ?? 0 }),
  );
  const status = classifyStatus(reply.status);
  if (status.code === STATUS_MOVE_DESTINATION_UNKNOWN) throw destinationUnknown(peer, destination);
  const failedUids = (reply.identifier?.FailedSOPInstanceUIDList ?? '').split('\\').map((u) => u.trim()).filter(Boolean);
  return {
    status,
    description: describeStatus(status, reply.errorComment),
    completed: reply.completed ?? 0,
    remaining: reply.remaining ?? 0,
    failed: reply.failed ?? 0,
    warning: reply.warning ?? 0,
    failedUids,
  };
}

export function destinationUnknown(peer: Peer, destination: string): PipelineError {
  return new PipelineError(
    'E_DIMSE',
    `${formatPeer(peer)} does not know the move destination "${destination}": declare it there (AE title, this host, the local port) as a DICOM modality / known AE`,
  );
}
