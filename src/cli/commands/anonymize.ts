import { dirname, join, resolve } from 'node:path';
import type { Command } from 'commander';
import { anonymizeTree, type AnonymizeSummary } from '../../anon/anonymize-tree';
import { DEFAULT_WHITE_LIST, formatSummary, parseModalities, settingsFromConfig } from '../../anon/settings-from-config';
import { loadConfig } from '../../config/load';
import { PipelineError } from '../../errors';
import { createProgress } from '../../util/progress';
import { EXIT_FAILED, EXIT_OK } from '../exit-codes';

interface AnonymizeFlags {
  quarantine?: string;
  identity?: string;
  whiteList?: string;
  allowedModalities?: string;
  config?: string;
  workers?: string;
}

function parseWorkers(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) throw new PipelineError('E_USAGE', '--workers expects a positive integer');
  return n;
}

export function register(program: Command): void {
  program
    .command('anonymize')
    .description('De-identify every DICOM file under <inputDir> into <outputDir>/<Study>/<Series>/<SOP>.dcm (PS3.15)')
    .argument('<inputDir>', 'identified files (never modified)')
    .argument('<outputDir>', 'where anonymized files go')
    .option('--quarantine <dir>', 'where risky and unreadable files are copied (default: <outputDir>/../quarantine)')
    .option('--identity <file>', 'identity map database (default: identityDb from config, else ./identity.db)')
    .option('--white-list <file>', `descriptor values to keep (default: ./${DEFAULT_WHITE_LIST} if present)`)
    .option('--allowed-modalities <list>', "comma-separated modalities, or '*' for all (default: MR,CT)")
    .option('--config <file>', 'config file (default: ./dicom-pipeline.json if present)')
    .option('--workers <n>', 'worker threads (default: one per core, at most 4)')
    .action(async (input: string, output: string, flags: AnonymizeFlags) => {
      const { config } = loadConfig(flags.config);
      const settings = settingsFromConfig(config, {
        inputDir: input,
        outputDir: output,
        quarantineDir: flags.quarantine ?? join(dirname(resolve(output)), 'quarantine'),
        identityDb: flags.identity,
        whiteList: flags.whiteList,
        allowedModalities: flags.allowedModalities ? parseModalities(flags.allowedModalities) : undefined,
        workers: parseWorkers(flags.workers),
      });
      const progress = createProgress('anonymize');
      let summary: AnonymizeSummary;
      try {
        summary = await anonymizeTree(settings, { onOutcome: (_o, done, total) => progress.update(done, total) });
      } finally {
        progress.stop();
      }
      process.stdout.write(formatSummary(summary) + '\n');
      process.stdout.write(`output: ${settings.outputDir}\nquarantine: ${settings.quarantineDir} (reasons in quarantine.jsonl)\n`);
      process.exitCode = summary.failed.length ? EXIT_FAILED : EXIT_OK;
    });
}
