/**
 * A small seeded pseudo-random generator for benchmark data: the same seed gives the same corpus,
 * so runs on different days compare like with like. Not for anything secret.
 */
export interface Rng {
  /** Uniform in [0, 1). */
  next(): number;
  /** Uniform integer in [min, max] (both inclusive). */
  int(min: number, max: number): number;
  pick<T>(list: readonly T[]): T;
}

/** mulberry32: 32-bit state, fast, good enough for synthetic test data. */
export function seededRng(seed: number): Rng {
  let state = seed >>> 0;
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (min, max) => min + Math.floor(next() * (max - min + 1)),
    pick: (list) => {
      if (list.length === 0) throw new Error('pick from an empty list');
      return list[Math.floor(next() * list.length)];
    },
  };
}

/** A UUID-derived style UID: `2.25.` and a random integer below 2^128, no leading zero, at most 44 characters. */
export function randomUid(rng: Rng): string {
  let value = 0n;
  for (let i = 0; i < 4; i++) value = (value << 32n) | BigInt(rng.int(0, 0xffffffff));
  if (value === 0n) value = 1n;
  return `2.25.${value}`;
}

/** n random decimal digits (leading zeros allowed), e.g. for IDs. */
export function randomDigits(rng: Rng, n: number): string {
  let out = '';
  for (let i = 0; i < n; i++) out += String(rng.int(0, 9));
  return out;
}
