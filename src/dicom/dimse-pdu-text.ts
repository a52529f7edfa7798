/** Human wording of A-ASSOCIATE-RJ and A-ABORT parameters (PS3.8 9.3.4, 9.3.8), for one-line errors. */

export interface RejectParams {
  readonly result: number;
  readonly source: number;
  readonly reason: number;
}

export function describeReject({ result, source, reason }: RejectParams): string {
  const permanence = result === 2 ? 'transient' : 'permanent';
  let why: string;
  if (source === 1) {
    why = ({ 1: 'no reason given', 2: 'application context not supported', 3: 'calling AE title not recognized', 7: 'called AE title not recognized' } as Record<number, string>)[reason] ?? `reason ${reason}`;
  } else if (source === 2) {
    why = ({ 1: 'no reason given', 2: 'protocol version not supported' } as Record<number, string>)[reason] ?? `reason ${reason}`;
  } else if (source === 3) {
    why = ({ 1: 'temporary congestion', 2: 'local limit exceeded' } as Record<number, string>)[reason] ?? `reason ${reason}`;
  } else {
    why = `source ${source}, reason ${reason}`;
  }
  return `${why} (${permanence})`;
}

/** What the user should change, when the reason says it. */
export function rejectHint({ source, reason }: RejectParams, callingAet: string, calledAet: string): string {
  if (source === 1 && reason === 3) return `: add "${callingAet}" to the peer's known AEs, or use the calling AE title it expects`;
  if (source === 1 && reason === 7) return `: the peer is not "${calledAet}"; check the called AE title`;
  if (source === 3) return ': retry later';
  return '';
}

export function describeAbort(source: number, reason: number): string {
  const who = ({ 0: 'service user', 1: 'unknown source', 2: 'service provider' } as Record<number, string>)[source] ?? `source ${source}`;
  const why = ({ 0: 'not specified', 1: 'unrecognized PDU', 2: 'unexpected PDU', 4: 'unrecognized PDU parameter', 5: 'unexpected PDU parameter', 6: 'invalid PDU parameter' } as Record<number, string>)[reason] ?? `reason ${reason}`;
  return `${who}, ${why}`;
}

export function isTransientReject({ result }: RejectParams): boolean {
  return result === 2;
}
