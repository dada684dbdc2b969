/**
 * `twinlens eval`'s pipeline with a pair head, on a small generated benchmark and the tiny
 * known-function ONNX twin (test/fixtures/tiny-twin): the shortlist order puts the wrong item first
 * for these queries, the pair head the right one, and the report must show both.
 */
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import sharp from 'sharp';
import { runEval, writeHtmlReport } from '../../src/eval/index.js';
import { makeTempDir } from '../helpers/server.js';

const MANIFEST = path.join(__dirname, '..', 'fixtures', 'tiny-twin', 'manifest.json');
// catalogViews 0: the ranks below are the head's and the cosine's on the clean images; the views'
// simulator (seconds to start) is tested where it matters (test/engine/catalog-views.test.ts).
type Rgb = [number, number, number];

async function halves(file: string, left: Rgb, right: Rgb): Promise<void> {
  const size = 224;
  const raw = Buffer.alloc(size * size * 3);
  for (let y = 0; y < size; y++) for (let x = 0; x < size; x++) raw.set(x < size / 2 ? left : right, (y * size + x) * 3);
  await sharp(raw, { raw: { width: size, height: size, channels: 3 } }).png().toFile(file);
}

let dir: string;
beforeAll(async () => {
  dir = await makeTempDir('twinlens-eval-test-');
  // Catalog: 'layout' (red | greenish blue) and 'purple' (flat, the queries' exact mean colour).
  await halves(path.join(dir, 'layout.png'), [255, 0, 0], [0, 60, 255]);
  await halves(path.join(dir, 'purple.png'), [128, 0, 128], [128, 0, 128]);
  await halves(path.join(dir, 'green.png'), [0, 255, 0], [0, 200, 40]);
  // Queries of 'layout': red | blue. By cosine 'purple' wins; the head picks 'layout'.
  await halves(path.join(dir, 'q1.png'), [255, 0, 0], [0, 0, 255]);
  await halves(path.join(dir, 'q2.png'), [240, 0, 0], [0, 0, 240]);
  // A query of 'green' that both stages get right.
  await halves(path.join(dir, 'q3.png'), [0, 250, 0], [0, 210, 40]);
  await fs.writeFile(
    path.join(dir, 'catalog.csv'),
    'item_id,name,top_category,image\nL,Layout,Packages,layout.png\nP,Purple,Packages,purple.png\nG,Green,Fruit,green.png\n',
  );
  await fs.writeFile(path.join(dir, 'queries.csv'), 'image,item_id,top_category\nq1.png,L,Packages\nq2.png,L,Packages\nq3.png,G,Fruit\n');
});
afterAll(() => fs.rm(dir, { recursive: true, force: true }));

test('shortlist-only and reranked figures, verification of Compare, rerank timing and the HTML report', async () => {
  const run = await runEval({
    catalogCsv: path.join(dir, 'catalog.csv'),
    queriesCsv: path.join(dir, 'queries.csv'),
    // The pair head's own figures: the colour and text evidence (which would re-score after it) off.
    service: { modelManifest: MANIFEST, executionProviders: ['cpu'], catalogViews: 0, textEvidence: false, colorEvidence: false },
  });
  const r = run.report;
  expect(r.ranked_by).toBe('pair_head');
  expect(r.shortlist_k).toBe(3); // the default 50, capped at the catalog's size
  expect(r.shortlist_only!.recall_at_1).toBeCloseTo(1 / 3, 6); // only the green query
  expect(r.overall.recall_at_1).toBe(1);
  expect(r.shortlist_only_by_category!.Packages).toEqual({ n: 2, recall_at_1: 0, recall_at_5: 1, mrr: 0.5 });
  expect(r.by_category.Packages).toEqual({ n: 2, recall_at_1: 1, recall_at_5: 1, mrr: 1 });
  expect(run.queries.map((q) => [q.shortlistRank, q.rank])).toEqual([[2, 1], [2, 1], [1, 1]]);
  expect(r.rerank_ms!.mean).toBeGreaterThan(0);
  expect(r.model).toMatchObject({ name: 'tiny-twin-test-fixture' });
  const v = r.verification!;
  expect(v).toMatchObject({ scored_by: 'pair_head', positives: 3, negatives: 6, threshold: 0.5 });
  expect(v.roc_auc).toBeGreaterThan(v.embedding_cosine!.roc_auc);

  const file = path.join(dir, 'report', 'eval.html');
  await writeHtmlReport(run, { file });
  const html = await fs.readFile(file, 'utf8');
  expect(html).toContain('Failed queries: 0 of 3');
  expect(html).toContain('Shortlist only (embedding order)');
});

test('a shortlist of 1 leaves the head nothing to fix; the report shows each failed query beside its hits', async () => {
  const run = await runEval({
    catalogCsv: path.join(dir, 'catalog.csv'),
    queriesCsv: path.join(dir, 'queries.csv'),
    service: { modelManifest: MANIFEST, executionProviders: ['cpu'], catalogViews: 0 },
    shortlistK: 1,
    verification: false,
  });
  expect(run.report.overall.recall_at_1).toBeCloseTo(1 / 3, 6);
  expect(run.report.verification).toBeUndefined();
  const file = path.join(dir, 'report', 'fail.html');
  await writeHtmlReport(run, { file });
  const html = await fs.readFile(file, 'utf8');
  expect(html).toContain('Failed queries: 2 of 3');
  expect(html.match(/<div class="q">/g)).toHaveLength(2);
  expect(html).toContain('wanted <b>Layout</b>: rank 2');
  expect(html.match(/data:image\/jpeg;base64,/g)!.length).toBe(3 + 2); // 3 catalog thumbnails once + 2 query photos
});
