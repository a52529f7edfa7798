/** `push URL DIR`: the DICOMweb (STOW-RS) form of the push command, its flags and its report. */
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { PipelineError } from '../../errors';
import type { NetworkOptions } from '../../scu/options';
import { createLogger } from '../../util/logger';
import { createProgress } from '../../util/progress';
import { parseWebUrl, type ConfirmMode, type WebAuth, type WebDestination } from '../../web/destination';
import { pushWeb, type WebPushReport } from '../../web/push';
import { EXIT_FAILED, EXIT_PARTIAL } from '../exit-codes';
import { positiveNumber } from './network-common';

export interface WebPushFlags {
  user?: string;
  passwordFile?: string;
  tokenFile?: string;
  tlsCa?: string;
  tlsCert?: string;
  tlsKey?: string;
  confirm?: string;
  filesPerRequest?: string;
  json?: boolean;
}

export function addWebPushFlags(command: Command): Command {
  return command
    .option('--user <name>', 'DICOMweb: HTTP Basic user name (with --password-file)')
    .option('--password-file <file>', 'DICOMweb: file holding the Basic password (one line)')
    .option('--token-file <file>', 'DICOMweb: file holding a bearer token, re-read when it changes')
    .option('--tls-ca <file>', 'DICOMweb over https: PEM bundle of the CAs to trust')
    .option('--tls-cert <file>', 'DICOMweb over https: our client certificate (PEM, with --tls-key)')
    .option('--tls-key <file>', 'DICOMweb over https: the client certificate\'s key (PEM)')
    .option('--confirm <mode>', 'DICOMweb: auto (QIDO-RS when offered), find (QIDO-RS required) or none (default auto)')
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
  ['user', '--user'], ['passwordFile', '--password-file'], ['tokenFile', '--token-file'], ['tlsCa', '--tls-ca'],
  ['tlsCert', '--tls-cert'], ['tlsKey', '--tls-key'], ['confirm', '--confirm'], ['filesPerRequest', '--files-per-request'],
];

/** A DIMSE push given a DICOMweb-only flag is a usage error, not a silently ignored option. */
export function refuseWebFlags(flags: WebPushFlags): void {
  const given = WEB_ONLY.filter(([key]) => flags[key] !== undefined).map(([, flag]) => flag);
  if (given.length) throw new PipelineError('E_USAGE', `${given.join(', ')} only apply to a DICOMweb destination (an http:// or https:// URL)`);
}

export function destinationFromFlags(urlText: string, flags: WebPushFlags): WebDestination {
  if (!!flags.tlsCert !== !!flags.tlsKey) throw new PipelineError('E_USAGE', '--tls-cert and --tls-key go together');
  const confirm = flags.confirm ?? 'auto';
  if (!['auto', 'find', 'none'].includes(confirm)) throw new PipelineError('E_USAGE', `--confirm expects auto, find or none, got "${confirm}"`);
  const filesPerRequest = positiveNumber(flags.filesPerRequest, '--files-per-request', true);
  if (filesPerRequest === 0) throw new PipelineError('E_USAGE', '--files-per-request expects at least 1');
  const tls = flags.tlsCa || flags.tlsCert ? { ca: flags.tlsCa && resolve(flags.tlsCa), cert: flags.tlsCert && resolve(flags.tlsCert), key: flags.tlsKey && resolve(flags.tlsKey) } : undefined;
  return { url: parseWebUrl(urlText), auth: authFromFlags(flags), tls, confirm: confirm as ConfirmMode, filesPerRequest };
}

export function formatWebPushReport(r: WebPushReport): string {
  const lines = [
    `destination: ${r.destination}`,
    `files:       ${r.files}`,
    `stored:      ${r.stored}${r.warnings ? ` (${r.warnings} with warnings)` : ''}`,
    `confirmed:   ${r.confirmed}${r.confirmed ? ' (QIDO-RS at the destination)' : ''}`,
    `failed:      ${r.failed.length}`,
    ...r.failed.slice(0, 50).map((f) => `  ${f.path}: ${f.reason}`),
  ];
  if (r.failed.length > 50) lines.push(`  ... and ${r.failed.length - 50} more`);
  if (r.storedUnconfirmed.length) lines.push(`unconfirmed: ${r.storedUnconfirmed.length} (${r.confirmation})`);
  if (r.unconfirmed.length) {
    const why = r.confirmation.startsWith('QIDO-RS at') ? 'stored per the STOW-RS answer, absent from the QIDO-RS listing' : r.confirmation;
    lines.push(`unconfirmed: ${r.unconfirmed.length} (${why})`, ...r.unconfirmed.slice(0, 50).map((p) => `  ${p}`));
  }
  return lines.join('\n');
}

export async function pushToWeb(urlText: string, dir: string, flags: WebPushFlags, network: NetworkOptions): Promise<void> {
  const destination = destinationFromFlags(urlText, flags);
  const progress = createProgress('push');
  let report: WebPushReport;
  try {
    report = await pushWeb({ destination, dir: resolve(dir), network, logger: createLogger(), onProgress: (done, total) => progress.update(done, total) });
  } finally {
    progress.stop();
  }
  process.stdout.write((flags.json ? JSON.stringify(report, null, 2) : formatWebPushReport(report)) + '\n');
  if (!report.complete) {
    const notStored = report.failed.length + report.unconfirmed.length;
    process.stderr.write(`dicom-pipeline: ${notStored} of ${report.files} files not stored at ${report.destination} (listed above)\n`);
    // Nothing stored at all is a failure; some stored is a partial success.
    process.exitCode = report.stored === 0 ? EXIT_FAILED : EXIT_PARTIAL;
  }
}
