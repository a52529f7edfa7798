/**
 * TLS failures explained: one line naming the peer and what to change. OpenSSL reports them as
 * error codes (ours when we refuse the peer's certificate, alerts when the peer refuses ours); a
 * plain DICOM port answering our TLS, or a TLS port answering our plain DICOM, shows up as odd bytes,
 * a reset or silence, which is also explained here rather than reported as "no response".
 */
import type { TLSSocket } from 'node:tls';
import { PipelineError } from '../errors';
import type { TlsSettings } from './settings';

export interface TlsPeer {
  /** AE@host:port. */
  readonly peer: string;
  readonly host: string;
  readonly port: number;
}

/** Our verification of the peer's chain failed: it does not lead to a CA of ours. */
const UNTRUSTED = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'UNABLE_TO_GET_ISSUER_CERT', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN', 'DEPTH_ZERO_SELF_SIGNED_CERT', 'CERT_SIGNATURE_FAILURE', 'CERT_UNTRUSTED', 'CERT_REJECTED',
]);

/** The peer answered something that is not TLS: it speaks plain DICOM on that port. */
const NOT_TLS = new Set(['ERR_SSL_WRONG_VERSION_NUMBER', 'ERR_SSL_PACKET_LENGTH_TOO_LONG', 'ERR_SSL_UNKNOWN_PROTOCOL', 'ERR_SSL_RECORD_LAYER_FAILURE', 'ERR_SSL_HTTP_REQUEST']);

/** Alerts by which the peer refuses the certificate we presented. */
const OUR_CERT_REFUSED = new Set([
  'ERR_SSL_TLSV1_ALERT_UNKNOWN_CA', 'ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE', 'ERR_SSL_SSLV3_ALERT_CERTIFICATE_UNKNOWN',
  'ERR_SSL_SSLV3_ALERT_UNSUPPORTED_CERTIFICATE', 'ERR_SSL_TLSV1_ALERT_ACCESS_DENIED', 'ERR_SSL_TLSV1_ALERT_DECRYPT_ERROR',
]);

const NO_COMMON_PROTOCOL = new Set([
  'ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION', 'ERR_SSL_UNSUPPORTED_PROTOCOL', 'ERR_SSL_NO_PROTOCOLS_AVAILABLE',
  'ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE', 'ERR_SSL_NO_SHARED_CIPHER', 'ERR_SSL_TLSV1_ALERT_INSUFFICIENT_SECURITY',
]);

function tlsError(message: string, cause?: unknown): PipelineError {
  return new PipelineError('E_TLS', message, { cause });
}

/** A TLS failure of a connection we opened, or undefined when `err` is not about TLS. */
export function describeClientTlsError(err: NodeJS.ErrnoException, at: TlsPeer, tls: TlsSettings): PipelineError | undefined {
  const code = err.code ?? '';
  const { peer } = at;
  if (UNTRUSTED.has(code)) {
    return tlsError(`TLS: the certificate of ${peer} is not signed by a CA in ${tls.files.ca} (${code}): add the CA that issued it to that bundle, or check that ${at.host}:${at.port} is the peer you mean`, err);
  }
  if (code === 'CERT_HAS_EXPIRED') return tlsError(`TLS: ${peer} presented an expired certificate: the peer must renew it (or fix its clock)`, err);
  if (code === 'CERT_NOT_YET_VALID') return tlsError(`TLS: ${peer} presented a certificate that is not valid yet: check the clocks of both machines`, err);
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') {
    return tlsError(`TLS: the certificate of ${peer} does not name host ${at.host}: connect by a name or address in its certificate, or turn the host name check off (tls.checkHostname false, --tls-no-hostname-check; the chain is still verified)`, err);
  }
  if (code === 'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED' || code === 'ERR_SSL_PEER_DID_NOT_RETURN_A_CERTIFICATE') {
    return tls.hasCertificate
      ? tlsError(`TLS: ${peer} did not accept our certificate (${tls.files.cert}) as a client certificate: check its trusted certificates`, err)
      : tlsError(`TLS: ${peer} requires a client certificate and we gave none: set tls.cert and tls.key (--tls-cert, --tls-key)`, err);
  }
  if (code === 'ERR_SSL_SSLV3_ALERT_CERTIFICATE_EXPIRED') return tlsError(`TLS: ${peer} refused our certificate (${tls.files.cert}) as expired: renew it`, err);
  if (OUR_CERT_REFUSED.has(code)) {
    return tlsError(`TLS: ${peer} refused our certificate (${tls.files.cert ?? 'none given'}): add the CA that issued it to the peer's trusted certificates (Orthanc: DicomTlsTrustedCertificates)`, err);
  }
  if (NOT_TLS.has(code)) return tlsError(`TLS: ${at.host}:${at.port} answered in plain DICOM, not TLS: use the peer's TLS port, or turn tls off for ${peer}`, err);
  if (NO_COMMON_PROTOCOL.has(code)) {
    return tlsError(`TLS: ${peer} and we share no protocol version or cipher suite (we allow ${tls.minVersion} or newer with forward-secret AEAD suites): the peer must support TLS 1.2 or 1.3 (BCP 195)`, err);
  }
  if (code.startsWith('ERR_SSL_') || code.startsWith('ERR_TLS_')) return tlsError(`TLS failure with ${peer} (${code}): check both sides' certificates and TLS settings`, err);
  return undefined;
}

/** The peer closed, reset or went silent before the TLS handshake finished. */
export function handshakeBrokenError(at: TlsPeer, how: 'closed' | 'reset' | string, cause?: unknown): PipelineError {
  const what = how === 'closed' ? 'closed the connection during the TLS handshake' : how === 'reset' ? 'reset the connection during the TLS handshake' : `did not complete the TLS handshake within ${how}`;
  return tlsError(
    `TLS: ${at.peer} ${what}: either ${at.host}:${at.port} is a plain (non-TLS) DICOM port (use its TLS port, or turn tls off for this peer) or it refused our certificate (see its log)`,
    cause,
  );
}

/** Hint for a plain association that the peer ended without a DICOM answer: maybe its port is TLS-only. */
export function plainPortHint(): string {
  return ' (if that port is TLS-only, e.g. Orthanc with DicomTlsEnabled, turn tls on for this peer)';
}

/** A TLS record where a DICOM PDU should be: byte 0x14-0x17, then major version 3. */
export function looksLikeTls(bytes: Buffer): boolean {
  return bytes.length >= 2 && bytes[0] >= 0x14 && bytes[0] <= 0x17 && bytes[1] === 0x03;
}

/**
 * Why a handshaken client may not associate, as the end of "TLS connection from ADDRESS ...";
 * undefined when its certificate chain leads to our CA bundle.
 */
export function clientCertificateProblem(socket: TLSSocket): string | undefined {
  if (socket.authorized) return undefined;
  const code = String(socket.authorizationError ?? '');
  const cert = socket.getPeerCertificate();
  if (!cert || Object.keys(cert).length === 0) return 'refused: it presented no client certificate (mutual TLS is required)';
  if (code === 'CERT_HAS_EXPIRED') return 'refused: its certificate has expired';
  if (code === 'CERT_NOT_YET_VALID') return 'refused: its certificate is not valid yet (check clocks)';
  if (UNTRUSTED.has(code)) return 'refused: its certificate is not signed by a CA in our tls.ca bundle';
  return `refused: its certificate did not verify (${code || 'unknown reason'})`;
}

/** The end of "TLS connection from ADDRESS ..." when the handshake itself failed. */
export function describeServerTlsError(err: NodeJS.ErrnoException): string {
  const code = err.code ?? '';
  if (NOT_TLS.has(code)) return 'refused: it spoke plain DICOM, and this SCP is TLS-only; the peer must use DICOM TLS';
  if (OUR_CERT_REFUSED.has(code) || code === 'ERR_SSL_SSLV3_ALERT_CERTIFICATE_EXPIRED') return `failed: the peer refused our certificate (${code}): it must trust the CA that issued ours`;
  if (NO_COMMON_PROTOCOL.has(code)) return `failed: no common TLS version or cipher suite (${code}); we allow TLS 1.2 or newer (BCP 195)`;
  if (code === 'ECONNRESET') return 'failed: the peer reset the connection during the TLS handshake (does it trust our CA? see its log)';
  if (code === 'ERR_TLS_HANDSHAKE_TIMEOUT') return 'dropped: no TLS handshake in time (a plain DICOM peer waiting for an answer?)';
  return `failed (${code || err.message.split('\n')[0]})`;
}
