import type { Command } from 'commander';
import { loadConfig } from '../../config/load';
import { cleanData, parseCutoffDate, type CleanDataResult } from '../../tools/clean-data';
import { formatBytes, formatLocalTime, plural } from '../../tools/format';
import { createProgress } from '../../util/progress';
import { EXIT_FAILED, EXIT_OK } from '../exit-codes';

interface CleanDataFlags {
  dataDir?: string;
  dryRun?: boolean;
  config?: string;
}

export function formatCleanData(r: CleanDataResult): string {
  const verb = r.dryRun ? 'would delete' : 'deleted';
  const lines = [`data directory: ${r.dataDir}`, `cutoff: runs started before ${formatLocalTime(r.cutoff)} (local time)`];
  for (const run of r.runs) {
    lines.push(`${run.name} (started ${formatLocalTime(run.startedAt)})`);
    const active = run.directories.filter((d) => d.files > 0 || d.dirs > 0);
    for (const d of active) {
      const kept = d.kept.length ? `, kept ${d.kept.map((k) => k.slice(d.path.length + 1)).join(', ')}` : '';
      lines.push(`  ${verb} ${d.path}: ${plural(d.files, 'file')}, ${formatBytes(d.bytes)}${kept}`);
    }
    for (const s of run.skipped) lines.push(`  skipped ${s.path}: ${s.reason}`);
    if (active.length === 0 && run.skipped.length === 0) lines.push('  nothing to clean');
    if (!run.finished && active.length) lines.push('  note: no done.txt, the run may be unfinished; it cannot be resumed once cleaned');
  }
  for (const s of r.skipped) lines.push(`skipped ${s.path}: ${s.reason}`);
  for (const f of r.failures) lines.push(`failed ${f.path}: ${f.reason}`);
  const already = r.runs.length - r.runsCleaned;
  lines.push(
    `${r.dryRun ? 'runs to clean' : 'runs cleaned'}: ${r.runsCleaned} of ${r.runs.length} older than the cutoff` +
      `${already ? ` (${already} already clean)` : ''}; ${plural(r.newerRuns.length, 'newer run')} untouched`,
    `${r.dryRun ? 'bytes to free' : 'bytes freed'}: ${r.bytesFreed} (${formatBytes(r.bytesFreed)}) in ${plural(r.filesDeleted, 'file')}`,
  );
  if (r.failures.length) lines.push(`failures: ${r.failures.length}`);
  if (r.dryRun) lines.push('dry run: nothing was deleted');
  return lines.join('\n');
}

export function register(program: Command): void {
  program
    .command('clean-data')
    .description('Delete from_staging/, quarantine/ and to_production/ of runs started before <date>; keep the run directories and their logs')
    .argument('<date>', 'YYYY-MM-DD: runs started before local midnight of that day are cleaned')
    .option('--data-dir <dir>', 'directory holding the run_at_<epoch> directories (default: dataDir from config, else ./data)')
    .option('--dry-run', 'list what would be deleted, with sizes; delete nothing')
    .option('--config <file>', 'config file (default: ./dicom-pipeline.json if present)')
    .action((date: string, flags: CleanDataFlags) => {
      const cutoff = parseCutoffDate(date);
      const dataDir = flags.dataDir ?? loadConfig(flags.config).config.dataDir;
      const progress = createProgress('clean-data', 'runs');
      let result: CleanDataResult;
      try {
        result = cleanData({ dataDir, cutoff, dryRun: flags.dryRun, onRun: (done, total) => progress.update(done, total) });
      } finally {
        progress.stop();
      }
      process.stdout.write(formatCleanData(result) + '\n');
      process.exitCode = result.failures.length ? EXIT_FAILED : EXIT_OK;
    });
}
