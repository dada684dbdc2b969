import { createHash } from 'node:crypto';
import * as fs from 'node:fs/promises';
import { addExamples, type TwinlensEngine } from '../engine/index.js';
import type { ExampleScoring } from '../store/index.js';
import type { BenchmarkQuery } from './benchmark-csv.js';
import { metricsOf, type QueryOutcome, type RetrievalMetrics } from './metrics.js';

/** How `twinlens eval --feedback` feeds confirmed photos. */
export interface FeedbackOptions {
  /** Photos to confirm, in the queries.csv format (image, item_id, top_category). */
  csv: string;
  /** Photos confirmed per item: the first K of each item in file order; 'all' takes every one. Default 'all'. */
  perItem?: number | 'all';
  /**
   * Confirm photos for this fraction of the items only (chosen by a hash of the item id, so the same
   * items every run); the report then gives recall apart for items with and without photos. Default 1.
   */
  itemFraction?: number;
  /** Also measure K = 0, 1, 3, 10 and all on the way (the learning curve). Default false. */
  learningCurve?: boolean;
  /** Budget of the adapt step after the examples are in, in minutes. Default 20. */
  adaptBudgetMinutes?: number;
  /**
   * Ways of scoring examples measured at each learning-curve point over the same embedded catalog
   * and examples (Catalog.useExampleScoring). Default: the service's exampleScoring alone. The
   * final report uses the service's.
   */
  scorings?: ExampleScoring[];
}

/** The `feedback` field of the eval json. */
export interface FeedbackReport {
  per_item: number | 'all';
  examples: number;
  /** Whether a version learned from the examples serves at the end. */
  adapted: boolean;
  /** The last adaptation's outcome: what it measured on held-out photos, or why it learned nothing. */
  adapt_reason: string;
  /** The model version that served the measurement. */
  serving_version: string;
  /** Wall time of the last adaptation, rolling its version in included (0: none ran). */
  adapt_seconds: number;
  item_fraction: number;
  /** Items that got at least one confirmed photo. */
  items_with_feedback: number;
  scoring: string;
}

/** One point of the learning curve. */
export interface LearningCurvePoint {
  per_item: number | 'all';
  /** How the examples acted on search (exampleScoring). */
  scoring: ExampleScoring;
  examples: number;
  adapted: boolean;
  overall: RetrievalMetrics;
  by_category: Record<string, RetrievalMetrics>;
  by_feedback?: { with: RetrievalMetrics; without: RetrievalMetrics };
}

/** K values of the learning curve. */
export const LEARNING_CURVE_K: readonly (number | 'all')[] = [0, 1, 3, 10, 'all'];

/** Whether an item is among the deterministic `fraction` of items that get confirmed photos (hash of its id). */
export function itemGetsFeedback(itemId: string, fraction: number): boolean {
  if (fraction >= 1) return true;
  const h = createHash('sha256').update(itemId).digest().readUInt32BE(0);
  return h / 2 ** 32 < fraction;
}

/** Each item's feedback photos in file order, for the items that get feedback. */
export function feedbackByItem(rows: readonly BenchmarkQuery[], fraction: number): Map<string, BenchmarkQuery[]> {
  const byItem = new Map<string, BenchmarkQuery[]>();
  for (const r of rows) {
    if (!itemGetsFeedback(r.itemId, fraction)) continue;
    byItem.set(r.itemId, [...(byItem.get(r.itemId) ?? []), r]);
  }
  return byItem;
}

/** Photos per item up to `k` ('all': every one). */
function upTo(k: number | 'all', n: number): number {
  return k === 'all' ? n : Math.min(k, n);
}

/**
 * Confirms photos `from`..`to` (per item, in file order) as SAME examples through the engine's
 * AddExamples path; returns how many were added. Throws when any is refused (a broken benchmark).
 */
export async function feedPhotos(
  engine: TwinlensEngine,
  byItem: Map<string, BenchmarkQuery[]>,
  from: number | 'all',
  to: number | 'all',
  onProgress?: (done: number, total: number) => void,
): Promise<number> {
  const rows: BenchmarkQuery[] = [];
  for (const photos of byItem.values()) rows.push(...photos.slice(upTo(from, photos.length), upTo(to, photos.length)));
  const results = await addExamples(
    engine,
    await Promise.all(rows.map(async (r) => ({ itemId: r.itemId, image: await fs.readFile(r.imagePath), label: 'same' as const }))),
    { onProgress },
  );
  const failed = results.find((r) => !r.ok);
  if (failed && !failed.ok) throw new Error(`feedback photo of item '${failed.itemId}' was refused: ${(failed.error as Error).message}`);
  return results.length;
}

/** Recall apart for queries of items with and without confirmed photos. */
export function byFeedbackOf(
  outcomes: readonly QueryOutcome[],
  queries: readonly BenchmarkQuery[],
  fed: ReadonlySet<string>,
): { with: RetrievalMetrics; without: RetrievalMetrics } {
  return {
    with: metricsOf(outcomes.filter((_, i) => fed.has(queries[i].itemId))),
    without: metricsOf(outcomes.filter((_, i) => !fed.has(queries[i].itemId))),
  };
}

/** The learning curve as an inline SVG line chart: Recall@1 and Recall@5 against photos per item. */
export function learningCurveSvg(all: readonly LearningCurvePoint[]): string {
  // One scoring per chart: the one of the last point (the report's).
  const points = all.filter((p) => p.scoring === all[all.length - 1].scoring);
  const w = 480;
  const h = 260;
  const pad = { l: 44, r: 16, t: 16, b: 40 };
  const xs = points.map((_, i) => pad.l + (i * (w - pad.l - pad.r)) / Math.max(1, points.length - 1));
  const y = (v: number): number => pad.t + (1 - v) * (h - pad.t - pad.b);
  const line = (values: number[], color: string, label: string): string =>
    `<polyline fill="none" stroke="${color}" stroke-width="2" points="${values.map((v, i) => `${xs[i].toFixed(1)},${y(v).toFixed(1)}`).join(' ')}"/>` +
    values.map((v, i) => `<circle cx="${xs[i].toFixed(1)}" cy="${y(v).toFixed(1)}" r="3" fill="${color}"><title>${label} ${v.toFixed(3)}</title></circle>`).join('') +
    `<text x="${(xs[xs.length - 1] - 4).toFixed(1)}" y="${(y(values[values.length - 1]) - 8).toFixed(1)}" text-anchor="end" fill="${color}" font-size="12">${label} ${values[values.length - 1].toFixed(3)}</text>`;
  const grid = [0, 0.25, 0.5, 0.75, 1]
    .map((v) => `<line x1="${pad.l}" x2="${w - pad.r}" y1="${y(v)}" y2="${y(v)}" stroke="#ddd"/><text x="${pad.l - 6}" y="${y(v) + 4}" text-anchor="end" font-size="11">${v.toFixed(2)}</text>`)
    .join('');
  const ticks = points
    .map((p, i) => `<text x="${xs[i].toFixed(1)}" y="${h - pad.b + 16}" text-anchor="middle" font-size="11">${p.per_item}</text>`)
    .join('');
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" viewBox="0 0 ${w} ${h}" role="img" aria-label="learning curve">` +
    grid +
    ticks +
    `<text x="${(pad.l + w - pad.r) / 2}" y="${h - 6}" text-anchor="middle" font-size="12">confirmed photos per item</text>` +
    line(points.map((p) => p.overall.recall_at_5), '#2b8a3e', 'R@5') +
    line(points.map((p) => p.overall.recall_at_1), '#1c5fb8', 'R@1') +
    `</svg>`
  );
}
