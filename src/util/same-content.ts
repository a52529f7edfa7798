import { closeSync, lstatSync, openSync, readSync } from 'node:fs';

/** Whether two files have the same bytes, read 1 MiB at a time (sizes first, so it is cheap when they differ). */
export function sameContent(a: string, b: string): boolean {
  return sameBytesFrom(a, 0, b, 0);
}

/** Whether file `a` from offset `aStart` to its end has the same bytes as file `b` from `bStart` to its end. */
export function sameBytesFrom(a: string, aStart: number, b: string, bStart: number): boolean {
  if (lstatSync(a).size - aStart !== lstatSync(b).size - bStart) return false;
  const fa = openSync(a, 'r');
  try {
    const fb = openSync(b, 'r');
    try {
      const ba = Buffer.allocUnsafe(1 << 20);
      const bb = Buffer.allocUnsafe(1 << 20);
      for (let pos = 0; ; ) {
        const na = readSync(fa, ba, 0, ba.length, aStart + pos);
        const nb = readSync(fb, bb, 0, bb.length, bStart + pos);
        if (na !== nb) return false;
        if (na === 0) return true;
        if (!ba.subarray(0, na).equals(bb.subarray(0, nb))) return false;
        pos += na;
      }
    } finally {
      closeSync(fb);
    }
  } finally {
    closeSync(fa);
  }
}
