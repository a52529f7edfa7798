import { spawn, spawnSync } from 'node:child_process';
import { accessSync, constants, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';

/** How peak RSS is measured: GNU time's %M (exact, from wait4), or polling /proc/<pid>/status VmHWM (may miss a late peak). */
export type RssSource = 'gnu-time' | 'proc-poll' | 'none';

export interface RunSpec {
  readonly command: string;
  readonly args: readonly string[];
  readonly cwd?: string;
  readonly env?: NodeJS.ProcessEnv;
  /** Kill the process after this long (default: 30 minutes). */
  readonly timeoutMs?: number;
}

export interface RunResult {
  readonly exitCode: number | null;
  readonly signal: NodeJS.Signals | null;
  /** Wall-clock seconds from spawn to exit, measured here (whole process, start-up included). */
  readonly seconds: number;
  /** Peak resident set size of the process in bytes (worker threads included: they share the process); NaN if unknown. */
  readonly peakRssBytes: number;
  readonly rssSource: RssSource;
  readonly stdout: string;
  readonly stderr: string;
}

const GNU_TIME = '/usr/bin/time';

/** Absolute path of an executable on PATH, or undefined. */
export function findExecutable(name: string, path = process.env.PATH ?? ''): string | undefined {
  for (const dir of path.split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      /* not here */
    }
  }
  return undefined;
}

let gnuTimeChecked: boolean | undefined;
/** True when /usr/bin/time is GNU time (supports -f and -o); busybox and shell builtins do not count. */
export function hasGnuTime(): boolean {
  if (gnuTimeChecked === undefined) {
    const res = spawnSync(GNU_TIME, ['-f', '%M', 'true'], { encoding: 'utf8' });
    gnuTimeChecked = res.status === 0 && /^\d+\s*$/.test(res.stderr.trim().split('\n').pop() ?? '');
  }
  return gnuTimeChecked;
}

export const GNU_TIME_HINT = "GNU time is missing: peak RSS is polled from /proc (may under-read); for exact figures run 'apt-get install -y time'";

/** Parses VmHWM (peak RSS) from the text of /proc/<pid>/status; bytes, or undefined. */
export function parseVmHwm(status: string): number | undefined {
  const m = /^VmHWM:\s+(\d+)\s+kB/m.exec(status);
  return m ? Number(m[1]) * 1024 : undefined;
}

/** Parses the last line GNU time wrote with -f '%e %M': [seconds, peak RSS bytes]. */
export function parseGnuTimeOutput(text: string): { seconds: number; peakRssBytes: number } | undefined {
  const lines = text.trim().split('\n');
  const m = /^(\d+(?:\.\d+)?)\s+(\d+)$/.exec(lines[lines.length - 1]?.trim() ?? '');
  return m ? { seconds: Number(m[1]), peakRssBytes: Number(m[2]) * 1024 } : undefined;
}

/**
 * Runs one process to completion and measures it as a whole: wall time and peak RSS. Output is
 * collected (not shown). With GNU time the child is wrapped as `time -f '%e %M' -o FILE cmd ...`:
 * time's own start-up (~1 ms) is inside the wall time, its RSS is not in %M.
 */
export async function runMeasured(spec: RunSpec, rss: 'auto' | 'proc-poll' = 'auto'): Promise<RunResult> {
  const useTime = rss === 'auto' && hasGnuTime();
  const scratch = useTime ? mkdtempSync(join(tmpdir(), 'bench-time-')) : undefined;
  const timeFile = scratch ? join(scratch, 'time.txt') : undefined;
  const [command, args] = timeFile
    ? [GNU_TIME, ['-f', '%e %M', '-o', timeFile, spec.command, ...spec.args]]
    : [spec.command, [...spec.args]];
  const started = process.hrtime.bigint();
  const child = spawn(command, args, { cwd: spec.cwd, env: spec.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout.on('data', (b: Buffer) => out.push(b));
  child.stderr.on('data', (b: Buffer) => err.push(b));
  let polledPeak = 0;
  const poll = (): void => {
    if (child.pid === undefined) return;
    try {
      polledPeak = Math.max(polledPeak, parseVmHwm(readFileSync(`/proc/${child.pid}/status`, 'utf8')) ?? 0);
    } catch {
      /* exited between polls */
    }
  };
  const poller = timeFile ? undefined : setInterval(poll, 25);
  const timer = setTimeout(() => child.kill('SIGKILL'), spec.timeoutMs ?? 30 * 60_000);
  try {
    const [exitCode, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve, reject) => {
      child.on('error', reject);
      child.on('close', (code, sig) => resolve([code, sig]));
    });
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    let peakRssBytes = Number.NaN;
    let rssSource: RssSource = 'none';
    if (timeFile) {
      const parsed = parseGnuTimeOutput(safeRead(timeFile));
      if (parsed) {
        peakRssBytes = parsed.peakRssBytes;
        rssSource = 'gnu-time';
      }
    } else if (polledPeak > 0) {
      peakRssBytes = polledPeak;
      rssSource = 'proc-poll';
    }
    return { exitCode, signal, seconds, peakRssBytes, rssSource, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') };
  } finally {
    clearTimeout(timer);
    if (poller) clearInterval(poller);
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  }
}

function safeRead(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

/** A one-line description of a failed run, for error messages: exit status and the tail of stderr. */
export function describeFailure(name: string, r: RunResult): string {
  const tail = (r.stderr.trim() || r.stdout.trim()).split('\n').slice(-5).join('\n  ');
  return `${name} exited with ${r.signal ?? r.exitCode}${tail ? `:\n  ${tail}` : ''}`;
}
