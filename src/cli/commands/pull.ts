import { resolve } from 'node:path';
import type { Command } from 'commander';
import { PipelineError } from '../../errors';
import { pull, pullProgressDetail, sharedNote, type PullReport } from '../../scu/pull';
import { formatPeer, parsePeer, validateAeTitle, validatePort } from '../../scu/peer';
import { createLogger } from '../../util/logger';
import { createProgress } from '../../util/progress';
import { EXIT_PARTIAL } from '../exit-codes';
import { addNetworkFlags, addTlsFlags, networkFromFlags, parseAeList, tlsFromFlags, type NetworkFlags, type TlsFlags } from './network-common';

interface PullFlags extends NetworkFlags, TlsFlags {
  out: string;
  aet: string;
  port: string;
  host?: string;
  callingAet?: string;
  allowAet?: string;
  json?: boolean;
}

const UID = /^[0-9]+(\.[0-9]+)*$/;

export function formatPullReport(report: PullReport): string {
  const lines = report.studies.map((s) => {
    const extra = s.error ? ` (${s.error})` : s.failed ? ` (C-MOVE: ${s.moveStatus}; ${s.retries} retry rounds)` : '';
    return `${s.studyInstanceUid}: expected ${s.expected}, received ${s.received}, failed ${s.failed}${extra}${sharedNote(s)}`;
  });
  const incomplete = report.studies.filter((s) => s.failed > 0 || s.error).length;
  lines.push(`${report.studies.length} studies, ${report.studies.length - incomplete} complete, ${incomplete} incomplete; ${report.receivedThisRun} instances received in this run`);
  return lines.join('\n');
}

export function register(program: Command): void {
  addTlsFlags(addNetworkFlags(
    program
      .command('pull')
      .description('C-MOVE studies from a peer into our embedded SCP, then check every instance arrived (C-FIND at IMAGE level)')
      .argument('<peer>', 'AE@host:port of the PACS to pull from')
      .argument('<studyUids...>', 'Study Instance UIDs')
      .requiredOption('--out <dir>', 'where instances are written: <dir>/<Study>/<Series>/<SOP>.dcm')
      .requiredOption('--aet <ae>', 'our AE title: the move destination the peer knows')
      .requiredOption('--port <n>', 'port of our SCP, as declared for our AE title at the peer')
      .option('--host <address>', 'bind address of our SCP (default: all interfaces)')
      .option('--calling-aet <ae>', 'calling AE title of our C-FIND/C-MOVE (default: --aet)')
      .option('--allow-aet <list>', 'calling AE titles allowed to store into our SCP (default: the peer\'s AE title)')
      .option('--retries <n>', 'rounds of re-moves for missing instances (default 3)')
      .option('--json', 'print the report as JSON'),
  )).action(async (peerText: string, studies: string[], flags: PullFlags) => {
    // One set of TLS settings: for our C-FIND/C-MOVE association and for our SCP, which receives the sub-associations.
    const tls = tlsFromFlags(flags);
    const peer = { ...parsePeer(peerText), tls };
    const bad = studies.filter((s) => !UID.test(s) || s.length > 64);
    if (bad.length) throw new PipelineError('E_USAGE', `not a Study Instance UID: ${bad[0]}`);
    const progress = createProgress('pull', 'instances');
    let report: PullReport;
    try {
      report = await pull({
        peer,
        studies: [...new Set(studies)],
        outDir: resolve(flags.out),
        localAet: validateAeTitle(flags.aet, '--aet'),
        localPort: validatePort(flags.port, '--port'),
        localHost: flags.host,
        localTls: tls,
        callingAet: flags.callingAet ? validateAeTitle(flags.callingAet, '--calling-aet') : undefined,
        allowedCallingAets: parseAeList(flags.allowAet, '--allow-aet'),
        network: networkFromFlags(flags),
        logger: createLogger(),
        onProgress: (e) => progress.update(e.received, Math.max(e.expected, e.received), pullProgressDetail(e)),
      });
    } finally {
      progress.stop();
    }
    process.stdout.write((flags.json ? JSON.stringify(report, null, 2) : formatPullReport(report)) + '\n');
    const incomplete = report.studies.filter((s) => s.failed > 0 || s.error);
    if (incomplete.length) {
      process.stderr.write(`dicom-pipeline: ${incomplete.length} of ${report.studies.length} studies incomplete from ${formatPeer(peer)}: ${incomplete.map((s) => s.studyInstanceUid).join(', ')}\n`);
      process.exitCode = EXIT_PARTIAL;
    }
  });
}
