import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { exactSearch, MetricKind } from 'usearch';
import { FileRescoreSource } from '../../src/store/vector-index/file-rescore-source.js';
import { FlatVectors } from '../../src/store/vector-index/flat-vectors.js';
import { HnswVectorIndex, type HnswSnapshotHeader, type RescoreSource } from '../../src/store/vector-index/hnsw-vector-index.js';
import type { Quantization } from '../../src/store/vector-index/vector-index.js';
import { syntheticCatalog, type SyntheticCatalog } from './synthetic-vectors.js';
import { nearestRank as pct } from '../../src/eval/percentiles.js';
import { DIST_DIR } from '../../src/config/index.js';

/** What `twinlens-dev bench-index` runs. */
export interface IndexBenchOptions {
  count: number;
  dim: number;
  queries: number;
  /** f32, f16, i8, i8+rescore, b1 (1,024-bit codes) or b1-BITS, each optionally @M. */
  quantizations: string[];
  efs: number[];
  connectivity: number;
  /** b1: candidates fetched per wanted hit for the rescore from the vector file (at least 100 in all); each is a setting. */
  b1RescoreFactors: number[];
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
  /** RSS growth of a fresh process that loads (copies) the saved graph and its keys. */
  rssBytesPerItem: number;
  /**
   * b1 only: RSS growth of a fresh process that memory-maps the graph (`view`), reads its keys and
   * answers every query of the bench with the rescore from the vector file: file-backed pages the
   * queries touched count, the page cache behind the rescore reads does not (see the note).
   */
  viewedRssBytesPerItem?: number;
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

  // Full-precision rows on disk for the compact setting's rescore (row r = label r = key String(r)),
  // and the queries for the fresh process that measures the compact setting's memory.
  const rowsFile = path.join(o.workDir, 'vectors.f32');
  fs.writeFileSync(rowsFile, Buffer.from(vectors.buffer, vectors.byteOffset, vectors.byteLength));
  const queriesFile = path.join(o.workDir, 'queries.f32');
  fs.writeFileSync(queriesFile, Buffer.from(queries.buffer, queries.byteOffset, queries.byteLength));
  const fileSource = new FileRescoreSource(rowsFile, dim, (key) => Number(key));
  const ramSource: RescoreSource = flat;

  const results: SettingResult[] = [];
  // One graph per quantisation; its settings (with or without rescore) are searched on it.
  // A setting is quantisation[+rescore][@M]: `b1@12` is binary codes on a degree-12 graph,
  // `b1-768@12` the same with 768-bit codes.
  const groups = new Map<string, string[]>();
  for (const setting of o.quantizations) {
    const [q, m] = setting.replace('+rescore', '').split('@');
    const key = `${q}@${m ?? o.connectivity}`;
    groups.set(key, [...(groups.get(key) ?? []), setting.split('@')[0]]);
  }
  for (const [group, settings] of groups) {
    const [q, m] = group.split('@');
    const quantization = (q.startsWith('b1') ? 'b1' : q) as Quantization;
    const binaryBits = q.startsWith('b1-') ? Number(q.slice(3)) : undefined;
    const connectivity = Number(m);
    const index = new HnswVectorIndex(dim, { quantization, connectivity, expansionAdd: o.expansionAdd, threads: o.threads, binaryBits }, 'none');
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
    const snap = index.saveWithKeys(dir);
    const graphBytesPerItem = fs.statSync(HnswVectorIndex.graphFile(dir)).size / o.count;
    await index.close();
    // Resident cost: RSS growth of a fresh process when it loads the saved graph into memory
    // (graph and codes copied in, plus the packed keys); this process's RSS is too disturbed by
    // the build and the data to measure it.
    const loaded = measureFresh(dir, snap, o.count, 'load');
    const rssBytesPerItem = loaded.rss;
    log(
      `${q}: built in ${buildS.toFixed(1)} s (M ${connectivity}, efConstruction ${o.expansionAdd}, ${o.threads} threads); ` +
        `graph file ${graphBytesPerItem.toFixed(0)} B/item; loaded: RSS +${rssBytesPerItem.toFixed(0)} B/item (${describe(loaded)})`,
    );
    // The compact setting as served: the graph memory-mapped read-only, the keys packed, the
    // vectors on disk, measured after it has answered the whole query workload.
    const viewed =
      quantization === 'b1'
        ? measureFresh(dir, snap, o.count, 'view', { queriesFile, rowsFile, ef: Math.max(...o.efs), rescoreFactor: Math.max(...o.b1RescoreFactors), k: o.k })
        : undefined;
    if (viewed) log(`${q}: viewed and ${o.queries} queries answered (ef ${Math.max(...o.efs)}, rescore x${Math.max(...o.b1RescoreFactors)}): RSS +${viewed.rss.toFixed(0)} B/item (${describe(viewed)})`);
    const runs = settings.flatMap((setting) => (quantization === 'b1' ? o.b1RescoreFactors : [setting.endsWith('+rescore') ? 3 : 1]).map((f) => [setting, f] as const));
    for (const [setting, rescoreFactor] of runs) {
      // b1 always rescores, from the file (nothing full-precision resident); `+rescore` rescores
      // from full-precision vectors in RAM (the catalog holds them anyway); the others rank by
      // the graph's own distances, so their memory is the graph alone.
      const rescore = quantization === 'b1' ? fileSource : setting.endsWith('+rescore') ? ramSource : 'none';
      const name =
        (connectivity !== o.connectivity ? `M${connectivity} ` : '') +
        (quantization === 'b1'
          ? `b1 ${snap.options.binaryBits}-bit + rescore x${rescoreFactor} from file`
          : rescore !== 'none'
            ? `${quantization} + rescore x${rescoreFactor} from RAM f32`
            : quantization);
      for (const ef of o.efs) {
        const searched = HnswVectorIndex.load(
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
          const hits = searched.searchSync(qv(i), o.k);
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
          viewedRssBytesPerItem: viewed?.rss,
          note: `load: ${describe(loaded)}` + (viewed ? `; view + queries: ${describe(viewed)}` : ''),
        };
        results.push(r);
        log(`  ${name}, ef ${String(ef).padStart(4)}: recall@${o.k} ${r.recallAt10.toFixed(4)}, p50 ${r.p50Ms.toFixed(3)} ms, p95 ${r.p95Ms.toFixed(3)} ms`);
        await searched.close();
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
  fs.rmSync(queriesFile, { force: true });
  return { count: o.count, dim, queries: o.queries, data: data.description, exact, results, lancedb: lancedbResults };
}

/** Per-item memory growth of a fresh process, split as /proc/self/status splits its RSS. */
interface FreshMemory {
  /** VmRSS growth, bytes per item. */
  rss: number;
  /** RssAnon: heap, native allocations, copies. */
  anon: number;
  /** RssFile: pages of memory-mapped files this process touched (the viewed graph). */
  file: number;
  /** V8 heapUsed growth (the JavaScript side). */
  heap: number;
  /** Page-cache bytes per item behind the rescore reads (4 KiB pages of the vector file read); not in RSS. */
  pageCache?: number;
}

function describe(m: FreshMemory): string {
  const b = (x: number): string => x.toFixed(0);
  return `anon ${b(m.anon)}, file-backed ${b(m.file)}, V8 heap ${b(m.heap)} B/item` + (m.pageCache === undefined ? '' : `; page cache read for the rescore ${b(m.pageCache)} B/item, not in RSS`);
}

/** The query workload a fresh `view` process answers before its memory is read. */
interface Workload {
  queriesFile: string;
  rowsFile: string;
  ef: number;
  rescoreFactor: number;
  k: number;
}

/**
 * Opens the saved graph and its keys in a fresh Node process and reports its memory growth per
 * item: `load` copies the graph into memory (as the service does); `view` memory-maps it and,
 * given a workload, answers every query with the rescore from the vector file (rows numbered by
 * label) before memory is read, so the graph pages the searches touched are counted.
 */
function measureFresh(dir: string, snap: HnswSnapshotHeader, count: number, mode: 'load' | 'view', workload?: Workload): FreshMemory {
  const snapFile = path.join(dir, 'snapshot.json');
  fs.writeFileSync(snapFile, JSON.stringify(snap));
  const module = (name: string): string => JSON.stringify(path.join(DIST_DIR, 'src', 'store', 'vector-index', name));
  // The native library, its thread pool and the search code are paged in and compiled first (a
  // tiny index, one search), so the figure is the graph's own cost, not the fixed cost of usearch.
  const script = `
    const fs = require('fs');
    const { HnswVectorIndex } = require(${module('hnsw-vector-index.js')});
    const { FileRescoreSource } = require(${module('file-rescore-source.js')});
    const snap = JSON.parse(fs.readFileSync(${JSON.stringify(snapFile)}, 'utf8'));
    const work = ${JSON.stringify(workload ?? null)};
    const dim = snap.dim;
    const queries = work ? new Float32Array(new Uint8Array(fs.readFileSync(work.queriesFile)).buffer) : new Float32Array(0);
    const pages = new Uint8Array(Math.ceil((${count} * dim * 4) / 4096));
    const status = () => {
      const s = fs.readFileSync('/proc/self/status', 'utf8');
      const kb = (k) => Number(s.match(new RegExp(k + ':[^0-9]*([0-9]+)'))[1]) * 1024;
      return { rss: kb('VmRSS'), anon: kb('RssAnon'), file: kb('RssFile'), heap: process.memoryUsage().heapUsed };
    };
    const warm = new HnswVectorIndex(dim, snap.options, 'none');
    warm.upsertSync(['w'], [new Float32Array(dim).fill(0.1)]);
    warm.searchSync(new Float32Array(dim).fill(0.1), 1);
    global.gc(); const r0 = status();
    let ix;
    let source;
    let rescore = 'none';
    if (work) {
      source = new FileRescoreSource(work.rowsFile, dim, (key) => ix.labelOf(key));
      rescore = { dot: (key, q) => { pages[Math.floor((ix.labelOf(key) * dim * 4) / 4096)] = 1; return source.dot(key, q); } };
    }
    const overrides = work ? { expansionSearch: work.ef, rescoreFactor: work.rescoreFactor, minCandidates: 100 } : {};
    ix = HnswVectorIndex.load(${JSON.stringify(dir)}, snap, rescore, overrides, ${JSON.stringify(mode)});
    if (work) for (let i = 0; i * dim < queries.length; i++) ix.searchSync(queries.subarray(i * dim, (i + 1) * dim), work.k);
    global.gc(); const r1 = status();
    let touched = 0;
    for (const p of pages) touched += p;
    const per = (k) => (r1[k] - r0[k]) / ${count};
    process.stdout.write(JSON.stringify({ rss: per('rss'), anon: per('anon'), file: per('file'), heap: per('heap'), pageCache: work ? (touched * 4096) / ${count} : undefined, size: ix.size }));`;
  const out = JSON.parse(execFileSync(process.execPath, ['--expose-gc', '-e', script], { maxBuffer: 1 << 20 }).toString());
  if (out.size !== count) throw new Error(`fresh process opened ${out.size} keys, expected ${count}`);
  return out as FreshMemory;
}

/** The machine, for the report header. */
export function machineLine(): string {
  return `${os.cpus()[0]?.model ?? 'cpu'} x ${os.cpus().length}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, node ${process.version}`;
}
