import { Worker } from 'node:worker_threads';
import { join } from 'node:path';
import { PipelineError, type ErrorCode } from '../errors';
import { sameContent } from '../util/same-content';
import { anonymizeBatch, type Claim, type ClaimResult, type FileOutcome } from './anonymize-file';
import { createEnvironment } from './environment';
import type { FromWorker } from './pool-messages';
import type { AnonymizeSettings } from './settings';

/** Files per batch: one identity transaction and one claim message each. */
export const BATCH_FILES = 16;

/** Remembers the first file of each original SOP Instance UID in this run (shared by all workers). */
export class SopClaims {
  private readonly first = new Map<string, string>();

  claim({ sopInstanceUid, input }: Claim): ClaimResult {
    const earlier = this.first.get(sopInstanceUid);
    if (earlier === undefined) {
      this.first.set(sopInstanceUid, input);
      return 'first';
    }
    return sameContent(earlier, input) ? 'same' : 'conflict';
  }
}

function batches(paths: readonly string[]): string[][] {
  const out: string[][] = [];
  for (let i = 0; i < paths.length; i += BATCH_FILES) out.push(paths.slice(i, i + BATCH_FILES));
  return out;
}

/**
 * Runs the anonymizer over paths, in worker threads (or inline with one worker), calling onOutcome
 * in completion order. Each worker keeps two batches in flight so it never waits on the main thread.
 */
export async function runPool(paths: readonly string[], settings: AnonymizeSettings, workers: number, onOutcome: (o: FileOutcome) => void): Promise<void> {
  const claims = new SopClaims();
  const queue = batches(paths);
  if (workers <= 1) {
    const env = createEnvironment(settings, async (list) => list.map((c) => claims.claim(c)));
    try {
      for (const batch of queue) for (const outcome of await anonymizeBatch(batch, env)) onOutcome(outcome);
    } finally {
      env.close();
    }
    return;
  }
  await new Promise<void>((resolve, reject) => {
    let next = 0;
    let finished = 0;
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
      if (next < queue.length) worker.postMessage({ type: 'batch', id: next, paths: queue[next++] });
    };
    for (let i = 0; i < workers; i++) {
      // Bounded heaps: each worker holds at most a batch of files, and V8 would otherwise grow every
      // thread's heap far past that before collecting (peak RSS is what a site's machine must spare).
      const worker = new Worker(join(__dirname, 'worker.js'), { workerData: settings, resourceLimits: { maxOldGenerationSizeMb: 128, maxYoungGenerationSizeMb: 24 } });
      threads.push(worker);
      worker.on('message', (message: FromWorker) => {
        if (failed) return;
        if (message.type === 'claim') {
          worker.postMessage({ type: 'claimed', id: message.id, results: message.claims.map((c) => claims.claim(c)) });
        } else if (message.type === 'done') {
          for (const outcome of message.outcomes) onOutcome(outcome);
          if (++finished === queue.length) closeAll();
          else feed(worker);
        } else {
          fail(new PipelineError((message.code as ErrorCode) ?? 'E_INTERNAL', message.message));
        }
      });
      worker.on('error', (err) => fail(err instanceof PipelineError ? err : new PipelineError('E_INTERNAL', `anonymizer worker failed: ${err.message}`, { cause: err })));
      feed(worker);
      feed(worker);
    }
    if (queue.length === 0) closeAll();
  });
}
