import { performance } from 'node:perf_hooks';
import { unaryCall } from '../../src/cli/client.js';
import type { SearchRequest, SearchResponse, TwinlensServiceClient } from '../../src/gen/twinlens/v1/twinlens.js';
import type { BenchImage } from './bench-images.js';
import { runClosedLoop } from './closed-loop.js';
import { summarize } from '../../src/eval/percentiles.js';

/** Options of `benchSearch`. */
export interface SearchBenchOptions {
  /** Query photos, used round-robin. */
  queries: readonly BenchImage[];
  /** Clients searching at once, each waiting for its answer before the next query. */
  concurrency: number;
  /** Timed searches. */
  total: number;
  /** Untimed searches first. */
  warmup: number;
  /** Hits asked for. */
  topK: number;
  /**
   * Concurrency 1 only: a reference call (one raw model run) timed in blocks alternating with
   * blocks of searches, so that the search/reference ratio compares figures taken in the same
   * seconds on a machine whose load drifts. Searches/s is then searches over their own time.
   */
  pairedBaseline?: () => Promise<unknown>;
  /** Calls per block when pairing. Default 10. */
  pairBlock?: number;
}

/** Medians of the stage timings the server reports in each SearchResponse, in ms. */
export interface ServerStageMedians {
  decodeMs: number;
  embedMs: number;
  shortlistMs: number;
  /** The pair head's rerank, the query cut-out, the text and the colour evidence (0 when off). */
  rerankMs: number;
  cutoutMs: number;
  textMs: number;
  colorMs: number;
  totalMs: number;
}

/** Search latency and throughput at one concurrency, as the gRPC client sees them. */
export interface SearchLevelResult {
  concurrency: number;
  /** Timed searches. */
  searches: number;
  p50Ms: number;
  p95Ms: number;
  meanMs: number;
  /** Completed searches per second over the timed window. */
  searchesPerSec: number;
  /** Where the server says the time went (p50 of each stage, queueing included in embed). */
  server: ServerStageMedians;
  /** Catalog items scored per search (the whole catalog: no filter). */
  candidatesScanned: number;
  /** With `pairedBaseline`: the reference calls' p50 and count. */
  paired?: { baselineP50Ms: number; baselineRuns: number };
}

/** Runs closed-loop Search calls against a running server and summarises their latency. */
export async function benchSearch(client: TwinlensServiceClient, options: SearchBenchOptions): Promise<SearchLevelResult> {
  const { queries, topK } = options;
  if (queries.length === 0) throw new Error('search bench: no query images');
  const search = client.search.bind(client);
  const query = (i: number): Promise<SearchResponse> =>
    unaryCall<SearchRequest, SearchResponse>(search, { image: queries[i % queries.length].bytes, topK, shortlistK: 0, filter: {} });

  let latenciesMs: number[];
  let results: SearchResponse[];
  let elapsedMs: number;
  let paired: SearchLevelResult['paired'];
  if (options.pairedBaseline) {
    if (options.concurrency !== 1) throw new Error('search bench: pairedBaseline needs concurrency 1');
    const block = options.pairBlock ?? 10;
    for (let i = 0; i < options.warmup; i++) await query(i);
    latenciesMs = [];
    results = [];
    const baseline: number[] = [];
    let i = options.warmup;
    while (latenciesMs.length < options.total) {
      for (let b = 0; b < block; b++) {
        const t0 = performance.now();
        await options.pairedBaseline();
        baseline.push(performance.now() - t0);
      }
      for (let b = 0; b < block && latenciesMs.length < options.total; b++) {
        const t0 = performance.now();
        results.push(await query(i++));
        latenciesMs.push(performance.now() - t0);
      }
    }
    elapsedMs = latenciesMs.reduce((s, v) => s + v, 0);
    paired = { baselineP50Ms: summarize(baseline).p50, baselineRuns: baseline.length };
  } else {
    ({ latenciesMs, results, elapsedMs } = await runClosedLoop(query, {
      concurrency: options.concurrency,
      total: options.total,
      warmup: options.warmup,
    }));
  }

  for (const r of results) {
    if (r.hits.length === 0) throw new Error('search bench: a search returned no hits (is the catalog empty?)');
  }
  const s = summarize(latenciesMs);
  const stage = (pick: (r: SearchResponse) => number | undefined): number => summarize(results.map((r) => pick(r) ?? 0)).p50;
  return {
    concurrency: options.concurrency,
    searches: latenciesMs.length,
    p50Ms: s.p50,
    p95Ms: s.p95,
    meanMs: s.mean,
    searchesPerSec: (latenciesMs.length * 1000) / elapsedMs,
    server: {
      decodeMs: stage((r) => r.timings?.decodeMs),
      embedMs: stage((r) => r.timings?.embedMs),
      shortlistMs: stage((r) => r.timings?.shortlistMs),
      rerankMs: stage((r) => r.timings?.rerankMs),
      cutoutMs: stage((r) => r.timings?.cutoutMs),
      textMs: stage((r) => r.timings?.textMs),
      colorMs: stage((r) => r.timings?.colorMs),
      totalMs: stage((r) => r.timings?.totalMs),
    },
    candidatesScanned: Math.max(...results.map((r) => r.candidatesScanned)),
    ...(paired ? { paired } : {}),
  };
}
