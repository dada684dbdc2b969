import type { ScoredBy } from '../engine/index.js';
import type { VerificationReport } from './metrics.js';
import { type PairScores, verificationMetrics } from './verification.js';

/** Rates of accepted positives and negatives at `threshold` (accept when score >= threshold). */
function ratesAt(scores: PairScores, threshold: number): { tar: number; far: number } {
  const rate = (list: number[]): number => list.filter((s) => s >= threshold).length / list.length;
  return { tar: rate(scores.positives), far: rate(scores.negatives) };
}

/**
 * Compare's verification figures on benchmark pairs: AUC, TAR at 1% FAR, EER, and what the
 * model's own threshold does on them. `cosine` (the same pairs by embedding) is reported beside
 * a pair head's figures.
 */
export function verificationReportOf(
  scores: PairScores,
  scoredBy: ScoredBy,
  threshold: number,
  cosine?: PairScores,
): VerificationReport {
  const m = verificationMetrics(scores);
  const at = ratesAt(scores, threshold);
  const report: VerificationReport = {
    scored_by: scoredBy,
    positives: scores.positives.length,
    negatives: scores.negatives.length,
    roc_auc: m.rocAuc,
    tar_at_far_1: m.tarAtFar1,
    far_1_threshold: m.far1Threshold,
    eer: m.eer,
    threshold,
    tar_at_threshold: at.tar,
    far_at_threshold: at.far,
  };
  if (cosine) {
    const c = verificationMetrics(cosine);
    report.embedding_cosine = { roc_auc: c.rocAuc, tar_at_far_1: c.tarAtFar1, eer: c.eer };
  }
  return report;
}
