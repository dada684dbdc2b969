/**
 * Catalog refinement speed and lone-query latency with ONNX Runtime's idle threads spinning and
 * sleeping (the `ortSpinWait` option), in alternating rounds so that drift on a shared machine hits
 * both settings alike. Refinement: the first `items` rows of a catalog csv stored, then refined with
 * the service's catalog views, in a fresh engine per round. Latency: `embedQuery` on photos of the
 * queries csv, one at a time and 8 at a time.
 */
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { createEngine } from '../../src/engine/create-engine.js';
import { validateOptions } from '../../src/config/index.js';
import { silentLogger } from '../../src/observability/logger.js';
import { type BenchmarkItem, readCatalogCsv, readQueriesCsv } from '../../src/eval/benchmark-csv.js';
import { indexBenchmarkCatalog } from '../../src/eval/run-eval.js';
import { nearestRank } from '../../src/eval/percentiles.js';
import { runClosedLoop } from './closed-loop.js';

export interface RefineSpeedOptions {
  catalogCsv: string;
  queriesCsv: string;
  items: number;
  rounds: number;
  /** embedQuery calls per latency figure. */
  calls: number;
}

export interface RefineSpeedRow {
  spinWait: boolean;
  round: number;
  indexSeconds: number;
  refineSeconds: number;
  /** Rows the refiner re-stored with their views (all of them, unless something failed). */
  refinedRows: number;
  embedP50Ms: { c1: number; c8: number };
  embedPerSecond: { c1: number; c8: number };
}

/** What every round uses, read once. */
interface RoundInputs {
  items: BenchmarkItem[];
  photos: Buffer[];
}

async function oneRound(o: RefineSpeedOptions, inputs: RoundInputs, spinWait: boolean, round: number): Promise<RefineSpeedRow> {
  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'twinlens-refine-speed-'));
  const created = await createEngine(validateOptions({ dataDir, seedDemoCatalog: false, confirmRetentionMs: 0, ortSpinWait: spinWait }), silentLogger);
  try {
    const { indexSeconds, refineSeconds } = await indexBenchmarkCatalog(created.engine, inputs.items);
    const refinedRows = created.engine.refiner?.progress.refined ?? 0;
    const latency = async (concurrency: number): Promise<{ p50: number; perSecond: number }> => {
      const embed = (i: number) => created.engine.embedQuery(inputs.photos[i % inputs.photos.length]!);
      // Untimed warm-up calls before each figure (one per caller at 8), then the timed ones.
      const r = await runClosedLoop(embed, { concurrency, total: o.calls, warmup: 8 });
      return { p50: nearestRank([...r.latenciesMs].sort((a, b) => a - b), 0.5), perSecond: (o.calls / r.elapsedMs) * 1000 };
    };
    const c1 = await latency(1);
    const c8 = await latency(8);
    return { spinWait, round, indexSeconds, refineSeconds, refinedRows, embedP50Ms: { c1: c1.p50, c8: c8.p50 }, embedPerSecond: { c1: c1.perSecond, c8: c8.perSecond } };
  } finally {
    await created.stopBackgroundReembed();
    await created.engine.close();
    await fs.rm(dataDir, { recursive: true, force: true });
  }
}

/** Runs `rounds` x (sleeping, spinning), in alternating order, and returns one row per run. */
export async function measureRefineSpeed(o: RefineSpeedOptions, onRow?: (row: RefineSpeedRow) => void): Promise<RefineSpeedRow[]> {
  const inputs: RoundInputs = {
    items: (await readCatalogCsv(o.catalogCsv)).slice(0, o.items),
    photos: await Promise.all((await readQueriesCsv(o.queriesCsv)).slice(0, 40).map((q) => fs.readFile(q.imagePath))),
  };
  const rows: RefineSpeedRow[] = [];
  for (let r = 0; r < o.rounds; r++) {
    for (const spinWait of r % 2 === 0 ? [false, true] : [true, false]) {
      const row = await oneRound(o, inputs, spinWait, r);
      onRow?.(row);
      rows.push(row);
    }
  }
  return rows;
}
