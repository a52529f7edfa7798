import { createHmac } from 'node:crypto';
import fg from 'fast-glob';
import { basename } from 'node:path';
import { parseInstanceFileName } from '../../scp/store';
import { pull, pullProgressDetail, sharedNote, type PullReport } from '../../scu/pull';
import { createProgress } from '../../util/progress';
import { crashPoint } from '../crash-point';
import { RUN_FILES, type RunContext, type StepOutcome } from '../context';
import { runStudies } from './select';

/**
 * Identified instances appear in the journal only as a keyed hash of their SOP Instance UID (the
 * identity key): without the key, nobody can test whether a known UID is in a journal.
 */
export function instanceHash(ctx: RunContext, sopInstanceUid: string): string {
  return `hmac:${createHmac('sha256', ctx.journalKey).update(`journal\0${sopInstanceUid}`).digest('hex').slice(0, 32)}`;
}

/** The SOP Instance UID a received file's name carries (<SOP>.dcm, or <SOP>.dup-<n>.dcm for a second instance under it). */
export function sopInstanceUidOfFile(path: string): string {
  return parseInstanceFileName(path)?.sopInstanceUid ?? basename(path, '.dcm');
}

/** Files received: from_staging/<Study>/<Series>/<SOP>.dcm (and <SOP>.dup-<n>.dcm) as our SCP writes them. */
function receivedFiles(dir: string): string[] {
  return fg.sync('*/*/*.dcm', { cwd: dir, onlyFiles: true });
}

export function readPullReport(ctx: RunContext): PullReport | undefined {
  return ctx.run.readJson<PullReport>(RUN_FILES.pullReport);
}

/** C-MOVE every study into the embedded SCP, then reconcile against the staging PACS's own list. */
/** onTotal: the number of instances the pull expects, as it becomes known. */
export async function pullStep(ctx: RunContext, onTotal?: (total: number) => void): Promise<StepOutcome & { partial: boolean }> {
  const studies = runStudies(ctx);
  const dir = ctx.run.file(RUN_FILES.fromStaging);
  const progress = createProgress('pull', 'instances');
  let report: PullReport;
  try {
    report = await pull({
      peer: ctx.peers.staging,
      studies,
      outDir: dir,
      localAet: ctx.peers.local.aet,
      localPort: ctx.peers.local.port,
      localTls: ctx.peers.local.tls,
      allowedCallingAets: ctx.peers.local.allowedCallingAets,
      idleTimeoutMs: ctx.peers.local.idleTimeoutMs,
      network: ctx.network,
      logger: ctx.logger,
      onProgress: (p) => {
        onTotal?.(p.expected);
        progress.update(p.received, Math.max(p.expected, p.received), pullProgressDetail(p));
        crashPoint('pull', p.received);
      },
    });
  } finally {
    progress.stop();
  }
  ctx.run.writeJson(RUN_FILES.pullReport, report);
  const lines = report.studies.map((s) =>
    `${s.studyInstanceUid}: expected ${s.expected}, received ${s.received}, failed ${s.failed}; C-MOVE ${s.moveStatus}` +
    (s.retries ? `; ${s.retries} retry round(s)` : '') + (s.error ? `; ${s.error}` : '') + sharedNote(s));
  ctx.run.writeLines(RUN_FILES.pullOutput, lines);
  const files = receivedFiles(dir);
  const received = { files: files.length, studies: new Set(files.map((f) => f.split('/')[0])).size };
  ctx.journal.append(files.map((f) => ({ event: 'received' as const, instance: instanceHash(ctx, sopInstanceUidOfFile(f)) })));
  ctx.run.overview(`Received ${received.files} files containing ${received.studies} studies`);
  const incomplete = report.studies.filter((s) => s.failed > 0 || s.error || s.expected === 0);
  if (incomplete.length) ctx.run.overview(`${incomplete.length} studies could not be pulled completely, see ${RUN_FILES.pullOutput}`);
  const shared = report.studies.filter((s) => s.sharedSopInstanceUids);
  if (shared.length) {
    ctx.run.overview(`${shared.length} studies hold different instances under one SOP Instance UID (all received; every copy will be quarantined), see ${RUN_FILES.pullOutput}`);
  }
  for (const line of lines) ctx.logger.info({ step: 'pull' }, line.replace(/^[0-9.]+:/, 'study:'));
  return {
    summary: `${received.files} files, ${received.studies} studies received` + (incomplete.length ? `; ${incomplete.length} incomplete` : ''),
    partial: incomplete.length > 0,
  };
}
