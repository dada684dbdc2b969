/**
 * Measurement (not shipped): fits the warm path's within-item whitening with src/adapt on the
 * features embed-grocery.ts wrote (raw model), writes the adapted model, and scores grocery-dev
 * with it the way the service computes vectors (each image projected by the embedder, then the
 * catalog views and the query mirror averaged):
 *   (a) whitening only: queries against the whitened catalog vectors;
 *   (b) fold: item vector = normalise(catalog vector + sum of its whitened confirmed photos);
 * for all photos per item and for the first 3 per item; plus the research order (project the
 * averaged vectors) for comparison with the research figures.
 *
 * usage: node dist/tools/warm/measure-whitening.js FEATURES_DIR [MODEL_OUT_DIR]
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fitWhitening, whiteningGroupsOf, writeWhitenedModel, type Whitening } from '../../src/adapt/index.js';
import { applyProjection, l2Normalize } from '../../src/model/index.js';

type Row = { item: string; cat: string };
const [featDir, modelOutArg] = process.argv.slice(2);
if (!featDir) throw new Error('usage: measure-whitening FEATURES_DIR [MODEL_OUT_DIR]');
const meta = JSON.parse(fs.readFileSync(path.join(featDir, 'meta.json'), 'utf8')) as {
  manifest: string;
  dim: number;
  views: number;
  catalog: Row[];
  queries: Row[];
  feedback: Row[];
};
const d = meta.dim;

function rows(name: string): Float32Array[] {
  const buf = fs.readFileSync(path.join(featDir, `${name}.f32`));
  const all = new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4);
  return Array.from({ length: all.length / d }, (_, i) => l2Normalize(all.slice(i * d, (i + 1) * d)));
}
function average(vs: Float32Array[]): Float32Array {
  const s = new Float32Array(d);
  for (const v of vs) for (let i = 0; i < d; i++) s[i] += v[i];
  return l2Normalize(s);
}
function dot(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

const catalog = rows('catalog');
const views = rows('catalog_views');
const viewsOf = (i: number): Float32Array[] => views.slice(i * meta.views, (i + 1) * meta.views);
const [queries, queriesM, feedback, feedbackM] = ['queries', 'queries_m', 'feedback', 'feedback_m'].map(rows);
const itemIds = meta.catalog.map((c) => c.item);
const indexOf = new Map(itemIds.map((id, i) => [id, i]));
const CATS = ['Packages', 'Fruit', 'Vegetables'];

/** R@1, R@5 overall and R@1 per category of queries `q` against item vectors `items`. */
function recall(q: Float32Array[], items: Float32Array[]): Record<string, number> {
  const hit1: Record<string, number[]> = { all: [] };
  const hit5: number[] = [];
  q.forEach((v, n) => {
    const want = indexOf.get(meta.queries[n].item)!;
    const s = items.map((it) => dot(v, it));
    const better = s.filter((x) => x > s[want]).length;
    hit1.all.push(better < 1 ? 1 : 0);
    hit5.push(better < 5 ? 1 : 0);
    (hit1[meta.queries[n].cat] ??= []).push(better < 1 ? 1 : 0);
  });
  const mean = (a: number[]): number => Number((a.reduce((x, y) => x + y, 0) / a.length).toFixed(3));
  return { 'R@1': mean(hit1.all), 'R@5': mean(hit5), ...Object.fromEntries(CATS.map((c) => [`${c}@1`, mean(hit1[c] ?? [])])) };
}

/** Indices of the first k confirmed photos of each item (file order), all when k is undefined. */
function pick(k?: number): number[] {
  const seen = new Map<string, number>();
  const out: number[] = [];
  meta.feedback.forEach((r, i) => {
    const c = seen.get(r.item) ?? 0;
    if (k === undefined || c < k) out.push(i);
    seen.set(r.item, c + 1);
  });
  return out;
}

function fold(base: Float32Array[], photos: Float32Array[], photoIdx: number[]): Float32Array[] {
  const sums = base.map((b) => b.slice());
  photoIdx.forEach((p, n) => {
    const s = sums[indexOf.get(meta.feedback[p].item)!];
    for (let i = 0; i < d; i++) s[i] += photos[n][i];
  });
  return sums.map(l2Normalize);
}

const results: Record<string, unknown>[] = [];
function report(name: string, r: Record<string, number>, extra: Record<string, unknown> = {}): void {
  const row = { method: name, ...r, ...extra };
  results.push(row);
  console.log(JSON.stringify(row));
}

// The service's raw vectors: catalog = clean + views (no mirror), query and confirmed photo = image + mirror.
const catRaw = catalog.map((c, i) => average([c, ...viewsOf(i)]));
const qRaw = queries.map((q, i) => average([q, queriesM[i]]));
const fbRaw = feedback.map((f, i) => average([f, feedbackM[i]]));
report('cold: raw model, catalog vectors', recall(qRaw, catRaw));
report('raw model, fold all photos', recall(qRaw, fold(catRaw, pick().map((p) => fbRaw[p]), pick())));

function fitOn(k?: number): { w: Whitening; seconds: number; cpuSeconds: number; idx: number[] } {
  const idx = pick(k);
  const evidence = itemIds.map((itemId, i) => ({
    itemId,
    confirmed: idx.filter((p) => meta.feedback[p].item === itemId).map((p) => fbRaw[p]),
    catalog: [catRaw[i], ...viewsOf(i)],
  }));
  const started = process.hrtime.bigint();
  const cpu = process.cpuUsage();
  const w = fitWhitening(whiteningGroupsOf(evidence));
  const used = process.cpuUsage(cpu);
  return { w, seconds: Number(process.hrtime.bigint() - started) / 1e9, cpuSeconds: (used.user + used.system) / 1e6, idx };
}

async function main(): Promise<void> {
  const P = (w: Whitening) => (v: Float32Array): Float32Array => l2Normalize(applyProjection(w, v));
  let modelWritten: string | undefined;
  for (const k of [undefined, 3]) {
    const label = k === undefined ? 'all' : String(k);
    const { w, seconds, cpuSeconds, idx } = fitOn(k);
    const p = P(w);
    const fit = { K: label, fit_s: Number(seconds.toFixed(1)), fit_cpu_s: Number(cpuSeconds.toFixed(1)), members: w.members };
    // Service order: every image is projected by the embedder, then averaged.
    const catW = catalog.map((c, i) => average([p(c), ...viewsOf(i).map(p)]));
    const qW = queries.map((q, i) => average([p(q), p(queriesM[i])]));
    const fbW = idx.map((f) => average([p(feedback[f]), p(feedbackM[f])]));
    report('(a) whitened, catalog vectors only [service order]', recall(qW, catW), fit);
    report('(b) whitened, fold [service order]', recall(qW, fold(catW, fbW, idx)), fit);
    // Research order: the averaged raw vectors are projected.
    const catR = catRaw.map(p);
    const qR = qRaw.map(p);
    const fbR = idx.map((f) => p(fbRaw[f]));
    report('(a) whitened, catalog vectors only [research order]', recall(qR, catR), fit);
    report('(b) whitened, fold [research order]', recall(qR, fold(catR, fbR, idx)), fit);
    if (k === undefined && modelOutArg) {
      const started = Date.now();
      const { manifestPath } = await writeWhitenedModel({
        baseManifestPath: meta.manifest,
        projection: w,
        outDir: modelOutArg,
        version: `${path.basename(path.dirname(meta.manifest))}-whitened-grocery-feedback`,
        provenance: { fittedOn: 'grocery-feedback (all confirmed photos)', items: w.items, members: w.members, ridge: w.ridge, fitCpuSeconds: cpuSeconds },
      });
      modelWritten = manifestPath;
      console.log(JSON.stringify({ wrote: manifestPath, write_s: (Date.now() - started) / 1000 }));
    }
  }
  fs.writeFileSync(path.join(featDir, 'results.json'), JSON.stringify({ results, modelWritten }, null, 1));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
