import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { generateDemoCatalog } from '../../src/demo/index.js';
import { CATALOG_VIEW_ASSETS } from '../../src/engine/index.js';
import { createPhotoSimulator, loadSimulationAssets, photosOf } from '../../src/simulate/index.js';

/** Options of {@link makeSyntheticBenchmark}. */
export interface SyntheticBenchmarkOptions {
  /** Folder to write catalog.csv, queries.csv, catalog/ and photos/ into. */
  outDir: string;
  /** Catalog items (generated watches). Default 1,500. */
  items?: number;
  /** Query photos, one each of the first `queries` items' simulated photos. Default 600. */
  queries?: number;
  seed?: number;
  onProgress?: (stage: 'catalog' | 'queries', done: number, total: number) => void;
}

/**
 * Writes a benchmark in the shared csv format at catalog size, for timing `twinlens eval`: generated
 * watches (src/demo) as the catalog, and a simulated phone photo (src/simulate, drawn assets, seeds
 * apart from the catalog views') of items spread over the catalog as queries. Its Recall figures
 * say nothing about real photos: the queries come from the same simulator as the catalog views.
 */
export async function makeSyntheticBenchmark(o: SyntheticBenchmarkOptions): Promise<{ catalogCsv: string; queriesCsv: string }> {
  const items = o.items ?? 1500;
  const queries = Math.min(o.queries ?? 600, items);
  const seed = o.seed ?? 7;
  await fs.mkdir(path.join(o.outDir, 'catalog'), { recursive: true });
  await fs.mkdir(path.join(o.outDir, 'photos'), { recursive: true });
  const catalog = await generateDemoCatalog({ count: items, seed, sizePx: 384, format: 'png' });
  const catalogRows = ['item_id,top_category,image'];
  for (const [i, it] of catalog.entries()) {
    const file = `catalog/${it.itemId}.png`;
    await fs.writeFile(path.join(o.outDir, file), it.image);
    catalogRows.push(`${it.itemId},watch,${file}`);
    if ((i + 1) % 100 === 0) o.onProgress?.('catalog', i + 1, items);
  }
  const simulator = createPhotoSimulator(await loadSimulationAssets(CATALOG_VIEW_ASSETS));
  const queryRows = ['image,item_id,top_category'];
  for (let q = 0; q < queries; q++) {
    const it = catalog[Math.floor((q * items) / queries)];
    const [photo] = await photosOf(simulator, it.image, [1_000_003 * (seed + 1) + q]);
    const file = `photos/${it.itemId}-q${q}.jpg`;
    await fs.writeFile(path.join(o.outDir, file), photo);
    queryRows.push(`${file},${it.itemId},watch`);
    if ((q + 1) % 50 === 0) o.onProgress?.('queries', q + 1, queries);
  }
  const catalogCsv = path.join(o.outDir, 'catalog.csv');
  const queriesCsv = path.join(o.outDir, 'queries.csv');
  await fs.writeFile(catalogCsv, catalogRows.join('\n') + '\n');
  await fs.writeFile(queriesCsv, queryRows.join('\n') + '\n');
  return { catalogCsv, queriesCsv };
}
