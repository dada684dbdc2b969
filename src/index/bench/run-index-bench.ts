import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { exactSearch, MetricKind } from 'usearch';
import { FileRescoreSource } from '../file-rescore-source.js';
import { FlatVectors } from '../flat-vectors.js';
import { HnswVectorIndex, type HnswSnapshot, type RescoreSource } from '../hnsw-vector-index.js';
import type { Quantization } from '../vector-index.js';
import { syntheticCatalog, type SyntheticCatalog } from './synthetic-vectors.js';
import { nearestRank as pct } from '../../bench/percentiles.js';

/** What `twinlens bench-index` runs. */
export interface IndexBenchOptions {
  count: number;
  dim: number;
  queries: number;
  /** f32, f16, i8, i8+rescore, b1. */
  quantizations: string[];
  efs: number[];
  connectivity: number;
  expansionAdd: number;
  /** Threads for building (search is always one thread per query, as in the service). */
  threads: number;
  k: number;
  /** Also build LanceDB's own indexes on the same vectors (slow: use at 100k). */
  lancedb: boolean;
  seed: number;
  workDir: string;
  log: (line: string) => void;
}

/** One measured setting. */
export interface SettingResult {
  setting: string;
  ef: number;
  recallAt10: number;
  p50Ms: number;
  p95Ms: number;
  buildS: number;
  graphBytesPerItem: number;
  rssBytesPerItem: number;
  note: string;
}

export interface IndexBenchReport {
  count: number;
  dim: number;
  queries: number;
  data: string;
  exact: { p50Ms: number; p95Ms: number };
  results: SettingResult[];
  lancedb?: SettingResult[];
}

function gc(): void {
  (globalThis as { gc?: () => void }).gc?.();
}

/** Recall@k of `got` against the exact top-k of each query. */
function recall(truth: number[][], got: number[][], k: number): number {
  let hit = 0;
  truth.forEach((t, i) => {
    const set = new Set(t.slice(0, k));
    for (const g of got[i].slice(0, k)) if (set.has(g)) hit++;
  });
  return hit / (truth.length * k);
}

/**
 * The index bench: clustered synthetic vectors (see syntheticCatalog), exact ground truth, then for
 * each quantisation an HNSW build (timed, memory measured as RSS growth and as graph file size)
 * and, per search beam width, recall@k against exact search and single-query latency of the index
 * step (search plus rescore), p50 and p95.
 */
export async function runIndexBench(o: IndexBenchOptions): Promise<IndexBenchReport> {
  const log = o.log;
  fs.mkdirSync(o.workDir, { recursive: true });
  let t = performance.now();
  const data: SyntheticCatalog = syntheticCatalog({ count: o.count, dim: o.dim, queries: o.queries, seed: o.seed });
  log(`data: ${o.count.toLocaleString('en')} x ${o.dim}-d, ${o.queries} queries (${((performance.now() - t) / 1000).toFixed(1)} s): ${data.description}`);
  const { dim, vectors, queries } = data;
  const qv = (i: number): Float32Array => queries.subarray(i * dim, (i + 1) * dim);

  t = performance.now();
  const truth: number[][] = [];
  const batch = 100;
  for (let q0 = 0; q0 < o.queries; q0 += batch) {
    const nq = Math.min(batch, o.queries - q0);
    const m = exactSearch(vectors, queries.slice(q0 * dim, (q0 + nq) * dim), dim, o.k, MetricKind.IP, o.threads) as unknown as {
      keys: BigUint64Array;
    };
    for (let i = 0; i < nq; i++) truth.push(Array.from(m.keys.subarray(i * o.k, (i + 1) * o.k), Number));
  }
  log(`exact ground truth: ${((performance.now() - t) / 1000).toFixed(1)} s`);

  // The exact index step as the service runs it (one thread, one query), on a sample of queries.
  const flat = new FlatVectors(dim, o.count);
  for (let i = 0; i < o.count; i++) flat.set(String(i), vectors.subarray(i * dim, (i + 1) * dim));
  const exactTimes: number[] = [];
  for (let i = 0; i < Math.min(o.queries, 100); i++) {
    const s = performance.now();
    flat.searchAll(qv(i), o.k);
    exactTimes.push(performance.now() - s);
  }
  const exact = { p50Ms: pct(exactTimes, 0.5), p95Ms: pct(exactTimes, 0.95) };
  log(`exact index step (usearch SIMD scan, 1 thread): p50 ${exact.p50Ms.toFixed(2)} ms, p95 ${exact.p95Ms.toFixed(2)} ms`);

  // Full-precision rows on disk for the compact setting's rescore.
  const rowsFile = path.join(o.workDir, 'vectors.f32');
  fs.writeFileSync(rowsFile, Buffer.from(vectors.buffer, vectors.byteOffset, vectors.byteLength));
  const fileSource = new FileRescoreSource(rowsFile, dim, (key) => Number(key));
  const ramSource: RescoreSource = flat;

  const results: SettingResult[] = [];
  // One graph per quantisation; its settings (with or without rescore) are searched on it.
  // A setting is quantisation[+rescore][@M]: `b1@12` is binary codes on a degree-12 graph.
  const groups = new Map<string, string[]>();
  for (const setting of o.quantizations) {
    const [q, m] = setting.replace('+rescore', '').split('@');
    const key = `${q}@${m ?? o.connectivity}`;
    groups.set(key, [...(groups.get(key) ?? []), setting.split('@')[0]]);
  }
  for (const [group, settings] of groups) {
    const quantization = group.split('@')[0] as Quantization;
    const connectivity = Number(group.split('@')[1]);
    const index = new HnswVectorIndex(dim, { quantization, connectivity, expansionAdd: o.expansionAdd, threads: o.threads }, 'none');
    t = performance.now();
    const chunk = 20_000;
    for (let i0 = 0; i0 < o.count; i0 += chunk) {
      const n = Math.min(chunk, o.count - i0);
      const keys = Array.from({ length: n }, (_, j) => String(i0 + j));
      const rows = keys.map((_, j) => vectors.subarray((i0 + j) * dim, (i0 + j + 1) * dim));
      index.upsertSync(keys, rows);
    }
    const buildS = (performance.now() - t) / 1000;
    const dir = fs.mkdtempSync(path.join(o.workDir, `hnsw-${quantization}-`));
    const snap = index.save(dir);
    const graphBytesPerItem = fs.statSync(HnswVectorIndex.graphFile(dir)).size / o.count;
    await index.close();
    // Resident cost: RSS growth of a fresh process when it loads the saved graph into memory
    // (graph and codes copied in, plus the JavaScript key maps); this process's RSS is too
    // disturbed by the build and the data to measure it.
    const { rssBytesPerItem, keyMapBytesPerItem } = measureLoaded(dir, snap, o.count);
    log(
      `${quantization}: built in ${buildS.toFixed(1)} s (M ${connectivity}, efConstruction ${o.expansionAdd}, ${o.threads} threads); ` +
        `graph file ${graphBytesPerItem.toFixed(0)} B/item; loaded: RSS +${rssBytesPerItem.toFixed(0)} B/item, of which JS key maps ~${keyMapBytesPerItem.toFixed(0)} B/item`,
    );
    for (const setting of settings) {
      // b1 always rescores, from the file (nothing full-precision resident); `+rescore` rescores
      // from full-precision vectors in RAM (the catalog holds them anyway); the others rank by
      // the graph's own distances, so their memory is the graph alone.
      const rescore = quantization === 'b1' ? fileSource : setting.endsWith('+rescore') ? ramSource : 'none';
      const rescoreFactor = quantization === 'b1' ? 8 : rescore !== 'none' ? 3 : 1;
      const name =
        (connectivity !== o.connectivity ? `M${connectivity} ` : '') +
        (quantization === 'b1'
          ? `b1 ${snap.options.binaryBits}-bit + rescore x${rescoreFactor} from file`
          : rescore !== 'none'
            ? `${quantization} + rescore x${rescoreFactor} from RAM f32`
            : quantization);
      for (const ef of o.efs) {
        const viewed = HnswVectorIndex.load(
          dir,
          snap,
          rescore,
          { expansionSearch: ef, rescoreFactor, minCandidates: quantization === 'b1' ? 100 : 30 },
          'view',
        );
        const got: number[][] = [];
        const times: number[] = [];
        for (let i = 0; i < o.queries; i++) {
          const s = performance.now();
          const hits = viewed.searchSync(qv(i), o.k);
          times.push(performance.now() - s);
          got.push(hits.map((h) => Number(h.key)));
        }
        const r: SettingResult = {
          setting: name,
          ef,
          recallAt10: recall(truth, got, o.k),
          p50Ms: pct(times, 0.5),
          p95Ms: pct(times, 0.95),
          buildS,
          graphBytesPerItem,
          rssBytesPerItem,
          note: `key maps ~${keyMapBytesPerItem.toFixed(0)} B/item`,
        };
        results.push(r);
        log(`  ${name}, ef ${String(ef).padStart(4)}: recall@${o.k} ${r.recallAt10.toFixed(4)}, p50 ${r.p50Ms.toFixed(3)} ms, p95 ${r.p95Ms.toFixed(3)} ms`);
        await viewed.close();
      }
    }
    fs.rmSync(dir, { recursive: true, force: true });
  }
  fileSource.close();

  let lancedbResults: SettingResult[] | undefined;
  if (o.lancedb) {
    const { benchLanceIndexes } = await import('./lancedb-bench.js');
    lancedbResults = await benchLanceIndexes(data, truth, o);
  }
  fs.rmSync(rowsFile, { force: true });
  return { count: o.count, dim, queries: o.queries, data: data.description, exact, results, lancedb: lancedbResults };
}

/**
 * Loads the saved graph in a fresh Node process (`load`: copied into memory, as the service
 * does) and reports its RSS growth and V8 heap growth (the key maps) per item.
 */
function measureLoaded(dir: string, snap: HnswSnapshot, count: number): { rssBytesPerItem: number; keyMapBytesPerItem: number } {
  const snapFile = path.join(dir, 'snapshot.json');
  fs.writeFileSync(snapFile, JSON.stringify(snap));
  // The native library and its thread pool are paged in first (a tiny index), so the figure is
  // the graph's own cost, not the fixed cost of loading usearch.
  const script = `
    const fs = require('fs');
    const { HnswVectorIndex } = require(${JSON.stringify(path.join(__dirname, '..', 'hnsw-vector-index.js'))});
    const snap = JSON.parse(fs.readFileSync(${JSON.stringify(snapFile)}, 'utf8'));
    const warm = new HnswVectorIndex(${JSON.stringify(snap.dim)}, snap.options, 'none');
    warm.upsertSync(['w'], [new Float32Array(${JSON.stringify(snap.dim)}).fill(0.1)]);
    warm.searchSync(new Float32Array(${JSON.stringify(snap.dim)}).fill(0.1), 1);
    global.gc(); const r0 = process.memoryUsage();
    const ix = HnswVectorIndex.load(${JSON.stringify(dir)}, snap, 'none');
    global.gc(); const r1 = process.memoryUsage();
    process.stdout.write(JSON.stringify({ rss: r1.rss - r0.rss, heap: r1.heapUsed - r0.heapUsed, size: ix.size }));`;
  const out = JSON.parse(execFileSync(process.execPath, ['--expose-gc', '-e', script], { maxBuffer: 1 << 20 }).toString());
  return { rssBytesPerItem: out.rss / count, keyMapBytesPerItem: out.heap / count };
}

/** The machine, for the report header. */
export function machineLine(): string {
  return `${os.cpus()[0]?.model ?? 'cpu'} x ${os.cpus().length}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, node ${process.version}`;
}
