import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import type { TwinlensOptions } from '../../src/config/index.js';
import { type LoadedManifest, loadManifest } from '../../src/model/index.js';
import type { TwinlensEngine } from '../../src/engine/index.js';
import { UPLOAD_CONCURRENCY } from '../../src/server/drain-uploads.js';
import { makeBenchImages, type BenchImageSet } from './bench-images.js';
import { type BenchOptions, type ResolvedBenchSettings, resolveBenchSettings } from './bench-options.js';
import {
  type BenchReport,
  type BenchTarget,
  CPU_PRESSURE_WARNING,
  DRIFT_WARNING,
  ALL_STAGES_P50_TARGET_MS,
  INGEST_TARGET,
  SEARCH_LATENCY_TARGET,
  type SearchModeResult,
} from './bench-report.js';
import { type BenchServerBase, startBenchServer } from './bench-server.js';
import { topUpCatalog } from './catalog-fill.js';
import { benchDecode, benchIngest, benchItemId } from './ingest.js';
import { measureIngestBreakdown } from './ingest-breakdown.js';
import { machineInfo } from './machine-info.js';
import { benchRawModel, openRawRunner, type RawBatchResult, type RawModelResult, type RawRunner } from './raw-model.js';
import { benchSearch, type SearchLevelResult } from './search-latency.js';
import { benchCompare } from './compare-latency.js';
import { benchWarmPath } from './warm-path.js';

export type { BenchOptions, BenchReport };

const WARMUP_PREFIX = 'bench-warmup-';
/** Relative per-component jitter of the catalog's top-up copies. */
const JITTER = 0.15;

function rawBatch(raw: RawModelResult, size: number): RawBatchResult {
  const b = raw.batches.find((x) => x.batchSize === size);
  if (!b) throw new Error(`raw model: batch ${size} was not measured`);
  return b;
}

/** Ingest on a fresh server, then the catalog topped up for the search phase. */
async function ingestPhase(
  base: BenchServerBase,
  images: BenchImageSet,
  manifest: LoadedManifest,
  raw: RawModelResult,
  settings: ResolvedBenchSettings,
  log: (line: string) => void,
): Promise<{ ingest: BenchReport['ingest']; catalog: BenchReport['catalog']; served: BenchReport['served'] }> {
  const s = await startBenchServer(base);
  const baseline = settings.pairBaseline ? await openBaseline(manifest, settings, 16) : undefined;
  try {
    const catalog = s.server.engine.catalog;
    // Warm-up: a fresh server's first model runs and commits are slower (allocations, table creation).
    const warm = images.queries.slice(0, Math.min(images.queries.length, 8));
    const rounds = Math.min(settings.ingestRounds, images.ingest.length);
    log(`ingest: warm-up with ${warm.length} items, then ${images.ingest.length} images in ${rounds} UpsertItems streams`);
    await benchIngest(s.clients.catalog, warm, WARMUP_PREFIX);
    let ingested = 0;
    let ingestMs = 0;
    let rawImages = 0;
    let rawMs = 0;
    let meanBytes = 0;
    const firstStream = performance.now();
    for (let r = 0; r < rounds; r++) {
      const chunk = images.ingest.slice(Math.floor((r * images.ingest.length) / rounds), Math.floor(((r + 1) * images.ingest.length) / rounds));
      if (baseline) {
        const runs = Math.max(1, Math.round(chunk.length / 16));
        const t = performance.now();
        for (let i = 0; i < runs; i++) await baseline.run(16);
        rawMs += performance.now() - t;
        rawImages += runs * 16;
      }
      const result = await benchIngest(s.clients.catalog, chunk, `bench-item-r${r}-`);
      ingested += result.upserted;
      ingestMs += result.elapsedMs;
      meanBytes += result.meanImageBytes * chunk.length;
    }
    const pairedRawBatch16 = baseline ? { imagesPerSec: (rawImages * 1000) / rawMs, runs: rawImages / 16 } : undefined;
    log(
      `  ${((ingested * 1000) / ingestMs).toFixed(1)} items/s searchable` +
        (pairedRawBatch16 ? ` (raw batch 16 alongside: ${pairedRawBatch16.imagesPerSec.toFixed(1)} img/s)` : ''),
    );
    const refiner = s.server.engine.refiner;
    if (refiner) log(`  waiting for the background refinement of ${refiner.progress.pending} rows`);
    await refiner?.idle();
    const refinedMs = refiner ? performance.now() - firstStream - rawMs : ingestMs;
    const refinedItemsPerSec = (ingested * 1000) / refinedMs;
    const refinement = refiner ? (({ refined, simulateMs, decodeMs, embedMs, commitMs }) => ({ refined, simulateMs, decodeMs, embedMs, commitMs }))(refiner.progress) : undefined;
    log(`  ${refinedItemsPerSec.toFixed(2)} items/s refined (views in the vector)`);
    const breakdown = await measureIngestBreakdown(s.server.engine, images.ingest.slice(0, settings.quick ? 2 : 8), 'bench-breakdown-');
    log(
      `  one item: simulate ${breakdown.simulateMs.toFixed(0)} ms, decode ${breakdown.decodeMs.toFixed(0)} ms, ` +
        `model ${breakdown.modelCleanMs.toFixed(0)} ms clean / ${breakdown.modelViewsMs.toFixed(0)} ms with views, commit ${breakdown.commitMs.toFixed(0)} ms`,
    );
    const decodeOnly = await benchDecode(s.server.engine.decoder, images.ingest, UPLOAD_CONCURRENCY);
    log(`  decode alone: ${decodeOnly.imagesPerSec.toFixed(1)} img/s`);
    // The warm-up items were query photos: take them out so that no query is in the catalog verbatim.
    for (let i = 0; i < warm.length; i++) await catalog.delete(benchItemId(WARMUP_PREFIX, i));
    const raw16 = pairedRawBatch16?.imagesPerSec ?? rawBatch(raw, 16).imagesPerSec;
    const ingest: BenchReport['ingest'] = {
      images: images.ingest.length,
      upserted: ingested,
      failed: 0,
      meanImageBytes: Math.round(meanBytes / images.ingest.length),
      elapsedMs: ingestMs,
      imagesPerSec: (ingested * 1000) / ingestMs,
      warmupImages: warm.length,
      rounds,
      ...(pairedRawBatch16 ? { pairedRawBatch16 } : {}),
      maxBatchSize: s.server.options.maxBatchSize,
      maxBatchWaitMs: s.server.options.maxBatchWaitMs,
      decodeOnly,
      sharedCoreCeilingImagesPerSec: 1 / (1 / decodeOnly.imagesPerSec + 1 / raw16),
      refinedItemsPerSec,
      ...(refinement ? { refinement } : {}),
      breakdown,
    };
    const o = s.server.options;
    const served: BenchReport['served'] = {
      catalogViews: o.catalogViews,
      catalogViewsInBackground: o.catalogViewsInBackground,
      catalogViewWorkers: o.catalogViewWorkers,
      queryMirror: o.queryMirror,
      maxBatchSize: o.maxBatchSize,
      maxBatchWaitMs: o.maxBatchWaitMs,
      intraOpThreads: o.intraOpThreads,
      decodeProcesses: o.decodeProcesses,
      modelManifest: path.relative(process.cwd(), o.modelManifest) || o.modelManifest,
    };
    log(`  served with: ${JSON.stringify(served)}`);

    log(`catalog: topping up ${catalog.size} ingested items to ${settings.catalogSize}`);
    const fill = await topUpCatalog(catalog, settings.catalogSize, { seed: settings.seed, jitter: JITTER });
    return {
      ingest,
      served,
      catalog: {
        ...fill,
        method:
          `${fill.realItems} items ingested through gRPC UpsertItems (decoded and embedded by the service); ` +
          `${fill.jitteredCopies} more written with catalog.upsert() as copies of them whose real embeddings were ` +
          `jittered (x(1+${JITTER}*N(0,1)) per component, re-normalised)`,
      },
    };
  } finally {
    await baseline?.release();
    await s.stop();
  }
}

/** The int8 model's manifest beside the benched one's (the int8 backbone, when it has landed). */
function int8ManifestOf(modelManifest: string): string {
  return path.join(path.dirname(modelManifest), 'manifest.int8.json');
}

/** The raw-model bench of `manifest` with the run's batch sizes, run counts, providers and seed (float and int8 rows alike). */
function benchRawModelWith(settings: ResolvedBenchSettings, manifest: LoadedManifest): ReturnType<typeof benchRawModel> {
  return benchRawModel({
    manifest,
    batchSizes: settings.rawBatchSizes,
    warmupRuns: settings.rawWarmupRuns,
    minRuns: settings.rawMinRuns,
    minDurationMs: settings.rawMinDurationMs,
    providers: settings.executionProviders,
    intraOpThreads: settings.intraOpThreads,
    seed: settings.seed,
  });
}

/** Raw int8 throughput at the same batch sizes, when the int8 manifest exists; undefined otherwise. */
async function benchInt8(settings: ResolvedBenchSettings, log: (line: string) => void): Promise<BenchReport['rawInt8']> {
  const file = int8ManifestOf(settings.modelManifest);
  if (!(await fs.stat(file).then(() => true, () => false))) return undefined;
  log(`raw int8 model (${file}): batch sizes ${settings.rawBatchSizes.join(', ')}`);
  const result = await benchRawModelWith(settings, await loadManifest(file));
  for (const b of result.batches) log(`  int8 batch ${b.batchSize}: ${b.imagesPerSec.toFixed(1)} img/s`);
  return { manifest: file, result };
}

/** A second raw session for paired figures, warmed up at `batchSize`. */
async function openBaseline(manifest: LoadedManifest, settings: ResolvedBenchSettings, batchSize: number): Promise<RawRunner> {
  const runner = await openRawRunner(manifest, {
    providers: settings.executionProviders,
    intraOpThreads: settings.intraOpThreads,
    seed: settings.seed,
  });
  for (let i = 0; i < Math.max(1, settings.rawWarmupRuns); i++) await runner.run(batchSize);
  return runner;
}

/** The optional Search stages a server runs ('cut-out', 'color', 'text', 'pair head'). */
function stagesOf(options: TwinlensOptions, manifest: LoadedManifest, engine: TwinlensEngine): string[] {
  return [
    ...(options.queryCutout ? ['cut-out'] : []),
    ...(options.colorEvidence ? ['color'] : []),
    ...(options.textEvidence ? ['text'] : []),
    ...(engine.evidenceHeadInUse() ? ['evidence head'] : []),
    ...(options.usePairHead && manifest.pairHead ? ['pair head'] : []),
  ];
}

/**
 * Search on the filled catalog: the service defaults with micro-batching on (as configured) and off
 * (maxBatchSize 1), then (allStages) micro-batching on with every stage on: the query cut-out, the
 * colour and text evidence, the evidence head weighing them (when it applies) and the model's pair head (when
 * its manifest has one: the shipped default's leaves it out), and with none of them, so that one run shows what the stages cost. A server with the text
 * evidence first reads its catalog's print, so that its background reading does not run during the
 * timed searches.
 */
async function searchPhase(
  base: BenchServerBase,
  images: BenchImageSet,
  manifest: LoadedManifest,
  settings: ResolvedBenchSettings,
  log: (line: string) => void,
): Promise<SearchModeResult[]> {
  const baseline = settings.pairBaseline && settings.concurrencies[0] === 1 ? await openBaseline(manifest, settings, 1) : undefined;
  const pairedBaseline = baseline ? () => baseline.run(1) : undefined;
  const configurations: { mode: 'on' | 'off'; overrides: Partial<TwinlensOptions> }[] = [
    { mode: 'on', overrides: {} },
    { mode: 'off', overrides: { maxBatchSize: 1 } },
    ...(settings.allStages
      ? [
          { mode: 'on' as const, overrides: { queryCutout: true, colorEvidence: true, textEvidence: true, usePairHead: manifest.pairHead !== null } },
          { mode: 'on' as const, overrides: { queryCutout: false, colorEvidence: false, textEvidence: false, usePairHead: false } },
        ]
      : []),
  ];
  try {
    const search: SearchModeResult[] = [];
    for (const { mode, overrides } of configurations) {
      const s = await startBenchServer(base, overrides);
      try {
        const stages = stagesOf(s.server.options, manifest, s.server.engine);
        const name = `micro-batching ${mode}${stages.length > 0 ? `, ${stages.join(' + ')}` : ''}`;
        if (s.server.engine.textEvidence) {
          const t0 = performance.now();
          await s.server.engine.textEvidence.idle();
          log(`search, ${name}: catalog print read in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
        }
        const levels: SearchLevelResult[] = [];
        for (const concurrency of settings.concurrencies) {
          const level = await benchSearch(s.clients.twinlens, {
            queries: images.queries,
            concurrency,
            total: settings.searchesPerLevel,
            warmup: Math.max(settings.searchWarmup, concurrency),
            topK: settings.topK,
            pairedBaseline: concurrency === 1 ? pairedBaseline : undefined,
          });
          levels.push(level);
          log(
            `search, ${name}, concurrency ${concurrency}: p50 ${level.p50Ms.toFixed(1)} ms, ` +
              `p95 ${level.p95Ms.toFixed(1)} ms, ${level.searchesPerSec.toFixed(1)} searches/s` +
              (level.paired ? ` (raw batch 1 alongside: ${level.paired.baselineP50Ms.toFixed(1)} ms)` : ''),
          );
        }
        const itemIds = [...s.server.engine.catalog.rows()].slice(0, 16).map((r) => r.itemId);
        const compare = await benchCompare(s.clients.twinlens, { photos: images.queries, itemIds, total: settings.searchesPerLevel, warmup: settings.searchWarmup });
        log(`compare, ${name}: p50 ${compare.p50Ms.toFixed(1)} ms, p95 ${compare.p95Ms.toFixed(1)} ms, scored by ${compare.scoredBy}`);
        const { maxBatchSize, maxBatchWaitMs } = s.server.options;
        search.push({ microBatching: mode, stages, maxBatchSize, maxBatchWaitMs, levels, compare });
      } finally {
        await s.stop();
      }
    }
    return search;
  } finally {
    await baseline?.release();
  }
}

/** The ratios the issue sets targets for, all from this run's figures. */
function ratiosOf(
  raw: RawModelResult,
  ingest: BenchReport['ingest'],
  search: SearchModeResult[],
  concurrencies: number[],
): { ratios: BenchReport['ratios']; targets: BenchTarget[] } {
  // search[2]: every optional stage on, search[3]: none (allStages).
  const [on, off, all, none] = search;
  const lowest = concurrencies[0];
  const highest = concurrencies[concurrencies.length - 1];
  const level = (m: SearchModeResult, c: number): SearchLevelResult => m.levels.find((l) => l.concurrency === c)!;
  const raw1 = rawBatch(raw, 1).p50RunMs;
  const rawEmbedOn = level(on, lowest).paired?.baselineP50Ms ?? raw1;
  const rawEmbedOff = level(off, lowest).paired?.baselineP50Ms ?? raw1;
  const raw16 = ingest.pairedRawBatch16?.imagesPerSec ?? rawBatch(raw, 16).imagesPerSec;
  const ratios: BenchReport['ratios'] = {
    ingestOverRawBatch16: ingest.imagesPerSec / raw16,
    rawBatch16ImagesPerSec: raw16,
    rawBatch16Paired: ingest.pairedRawBatch16 !== undefined,
    searchP50OverRawEmbedOn: level(on, lowest).p50Ms / rawEmbedOn,
    searchP50OverRawEmbedOff: level(off, lowest).p50Ms / rawEmbedOff,
    rawEmbedMsOn: rawEmbedOn,
    rawEmbedMsOff: rawEmbedOff,
    rawEmbedPaired: level(on, lowest).paired !== undefined,
    searchThroughputOnOverOff: level(on, highest).searchesPerSec / level(off, highest).searchesPerSec,
    throughputConcurrency: highest,
  };
  if (all && none) {
    ratios.rawEmbedMsAllStages = level(all, lowest).paired?.baselineP50Ms ?? raw1;
    ratios.allStagesP50OverRawEmbed = level(all, lowest).p50Ms / ratios.rawEmbedMsAllStages;
    ratios.searchP50OverNoStages = level(on, lowest).p50Ms / level(none, lowest).p50Ms;
    ratios.searchThroughputOverNoStages = level(on, highest).searchesPerSec / level(none, highest).searchesPerSec;
  }
  const targets: BenchTarget[] = [
    {
      name: 'ingest / raw model batch 16',
      value: ratios.ingestOverRawBatch16,
      comparison: '>=',
      target: INGEST_TARGET,
      met: ratios.ingestOverRawBatch16 >= INGEST_TARGET,
    },
    {
      name: `search p50 (concurrency ${lowest}, micro-batching on) / raw embed batch 1`,
      value: ratios.searchP50OverRawEmbedOn,
      comparison: '<=',
      target: SEARCH_LATENCY_TARGET,
      met: ratios.searchP50OverRawEmbedOn <= SEARCH_LATENCY_TARGET,
    },
  ];
  if (all) {
    const p50 = level(all, lowest).p50Ms;
    targets.push({
      name: `search p50 (concurrency ${lowest}, ${all.stages.join(' + ')}), ms`,
      value: p50,
      comparison: '<=',
      target: ALL_STAGES_P50_TARGET_MS,
      met: p50 <= ALL_STAGES_P50_TARGET_MS,
    });
  }
  return { ratios, targets };
}

function stabilityOf(raw: RawModelResult, ratios: BenchReport['ratios']): BenchReport['stability'] {
  const drift = (alongside: number, section: number): number => Math.abs(alongside / section - 1);
  const rawBatch16Drift = ratios.rawBatch16Paired ? drift(ratios.rawBatch16ImagesPerSec, rawBatch(raw, 16).imagesPerSec) : null;
  const rawBatch1Drift = ratios.rawEmbedPaired
    ? Math.max(drift(ratios.rawEmbedMsOn, rawBatch(raw, 1).p50RunMs), drift(ratios.rawEmbedMsOff, rawBatch(raw, 1).p50RunMs))
    : null;
  const worst = Math.max(rawBatch16Drift ?? 0, rawBatch1Drift ?? 0);
  const pressures = raw.batches.map((b) => b.cpuPressure).filter((p): p is number => p !== null);
  const cpuPressure = pressures.length > 0 ? Math.max(...pressures) : null;
  const problems: string[] = [];
  if (worst > DRIFT_WARNING) problems.push(`raw model speed changed by up to ${Math.round(worst * 100)}% during the run`);
  if (cpuPressure !== null && cpuPressure > CPU_PRESSURE_WARNING) {
    problems.push(`tasks waited for a CPU ${Math.round(cpuPressure * 100)}% of the time while the raw model was timed`);
  }
  return {
    rawBatch16Drift,
    rawBatch1Drift,
    cpuPressure,
    ...(problems.length > 0
      ? {
          warning:
            `${problems.join(' and ')}: other processes (or background work in this one) took CPU time, ` +
            'so these figures, ratios included, are less reliable; rerun on a quiet machine',
        }
      : {}),
  };
}

/**
 * Runs the whole benchmark in this process: raw model throughput through ONNX Runtime, then a real
 * twinlens server (gRPC on 127.0.0.1, CPU provider by default, temporary data directory) for ingest
 * throughput over UpsertItems and Search latency at each concurrency with micro-batching on and
 * off. The ratios the issue sets targets for are computed from figures of this same run. The
 * gRPC clients run in this process too. Nothing else should run on the machine meanwhile.
 */
export async function runBench(options: BenchOptions = {}): Promise<BenchReport> {
  const settings = resolveBenchSettings(options);
  const log = options.log ?? (() => undefined);
  const startedAt = new Date();
  const t0 = performance.now();
  const machine = machineInfo();
  const manifest = await loadManifest(settings.modelManifest);

  log(
    `generating ${settings.ingestImages} ingest, ${settings.queryImages} query and ${settings.examplePhotos} confirmed photos ` +
      `from ${settings.watches} demo watches`,
  );
  const images = await makeBenchImages({
    watches: settings.watches,
    ingestImages: settings.ingestImages,
    queryImages: settings.queryImages,
    exampleImages: settings.examplePhotos,
    seed: settings.seed,
    photos: settings.photos,
  });
  log(`  done in ${(images.elapsedMs / 1000).toFixed(1)} s (mean ${Math.round(images.meanBytes / 1024)} KiB per JPEG)`);

  log(`raw model: batch sizes ${settings.rawBatchSizes.join(', ')}`);
  const raw = await benchRawModelWith(settings, manifest);
  for (const b of raw.batches) log(`  batch ${b.batchSize}: ${b.imagesPerSec.toFixed(1)} img/s, ${b.p50RunMs.toFixed(1)} ms/run`);
  const rawInt8 = await benchInt8(settings, log);

  const root = await fs.mkdtemp(path.join(options.tmpDir ?? os.tmpdir(), 'twinlens-bench-'));
  try {
    const base: BenchServerBase = {
      dataDir: path.join(root, 'data'),
      modelManifest: settings.modelManifest,
      executionProviders: settings.executionProviders,
      intraOpThreads: settings.intraOpThreads,
      extra: settings.server,
      log,
    };
    const { ingest, catalog, served } = await ingestPhase(base, images, manifest, raw, settings, log);
    const search = await searchPhase(base, images, manifest, settings, log);
    const warmPath = images.examples.length > 0 ? await benchWarmPath({ ...base, dataDir: path.join(root, 'warm') }, images.ingest, images.examples, log) : undefined;
    const { ratios, targets } = ratiosOf(raw, ingest, search, settings.concurrencies);
    return {
      schema: 1,
      startedAt: startedAt.toISOString(),
      quick: settings.quick,
      elapsedMs: performance.now() - t0,
      machine,
      loadAverage1mEnd: Math.round(os.loadavg()[0] * 100) / 100,
      settings,
      model: { name: manifest.name, version: manifest.version, inputSize: manifest.input.size, embeddingDim: manifest.embeddingDim },
      images: {
        ingest: images.ingest.length,
        queries: images.queries.length,
        examples: images.examples.length,
        width: images.width,
        height: images.height,
        meanBytes: images.meanBytes,
        method: images.method,
        elapsedMs: images.elapsedMs,
      },
      raw,
      ...(rawInt8 ? { rawInt8 } : {}),
      ingest,
      served,
      catalog,
      search,
      ...(warmPath ? { warmPath } : {}),
      ratios,
      targets,
      stability: stabilityOf(raw, ratios),
    };
  } finally {
    await fs.rm(root, { recursive: true, force: true });
  }
}
