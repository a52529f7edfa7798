import { existsSync } from 'node:fs';
import { basename, join } from 'node:path';
import fg from 'fast-glob';
import { cleanedUids } from '../anon/identity/lookup';
import { RUN_FILES, type RunContext } from './context';
import { readPullReport } from './steps/pull';
import { runStudies } from './steps/select';

/** Where one selected study stands, from the run's own records. */
export interface StudyPlan {
  readonly original: string;
  /** Its anonymized Study Instance UID, once anonymized. */
  readonly anonymized?: string;
  /** Why it cannot be pushed (incomplete pull), if so. */
  readonly blocked?: string;
  /** Anonymized files waiting in to_production/<anonymized>/. */
  readonly files: readonly string[];
  /** Every file of it was delivered to the research PACS (confirmed, or counted as delivered) by a push. */
  readonly confirmed: boolean;
}

export async function studyPlans(ctx: RunContext): Promise<StudyPlan[]> {
  const studies = runStudies(ctx);
  const pullReport = readPullReport(ctx);
  const byStudy = new Map(pullReport?.studies.map((s) => [s.studyInstanceUid, s]) ?? []);
  const anonymized = await cleanedUids(ctx.identityDb, studies, 'studyuid');
  const delivered = ctx.journal.deliveredInstances();
  return studies.map((original) => {
    const pulled = byStudy.get(original);
    let blocked: string | undefined;
    if (!pulled) blocked = 'not pulled';
    else if (pulled.error || pulled.expected === 0) blocked = pulled.error ?? 'not found on the staging PACS';
    else if (pulled.failed > 0) blocked = `pull incomplete: received ${pulled.received} of ${pulled.expected} instances`;
    const cleaned = anonymized.get(original);
    const dir = cleaned ? join(ctx.run.file(RUN_FILES.toProduction), cleaned) : undefined;
    const files = dir && existsSync(dir) ? fg.sync('**/*.dcm', { cwd: dir, absolute: true }).sort() : [];
    const confirmed = !!cleaned && files.length > 0 && files.every((f) => delivered.has(basename(f, '.dcm')));
    return { original, anonymized: cleaned, blocked, files, confirmed };
  });
}
