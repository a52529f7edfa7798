import { readQuarantineLog } from '../../anon/quarantine-log';
import { CONFLICTING_SOP_REASON } from '../../anon/sop-claims';
import { RUN_FILES, type RunContext, type StepOutcome } from '../context';
import type { StudyOutcome } from '../review';
import { studyPlans, type StudyPlan } from '../study-plan';

export interface MarkResult extends StepOutcome {
  readonly notPushed: readonly string[];
  /** Studies delivered without the instances quarantined for a conflicting SOP Instance UID (or not at all). */
  readonly conflicting: readonly string[];
}

/** Quarantine reasons of a study's files, from the identified copies' paths (from_staging/<Study>/...). */
function quarantinedStudies(ctx: RunContext): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  for (const { file, reason } of readQuarantineLog(ctx.run.file(RUN_FILES.quarantine))) {
    const study = file.split('/')[0];
    out.set(study, (out.get(study) ?? new Set()).add(reason));
  }
  return out;
}

/** How many of a study's files were quarantined for a conflicting SOP Instance UID. */
function conflictingCopies(ctx: RunContext): Map<string, number> {
  const out = new Map<string, number>();
  for (const { file, reason } of readQuarantineLog(ctx.run.file(RUN_FILES.quarantine))) {
    if (reason === CONFLICTING_SOP_REASON) out.set(file.split('/')[0], (out.get(file.split('/')[0]) ?? 0) + 1);
  }
  return out;
}

function outcomeOf(plan: StudyPlan, ctx: RunContext, quarantined: Map<string, Set<string>>, conflicts: Map<string, number>): StudyOutcome & { state: string } {
  const result = plainOutcomeOf(plan, ctx, quarantined);
  const copies = conflicts.get(plan.original);
  if (!copies || result.state.startsWith('quarantined')) return result;
  // Delivered (or ready) without those instances: say so where the study's outcome is read.
  return { ...result, state: `${result.state}; ${copies} instances not delivered: ${CONFLICTING_SOP_REASON} (quarantined)` };
}

function plainOutcomeOf(plan: StudyPlan, ctx: RunContext, quarantined: Map<string, Set<string>>): StudyOutcome & { state: string } {
  const base = { studyInstanceUid: plan.original };
  if (plan.blocked) return { ...base, pushed: false, error: plan.blocked, state: `not pushed: ${plan.blocked}` };
  if (plan.files.length === 0) {
    const reasons = [...(quarantined.get(plan.original) ?? [])].sort().join(', ') || 'nothing to push';
    return { ...base, pushed: false, error: `all instances quarantined (${reasons})`, state: `quarantined: ${reasons}` };
  }
  if (ctx.options.practice || ctx.options.noPush) return { ...base, pushed: false, state: 'ready, not pushed (practice or no-push run)' };
  if (plan.confirmed) return { ...base, pushed: true, anonymizedStudyUid: plan.anonymized, state: `pushed as ${plan.anonymized}` };
  return { ...base, pushed: false, error: 'push failed or not confirmed, see push_output.txt', state: 'not pushed: push failed or not confirmed' };
}

/** Writes each study's outcome to done.txt, the overview and (outside practice runs) the review source. */
export async function markStep(ctx: RunContext): Promise<MarkResult> {
  const quarantined = quarantinedStudies(ctx);
  const conflicts = conflictingCopies(ctx);
  const outcomes = (await studyPlans(ctx)).map((plan) => outcomeOf(plan, ctx, quarantined, conflicts));
  ctx.run.writeLines(RUN_FILES.done, outcomes.map((o) => `${o.studyInstanceUid}\t${o.state}`));
  const dryRun = ctx.options.practice || ctx.options.noPush;
  if (!ctx.options.practice) await ctx.review.markOutcomes(outcomes.filter((o) => o.pushed || o.error));
  // Only after the review database knows: pushed studies are done for every instance, the others released.
  await ctx.sharing?.claims.finish(outcomes);
  const pushed = outcomes.filter((o) => o.pushed);
  const failed = outcomes.filter((o) => !o.pushed && o.error && !o.state.startsWith('quarantined'));
  ctx.run.overview(`${pushed.length} studies marked as pushed`);
  if (failed.length) ctx.run.overview(`${failed.length} studies were not pushed: ${failed.map((o) => o.studyInstanceUid).join(', ')}`);
  const conflicting = outcomes.filter((o) => conflicts.has(o.studyInstanceUid)).map((o) => o.studyInstanceUid);
  if (conflicting.length) {
    ctx.run.overview(
      `${conflicting.length} studies hold different instances under one SOP Instance UID; every such copy was quarantined ` +
        `("${CONFLICTING_SOP_REASON}", see ${RUN_FILES.quarantine}/quarantine.jsonl) and the rest of the study went on: ${conflicting.join(', ')}. ` +
        'Correct them at the staging PACS, then select them again',
    );
  }
  return {
    summary: (dryRun ? `${outcomes.length} studies recorded (nothing pushed in this run)` : `${pushed.length} pushed, ${failed.length} not pushed`) +
      (conflicting.length ? `; ${conflicting.length} with instances quarantined for a ${CONFLICTING_SOP_REASON}` : ''),
    notPushed: failed.map((o) => o.studyInstanceUid),
    conflicting,
  };
}
