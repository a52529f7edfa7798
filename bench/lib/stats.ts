/** Summary statistics for benchmark samples (pure). */

export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >>> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

export function mean(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  return values.reduce((s, v) => s + v, 0) / values.length;
}

export interface Summary {
  readonly n: number;
  readonly median: number;
  readonly mean: number;
  readonly min: number;
  readonly max: number;
  /** (max - min) / median: a rough noise indicator; 0 for one sample. */
  readonly spread: number;
}

export function summarize(values: readonly number[]): Summary {
  if (values.length === 0) return { n: 0, median: NaN, mean: NaN, min: NaN, max: NaN, spread: NaN };
  const min = Math.min(...values);
  const max = Math.max(...values);
  const med = median(values);
  return { n: values.length, median: med, mean: mean(values), min, max, spread: med === 0 ? NaN : (max - min) / med };
}

/** a / b, NaN when either side is missing or b is zero (so a missing tool never reads as "infinitely faster"). */
export function ratio(a: number, b: number): number {
  if (!Number.isFinite(a) || !Number.isFinite(b) || b === 0) return Number.NaN;
  return a / b;
}

/** Per-second rate, NaN for a non-positive duration. */
export function rate(amount: number, seconds: number): number {
  return seconds > 0 ? amount / seconds : Number.NaN;
}
