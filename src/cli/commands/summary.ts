import type { Command } from 'commander';
import { summarizeDirectory, type DirectorySummary, type ValueCount } from '../../tools/summary';
import { createProgress } from '../../util/progress';

const LISTED = 50;

interface SummaryFlags {
  json?: boolean;
}

function table(title: string, unit: string, values: readonly ValueCount[]): string[] {
  if (values.length === 0) return [];
  const width = String(Math.max(...values.map((v) => v.count))).length;
  return ['', `${title} (${values.length}; count = ${unit}):`, ...values.map((v) => `  ${String(v.count).padStart(width)}  ${v.value === '' ? '(empty)' : v.value}`)];
}

/** Plain text for the operator's terminal (patient names included: stdout only, never a log). */
export function formatSummaryText(s: DirectorySummary): string {
  const lines = [
    `directory:  ${s.dir}`,
    `files:      ${s.files} DICOM, ${s.nonDicom.length} skipped (not a DICOM instance, or unreadable)`,
    `patients:   ${s.patients}`,
    `studies:    ${s.studies}`,
    `series:     ${s.series}`,
    `modalities: ${s.modalities.length}${s.modalities.length ? ` (${s.modalities.map((m) => `${m.value || '(empty)'}: ${m.count}`).join(', ')} series)` : ''}`,
    ...table('Study Descriptions', 'studies', s.studyDescriptions),
    ...table('Series Descriptions', 'series', s.seriesDescriptions),
    ...table('Patient Names', 'studies', s.patientNames),
  ];
  if (s.nonDicom.length) lines.push('', `skipped, not a DICOM instance or unreadable (${s.nonDicom.length}):`, ...s.nonDicom.slice(0, LISTED).map((f) => `  ${f.path}: ${f.reason}`));
  if (s.nonDicom.length > LISTED) lines.push(`  ... and ${s.nonDicom.length - LISTED} more (all of them in --json)`);
  return lines.join('\n');
}

export function register(program: Command): void {
  program
    .command('summary')
    .description('Count the files, patients, studies, series and modalities under <dir>; list study and series descriptions and patient names')
    .argument('<dir>', 'directory of DICOM files (searched recursively)')
    .option('--json', 'print the summary as JSON')
    .action((dir: string, flags: SummaryFlags) => {
      const progress = createProgress('summary');
      let summary: DirectorySummary;
      try {
        summary = summarizeDirectory(dir, (done, total) => progress.update(done, total));
      } finally {
        progress.stop();
      }
      process.stdout.write(flags.json ? JSON.stringify(summary, null, 2) + '\n' : formatSummaryText(summary) + '\n');
    });
}
