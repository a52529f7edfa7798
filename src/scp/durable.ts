/**
 * Durable file writes for the SCP: temp file + fsync + rename, and directory fsyncs batched.
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
import { close, closeSync, fsync, fsyncSync, mkdir, open, openSync, renameSync, unlink, unlinkSync, writevSync } from 'node:fs';
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
 * Temp files created ahead of need, one per recently used directory. The next instance of a series
 * almost always goes where the previous one went, so its temp file can be created while the peer
 * prepares that instance, off the store's critical path: creating a file waits for the file system's
 * journal and cost 0.02–0.9 ms here, as much as the fsync at worst. Measured (medians of 6
 * alternating runs): storescu → our SCP, one association, 2,000 files: 3.73 s → 2.70 s; but a pull of
 * two studies at once (two associations, no idle time on our side) got slower, 2.08 s → 2.43 s, so
 * the SCP asks for it only while a single association is storing.
 */
export class TempFiles {
  private readonly spare = new Map<string, Promise<TempFile | undefined>>();
  constructor(private readonly maxDirs = 8) {}

  /** A new, empty temp file in `dir`: the one created ahead if there is one, else one created now. */
  async take(dir: string): Promise<TempFile> {
    const ahead = this.spare.get(dir);
    if (ahead) {
      this.spare.delete(dir);
      const got = await ahead;
      if (got) return got;
    }
    return createTemp(dir);
  }

  /** Starts creating the next temp file for `dir` (at most one waits per directory, for maxDirs directories). */
  prepare(dir: string): void {
    if (this.spare.has(dir)) return;
    if (this.spare.size >= this.maxDirs) void this.discard(this.spare.keys().next().value as string);
    const path = tempPath(dir);
    // Created on the main thread once it is idle (after the answer went out), not on the thread pool:
    // there it contended with the fsyncs for the journal and made two-stream pulls slower.
    this.spare.set(
      dir,
      new Promise((resolve) =>
        setImmediate(() => {
          try {
            resolve({ fd: openSync(path, 'wx', 0o640), path });
          } catch {
            resolve(undefined); // take() creates one itself, and reports what fails
          }
        }),
      ),
    );
  }

  /** Closes and removes every temp file created ahead (when the SCP stops). */
  async clear(): Promise<void> {
    await Promise.all([...this.spare.keys()].map((dir) => this.discard(dir)));
  }

  private async discard(dir: string): Promise<void> {
    const ahead = this.spare.get(dir);
    this.spare.delete(dir);
    const temp = await ahead;
    if (!temp) return;
    await call<void>((cb) => close(temp.fd, cb)).catch(() => undefined);
    await call<void>((cb) => unlink(temp.path, cb)).catch(() => undefined);
  }
}

/**
 * Writes `chunks` into the open temp file, fsyncs it (when `durable`), closes it and renames it over
 * `path` (replacing any earlier copy). On failure the temp file is closed and removed. The directory
 * fsync is the caller's (batched, see DirectorySync).
 *
 * Synchronous on purpose. Measured on 2,000-file pulls with two studies moved at once (medians of
 * 5 alternating runs): all steps synchronous 2.66 s; only the fsync on the thread pool 3.20 s; create
 * and fsync there 3.13 s; every step there 3.59 s. Each thread-pool round trip costs ~50 µs idle and
 * much more when the peer's threads hold both cores, and the journal serializes the fsyncs anyway;
 * parallel associations already overlap the peer's work with our fsync (its next instance is in our
 * socket buffer when we answer).
 */
export function writeFileAtomic(temp: TempFile, path: string, chunks: readonly Buffer[], durable: boolean): void {
  const { fd } = temp;
  let isOpen = true;
  try {
    let pending = chunks.filter((c) => c.length > 0);
    while (pending.length) {
      let written = writevSync(fd, pending);
      let i = 0;
      while (i < pending.length && written >= pending[i].length) written -= pending[i++].length;
      pending = pending.slice(i);
      if (written > 0) pending[0] = pending[0].subarray(written);
    }
    if (durable) fsyncSync(fd);
    isOpen = false;
    closeSync(fd);
    renameSync(temp.path, path);
  } catch (err) {
    if (isOpen) {
      try {
        closeSync(fd);
      } catch {
        /* already closed */
      }
    }
    try {
      unlinkSync(temp.path);
    } catch {
      /* already renamed, or gone with its directory */
    }
    throw err;
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
  // Directories created: `first` and every one below it down to `dir`; their parents got new entries.
  const created: string[] = [first];
  const rest = relative(first, dir);
  if (rest) {
    let cur = first;
    for (const part of rest.split(sep)) created.push((cur = join(cur, part)));
  }
  const parents = new Set(created.map((d) => dirname(d)));
  await Promise.all([...parents].map((p) => fsyncDirectory(p)));
}
