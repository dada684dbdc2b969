/** Scores of same-item (positive) and different-item (negative) pairs. */
export interface PairScores {
  positives: number[];
  negatives: number[];
}

/** Verification quality of a score at a threshold, and overall. */
export interface VerificationMetrics {
  /** Area under the ROC curve: the chance a random positive outscores a random negative. */
  rocAuc: number;
  /** The threshold where the false-accept and false-reject rates are (nearly) equal. */
  eerThreshold: number;
  /** The equal error rate at that threshold. */
  eer: number;
  /** True-accept rate when the threshold lets through at most 1% of negatives. */
  tarAtFar1: number;
  /** The threshold that gives tarAtFar1. */
  far1Threshold: number;
}

/** ROC AUC by the rank-sum (Mann-Whitney) statistic; ties count half. */
export function rocAuc({ positives, negatives }: PairScores): number {
  const all = [...positives.map((s) => ({ s, p: 1 })), ...negatives.map((s) => ({ s, p: 0 }))].sort((a, b) => a.s - b.s);
  let rankSum = 0;
  for (let i = 0; i < all.length; ) {
    let j = i;
    while (j < all.length && all[j].s === all[i].s) j++;
    const avgRank = (i + 1 + j) / 2; // 1-based ranks i+1..j share their mean
    for (let k = i; k < j; k++) if (all[k].p) rankSum += avgRank;
    i = j;
  }
  const np = positives.length;
  const nn = negatives.length;
  return (rankSum - (np * (np + 1)) / 2) / (np * nn);
}

/** AUC, equal-error threshold and TAR at 1% FAR of a set of pair scores. */
export function verificationMetrics(scores: PairScores): VerificationMetrics {
  const { positives, negatives } = scores;
  if (positives.length === 0 || negatives.length === 0) throw new RangeError('need at least one positive and one negative pair');
  // Sorted copies and binary search: O(n log n), so tens of thousands of pairs take milliseconds.
  const pos = Float64Array.from(positives).sort();
  const neg = Float64Array.from(negatives).sort();
  const frr = (t: number): number => lowerBound(pos, t) / pos.length; // positives scored below t
  const far = (t: number): number => (neg.length - lowerBound(neg, t)) / neg.length; // negatives at or above t
  const candidates = [...new Set([...positives, ...negatives])].sort((a, b) => a - b);
  let eerThreshold = candidates[0];
  let best = Infinity;
  for (const t of candidates) {
    const gap = Math.abs(far(t) - frr(t));
    if (gap < best) {
      best = gap;
      eerThreshold = t;
    }
  }
  // Smallest threshold whose false-accept rate is at most 1%.
  const sortedNeg = [...negatives].sort((a, b) => b - a);
  const allowed = Math.floor(negatives.length * 0.01);
  const far1Threshold = allowed < sortedNeg.length ? nextUp(sortedNeg[allowed]) : sortedNeg[sortedNeg.length - 1];
  return {
    rocAuc: rocAuc(scores),
    eerThreshold,
    eer: (far(eerThreshold) + frr(eerThreshold)) / 2,
    tarAtFar1: 1 - frr(far1Threshold),
    far1Threshold,
  };
}

/** Index of the first value in ascending `sorted` that is >= x (its length when none is). */
function lowerBound(sorted: Float64Array, x: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid] < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The smallest float32-distinguishable value above x (so `>= t` excludes x itself). */
function nextUp(x: number): number {
  return x + Math.max(1e-7, Math.abs(x) * 1e-7);
}
