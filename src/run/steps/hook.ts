import { PipelineError } from '../../errors';
import { resolveHook } from '../hooks/load';
import { RUN_FILES, type RunContext, type StepOutcome } from '../context';

/** Runs the site's post-anonymization hook; what it returns goes to post_anon_output.txt. */
export async function hookStep(ctx: RunContext): Promise<StepOutcome> {
  const name = ctx.config.postAnonHook;
  const hook = resolveHook(name);
  let output: string;
  try {
    output = String(await hook({
      runDir: ctx.run.path,
      overview: { write: (line: string) => ctx.run.overview(line) },
      practice: ctx.options.practice,
      identityDb: ctx.identityDb,
    }) ?? '');
  } catch (err) {
    throw new PipelineError('E_HOOK', `post-anonymization hook "${name}" failed: ${(err as Error).message ?? String(err)}; fix it and resume with -r`, { cause: err });
  }
  ctx.run.writeText(RUN_FILES.postAnonOutput, output.endsWith('\n') || output === '' ? output : `${output}\n`);
  ctx.run.overview(`Post-anonymization hook "${name}" completed${ctx.options.practice ? ' (practice run)' : ''}, see ${RUN_FILES.postAnonOutput}`);
  return { summary: `hook "${name}" completed` };
}
