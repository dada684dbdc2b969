/** Recall@1, Recall@5 and mean reciprocal rank over a set of queries. */
export interface RetrievalMetrics {
  n: number;
  recall_at_1: number;
  recall_at_5: number;
  mrr: number;
}

/** The `--json` shape of `twinlens eval`. */
export interface EvalReport {
  n: number;
  ranked_by: 'embedding' | 'pair_head';
  overall: Omit<RetrievalMetrics, 'n'>;
  by_category: Record<string, RetrievalMetrics>;
  /** Present when a pair head reranked: the same metrics in shortlist order. */
  shortlist_only?: Omit<RetrievalMetrics, 'n'>;
}

/** One query's outcome: the 1-based rank of the correct item, or null when it was not returned. */
export interface QueryOutcome {
  category: string;
  rank: number | null;
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
  return {
    n,
    ranked_by: rankedBy,
    overall,
    by_category: Object.fromEntries(categories.map((c) => [c, metricsOf(outcomes.filter((o) => o.category === c))])),
  };
}
