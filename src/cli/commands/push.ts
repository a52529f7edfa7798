import { resolve } from 'node:path';
import type { Command } from 'commander';
import { PipelineError } from '../../errors';
import { CONFIRM_MODES, type ConfirmMode } from '../../scu/confirm';
import { push, type PushReport } from '../../scu/push';
import { pushExitCode, summaryLines, totalsOf } from '../../scu/push-summary';
import { formatPeer, parsePeer, validateAeTitle, validatePort, type Peer } from '../../scu/peer';
import { createLogger } from '../../util/logger';
import { createProgress } from '../../util/progress';
import { addNetworkFlags, addTlsFlags, DEFAULT_CALLING_AET, networkFromFlags, positiveNumber, tlsFromFlags, type NetworkFlags, type TlsFlags } from './network-common';
import { isWebUrl } from '../../web/destination';
import { addWebPushFlags, pushToWeb, refuseWebFlags, type WebPushFlags } from './push-web';

interface PushFlags extends NetworkFlags, TlsFlags, WebPushFlags {
  aet?: string;
  port?: string;
  host?: string;
  confirm?: string;
  commitmentTimeout?: string;
  associations?: string;
  requestsPerAssociation?: string;
  json?: boolean;
}

const LISTED = 50;

export function formatPushReport(r: PushReport): string {
  const lines = [`files: ${r.files}`, ...summaryLines(totalsOf([r]))];
  const problems = r.results.filter((f) => !f.delivered);
  for (const f of problems.slice(0, LISTED)) lines.push(`  ${f.path}: ${f.status === 'failed' ? '' : 'unconfirmed: '}${f.reason}`);
  if (problems.length > LISTED) lines.push(`  ... and ${problems.length - LISTED} more`);
  return lines.join('\n');
}

function confirmMode(text: string | undefined): ConfirmMode {
  if (text === undefined) return 'auto';
  if (!(CONFIRM_MODES as readonly string[]).includes(text)) throw new PipelineError('E_USAGE', `--confirm expects one of ${CONFIRM_MODES.join(', ')}, got "${text}"`);
  return text as ConfirmMode;
}

export function register(program: Command): void {
  addTlsFlags(addWebPushFlags(addNetworkFlags(
    program
      .command('push')
      .description("C-STORE (or STOW-RS, to a DICOMweb URL) every DICOM file under <dir> (the files' own bytes), then confirm each instance with C-FIND (or QIDO-RS)")
      .argument('<peer>', 'AE@host:port of the destination, or the base URL of a DICOMweb archive (https://host/dicom-web)')
      .argument('<dir>', 'directory of DICOM Part-10 files (searched recursively)')
      .option('--aet <ae>', `our AE title: calling AE, and where storage commitment reports are sent (default ${DEFAULT_CALLING_AET})`)
      .option('--port <n>', 'port of our SCP for storage commitment reports, as declared for --aet at the archive (needed for --confirm commitment)')
      .option('--host <address>', 'bind address of that SCP (default: all interfaces)')
      .option('--confirm <how>', 'auto (default), commitment, find or none (DICOMweb: auto, find or none)')
      .option('--commitment-timeout <s>', 'seconds to wait for storage commitment reports (default 600)')
      .option('--associations <n>', 'parallel associations, or STOW-RS requests in flight (default 2)')
      .option('--requests-per-association <n>', 'C-STOREs per association before a new one (default 1000)')
      .option('--retries <n>', 'attempts after transient failures (default 3)')
      .option('--json', 'print the report as JSON (each file with its status and how it was confirmed)'),
  ))).action(async (peerText: string, dir: string, flags: PushFlags) => {
    const confirm = confirmMode(flags.confirm);
    const associations = positiveNumber(flags.associations, '--associations', true);
    if (isWebUrl(peerText)) {
      if (confirm === 'commitment') throw new PipelineError('E_USAGE', '--confirm commitment is a DIMSE service: a DICOMweb archive is confirmed with QIDO-RS (auto, find) or not at all (none)');
      const report = await pushToWeb(peerText, dir, flags, confirm, networkFromFlags(flags, { associations: associations || undefined }));
      finish(report, report.destination, flags);
      return;
    }
    refuseWebFlags(flags);
    const peer = { ...parsePeer(peerText), tls: tlsFromFlags(flags) };
    const perAssociation = positiveNumber(flags.requestsPerAssociation, '--requests-per-association', true);
    const commitmentTimeout = positiveNumber(flags.commitmentTimeout, '--commitment-timeout');
    const aet = validateAeTitle(flags.aet ?? DEFAULT_CALLING_AET, '--aet');
    const port = flags.port === undefined ? undefined : validatePort(flags.port, '--port');
    if (confirm === 'commitment' && port === undefined) {
      throw new PipelineError('E_USAGE', '--confirm commitment needs --port (and --aet): the archive sends its storage commitment report to that AE title and port');
    }
    const progress = createProgress('push');
    const confirming = createProgress('confirm', 'instances');
    let report: PushReport;
    try {
      report = await push({
        peer,
        dir: resolve(dir),
        callingAet: aet,
        confirm,
        commitmentEndpoint: port === undefined ? undefined : { aeTitle: aet, port, host: flags.host, tls: peer.tls },
        network: networkFromFlags(flags, {
          associations: associations || undefined,
          requestsPerAssociation: perAssociation || undefined,
          commitmentTimeoutMs: commitmentTimeout === undefined ? undefined : commitmentTimeout * 1000,
        }),
        logger: createLogger(),
        onProgress: (done, total) => progress.update(done, total),
        onConfirmProgress: (done, total, how) => confirming.update(done, total, how),
      });
    } finally {
      progress.stop();
      confirming.stop();
    }
    finish(report, peer, flags);
  });
}

/** The report, the warning, and the exit code: the same for a DIMSE peer and a DICOMweb archive. */
function finish(report: PushReport, destination: Peer | string, flags: PushFlags): void {
  process.stdout.write((flags.json ? JSON.stringify(report, null, 2) : formatPushReport(report)) + '\n');
  if (report.warning) process.stderr.write(`dicom-pipeline: warning: ${report.warning}\n`);
  const code = pushExitCode(totalsOf([report]), destination, report.failed[0]?.reason);
  if (code !== 0) {
    const name = typeof destination === 'string' ? destination : formatPeer(destination);
    process.stderr.write(`dicom-pipeline: ${report.files - report.delivered} of ${report.files} files not delivered to ${name} (listed above)\n`);
    process.exitCode = code;
  }
}
