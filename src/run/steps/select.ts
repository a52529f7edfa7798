import { PipelineError } from '../../errors';
import { RUN_FILES, type RunContext, type Sharing, type StepOutcome } from '../context';
import type { ReviewedStudy, Selection } from '../review';

const UID = /^[0-9]+(\.[0-9]+)*$/;

/** The studies of this run: studies_to_retrieve.txt, which an operator may edit before resuming. */
export function runStudies(ctx: RunContext): string[] {
  const lines = ctx.run.readLines(RUN_FILES.studies);
  if (!lines) throw new PipelineError('E_STEP', `${RUN_FILES.studies} is missing from ${ctx.run.path}`);
  const bad = lines.filter((l) => !UID.test(l) || l.length > 64);
  if (bad.length) throw new PipelineError('E_STEP', `${RUN_FILES.studies} has ${bad.length} line(s) that are not study UIDs: fix the file and resume with -r`);
  return [...new Set(lines)];
}

/**
 * Selects the reviewed studies. On a resume after a stop for conflicting reviews, the operator's
 * edited studies_to_retrieve.txt is taken as it is.
 */
export async function selectStep(ctx: RunContext, resumed: boolean): Promise<StepOutcome> {
  if (resumed && ctx.run.readLines(RUN_FILES.studies)) {
    const studies = ctx.sharing ? await keepClaimed(ctx, ctx.sharing) : runStudies(ctx);
    ctx.run.overview(`${studies.length} studies taken from the edited ${RUN_FILES.studies}`);
    return { summary: `${studies.length} studies (from the edited ${RUN_FILES.studies})` };
  }
  let selection = await ctx.review.select(ctx.options.max);
  let held: string[] = [];
  if (ctx.sharing) ({ selection, held } = await claimShare(ctx, ctx.sharing, selection));
  const comments = selection.studies.flatMap((s) => [`${s.studyInstanceUid}:`, ...s.comments.map((c) => `\t${c.replace(/\s+/g, ' ')}`)]);
  ctx.run.writeLines(RUN_FILES.comments, comments);
  ctx.run.writeLines(RUN_FILES.studies, selection.studies.map((s) => s.studyInstanceUid));
  ctx.run.overview(`${selection.studies.length} valid reviewed studies. Please review comments.txt`);
  if (held.length) {
    ctx.run.writeLines(RUN_FILES.heldElsewhere, held);
    ctx.run.overview(`${held.length} selected studies are held by other instances (see ${RUN_FILES.heldElsewhere}): they are not processed here`);
  }
  if (selection.conflicts.length) {
    const labels = selection.conflicts.map((s) => s.label).join(', ');
    ctx.run.overview(`${selection.conflicts.length} studies have conflicting reviews (${labels}): edit ${RUN_FILES.studies} and resume with -r`);
    throw new PipelineError('E_STEP',
      `${selection.conflicts.length} selected studies have conflicting reviews (${labels}): ` +
      `remove or keep them in ${ctx.run.file(RUN_FILES.studies)}, then resume with -r`);
  }
  return { summary: `${selection.studies.length} reviewed studies from ${ctx.review.description}` + (held.length ? `; ${held.length} held by other instances` : '') };
}

/**
 * Claims this instance's share of the selection: an even split between the instances alive after a
 * short gathering wait, or (when taking over) exactly the studies whose owner stopped renewing.
 */
async function claimShare(ctx: RunContext, sharing: Sharing, selection: Selection): Promise<{ selection: Selection; held: string[] }> {
  const only = sharing.only && new Set(sharing.only);
  const candidates = selection.studies.filter((s) => !only || only.has(s.studyInstanceUid)).map((s) => s.studyInstanceUid);
  let limit = candidates.length;
  if (!only) {
    await new Promise((resolve) => setTimeout(resolve, sharing.gatherS * 1000));
    limit = Math.ceil(candidates.length / (await sharing.claims.liveInstances()));
  }
  if (only) {
    // Studies no longer selectable were marked in the review database by their owner just before it stopped.
    const selectable = new Set(candidates);
    await sharing.claims.forget(sharing.only!.filter((s) => !selectable.has(s)));
  }
  const mine = new Set(await sharing.claims.claim(candidates, limit));
  const held = candidates.filter((s) => !mine.has(s));
  sharing.held.push(...held);
  const keep = (s: ReviewedStudy): boolean => mine.has(s.studyInstanceUid);
  return { selection: { studies: selection.studies.filter(keep), conflicts: selection.conflicts.filter(keep) }, held };
}

/**
 * A resumed run under work sharing keeps only the studies it still holds: one another instance took
 * over (or finished) meanwhile is dropped from studies_to_retrieve.txt, so nothing is done twice.
 */
export async function keepClaimed(ctx: RunContext, sharing: Sharing): Promise<string[]> {
  const studies = runStudies(ctx);
  const mine = new Set(await sharing.claims.claim(studies, studies.length, { redoDone: false }));
  const lost = studies.filter((s) => !mine.has(s));
  if (lost.length) {
    ctx.run.writeLines(RUN_FILES.studies, studies.filter((s) => mine.has(s)));
    ctx.run.writeLines(RUN_FILES.heldElsewhere, lost);
    ctx.run.overview(`${lost.length} studies of this run were taken over by other instances meanwhile (see ${RUN_FILES.heldElsewhere}): dropped from ${RUN_FILES.studies}`);
  }
  return studies.filter((s) => mine.has(s));
}
