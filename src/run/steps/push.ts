import { basename } from 'node:path';
import { push, type PushReport } from '../../scu/push';
import { createProgress } from '../../util/progress';
import { crashPoint } from '../crash-point';
import { RUN_FILES, type RunContext, type StepOutcome } from '../context';
import type { JournalEntry } from '../journal';
import { overviewTime } from '../run-dir';
import { studyPlans } from '../study-plan';

export interface PushStepResult extends StepOutcome {
  /** Some studies were not confirmed: the step must run again on resume. */
  readonly partial: boolean;
}

/**
 * C-STORE each complete, anonymized study from to_production (only there: nothing identified can be
 * sent), then confirm with C-FIND at the research PACS. Studies confirmed by an earlier attempt are
 * never sent again; each study's confirmation is journaled as soon as it is known.
 */
export async function pushStep(ctx: RunContext): Promise<PushStepResult> {
  const plans = studyPlans(ctx).filter((p) => !p.blocked && p.files.length > 0);
  const todo = plans.filter((p) => !p.confirmed);
  const total = todo.reduce((n, p) => n + p.files.length, 0);
  const reports: Array<{ study: string; report: PushReport }> = [];
  const progress = createProgress('push');
  let sent = 0;
  try {
    for (const plan of todo) {
      const report = await push({
        peer: ctx.peers.research!,
        dir: ctx.run.file(`${RUN_FILES.toProduction}/${plan.anonymized}`),
        callingAet: ctx.peers.local.aet,
        network: ctx.network,
        logger: ctx.logger,
        onProgress: (done) => {
          progress.update(sent + done, total);
          crashPoint('push', sent + done);
        },
      });
      sent += plan.files.length;
      reports.push({ study: plan.anonymized!, report });
      ctx.journal.append(journalEntries(plan.anonymized!, plan.files, report));
    }
  } finally {
    progress.stop();
  }
  const failedStudies = reports.filter((r) => !r.report.complete);
  const lines = reports.map(({ study, report }) =>
    `${study}: ${report.files} files, stored ${report.stored}, confirmed ${report.confirmed}, failed ${report.failed.length}` +
    (report.unconfirmed.length ? `, not found at the destination ${report.unconfirmed.length}` : '') +
    report.failed.slice(0, 5).map((f) => `\n\t${basename(f.path)}: ${f.reason}`).join(''));
  ctx.run.appendText(RUN_FILES.pushOutput, lines.map((l) => `${l}\n`).join(''));
  ctx.run.writeJson(RUN_FILES.pushReport, reports);
  ctx.run.overview(`Push completed at ${overviewTime()}`);
  const already = plans.length - todo.length;
  const firstProblem = failedStudies.map(({ report }) => report.failed[0]?.reason ?? (report.unconfirmed.length ? 'stored but not found by C-FIND at the destination' : undefined)).find(Boolean);
  return {
    summary: `${todo.length - failedStudies.length} of ${todo.length} studies pushed and confirmed` + (already ? `, ${already} confirmed earlier` : '') +
      (firstProblem ? `; first problem: ${firstProblem}` : ''),
    partial: failedStudies.length > 0,
  };
}

function journalEntries(study: string, files: readonly string[], report: PushReport): Omit<JournalEntry, 'at'>[] {
  const failed = new Map(report.failed.map((f) => [f.path, f.reason]));
  const unconfirmed = new Set(report.unconfirmed);
  const entries: Omit<JournalEntry, 'at'>[] = [];
  for (const file of files) {
    const sop = basename(file, '.dcm');
    const reason = failed.get(file);
    if (reason) {
      entries.push({ event: 'push-failed', instance: sop, study, detail: reason });
      continue;
    }
    entries.push({ event: 'pushed', instance: sop, study });
    if (!unconfirmed.has(file)) entries.push({ event: 'confirmed', instance: sop, study });
  }
  // A study counts as confirmed only when the whole of it is.
  return report.complete ? entries : entries.filter((e) => e.event !== 'confirmed');
}
