import fg from 'fast-glob';
import { resolve } from 'node:path';

/** Where the anonymizer's files come from: a fixed list, or files that keep arriving until a signal. */
export interface FileSource {
  /** The next batch, waiting for one if none is ready yet; undefined when there will be no more. */
  next(): Promise<string[] | undefined>;
  /** Files handed out so far, plus those known and waiting. */
  readonly known: number;
}

/** Files under the input, hidden ones (temp files of a receiver still writing) excluded, in a stable order. */
export function listInputFiles(inputDir: string): string[] {
  return fg.sync('**/*', { cwd: resolve(inputDir), absolute: true, onlyFiles: true, dot: false, followSymbolicLinks: false }).sort();
}

export function listSource(paths: readonly string[], batchSize: number): FileSource {
  let next = 0;
  return {
    known: paths.length,
    async next() {
      if (next >= paths.length) return undefined;
      const batch = paths.slice(next, next + batchSize);
      next += batch.length;
      return batch;
    },
  };
}

/**
 * Files appearing under dir while `until` is pending (a receiver filling it), then a last listing:
 * every file is handed out once. Receivers write under hidden temp names and rename, so a listed
 * file is complete.
 */
export function watchSource(dir: string, until: Promise<unknown>, batchSize: number, pollMs = 250): FileSource {
  const seen = new Set<string>();
  const waiting: string[] = [];
  let finished = false;
  let lastListing = false;
  until.then(() => (finished = true), () => (finished = true));
  const refill = (): void => {
    for (const file of listInputFiles(dir)) {
      if (!seen.has(file)) {
        seen.add(file);
        waiting.push(file);
      }
    }
  };
  return {
    get known() {
      return seen.size;
    },
    async next() {
      for (;;) {
        if (waiting.length >= batchSize || (waiting.length > 0 && (finished || lastListing))) return waiting.splice(0, batchSize);
        if (lastListing) return undefined;
        if (finished) {
          lastListing = true; // the receiver is done: one more look catches what it wrote last
          refill();
          continue;
        }
        refill();
        if (waiting.length > 0) return waiting.splice(0, batchSize);
        await Promise.race([until.catch(() => undefined), new Promise((r) => setTimeout(r, pollMs))]);
      }
    },
  };
}
