/** Summary statistics of a sample of durations (or any numbers). */
export interface Summary {
  /** Number of values. */
  n: number;
  mean: number;
  min: number;
  p50: number;
  p95: number;
  max: number;
}

/**
 * The `q`-quantile (0..1) of `values` by linear interpolation between closest ranks
 * (R's type 7, NumPy's default). `values` need not be sorted; it is not modified.
 * Returns NaN for an empty sample.
 */
export function quantile(values: readonly number[], q: number): number {
  if (!(q >= 0 && q <= 1)) throw new RangeError(`quantile: q must be within 0..1, received ${q}`);
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return quantileOfSorted(sorted, q);
}

/**
 * The nearest-rank `q`-quantile: the value at index floor(q * n) of the sorted sample (clamped to
 * the last). What the index bench and eval report as p50/p95; `values` need not be sorted.
 */
export function nearestRank(values: readonly number[], q: number): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))];
}

function quantileOfSorted(sorted: readonly number[], q: number): number {
  const h = (sorted.length - 1) * q;
  const lo = Math.floor(h);
  const hi = Math.min(lo + 1, sorted.length - 1);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (h - lo);
}

/** Count, mean, min, p50, p95 and max of `values` (NaN fields for an empty sample). */
export function summarize(values: readonly number[]): Summary {
  if (values.length === 0) {
    return { n: 0, mean: Number.NaN, min: Number.NaN, p50: Number.NaN, p95: Number.NaN, max: Number.NaN };
  }
  const sorted = [...values].sort((a, b) => a - b);
  const mean = sorted.reduce((s, v) => s + v, 0) / sorted.length;
  return {
    n: sorted.length,
    mean,
    min: sorted[0],
    p50: quantileOfSorted(sorted, 0.5),
    p95: quantileOfSorted(sorted, 0.95),
    max: sorted[sorted.length - 1],
  };
}
