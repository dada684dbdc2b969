/**
 * "Looks alike", not only "same item": with a `label` column, eval also judges a hit right when its
 * item shares the query's label, and a query may name a label alone (a photo of something not in
 * the catalog). Uses the tiny known-function twin (test/fixtures/tiny-twin: the embedding is the
 * mean colour), so the expected ranks follow from the colours below.
 */
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import sharp from 'sharp';
import { readCatalogCsv, readQueriesCsv, runEval } from '../../src/eval/index.js';
import { makeTempDir } from '../helpers/server.js';

const MANIFEST = path.join(__dirname, '..', 'fixtures', 'tiny-twin', 'manifest.json');

async function flat(file: string, rgb: [number, number, number]): Promise<void> {
  await sharp({ create: { width: 224, height: 224, channels: 3, background: { r: rgb[0], g: rgb[1], b: rgb[2] } } }).png().toFile(file);
}

let dir: string;
beforeAll(async () => {
  dir = await makeTempDir('twinlens-label-eval-');
  // Two reds and two blues; the darker one of each is farther from the queries by cosine and by the head.
  await flat(path.join(dir, 'r1.png'), [120, 0, 0]);
  await flat(path.join(dir, 'r2.png'), [200, 30, 0]);
  await flat(path.join(dir, 'b1.png'), [0, 0, 120]);
  await flat(path.join(dir, 'b2.png'), [0, 40, 200]);
  await flat(path.join(dir, 'q-red.png'), [200, 30, 0]);
  await flat(path.join(dir, 'q-blue.png'), [0, 40, 200]);
  await fs.writeFile(
    path.join(dir, 'catalog.csv'),
    'item_id,image,top_category,label\nR1,r1.png,Watches,red\nR2,r2.png,Watches,red\nB1,b1.png,Watches,blue\nB2,b2.png,Watches,blue\n',
  );
  // q-red shows R1 but looks like R2 (same label); the second row is label-only; the third shows B2.
  await fs.writeFile(path.join(dir, 'queries.csv'), 'image,item_id,top_category,label\nq-red.png,R1,Watches,\nq-blue.png,,Watches,blue\nq-blue.png,B2,Watches,\n');
});
afterAll(() => fs.rm(dir, { recursive: true, force: true }));

test('label_match counts a hit of the same label; same-item figures and Compare pairs leave label-only queries out', async () => {
  const run = await runEval({
    catalogCsv: path.join(dir, 'catalog.csv'),
    queriesCsv: path.join(dir, 'queries.csv'),
    service: { modelManifest: MANIFEST, executionProviders: ['cpu'], catalogViews: 0 },
  });
  const r = run.report;
  // Same item: R1's photo finds R2 first (rank 2), B2's photo finds B2.
  expect(r.n).toBe(2);
  expect(r.overall).toEqual({ recall_at_1: 0.5, recall_at_5: 1, mrr: 0.75 });
  // Label: all three find their label first (the label-only query included).
  expect(r.label_match).toEqual({ n: 3, labels: 2, recall_at_1: 1, recall_at_5: 1, mrr: 1, by_category: { Watches: { n: 3, recall_at_1: 1, recall_at_5: 1, mrr: 1 } } });
  expect(r.verification).toMatchObject({ positives: 2, negatives: 6 });
});

test('--label-column names the label column: an existing class column (coarse_name) works as is', async () => {
  const catalog = path.join(dir, 'catalog-coarse.csv');
  const queries = path.join(dir, 'queries-coarse.csv');
  await fs.writeFile(catalog, 'item_id,image,coarse_name\nR1,r1.png,Red\nR2,r2.png,Red\nB1,b1.png,Blue\n');
  await fs.writeFile(queries, 'image,item_id\nq-red.png,R1\n');
  const run = await runEval({ catalogCsv: catalog, queriesCsv: queries, labelColumn: 'coarse_name', verification: false, service: { modelManifest: MANIFEST, executionProviders: ['cpu'], catalogViews: 0 } });
  expect(run.report.overall.recall_at_1).toBe(0);
  expect(run.report.label_match).toMatchObject({ n: 1, labels: 2, recall_at_1: 1 });
});

test('a catalog without labels reports no label_match', async () => {
  const catalog = path.join(dir, 'catalog-nolabel.csv');
  const queries = path.join(dir, 'queries-item.csv');
  await fs.writeFile(catalog, 'item_id,image\nR1,r1.png\nR2,r2.png\n');
  await fs.writeFile(queries, 'image,item_id\nq-red.png,R1\n');
  const run = await runEval({ catalogCsv: catalog, queriesCsv: queries, verification: false, service: { modelManifest: MANIFEST, executionProviders: ['cpu'], catalogViews: 0 } });
  expect(run.report.label_match).toBeUndefined();
  expect(run.report.overall.recall_at_1).toBe(0);
});

test('the csv rules: unique item ids, every query names an item or a label, a query label needs catalog labels', async () => {
  const dup = path.join(dir, 'dup.csv');
  await fs.writeFile(dup, 'item_id,image,label\nW1,r1.png,round\nW2,r2.png,round\nW1,b1.png,square\n');
  await expect(readCatalogCsv(dup)).rejects.toThrow(/item_id 'W1' is on rows 2 and 4; item ids must be unique/);
  const neither = path.join(dir, 'neither.csv');
  await fs.writeFile(neither, 'image,item_id,label\nq-red.png,R1,\nq-blue.png,,\n');
  await expect(readQueriesCsv(neither)).rejects.toThrow(/row 3 has neither an item_id nor a label/);
  const catalog = path.join(dir, 'catalog-nolabel2.csv');
  const labelled = path.join(dir, 'labelled-queries.csv');
  await fs.writeFile(catalog, 'item_id,image\nR1,r1.png\n');
  await fs.writeFile(labelled, 'image,label\nq-red.png,red\n');
  await expect(runEval({ catalogCsv: catalog, queriesCsv: labelled, service: { modelManifest: MANIFEST, executionProviders: ['cpu'], catalogViews: 0 } })).rejects.toThrow(
    /label 'red' but the catalog has no label column/,
  );
});
