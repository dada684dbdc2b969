import * as fs from 'node:fs';
import { performance } from 'node:perf_hooks';
import * as ort from 'onnxruntime-node';
import type { ExecutionProviderName } from '../../src/config/index.js';
import { createProviderSession, type LoadedManifest } from '../../src/model/index.js';
import { createRng } from '../../src/demo/index.js';
import { summarize } from '../../src/eval/percentiles.js';

/** Options of `benchRawModel`. */
export interface RawModelBenchOptions {
  manifest: LoadedManifest;
  /** Batch sizes to time, e.g. `[1, 16]`. */
  batchSizes: number[];
  /** Untimed runs per batch size before timing (thread pools, allocator, caches). */
  warmupRuns: number;
  /** Each batch size is run at least this many times... */
  minRuns: number;
  /** ...and until at least this much time has passed, in ms. */
  minDurationMs: number;
  /** Execution providers in order of preference, as the service takes them. */
  providers: ExecutionProviderName[];
  /** ONNX Runtime intra-op threads, as the service takes them (0: one per core). */
  intraOpThreads: number;
  seed: number;
}

/** Timing of one batch size. */
export interface RawBatchResult {
  batchSize: number;
  /** Timed runs. */
  runs: number;
  /** Images per second over all timed runs. */
  imagesPerSec: number;
  /** Median wall time of one `session.run`, in ms. */
  p50RunMs: number;
  /** 95th percentile of one `session.run`, in ms. */
  p95RunMs: number;
  /** Mean wall time of one `session.run`, in ms. */
  meanRunMs: number;
  /**
   * Share of the timed wall time during which some runnable task waited for a CPU (Linux PSI,
   * `/proc/pressure/cpu`), or null where the kernel does not report it. The model's threads alone
   * do not contend, so well above 0 means other processes were running.
   */
  cpuPressure: number | null;
}

/** Raw model throughput, straight through ONNX Runtime. */
export interface RawModelResult {
  /** The provider the session got. */
  provider: ExecutionProviderName;
  intraOpThreads: number;
  inputSize: number;
  batches: RawBatchResult[];
}

/** Microseconds some task has waited for a CPU since boot (PSI `some total`), or null without PSI. */
export function cpuPressureTotalUs(): number | null {
  try {
    const m = /^some .*total=(\d+)/m.exec(fs.readFileSync('/proc/pressure/cpu', 'utf8'));
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

/** A raw ONNX Runtime session with a pre-made input tensor of one batch size. */
export interface RawRunner {
  provider: ExecutionProviderName;
  /** One `session.run` on the pre-made tensor of `batchSize` images. */
  run(batchSize: number): Promise<void>;
  release(): Promise<void>;
}

/**
 * Opens the manifest's network exactly as the service opens it (`createProviderSession`: same
 * providers, graph optimisation level and intra-op threads) and makes input tensors of pixel-like
 * values in [0,1], the range the network sees in service: no decoding, no normalisation, no queueing.
 */
export async function openRawRunner(
  manifest: LoadedManifest,
  options: { providers: ExecutionProviderName[]; intraOpThreads: number; seed: number },
): Promise<RawRunner> {
  const { session, provider } = await createProviderSession(manifest.modelPath, {
    providers: options.providers,
    intraOpThreads: options.intraOpThreads,
  });
  const size = manifest.input.size;
  const rng = createRng(options.seed);
  const feeds = new Map<number, Record<string, ort.Tensor>>();
  const fetches = [manifest.outputs.embedding];
  return {
    provider,
    async run(batchSize: number): Promise<void> {
      let feed = feeds.get(batchSize);
      if (!feed) {
        const data = new Float32Array(batchSize * 3 * size * size);
        for (let i = 0; i < data.length; i++) data[i] = rng();
        feed = { [manifest.input.name]: new ort.Tensor('float32', data, [batchSize, 3, size, size]) };
        feeds.set(batchSize, feed);
      }
      await session.run(feed, fetches);
    },
    release: () => session.release(),
  };
}

/**
 * Times the manifest's network straight through ONNX Runtime (see {@link openRawRunner}) at each
 * batch size: warm-up runs, then timed runs until both `minRuns` and `minDurationMs` are reached.
 */
export async function benchRawModel(options: RawModelBenchOptions): Promise<RawModelResult> {
  const runner = await openRawRunner(options.manifest, options);
  try {
    const batches: RawBatchResult[] = [];
    for (const batchSize of options.batchSizes) {
      for (let i = 0; i < Math.max(1, options.warmupRuns); i++) await runner.run(batchSize);
      const times: number[] = [];
      const psi0 = cpuPressureTotalUs();
      const start = performance.now();
      while (times.length < options.minRuns || performance.now() - start < options.minDurationMs) {
        const t0 = performance.now();
        await runner.run(batchSize);
        times.push(performance.now() - t0);
      }
      const elapsed = performance.now() - start;
      const psi1 = cpuPressureTotalUs();
      const s = summarize(times);
      batches.push({
        batchSize,
        runs: times.length,
        imagesPerSec: (times.length * batchSize * 1000) / elapsed,
        p50RunMs: s.p50,
        p95RunMs: s.p95,
        meanRunMs: s.mean,
        cpuPressure: psi0 === null || psi1 === null ? null : (psi1 - psi0) / 1000 / elapsed,
      });
    }
    return { provider: runner.provider, intraOpThreads: options.intraOpThreads, inputSize: options.manifest.input.size, batches };
  } finally {
    await runner.release();
  }
}
