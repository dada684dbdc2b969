import * as os from 'node:os';
import * as path from 'node:path';
import { Command, InvalidArgumentError } from 'commander';

function int(value: string): number {
  const n = Number(value.replace(/_/g, ''));
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`expected a positive whole number, received '${value}'`);
  return n;
}

function ints(value: string): number[] {
  return value.split(',').map((v) => int(v.trim()));
}

function quantizations(value: string): string[] {
  const list = value.split(',').map((v) => v.trim());
  for (const q of list) if (!['f32', 'f16', 'i8', 'i8+rescore', 'b1'].includes(q)) throw new InvalidArgumentError(`unknown setting '${q}'`);
  return list;
}

const log = (line: string): void => void process.stderr.write(`${line}\n`);

/** `twinlens bench-index` (make bench-index) and `twinlens crash-test` (make crash-test). */
export function indexCommands(): Command[] {
  const bench = new Command('bench-index')
    .description('ANN index bench on clustered synthetic vectors: recall@10 vs exact, latency, build time, memory per item')
    .option('--count <n>', 'catalog vectors', int, 1_000_000)
    .option('--dim <n>', 'dimensions', int, 256)
    .option('--queries <n>', 'queries', int, 1000)
    .option('--quantizations <list>', 'settings: f32, f16, i8, i8+rescore, b1', quantizations, ['f32', 'f16', 'i8', 'i8+rescore', 'b1'])
    .option('--ef <list>', 'search beam widths', ints, [32, 64, 128])
    .option('--m <n>', 'HNSW connectivity', int, 16)
    .option('--ef-construction <n>', 'HNSW build beam width', int, 128)
    .option('--threads <n>', 'build threads', int, os.cpus().length)
    .option('--lancedb', "also LanceDB's own IVF-PQ and IVF-HNSW-SQ on the same vectors")
    .option('--seed <n>', 'data seed', int, 1)
    .option('--json', 'print one JSON object')
    .action(async (o) => {
      const { runIndexBench, machineLine } = await import('./bench/run-index-bench.js');
      log(`bench-index on ${machineLine()}`);
      const report = await runIndexBench({
        count: o.count,
        dim: o.dim,
        queries: o.queries,
        quantizations: o.quantizations,
        efs: o.ef,
        connectivity: o.m,
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
        console.log('setting | ef | recall@10 | p50 ms | p95 ms | build s | graph B/item | loaded RSS B/item | note');
        for (const r of rows) {
          console.log(
            `${r.setting} | ${r.ef || '-'} | ${r.recallAt10.toFixed(4)} | ${r.p50Ms.toFixed(3)} | ${r.p95Ms.toFixed(3)} | ${r.buildS.toFixed(1)} | ${r.graphBytesPerItem.toFixed(0)} | ${Number.isNaN(r.rssBytesPerItem) ? '-' : r.rssBytesPerItem.toFixed(0)} | ${r.note}`,
          );
        }
      }
    });
  return [bench];
}
