import { Worker } from 'node:worker_threads';
import { join } from 'node:path';
import { PipelineError, type ErrorCode } from '../errors';
import { anonymizeFile, type FileOutcome } from './anonymize-file';
import { createEnvironment } from './environment';
import type { ClaimResult, FromWorker } from './pool-messages';
import type { AnonymizeSettings } from './settings';

/** Remembers which content each original SOP Instance UID had in this run (shared by all workers). */
export class SopClaims {
  private readonly seen = new Map<string, string>();
  claim(sopInstanceUid: string, contentHash: string): ClaimResult {
    const previous = this.seen.get(sopInstanceUid);
    if (previous === undefined) {
      this.seen.set(sopInstanceUid, contentHash);
      return 'first';
    }
    return previous === contentHash ? 'same' : 'conflict';
  }
}

/**
 * Runs anonymizeFile over paths, in worker threads (or inline with one worker), calling onOutcome in
 * completion order. Each worker keeps two files in flight so it never waits on the main thread.
 */
export async function runPool(paths: readonly string[], settings: AnonymizeSettings, workers: number, onOutcome: (o: FileOutcome) => void): Promise<void> {
  const claims = new SopClaims();
  if (workers <= 1) {
    const env = createEnvironment(settings, async (sop, hash) => claims.claim(sop, hash));
    try {
      for (const path of paths) onOutcome(await anonymizeFile(path, env));
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
    const stopAll = (): void => {
      for (const t of threads) void t.terminate();
    };
    const feed = (worker: Worker): void => {
      if (next < paths.length) {
        const id = next++;
        worker.postMessage({ type: 'file', id, path: paths[id] });
      }
    };
    for (let i = 0; i < workers; i++) {
      const worker = new Worker(join(__dirname, 'worker.js'), { workerData: settings });
      threads.push(worker);
      worker.on('message', (message: FromWorker) => {
        if (failed) return;
        if (message.type === 'claim') {
          worker.postMessage({ type: 'claimed', id: message.id, result: claims.claim(message.sopInstanceUid, message.contentHash) });
        } else if (message.type === 'done') {
          onOutcome(message.outcome);
          finished++;
          if (finished === paths.length) {
            for (const t of threads) t.postMessage({ type: 'close' });
            resolve();
          } else feed(worker);
        } else {
          failed = true;
          stopAll();
          reject(new PipelineError((message.code as ErrorCode) ?? 'E_INTERNAL', message.message));
        }
      });
      worker.on('error', (err) => {
        if (failed) return;
        failed = true;
        stopAll();
        reject(err instanceof PipelineError ? err : new PipelineError('E_INTERNAL', `anonymizer worker failed: ${err.message}`, { cause: err }));
      });
      feed(worker);
      feed(worker);
    }
    if (paths.length === 0) {
      for (const t of threads) t.postMessage({ type: 'close' });
      resolve();
    }
  });
}
