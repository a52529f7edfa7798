import { SingleBar } from 'cli-progress';

export interface Progress {
  /** detail: what the counts are about right now, e.g. "study 3/20" (never PHI). */
  update(done: number, total: number, detail?: string): void;
  stop(): void;
}

const QUIET: Progress = { update() {}, stop() {} };

/** A live bar (count, rate, ETA) on an interactive terminal; nothing when piped or in CI. */
export function createProgress(label: string, unit = 'files'): Progress {
  if (!process.stderr.isTTY || process.env.CI) return QUIET;
  const bar = new SingleBar({
    format: `${label} {detail}{bar} {value}/{total} ${unit} | {rate}/s | ETA {eta_formatted}`,
    stream: process.stderr,
    hideCursor: true,
    clearOnComplete: true,
    etaBuffer: 200,
  });
  const started = Date.now();
  let running = false;
  return {
    update(done, total, detail) {
      const rate = Math.round(done / Math.max(0.001, (Date.now() - started) / 1000));
      const payload = { rate, detail: detail ? `${detail} ` : '' };
      if (!running) {
        bar.start(total, done, payload);
        running = true;
      } else {
        bar.setTotal(total);
        bar.update(done, payload);
      }
    },
    stop() {
      if (running) bar.stop();
    },
  };
}
