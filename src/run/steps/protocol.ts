import { readQuarantineLog } from '../../anon/quarantine-log';
import { join } from 'node:path';
import { findElement } from '../../dicom/dataset';
import { readLargePart10 } from '../../dicom/large-file';
import { decodeText } from '../../dicom/values';
import { RUN_FILES, type RunContext, type StepOutcome } from '../context';
import { runStudies } from './select';

/** Study UIDs of the files quarantined as "patient protocol" (read from the identified copies). */
function foundProtocolStudies(ctx: RunContext): Set<string> {
  const dir = ctx.run.file(RUN_FILES.quarantine);
  const found = new Set<string>();
  for (const record of readQuarantineLog(dir)) {
    if (record.reason !== 'patient protocol') continue;
    const study = findElement(readLargePart10(join(dir, record.copy)).dataset, 0x0020000d);
    if (study) found.add(decodeText(study));
  }
  return found;
}

/** Compares the reviewers' "has protocol series" with what the anonymizer found and quarantined. */
export async function protocolStep(ctx: RunContext): Promise<StepOutcome> {
  const studies = runStudies(ctx);
  const reviewed = await ctx.review.protocolStudies(studies);
  const found = foundProtocolStudies(ctx);
  const missing = [...reviewed].filter((s) => !found.has(s));
  ctx.run.writeLines(RUN_FILES.reviewedProtocol, [...reviewed].sort());
  ctx.run.writeLines(RUN_FILES.foundProtocol, [...found].sort());
  ctx.run.writeLines(RUN_FILES.missingProtocol, missing.sort());
  ctx.run.overview(`${reviewed.size} studies marked as having a protocol series, ${found.size} studies found with protocol series during anonymization.`);
  ctx.run.overview(`${missing.length} studies marked as having a protocol series but not found, see '${RUN_FILES.missingProtocol}'.`);
  return { summary: `${reviewed.size} marked, ${found.size} found, ${missing.length} missing` };
}
