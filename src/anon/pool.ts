import { Worker } from 'node:worker_threads';
import { join } from 'node:path';
import { PipelineError, type ErrorCode } from '../errors';
import { rmSync } from 'node:fs';
import { diskFullError, isDiskFull } from '../util/disk-full';
import { anonymizeBatch, copyToQuarantine, type FileOutcome } from './anonymize-file';
import { CONFLICTING_SOP_REASON, SopClaims } from './sop-claims';
import { createEnvironment } from './environment';
import type { FromWorker } from './pool-messages';
import type { FileSource } from './file-source';
import type { AnonymizeSettings } from './settings';

/** Files per batch: one identity transaction and one claim message each. */
export const BATCH_FILES = 16;

function asPipelineError(err: unknown): PipelineError {
  if (err instanceof PipelineError) return err;
  if (isDiskFull(err)) return diskFullError((err as NodeJS.ErrnoException).path ?? 'the output', err);
  return new PipelineError('E_INTERNAL', `anonymizer failed: ${(err as Error).message}`, { cause: err });
}

/**
 * Runs the anonymizer over the source's files, in worker threads (or inline with one worker),
 * calling onOutcome in completion order. Each worker keeps two batches in flight so it never waits
 * on the main thread. A file already reported anonymized whose SOP Instance UID turns out to be
 * conflicting is reported again, quarantined, with `withdrawn` set (its output is removed).
 */
export async function runPool(source: FileSource, settings: AnonymizeSettings, workers: number, onOutcome: (o: FileOutcome) => void): Promise<void> {
  const claims = new SopClaims();
  const withdraw = (): void => {
    for (const earlier of claims.takeWithdrawals()) {
      rmSync(earlier.output, { force: true });
      const copy = copyToQuarantine(settings.inputDir, settings.quarantineDir, earlier.input);
      onOutcome({ kind: 'quarantined', input: earlier.input, copy, reason: CONFLICTING_SOP_REASON, withdrawn: earlier });
    }
  };
  const report = (outcome: FileOutcome): void => {
    claims.observe(outcome);
    onOutcome(outcome);
    withdraw();
  };
  const claim = (list: Parameters<SopClaims['claim']>[0][]) => {
    const results = list.map((c) => claims.claim(c));
    withdraw();
    return results;
  };
  if (workers <= 1) {
    const env = await createEnvironment(settings, async (list) => claim([...list]));
    try {
      for (let batch = await source.next(); batch; batch = await source.next()) {
        for (const outcome of await anonymizeBatch(batch, env)) report(outcome);
      }
    } finally {
      await env.close();
    }
    return;
  }
  await new Promise<void>((resolve, reject) => {
    let nextId = 0;
    let inFlight = 0;
    let exhausted = false;
    let failed = false;
    const threads: Worker[] = [];
    const fail = (err: PipelineError): void => {
      if (failed) return;
      failed = true;
      for (const t of threads) void t.terminate();
      reject(err);
    };
    const closeAll = (): void => {
      for (const t of threads) t.postMessage({ type: 'close' });
      resolve();
    };
    const feed = (worker: Worker): void => {
      inFlight++; // counted before the wait, so an idle moment is never taken for the end
      source.next().then((paths) => {
        if (failed) return;
        if (paths) {
          worker.postMessage({ type: 'batch', id: nextId++, paths });
          return;
        }
        exhausted = true;
        if (--inFlight === 0) closeAll();
      }, (err: Error) => fail(new PipelineError('E_IO', `cannot list the input: ${err.message}`, { cause: err })));
    };
    for (let i = 0; i < workers; i++) {
      // Bounded heaps: each worker holds at most a batch of files, and V8 would otherwise grow every
      // thread's heap far past that before collecting (peak RSS is what a site's machine must spare).
      const worker = new Worker(join(__dirname, 'worker.js'), { workerData: settings, resourceLimits: { maxOldGenerationSizeMb: 128, maxYoungGenerationSizeMb: 24 } });
      threads.push(worker);
      worker.on('message', (message: FromWorker) => {
        if (failed) return;
        if (message.type === 'claim') {
          let results;
          try {
            results = claim([...message.claims]);
          } catch (err) {
            fail(asPipelineError(err)); // withdrawing an output on a full disk, say
            return;
          }
          worker.postMessage({ type: 'claimed', id: message.id, results });
        } else if (message.type === 'done') {
          try {
            for (const outcome of message.outcomes) report(outcome);
          } catch (err) {
            // Thrown here it would be uncaught (an event handler): e.g. quarantine.jsonl on a full disk.
            fail(asPipelineError(err));
            return;
          }
          inFlight--;
          if (exhausted) {
            if (inFlight === 0) closeAll();
          } else feed(worker);
        } else {
          fail(new PipelineError((message.code as ErrorCode) ?? 'E_INTERNAL', message.message));
        }
      });
      worker.on('error', (err) => fail(err instanceof PipelineError ? err : new PipelineError('E_INTERNAL', `anonymizer worker failed: ${err.message}`, { cause: err })));
      feed(worker);
      feed(worker);
    }
  });
}
