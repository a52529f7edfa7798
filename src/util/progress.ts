import type { MultiBar, SingleBar } from 'cli-progress';

export interface Progress {
  /** detail: what the counts are about right now, e.g. "study 3/20" (never PHI). */
  update(done: number, total: number, detail?: string): void;
  stop(): void;
}

const QUIET: Progress = { update() {}, stop() {} };

/** Live bars only on an interactive terminal, never in CI or when piped. */
function interactive(): boolean {
  return !!process.stderr.isTTY && !process.env.CI;
}

/**
 * One MultiBar for every bar alive at a time (the pull and the anonymizer overlap: two bars, one
 * under the other), created with the first bar and stopped, cleared, with the last.
 */
let board: MultiBar | undefined;
let live = 0;

function boardFor(): MultiBar {
  // Loaded only when a bar is drawn: piped, in CI or in a benchmark it would be start-up cost alone.
  const { MultiBar: Board } = require('cli-progress') as typeof import('cli-progress'); // eslint-disable-line @typescript-eslint/no-require-imports
  board ??= new Board({
    stream: process.stderr,
    hideCursor: true,
    clearOnComplete: true,
    etaBuffer: 200,
    autopadding: true,
  });
  return board;
}

/**
 * Prints one line for the person at the terminal (stdout, or the stream given). While bars are
 * drawn, the line goes above them (they are cleared first and drawn again below it): never onto
 * the end of a bar.
 */
export function printLine(line: string, stream: NodeJS.WritableStream = process.stdout): void {
  printText(`${line}\n`, stream);
}

/** Text ending in a newline (e.g. a log record), printed like printLine. */
export function printText(text: string, stream: NodeJS.WritableStream = process.stdout): void {
  if (board) {
    board.log(text);
    board.update(); // prints the text now: a bar stopped right after would drop it
  } else {
    stream.write(text);
  }
}

/** A live bar (count, rate, ETA) on an interactive terminal; nothing when piped or in CI. */
export function createProgress(label: string, unit = 'files'): Progress {
  if (!interactive()) return QUIET;
  const format = `${label} {detail}{bar} {value}/{total} ${unit} | {rate}/s | ETA {eta_formatted}`;
  const started = Date.now();
  let bar: SingleBar | undefined;
  return {
    update(done, total, detail) {
      const rate = Math.round(done / Math.max(0.001, (Date.now() - started) / 1000));
      const payload = { rate, detail: detail ? `${detail} ` : '' };
      if (!bar) {
        bar = boardFor().create(total, done, payload, { format });
        live++;
      } else {
        bar.setTotal(total);
        bar.update(done, payload);
      }
    },
    stop() {
      if (!bar || !board) return;
      bar.stop();
      if (--live > 0) {
        board.remove(bar);
      } else {
        board.stop();
        board = undefined;
      }
      bar = undefined;
    },
  };
}
