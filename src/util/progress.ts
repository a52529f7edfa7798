import { SingleBar } from 'cli-progress';

export interface Progress {
  update(done: number, total: number): void;
  stop(): void;
}

const QUIET: Progress = { update() {}, stop() {} };

/** A live bar (count, rate, ETA) on an interactive terminal; nothing when piped or in CI. */
export function createProgress(label: string, unit = 'files'): Progress {
  if (!process.stderr.isTTY || process.env.CI) return QUIET;
  const bar = new SingleBar({
    format: `${label} {bar} {value}/{total} ${unit} | {rate}/s | ETA {eta_formatted}`,
    stream: process.stderr,
    hideCursor: true,
    clearOnComplete: true,
    etaBuffer: 200,
  });
  const started = Date.now();
  let running = false;
  return {
    update(done, total) {
      const rate = Math.round(done / Math.max(0.001, (Date.now() - started) / 1000));
      if (!running) {
        bar.start(total, done, { rate });
        running = true;
      } else {
        bar.setTotal(total);
        bar.update(done, { rate });
      }
    },
    stop() {
      if (running) bar.stop();
    },
  };
}
