import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { Command } from 'commander';
import { anonymizeTree, type AnonymizeSummary } from '../../anon/anonymize-tree';
import type { AnonymizeSettings } from '../../anon/settings';
import { loadConfig } from '../../config/load';
import type { PipelineConfig } from '../../config/schema';
import { PipelineError } from '../../errors';
import { readJsonFile } from '../../util/json-file';
import { createProgress } from '../../util/progress';
import { EXIT_FAILED, EXIT_OK } from '../exit-codes';

export const DEFAULT_WHITE_LIST = 'dicom_limited_vocabulary.json';

interface AnonymizeFlags {
  quarantine?: string;
  identity?: string;
  whiteList?: string;
  allowedModalities?: string;
  config?: string;
  workers?: string;
}

export function parseModalities(text: string): string[] | '*' {
  if (text.trim() === '*') return '*';
  const list = text.split(',').map((m) => m.trim().toUpperCase()).filter(Boolean);
  const bad = list.filter((m) => !/^[A-Z0-9_]{1,16}$/.test(m));
  if (list.length === 0 || bad.length) throw new PipelineError('E_USAGE', `--allowed-modalities expects codes like MR,CT or '*'; got "${text}"`);
  return list;
}

/** Builds the settings from the config and the flags (flags win). */
export function anonymizeSettings(config: PipelineConfig, input: string, output: string, flags: AnonymizeFlags): AnonymizeSettings {
  const whiteListPath = flags.whiteList ?? config.whiteList ?? (existsSync(DEFAULT_WHITE_LIST) ? DEFAULT_WHITE_LIST : undefined);
  const workers = flags.workers === undefined ? config.workers : Number(flags.workers);
  if (workers !== undefined && (!Number.isInteger(workers) || workers < 1)) throw new PipelineError('E_USAGE', '--workers expects a positive integer');
  return {
    inputDir: resolve(input),
    outputDir: resolve(output),
    quarantineDir: resolve(flags.quarantine ?? join(dirname(resolve(output)), 'quarantine')),
    identityDb: resolve(flags.identity ?? config.identityDb),
    identity: { dicomRoot: config.dicomRoot, keyFile: config.keyFile, dateShiftDays: config.dateShiftDays },
    profile: config.profile,
    quarantine: {
      ...config.quarantine,
      allowedModalities: flags.allowedModalities ? parseModalities(flags.allowedModalities) : config.allowedModalities,
    },
    whiteList: whiteListPath ? readJsonFile(whiteListPath, 'white list') : undefined,
    workers,
  };
}

export function formatSummary(s: AnonymizeSummary): string {
  const lines = [
    `files in:     ${s.filesIn}`,
    `anonymized:   ${s.anonymized} (verified: ${s.verified})`,
    `quarantined:  ${s.quarantined}`,
    ...Object.entries(s.quarantinedByReason).sort().map(([reason, n]) => `  ${reason}: ${n}`),
  ];
  if (s.duplicates) lines.push(`duplicates:   ${s.duplicates} (identical copies, skipped)`);
  if (s.failed.length) lines.push(`failed:       ${s.failed.length}`, ...s.failed.slice(0, 20).map((f) => `  ${f}`));
  const rate = s.seconds > 0 ? (s.filesIn / s.seconds).toFixed(0) : '-';
  lines.push(`time:         ${s.seconds.toFixed(1)} s (${rate} files/s)`);
  return lines.join('\n');
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
      const settings = anonymizeSettings(config, input, output, flags);
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
