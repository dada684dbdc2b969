import * as fs from 'node:fs';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import * as lancedb from '@lancedb/lancedb';
import { Field, FixedSizeList, Float32, Int32, Schema } from 'apache-arrow';
import type { IndexBenchOptions, SettingResult } from './run-index-bench.js';
import type { SyntheticCatalog } from './synthetic-vectors.js';
import { nearestRank as pct } from '../../src/eval/percentiles.js';

function dirBytes(dir: string): number {
  let total = 0;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    total += e.isDirectory() ? dirBytes(p) : fs.statSync(p).size;
  }
  return total;
}

/**
 * LanceDB 0.31's own vector indexes on the same vectors: IVF-PQ (with and without refine) and
 * IVF-HNSW-SQ, recall@k against the same exact truth and single-query latency (one query at a
 * time through the Node binding, as the service would call it). Cosine distance: the vectors are
 * unit length, so it ranks as the inner product does; LanceDB 0.31's HNSW-SQ with `dot` returned
 * near-random neighbours here (recall@10 0.005 at 100k, 0.06 at 20k, against 0.986 with cosine).
 */
export async function benchLanceIndexes(
  data: SyntheticCatalog,
  truth: number[][],
  o: Pick<IndexBenchOptions, 'k' | 'workDir' | 'log' | 'queries'>,
): Promise<SettingResult[]> {
  const { dim, count, vectors, queries } = data;
  const dir = fs.mkdtempSync(path.join(o.workDir, 'lance-'));
  const db = await lancedb.connect(dir);
  const schema = new Schema([
    new Field('id', new Int32(), false),
    new Field('vector', new FixedSizeList(dim, new Field('item', new Float32(), true)), false),
  ]);
  const table = await db.createEmptyTable('v', schema);
  let t = performance.now();
  const chunk = 20_000;
  for (let i0 = 0; i0 < count; i0 += chunk) {
    const rows = [];
    for (let i = i0; i < Math.min(count, i0 + chunk); i++) rows.push({ id: i, vector: Array.from(vectors.subarray(i * dim, (i + 1) * dim)) });
    await table.add(rows);
  }
  o.log(`lancedb: table of ${count.toLocaleString('en')} rows written in ${((performance.now() - t) / 1000).toFixed(1)} s`);
  const rawBytes = dirBytes(dir);
  const out: SettingResult[] = [];
  const configs: { name: string; index: lancedb.Index; probes: { label: string; apply: (q: lancedb.VectorQuery) => lancedb.VectorQuery }[] }[] = [
    {
      name: `IVF-PQ (${Math.round(Math.sqrt(count))} partitions, ${dim / 8} sub-vectors x 8 bits)`,
      index: lancedb.Index.ivfPq({ numPartitions: Math.round(Math.sqrt(count)), numSubVectors: dim / 8, distanceType: 'cosine' }),
      probes: [
        { label: 'nprobes 20', apply: (q) => q.nprobes(20) },
        { label: 'nprobes 20, refine x10', apply: (q) => q.nprobes(20).refineFactor(10) },
        { label: 'nprobes 50, refine x10', apply: (q) => q.nprobes(50).refineFactor(10) },
      ],
    },
    {
      name: `IVF-HNSW-SQ (${Math.max(1, Math.round(count / 100_000))} partitions, M 16, efC 128)`,
      index: lancedb.Index.hnswSq({ numPartitions: Math.max(1, Math.round(count / 100_000)), m: 16, efConstruction: 128, distanceType: 'cosine' }),
      probes: [
        { label: 'ef 64', apply: (q) => q.ef(64) },
        { label: 'ef 128', apply: (q) => q.ef(128) },
      ],
    },
  ];
  for (const c of configs) {
    t = performance.now();
    await table.createIndex('vector', { config: c.index, replace: true });
    const buildS = (performance.now() - t) / 1000;
    const indexBytesPerItem = (dirBytes(dir) - rawBytes) / count;
    o.log(`lancedb ${c.name}: built in ${buildS.toFixed(1)} s, index files ~${indexBytesPerItem.toFixed(0)} B/item`);
    for (const p of c.probes) {
      const times: number[] = [];
      let hit = 0;
      const nq = Math.min(o.queries, 300);
      for (let i = 0; i < nq; i++) {
        const q = Array.from(queries.subarray(i * dim, (i + 1) * dim));
        const s = performance.now();
        const rows = await p.apply(table.vectorSearch(q).distanceType('cosine').limit(o.k).select(['id', '_distance'])).toArray();
        times.push(performance.now() - s);
        const set = new Set(truth[i]);
        for (const r of rows) if (set.has(Number(r.id))) hit++;
      }
      const r: SettingResult = {
        setting: `lancedb ${c.name}, ${p.label}`,
        ef: 0,
        recallAt10: hit / (nq * o.k),
        p50Ms: pct(times, 0.5),
        p95Ms: pct(times, 0.95),
        buildS,
        graphBytesPerItem: indexBytesPerItem,
        rssBytesPerItem: NaN,
        note: `${nq} queries`,
      };
      out.push(r);
      o.log(`  ${p.label}: recall@${o.k} ${r.recallAt10.toFixed(4)}, p50 ${r.p50Ms.toFixed(2)} ms, p95 ${r.p95Ms.toFixed(2)} ms`);
    }
  }
  table.close();
  db.close();
  fs.rmSync(dir, { recursive: true, force: true });
  return out;
}
