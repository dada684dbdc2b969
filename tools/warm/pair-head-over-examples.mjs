// Offline probe: does a pair head that also looks at an item's confirmed photos beat the cosine of the
// folded catalog? For each benchmark photo: the shortlist by the service's own scoring (examples folded
// into their items), then for each candidate the pair head against the catalog image alone, and
// against the catalog image and each confirmed photo (best, and mean of the best 3). Recall@1/@5 of
// each order. The model needs a pair head (e.g. one fine-tuned on confirmed pairs: docs/warm-path.md).
// Usage (after make build): node tools/warm/pair-head-over-examples.mjs MANIFEST CATALOG.csv QUERIES.csv FEEDBACK.csv [K=20]
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { createEngine } from '../../dist/src/engine/create-engine.js';
import { validateOptions } from '../../dist/src/config/index.js';
import { silentLogger } from '../../dist/src/observability/logger.js';
import { readCatalogCsv, readQueriesCsv } from '../../dist/src/eval/benchmark-csv.js';
import { indexBenchmarkCatalog } from '../../dist/src/eval/run-eval.js';
import { feedbackByItem, feedPhotos } from '../../dist/src/eval/feedback.js';

const [manifest, catalogCsv, queriesCsv, feedbackCsv, kArg] = process.argv.slice(2);
const K = Number(kArg ?? 20);
const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'twinlens-phx-'));
const options = validateOptions({ dataDir, seedDemoCatalog: false, confirmRetentionMs: 0, usePairHead: true, exampleAdapter: 'none', modelManifest: manifest });
const { engine, stopBackgroundReembed } = await createEngine(options, silentLogger);
const dot = (a, b) => { let s = 0; for (let i = 0; i < a.length; i++) s += a[i] * b[i]; return s; };
try {
  await indexBenchmarkCatalog(engine, await readCatalogCsv(catalogCsv));
  const byItem = feedbackByItem(await readQueriesCsv(feedbackCsv), 1);
  await feedPhotos(engine, byItem, 0, 'all');
  // Each confirmed photo's features as the service embeds a query (mirror averaged; local map its own).
  const examples = new Map();
  for (const [itemId, rows] of byItem) {
    const features = [];
    for (const r of rows) features.push(await engine.embedQuery(await fs.readFile(r.imagePath)));
    examples.set(itemId, features);
  }
  const queries = (await readQueriesCsv(queriesCsv)).filter((q) => q.itemId);
  const orders = { cosine_fold: [], head_catalog: [], head_best_of_all: [], head_mean_top3: [], head_best_plus_cosine: [] };
  const cats = new Map();
  for (const q of queries) {
    const f = await engine.embedQuery(await fs.readFile(q.imagePath));
    const hits = engine.catalog.search(f.embedding, K).hits;
    const scores = { cosine_fold: [], head_catalog: [], head_best_of_all: [], head_mean_top3: [], head_best_plus_cosine: [] };
    for (const h of hits) {
      const catalogLocal = engine.catalog.localOf(h.itemId);
      const catalogCos = dot(f.embedding, engine.catalog.embeddingOf(h.itemId));
      const ex = examples.get(h.itemId) ?? [];
      const locals = [catalogLocal, ...ex.map((e) => e.local)];
      const cosines = Float32Array.from([catalogCos, ...ex.map((e) => dot(f.embedding, e.embedding))]);
      const p = await engine.pairHead.scoreCandidates(f.local, locals, cosines);
      const sorted = [...p].sort((a, b) => b - a);
      scores.cosine_fold.push(h.score);
      scores.head_catalog.push(p[0]);
      scores.head_best_of_all.push(sorted[0]);
      scores.head_mean_top3.push(sorted.slice(0, 3).reduce((s, v) => s + v, 0) / Math.min(3, sorted.length));
      scores.head_best_plus_cosine.push(sorted[0] + h.score);
    }
    for (const [name, s] of Object.entries(scores)) {
      const order = hits.map((h, i) => ({ id: h.itemId, s: s[i], i })).sort((a, b) => b.s - a.s || a.i - b.i).map((x) => x.id);
      const rank = order.indexOf(q.itemId);
      orders[name].push({ cat: q.topCategory, rank });
    }
    cats.set(q.topCategory, true);
  }
  for (const [name, list] of Object.entries(orders)) {
    const r = (xs, n) => (xs.filter((x) => x.rank >= 0 && x.rank < n).length / xs.length).toFixed(3);
    const per = [...cats.keys()].map((c) => `${c} ${r(list.filter((x) => x.cat === c), 1)}`).join(', ');
    console.log(`${name.padEnd(22)} R@1 ${r(list, 1)}  R@5 ${r(list, 5)}  (${per})`);
  }
} finally {
  await stopBackgroundReembed();
  await engine.close();
  await fs.rm(dataDir, { recursive: true, force: true });
}
