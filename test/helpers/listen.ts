/** `dicom-pipeline listen` as a child process (a real user's SCP): started on a free port, its peak RSS read before it stops. */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { BIN, ROOT } from './cli';
import { freePort } from './ports';
import { stopChild, track } from './processes';

export interface ListenProcess {
  readonly child: ChildProcess;
  readonly port: number;
  readonly aet: string;
  /** Everything it wrote to stderr so far (its JSON log lines). */
  stderr(): string;
  /** Its log lines matching `pattern`, once there are `count` of them (a line can arrive after the socket event it reports). */
  logLines(pattern: RegExp, count: number, timeoutMs?: number): Promise<string[]>;
  /** Peak resident set size so far (VmHWM), in bytes. */
  peakRss(): number;
  /** SIGTERM (it stops cleanly), resolves with its stdout once it exited. */
  stop(): Promise<string>;
}

export async function startListen(outDir: string, extraArgs: readonly string[] = [], aet = 'PIPE_LISTEN'): Promise<ListenProcess> {
  const port = await freePort();
  const child = spawn(process.execPath, [BIN, 'listen', '--aet', aet, '--port', String(port), '--host', '127.0.0.1', '--out', outDir, ...extraArgs], {
    cwd: ROOT,
    env: { ...process.env, CI: 'true', DICOM_PIPELINE_LOG_LEVEL: 'info' },
  });
  track(child);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  await new Promise<void>((resolve, reject) => {
    const check = (): void => {
      if (stdout.includes('listening as')) resolve();
    };
    child.stdout!.on('data', check);
    child.once('exit', (code) => reject(new Error(`listen exited with ${code} before listening: ${stderr}`)));
  });
  return {
    child,
    port,
    aet,
    stderr: () => stderr,
    logLines: async (pattern, count, timeoutMs = 10_000) => {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const lines = stderr.split('\n').filter((l) => pattern.test(l));
        if (lines.length >= count || Date.now() > deadline) return lines;
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    peakRss: () => {
      const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'latin1'));
      if (!m) throw new Error('no VmHWM in /proc/PID/status');
      return Number(m[1]) * 1024;
    },
    stop: async () => {
      await stopChild(child);
      return stdout;
    },
  };
}
