import { existsSync } from 'node:fs';
import Database from 'better-sqlite3';
import type { PipelineConfig } from '../config/schema';
import { PipelineError, errorMessage } from '../errors';
import { networkOptions } from '../scu/options';
import { diskFullError, isDiskFull } from '../util/disk-full';
import { createLogger } from '../util/logger';
import { printLine } from '../util/progress';
import { RUN_FILES, type RunContext, type RunOptions, type Sharing } from './context';
import { Claims } from './coordination/claims';
import { resolveHook } from './hooks/load';
import { loadOrCreateKey, resolveKeyFile } from '../anon/identity/key-file';
import { migrateIdentity } from '../anon/identity/migrate';
import { openIdentityStore } from '../anon/identity/open-store';
import { isPostgresUrl } from '../anon/identity/store';
import { storeTarget } from '../anon/settings-from-config';
import { Journal } from './journal';
import { echoPeers, peersFromConfig } from './preflight';
import { openReviewSource } from './review';
import { overviewTime, RunDir, STEPS, type RunState, type StepName, type StepState } from './run-dir';
import { anonymizeStep } from './steps/anonymize';
import { hookStep } from './steps/hook';
import { markStep } from './steps/mark';
import { protocolStep } from './steps/protocol';
import { pullStep } from './steps/pull';
import { pushStep } from './steps/push';
import { keepClaimed, selectStep } from './steps/select';
import { checkWebArchive } from '../web/reach';
import { withWebClient } from '../web/push';

export interface RunRequest {
  readonly config: PipelineConfig;
  readonly resume: boolean;
  readonly options: RunOptions;
  readonly say?: (line: string) => void;
}

export interface RunResult {
  readonly exitCode: 0 | 1 | 3;
  readonly runDir: string;
}

/**
 * In a practice run the identity store is never written: the run works on a SQLite snapshot of it
 * (of a PostgreSQL store, every mapping is copied into the snapshot).
 */
async function practiceIdentity(run: RunDir, identityDb: string, keyFile: string | undefined): Promise<string> {
  const copy = run.file('identity.practice.db');
  if (existsSync(copy)) return copy;
  if (isPostgresUrl(identityDb)) {
    await migrateIdentity(identityDb, copy, keyFile);
  } else if (existsSync(identityDb)) {
    const db = new Database(identityDb, { readonly: true, fileMustExist: true });
    try {
      db.exec(`VACUUM INTO '${copy.replace(/'/g, "''")}'`);
    } finally {
      db.close();
    }
  }
  return copy;
}

interface StepResult {
  readonly summary: string;
  /** The step finished but left studies behind; resume runs it again. */
  readonly partial?: boolean;
}

/** Names which of two overlapping steps failed. */
class StepFailure extends Error {
  constructor(readonly step: StepName, override readonly cause: unknown) {
    super(errorMessage(cause));
  }
}

function failAs(step: StepName, err: unknown): never {
  throw new StepFailure(step, err);
}

async function runStep(name: StepName, ctx: RunContext, resumed: boolean): Promise<StepResult> {
  switch (name) {
    case 'select': return selectStep(ctx, resumed);
    case 'pull': return pullStep(ctx);
    case 'anonymize': return anonymizeStep(ctx);
    case 'protocol': return protocolStep(ctx);
    case 'hook': return hookStep(ctx);
    case 'push':
      if (ctx.options.practice || ctx.options.noPush) return { summary: `skipped (${ctx.options.practice ? 'practice' : 'no-push'} run)` };
      return pushStep(ctx);
    case 'mark': {
      const result = await markStep(ctx);
      // A study delivered without its conflicting instances did not fully make it: exit 3, as for one not pushed.
      return { summary: result.summary, partial: result.notPushed.length > 0 || result.conflicting.length > 0 };
    }
  }
}

/**
 * Runs the pipeline, or resumes the newest run from its first step not done. Every step's end is
 * recorded in state.json; overview.txt and the journal are flushed as they go, so a crash at any
 * moment leaves a run that -r completes.
 */
async function runOnce(req: RunRequest, sharing?: Sharing): Promise<RunResult> {
  const say = req.say ?? printLine;
  let run: RunDir | undefined;
  let state: RunState = { options: { ...req.options }, steps: {} };
  if (req.resume) {
    run = RunDir.latest(req.config.dataDir);
    if (!run) throw new PipelineError('E_USAGE', `no run to resume in ${req.config.dataDir}/`);
    state = run.loadState() ?? state;
  }
  const options = state.options as unknown as RunOptions;
  // Everything that can be wrong with the configuration is found before a run directory exists.
  const peers = peersFromConfig(req.config, options, (line) => say(`warning: ${line}`));
  resolveHook(req.config.postAnonHook);
  // The identity store is reachable and made with our key, before anything moves (a practice run never writes identity.db).
  if (isPostgresUrl(req.config.identityDb) || !options.practice) {
    await (await openIdentityStore(storeTarget(req.config.identityDb), { keyFile: req.config.keyFile, dicomRoot: req.config.dicomRoot })).close();
  }
  const review = await openReviewSource(req.config.review, options.practice);
  try {
    run ??= RunDir.create(req.config.dataDir);
    await sharing?.claims.start(run.name);
  } catch (err) {
    await review.close();
    throw err;
  }
  // A log line that cannot be written (disk full) must not throw into whatever logged it (the SCP
  // answering a C-STORE, say): it is remembered, and the run stops after the step.
  let logFailure: NodeJS.ErrnoException | undefined;
  const logger = createLogger({ file: run.file(RUN_FILES.log), level: 'info', onWriteError: (err) => (logFailure ??= err) });
  const runPath = run.path;
  const checkLog = (): void => {
    if (logFailure) throw isDiskFull(logFailure) ? diskFullError(run!.file(RUN_FILES.log), logFailure) : logFailure;
  };
  const first = STEPS.find((s) => state.steps[s]?.status !== 'done');
  const ctx: RunContext = {
    run,
    journal: new Journal(run.file(RUN_FILES.journal)),
    config: req.config,
    options,
    peers,
    network: networkOptions(req.config.network),
    review,
    identityDb: options.practice ? await practiceIdentity(run, req.config.identityDb, req.config.keyFile) : req.config.identityDb,
    logger,
    journalKey: loadOrCreateKey(resolveKeyFile(req.config.keyFile)).key,
    sharing,
    say,
  };
  try {
    if (!first) {
      say(`${run.name}: every step is already done; nothing to resume`);
      return { exitCode: 0, runDir: run.path };
    }
    say(`Working directory: ${run.path}`);
    run.reserveSpace();
    if (req.resume) run.overview(`Resuming at ${overviewTime()} from step ${first}`);
    else run.overview(`Starting at ${overviewTime()}${options.practice ? ' (practice run)' : ''}${options.noPush ? ' (no push)' : ''}`);
    // Past the selection, a resumed shared run renews its claims and drops what others took over.
    if (req.resume && sharing && first !== 'select') await keepClaimed(ctx, sharing);
    if (!req.resume) run.saveState(state);

    const remaining = STEPS.slice(STEPS.indexOf(first));
    const needStaging = remaining.includes('pull');
    const needResearch = remaining.includes('push') && !options.practice && !options.noPush;
    const echoed = await echoPeers([...(needStaging ? [peers.staging] : []), ...(needResearch && peers.research ? [peers.research] : [])], peers.local.aet, ctx.network);
    if (needResearch && peers.researchWeb) echoed.push(await withWebClient(peers.researchWeb, ctx.network, checkWebArchive));
    for (const line of echoed) say(line);

    let partial = false;
    const record = (step: StepName, started: bigint, result: StepResult | Error): void => {
      const seconds = Math.round(Number(process.hrtime.bigint() - started) / 1e6) / 1000;
      const at = new Date().toISOString();
      const stepState: StepState = result instanceof Error
        ? { status: 'failed', at, seconds, message: errorMessage(result) }
        : { status: result.partial ? 'partial' : 'done', at, seconds, message: result.summary };
      state = { ...state, steps: { ...state.steps, [step]: stepState } };
      if (result instanceof Error) {
        // Recorded where it still can be: on a full disk these writes may fail too, and the error
        // that stopped the step is the one to report.
        for (const write of [() => run.saveState(state), () => run.overview(`Step ${step} failed: ${stepState.message}`)]) {
          try {
            write();
          } catch {
            /* see above */
          }
        }
        logger.error({ step, code: (result as PipelineError).code }, 'step failed');
      } else {
        run.saveState(state);
        partial ||= !!result.partial;
        say(`   ${step}: ${result.summary}`);
      }
    };
    for (let i = 0; i < remaining.length; i++) {
      const step = remaining[i];
      const started = process.hrtime.bigint();
      // Pull and anonymize overlap: files are anonymized as they arrive. Both are recorded as done only
      // when both are; a crash in between redoes both (anonymization is deterministic).
      const overlap = step === 'pull' && remaining[i + 1] === 'anonymize';
      say(overlap ? '== pull + anonymize' : `== ${step}`);
      try {
        if (overlap) {
          // The anonymizer's bar counts towards the pull's total (known once every study is listed).
          let pullTotal = 0;
          const pulling = pullStep(ctx, (total) => (pullTotal = total));
          // Settled into a value at once: an anonymizer failure must wait for the pull, not crash the process.
          const anonymizing = anonymizeStep(ctx, { until: pulling, total: () => pullTotal }).then((r) => ({ r }), (err: unknown) => ({ err }));
          const pulled = await pulling.catch(async (err: Error) => {
            await anonymizing;
            throw err;
          });
          record('pull', started, pulled);
          i++;
          const anonymized = await anonymizing;
          checkLog(); // only now: the anonymizer must have stopped before the run does
          record('anonymize', started, 'err' in anonymized ? failAs('anonymize', anonymized.err) : anonymized.r);
        } else {
          const result = await runStep(step, ctx, req.resume && step === first);
          checkLog();
          record(step, started, result);
        }
      } catch (err) {
        const failedStep = err instanceof StepFailure ? err.step : step;
        const raw = err instanceof StepFailure ? err.cause : err;
        const cause = isDiskFull(raw) && !(raw instanceof PipelineError) ? diskFullError(runPath, raw) : raw;
        if (isDiskFull(cause)) run.releaseReserve(); // room to record why the run stopped
        record(failedStep, started, cause instanceof Error ? cause : new Error(String(cause)));
        const message = errorMessage(cause);
        const hint = /-r\b/.test(message) ? '' : '; fix the cause, then resume with `dicom-pipeline -r`';
        const code = cause instanceof PipelineError ? cause.code : 'E_STEP';
        throw new PipelineError(code === 'E_CONFIG' || code === 'E_USAGE' ? 'E_STEP' : code, `step ${failedStep} failed: ${message}${hint}`, { cause });
      }
    }
    say(`Run ${partial ? 'completed, but some studies were not moved' : 'completed'}: ${run.file(RUN_FILES.overview)}`);
    return { exitCode: partial ? 3 : 0, runDir: run.path };
  } catch (err) {
    // Outside a step (the first overview line, state.json): still one line saying what to do.
    throw isDiskFull(err) && !(err instanceof PipelineError) ? diskFullError(runPath, err) : err;
  } finally {
    run.releaseReserve();
    await review.close();
    try {
      logger.flush?.();
    } catch {
      /* a log that cannot be written was reported above */
    }
  }
}

/** Which of these studies the review source still selects (not yet marked by anyone). */
async function stillSelected(req: RunRequest, studies: readonly string[]): Promise<string[]> {
  const review = await openReviewSource(req.config.review, false);
  try {
    const selected = new Set((await review.select(Number.MAX_SAFE_INTEGER)).studies.map((s) => s.studyInstanceUid));
    return studies.filter((s) => selected.has(s));
  } finally {
    await review.close();
  }
}

/** How long to wait for others' studies between looks at the claims table. */
function pollMs(leaseS: number): number {
  return Math.min(5000, Math.max(500, (leaseS * 1000) / 8));
}

/**
 * Runs the pipeline. With the identity store on PostgreSQL (outside practice runs) several instances
 * share the work: each claims its share of the selected studies, then waits until the studies other
 * instances hold are done, taking over (in a further run directory) any whose owner stopped renewing
 * its lease. A study another instance delivered is not a failure here.
 */
export async function runPipeline(req: RunRequest): Promise<RunResult> {
  const say = req.say ?? printLine;
  const shared = isPostgresUrl(req.config.identityDb) && !req.options.practice && !!req.config.local;
  if (!shared) return runOnce(req);
  const { leaseS, gatherS } = req.config.coordination;
  const claims = await Claims.open(req.config.identityDb, req.config.local!.aet, leaseS);
  try {
    const held: string[] = [];
    const first = await runOnce(req, { claims, gatherS, held });
    let exitCode = first.exitCode;
    let waiting = [...held];
    const doneElsewhere = new Set<string>();
    const releasedElsewhere = new Set<string>();
    if (waiting.length) say(`Waiting for ${waiting.length} studies held by other instances (lease ${leaseS} s)`);
    while (waiting.length) {
      const status = await claims.status(waiting);
      status.doneElsewhere.forEach((s) => doneElsewhere.add(s));
      let still = [...status.heldElsewhere];
      // Free again: the owner stopped renewing, or nobody claimed it. What the review source no longer
      // selects was marked there by its owner (a failure; a push would be 'done'): not ours to redo.
      const free = [...status.expired, ...status.unclaimed];
      if (free.length) {
        const selectable = await stillSelected(req, free);
        const gone = free.filter((s) => !selectable.includes(s));
        gone.forEach((s) => releasedElsewhere.add(s));
        await claims.forget(gone);
        if (selectable.length) {
          say(`Taking over ${selectable.length} studies that no live instance holds`);
          const grabbed: string[] = [];
          const takeover = await runOnce({ ...req, resume: false }, { claims, gatherS: 0, only: selectable, held: grabbed });
          if (takeover.exitCode > exitCode) exitCode = takeover.exitCode;
          RunDir.open(first.runDir).overview(`${selectable.length - grabbed.length} studies taken over from instances that stopped, see ${takeover.runDir}`);
          still = [...still, ...grabbed];
        }
      } else if (still.length) {
        await new Promise((resolve) => setTimeout(resolve, pollMs(leaseS)));
      }
      waiting = still;
    }
    const overview = RunDir.open(first.runDir);
    if (held.length) overview.overview(`${doneElsewhere.size} studies were pushed by other instances${releasedElsewhere.size ? `, ${releasedElsewhere.size} could not be pushed there (see the review database)` : ''}`);
    if (releasedElsewhere.size && exitCode === 0) exitCode = 3;
    return { exitCode, runDir: first.runDir };
  } finally {
    await claims.stop();
  }
}
