/**
 * Research helper for issue 12's text evidence: reads the text of every grocery-dev catalog image and
 * query photo with the service's OCR stage (src/text/ocr.ts) and writes OUT.json:
 * { version, seconds, catalog: { itemId: { cat, texts: [[text, confidence], ...] } }, queries: [{ image, item, cat, texts }] }.
 * Score it with tools/cold/text_rerank.py.
 *
 * usage: node dist/tools/cold/ocr-grocery.js OUT.json [SCALE=2] [DET_THRESHOLD=0.3] [MAX_SIDE=640] [QUERY_MAX_SIDE=384]
 *   [DATA=../shared/data/grocery-dev]   (MAX_SIDE bounds catalog images, QUERY_MAX_SIDE query photos)
 */
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { readCatalogCsv, readQueriesCsv } from '../../src/eval/index.js';
import { OnnxOcr } from '../../src/text/ocr.js';

async function main(): Promise<void> {
  const [out, scale = '2', threshold = '0.3', maxSide = '640', queryMaxSide = '384', data = '../shared/data/grocery-dev'] = process.argv.slice(2);
  if (!out) throw new Error('usage: ocr-grocery OUT.json [SCALE] [DET_THRESHOLD] [MAX_SIDE] [QUERY_MAX_SIDE] [DATA]');
  const ocr = await OnnxOcr.create({ providers: ['cpu'], intraOpThreads: 2, maxImagePixels: 50_000_000, scale: Number(scale), detThreshold: Number(threshold), maxSide: Number(maxSide), queryMaxSide: Number(queryMaxSide), minConfidence: 0 });
  const read = async (file: string, kind: 'catalog' | 'query' = 'catalog') => (await ocr.read(await fs.readFile(file), kind)).map((l) => [l.text, Number(l.confidence.toFixed(3))]);
  const started = Date.now();
  const catalog: Record<string, { cat: string; texts: unknown[] }> = {};
  for (const it of await readCatalogCsv(path.join(data, 'catalog.csv'))) {
    catalog[it.itemId] = { cat: it.metadata.top_category ?? '', texts: await read(it.imagePath) };
  }
  const queries = [];
  for (const q of await readQueriesCsv(path.join(data, 'queries.csv'))) {
    queries.push({ image: path.relative(data, q.imagePath), item: q.itemId, cat: q.topCategory, texts: await read(q.imagePath, 'query') });
  }
  const seconds = (Date.now() - started) / 1000;
  await fs.writeFile(out, JSON.stringify({ version: ocr.version, seconds, catalog, queries }));
  const n = Object.keys(catalog).length + queries.length;
  console.log(`${n} images in ${seconds.toFixed(1)} s (${((seconds * 1000) / n).toFixed(0)} ms each), ${ocr.version} -> ${out}`);
  await ocr.close();
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
