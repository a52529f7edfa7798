import { mkdirSync, rmSync } from 'node:fs';
import { anonymizeTree } from '../../anon/anonymize-tree';
import { formatSummary, settingsFromConfig } from '../../anon/settings-from-config';
import { PipelineError } from '../../errors';
import { createProgress } from '../../util/progress';
import { crashPoint } from '../crash-point';
import { RUN_FILES, type RunContext, type StepOutcome } from '../context';
import type { JournalEntry } from '../journal';
import { instanceHash, sopInstanceUidOfFile } from './pull';

/**
 * from_staging → to_production (or quarantine), every output verified. Outputs are a pure function
 * of the inputs and identity.db, so a re-run after a crash starts from clean output directories.
 */
export interface Arriving {
  /** Files keep arriving until this settles (the pull). */
  readonly until: Promise<unknown>;
  /** How many files will have arrived by then, as far as known yet (0: unknown). */
  readonly total: () => number;
}

export async function anonymizeStep(ctx: RunContext, arriving?: Arriving): Promise<StepOutcome> {
  const outputDir = ctx.run.file(RUN_FILES.toProduction);
  const quarantineDir = ctx.run.file(RUN_FILES.quarantine);
  rmSync(outputDir, { recursive: true, force: true });
  rmSync(quarantineDir, { recursive: true, force: true });
  mkdirSync(ctx.run.file(RUN_FILES.fromStaging), { recursive: true }); // a pull may not have created it yet
  const settings = settingsFromConfig(ctx.config, {
    inputDir: ctx.run.file(RUN_FILES.fromStaging),
    outputDir,
    quarantineDir,
    identityDb: ctx.identityDb,
    allowedModalities: ctx.options.allowedModalities,
  });
  const progress = createProgress('anonymize');
  let entries: Omit<JournalEntry, 'at'>[] = [];
  let summary;
  try {
    summary = await anonymizeTree(settings, {
      arrivingUntil: arriving?.until,
      onOutcome: (o, done, total) => {
        progress.update(done, Math.max(total, arriving?.total() ?? 0));
        crashPoint('anonymize', done);
        if (o.kind === 'anonymized') {
          entries.push({ event: 'anonymized', instance: o.sopInstanceUid, study: o.studyUid }, { event: 'verified', instance: o.sopInstanceUid, study: o.studyUid });
        } else if (o.kind === 'quarantined') {
          const withdrawn = o.withdrawn;
          if (withdrawn) entries = entries.filter((e) => e.instance !== withdrawn.sopInstanceUid || e.study !== withdrawn.studyUid);
          entries.push({ event: 'quarantined', instance: instanceHash(ctx, sopInstanceUidOfFile(o.input)), detail: o.reason });
        }
      },
    });
  } finally {
    progress.stop();
  }
  ctx.journal.append(entries);
  const text = formatSummary(summary);
  ctx.run.writeText(RUN_FILES.anonymizeOutput, text + '\n');
  ctx.run.overview(`Anonymized ${summary.anonymized} files (all verified), quarantined ${summary.quarantined}, see ${RUN_FILES.anonymizeOutput}`);
  if (summary.patientNameMismatches) {
    ctx.run.overview(`Warning: ${summary.patientNameMismatches} files name a different patient than the first file with their Patient ID, see ${RUN_FILES.anonymizeOutput}`);
  }
  ctx.logger.info({ step: 'anonymize', anonymized: summary.anonymized, quarantined: summary.quarantinedByReason, failed: summary.failed.length }, 'anonymize done');
  if (summary.failed.length) {
    throw new PipelineError('E_STEP', `${summary.failed.length} files could not be read or written (see ${ctx.run.file(RUN_FILES.anonymizeOutput)}); fix the cause and resume with -r`);
  }
  return { summary: `${summary.anonymized} anonymized and verified, ${summary.quarantined} quarantined` };
}
