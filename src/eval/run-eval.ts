import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { createEngine } from '../api/create-engine.js';
import { silentLogger } from '../api/logger.js';
import { type TwinlensOptions, validateOptions } from '../config/index.js';
import type { TwinlensEngine } from '../search/index.js';
import { readCatalogCsv, readQueriesCsv, type BenchmarkItem } from './benchmark-csv.js';
import { type EvalReport, type QueryOutcome, reportOf } from './metrics.js';

export interface RunEvalOptions {
  catalogCsv: string;
  queriesCsv: string;
  /** Service options (model manifest, providers, ...); dataDir is replaced by a temporary folder. */
  service?: Partial<TwinlensOptions>;
  /** Deepest rank looked at for MRR; a correct item below it counts as not found. Default 100. */
  maxRank?: number;
  onProgress?: (stage: 'index' | 'query', done: number, total: number) => void;
}

/** Embeds the benchmark catalog into the engine's catalog, 16 images per model run. */
export async function indexBenchmarkCatalog(
  engine: TwinlensEngine,
  items: BenchmarkItem[],
  onProgress?: (done: number, total: number) => void,
): Promise<void> {
  await engine.ingest(
    items.map((it) => ({ itemId: it.itemId, metadata: it.metadata, loadImage: () => fs.readFile(it.imagePath) })),
    onProgress,
  );
}

/**
 * Runs a benchmark in the shared csv format through the real engine (sharp decoding, the ONNX
 * model, the catalog and its search), in-process, with a throw-away data directory.
 */
export async function runEval(options: RunEvalOptions): Promise<EvalReport> {
  const items = await readCatalogCsv(options.catalogCsv);
  const queries = await readQueriesCsv(options.queriesCsv);
  const known = new Set(items.map((i) => i.itemId));
  const orphan = queries.find((q) => !known.has(q.itemId));
  if (orphan) throw new Error(`${options.queriesCsv}: item_id '${orphan.itemId}' is not in ${options.catalogCsv}`);
  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'twinlens-eval-'));
  const engine = await createEngine(
    validateOptions({ ...options.service, dataDir, seedDemoCatalog: false, maxBatchSize: 1 }),
    silentLogger,
  );
  try {
    await indexBenchmarkCatalog(engine, items, (d, t) => options.onProgress?.('index', d, t));
    const maxRank = Math.min(options.maxRank ?? 100, items.length);
    const outcomes: QueryOutcome[] = [];
    for (const [i, q] of queries.entries()) {
      const r = await engine.search(await fs.readFile(q.imagePath), { topK: maxRank, shortlistK: maxRank });
      const at = r.hits.findIndex((h) => h.itemId === q.itemId);
      outcomes.push({ category: q.topCategory, rank: at < 0 ? null : at + 1 });
      options.onProgress?.('query', i + 1, queries.length);
    }
    return reportOf(outcomes, 'embedding');
  } finally {
    engine.catalog.close();
    await engine.embedder.close();
    await fs.rm(dataDir, { recursive: true, force: true });
  }
}
