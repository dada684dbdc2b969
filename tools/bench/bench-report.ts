import type { CompareLevelResult } from './compare-latency.js';
import type { CatalogFillResult } from './catalog-fill.js';
import type { ResolvedBenchSettings } from './bench-options.js';
import type { DecodeResult, IngestResult } from './ingest.js';
import type { IngestBreakdown } from './ingest-breakdown.js';
import type { MachineInfo } from './machine-info.js';
import type { RawModelResult } from './raw-model.js';
import type { SearchLevelResult } from './search-latency.js';
import type { WarmPathResult } from './warm-path.js';

/** Ingest must reach this share of raw batch-16 model throughput. */
export const INGEST_TARGET = 0.75;
/** Search p50 at concurrency 1 may be at most this multiple of one raw batch-1 model run. */
export const SEARCH_LATENCY_TARGET = 1.5;
/** Search p50 at concurrency 1 with every stage on (cut-out, text, pair head), in ms, on the project's 2-core machine. */
export const ALL_STAGES_P50_TARGET_MS = 250;

/** A target the issue sets, and whether this run met it. */
export interface BenchTarget {
  name: string;
  value: number;
  comparison: '>=' | '<=';
  target: number;
  met: boolean;
}

/** Search figures of one server configuration. */
export interface SearchModeResult {
  /** `on`: micro-batching as configured (default 16 / 2 ms); `off`: maxBatchSize 1. */
  microBatching: 'on' | 'off';
  /** The optional Search stages that were on ('cut-out', 'color', 'text', 'pair head'); [] for none. */
  stages: string[];
  maxBatchSize: number;
  maxBatchWaitMs: number;
  levels: SearchLevelResult[];
  /** Compare(photo, catalog item) on the same server, one client: what the stages cost a verification call. */
  compare: CompareLevelResult;
}

/** Everything {@link runBench} measured. Plain data: `JSON.stringify` it as is. */
export interface BenchReport {
  /** Version of this report's shape. */
  schema: 1;
  startedAt: string;
  quick: boolean;
  elapsedMs: number;
  machine: MachineInfo;
  /** 1-minute load average when the run ended: compare with machine.loadAverage1m (about 0 when the machine was quiet). */
  loadAverage1mEnd: number;
  settings: ResolvedBenchSettings;
  model: { name: string; version: string; inputSize: number; embeddingDim: number };
  /** The generated photos (not timed). */
  images: { ingest: number; queries: number; examples: number; width: number; height: number; meanBytes: number; method: string; elapsedMs: number };
  raw: RawModelResult;
  ingest: IngestResult & {
    /** Warm-up items upserted before the timed streams (first-run costs of a fresh server). */
    warmupImages: number;
    /** UpsertItems streams the images were split into. */
    rounds: number;
    /** With pairBaseline: raw batch-16 model throughput timed between the ingest rounds. */
    pairedRawBatch16?: { imagesPerSec: number; runs: number };
    maxBatchSize: number;
    maxBatchWaitMs: number;
    /** The service's decoder alone on the same images, at UpsertItems' concurrency. */
    decodeOnly: DecodeResult;
    /**
     * Ceiling if decoding and the model shared the cores perfectly:
     * 1 / (1/decode-only + 1/raw batch 16), images/s.
     */
    sharedCoreCeilingImagesPerSec: number;
    /**
     * Items/s until every timed item also had its simulated views in its vector: the items over the
     * time from the first timed stream to the refiner going idle, less the raw-model runs in between.
     * Equal to `imagesPerSec` when views are averaged in before the upsert returns.
     */
    refinedItemsPerSec: number;
    /** The refiner's stage times over the run (GetCatalogStats.refinement), when it refines in the background. */
    refinement?: { refined: number; simulateMs: number; decodeMs: number; embedMs: number; commitMs: number };
    /** Where one item's time goes, stage by stage (see measureIngestBreakdown). */
    breakdown: IngestBreakdown;
  };
  /** What the bench's servers ran with: the service defaults unless the bench was given options. */
  served: {
    catalogViews: number;
    catalogViewsInBackground: boolean;
    catalogViewWorkers: number;
    queryMirror: boolean;
    maxBatchSize: number;
    maxBatchWaitMs: number;
    intraOpThreads: number;
    decodeProcesses: number;
    modelManifest: string;
  };
  /** The warm path's costs (AddExamples, one adaptation), unless examplePhotos is 0. */
  warmPath?: WarmPathResult;
  /** The int8 model's raw speed, when its manifest (manifest.int8.json beside the model's) exists. */
  rawInt8?: { manifest: string; result: RawModelResult };
  catalog: CatalogFillResult & { method: string };
  search: SearchModeResult[];
  ratios: {
    /** Ingest images/s / raw batch-16 images/s. */
    ingestOverRawBatch16: number;
    /** The raw batch-16 images/s that ratio divided by (paired when rawEmbedPaired). */
    rawBatch16ImagesPerSec: number;
    /** Search p50 at concurrency 1 / raw batch-1 p50 run time, micro-batching on (the default). */
    searchP50OverRawEmbedOn: number;
    /** The same with micro-batching off. */
    searchP50OverRawEmbedOff: number;
    /** The raw batch-1 p50 (ms) each of those two ratios divided by. */
    rawEmbedMsOn: number;
    rawEmbedMsOff: number;
    /** True: those were timed alternating with the searches (pairBaseline); false: the raw model section's. */
    rawEmbedPaired: boolean;
    /** True: the raw batch-16 figure was timed between the ingest rounds. */
    rawBatch16Paired: boolean;
    /** Searches/s at the highest concurrency, micro-batching on / off. */
    searchThroughputOnOverOff: number;
    /** The concurrency the throughput ratio was taken at. */
    throughputConcurrency: number;
    /**
     * With every stage on (allStages): Search p50 at concurrency 1 / the raw batch-1 p50 timed
     * alongside it (or the raw model section's), and that raw figure.
     */
    allStagesP50OverRawEmbed?: number;
    rawEmbedMsAllStages?: number;
    /**
     * With allStages: the service defaults against the same server with no optional stage (no
     * cut-out, text evidence or pair head): Search p50 at concurrency 1, and searches/s at the highest.
     */
    searchP50OverNoStages?: number;
    searchThroughputOverNoStages?: number;
  };
  targets: BenchTarget[];
  /**
   * Signs of other load on the machine. Drifts: how far the raw model figures timed alongside the
   * service (pairBaseline) moved from the raw model section's (|alongside / section - 1|).
   * cpuPressure: the largest share of time some task waited for a CPU while a raw batch size was
   * timed (Linux PSI; null elsewhere; about 0 when nothing else ran). `warning` is set when a drift
   * exceeds {@link DRIFT_WARNING} or cpuPressure {@link CPU_PRESSURE_WARNING}.
   */
  stability: { rawBatch16Drift: number | null; rawBatch1Drift: number | null; cpuPressure: number | null; warning?: string };
}

/** Drift between raw figures of one run beyond which the report warns that the machine was busy. */
export const DRIFT_WARNING = 0.2;
/** CPU pressure while timing the raw model above which the report warns that the machine was busy. */
export const CPU_PRESSURE_WARNING = 0.1;
