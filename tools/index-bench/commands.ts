import * as os from 'node:os';
import * as path from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { positiveInt as int, positiveInts as ints } from '../../src/cli/arg-parsers.js';


function quantizations(value: string): string[] {
  const list = value.split(',').map((v) => v.trim()).filter(Boolean);
  for (const q of list) {
    if (!/^(f32|f16|i8|i8\+rescore|b1(-\d+)?)(@\d+)?$/.test(q)) throw new InvalidArgumentError(`unknown setting '${q}' (f32, f16, i8, i8+rescore, b1 or b1-BITS, optionally @M)`);
  }
  return list;
}

const log = (line: string): void => void process.stderr.write(`${line}\n`);

/** `twinlens-dev bench-index` (make bench-index) and `twinlens-dev crash-test` (make crash-test). */
export function indexCommands(): Command[] {
  const bench = new Command('bench-index')
    .description('ANN index bench on clustered synthetic vectors: recall@10 vs exact, latency, build time, memory per item')
    .option('--count <n>', 'catalog vectors', int, 1_000_000)
    .option('--dim <n>', 'dimensions', int, 256)
    .option('--queries <n>', 'queries', int, 1000)
    .option('--quantizations <list>', 'settings: f32, f16, i8, i8+rescore, b1 (1,024-bit codes) or b1-BITS (e.g. b1-768), each optionally @M (graph degree)', quantizations, ['f32', 'f16', 'i8', 'i8+rescore', 'b1', 'b1@12', 'b1-768@12'])
    .option('--ef <list>', 'search beam widths', ints, [32, 64, 128])
    .option('--m <n>', 'HNSW connectivity', int, 16)
    .option('--b1-rescore <list>', 'b1: candidates fetched per wanted hit for the rescore from the vector file (at least 100 in all), one setting each', ints, [8, 16])
    .option('--ef-construction <n>', 'HNSW build beam width', int, 128)
    .option('--threads <n>', 'build threads', int, os.cpus().length)
    .option('--lancedb', "also LanceDB's own IVF-PQ and IVF-HNSW-SQ on the same vectors")
    .option('--seed <n>', 'data seed', int, 1)
    .option('--json', 'print one JSON object')
    .action(async (o) => {
      const { runIndexBench, machineLine } = await import('./run-index-bench.js');
      log(`bench-index on ${machineLine()}`);
      const report = await runIndexBench({
        count: o.count,
        dim: o.dim,
        queries: o.queries,
        quantizations: o.quantizations,
        efs: o.ef,
        connectivity: o.m,
        b1RescoreFactors: o.b1Rescore,
        expansionAdd: o.efConstruction,
        threads: o.threads,
        k: 10,
        lancedb: Boolean(o.lancedb),
        seed: o.seed,
        workDir: path.join(os.tmpdir(), `twinlens-bench-index-${process.pid}`),
        log,
      });
      if (o.json) console.log(JSON.stringify(report));
      else {
        const rows = [...report.results, ...(report.lancedb ?? [])];
        console.log(`${report.count.toLocaleString('en')} x ${report.dim}-d, ${report.queries} queries; exact index step p50 ${report.exact.p50Ms.toFixed(2)} ms`);
        console.log('setting | ef | recall@10 | p50 ms | p95 ms | build s | graph B/item | RSS B/item after load | RSS B/item, view + queries | note');
        for (const r of rows) {
          console.log(
            `${r.setting} | ${r.ef || '-'} | ${r.recallAt10.toFixed(4)} | ${r.p50Ms.toFixed(3)} | ${r.p95Ms.toFixed(3)} | ${r.buildS.toFixed(1)} | ${r.graphBytesPerItem.toFixed(0)} | ${Number.isNaN(r.rssBytesPerItem) ? '-' : r.rssBytesPerItem.toFixed(0)} | ${r.viewedRssBytesPerItem === undefined ? '-' : r.viewedRssBytesPerItem.toFixed(0)} | ${r.note}`,
          );
        }
      }
    });
  const crash = new Command('crash-test')
    .description('kill -9 at random points during a bulk ingest of precomputed vectors through the catalog; every acknowledged item must be there after each restart')
    .option('--items <n>', 'items to ingest in all', int, 100_000)
    .option('--rounds <n>', 'kill -9 rounds', int, 20)
    .option('--batch <n>', 'items per catalog.upsert (one LanceDB commit)', int, 256)
    .option('--dim <n>', 'dimensions', int, 256)
    .option('--max-run-ms <ms>', 'latest kill after a child opened the catalog', int, 8000)
    .option('--ann-min-items <n>', 'catalog size from which the HNSW graph serves', int, 20_000)
    .option('--snapshot-interval-ms <ms>', "the child's graph snapshot interval", int, 2000)
    .option('--seed <n>', 'seed of the vectors and kill times', int, 1)
    .option('--data <dir>', 'catalog folder (default: a temporary one, removed afterwards)')
    .option('--json', 'print one JSON object')
    .action(async (o) => {
      const { runCrashTest } = await import('../crash-test/crash-test.js');
      const report = await runCrashTest({
        items: o.items,
        rounds: o.rounds,
        batch: o.batch,
        dim: o.dim,
        maxRunMs: o.maxRunMs,
        annMinItems: o.annMinItems,
        snapshotIntervalMs: o.snapshotIntervalMs,
        seed: o.seed,
        dataDir: o.data,
        log,
      });
      if (o.json) console.log(JSON.stringify(report));
      else {
        console.log(
          `${report.rounds.length - 2 >= 0 ? o.rounds : 0} kill -9 rounds, ${report.items.toLocaleString('en')} items acknowledged; ` +
            `after the last restart ${report.finalCount.toLocaleString('en')} checked, ${report.finalMissing} missing over all rounds; ` +
            `graph snapshot loaded ${report.snapshotsLoaded} times, rejected ${report.snapshotsRejected} times: ${report.passed ? 'PASS' : 'FAIL'}`,
        );
      }
      if (!report.passed) process.exitCode = 1;
    });

  const child = new Command('crash-test-child')
    .description('(internal) one crash-test round')
    .requiredOption('--data <dir>', 'catalog folder')
    .requiredOption('--from <n>', 'first item', Number)
    .requiredOption('--to <n>', 'end item (exclusive)', Number)
    .requiredOption('--verify-up-to <n>', 'items 0..n-1 must be there', Number)
    .option('--dim <n>', 'dimensions', int, 256)
    .option('--batch <n>', 'items per commit', int, 256)
    .option('--ann-min-items <n>', 'graph from', int, 20_000)
    .option('--snapshot-interval-ms <ms>', 'snapshot interval', Number, 2000)
    .option('--seed <n>', 'seed', int, 1)
    .action(async (o) => {
      const { crashChild } = await import('../crash-test/crash-test.js');
      await crashChild({
        dataDir: o.data,
        from: o.from,
        to: o.to,
        verifyUpTo: o.verifyUpTo,
        dim: o.dim,
        batch: o.batch,
        annMinItems: o.annMinItems,
        snapshotIntervalMs: o.snapshotIntervalMs,
        seed: o.seed,
      });
    });
  const scale = new Command('bench-search-scale')
    .description('end-to-end Search over gRPC at several catalog sizes (filled with synthetic vectors of the model dimension)')
    .option('--sizes <list>', 'catalog sizes', ints, [3000, 1_000_000])
    .option('--model <manifest>', 'model manifest (run embedding-only)')
    .option('--searches <n>', 'timed searches per size', int, 200)
    .option('--json', 'print one JSON object')
    .action(async (o) => {
      const { runSearchScaleBench } = await import('./search-scale-bench.js');
      const { DEFAULT_OPTIONS } = await import('../../src/config/index.js');
      const results = await runSearchScaleBench({ sizes: o.sizes, model: o.model ?? DEFAULT_OPTIONS.modelManifest, searches: o.searches, log });
      if (o.json) console.log(JSON.stringify(results));
      else {
        const base = results[0];
        console.log('items | index | Search p50 ms | p95 ms | index step p50 ms | embed p50 ms | p50 / smallest');
        for (const r of results) {
          console.log(
            `${r.size.toLocaleString('en')} | ${r.indexKind} | ${r.search.p50Ms.toFixed(1)} | ${r.search.p95Ms.toFixed(1)} | ${r.search.server.shortlistMs.toFixed(2)} | ${r.search.server.embedMs.toFixed(1)} | ${(r.search.p50Ms / base.search.p50Ms).toFixed(2)}x`,
          );
        }
      }
    });
  const scaleOut = new Command('bench-scale-out')
    .description('pgvector beside the embedded store: recall@10 vs exact and Search p50/p95 through the service at 1 and 2 replicas (throwaway PostgreSQL)')
    .option('--count <n>', 'catalog size', int, 100_000)
    .option('--queries <n>', 'queries whose recall@10 is measured', int, 500)
    .option('--searches <n>', 'timed Search calls through the service per setting', int, 200)
    .option('--ef-search <n>', 'pgvector hnsw.ef_search', int, 100)
    .option('--model <manifest>', 'model manifest (256-d; run embedding-only)')
    .option('--vector-index', "also build and measure a full-precision vector HNSW index (the store's is halfvec)")
    .option('--json', 'print one JSON object')
    .action(async (o) => {
      const { runScaleOutBench } = await import('./scale-out-bench.js');
      const { DEFAULT_OPTIONS } = await import('../../src/config/index.js');
      const r = await runScaleOutBench({
        count: o.count,
        queries: o.queries,
        searches: o.searches,
        efSearch: o.efSearch,
        model: o.model ?? DEFAULT_OPTIONS.modelManifest,
        vectorIndex: Boolean(o.vectorIndex),
        log,
      });
      if (o.json) {
        console.log(JSON.stringify(r));
        return;
      }
      const f = (n: number, d = 1): string => n.toFixed(d);
      console.log(`${r.count.toLocaleString('en')} items x ${r.dim}-d | recall@10 | 2% filter recall@10 | index step p50 / p95 ms | Search p50 / p95 ms (1 client) | searches/s (4 clients)`);
      const s = r.service;
      console.log(
        `embedded (${r.index.embedded.kind}) | ${f(r.index.embedded.recallAt10, 4)} | ${f(r.index.embedded.filteredRecallAt10, 4)} | ${f(r.index.embedded.p50Ms, 2)} / ${f(r.index.embedded.p95Ms, 2)} | ${f(s.embedded.one.p50Ms)} / ${f(s.embedded.one.p95Ms)} | ${f(s.embedded.busy.searchesPerSec)}`,
      );
      console.log(
        `postgres, 1 replica (${r.index.postgres.kind}) | ${f(r.index.postgres.recallAt10, 4)} | ${f(r.index.postgres.filteredRecallAt10, 4)} | ${f(r.index.postgres.p50Ms, 2)} / ${f(r.index.postgres.p95Ms, 2)} | ${f(s.postgres1.one.p50Ms)} / ${f(s.postgres1.one.p95Ms)} | ${f(s.postgres1.busy.searchesPerSec)}`,
      );
      console.log(
        `postgres, 2 replicas (2 clients each) | | | | ${s.postgres2.replicas.map((x) => `${f(x.p50Ms)} / ${f(x.p95Ms)}`).join(', ')} | ${f(s.postgres2.searchesPerSec)}`,
      );
      if (r.index.vector) {
        const h = r.index.vector;
        console.log(`postgres full-precision vector index (${f(h.indexMiB, 0)} MiB vs halfvec ${f(r.postgresIndexMiB, 0)} MiB) | ${f(h.recallAt10, 4)} | ${f(h.filteredRecallAt10, 4)} | ${f(h.p50Ms, 2)} / ${f(h.p95Ms, 2)} | |`);
      }
      console.log(`fill: embedded ${f(r.fillS.embedded)} s; postgres ${f(r.fillS.postgres)} s + HNSW build ${f(r.fillS.postgresIndex)} s (index ${f(r.postgresIndexMiB, 0)} MiB)`);
    });
  return [bench, crash, child, scale, scaleOut];
}
