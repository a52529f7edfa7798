/**
 * Why a connection we opened ended, as one line naming the peer and what to do: TCP errors, TLS
 * failures (src/tls/errors.ts), and the two confusions between plain and TLS ports, which show up
 * as a reset, a close or TLS bytes rather than an answer.
 */
import { PipelineError } from '../errors';
import { describeClientTlsError, handshakeBrokenError, plainPortHint } from '../tls/errors';
import type { TlsSettings } from '../tls/settings';

export interface ConnectionState {
  /** AE@host:port. */
  readonly peer: string;
  readonly host: string;
  readonly port: number;
  readonly tls?: TlsSettings;
  /** The socket's first error, if any. */
  readonly error?: NodeJS.ErrnoException;
  /** Where opening stood; undefined once the association is open. */
  readonly phase?: 'connect' | 'tls' | 'associate';
  /** Our plain association request was answered by a TLS record. */
  readonly answeredInTls?: boolean;
}

export function describeConnectionFailure(state: ConnectionState, fallback = 'connection lost with'): PipelineError {
  const { peer, host, port, tls, error, phase } = state;
  const where = `${host}:${port}`;
  const code = error?.code;
  if (tls && error) {
    const tlsError = describeClientTlsError(error, state, tls);
    if (tlsError) return tlsError;
  }
  if (tls && phase === 'tls') return handshakeBrokenError(state, code === 'ECONNRESET' ? 'reset' : 'closed', error);
  if (state.answeredInTls) {
    return new PipelineError('E_TLS', `TLS: ${where} answered our plain association request in TLS: it is a DICOM TLS port; turn tls on for ${peer} (config "tls": true, or --tls-cert/--tls-key/--tls-ca)`);
  }
  if (!tls && phase === 'associate' && (code === 'ECONNRESET' || code === undefined)) {
    return new PipelineError('E_NETWORK', `${peer} ${code ? 'reset' : 'closed'} the connection before answering our association request${plainPortHint()}`);
  }
  const hint = !tls && phase === 'associate' ? plainPortHint() : '';
  if (code === 'ECONNREFUSED') return new PipelineError('E_NETWORK', `connection refused by ${where} (nothing listening there?)`);
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return new PipelineError('E_NETWORK', `cannot resolve host ${host}`);
  if (code === 'EHOSTUNREACH' || code === 'ENETUNREACH') return new PipelineError('E_NETWORK', `cannot reach ${where} (${code})`);
  if (code) return new PipelineError('E_NETWORK', `connection error with ${peer}: ${code}${hint}`);
  return new PipelineError('E_NETWORK', `${fallback} ${peer}${hint}`);
}
