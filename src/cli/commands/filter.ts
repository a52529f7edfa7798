import type { Command } from 'commander';
import { readJsonFile } from '../../util/json-file';
import { createProgress } from '../../util/progress';
import { buildSelection, filterAction, filterFiles, LEVELS, parseUidList, uidListsFromJson, type FilterResult, type UidLists } from '../../tools/filter';
import { plural } from '../../tools/format';
import { EXIT_OK, EXIT_PARTIAL } from '../exit-codes';

interface FilterFlags {
  from: string;
  to?: string;
  delete?: boolean;
  studies?: string;
  series?: string;
  instances?: string;
  json?: string;
}

const LISTED = 20;

function listed(items: readonly { path: string; reason: string }[]): string[] {
  const lines = items.slice(0, LISTED).map((p) => `  ${p.path}: ${p.reason}`);
  if (items.length > LISTED) lines.push(`  ... and ${items.length - LISTED} more`);
  return lines;
}

export function formatFilter(r: FilterResult): string {
  const lines = [
    `scanned:     ${plural(r.scanned, 'file')} under ${r.from}`,
    `DICOM:       ${r.dicom}`,
    `selected:    ${r.selected}`,
  ];
  if (r.action.kind === 'copy') {
    lines.push(`copied:      ${r.copied} to ${r.action.to}`);
    if (r.identical) lines.push(`unchanged:   ${r.identical} (identical file already at the destination)`);
    lines.push(`conflicts:   ${r.conflicts.length}${r.conflicts.length ? ' (a different file is already there; not overwritten)' : ''}`, ...listed(r.conflicts));
  } else {
    lines.push(`deleted:     ${r.deleted}`);
  }
  if (r.failures.length) lines.push(`failed:      ${r.failures.length}`, ...listed(r.failures));
  lines.push(`skipped, not a DICOM instance or unreadable: ${r.nonDicom.length}`, ...listed(r.nonDicom));
  const missing = LEVELS.flatMap((level) => r.notFound[level].map((uid) => `  ${level}: ${uid}`));
  if (missing.length) lines.push(`requested UIDs found in no file: ${missing.length}`, ...missing.slice(0, LISTED), ...(missing.length > LISTED ? [`  ... and ${missing.length - LISTED} more`] : []));
  return lines.join('\n');
}

export function register(program: Command): void {
  program
    .command('filter')
    .description('Copy (--to) or delete (--delete) the DICOM files under --from whose Study, Series or SOP Instance UID is listed')
    .requiredOption('--from <dir>', 'directory to select from (searched recursively)')
    .option('--to <dir>', 'copy the selected files here, keeping their relative paths; never overwrites a different file')
    .option('--delete', 'delete the selected files instead')
    .option('--studies <uids>', 'comma-separated Study Instance UIDs')
    .option('--series <uids>', 'comma-separated Series Instance UIDs')
    .option('--instances <uids>', 'comma-separated SOP Instance UIDs')
    .option('--json <file>', 'UIDs from a file: {"studies": [...], "series": [...], "instances": [...]}')
    .action((flags: FilterFlags) => {
      const action = filterAction(flags.to, flags.delete);
      const fromFlags: UidLists = {
        studies: flags.studies === undefined ? undefined : parseUidList(flags.studies, '--studies'),
        series: flags.series === undefined ? undefined : parseUidList(flags.series, '--series'),
        instances: flags.instances === undefined ? undefined : parseUidList(flags.instances, '--instances'),
      };
      const fromJson = flags.json === undefined ? {} : uidListsFromJson(readJsonFile(flags.json, '--json file'), `--json file ${flags.json}`);
      const selection = buildSelection(fromFlags, fromJson);
      const progress = createProgress('filter');
      let result: FilterResult;
      try {
        result = filterFiles({ from: flags.from, action, selection, onFile: (done, total) => progress.update(done, total) });
      } finally {
        progress.stop();
      }
      process.stdout.write(formatFilter(result) + '\n');
      process.exitCode = result.conflicts.length || result.failures.length ? EXIT_PARTIAL : EXIT_OK;
    });
}
