import { closeSync, fsyncSync, mkdirSync, openSync, readSync, renameSync, unlinkSync, writevSync } from 'node:fs';
import { isFileRange, swapInPlace, type Chunk, type FileRange } from '../dicom/file-range';
import { dirname, join, basename } from 'node:path';
import { randomBytes } from 'node:crypto';

export interface AtomicWriteOptions {
  /** fsync the file before the rename (for data whose loss would matter after a crash). */
  readonly fsync?: boolean;
  readonly mode?: number;
}

/** Writes chunks to a hidden temp file beside path, then renames it into place: readers never see a partial file. */
export function writeFileAtomic(path: string, chunks: readonly Chunk[], options: AtomicWriteOptions = {}): void {
  const temp = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  const fd = openCreatingDirectory(temp, options.mode ?? 0o644);
  try {
    writeAll(fd, chunks);
    if (options.fsync) fsyncSync(fd);
  } catch (err) {
    closeSync(fd);
    unlinkSafe(temp);
    throw err;
  }
  closeSync(fd);
  try {
    renameSync(temp, path);
  } catch (err) {
    unlinkSafe(temp);
    throw err;
  }
}

/** Opens for writing; creates the directory only when it is missing (a mkdir per file costs more than the write). */
function openCreatingDirectory(path: string, mode: number): number {
  try {
    return openSync(path, 'w', mode);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    mkdirSync(dirname(path), { recursive: true });
    return openSync(path, 'w', mode);
  }
}

/** Buffers go out with writev; file ranges are copied through one bounded buffer. */
function writeAll(fd: number, chunks: readonly Chunk[]): void {
  let run: Buffer[] = [];
  for (const chunk of chunks) {
    if (!isFileRange(chunk)) {
      run.push(chunk);
      continue;
    }
    writeBuffers(fd, run);
    run = [];
    copyRange(fd, chunk);
  }
  writeBuffers(fd, run);
}

const COPY_BUFFER_BYTES = 1 << 20;

function copyRange(fd: number, range: FileRange): void {
  const source = openSync(range.path, 'r');
  try {
    const buf = Buffer.allocUnsafe(Math.min(COPY_BUFFER_BYTES, Math.max(1, range.length)));
    let done = 0;
    while (done < range.length) {
      const n = readSync(source, buf, 0, Math.min(buf.length, range.length - done), range.offset + done);
      if (n === 0) throw Object.assign(new Error(`${range.path} ended while copying its bulk data`), { code: 'EIO' });
      writeBuffers(fd, [swapInPlace(buf.subarray(0, n), range.swapUnit)]);
      done += n;
    }
  } finally {
    closeSync(source);
  }
}

/** writev takes at most IOV_MAX (1024) buffers and may write partially. */
function writeBuffers(fd: number, chunks: readonly Buffer[]): void {
  let pending = chunks.filter((c) => c.length > 0);
  while (pending.length) {
    const batch = pending.slice(0, 1024);
    let written = writevSync(fd, batch);
    let i = 0;
    while (i < batch.length && written >= batch[i].length) written -= batch[i++].length;
    const rest = pending.slice(i);
    if (written > 0) rest[0] = rest[0].subarray(written);
    pending = rest;
  }
}

function unlinkSafe(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    /* already gone */
  }
}
