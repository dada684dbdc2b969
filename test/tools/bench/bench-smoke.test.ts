/**
 * Smoke test of `twinlens-dev bench`: runs the whole benchmark (raw model, a real server ingesting over
 * gRPC, searches with micro-batching on and off) at tiny sizes and checks the report's shape.
 * Nothing here asserts on speed: the machine is shared and timings are noise at these sizes.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DEFAULT_OPTIONS } from '../../../src/config/index.js';
import { benchSummary, formatBenchReport, quantile, runBench, runClosedLoop, summarize, type BenchReport } from '../../../tools/bench/index.js';

const positive = (v: number): void => {
  expect(Number.isFinite(v)).toBe(true);
  expect(v).toBeGreaterThan(0);
};

describe('bench helpers', () => {
  it('computes interpolated quantiles and summaries', () => {
    expect(quantile([3, 1, 2, 4], 0.5)).toBe(2.5);
    expect(quantile([5], 0.95)).toBe(5);
    expect(quantile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11], 0.95)).toBe(10.5);
    expect(Number.isNaN(quantile([], 0.5))).toBe(true);
    expect(summarize([4, 1, 3, 2])).toEqual({ n: 4, mean: 2.5, min: 1, p50: 2.5, p95: expect.closeTo(3.85, 10), max: 4 });
  });

  it('runs a closed loop with the asked concurrency and numbers timed calls after the warm-up', async () => {
    let inFlight = 0;
    let peak = 0;
    const seen: number[] = [];
    const r = await runClosedLoop(
      async (i) => {
        inFlight++;
        peak = Math.max(peak, inFlight);
        await new Promise((res) => setTimeout(res, 1));
        inFlight--;
        seen.push(i);
        return i;
      },
      { concurrency: 3, total: 9, warmup: 2 },
    );
    expect(peak).toBe(3);
    expect(r.latenciesMs).toHaveLength(9);
    expect([...r.results].sort((a, b) => a - b)).toEqual([2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(seen).toHaveLength(11);
  });
});

const defaultModelHasPairHead = JSON.parse(fs.readFileSync(DEFAULT_OPTIONS.modelManifest, 'utf8')).pairHead != null;
/** The optional Search stages the service runs on its defaults. */
const stagesOnByDefault = [
  ...(DEFAULT_OPTIONS.queryCutout ? ['cut-out'] : []),
  ...(DEFAULT_OPTIONS.colorEvidence ? ['color'] : []),
  ...(DEFAULT_OPTIONS.textEvidence ? ['text'] : []),
  // The bundled evidence head weighs the colour and text of the default model's hits.
  ...(DEFAULT_OPTIONS.evidenceHead && DEFAULT_OPTIONS.colorEvidence && DEFAULT_OPTIONS.textEvidence ? ['evidence head'] : []),
];

describe('runBench (quick, tiny)', () => {
  let report: BenchReport;
  const lines: string[] = [];

  beforeAll(async () => {
    report = await runBench({
      quick: true,
      ingestImages: 6,
      watches: 3,
      queryImages: 3,
      // The warm-path phase: 24 confirmed photos (the adapter learns from 20 or more) of 3 items.
      examplePhotos: 24,
      catalogSize: 40,
      searchesPerLevel: 4,
      searchWarmup: 1,
      concurrencies: [1, 3],
      rawMinRuns: 2,
      rawMinDurationMs: 0,
      // degradeImage's pixel loops run many times slower in jest's vm realm; sharp-made photos keep this test quick.
      photos: 'resized',
      // 2 catalog views instead of the default's 16 keep the background refinement short here.
      server: { catalogViews: 2 },
      log: (l) => lines.push(l),
    });
  }, 300_000);

  it('reports the machine and the resolved settings', () => {
    expect(report.schema).toBe(1);
    expect(report.quick).toBe(true);
    expect(report.machine.cores).toBeGreaterThan(0);
    expect(report.machine.nodeVersion).toMatch(/^v\d+/);
    expect(report.settings.rawBatchSizes).toEqual([1, 16]);
    expect(report.settings.concurrencies).toEqual([1, 3]);
    expect(report.images).toMatchObject({ ingest: 6, queries: 3, examples: 24, width: 640, height: 480 });
    expect(lines.length).toBeGreaterThan(0);
  });

  it('measures the raw model at batch 1 and 16', () => {
    expect(report.raw.provider).toBe('cpu');
    expect(report.raw.batches.map((b) => b.batchSize)).toEqual([1, 16]);
    for (const b of report.raw.batches) {
      expect(b.runs).toBeGreaterThanOrEqual(2);
      positive(b.imagesPerSec);
      positive(b.p50RunMs);
      positive(b.p95RunMs);
      if (b.cpuPressure !== null) expect(b.cpuPressure).toBeGreaterThanOrEqual(0);
    }
  });

  it('measures ingest over gRPC, and decoding alone', () => {
    expect(report.ingest).toMatchObject({ images: 6, upserted: 6, failed: 0, maxBatchSize: 16, rounds: 2 });
    positive(report.ingest.pairedRawBatch16!.imagesPerSec);
    positive(report.ingest.imagesPerSec);
    positive(report.ingest.decodeOnly.imagesPerSec);
    positive(report.ingest.sharedCoreCeilingImagesPerSec);
    positive(report.ingest.meanImageBytes);
  });

  it('runs the service defaults (but for what it was given), says so, and times ingest to searchable, to refined and stage by stage', () => {
    expect(report.served).toMatchObject({
      catalogViews: 2,
      catalogViewsInBackground: DEFAULT_OPTIONS.catalogViewsInBackground,
      queryMirror: DEFAULT_OPTIONS.queryMirror,
      maxBatchSize: DEFAULT_OPTIONS.maxBatchSize,
    });
    positive(report.ingest.refinedItemsPerSec);
    expect(report.ingest.refinement!.refined).toBeGreaterThanOrEqual(6);
    const bd = report.ingest.breakdown;
    expect(bd).toMatchObject({ items: 2, views: 2 });
    for (const v of [bd.simulateMs, bd.decodeMs, bd.modelCleanMs, bd.modelViewsMs, bd.commitMs]) positive(v);
    const text = formatBenchReport(report);
    expect(text).toContain('ingest to refined');
    expect(text).toContain('catalogViews 2 refined in the background');
    // An int8 row exactly when an int8 manifest sits beside the default model's.
    const int8 = path.join(path.dirname(DEFAULT_OPTIONS.modelManifest), 'manifest.int8.json');
    expect(report.rawInt8?.manifest).toBe(fs.existsSync(int8) ? int8 : undefined);
  });

  it('fills the catalog honestly and says how', () => {
    expect(report.catalog.total).toBe(40);
    expect(report.catalog.realItems).toBe(6);
    expect(report.catalog.jitteredCopies).toBe(34);
    expect(report.catalog.method).toContain('UpsertItems');
  });

  it('measures search at each concurrency with micro-batching on and off, then with every stage on', () => {
    expect(report.search.map((m) => [m.microBatching, m.maxBatchSize, m.stages])).toEqual([
      ['on', 16, stagesOnByDefault],
      ['off', 1, stagesOnByDefault],
      // The pair head only when the served model has one (the shipped default's manifest leaves it out).
      ['on', 16, ['cut-out', 'color', 'text', 'evidence head', ...(defaultModelHasPairHead ? ['pair head'] : [])]],
      ['on', 16, []],
    ]);
    // The stages' own timings are reported by the server when, and only when, they ran.
    for (const l of report.search[2].levels) {
      positive(l.server.cutoutMs);
      positive(l.server.textMs);
      positive(l.server.colorMs);
      positive(l.server.rerankMs); // the evidence head (and the pair head, when the model has one)
    }
    expect(report.search[1].levels.every((l) => l.server.cutoutMs === 0)).toBe(true);
    expect(report.search[3].levels.every((l) => l.server.cutoutMs === 0 && l.server.colorMs === 0 && l.server.textMs === 0 && l.server.rerankMs === 0)).toBe(true);
    expect(report.ratios.searchP50OverNoStages).toBe(report.search[0].levels[0].p50Ms / report.search[3].levels[0].p50Ms);
    expect(formatBenchReport(report)).toMatch(/search p50 \(concurrency 1, cut-out \+ color \+ text \+ evidence head( \+ pair head)?\), ms/);
    // Compare on each server: scored by the evidence head where it applies, by the cosine with no stage.
    expect(report.search.map((m) => m.compare.scoredBy)).toEqual(['RANKING_STAGE_PAIR_HEAD', 'RANKING_STAGE_PAIR_HEAD', 'RANKING_STAGE_PAIR_HEAD', 'RANKING_STAGE_EMBEDDING']);
    for (const mode of report.search) {
      expect(mode.compare.calls).toBe(4);
      positive(mode.compare.p50Ms);
      positive(mode.compare.server.totalMs);
      expect(mode.compare.server.textMs > 0).toBe(mode.stages.includes('text'));
      expect(mode.levels[0].paired).toBeDefined();
      expect(mode.levels[1].paired).toBeUndefined();
      for (const l of mode.levels) {
        expect(l.searches).toBe(4);
        expect(l.candidatesScanned).toBe(40);
        positive(l.p50Ms);
        positive(l.p95Ms);
        expect(l.p95Ms).toBeGreaterThanOrEqual(l.p50Ms);
        positive(l.searchesPerSec);
        positive(l.server.totalMs);
      }
    }
  });

  it('computes the ratios and the targets from the same run', () => {
    positive(report.ratios.ingestOverRawBatch16);
    positive(report.ratios.searchP50OverRawEmbedOn);
    positive(report.ratios.searchP50OverRawEmbedOff);
    positive(report.ratios.searchThroughputOnOverOff);
    expect(report.ratios.throughputConcurrency).toBe(3);
    expect(report.ratios).toMatchObject({ rawEmbedPaired: true, rawBatch16Paired: true });
    expect(report.ratios.rawEmbedMsOn).toBe(report.search[0].levels[0].paired!.baselineP50Ms);
    expect(report.ratios.rawBatch16ImagesPerSec).toBe(report.ingest.pairedRawBatch16!.imagesPerSec);
    expect(report.targets.map((t) => [t.comparison, t.target])).toEqual([
      ['>=', 0.75],
      ['<=', 1.5],
      ['<=', 250],
    ]);
    expect(report.targets[2].value).toBe(report.search[2].levels[0].p50Ms);
    expect(report.ratios.allStagesP50OverRawEmbed).toBe(report.search[2].levels[0].p50Ms / report.search[2].levels[0].paired!.baselineP50Ms);
    for (const t of report.targets) expect(typeof t.met).toBe('boolean');
    positive(report.stability.rawBatch16Drift! + 1);
    positive(report.stability.rawBatch1Drift! + 1);
    expect(report.stability.cpuPressure === null || report.stability.cpuPressure >= 0).toBe(true);
  });

  it('measures the warm path: confirmed photos through AddExamples, then one adaptation, learning and roll-in apart', () => {
    const w = report.warmPath!;
    expect(w).toMatchObject({ items: 3, examples: 24, outcome: expect.stringMatching(/^(adapted|kept)$/), reason: expect.stringMatching(/\S/) });
    positive(w.examplesPerSec);
    positive(w.learnMs);
    // A roll-in happens only when the learned model won on the held-out photos.
    if (w.outcome === 'adapted') positive(w.rollInMs);
    else expect(w.rollInMs).toBe(0);
    expect(w.learnSecondsPer1000Examples).toBeCloseTo(w.learnMs / 24, 6);
    expect(report.images.examples).toBe(24);
  });

  it('formats a table ending in one JSON line, and serialises to JSON', () => {
    const text = formatBenchReport(report);
    expect(text).toContain('Raw model');
    expect(text).toContain('Ingest over gRPC');
    expect(text).toContain('Search over gRPC');
    expect(text).toContain('Warm path: 24 confirmed photos of 3 items');
    const last = text.split('\n').at(-1)!;
    expect(last.startsWith('json {')).toBe(true);
    expect(JSON.parse(last.slice('json '.length))).toEqual(JSON.parse(JSON.stringify(benchSummary(report))));
    expect(JSON.parse(JSON.stringify(report)).ratios).toEqual(report.ratios);
  });
});
