import { PipelineError } from '../../errors';
import { RUN_FILES, type RunContext, type StepOutcome } from '../context';

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
export function selectStep(ctx: RunContext, resumed: boolean): StepOutcome {
  if (resumed && ctx.run.readLines(RUN_FILES.studies)) {
    const studies = runStudies(ctx);
    ctx.run.overview(`${studies.length} studies taken from the edited ${RUN_FILES.studies}`);
    return { summary: `${studies.length} studies (from the edited ${RUN_FILES.studies})` };
  }
  const selection = ctx.review.select(ctx.options.max);
  const comments = selection.studies.flatMap((s) => [`${s.studyInstanceUid}:`, ...s.comments.map((c) => `\t${c.replace(/\s+/g, ' ')}`)]);
  ctx.run.writeLines(RUN_FILES.comments, comments);
  ctx.run.writeLines(RUN_FILES.studies, selection.studies.map((s) => s.studyInstanceUid));
  ctx.run.overview(`${selection.studies.length} valid reviewed studies. Please review comments.txt`);
  if (selection.conflicts.length) {
    const labels = selection.conflicts.map((s) => s.label).join(', ');
    ctx.run.overview(`${selection.conflicts.length} studies have conflicting reviews (${labels}): edit ${RUN_FILES.studies} and resume with -r`);
    throw new PipelineError('E_STEP',
      `${selection.conflicts.length} selected studies have conflicting reviews (${labels}): ` +
      `remove or keep them in ${ctx.run.file(RUN_FILES.studies)}, then resume with -r`);
  }
  return { summary: `${selection.studies.length} reviewed studies from ${ctx.review.description}` };
}
