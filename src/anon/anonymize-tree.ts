import { existsSync, mkdirSync, statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { relative, resolve, sep } from 'node:path';
import { PipelineError } from '../errors';
import type { FileOutcome } from './anonymize-file';
import { BATCH_FILES, runPool } from './pool';
import { appendQuarantineRecord } from './quarantine-log';
import { listInputFiles, listSource, watchSource } from './file-source';
import { openIdentityStore } from './identity/open-store';
import { WhiteList } from './white-list';
import type { AnonymizeSettings } from './settings';
import { describeRow, normalizeCreator, parseSiteElement, PrivateRules } from './rules/private-rules';

export interface AnonymizeSummary {
  readonly filesIn: number;
  readonly anonymized: number;
  /** Every anonymized file was re-read and searched for PHI before it was written. */
  readonly verified: number;
  readonly quarantined: number;
  readonly quarantinedByReason: Readonly<Record<string, number>>;
  readonly duplicates: number;
  readonly failed: readonly string[];
  readonly bytesOut: number;
  readonly seconds: number;
  /** Anonymized files whose family name differs from the first seen with their Patient ID: maybe two patients, one ID. */
  readonly patientNameMismatches: number;
  /** Retain Safe Private: what it applied, and how many private attributes each row kept (over all anonymized files). */
  readonly privateAttributes: PrivateAttributesReport;
}

export interface PrivateAttributesReport {
  readonly retainSafePrivate: boolean;
  readonly tableRows: number;
  /** The site's rules as describeRow names them (listed even when they kept nothing). */
  readonly siteRules: readonly string[];
  /** "GEMS_PARM_01 (0043,xx39) IS [table]" → attributes kept */
  readonly kept: Readonly<Record<string, number>>;
}

function privateAttributesReport(settings: AnonymizeSettings): { retainSafePrivate: boolean; tableRows: number; siteRules: string[]; kept: Record<string, number> } {
  const site = settings.privateKeep ?? [];
  const rules = new PrivateRules(site);
  return {
    retainSafePrivate: settings.profile.retainSafePrivate,
    tableRows: rules.tableRowCount,
    siteRules: site.map((s) => {
      const at = parseSiteElement(s.element)!;
      return describeRow({ creator: normalizeCreator(s.creator), ...at, vr: s.vr, vm: s.vm ?? '1-n', source: 'site' });
    }),
    kept: {},
  };
}

export interface AnonymizeHooks {
  /** total: the files known so far (it grows while a receiver is still filling the input). */
  readonly onOutcome?: (outcome: FileOutcome, done: number, total: number) => void;
  /**
   * Anonymize files as they arrive until this settles (a pull filling the input), then the rest:
   * the anonymizer overlaps the transfer instead of waiting for it.
   */
  readonly arrivingUntil?: Promise<unknown>;
}

function isInside(child: string, parent: string): boolean {
  const rel = relative(parent, child);
  return rel === '' || (!rel.startsWith('..') && !rel.startsWith(sep) && rel !== '..');
}

/** Checks the directories before anything is read or written. */
function checkDirectories(settings: AnonymizeSettings): void {
  const input = resolve(settings.inputDir);
  if (!existsSync(input) || !statSync(input).isDirectory()) {
    throw new PipelineError('E_USAGE', `input directory ${settings.inputDir} does not exist or is not a directory`);
  }
  for (const [name, dir] of [['output', settings.outputDir], ['quarantine', settings.quarantineDir]] as const) {
    const abs = resolve(dir);
    if (isInside(abs, input)) throw new PipelineError('E_USAGE', `${name} directory ${dir} is inside the input directory: choose one outside it`);
    if (isInside(input, abs)) throw new PipelineError('E_USAGE', `${name} directory ${dir} contains the input directory: choose another`);
  }
  if (isInside(resolve(settings.quarantineDir), resolve(settings.outputDir))) {
    throw new PipelineError('E_USAGE', `quarantine directory ${settings.quarantineDir} must not be inside the output directory`);
  }
}

export function defaultWorkers(fileCount: number): number {
  if (fileCount < 32) return 1; // thread start-up costs more than it saves
  return Math.max(1, Math.min(4, availableParallelism()));
}

/** Anonymizes every file under settings.inputDir; quarantine reasons go to <quarantine>/quarantine.jsonl. */
export async function anonymizeTree(settings: AnonymizeSettings, hooks: AnonymizeHooks = {}): Promise<AnonymizeSummary> {
  checkDirectories(settings);
  // Fail fast, once, in this thread: a bad white list or an unusable identity map stops before any file is read,
  // and the schema and key are created here rather than raced by the workers.
  if (settings.whiteList !== undefined) WhiteList.fromJson(settings.whiteList, 'white list');
  await (await openIdentityStore(settings.identityDb, settings.identity)).close();
  const started = process.hrtime.bigint();
  mkdirSync(settings.outputDir, { recursive: true });
  mkdirSync(settings.quarantineDir, { recursive: true });
  const byReason: Record<string, number> = {};
  const failed: string[] = [];
  let anonymized = 0;
  let quarantined = 0;
  let duplicates = 0;
  let bytesOut = 0;
  let nameMismatches = 0;
  const privateAttributes = privateAttributesReport(settings);
  let done = 0;
  const files = hooks.arrivingUntil ? undefined : listInputFiles(settings.inputDir);
  const source = files ? listSource(files, BATCH_FILES) : watchSource(settings.inputDir, hooks.arrivingUntil!, BATCH_FILES);
  const workers = settings.workers ?? defaultWorkers(files?.length ?? Number.MAX_SAFE_INTEGER);
  await runPool(source, settings, workers, (outcome) => {
    if (outcome.kind === 'quarantined' && outcome.withdrawn) {
      // Counted once already, as anonymized: now it is quarantined instead.
      anonymized--;
      bytesOut -= outcome.withdrawn.bytes;
      if (outcome.withdrawn.patientNameDiffers) nameMismatches--;
      for (const [row, n] of Object.entries(outcome.withdrawn.privateKept)) privateAttributes.kept[row] -= n;
    } else done++;
    switch (outcome.kind) {
      case 'anonymized':
        anonymized++;
        bytesOut += outcome.bytes;
        if (outcome.patientNameDiffers) nameMismatches++;
        for (const [row, n] of Object.entries(outcome.privateKept)) privateAttributes.kept[row] = (privateAttributes.kept[row] ?? 0) + n;
        break;
      case 'quarantined':
        quarantined++;
        byReason[outcome.reason] = (byReason[outcome.reason] ?? 0) + 1;
        appendQuarantineRecord(settings.quarantineDir, {
          file: relative(resolve(settings.inputDir), outcome.input),
          copy: relative(resolve(settings.quarantineDir), outcome.copy),
          reason: outcome.reason,
          ...(outcome.detail ? { detail: outcome.detail } : {}),
          at: new Date().toISOString(),
        });
        break;
      case 'duplicate':
        duplicates++;
        break;
      case 'failed':
        failed.push(outcome.error);
        break;
    }
    hooks.onOutcome?.(outcome, done, source.known);
  });
  return {
    filesIn: done, anonymized, verified: anonymized, quarantined, quarantinedByReason: byReason,
    duplicates, failed, bytesOut, seconds: Number(process.hrtime.bigint() - started) / 1e9, patientNameMismatches: nameMismatches,
    privateAttributes,
  };
}
