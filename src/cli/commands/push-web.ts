/** `push URL DIR`: the DICOMweb (STOW-RS) form of the push command and its flags. */
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { PipelineError } from '../../errors';
import type { NetworkOptions } from '../../scu/options';
import { createLogger } from '../../util/logger';
import { createProgress } from '../../util/progress';
import { parseWebUrl, type WebAuth, type WebConfirmMode, type WebDestination } from '../../web/destination';
import { pushWeb, type WebPushReport } from '../../web/push';
import { positiveNumber, type TlsFlags } from './network-common';

/** DICOMweb's own flags; --tls-ca, --tls-cert, --tls-key, --tls-min-version, --tls-no-hostname-check are the shared TLS flags. */
export interface WebPushFlags extends TlsFlags {
  user?: string;
  passwordFile?: string;
  tokenFile?: string;
  filesPerRequest?: string;
}

export function addWebPushFlags(command: Command): Command {
  return command
    .option('--user <name>', 'DICOMweb: HTTP Basic user name (with --password-file)')
    .option('--password-file <file>', 'DICOMweb: file holding the Basic password (one line)')
    .option('--token-file <file>', 'DICOMweb: file holding a bearer token, re-read when it changes')
    .option('--files-per-request <n>', 'DICOMweb: instances per STOW-RS request (default 50)');
}

function authFromFlags(flags: WebPushFlags): WebAuth | undefined {
  if (flags.user !== undefined || flags.passwordFile !== undefined) {
    if (!flags.user || !flags.passwordFile) throw new PipelineError('E_USAGE', '--user and --password-file go together');
    if (flags.tokenFile) throw new PipelineError('E_USAGE', 'give either --user/--password-file or --token-file');
    if (flags.user.includes(':')) throw new PipelineError('E_USAGE', '--user must not contain a colon');
    return { basic: { user: flags.user, passwordFile: resolve(flags.passwordFile) } };
  }
  return flags.tokenFile ? { bearer: { tokenFile: resolve(flags.tokenFile) } } : undefined;
}

const WEB_ONLY: Array<[keyof WebPushFlags, string]> = [
  ['user', '--user'], ['passwordFile', '--password-file'], ['tokenFile', '--token-file'], ['filesPerRequest', '--files-per-request'],
];

/** A DIMSE push given a DICOMweb-only flag is a usage error, not a silently ignored option. */
export function refuseWebFlags(flags: WebPushFlags): void {
  const given = WEB_ONLY.filter(([key]) => flags[key] !== undefined).map(([, flag]) => flag);
  if (given.length) throw new PipelineError('E_USAGE', `${given.join(', ')} only apply to a DICOMweb destination (an http:// or https:// URL)`);
}

export function destinationFromFlags(urlText: string, flags: WebPushFlags, confirm: WebConfirmMode): WebDestination {
  if (!!flags.tlsCert !== !!flags.tlsKey) throw new PipelineError('E_USAGE', '--tls-cert and --tls-key go together');
  const filesPerRequest = positiveNumber(flags.filesPerRequest, '--files-per-request', true);
  if (filesPerRequest === 0) throw new PipelineError('E_USAGE', '--files-per-request expects at least 1');
  const version = flags.tlsMinVersion;
  if (version !== undefined && version !== '1.2' && version !== '1.3') throw new PipelineError('E_USAGE', `--tls-min-version expects 1.2 or 1.3, got "${version}"`);
  const tls = flags.tlsCa || flags.tlsCert || version || flags.tlsNoHostnameCheck
    ? {
        ca: flags.tlsCa && resolve(flags.tlsCa),
        cert: flags.tlsCert && resolve(flags.tlsCert),
        key: flags.tlsKey && resolve(flags.tlsKey),
        minVersion: version && (`TLSv${version}` as const),
        checkHostname: !flags.tlsNoHostnameCheck,
      }
    : undefined;
  return { url: parseWebUrl(urlText), auth: authFromFlags(flags), tls, confirm, filesPerRequest };
}

export async function pushToWeb(urlText: string, dir: string, flags: WebPushFlags, confirm: WebConfirmMode, network: NetworkOptions): Promise<WebPushReport> {
  const destination = destinationFromFlags(urlText, flags, confirm);
  const progress = createProgress('push');
  try {
    return await pushWeb({ destination, dir: resolve(dir), network, logger: createLogger(), onProgress: (done, total) => progress.update(done, total) });
  } finally {
    progress.stop();
  }
}
