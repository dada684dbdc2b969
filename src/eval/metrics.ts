/** Recall@1, Recall@5 and mean reciprocal rank over a set of queries. */
export interface RetrievalMetrics {
  n: number;
  recall_at_1: number;
  recall_at_5: number;
  mrr: number;
}

/** Verification quality of Compare's score on same/different pairs (benchmark photo vs catalog image). */
export interface VerificationReport {
  /** What Compare scores with: the pair head's probability or the embeddings' cosine. */
  scored_by: 'embedding' | 'pair_head';
  positives: number;
  negatives: number;
  roc_auc: number;
  /** True-accept rate at 1% false-accept rate, and the score threshold that gives it. */
  tar_at_far_1: number;
  far_1_threshold: number;
  eer: number;
  /** Compare's threshold (the model's) and the true/false-accept rates it gives on these pairs. */
  threshold: number;
  tar_at_threshold: number;
  far_at_threshold: number;
  /** With a pair head: the embedding cosine's figures on the same pairs, for comparison. */
  embedding_cosine?: { roc_auc: number; tar_at_far_1: number; eer: number };
}

/**
 * The `--json` shape of `twinlens eval`. The first four fields are the foundation's; the rest were
 * added with the pair head and are optional, so older readers keep working.
 */
export interface EvalReport {
  n: number;
  /** The final order's stage: `text` when the text evidence re-scored the top hits (after the pair head, when it is on). */
  ranked_by: 'embedding' | 'pair_head' | 'evidence_head' | 'text' | 'color';
  overall: Omit<RetrievalMetrics, 'n'>;
  by_category: Record<string, RetrievalMetrics>;
  /** Present when a pair head reranked: the same metrics in shortlist (embedding) order. */
  shortlist_only?: Omit<RetrievalMetrics, 'n'>;
  /** Present when a pair head reranked: shortlist-order metrics per category. */
  shortlist_only_by_category?: Record<string, RetrievalMetrics>;
  /** Candidates the pair head reranked per query (items below them keep the embedding order). */
  shortlist_k?: number;
  /** The model evaluated. */
  model?: { name: string; version: string; manifest: string };
  verification?: VerificationReport;
  /** Rerank time per query (the pair head over the shortlist), in ms. */
  rerank_ms?: { mean: number; p50: number; p95: number; max: number };
  /** With `--feedback`: what was fed (eval/feedback.ts). */
  feedback?: import('./feedback.js').FeedbackReport;
  /** With `--feedback-item-fraction` below 1: recall apart for items with and without confirmed photos. */
  by_feedback?: { with: RetrievalMetrics; without: RetrievalMetrics };
  /** With `--learning-curve`: recall at K = 0, 1, 3, 10, all confirmed photos per item. */
  learning_curve?: import('./feedback.js').LearningCurvePoint[];
  /**
   * With a `label` column in catalog.csv: the same figures where a hit is right when its item's label
   * is the query's ("looks alike", for benchmarks where many items share a class). `n` counts the
   * queries with a label (their own, or their item's); `labels` the distinct catalog labels.
   */
  label_match?: Omit<RetrievalMetrics, 'n'> & { n: number; labels: number; by_category: Record<string, RetrievalMetrics> };
  /** Wall seconds per stage: catalog stored, catalog refined (views in every vector), queries, Compare's pairs. */
  stage_seconds?: { index: number; refine: number; feedback?: number; queries: number; verification?: number };
  /** The HTML report written, when one was. */
  report_html?: string;
}

/** One query's outcome: the 1-based rank of the correct item, or null when it was not returned. */
export interface QueryOutcome {
  category: string;
  rank: number | null;
  /** The rank in shortlist (embedding) order, when a pair head reranked. */
  shortlistRank?: number | null;
}

/** Metrics of a list of outcomes. */
export function metricsOf(outcomes: QueryOutcome[]): RetrievalMetrics {
  const n = outcomes.length;
  const mean = (f: (o: QueryOutcome) => number): number => (n === 0 ? 0 : outcomes.reduce((s, o) => s + f(o), 0) / n);
  return {
    n,
    recall_at_1: mean((o) => (o.rank !== null && o.rank <= 1 ? 1 : 0)),
    recall_at_5: mean((o) => (o.rank !== null && o.rank <= 5 ? 1 : 0)),
    mrr: mean((o) => (o.rank === null ? 0 : 1 / o.rank)),
  };
}

/** Overall and per-category metrics, in the report shape. */
export function reportOf(outcomes: QueryOutcome[], rankedBy: EvalReport['ranked_by']): EvalReport {
  const { n, ...overall } = metricsOf(outcomes);
  const categories = [...new Set(outcomes.map((o) => o.category))].sort();
  const byCategory = (list: QueryOutcome[]): Record<string, RetrievalMetrics> =>
    Object.fromEntries(categories.map((c) => [c, metricsOf(list.filter((o) => o.category === c))]));
  const report: EvalReport = { n, ranked_by: rankedBy, overall, by_category: byCategory(outcomes) };
  if (rankedBy !== 'embedding') {
    const inShortlistOrder = outcomes.map((o) => ({ category: o.category, rank: o.shortlistRank ?? null }));
    const { n: _, ...shortlistOverall } = metricsOf(inShortlistOrder);
    report.shortlist_only = shortlistOverall;
    report.shortlist_only_by_category = byCategory(inShortlistOrder);
  }
  return report;
}
