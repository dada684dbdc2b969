import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { createEngine } from '../engine/create-engine.js';
import type { PairEvidence } from '../evidence/evidence-head.js';
import { silentLogger } from '../observability/logger.js';
import { type TwinlensOptions, validateOptions } from '../config/index.js';
import { loadManifest, type TwinFeatures } from '../model/index.js';
import { dot, EXAMPLE_ADAPT_BUDGET_MINUTES, type TwinlensEngine } from '../engine/index.js';
import { readCatalogCsv, readQueriesCsv, type BenchmarkItem, type BenchmarkQuery } from './benchmark-csv.js';
import { type EvalReport, type QueryOutcome, reportOf } from './metrics.js';
import type { PairScores } from './verification.js';
import { verificationReportOf } from './verification-report.js';
import { nearestRank } from './percentiles.js';
import {
  byFeedbackOf,
  feedbackByItem,
  type FeedbackOptions,
  type FeedbackReport,
  feedPhotos,
  LEARNING_CURVE_K,
  type LearningCurvePoint,
} from './feedback.js';

export interface RunEvalOptions {
  catalogCsv: string;
  queriesCsv: string;
  /** The column that holds labels (label_match), in both files. Default `label`. */
  labelColumn?: string;
  /** Service options (model manifest, providers, ...); dataDir is replaced by a temporary folder. */
  service?: Partial<TwinlensOptions>;
  /** Deepest rank looked at for MRR; a correct item below it counts as not found. Default 100. */
  maxRank?: number;
  /**
   * Candidates the pair head reranks per query, as Search's shortlist_k. Default: the service's
   * defaultShortlistK (50). Items below the shortlist keep the embedding order.
   */
  shortlistK?: number;
  /** Measure Compare on photo-vs-catalog pairs (every query against every catalog item). Default true. */
  verification?: boolean;
  /** Confirmed photos fed through the AddExamples path (then the adapt step) before measuring. */
  feedback?: FeedbackOptions;
  /**
   * Writes each query's evidence (cosine, colour, text of its top hits, and which hit is its item)
   * to this file, one JSON line a query: the training data of the evidence head (models/evidence_head).
   */
  evidenceFile?: string;
  onProgress?: (stage: 'index' | 'feedback' | 'query' | 'verify', done: number, total: number) => void;
}

/** One hit as the HTML report shows it. */
export interface EvalHit {
  itemId: string;
  /** Final score: probability with a pair head, else cosine. */
  score: number;
  coarseScore: number;
}

/** One query's result, for the HTML report. */
export interface QueryDetail {
  query: BenchmarkQuery;
  /** Rank of the correct item after the rerank (or in embedding order without a head); null beyond maxRank. */
  rank: number | null;
  /** Rank in shortlist order (with a pair head). */
  shortlistRank: number | null;
  top: EvalHit[];
}

/** A benchmark run: the report plus what the HTML report shows. */
export interface EvalRun {
  report: EvalReport;
  items: BenchmarkItem[];
  queries: QueryDetail[];
  /** With feedback and learningCurve: recall at each K on the way. */
  learningCurve?: LearningCurvePoint[];
}

/**
 * Embeds the benchmark catalog into the engine's catalog, 16 images per model run, and waits until
 * the catalog views are in every vector (refined in the background when the service does that).
 */
export async function indexBenchmarkCatalog(
  engine: TwinlensEngine,
  items: BenchmarkItem[],
  onProgress?: (done: number, total: number) => void,
): Promise<{ indexSeconds: number; refineSeconds: number }> {
  const started = Date.now();
  await engine.ingest(
    items.map((it) => ({ itemId: it.itemId, metadata: it.metadata, loadImage: () => fs.readFile(it.imagePath) })),
    onProgress,
  );
  const stored = Date.now();
  await engine.refiner?.idle();
  return { indexSeconds: (stored - started) / 1000, refineSeconds: (Date.now() - stored) / 1000 };
}

/** Queries in flight at once: enough for the server's micro-batching to fill batches on both cores. */
const QUERY_CONCURRENCY = 8;

/** Runs `fn` over 0..n-1 with at most `concurrency` at once; results in index order. */
async function mapConcurrent<T>(n: number, concurrency: number, fn: (i: number) => Promise<T>): Promise<T[]> {
  const out = new Array<T>(n);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < n) {
      const i = next++;
      out[i] = await fn(i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, n) }, worker));
  return out;
}


/**
 * Runs a benchmark in the shared csv format through the real engine (sharp decoding, the ONNX
 * model, the catalog, its search and the pair head's rerank), in-process, with a throw-away data
 * directory. With a pair head, ranks are taken both after the rerank and in shortlist order.
 */
export async function runEval(options: RunEvalOptions): Promise<EvalRun> {
  const items = await readCatalogCsv(options.catalogCsv, options.labelColumn);
  const queries = await readQueriesCsv(options.queriesCsv, options.labelColumn);
  const known = new Set(items.map((i) => i.itemId));
  const orphan = queries.find((q) => q.itemId && !known.has(q.itemId));
  if (orphan) throw new Error(`${options.queriesCsv}: item_id '${orphan.itemId}' is not in ${options.catalogCsv}`);
  // Same-item figures (and Compare's pairs) are over the queries that name their item; label-only
  // queries count in label_match alone.
  const itemQueries = queries.filter((q) => q.itemId);
  const labels = labelMatching(items, queries);
  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'twinlens-eval-'));
  // The pair head, when the model has one, is used so that both orders are reported (the service
  // itself leaves it off unless usePairHead is set).
  // The service's own batching: queries run QUERY_CONCURRENCY at a time, as clients would send them.
  // No query images are kept for ConfirmMatch: eval confirms through AddExamples.
  const service = validateOptions({ ...options.service, dataDir, seedDemoCatalog: false, usePairHead: true, confirmRetentionMs: 0 });
  const manifest = await loadManifest(service.modelManifest);
  const created = await createEngine(service, silentLogger); // a fresh data dir: nothing to re-embed in the background
  const { engine } = created;
  try {
    const { indexSeconds, refineSeconds } = await indexBenchmarkCatalog(engine, items, (d, t) => options.onProgress?.('index', d, t));
    const secondsSince = (t: number): number => Number(((Date.now() - t) / 1000).toFixed(1));
    const feedbackStarted = Date.now();
    const maxRank = Math.min(options.maxRank ?? 100, items.length);
    const shortlistK = Math.min(options.shortlistK ?? service.defaultShortlistK, maxRank);
    const withHead = engine.pairHead !== null;
    // A stage that reorders the shortlist (pair head, colour or text evidence): both orders are reported.
    const reranks = withHead || engine.textEvidence !== null || engine.colorEvidence !== null;
    // Which stage ranks, asked once the serving version is known (after any adaptation).
    const rankedByNow = (): EvalReport['ranked_by'] =>
      engine.evidenceHeadInUse() ? 'evidence_head' : withHead ? 'pair_head' : engine.textEvidence ? 'text' : engine.colorEvidence ? 'color' : 'embedding';
    const measure = async (verification: boolean) => {
    let answered = 0;
    const perQuery = await mapConcurrent(queries.length, QUERY_CONCURRENCY, async (i) => {
      const q = queries[i];
      const bytes = await fs.readFile(q.imagePath);
      let ranked: EvalHit[];
      let rerank: number | undefined;
      let feature: TwinFeatures | undefined;
      if (withHead) {
        const r = await engine.search(bytes, { topK: shortlistK, shortlistK });
        rerank = r.timings.rerankMs;
        // Below the shortlist, the embedding order (so MRR looks as deep as without a head).
        feature = await engine.embedQuery(bytes);
        const inShortlist = new Set(r.hits.map((h) => h.itemId));
        const tail = engine.catalog
          .search(feature.embedding, maxRank)
          .hits.filter((h) => !inShortlist.has(h.itemId))
          .map((h) => ({ itemId: h.itemId, score: h.score, coarseScore: h.score }));
        ranked = [...r.hits, ...tail].slice(0, maxRank);
      } else {
        const r = await engine.search(bytes, { topK: maxRank, shortlistK: maxRank });
        ranked = r.hits;
        if (verification) feature = await engine.embedQuery(bytes);
      }
      const rankOf = (list: EvalHit[]): number | null => {
        const at = list.findIndex((h) => h.itemId === q.itemId);
        return at < 0 ? null : at + 1;
      };
      const rank = q.itemId ? rankOf(ranked) : null;
      // Shortlist order: the same candidates by cosine (a stable sort keeps the tail's order).
      const shortlistRank = reranks ? rankOf([...ranked].sort((a, b) => b.coarseScore - a.coarseScore)) : rank;
      const wanted = labels?.wanted(q);
      const labelAt = wanted ? ranked.findIndex((h) => labels!.of(h.itemId) === wanted) : -1;
      options.onProgress?.('query', ++answered, queries.length);
      return {
        outcome: q.itemId ? ({ category: q.topCategory, rank, ...(reranks ? { shortlistRank } : {}) } as QueryOutcome) : undefined,
        labelOutcome: wanted ? ({ category: q.topCategory, rank: labelAt < 0 ? null : labelAt + 1 } as QueryOutcome) : undefined,
        detail: { query: q, rank, shortlistRank, top: ranked.slice(0, 5) } as QueryDetail,
        rerank,
        evidence: options.evidenceFile ? evidenceLine(q, ranked) : undefined,
        // Compare's pairs need the photo's own item.
        feature: q.itemId ? feature : undefined,
      };
    });
    const outcomes = perQuery.flatMap((p) => (p.outcome ? [p.outcome] : []));
    const labelOutcomes = perQuery.flatMap((p) => (p.labelOutcome ? [p.labelOutcome] : []));
    const details = perQuery.map((p) => p.detail);
    const rerankMs = perQuery.flatMap((p) => (p.rerank === undefined ? [] : [p.rerank]));
    const features = perQuery.flatMap((p) => (p.feature ? [p.feature] : []));
    const evidence = perQuery.flatMap((p) => (p.evidence ? [p.evidence] : []));
    return { outcomes, labelOutcomes, details, features, rerankMs, evidence };
    };
    const fb = options.feedback;
    const fed = new Set<string>();
    const curve: LearningCurvePoint[] = [];
    let feedbackReport: FeedbackReport | undefined;
    if (fb) {
      const rows = await readQueriesCsv(fb.csv);
      const unnamed = rows.findIndex((r) => !r.itemId);
      if (unnamed >= 0) throw new Error(`${fb.csv}: row ${unnamed + 2} has no item_id (a confirmed photo shows one catalog item)`);
      const stray = rows.find((r) => !known.has(r.itemId));
      if (stray) throw new Error(`${fb.csv}: item_id '${stray.itemId}' is not in ${options.catalogCsv}`);
      const fraction = fb.itemFraction ?? 1;
      if (!(fraction > 0 && fraction <= 1)) throw new RangeError(`feedback item fraction: expected a number in (0, 1], received ${fraction}`);
      const byItem = feedbackByItem(rows, fraction);
      byItem.forEach((_, id) => fed.add(id));
      const target = fb.perItem ?? 'all';
      const below = (k: number | 'all'): boolean => k !== 'all' && (target === 'all' || k < target);
      const steps = fb.learningCurve ? [...LEARNING_CURVE_K.filter(below), target] : [target];
      const scorings = fb.learningCurve ? (fb.scorings ?? [service.exampleScoring]) : [service.exampleScoring];
      let examples = 0;
      let previous: number | 'all' = 0;
      let adapt = { adapted: false, reason: 'no examples were added' };
      let adaptSeconds = 0;
      // Adapted: a version learned from the examples serves (an earlier step's, when a later one kept it).
      const learnedServes = (): boolean => engine.modelVersion !== manifest.version;
      for (const [s, k] of steps.entries()) {
        examples += await feedPhotos(engine, byItem, previous, k, (d, t) => options.onProgress?.('feedback', d, t));
        previous = k;
        // What a server does with them: learn (the example adapter), then roll the new version in.
        if (examples > 0) {
          const started = Date.now();
          adapt = await created.adaptFromExamples({ budgetMs: (fb.adaptBudgetMinutes ?? EXAMPLE_ADAPT_BUDGET_MINUTES) * 60_000 });
          adaptSeconds = (Date.now() - started) / 1000;
        }
        const last = s === steps.length - 1;
        for (const scoring of scorings) {
          // The final point in the service's own scoring is the main measurement below.
          if (last && scoring === service.exampleScoring) continue;
          await engine.catalog.useExampleScoring(scoring);
          const m = await measure(false);
          const r = reportOf(m.outcomes, 'embedding');
          curve.push({
            per_item: k,
            scoring,
            examples,
            adapted: learnedServes(),
            overall: { n: r.n, ...r.overall },
            by_category: r.by_category,
            ...(fraction < 1 ? { by_feedback: byFeedbackOf(m.outcomes, itemQueries, fed) } : {}),
          });
        }
        await engine.catalog.useExampleScoring(service.exampleScoring);
      }
      feedbackReport = {
        per_item: target,
        examples,
        adapted: learnedServes(),
        adapt_reason: adapt.reason,
        serving_version: engine.modelVersion,
        adapt_seconds: Number(adaptSeconds.toFixed(1)),
        item_fraction: fraction,
        items_with_feedback: fed.size,
        scoring: service.exampleScoring,
      };
    }
    const feedbackSeconds = fb ? secondsSince(feedbackStarted) : undefined;
    const queriesStarted = Date.now();
    const { outcomes, labelOutcomes, details, features, rerankMs, evidence } = await measure(options.verification !== false);
    if (options.evidenceFile) await fs.writeFile(options.evidenceFile, evidence.join('\n') + '\n');
    const queriesSeconds = secondsSince(queriesStarted);
    const report = reportOf(outcomes, rankedByNow());
    if (labels) {
      const { n, overall, by_category } = reportOf(labelOutcomes, 'embedding');
      report.label_match = { n, labels: labels.count, ...overall, by_category };
    }
    if (feedbackReport) {
      report.feedback = feedbackReport;
      if (feedbackReport.item_fraction < 1) report.by_feedback = byFeedbackOf(outcomes, itemQueries, fed);
      if (options.feedback?.learningCurve) {
        curve.push({
          per_item: feedbackReport.per_item,
          scoring: service.exampleScoring,
          examples: feedbackReport.examples,
          adapted: feedbackReport.adapted,
          overall: { n: report.n, ...report.overall },
          by_category: report.by_category,
          ...(report.by_feedback ? { by_feedback: report.by_feedback } : {}),
        });
        report.learning_curve = curve;
      }
    }
    report.model = { name: manifest.name, version: manifest.version, manifest: manifest.manifestPath };
    if (withHead) {
      report.shortlist_k = shortlistK;
      const sorted = [...rerankMs].sort((a, b) => a - b);
      report.rerank_ms = {
        mean: sorted.reduce((s, v) => s + v, 0) / sorted.length,
        p50: nearestRank(sorted, 0.5),
        p95: nearestRank(sorted, 0.95),
        max: sorted[sorted.length - 1],
      };
    }
    const verifyStarted = Date.now();
    if (options.verification !== false) {
      report.verification = await verifyCompare(engine, items, itemQueries, features, (d, t) => options.onProgress?.('verify', d, t));
    }
    report.stage_seconds = {
      index: Number(indexSeconds.toFixed(1)),
      refine: Number(refineSeconds.toFixed(1)),
      ...(feedbackSeconds === undefined ? {} : { feedback: feedbackSeconds }),
      queries: queriesSeconds,
      ...(options.verification !== false ? { verification: secondsSince(verifyStarted) } : {}),
    };
    return { report, items, queries: details, ...(curve.length ? { learningCurve: curve } : {}) };
  } finally {
    await created.stopBackgroundReembed();
    await engine.close();
    await fs.rm(dataDir, { recursive: true, force: true });
  }
}

/**
 * How label matching judges a hit, when catalog.csv has a `label` column: a hit is right when its
 * item's label is the query's (its own `label`, or else its item's). Undefined without labels.
 */
function labelMatching(items: readonly BenchmarkItem[], queries: readonly BenchmarkQuery[]): { of(itemId: string): string; wanted(q: BenchmarkQuery): string; count: number } | undefined {
  const labelOf = new Map(items.filter((it) => it.label).map((it) => [it.itemId, it.label]));
  const unlabelled = queries.find((q) => q.label && labelOf.size === 0);
  if (unlabelled) throw new Error(`a query has label '${unlabelled.label}' but the catalog has no label column to match it against`);
  if (labelOf.size === 0) return undefined;
  return {
    of: (itemId) => labelOf.get(itemId) ?? '',
    wanted: (q) => q.label || labelOf.get(q.itemId) || '',
    count: new Set(labelOf.values()).size,
  };
}

/**
 * Compare's verification quality: every benchmark photo against its own catalog image (a positive
 * pair) and against every other catalog image (negatives), scored exactly as Compare scores them
 * (the evidence head's probability over the photo's evidence against each item when it scores
 * Compare, else engine.scorePairs: the pair head's probability, or the cosine without a head).
 */
async function verifyCompare(
  engine: TwinlensEngine,
  items: BenchmarkItem[],
  queries: BenchmarkQuery[],
  features: TwinFeatures[],
  onProgress: (done: number, total: number) => void,
): Promise<EvalReport['verification']> {
  const catalog: TwinFeatures[] = items.map((it) => ({
    embedding: engine.catalog.embeddingOf(it.itemId),
    local: engine.catalog.localOf(it.itemId),
  }));
  const scores: PairScores = { positives: [], negatives: [] };
  const cosine: PairScores = { positives: [], negatives: [] };
  let scoredBy: 'embedding' | 'pair_head' = 'embedding';
  const head = engine.compareHead();
  for (const [i, q] of queries.entries()) {
    const r = head
      ? {
          scores: await head.score(
            await engine.evidenceOf(
              await fs.readFile(q.imagePath),
              items.map((it, j) => ({ itemId: it.itemId, coarseScore: dot(features[i].embedding, catalog[j].embedding) })),
            ),
          ),
          scoredBy: 'pair_head' as const,
        }
      : await engine.scorePairs(
          catalog.map(() => features[i]),
          catalog,
        );
    scoredBy = r.scoredBy;
    items.forEach((it, j) => {
      const same = it.itemId === q.itemId;
      (same ? scores.positives : scores.negatives).push(r.scores[j]);
      (same ? cosine.positives : cosine.negatives).push(dot(features[i].embedding, catalog[j].embedding));
    });
    onProgress(i + 1, queries.length);
  }
  return verificationReportOf(scores, scoredBy, engine.compareThreshold, scoredBy === 'pair_head' ? cosine : undefined);
}

/** One query's evidence line (RunEvalOptions.evidenceFile): the hits the evidence stages measured. */
function evidenceLine(q: BenchmarkQuery, ranked: (EvalHit & { evidence?: PairEvidence })[]): string {
  const hits = ranked.flatMap((h) => (h.evidence ? [{ item_id: h.itemId, right: h.itemId === q.itemId, ...h.evidence }] : []));
  return JSON.stringify({ image: q.imagePath, item_id: q.itemId, category: q.topCategory, hits });
}
