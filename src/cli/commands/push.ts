import { resolve } from 'node:path';
import type { Command } from 'commander';
import { push, type PushReport } from '../../scu/push';
import { formatPeer, parsePeer, validateAeTitle } from '../../scu/peer';
import { createLogger } from '../../util/logger';
import { createProgress } from '../../util/progress';
import { EXIT_PARTIAL } from '../exit-codes';
import { addNetworkFlags, DEFAULT_CALLING_AET, networkFromFlags, positiveNumber, type NetworkFlags } from './network-common';

interface PushFlags extends NetworkFlags {
  aet?: string;
  associations?: string;
  requestsPerAssociation?: string;
  json?: boolean;
}

export function formatPushReport(r: PushReport): string {
  const lines = [
    `files:       ${r.files}`,
    `stored:      ${r.stored}${r.warnings ? ` (${r.warnings} with warnings)` : ''}`,
    `confirmed:   ${r.confirmed} (C-FIND at the destination)`,
    `failed:      ${r.failed.length}`,
    ...r.failed.slice(0, 50).map((f) => `  ${f.path}: ${f.reason}`),
  ];
  if (r.failed.length > 50) lines.push(`  ... and ${r.failed.length - 50} more`);
  if (r.unconfirmed.length) {
    lines.push(`unconfirmed: ${r.unconfirmed.length} (answered Success, absent from the destination's C-FIND)`, ...r.unconfirmed.slice(0, 50).map((p) => `  ${p}`));
  }
  return lines.join('\n');
}

export function register(program: Command): void {
  addNetworkFlags(
    program
      .command('push')
      .description("C-STORE every DICOM file under <dir> (the files' own bytes), then confirm each instance with C-FIND")
      .argument('<peer>', 'AE@host:port of the destination')
      .argument('<dir>', 'directory of DICOM Part-10 files (searched recursively)')
      .option('--aet <ae>', `our calling AE title (default ${DEFAULT_CALLING_AET})`)
      .option('--associations <n>', 'parallel associations (default 2)')
      .option('--requests-per-association <n>', 'C-STOREs per association before a new one (default 1000)')
      .option('--retries <n>', 'attempts after transient failures (default 3)')
      .option('--json', 'print the report as JSON'),
  ).action(async (peerText: string, dir: string, flags: PushFlags) => {
    const peer = parsePeer(peerText);
    const associations = positiveNumber(flags.associations, '--associations', true);
    const perAssociation = positiveNumber(flags.requestsPerAssociation, '--requests-per-association', true);
    const progress = createProgress('push');
    let report: PushReport;
    try {
      report = await push({
        peer,
        dir: resolve(dir),
        callingAet: validateAeTitle(flags.aet ?? DEFAULT_CALLING_AET, 'calling AE title'),
        network: networkFromFlags(flags, {
          associations: associations || undefined,
          requestsPerAssociation: perAssociation || undefined,
        }),
        logger: createLogger(),
        onProgress: (done, total) => progress.update(done, total),
      });
    } finally {
      progress.stop();
    }
    process.stdout.write((flags.json ? JSON.stringify(report, null, 2) : formatPushReport(report)) + '\n');
    if (!report.complete) {
      const notStored = report.failed.length + report.unconfirmed.length;
      process.stderr.write(`dicom-pipeline: ${notStored} of ${report.files} files not stored at ${formatPeer(peer)} (listed above)\n`);
      process.exitCode = EXIT_PARTIAL;
    }
  });
}
