import { DEFAULT_OPTIONS, type ExecutionProviderName, type TwinlensOptions } from '../../src/config/index.js';

/**
 * Options of {@link runBench}. Every field is optional; the defaults (in {@link FULL_BENCH} and
 * {@link QUICK_BENCH}) give the full run, about 2 minutes on 2 cores, or with `quick` a smoke run
 * of a few seconds whose figures are only indicative.
 */
export interface BenchOptions {
  /** Smoke sizes ({@link QUICK_BENCH}) instead of {@link FULL_BENCH}; fields set here still win. */
  quick?: boolean;
  /** The model's manifest.json. Default: the service's default (the bundled model). */
  modelManifest?: string;
  /** Execution providers for the raw session and the servers. Default `['cpu']`. */
  executionProviders?: ExecutionProviderName[];
  /** ONNX Runtime intra-op threads for the raw session and the servers. Default 0 (one per core), as the service. */
  intraOpThreads?: number;
  /** Seed of the generated images and of the catalog jitter. Default 1. */
  seed?: number;

  /** Raw model: batch sizes timed. 1 and 16 are always included (the ratios use them). */
  rawBatchSizes?: number[];
  /** Raw model: untimed runs per batch size. */
  rawWarmupRuns?: number;
  /** Raw model: least timed runs per batch size. */
  rawMinRuns?: number;
  /** Raw model: least timed wall time per batch size, in ms. */
  rawMinDurationMs?: number;

  /** Ingest: images streamed through UpsertItems, timed. */
  ingestImages?: number;
  /**
   * Ingest: the images go in this many UpsertItems streams, each preceded by raw batch-16 model
   * runs over as many images (a second raw session), so that the ingest/raw ratio compares figures
   * taken in the same seconds (with pairBaseline; otherwise the raw model section's batch-16 figure).
   */
  ingestRounds?: number;
  /** Distinct watches rendered; ingest and query photos are degraded views of them. */
  watches?: number;
  /** How photos are made: `degraded` (default, demo degradeImage) or the cheaper `resized` (see makeBenchImages). */
  photos?: 'degraded' | 'resized';

  /** Search: catalog size searched (ingested items topped up with jittered copies). */
  catalogSize?: number;
  /** Search: distinct query photos (used round-robin). */
  queryImages?: number;
  /**
   * Warm path: confirmed photos streamed through AddExamples (each of a watch's item; one item per
   * watch), then one adaptation to them. 0 skips the phase.
   */
  examplePhotos?: number;
  /** Search: timed searches per (micro-batching mode, concurrency). */
  searchesPerLevel?: number;
  /** Search: untimed searches before each level. */
  searchWarmup?: number;
  /** Search: client concurrencies. Default `[1, 8]`; the latency ratio uses 1, the throughput ratio the highest. */
  concurrencies?: number[];
  /** Search: hits asked for. Default 10. */
  topK?: number;
  /**
   * Search: also time a server with every optional Search stage on, whatever the defaults (the
   * query cut-out, the colour and text evidence, the model's pair head when its manifest has one),
   * and one with none. Default true.
   */
  allStages?: boolean;
  /**
   * Time raw model runs alongside the service (a second raw session, opened as the service opens
   * its own): batch 16 between the ingest rounds, batch 1 in blocks alternating with the searches
   * at concurrency 1; the ratios then divide by those figures, taken in the same seconds. Default
   * true; false divides by the raw model section's figures.
   */
  pairBaseline?: boolean;

  /** Extra options for every server started (e.g. `maxBatchWaitMs`); the bench's own choices win for host, port, dataDir and seeding. */
  server?: Partial<TwinlensOptions>;
  /** Where the temporary data directory is made. Default `os.tmpdir()`; it is removed afterwards. */
  tmpDir?: string;
  /** Progress lines (e.g. `(l) => process.stderr.write(l + '\n')`). Default: none. */
  log?: (line: string) => void;
}

/** {@link BenchOptions} with every size filled in. */
export type ResolvedBenchSettings = Required<
  Omit<BenchOptions, 'server' | 'tmpDir' | 'log' | 'modelManifest'>
> & { modelManifest: string; server: Partial<TwinlensOptions> };

/** Sizes of the full run (about 2 minutes on 2 cores, a third of it making the photos). */
export const FULL_BENCH = Object.freeze({
  rawBatchSizes: [1, 16],
  rawWarmupRuns: 5,
  rawMinRuns: 20,
  rawMinDurationMs: 8000,
  ingestImages: 400,
  ingestRounds: 4,
  watches: 100,
  photos: 'degraded' as 'degraded' | 'resized',
  catalogSize: 3000,
  queryImages: 40,
  examplePhotos: 300,
  searchesPerLevel: 200,
  searchWarmup: 16,
  concurrencies: [1, 8],
  topK: 10,
  allStages: true,
  pairBaseline: true,
});

/** Sizes of the smoke run (`quick: true`): a few seconds; figures only indicative. */
export const QUICK_BENCH = Object.freeze({
  rawBatchSizes: [1, 16],
  rawWarmupRuns: 1,
  rawMinRuns: 3,
  rawMinDurationMs: 200,
  ingestImages: 16,
  ingestRounds: 2,
  watches: 4,
  photos: 'degraded' as 'degraded' | 'resized',
  catalogSize: 100,
  queryImages: 4,
  examplePhotos: 24,
  searchesPerLevel: 8,
  searchWarmup: 2,
  concurrencies: [1, 8],
  topK: 10,
  allStages: true,
  pairBaseline: true,
});

/** Fills defaults: {@link QUICK_BENCH} or {@link FULL_BENCH}, overridden by what `options` sets. */
export function resolveBenchSettings(options: BenchOptions = {}): ResolvedBenchSettings {
  const base = options.quick ? QUICK_BENCH : FULL_BENCH;
  const defined = Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) as BenchOptions;
  const s = {
    quick: false,
    executionProviders: ['cpu'] as ExecutionProviderName[],
    intraOpThreads: 0,
    seed: 1,
    ...base,
    ...defined,
    modelManifest: options.modelManifest ?? DEFAULT_OPTIONS.modelManifest,
    server: { ...(options.server ?? {}) },
  };
  delete (s as BenchOptions).log;
  delete (s as BenchOptions).tmpDir;
  s.rawBatchSizes = [...new Set([1, 16, ...s.rawBatchSizes])].sort((a, b) => a - b);
  s.concurrencies = [...new Set(s.concurrencies)].sort((a, b) => a - b);
  const positive: (keyof ResolvedBenchSettings)[] = [
    'rawMinRuns',
    'ingestImages',
    'ingestRounds',
    'watches',
    'catalogSize',
    'queryImages',
    'searchesPerLevel',
    'topK',
  ];
  for (const k of positive) {
    const v = s[k] as number;
    if (!Number.isInteger(v) || v < 1) throw new RangeError(`bench option ${k}: expected a positive integer, received ${v}`);
  }
  for (const k of ['rawWarmupRuns', 'rawMinDurationMs', 'searchWarmup', 'intraOpThreads', 'examplePhotos'] as const) {
    if (!Number.isInteger(s[k]) || s[k] < 0) throw new RangeError(`bench option ${k}: expected an integer >= 0, received ${s[k]}`);
  }
  for (const b of s.rawBatchSizes) if (!Number.isInteger(b) || b < 1) throw new RangeError(`bench option rawBatchSizes: bad batch size ${b}`);
  if (s.concurrencies.length === 0 || s.concurrencies.some((c) => !Number.isInteger(c) || c < 1)) {
    throw new RangeError(`bench option concurrencies: expected positive integers, received ${JSON.stringify(s.concurrencies)}`);
  }
  return s;
}
