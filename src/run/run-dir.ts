import { appendFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { appendDurably } from '../util/append-durable';
import { join, resolve } from 'node:path';
import { writeFileAtomic } from '../util/atomic-write';

const RUN_NAME = /^run_at_(\d+)$/;

/** Kept free for the run's own records: enough for state.json and the overview's last lines. */
const RESERVE_FILE = '.space-reserve';
const RESERVE_BYTES = 256 * 1024;

/** YYYY-MM-DD HH:MM in local time, as overview.txt has always written it. */
export function overviewTime(d = new Date()): string {
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}`;
}

export type StepName = 'select' | 'pull' | 'anonymize' | 'protocol' | 'hook' | 'push' | 'mark';
export const STEPS: readonly StepName[] = ['select', 'pull', 'anonymize', 'protocol', 'hook', 'push', 'mark'];

export interface StepState {
  readonly status: 'done' | 'partial' | 'failed';
  /** When the step ended, and how long its last attempt took. */
  readonly at: string;
  readonly seconds?: number;
  readonly message?: string;
}

export interface RunState {
  /** The options the run started with; a resumed run keeps them. */
  readonly options: Record<string, unknown>;
  readonly steps: Partial<Record<StepName, StepState>>;
}

/**
 * data/run_at_<epoch>/: everything a run writes, so it can be audited and resumed. overview.txt is
 * appended and flushed line by line; other text files are written whole, atomically; state.json
 * records which steps are done.
 */
export class RunDir {
  private constructor(readonly path: string) {}

  static create(dataDir: string, now = new Date()): RunDir {
    let epoch = Math.floor(now.getTime() / 1000);
    // Two runs started in the same second must not share a directory.
    while (existsSync(join(dataDir, `run_at_${epoch}`))) epoch++;
    const dir = join(resolve(dataDir), `run_at_${epoch}`);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    return new RunDir(dir);
  }

  /** The newest run_at_<epoch> directory, for -r. */
  static latest(dataDir: string): RunDir | undefined {
    if (!existsSync(dataDir)) return undefined;
    let best: [number, string] | undefined;
    for (const name of readdirSync(dataDir)) {
      const m = RUN_NAME.exec(name);
      if (m && statSync(join(dataDir, name)).isDirectory() && (!best || +m[1] > best[0])) best = [+m[1], name];
    }
    return best ? new RunDir(join(resolve(dataDir), best[1])) : undefined;
  }

  static open(path: string): RunDir {
    return new RunDir(resolve(path));
  }

  get name(): string {
    return this.path.split('/').pop()!;
  }

  file(name: string): string {
    return join(this.path, name);
  }

  /** Appends one line to overview.txt and flushes it to disk: it survives a crash right after. */
  overview(line: string): void {
    appendDurably(this.file('overview.txt'), line.endsWith('\n') ? line : `${line}\n`);
  }

  readOverview(): string {
    return existsSync(this.file('overview.txt')) ? readFileSync(this.file('overview.txt'), 'utf8') : '';
  }

  writeText(name: string, text: string): void {
    writeFileAtomic(this.file(name), [Buffer.from(text)], { fsync: true });
  }

  writeLines(name: string, lines: readonly string[]): void {
    this.writeText(name, lines.map((l) => `${l}\n`).join(''));
  }

  appendText(name: string, text: string): void {
    appendFileSync(this.file(name), text);
  }

  readLines(name: string): string[] | undefined {
    if (!existsSync(this.file(name))) return undefined;
    return readFileSync(this.file(name), 'utf8').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
  }

  readJson<T>(name: string): T | undefined {
    return existsSync(this.file(name)) ? (JSON.parse(readFileSync(this.file(name), 'utf8')) as T) : undefined;
  }

  writeJson(name: string, value: unknown): void {
    this.writeText(name, JSON.stringify(value, null, 2) + '\n');
  }

  /**
   * Holds a little space while the run works: when the disk fills up, releasing it lets the run
   * still record in state.json and overview.txt why it stopped.
   */
  reserveSpace(): void {
    writeFileAtomic(this.file(RESERVE_FILE), [Buffer.alloc(RESERVE_BYTES)], { fsync: true });
  }

  releaseReserve(): void {
    rmSync(this.file(RESERVE_FILE), { force: true });
  }

  loadState(): RunState | undefined {
    return this.readJson<RunState>('state.json');
  }

  saveState(state: RunState): void {
    this.writeJson('state.json', state);
  }
}
