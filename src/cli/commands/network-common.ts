/** Flags shared by the networking commands (echo, find, pull, push, listen). */
import type { Command } from 'commander';
import { PipelineError } from '../../errors';
import { networkOptions, type NetworkOptions } from '../../scu/options';
import { validateAeTitle } from '../../scu/peer';
import { loadTls, type TlsMinVersion, type TlsSettings } from '../../tls/settings';

export const DEFAULT_CALLING_AET = 'DICOMPIPE';

export interface NetworkFlags {
  connectTimeout?: string;
  timeout?: string;
  maxPdu?: string;
  retries?: string;
}

export function addNetworkFlags(command: Command): Command {
  return command
    .option('--connect-timeout <s>', 'seconds to connect and to get the association answered (default 10 / 30)')
    .option('--timeout <s>', 'seconds without any DIMSE response before giving up (default 300; each pending response restarts it)')
    .option('--max-pdu <bytes>', 'largest PDU we receive (default 65536)');
}

export function positiveNumber(text: string | undefined, flag: string, integer = false): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isFinite(n) || n < 0 || (integer && !Number.isInteger(n))) {
    throw new PipelineError('E_USAGE', `${flag} expects a ${integer ? 'non-negative integer' : 'non-negative number'}, got "${text}"`);
  }
  return n;
}

export function networkFromFlags(flags: NetworkFlags, extra: Partial<NetworkOptions> = {}): NetworkOptions {
  const connect = positiveNumber(flags.connectTimeout, '--connect-timeout');
  const timeout = positiveNumber(flags.timeout, '--timeout');
  const maxPdu = positiveNumber(flags.maxPdu, '--max-pdu', true);
  if (maxPdu !== undefined && (maxPdu < 4096 || maxPdu > 4_194_304)) throw new PipelineError('E_USAGE', '--max-pdu expects 4096 to 4194304');
  return networkOptions({
    connectTimeoutMs: connect === undefined ? undefined : connect * 1000,
    associationTimeoutMs: connect === undefined ? undefined : connect * 1000,
    dimseTimeoutMs: timeout === undefined ? undefined : timeout * 1000,
    maxPduLength: maxPdu,
    retries: positiveNumber(flags.retries, '--retries', true),
    ...extra,
  });
}

/** "A,B , C" → ['A','B','C'], each validated as an AE title. */
export function parseAeList(text: string | undefined, flag: string): string[] | undefined {
  if (text === undefined) return undefined;
  const list = text.split(',').map((s) => s.trim()).filter(Boolean);
  if (list.length === 0) throw new PipelineError('E_USAGE', `${flag} expects a comma-separated list of AE titles`);
  return list.map((aet) => validateAeTitle(aet, `AE title in ${flag}`));
}

export function parseList(text: string | undefined): string[] | undefined {
  return text === undefined ? undefined : text.split(',').map((s) => s.trim()).filter(Boolean);
}

export interface TlsFlags {
  tlsCert?: string;
  tlsKey?: string;
  tlsCa?: string;
  tlsMinVersion?: string;
  tlsNoHostnameCheck?: boolean;
}

/** --tls-*: giving any of the files turns DICOM TLS on (for the peer, and for our SCP where there is one). */
export function addTlsFlags(command: Command): Command {
  return command
    .option('--tls-cert <file>', 'DICOM TLS: our certificate (PEM), presented to the peer')
    .option('--tls-key <file>', 'DICOM TLS: the private key of --tls-cert (PEM, unencrypted, mode 600)')
    .option('--tls-ca <file>', "DICOM TLS: CA bundle (PEM) the peer's certificate must be signed by")
    .option('--tls-min-version <v>', 'DICOM TLS: lowest protocol version, 1.2 or 1.3 (default 1.2)')
    .option('--tls-no-hostname-check', "DICOM TLS: do not require the peer's certificate to name its host (its chain is still verified)");
}

export function warnOnStderr(line: string): void {
  process.stderr.write(`dicom-pipeline: warning: ${line}\n`);
}

/** The TLS settings the flags ask for, loaded and checked; undefined when no --tls-* file was given. */
export function tlsFromFlags(flags: TlsFlags): TlsSettings | undefined {
  const on = flags.tlsCert !== undefined || flags.tlsKey !== undefined || flags.tlsCa !== undefined;
  if (!on) {
    if (flags.tlsNoHostnameCheck || flags.tlsMinVersion) throw new PipelineError('E_USAGE', '--tls-no-hostname-check and --tls-min-version need TLS: give --tls-ca (and --tls-cert, --tls-key)');
    return undefined;
  }
  if (flags.tlsCa === undefined) throw new PipelineError('E_USAGE', "--tls-ca is required with TLS: the CA bundle the peer's certificate must be signed by");
  const version = flags.tlsMinVersion;
  if (version !== undefined && version !== '1.2' && version !== '1.3') throw new PipelineError('E_USAGE', `--tls-min-version expects 1.2 or 1.3, got "${version}"`);
  return loadTls(
    { cert: flags.tlsCert, key: flags.tlsKey, ca: flags.tlsCa, minVersion: version ? (`TLSv${version}` as TlsMinVersion) : undefined, checkHostname: !flags.tlsNoHostnameCheck },
    'the --tls-* options',
    warnOnStderr,
    'flags',
  );
}
