#!/usr/bin/env node
/**
 * `twinlens-dev`: the measurement tools (benches, load and fuzz tests, the crash test). They are not
 * part of the shipped `twinlens` CLI: they import the product from src/, never the reverse.
 * Run them with `node dist/tools/dev.js <command>` or the Makefile targets (make bench, make fuzz, ...).
 */
import { Command } from 'commander';
import { int } from '../src/cli/arg-parsers.js';
import { loadtestCommands } from './loadtest/index.js';
import { indexCommands } from './index-bench/commands.js';

const program = new Command('twinlens-dev').description('twinlens measurement tools: benches, load, fuzz and crash tests');

program
  .command('bench')
  .description('print model, ingest and search speed figures (make bench)')
  .option('--quick', 'a few seconds of smoke-test sizes')
  .option('--json', 'print one JSON object')
  .action(async (o) => {
    const { runBench, formatBenchReport } = await import('./bench/index.js');
    const report = await runBench({ quick: Boolean(o.quick), log: (line) => process.stderr.write(`${line}\n`) });
    console.log(o.json ? JSON.stringify(report) : formatBenchReport(report));
  });

program
  .command('bench-rerank')
  .description("time the pair head's rerank of one query's shortlist (unpack stored maps + one ONNX run), CPU")
  .requiredOption('--model <manifest>', 'a model manifest with a pair head')
  .option('--shortlists <list>', 'shortlist sizes', '10,50,100')
  .option('--runs <n>', 'timed runs per size', int, 50)
  .option('--threads <n>', 'ONNX Runtime intra-op threads (0: one per core)', int, 0)
  .option('--json', 'print one JSON object')
  .action(async (o) => {
    const { measureRerankLatency } = await import('./bench/rerank-latency.js');
    const r = await measureRerankLatency({
      manifest: o.model,
      shortlists: String(o.shortlists).split(',').map(Number),
      runs: o.runs,
      intraOpThreads: o.threads,
    });
    if (o.json) return console.log(JSON.stringify(r));
    console.log(`pair head of ${r.model} (local maps ${r.localShape}), rerank of one query:`);
    for (const x of r.results) {
      console.log(`  shortlist ${String(x.shortlist).padStart(4)}: p50 ${x.p50Ms.toFixed(2)} ms, p95 ${x.p95Ms.toFixed(2)} ms, mean ${x.meanMs.toFixed(2)} ms (unpacking float16 maps ${x.unpackMeanMs.toFixed(2)} ms)`);
    }
  });

program
  .command('bench-refine')
  .description("catalog refinement speed and lone-query latency with ONNX Runtime's idle threads spinning and sleeping (ortSpinWait)")
  .option('--catalog <csv>', 'catalog csv', 'data/eval-scale/catalog.csv')
  .option('--queries <csv>', 'queries csv (photos for the latency figures)', 'data/eval-scale/queries.csv')
  .option('--items <n>', 'catalog rows refined per run', int, 150)
  .option('--rounds <n>', 'rounds of (sleeping, spinning), alternating order', int, 2)
  .option('--calls <n>', 'embedQuery calls per latency figure', int, 200)
  .action(async (o) => {
    const { measureRefineSpeed } = await import('./bench/refine-speed.js');
    const f = (v: number): string => v.toFixed(1);
    console.log('spin  round  index s  refine s  embed p50 c1 / c8 ms  embeds/s c1 / c8');
    await measureRefineSpeed({ catalogCsv: o.catalog, queriesCsv: o.queries, items: o.items, rounds: o.rounds, calls: o.calls }, (r) =>
      console.log(
        `${(r.spinWait ? 'on' : 'off').padEnd(5)} ${String(r.round).padEnd(6)} ${f(r.indexSeconds).padStart(7)}  ${f(r.refineSeconds).padStart(8)}  ` +
          `${f(r.embedP50Ms.c1).padStart(8)} / ${f(r.embedP50Ms.c8).padEnd(9)}  ${f(r.embedPerSecond.c1).padStart(7)} / ${f(r.embedPerSecond.c8)}`,
      ),
    );
  });

program
  .command('synthetic-benchmark')
  .description('write a catalog-size benchmark (generated watches, simulated photos as queries) for timing twinlens eval (make eval-scale)')
  .requiredOption('--out <dir>', 'folder for catalog.csv, queries.csv and the images')
  .option('--items <n>', 'catalog items', int, 1500)
  .option('--queries <n>', 'query photos', int, 600)
  .option('--seed <n>', 'seed of the watches and photos (make eval-scale: 7; the evidence head trains on others)', int, 7)
  .action(async (o) => {
    const { makeSyntheticBenchmark } = await import('./eval-scale/make-synthetic-benchmark.js');
    const started = Date.now();
    const r = await makeSyntheticBenchmark({
      outDir: o.out,
      items: o.items,
      queries: o.queries,
      seed: o.seed,
      onProgress: (stage, done, total) => process.stderr.write(`\r${stage} ${done}/${total}   `),
    });
    process.stderr.write(`\nwritten in ${((Date.now() - started) / 1000).toFixed(0)} s\n`);
    console.log(JSON.stringify(r));
  });

program
  .command('print-benchmark')
  .description("write a synthetic benchmark of packaged goods with printed text (brand families, simulated photos as queries): training data for the evidence head's reranker")
  .requiredOption('--out <dir>', 'folder for catalog.csv, queries.csv and the images')
  .option('--families <n>', 'brands (one shape, palette and brand word each)', int, 60)
  .option('--per-family <n>', 'products per brand', int, 5)
  .option('--queries-per-item <n>', 'simulated photos per item', int, 1)
  .option('--seed <n>', 'random seed', int, 1)
  .action(async (o) => {
    const { makePrintBenchmark } = await import('./evidence-head/make-print-benchmark.js');
    const started = Date.now();
    const r = await makePrintBenchmark({
      outDir: o.out,
      families: o.families,
      perFamily: o.perFamily,
      queriesPerItem: o.queriesPerItem,
      seed: o.seed,
      onProgress: (stage, done, total) => process.stderr.write(`\r${stage} ${done}/${total}   `),
    });
    process.stderr.write(`\nwritten in ${((Date.now() - started) / 1000).toFixed(0)} s\n`);
    console.log(JSON.stringify(r));
  });

// `twinlens-dev fuzz` and `twinlens-dev loadtest` (make fuzz, make loadtest): a server child process on loopback.
loadtestCommands().forEach((c) => program.addCommand(c));
// `twinlens-dev bench-index` and `twinlens-dev crash-test` (make bench-index, make crash-test): the vector index.
indexCommands().forEach((c) => program.addCommand(c));


program.parseAsync(process.argv).catch((e: unknown) => {
  const err = e as { details?: string; message?: string };
  console.error(`twinlens-dev: ${err.details ?? err.message ?? String(e)}`);
  process.exit(1);
});
