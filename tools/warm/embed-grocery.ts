/**
 * Measurement helper (not shipped): embeds grocery-dev (catalog, its 16 simulated catalog views,
 * queries) and grocery-feedback (the confirmed photos) with a model through the service's own
 * decoder, embedder, catalog-view simulator (seed 1) and mirror, and writes every image's
 * L2-normalised embedding as float32 rows, so the whitening can be fitted and scored offline.
 *
 * usage: node dist/tools/warm/embed-grocery.js OUT_DIR [MANIFEST] [DEV_DIR] [FEEDBACK_DIR]
 * Writes OUT_DIR/{catalog,catalog_views,queries,queries_m,feedback,feedback_m}.f32 and meta.json.
 */
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { createCatalogViewSource, mirrorImage } from '../../src/engine/catalog-views.js';
import { readCatalogCsv, readQueriesCsv } from '../../src/eval/index.js';
import { createSharpDecoder, type DecodedImage } from '../../src/imaging/index.js';
import { loadManifest, OnnxEmbedder } from '../../src/model/index.js';
import { PACKAGE_ROOT } from '../../src/config/package-root.js';

const [outDir, manifestArg, devArg, fbArg] = process.argv.slice(2);
if (!outDir) throw new Error('usage: embed-grocery OUT_DIR [MANIFEST] [DEV_DIR] [FEEDBACK_DIR]');
const manifestPath = manifestArg ?? path.join(PACKAGE_ROOT, 'models', 'mobilenet_v2_140', 'manifest.json');
const devDir = devArg ?? '/work/shared/data/grocery-dev';
const fbDir = fbArg ?? '/work/shared/data/grocery-feedback';

async function main(): Promise<void> {
  await fs.mkdir(outDir, { recursive: true });
  const manifest = await loadManifest(manifestPath);
  const embedder = await OnnxEmbedder.create(manifest, { providers: ['cpu'], intraOpThreads: 2, maxBatchSize: 1, maxBatchWaitMs: 0 });
  const decoder = createSharpDecoder({ size: manifest.input.size, maxImageBytes: 50 << 20, maxImagePixels: 100e6 });
  const views = createCatalogViewSource({ views: 16, seed: 1, workers: 1 })!;
  const started = Date.now();

  async function embedAll(name: string, images: DecodedImage[]): Promise<void> {
    const rows: Float32Array[] = [];
    for (let i = 0; i < images.length; i += 16) {
      for (const f of await embedder.embedBatch(images.slice(i, i + 16))) rows.push(f.embedding);
    }
    const buf = Buffer.alloc(rows.length * embedder.dim * 4);
    rows.forEach((r, i) => Buffer.from(r.buffer, r.byteOffset, r.byteLength).copy(buf, i * embedder.dim * 4));
    await fs.writeFile(path.join(outDir, `${name}.f32`), buf);
    console.error(`${name}: ${rows.length} rows, ${((Date.now() - started) / 1000).toFixed(0)} s`);
  }
  async function photoSet(name: string, files: string[]): Promise<void> {
    const decoded: DecodedImage[] = [];
    for (const f of files) decoded.push(await decoder.decode(await fs.readFile(f)));
    await embedAll(name, decoded);
    await embedAll(`${name}_m`, decoded.map(mirrorImage));
  }

  const items = await readCatalogCsv(path.join(devDir, 'catalog.csv'));
  const queries = await readQueriesCsv(path.join(devDir, 'queries.csv'));
  const feedback = await readQueriesCsv(path.join(fbDir, 'feedback.csv'));
  await fs.writeFile(
    path.join(outDir, 'meta.json'),
    JSON.stringify({
      manifest: manifest.manifestPath,
      dim: embedder.dim,
      views: 16,
      catalog: items.map((it) => ({ item: it.itemId, cat: it.topCategory })),
      queries: queries.map((q) => ({ item: q.itemId, cat: q.topCategory })),
      feedback: feedback.map((q) => ({ item: q.itemId, cat: q.topCategory })),
    }),
  );
  const clean: DecodedImage[] = [];
  const viewImages: DecodedImage[] = [];
  for (const it of items) {
    const bytes = await fs.readFile(it.imagePath);
    clean.push(await decoder.decode(bytes));
    for (const p of await views.photos(bytes)) viewImages.push(await decoder.decode(p));
  }
  await views.close();
  await embedAll('catalog', clean);
  await embedAll('catalog_views', viewImages);
  await photoSet('queries', queries.map((q) => q.imagePath));
  await photoSet('feedback', feedback.map((q) => q.imagePath));
  await embedder.close();
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
