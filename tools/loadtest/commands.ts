import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { wholeNumber as int } from '../../src/cli/arg-parsers.js';
import { formatBurstReport, runBurstTest } from './burst-test.js';
import { formatFuzzReport, runFuzz } from './run-fuzz.js';
import { replayDecodes } from './replay-decodes.js';
import { makeLoadImages } from './load-images.js';
import { formatLoadReport, runLoad } from './run-load.js';
import { seedCatalog } from './seed-catalog.js';
import { heapMemoryFrom, startServerProcess } from './server-process.js';
import { formatSigtermReport, runSigtermTest } from './sigterm-test.js';
import { formatUploadFloodReport, runUploadFlood } from './upload-flood.js';


function mixOf(value: string): { search: number; compare: number; upsert: number } {
  const parts = value.split(',').map(Number);
  if (parts.length !== 3 || parts.some((p) => !(p >= 0)) || parts.every((p) => p === 0)) {
    throw new InvalidArgumentError(`expected search,compare,upsert shares such as 60,20,20, received '${value}'`);
  }
  return { search: parts[0], compare: parts[1], upsert: parts[2] };
}

const log = (line: string): void => void process.stderr.write(`${line}\n`);

/** A fresh work folder; removed afterwards unless kept (always kept when the run failed). */
async function inWorkDir<T>(prefix: string, keep: boolean, fn: (dir: string) => Promise<{ result: T; passed: boolean }>): Promise<T> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  let passed = false;
  try {
    const r = await fn(dir);
    passed = r.passed;
    return r.result;
  } finally {
    if (keep || !passed) log(`work folder (catalog, server logs) kept: ${dir}`);
    else fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** `twinlens-dev fuzz`: mutated images through a server child process. */
function fuzzCommand(): Command {
  return new Command('fuzz')
    .description('send mutated images (truncated, bit-flipped, wrong headers, huge declared sizes, ...) through a server child process')
    .option('--count <n>', 'cases', int, Number(process.env.FUZZ_COUNT ?? 10_000))
    .option('--seed <n>', 'run seed (the same seed sends the same cases)', int, Number(process.env.FUZZ_SEED ?? 1))
    .option('--concurrency <n>', 'calls in flight', int, 4)
    .option('--decode-processes <n>', "the server's decodeProcesses (0: decode in the server process)", int)
    .option('--keep', 'keep the work folder (catalog, server log, failing cases)')
    .action(async (o: { count: number; seed: number; concurrency: number; decodeProcesses?: number; keep?: boolean }) => {
      const passed = await inWorkDir('twinlens-fuzz-', Boolean(o.keep), async (dir) => {
        const env = o.decodeProcesses === undefined ? undefined : { TWINLENS_DECODE_PROCESSES: String(o.decodeProcesses) };
        const server = await startServerProcess({ dataDir: path.join(dir, 'data'), env });
        log(`fuzz: server pid ${server.pid} on ${server.address}, log ${server.logFile}`);
        const report = await runFuzz({
          address: server.address,
          count: o.count,
          seed: o.seed,
          concurrency: o.concurrency,
          failuresDir: path.join(dir, 'failures'),
          onProgress: log,
        });
        const peakMB = server.peakRssBytes() / 1e6;
        const rssMB = server.rssBytes() / 1e6;
        const decoderCrashes = server.decoderCrashes();
        const exit = await server.stop();
        console.log(formatFuzzReport(report));
        console.log(`server: RSS ${rssMB.toFixed(0)} MB at the end, peak ${peakMB.toFixed(0)} MB (with its decoder children); exit after SIGTERM: code ${exit.code}${exit.signal ? ` signal ${exit.signal}` : ''}`);
        console.log(`server: image decoder children crashed (contained, retried alone): ${decoderCrashes}`);
        const ok = report.failures.length === 0 && !report.stoppedEarly && report.healthAfter === 'SERVING' && report.searchAfter.ok && exit.code === 0;
        console.log(`fuzz: ${ok ? 'PASS' : 'FAIL'}`);
        return { result: ok, passed: ok };
      });
      if (!passed) process.exitCode = 1;
    });
}

interface LoadtestFlags {
  duration: number;
  clients: number;
  maxRequests: number;
  catalogSize: number;
  mix?: { search: number; compare: number; upsert: number };
  sigtermAt?: number;
  burst?: boolean;
  burstCalls: number;
  burstBytes: number;
  burstConnections: number;
  burstCallLimit: number;
  keep?: boolean;
}

/** `twinlens-dev upload-flood`: concurrent upload streams of large images, with server memory and durability. */
function uploadFloodCommand(): Command {
  return new Command('upload-flood')
    .description('concurrent UpsertItems streams of large noisy JPEGs against a server child process: RSS before, peak, after; refusals; every acknowledged item checked')
    .option('--streams <n>', 'concurrent upload streams, one connection each', int, 8)
    .option('--items <n>', 'items per stream', int, 4)
    .option('--image-mb <n>', 'image size in MB', Number, 19)
    .option('--budget-mb <n>', "the server's maxImageBytesInFlight in MiB (default: the server's default)", int)
    .option('--stream-limit <n>', "the server's maxImageStreamsInProgress (default: the server's default)", int)
    .option('--entry <file>', "another build's cli/main.js to run instead of this one (before-figures)")
    .option('--restart', 'restart the server afterwards and check every acknowledged item again')
    .option('--keep', 'keep the work folder (catalog, server log)')
    .action(async (o: { streams: number; items: number; imageMb: number; budgetMb?: number; streamLimit?: number; entry?: string; restart?: boolean; keep?: boolean }) => {
      const env: Record<string, string> = {};
      if (o.budgetMb !== undefined) env.TWINLENS_MAX_IMAGE_BYTES_IN_FLIGHT = String(o.budgetMb * 1024 * 1024);
      if (o.streamLimit !== undefined) env.TWINLENS_MAX_IMAGE_STREAMS_IN_PROGRESS = String(o.streamLimit);
      const passed = await inWorkDir('twinlens-upload-flood-', Boolean(o.keep), async (dir) => {
        const r = await runUploadFlood({ workDir: dir, streams: o.streams, itemsPerStream: o.items, imageMb: o.imageMb, env, entry: o.entry, restart: o.restart, log });
        console.log(formatUploadFloodReport(r));
        const ok = r.missing.length === 0 && Object.keys(r.streamCodes).every((c) => c === 'OK' || c === 'RESOURCE_EXHAUSTED');
        console.log(`upload-flood: ${ok ? 'PASS' : 'FAIL'}`);
        return { result: ok, passed: ok };
      });
      if (!passed) process.exitCode = 1;
    });
}

/** `twinlens-dev loadtest`: the 5-minute load, or `--sigterm-at` / `--burst`. */
function loadtestCommand(): Command {
  return new Command('loadtest')
    .description('closed-loop load (Search, Compare, UpsertItems) against a server child process on loopback; --sigterm-at or --burst for the other scenarios')
    .option('--duration <s>', 'seconds of load', int, Number(process.env.LOADTEST_DURATION_S ?? 300))
    .option('--clients <n>', 'concurrent clients, one connection each', int, 64)
    .option('--max-requests <n>', 'most calls in all', int, 1_000_000)
    .option('--catalog-size <n>', 'generated watches seeded into the catalog', int, 200)
    .option('--mix <s,c,u>', 'shares of Search, Compare, UpsertItems (default 60,20,20; 40,20,40 with --sigterm-at)', mixOf)
    .option('--sigterm-at <s>', 'send SIGTERM to the server this many seconds in, then restart it and check every acknowledged upload', int)
    .option('--burst', 'instead: bursts of concurrent Search calls far above capacity, with server memory before, peak and after')
    .option('--burst-calls <n>', 'calls per burst', int, 2000)
    .option('--burst-bytes <n>', 'query image size in bytes', int, 200_000)
    .option('--burst-connections <n>', 'connections the burst is spread over', int, 8)
    .option('--burst-call-limit <n>', "the server's maxImageCallsInProgress (calls admitted on their headers; 100000 is in effect off)", int, 128)
    .option('--keep', 'keep the work folder (catalog, server logs)')
    .action(async (o: LoadtestFlags) => {
      const passed = await inWorkDir('twinlens-loadtest-', Boolean(o.keep), async (dir) => {
        if (o.burst) {
          const images = await makeLoadImages({ catalogSize: Math.min(o.catalogSize, 50), queryPhotos: 1, uploadPhotos: 1, photos: 'resized' });
          const r = await runBurstTest({ workDir: dir, catalog: images.catalog, calls: o.burstCalls, imageBytes: o.burstBytes, connections: o.burstConnections, maxImageCallsInProgress: o.burstCallLimit, log });
          console.log(formatBurstReport(r));
          const ok = r.errors === 0 && r.healthAfter === 'SERVING' && r.searchAfterOk && r.memoryBounded && r.refusalsQuick;
          console.log(`burst: ${ok ? 'PASS' : 'FAIL'}`);
          return { result: ok, passed: ok };
        }
        log(`loadtest: making ${o.catalogSize} watches and their photos (not timed)...`);
        const images = await makeLoadImages({ catalogSize: o.catalogSize });
        log(`loadtest: images ready in ${(images.elapsedMs / 1000).toFixed(1)} s (photos ~${images.meanPhotoBytes} B)`);
        if (o.sigtermAt !== undefined) {
          const r = await runSigtermTest({
            workDir: dir,
            images,
            clients: o.clients,
            durationMs: o.duration * 1000,
            sigtermAtMs: o.sigtermAt * 1000,
            mix: o.mix,
            log,
          });
          console.log(formatLoadReport(r.load));
          console.log(formatSigtermReport(r));
          const ok = r.acknowledged > 0 && r.exit.code === 0 && r.missing.length === 0 && r.wrongMetadata.length === 0 && r.load.errors === 0;
          return { result: ok, passed: ok };
        }
        const server = await startServerProcess({ dataDir: path.join(dir, 'data') });
        log(`loadtest: server pid ${server.pid} on ${server.address}; seeding ${images.catalog.length} items`);
        await seedCatalog(server.address, images.catalog);
        const report = await runLoad({
          address: server.address,
          images,
          clients: o.clients,
          durationMs: o.duration * 1000,
          maxRequests: o.maxRequests,
          mix: o.mix,
          rssBytes: server.rssBytes,
          heapMemory: () => heapMemoryFrom(server.metricsUrl()),
          log,
        });
        const exit = await server.stop();
        console.log(formatLoadReport(report));
        console.log(`server exit after SIGTERM: code ${exit.code}${exit.signal ? ` signal ${exit.signal}` : ''}`);
        const ok = report.errors === 0 && Math.abs(report.rssChangePct) <= 10 && exit.code === 0;
        console.log(`loadtest: ${ok ? 'PASS' : 'FAIL'}`);
        return { result: ok, passed: ok };
      });
      if (!passed) process.exitCode = 1;
    });
}

/** `twinlens-dev fuzz-replay`: fuzz cases straight through the decoder, concurrently, round after round. */
function fuzzReplayCommand(): Command {
  return new Command('fuzz-replay')
    .description('decode fuzz cases FROM..TO of a run seed concurrently, round after round (chasing a native crash; run under gdb for a backtrace)')
    .requiredOption('--seed <n>', 'run seed of the fuzz run', int)
    .requiredOption('--from <n>', 'first case index', int)
    .requiredOption('--to <n>', 'last case index', int)
    .option('--concurrency <n>', 'decodes at once', int, 4)
    .option('--rounds <n>', 'passes over the cases', int, 500)
    .option('--child', 'decode in one child process (the production decoder; crashes are contained and counted)')
    .action(async (o: { seed: number; from: number; to: number; concurrency: number; rounds: number; child?: boolean }) => {
      const r = await replayDecodes({ ...o, mode: o.child ? 'child' : 'in-process', log });
      console.log(
        `fuzz-replay: ${r.cases} cases, ${r.decodes} decodes (${r.ok} ok) in ${(r.elapsedMs / 1000).toFixed(1)} s` +
          (o.child ? `; child crashes ${r.childCrashes}, images refused for crashing alone ${r.crashingImages}, answers unlike a one-at-a-time decode ${r.mismatches}` : ''),
      );
    });
}

/** The `fuzz` and `loadtest` commands, for the twinlens CLI. */
export function loadtestCommands(): Command[] {
  return [fuzzCommand(), fuzzReplayCommand(), loadtestCommand(), uploadFloodCommand()];
}
