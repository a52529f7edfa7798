/** Bytes of a file that are copied, not loaded: the bulk data of files too large to hold in memory. */
export interface FileRange {
  readonly path: string;
  readonly offset: number;
  readonly length: number;
}

/** What the writer emits: bytes in memory, or a range of a source file to copy. */
export type Chunk = Buffer | FileRange;

export function isFileRange(chunk: Chunk): chunk is FileRange {
  return !Buffer.isBuffer(chunk);
}

export function chunkLength(chunk: Chunk): number {
  return chunk.length;
}
