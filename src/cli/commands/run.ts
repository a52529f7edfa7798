import type { Command } from 'commander';
import { isPostgresUrl, redactUrl } from '../../anon/identity/store';
import { parseModalities } from '../../anon/settings-from-config';
import { loadConfig } from '../../config/load';
import { PipelineError } from '../../errors';
import { runPipeline } from '../../run/runner';

interface RunFlags {
  config?: string;
  runlast?: boolean;
  practice?: boolean;
  push?: boolean;
  allowedModalities?: string;
  max?: string;
  printConfig?: boolean;
}

/** The effective config, with what must not be shown masked (secrets, and passwords inside database URLs). */
function printable(config: unknown): string {
  return JSON.stringify(config, (key, value) => {
    if (/secret|password|token/i.test(key)) return '***';
    return typeof value === 'string' && isPostgresUrl(value) ? redactUrl(value) : value;
  }, 2);
}

export function register(program: Command): void {
  program
    .command('run', { isDefault: true })
    .description('Run the pipeline: select reviewed studies, pull, anonymize and verify, hook, push, confirm, mark (the default command)')
    .option('-c, --config <file>', 'config file (default: ./dicom-pipeline.json)')
    .option('-r, --runlast', 'resume the newest run from its first unfinished step')
    .option('-p, --practice', 'pull and anonymize only: no push, no review-database writes, identity.db untouched (a copy is used)')
    .option('-n, --no-push', 'stop before pushing to the research PACS')
    .option('-a, --allowed-modalities <list>', "comma-separated modalities, or '*' (default: allowedModalities from the config, MR,CT)")
    .option('-m, --max <n>', 'at most this many studies (default: maxStudies from the config, 10)')
    .option('--print-config', 'print the effective configuration and exit')
    .action(async (flags: RunFlags) => {
      const { config, source } = loadConfig(flags.config);
      if (flags.printConfig) {
        process.stdout.write(`# ${source ?? 'defaults (no config file)'}\n${printable(config)}\n`);
        return;
      }
      const max = flags.max === undefined ? config.maxStudies : Number(flags.max);
      if (!Number.isInteger(max) || max < 1) throw new PipelineError('E_USAGE', '--max expects a positive integer');
      const result = await runPipeline({
        config,
        resume: !!flags.runlast,
        options: {
          practice: !!flags.practice,
          noPush: flags.push === false,
          max,
          allowedModalities: flags.allowedModalities ? parseModalities(flags.allowedModalities) : config.allowedModalities,
        },
      });
      process.exitCode = result.exitCode;
    });
}
