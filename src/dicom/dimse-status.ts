/**
 * DIMSE status codes (PS3.7 Annex C, PS3.4 service-specific tables) classified into one final outcome.
 * Every request we make ends in exactly one of these kinds; "no response" is represented by the
 * caller as a failure with a synthetic description, never by a missing status.
 */
export type StatusKind = 'success' | 'warning' | 'pending' | 'cancel' | 'failure';

export interface ClassifiedStatus {
  readonly code: number;
  /** e.g. "0xA700" */
  readonly hex: string;
  readonly kind: StatusKind;
  readonly meaning: string;
  /** A failure that may succeed when retried later (out of resources, congestion). */
  readonly transient: boolean;
}

export const STATUS_SUCCESS = 0x0000;
export const STATUS_PENDING = 0xff00;
export const STATUS_PENDING_WARNING = 0xff01;
export const STATUS_CANCEL = 0xfe00;
export const STATUS_OUT_OF_RESOURCES = 0xa700;
export const STATUS_MOVE_DESTINATION_UNKNOWN = 0xa801;
export const STATUS_DATASET_MISMATCH = 0xa900;
export const STATUS_CANNOT_UNDERSTAND = 0xc000;
export const STATUS_PROCESSING_FAILURE = 0x0110;

const EXACT: Record<number, [StatusKind, string, boolean?]> = {
  0x0000: ['success', 'success'],
  0xff00: ['pending', 'pending'],
  0xff01: ['pending', 'pending, optional keys not supported'],
  0xfe00: ['cancel', 'cancelled'],
  0x0001: ['warning', 'requested optional attributes are not supported'],
  0x0107: ['warning', 'attribute list error'],
  0x0116: ['warning', 'attribute value out of range'],
  0xb000: ['warning', 'coercion of data elements / sub-operations complete with failures or warnings'],
  0xb006: ['warning', 'elements discarded'],
  0xb007: ['warning', 'data set does not match SOP class'],
  0x0105: ['failure', 'no such attribute'],
  0x0106: ['failure', 'invalid attribute value'],
  0x0110: ['failure', 'processing failure', true],
  0x0111: ['failure', 'duplicate SOP instance'],
  0x0112: ['failure', 'no such SOP instance'],
  0x0117: ['failure', 'invalid object instance'],
  0x0118: ['failure', 'no such SOP class'],
  0x0119: ['failure', 'class-instance conflict'],
  0x0120: ['failure', 'missing attribute'],
  0x0121: ['failure', 'missing attribute value'],
  0x0122: ['failure', 'SOP class not supported'],
  0x0124: ['failure', 'not authorized'],
  0x0210: ['failure', 'duplicate invocation'],
  0x0211: ['failure', 'unrecognized operation'],
  0x0212: ['failure', 'mistyped argument'],
  0x0213: ['failure', 'resource limitation', true],
  0xa701: ['failure', 'out of resources: unable to calculate number of matches', true],
  0xa702: ['failure', 'out of resources: unable to perform sub-operations', true],
  0xa801: ['failure', 'move destination unknown'],
  0xa900: ['failure', 'data set does not match SOP class'],
  0xc000: ['failure', 'cannot understand'],
};

export function formatStatus(code: number): string {
  return `0x${code.toString(16).toUpperCase().padStart(4, '0')}`;
}

export function classifyStatus(code: number): ClassifiedStatus {
  const hex = formatStatus(code);
  const exact = EXACT[code];
  if (exact) return { code, hex, kind: exact[0], meaning: exact[1], transient: exact[2] ?? false };
  const high = code & 0xff00;
  if (high === 0xa700) return { code, hex, kind: 'failure', meaning: 'refused: out of resources', transient: true };
  if (high === 0xa900) return { code, hex, kind: 'failure', meaning: 'data set does not match SOP class', transient: false };
  if ((code & 0xf000) === 0xc000) return { code, hex, kind: 'failure', meaning: 'cannot understand / unable to process', transient: false };
  if ((code & 0xf000) === 0xb000) return { code, hex, kind: 'warning', meaning: 'warning', transient: false };
  return { code, hex, kind: 'failure', meaning: 'unknown status', transient: false };
}

/** Success or warning: the operation was performed (the data is stored / the move completed). */
export function isDone(status: ClassifiedStatus): boolean {
  return status.kind === 'success' || status.kind === 'warning';
}

export function describeStatus(status: ClassifiedStatus, errorComment?: string): string {
  const comment = errorComment ? ` (${errorComment.trim()})` : '';
  return `${status.hex} ${status.meaning}${comment}`;
}
