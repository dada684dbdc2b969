/**
 * `twinlens-dev print-benchmark` at 2 brands x 2 products: the csv files name images that exist and
 * decode, item ids are unique, and the catalog is byte-identical for the same seed.
 */
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import sharp from 'sharp';
import { makePrintBenchmark } from '../../../tools/evidence-head/make-print-benchmark.js';

const rows = async (csv: string) => (await fs.readFile(csv, 'utf8')).trim().split('\n').map((l) => l.split(','));

test('csv rows name decodable 384 px images, unique ids, same seed same catalog bytes', async () => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'twinlens-print-bench-'));
  try {
    const a = await makePrintBenchmark({ outDir: path.join(dir, 'a'), families: 2, perFamily: 2, seed: 3 });
    const [catalogHeader, ...catalog] = await rows(a.catalogCsv);
    const [queriesHeader, ...queries] = await rows(a.queriesCsv);
    expect(catalogHeader).toEqual(['item_id', 'top_category', 'image']);
    expect(queriesHeader).toEqual(['image', 'item_id', 'top_category']);
    expect(catalog).toHaveLength(4);
    expect(queries).toHaveLength(4);

    const ids = catalog.map((r) => r[0]);
    expect(new Set(ids).size).toBe(ids.length);
    for (const [id, cat, image] of catalog) {
      expect(id).toMatch(/^pk-\d+-\d+$/);
      expect(['packaged', 'plain']).toContain(cat);
      const meta = await sharp(path.join(dir, 'a', image as string)).metadata();
      expect([meta.format, meta.width, meta.height]).toEqual(['png', 384, 384]);
    }
    for (const [image, id, cat] of queries) {
      expect(ids).toContain(id);
      expect(cat).toBe(catalog.find((r) => r[0] === id)?.[1]);
      const meta = await sharp(path.join(dir, 'a', image as string)).metadata();
      expect(meta.format).toBe('jpeg');
    }

    const b = await makePrintBenchmark({ outDir: path.join(dir, 'b'), families: 2, perFamily: 2, seed: 3, queriesPerItem: 0 });
    expect(await fs.readFile(b.catalogCsv, 'utf8')).toBe(await fs.readFile(a.catalogCsv, 'utf8'));
    for (const [, , image] of catalog) {
      const [x, y] = await Promise.all([fs.readFile(path.join(dir, 'a', image as string)), fs.readFile(path.join(dir, 'b', image as string))]);
      expect(x.equals(y)).toBe(true);
    }
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
});
