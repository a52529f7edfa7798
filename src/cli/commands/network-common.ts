/** Flags shared by the networking commands (echo, find, pull, push, listen). */
import type { Command } from 'commander';
import { PipelineError } from '../../errors';
import { networkOptions, type NetworkOptions } from '../../scu/options';
import { validateAeTitle } from '../../scu/peer';

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
