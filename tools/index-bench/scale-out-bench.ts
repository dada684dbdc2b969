import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { exactSearch, MetricKind } from 'usearch';
import { makeBenchImages } from '../bench/bench-images.js';
import { startBenchServer, type BenchServer } from '../bench/bench-server.js';
import { benchSearch, type SearchLevelResult } from '../bench/search-latency.js';
import { Catalog, hnswIndexSql, PgCatalogStore } from '../../src/store/index.js';
import { nearestRank as pct } from '../../src/eval/percentiles.js';
import { startPostgres } from '../postgres/throwaway-cluster.js';
import { syntheticCatalog } from './synthetic-vectors.js';
import { embeddingOnlyManifest } from './embedding-only-manifest.js';

/** What `twinlens-dev bench-scale-out` runs. */
export interface ScaleOutOptions {
  /** Catalog size (100,000 by default; 1,000,000 with --count). */
  count: number;
  /** Queries whose recall@10 is measured against exact search (index step, synthetic vectors). */
  queries: number;
  /** Timed Search calls through the service per setting. */
  searches: number;
  /** pgvector hnsw.ef_search. */
  efSearch: number;
  /** Model manifest (256-d; run embedding-only, as bench-search-scale does). */
  model: string;
  /** Also build a full-precision (vector) HNSW index instead of the store's halfvec one and measure it. */
  vectorIndex: boolean;
  log: (line: string) => void;
}

/** Recall and latency of one index step (no model, no gRPC). */
export interface IndexStepResult {
  recallAt10: number;
  /** Recall@10 with a filter that 2% of the items match. */
  filteredRecallAt10: number;
  p50Ms: number;
  p95Ms: number;
}

export interface ScaleOutReport {
  count: number;
  dim: number;
  data: string;
  fillS: { embedded: number; postgres: number; postgresIndex: number };
  index: { embedded: IndexStepResult & { kind: string }; postgres: IndexStepResult & { kind: string }; vector?: IndexStepResult & { indexMiB: number } };
  postgresIndexMiB: number;
  service: {
    embedded: { one: SearchLevelResult; busy: SearchLevelResult };
    postgres1: { one: SearchLevelResult; busy: SearchLevelResult };
    /** Two replicas (one model thread each), each driven by its own client at concurrency 2; throughput is their sum. */
    postgres2: { replicas: SearchLevelResult[]; searchesPerSec: number };
  };
}

const FILTER_VALUE = '7';
const CLUSTERS = 50;

function recall(truth: number[][], got: number[][], k: number): number {
  let hit = 0;
  truth.forEach((t, i) => {
    const set = new Set(t.slice(0, k));
    for (const g of got[i].slice(0, k)) if (set.has(g)) hit++;
  });
  return hit / truth.reduce((s, t) => s + Math.min(k, t.length), 0);
}

const idOf = (j: number): string => `s-${String(j).padStart(8, '0')}`;
const indexOf = (id: string): number => Number(id.slice(2));

/**
 * pgvector beside the embedded store on one catalog of clustered synthetic vectors: recall@10
 * against exact search and the index step's latency of each (unfiltered, and with a 2% filter), then
 * Search p50/p95 through the real service (real JPEG photos, real model) on the embedded store, on
 * one store=postgres replica and on two replicas over the same database. Everything runs here: a
 * throwaway PostgreSQL cluster and in-process servers, which share this machine's cores.
 */
export async function runScaleOutBench(o: ScaleOutOptions): Promise<ScaleOutReport> {
  const log = o.log;
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'twinlens-scale-out-'));
  const cluster = await startPostgres({
    settings: { shared_buffers: '1GB', maintenance_work_mem: '2GB', max_parallel_maintenance_workers: '2', synchronous_commit: 'off' },
  });
  try {
    const loaded = await embeddingOnlyManifest(o.model, work);
    const manifestPath = loaded.manifestPath;
    const dim = loaded.embeddingDim;

    let t = performance.now();
    const data = syntheticCatalog({ count: o.count, dim, queries: o.queries, seed: 2 });
    const { vectors, queries } = data;
    const row = (j: number): Float32Array => vectors.subarray(j * dim, (j + 1) * dim);
    const qv = (i: number): Float32Array => queries.subarray(i * dim, (i + 1) * dim);
    log(`data: ${o.count.toLocaleString('en')} x ${dim}-d, ${o.queries} queries (${((performance.now() - t) / 1000).toFixed(1)} s): ${data.description}`);

    // Exact top-10 of every query, unfiltered and among the 2% of items whose c is FILTER_VALUE.
    t = performance.now();
    const truth: number[][] = [];
    for (let q0 = 0; q0 < o.queries; q0 += 100) {
      const nq = Math.min(100, o.queries - q0);
      const m = exactSearch(vectors, queries.slice(q0 * dim, (q0 + nq) * dim), dim, 10, MetricKind.IP, 0) as unknown as { keys: BigUint64Array };
      for (let i = 0; i < nq; i++) truth.push(Array.from(m.keys.subarray(i * 10, (i + 1) * 10), Number));
    }
    const subset = Array.from({ length: o.count }, (_, j) => j).filter((j) => j % CLUSTERS === Number(FILTER_VALUE));
    const subVectors = new Float32Array(subset.length * dim);
    subset.forEach((j, r) => subVectors.set(row(j), r * dim));
    const filteredTruth: number[][] = [];
    for (let q0 = 0; q0 < o.queries; q0 += 100) {
      const nq = Math.min(100, o.queries - q0);
      const m = exactSearch(subVectors, queries.slice(q0 * dim, (q0 + nq) * dim), dim, 10, MetricKind.IP, 0) as unknown as { keys: BigUint64Array };
      for (let i = 0; i < nq; i++) filteredTruth.push(Array.from(m.keys.subarray(i * 10, (i + 1) * 10), (k) => subset[Number(k)]));
    }
    log(`exact ground truth: ${((performance.now() - t) / 1000).toFixed(1)} s`);

    const image = Buffer.from('twinlens scale-out bench: vectors are synthetic');
    const itemsOf = (from: number, to: number) =>
      Array.from({ length: to - from }, (_, r) => ({ itemId: idOf(from + r), metadata: { c: String((from + r) % CLUSTERS) }, image, embedding: row(from + r) }));

    // The embedded store: LanceDB table, then a server that opens it and builds its HNSW graph.
    t = performance.now();
    const dataDir = path.join(work, 'embedded');
    {
      const { catalog } = await Catalog.open(dataDir, dim, loaded.version, 0, { kind: 'exact' });
      await catalog.upsert(itemsOf(0, 1));
      for (let i = 1; i < o.count; i += 25_000) await catalog.upsert(itemsOf(i, Math.min(o.count, i + 25_000)));
      catalog.close();
    }
    const embeddedFillS = (performance.now() - t) / 1000;
    log(`embedded: filled in ${embeddedFillS.toFixed(1)} s`);

    // PostgreSQL: the store's schema, its HNSW index dropped for the bulk load and built once after.
    const url = await cluster.createDatabase('scaleout');
    t = performance.now();
    let pgFill = 0;
    let pgIndexS = 0;
    {
      const store = await PgCatalogStore.open({ url }, dim, loaded.version, 0);
      const c = new pg.Client({ connectionString: url });
      await c.connect();
      await c.query('drop index twinlens_rows_hnsw');
      for (let i = 0; i < o.count; i += 2000) await store.upsert(itemsOf(i, Math.min(o.count, i + 2000)));
      await store.close();
      pgFill = (performance.now() - t) / 1000;
      log(`postgres: filled in ${pgFill.toFixed(1)} s`);
      t = performance.now();
      await c.query(hnswIndexSql(dim));
      // What an operator runs after a bulk load: otherwise autovacuum and the checkpointer would
      // take the cores while the searches below are timed.
      await c.query('vacuum analyze twinlens_rows');
      await c.query('checkpoint');
      await c.end();
      pgIndexS = (performance.now() - t) / 1000;
      log(`postgres: HNSW index built in ${pgIndexS.toFixed(1)} s`);
    }
    const sizeOf = async (relation: string): Promise<number> => {
      const c = new pg.Client({ connectionString: url });
      await c.connect();
      try {
        return Number((await c.query(`select pg_relation_size($1) as n`, [relation])).rows[0].n) / 2 ** 20;
      } finally {
        await c.end();
      }
    };
    const postgresIndexMiB = await sizeOf('twinlens_rows_hnsw');

    /** Recall and per-query latency of `search` over the queries (one at a time). */
    const measure = async (search: (q: Float32Array, filter?: Record<string, string>) => Promise<string[]>): Promise<IndexStepResult> => {
      for (let i = 0; i < Math.min(20, o.queries); i++) await search(qv(i));
      const got: number[][] = [];
      const times: number[] = [];
      for (let i = 0; i < o.queries; i++) {
        const s = performance.now();
        const ids = await search(qv(i));
        times.push(performance.now() - s);
        got.push(ids.map(indexOf));
      }
      const gotFiltered: number[][] = [];
      for (let i = 0; i < o.queries; i++) gotFiltered.push((await search(qv(i), { c: FILTER_VALUE })).map(indexOf));
      return { recallAt10: recall(truth, got, 10), filteredRecallAt10: recall(filteredTruth, gotFiltered, 10), p50Ms: pct(times, 0.5), p95Ms: pct(times, 0.95) };
    };

    const images = await makeBenchImages({ watches: 20, ingestImages: 0, queryImages: 40, seed: 1, photos: 'resized' });
    const serviceRun = async (s: BenchServer): Promise<{ one: SearchLevelResult; busy: SearchLevelResult }> => {
      const one = await benchSearch(s.clients.twinlens, { queries: images.queries, concurrency: 1, total: o.searches, warmup: 20, topK: 10 });
      const busy = await benchSearch(s.clients.twinlens, { queries: images.queries, concurrency: 4, total: o.searches, warmup: 8, topK: 10 });
      return { one, busy };
    };
    const base = { modelManifest: manifestPath, executionProviders: ['cpu' as const], intraOpThreads: 0, extra: { catalogViews: 0 }, log };
    const line = (what: string, r: { one: SearchLevelResult; busy: SearchLevelResult }): void =>
      log(
        `${what}: Search p50 ${r.one.p50Ms.toFixed(1)} ms, p95 ${r.one.p95Ms.toFixed(1)} ms (index step p50 ${r.one.server.shortlistMs.toFixed(2)} ms); ` +
          `4 clients: ${r.busy.searchesPerSec.toFixed(1)} searches/s`,
      );

    // Embedded through the service (the same server's catalog gives the index-step figures).
    t = performance.now();
    const embeddedServer = await startBenchServer({ ...base, dataDir }, { store: 'embedded' });
    let embeddedIndex: IndexStepResult & { kind: string };
    let embeddedService: { one: SearchLevelResult; busy: SearchLevelResult };
    try {
      const catalog = embeddedServer.server.engine.catalog;
      await catalog.graphReady();
      log(`embedded: server open, ${catalog.indexKind} ready in ${((performance.now() - t) / 1000).toFixed(1)} s`);
      embeddedIndex = { ...(await measure(async (q, f) => catalog.search(q, 10, f).hits.map((h) => h.itemId))), kind: catalog.indexKind };
      log(`embedded index step: recall@10 ${embeddedIndex.recallAt10.toFixed(4)} (2% filter ${embeddedIndex.filteredRecallAt10.toFixed(4)}), p50 ${embeddedIndex.p50Ms.toFixed(2)} ms, p95 ${embeddedIndex.p95Ms.toFixed(2)} ms`);
      embeddedService = await serviceRun(embeddedServer);
      line('embedded service', embeddedService);
    } finally {
      await embeddedServer.stop();
    }

    const pgOptions = { store: 'postgres' as const, postgresUrl: url, postgresEfSearch: o.efSearch };
    let replicaA = await startBenchServer({ ...base, dataDir: path.join(work, 'replica-a') }, pgOptions);
    let pgIndex: IndexStepResult & { kind: string };
    let postgres1: { one: SearchLevelResult; busy: SearchLevelResult };
    let postgres2: { replicas: SearchLevelResult[]; searchesPerSec: number };
    try {
      const store = replicaA.server.engine.store;
      pgIndex = { ...(await measure(async (q, f) => (await store.search(q, 10, f)).hits.map((h) => h.itemId))), kind: `pgvector hnsw halfvec+rescore M16 efc64 ef${o.efSearch}` };
      log(`postgres index step (SQL round trip): recall@10 ${pgIndex.recallAt10.toFixed(4)} (2% filter ${pgIndex.filteredRecallAt10.toFixed(4)}), p50 ${pgIndex.p50Ms.toFixed(2)} ms, p95 ${pgIndex.p95Ms.toFixed(2)} ms; index ${postgresIndexMiB.toFixed(0)} MiB`);
      postgres1 = await serviceRun(replicaA);
      line('postgres service, 1 replica', postgres1);
      // Two replicas on this machine: each gets half the cores (one model thread, one decoder
      // process), as replicas sharing a host would be configured; the first is restarted so.
      await replicaA.stop();
      const half = { ...pgOptions, intraOpThreads: 1, decodeProcesses: 1 };
      replicaA = await startBenchServer({ ...base, dataDir: path.join(work, 'replica-a') }, half);
      const replicaB = await startBenchServer({ ...base, dataDir: path.join(work, 'replica-b') }, half);
      try {
        const s = performance.now();
        const replicas = await Promise.all(
          [replicaA, replicaB].map((r) => benchSearch(r.clients.twinlens, { queries: images.queries, concurrency: 2, total: o.searches, warmup: 8, topK: 10 })),
        );
        const searchesPerSec = (2 * o.searches) / ((performance.now() - s) / 1000);
        postgres2 = { replicas, searchesPerSec };
        log(
          `postgres service, 2 replicas (2 clients each): ${searchesPerSec.toFixed(1)} searches/s; p50 ${replicas.map((r) => r.p50Ms.toFixed(1)).join(' / ')} ms, ` +
            `p95 ${replicas.map((r) => r.p95Ms.toFixed(1)).join(' / ')} ms`,
        );
      } finally {
        await replicaB.stop();
      }
    } finally {
      await replicaA.stop();
    }

    let vector: (IndexStepResult & { indexMiB: number }) | undefined;
    if (o.vectorIndex) {
      const c = new pg.Client({ connectionString: url, options: `-c hnsw.ef_search=${o.efSearch} -c hnsw.iterative_scan=relaxed_order` });
      await c.connect();
      try {
        t = performance.now();
        await c.query('drop index twinlens_rows_hnsw');
        await c.query('create index twinlens_rows_hnsw_f32 on twinlens_rows using hnsw (embedding vector_cosine_ops) with (m = 16, ef_construction = 64)');
        await c.query('checkpoint');
        log(`full-precision vector: HNSW index built in ${((performance.now() - t) / 1000).toFixed(1)} s`);
        const step = await measure(async (q, f) => {
          const params: unknown[] = [`[${Array.from(q).join(',')}]`];
          if (f) params.push(JSON.stringify(f));
          const res = await c.query<{ item_id: string }>(
            `select item_id from twinlens_rows ${f ? 'where metadata @> $2::jsonb' : ''} order by embedding <=> $1::vector limit 10`,
            params,
          );
          return res.rows.map((r) => r.item_id);
        });
        vector = { ...step, indexMiB: await sizeOf('twinlens_rows_hnsw_f32') };
        log(`full-precision vector index step: recall@10 ${vector.recallAt10.toFixed(4)} (2% filter ${vector.filteredRecallAt10.toFixed(4)}), p50 ${vector.p50Ms.toFixed(2)} ms, p95 ${vector.p95Ms.toFixed(2)} ms; index ${vector.indexMiB.toFixed(0)} MiB`);
      } finally {
        await c.end();
      }
    }

    return {
      count: o.count,
      dim,
      data: data.description,
      fillS: { embedded: embeddedFillS, postgres: pgFill, postgresIndex: pgIndexS },
      index: { embedded: embeddedIndex, postgres: pgIndex, vector },
      postgresIndexMiB,
      service: { embedded: embeddedService, postgres1, postgres2 },
    };
  } finally {
    await cluster.destroy();
    fs.rmSync(work, { recursive: true, force: true });
  }
}
