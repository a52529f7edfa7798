import { basename } from 'node:path';
import { push, type PushReport } from '../../scu/push';
import { pushExitCode, summaryLines, totalsOf } from '../../scu/push-summary';
import { createProgress } from '../../util/progress';
import { openWebClient, pushWeb } from '../../web/push';
import { crashPoint } from '../crash-point';
import { RUN_FILES, type RunContext, type StepOutcome } from '../context';
import type { JournalEntry } from '../journal';
import { overviewTime } from '../run-dir';
import { studyPlans } from '../study-plan';

export interface PushStepResult extends StepOutcome {
  /** Some instances were not delivered: the step must run again on resume. */
  readonly partial: boolean;
}

/**
 * C-STORE (or STOW-RS, to a DICOMweb archive) each complete, anonymized study from to_production
 * (only there: nothing identified can be sent), then confirm as research.confirm says (DICOMweb: QIDO-RS) (storage commitment: the archive's reports come to
 * our local AE and port, served meanwhile for commitment only). Instances delivered by an earlier
 * attempt are never sent again; each instance's outcome is journaled as soon as it is known.
 */
export async function pushStep(ctx: RunContext): Promise<PushStepResult> {
  const research = ctx.peers.research;
  const web = ctx.peers.researchWeb;
  const confirm = ctx.config.research?.confirm ?? 'auto';
  const delivered = ctx.journal.deliveredInstances();
  const plans = (await studyPlans(ctx)).filter((p) => !p.blocked && p.files.length > 0);
  const todo = plans
    .map((plan) => ({ plan, files: plan.files.filter((f) => !delivered.has(basename(f, '.dcm'))) }))
    .filter((t) => t.files.length > 0);
  const total = todo.reduce((n, t) => n + t.files.length, 0);
  const reports: Array<{ study: string; report: PushReport }> = [];
  const progress = createProgress('push');
  const confirming = createProgress('confirm', 'instances');
  let sent = 0;
  // auto: once commitment did not work with the research PACS (e.g. it cannot connect back, 30 s
  // each time), the next studies go straight to C-FIND.
  let commitmentUnusable: string | undefined;
  // One HTTP client (keep-alive connections, credential) for every study of the run.
  const client = web && openWebClient(web, ctx.network);
  try {
    for (const { plan, files } of todo) {
      const dir = ctx.run.file(`${RUN_FILES.toProduction}/${plan.anonymized}`);
      const onProgress = (done: number): void => {
        progress.update(sent + done, total);
        crashPoint('push', sent + done);
      };
      const report = client
        ? await pushWeb({ destination: web!, client, dir, files, network: ctx.network, logger: ctx.logger, onProgress })
        : await push({
            peer: research!,
            dir,
            files,
            callingAet: ctx.peers.local.aet,
            network: ctx.network,
            confirm,
            commitmentEndpoint: confirm === 'auto' || confirm === 'commitment' ? { aeTitle: ctx.peers.local.aet, port: ctx.peers.local.port, tls: ctx.peers.local.tls } : undefined,
            commitmentUnusable,
            logger: ctx.logger,
            onProgress,
            onConfirmProgress: (done, of, how) => confirming.update(done, of, `${how}, study ${reports.length + 1}/${todo.length}`),
          });
      sent += files.length;
      commitmentUnusable ??= report.commitmentUnusable;
      reports.push({ study: plan.anonymized!, report });
      ctx.journal.append(journalEntries(plan.anonymized!, report));
    }
  } finally {
    progress.stop();
    confirming.stop();
    client?.close();
  }
  const lines = reports.map(({ study, report }) =>
    `${study}: ${report.files} files, ${summaryLines(totalsOf([report])).join(', ')}` +
    report.results.filter((f) => !f.delivered).slice(0, 5).map((f) => `\n\t${basename(f.path)}: ${f.reason}`).join(''));
  ctx.run.appendText(RUN_FILES.pushOutput, lines.map((l) => `${l}\n`).join(''));
  ctx.run.writeJson(RUN_FILES.pushReport, reports);
  const warnings = [...new Set(reports.map((r) => r.report.warning).filter((w): w is string => !!w))];
  for (const w of warnings) {
    ctx.say(`   warning: ${w}`);
    ctx.run.overview(`Warning: ${w}`);
  }
  const totals = totalsOf(reports.map((r) => r.report));
  const firstProblem = reports.flatMap((r) => r.report.results).find((f) => !f.delivered)?.reason;
  const code = pushExitCode(totals, web ? web.url : research!, firstProblem);
  ctx.run.overview(`Push completed at ${overviewTime()}`);
  ctx.run.overview(`Pushed: ${summaryLines(totals).join(', ')}`);
  const notDelivered = reports.filter((r) => !r.report.complete).length;
  const already = plans.length - todo.length;
  return {
    summary: `${todo.length - notDelivered} of ${todo.length} studies delivered` + (already ? `, ${already} delivered earlier` : '') +
      (todo.length ? `; ${summaryLines(totals).join(', ')}` : '') + (firstProblem && code !== 0 ? `; first problem: ${firstProblem}` : ''),
    partial: code !== 0,
  };
}

/** Per instance: pushed, then confirmed (how) or delivered (why unconfirmed), or push-failed (why). */
function journalEntries(study: string, report: PushReport): Omit<JournalEntry, 'at'>[] {
  const entries: Omit<JournalEntry, 'at'>[] = [];
  for (const file of report.results) {
    const instance = basename(file.path, '.dcm');
    if (file.status === 'failed') {
      entries.push({ event: 'push-failed', instance, study, detail: file.reason });
      continue;
    }
    entries.push({ event: 'pushed', instance, study });
    if (file.status === 'confirmed') entries.push({ event: 'confirmed', instance, study, detail: file.confirmedBy });
    else if (file.delivered) entries.push({ event: 'delivered', instance, study, detail: file.reason });
  }
  return entries;
}
