/**
 * Durable file writes for the SCP: temp file (written as the data arrives) + fsync + rename, and
 * directory fsyncs batched.
 *
 * What a Success answer guarantees (docs/networking.md, "Durability of a stored instance"):
 * - the file's bytes are on stable storage: fsync of the file, before the rename and before we answer;
 * - a directory we create is durable in its parent before the first Success for a file in it;
 * - the rename (the entry that gives the file its final name) becomes durable with an fsync of its
 *   directory that is batched: at most DIR_SYNC_DELAY_MS after the rename, and always before we
 *   answer the peer's A-RELEASE-RQ and before the SCP stops. One fsync covers every rename made in
 *   that directory since the previous one.
 * The trade-off: after a power loss or kernel crash (a crash of our process loses nothing: the kernel
 * keeps the rename), instances answered Success during the last DIR_SYNC_DELAY_MS of an association
 * that was not yet released may be missing under their final name; POSIX does not say whether their
 * durable bytes are then reachable (under the `.*.tmp` name) or orphaned. The sender will not resend
 * them; `pull` reconciles the files on disk against the peer's C-FIND and moves them again, so only
 * a standalone `listen` could lose them. Every instance of a C-MOVE whose sub-association was released
 * (the peer releases it before its final C-MOVE response) is durable under its final name. The fsync
 * of the directory after every file cost ~0.4–0.9 ms here, as much as the file's own fsync.
 */
import { close, closeSync, fsync, fsyncSync, mkdir, mkdirSync, open, openSync, unlinkSync, writevSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { randomBytes } from 'node:crypto';

export const DIR_SYNC_DELAY_MS = 100;

/** The callback fs calls as promises: one thread-pool round trip each, without fs.promises' FileHandle overhead. */
function call<T>(fn: (cb: (err: NodeJS.ErrnoException | null, value: T) => void) => void): Promise<T> {
  return new Promise((resolve, reject) => fn((err, value) => (err ? reject(err) : resolve(value))));
}

/** fsync of a directory, on the thread pool (other associations keep being served meanwhile). */
export async function fsyncDirectory(dir: string): Promise<void> {
  const fd = await call<number>((cb) => open(dir, 'r', cb));
  try {
    await call<void>((cb) => fsync(fd, cb));
  } finally {
    await call<void>((cb) => close(fd, cb)).catch(() => undefined);
  }
}

export interface TempFile {
  readonly fd: number;
  readonly path: string;
}

/** Unique per process (pid, random) and per file (counter); 'wx' refuses any clash anyway. */
const TEMP_PREFIX = `.${process.pid.toString(36)}${randomBytes(3).toString('hex')}-`;
let tempCounter = 0;
function tempPath(dir: string): string {
  return join(dir, `${TEMP_PREFIX}${(tempCounter++).toString(36)}.tmp`);
}

function createTemp(dir: string): TempFile {
  const path = tempPath(dir);
  return { fd: openSync(path, 'wx', 0o640), path };
}

/**
 * Temp files created ahead of need. The next instance almost always follows the previous one, so its
 * temp file can be created while the peer prepares that instance, off the store's critical path:
 * creating a file waits for the file system's journal and cost 0.02–0.9 ms here, as much as the
 * fsync at worst. Measured (medians of 6 alternating runs): storescu → our SCP, one association,
 * 2,000 files: 3.73 s → 2.70 s; but a pull of two studies at once (two associations, no idle time on
 * our side) got slower, 2.08 s → 2.43 s, so the SCP asks for it only while a single association is
 * storing. take() is synchronous: a store starts writing as its first fragment arrives.
 */
export class TempFiles {
  private readonly spare = new Map<string, { temp?: TempFile; cancelled: boolean }>();
  constructor(private readonly maxDirs = 8) {}

  /** A new, empty temp file in `dir`: the one created ahead if it is ready, else one created now. */
  take(dir: string): TempFile {
    const ahead = this.spare.get(dir);
    if (ahead) {
      this.spare.delete(dir);
      if (ahead.temp) return ahead.temp;
      ahead.cancelled = true; // not created yet (or failed): never will be
    }
    return createTemp(dir);
  }

  /** Starts creating the next temp file for `dir` (at most one waits per directory, for maxDirs directories). */
  prepare(dir: string): void {
    if (this.spare.has(dir)) return;
    if (this.spare.size >= this.maxDirs) this.discard(this.spare.keys().next().value as string);
    const entry: { temp?: TempFile; cancelled: boolean } = { cancelled: false };
    this.spare.set(dir, entry);
    // Created on the main thread once it is idle (after the answer went out), not on the thread pool:
    // there it contended with the fsyncs for the journal and made two-stream pulls slower.
    setImmediate(() => {
      if (entry.cancelled) return;
      try {
        entry.temp = createTemp(dir);
      } catch {
        this.spare.delete(dir); // take() creates one itself, and reports what fails
      }
    });
  }

  /** Closes and removes every temp file created ahead (an association ended, the SCP stops). */
  clear(): void {
    for (const dir of [...this.spare.keys()]) this.discard(dir);
  }

  private discard(dir: string): void {
    const entry = this.spare.get(dir);
    this.spare.delete(dir);
    if (!entry) return;
    entry.cancelled = true;
    if (entry.temp) discardTemp(entry.temp);
  }
}

/** Appends `chunks` to the file at its current offset (one writev, repeated for what a short write left). */
export function writeChunks(fd: number, chunks: readonly Buffer[]): void {
  let pending = chunks.filter((c) => c.length > 0);
  while (pending.length) {
    let written = writevSync(fd, pending);
    let i = 0;
    while (i < pending.length && written >= pending[i].length) written -= pending[i++].length;
    pending = pending.slice(i);
    if (written > 0) pending[0] = pending[0].subarray(written);
  }
}

/**
 * Makes a fully written temp file's bytes durable (fsync, when `durable`) and closes it; giving it
 * its final name is the caller's (see placeInstance in store.ts). On failure the temp file is removed.
 *
 * Synchronous on purpose. Measured on 2,000-file pulls with two studies moved at once (medians of
 * 5 alternating runs): all steps synchronous 2.66 s; only the fsync on the thread pool 3.20 s; create
 * and fsync there 3.13 s; every step there 3.59 s. Each thread-pool round trip costs ~50 µs idle and
 * much more when the peer's threads hold both cores, and the journal serializes the fsyncs anyway;
 * parallel associations already overlap the peer's work with our fsync (its next instance is in our
 * socket buffer when we answer).
 */
export function closeTemp(temp: TempFile, durable: boolean): void {
  try {
    if (durable) fsyncSync(temp.fd);
  } catch (err) {
    discardTemp(temp);
    throw err;
  }
  try {
    closeSync(temp.fd);
  } catch (err) {
    unlinkQuietly(temp.path);
    throw err;
  }
}

/** Closes (if still open) and removes a temp file that will not be used; never throws. */
export function discardTemp(temp: TempFile): void {
  try {
    closeSync(temp.fd);
  } catch {
    /* already closed */
  }
  unlinkQuietly(temp.path);
}

function unlinkQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    /* already renamed, or gone with its directory */
  }
}

/** Directories whose new entries await an fsync, flushed together after a bounded delay or on demand. */
export class DirectorySync {
  private pending = new Set<string>();
  private timer?: NodeJS.Timeout;
  private chain: Promise<void> = Promise.resolve();

  constructor(
    private readonly delayMs: number,
    private readonly onBackgroundError: (err: Error, dir: string) => void,
    private readonly syncDir: (dir: string) => Promise<void> = fsyncDirectory,
  ) {}

  /** A rename happened in `dir`: its fsync is due within delayMs. */
  mark(dir: string): void {
    this.pending.add(dir);
    if (!this.timer) {
      this.timer = setTimeout(() => {
        this.flush().catch(() => undefined); // reported through onBackgroundError
      }, this.delayMs);
    }
  }

  /** Resolves once every directory marked before this call is fsynced; rejects with the first failure. */
  flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const dirs = [...this.pending];
    this.pending.clear();
    const run = this.chain.then(async () => {
      const results = await Promise.allSettled(dirs.map((d) => this.syncDir(d)));
      const failures = results.flatMap((r, i) => (r.status === 'rejected' ? [{ err: r.reason as Error, dir: dirs[i] }] : []));
      for (const f of failures) this.onBackgroundError(f.err, f.dir);
      if (failures.length) throw failures[0].err;
    });
    this.chain = run.catch(() => undefined);
    return run;
  }
}

/**
 * Creates `dir` (and missing parents), and makes each new entry durable: fsync of the
 * parent of every directory created. Returns once done; a no-op for a directory that exists.
 */
export async function makeDirectoryDurably(dir: string, durable: boolean): Promise<void> {
  const first = await call<string | undefined>((cb) => mkdir(dir, { recursive: true }, cb));
  if (!first || !durable) return;
  await Promise.all(parentsOfCreated(first, dir).map((p) => fsyncDirectory(p)));
}

/** makeDirectoryDurably on the main thread (a store's first fragment needs the directory now; rare). */
export function makeDirectoryDurablySync(dir: string, durable: boolean): void {
  const first = mkdirSync(dir, { recursive: true });
  if (!first || !durable) return;
  for (const parent of parentsOfCreated(first, dir)) {
    const fd = openSync(parent, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  }
}

/** The directories that got new entries when mkdir -p created `first` and everything below it down to `dir`. */
function parentsOfCreated(first: string, dir: string): string[] {
  // Directories created: `first` and every one below it down to `dir`; their parents got new entries.
  const created: string[] = [first];
  const rest = relative(first, dir);
  if (rest) {
    let cur = first;
    for (const part of rest.split(sep)) created.push((cur = join(cur, part)));
  }
  return [...new Set(created.map((d) => dirname(d)))];
}
