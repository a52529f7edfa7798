import { open } from 'node:fs/promises';

/** Bytes of a file that are copied, not loaded: the bulk data of files too large to hold in memory. */
export interface FileRange {
  readonly path: string;
  readonly offset: number;
  readonly length: number;
  /** Big endian bulk data going out little endian: bytes reversed in groups of this size (2, 4, 8) as they are copied. */
  readonly swapUnit?: number;
}

/** What the writer emits: bytes in memory, or a range of a source file to copy. */
export type Chunk = Buffer | FileRange;

export function isFileRange(chunk: Chunk): chunk is FileRange {
  return !Buffer.isBuffer(chunk);
}

export function chunkLength(chunk: Chunk): number {
  return chunk.length;
}

/** Reverses each swapUnit-byte group of buf in place (no-op without one). */
export function swapInPlace(buf: Buffer, swapUnit: number | undefined): Buffer {
  if (swapUnit === 2) buf.swap16();
  else if (swapUnit === 4) buf.swap32();
  else if (swapUnit === 8) buf.swap64();
  return buf;
}

/** Block size for reading ranges: a multiple of every swap unit. */
export const RANGE_BLOCK_BYTES = 1 << 20;

/** The bytes of a range (swapped as it says), a fresh buffer per block so each can be queued on a socket. */
export async function* readRange(range: FileRange, blockBytes = RANGE_BLOCK_BYTES): AsyncGenerator<Buffer> {
  const handle = await open(range.path, 'r');
  try {
    let done = 0;
    while (done < range.length) {
      const want = Math.min(blockBytes, range.length - done);
      const buf = Buffer.allocUnsafe(want);
      let filled = 0;
      while (filled < want) {
        const { bytesRead } = await handle.read(buf, filled, want - filled, range.offset + done + filled);
        if (bytesRead === 0) throw Object.assign(new Error(`${range.path} ended while reading its bulk data`), { code: 'EIO' });
        filled += bytesRead;
      }
      done += want;
      yield swapInPlace(buf, range.swapUnit);
    }
  } finally {
    await handle.close();
  }
}

/** Every chunk as bytes: buffers as they are, ranges read block by block. */
export async function* readChunks(chunks: readonly Chunk[]): AsyncGenerator<Buffer> {
  for (const chunk of chunks) {
    if (isFileRange(chunk)) yield* readRange(chunk);
    else if (chunk.length) yield chunk;
  }
}
