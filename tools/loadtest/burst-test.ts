import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { status } from '@grpc/grpc-js';
import sharp from 'sharp';
import { quantile } from '../../src/eval/percentiles.js';
import { createRng } from '../../src/demo/index.js';
import { type CallOutcome, codeName, connectLoadClients, type LoadClients, search } from './grpc-calls.js';
import type { LoadCatalogItem } from './load-images.js';
import { seedCatalog } from './seed-catalog.js';
import { healthStatus, startServerProcess } from './server-process.js';
import { setTimeout as sleep } from 'node:timers/promises';

/** Options of {@link runBurstTest}. */
export interface BurstTestOptions {
  /** A fresh folder: the catalog goes in `<workDir>/data`. */
  workDir: string;
  /** Items to seed (a correct Search afterwards needs them). */
  catalog: LoadCatalogItem[];
  /** Search calls started at once per round. Default 2,000. */
  calls?: number;
  /** Size of the query image, in bytes (a noisy JPEG of at least this size). Default 200,000. */
  imageBytes?: number;
  /** Client connections the burst is spread over. Default 8. */
  connections?: number;
  /** Rounds (memory must not grow from one to the next). Default 3. */
  rounds?: number;
  /** The server's maxImagesInProgress (TWINLENS_MAX_IMAGES_IN_PROGRESS). Default 64 (the server's default). */
  maxImagesInProgress?: number;
  /**
   * The server's maxImageCallsInProgress (TWINLENS_MAX_IMAGE_CALLS_IN_PROGRESS): calls admitted on
   * their headers. Default 128 (the server's default).
   */
  maxImageCallsInProgress?: number;
  /** Deadline of each call, in ms. Default 60,000. */
  deadlineMs?: number;
  log?: (line: string) => void;
}

/** One burst. */
export interface BurstRound {
  calls: number;
  byCode: Record<string, number>;
  /** Latency of the RESOURCE_EXHAUSTED answers, in ms. */
  rejectedP50Ms: number;
  rejectedP99Ms: number;
  rejectedMaxMs: number;
  /** Latency of the served (OK) answers, in ms. */
  servedP50Ms: number;
  servedMaxMs: number;
  /** From the first call to the last answer, in ms. */
  elapsedMs: number;
  /** Server RSS before the burst, its peak during it (VmHWM, reset before), and 2 s after the last answer. */
  rssBeforeMB: number;
  rssPeakMB: number;
  rssAfterMB: number;
}

/** What the burst test measured. */
export interface BurstReport {
  imageBytes: number;
  connections: number;
  maxImagesInProgress: number;
  maxImageCallsInProgress: number;
  rounds: BurstRound[];
  /**
   * The most the server's RSS may grow during a burst, in MB (see {@link burstMemoryBoundMB}).
   */
  memoryBoundMB: number;
  /** Whether every round's peak stayed within `memoryBoundMB`, and the last round ended within 10% of the first. */
  memoryBounded: boolean;
  /** Whether the refusals came quickly: median at most QUICK_REFUSAL_MS. */
  refusalsQuick: boolean;
  /** Answers other than OK and RESOURCE_EXHAUSTED, over all rounds. */
  errors: number;
  errorSamples: string[];
  healthAfter: string;
  /** A catalog image searched after the bursts is its own top hit. */
  searchAfterOk: boolean;
}

/** The bar for "RESOURCE_EXHAUSTED quickly": the median refusal within this many ms of the call. */
export const QUICK_REFUSAL_MS = 1000;

/** Working memory of one admitted image, in bytes: encoded copy, decoded pixels, resize buffers, model input. */
const ADMITTED_IMAGE_BYTES = 2 * 1024 * 1024;

/**
 * How far a burst may raise the server's RSS, from first principles. grpc-js reads a unary call's
 * whole request before the handler runs, and the handler is what refuses, so every call of the
 * burst can be buffered at once however small the capacity: its DATA frames, then the concatenated
 * message, then the decoded `image` (ts-proto copies bytes fields), of which two copies live at a
 * time. On top, the admitted calls: `maxImagesInProgress` images in decoding or in the model.
 * Bound = calls x 2 x message + capacity x 2 MiB. This is the ceiling without the admission check
 * on request headers (maxImageCallsInProgress); with it, refused calls are never read, so the peak
 * should stay far below it (the report prints the measured growth next to this bound).
 */
export function burstMemoryBoundMB(calls: number, imageBytes: number, maxImagesInProgress: number): number {
  return (calls * 2 * imageBytes + maxImagesInProgress * ADMITTED_IMAGE_BYTES) / 1e6;
}

/** A JPEG of random noise (it barely compresses) of at least `minBytes`. */
export async function noisyJpeg(minBytes: number, seed = 5): Promise<Buffer> {
  const rng = createRng(seed);
  for (let side = 128; ; side += 16) {
    const px = Buffer.alloc(side * side * 3);
    for (let i = 0; i < px.length; i++) px[i] = Math.floor(rng() * 256);
    const jpeg = await sharp(px, { raw: { width: side, height: side, channels: 3 } }).jpeg({ quality: 90 }).toBuffer();
    if (jpeg.length >= minBytes) return jpeg;
  }
}


/**
 * A burst far above capacity: starts the server as a child process (default limits), warms it up,
 * then fires `calls` Search calls at once with a ~200 KB image over `connections` connections,
 * `rounds` times. Reports how the answers split between OK and RESOURCE_EXHAUSTED, how fast the
 * refusals came, and the server's resident memory before, at its peak and after each burst.
 */
export async function runBurstTest(options: BurstTestOptions): Promise<BurstReport> {
  const calls = options.calls ?? 2000;
  const connections = options.connections ?? 8;
  const deadlineMs = options.deadlineMs ?? 60_000;
  const maxImagesInProgress = options.maxImagesInProgress ?? 64;
  const maxImageCallsInProgress = options.maxImageCallsInProgress ?? 128;
  const image = await noisyJpeg(options.imageBytes ?? 200_000);
  const server = await startServerProcess({
    dataDir: path.join(options.workDir, 'data'),
    env: {
      TWINLENS_MAX_IMAGES_IN_PROGRESS: String(maxImagesInProgress),
      TWINLENS_MAX_IMAGE_CALLS_IN_PROGRESS: String(maxImageCallsInProgress),
    },
  });
  const clients: LoadClients[] = Array.from({ length: connections }, () => connectLoadClients(server.address));
  const report: BurstReport = {
    imageBytes: image.length,
    connections,
    maxImagesInProgress,
    maxImageCallsInProgress,
    rounds: [],
    errors: 0,
    errorSamples: [],
    healthAfter: '',
    searchAfterOk: false,
    memoryBoundMB: burstMemoryBoundMB(calls, image.length, maxImagesInProgress),
    memoryBounded: false,
    refusalsQuick: false,
  };
  try {
    await seedCatalog(server.address, options.catalog);
    // Warm-up at capacity (never above it): every connection up, full model batches run (ONNX
    // Runtime's arena grows to its batch-16 size once), allocator pools grown. What the burst adds
    // on top is then what a burst costs.
    for (let i = 0; i < 5; i++) {
      await Promise.all(Array.from({ length: maxImagesInProgress }, (_, k) => search(clients[k % connections], image, deadlineMs)));
    }
    await sleep(1000);
    for (let round = 0; round < (options.rounds ?? 3); round++) {
      const rssBeforeMB = server.rssBytes() / 1e6;
      server.resetPeakRss();
      const start = performance.now();
      const outcomes: CallOutcome<unknown>[] = await Promise.all(
        Array.from({ length: calls }, (_, i) => search(clients[i % connections], image, deadlineMs)),
      );
      const elapsedMs = performance.now() - start;
      const rssPeakMB = server.peakRssBytes() / 1e6;
      await sleep(2000);
      const byCode: Record<string, number> = {};
      for (const o of outcomes) {
        byCode[codeName(o.code)] = (byCode[codeName(o.code)] ?? 0) + 1;
        if (o.code !== status.OK && o.code !== status.RESOURCE_EXHAUSTED) {
          report.errors++;
          if (report.errorSamples.length < 5) report.errorSamples.push(`${codeName(o.code)}: ${o.details}`);
        }
      }
      const rejected = outcomes.filter((o) => o.code === status.RESOURCE_EXHAUSTED).map((o) => o.ms);
      const served = outcomes.filter((o) => o.code === status.OK).map((o) => o.ms);
      const r: BurstRound = {
        calls,
        byCode,
        rejectedP50Ms: quantile(rejected, 0.5),
        rejectedP99Ms: quantile(rejected, 0.99),
        rejectedMaxMs: rejected.length ? Math.max(...rejected) : Number.NaN,
        servedP50Ms: quantile(served, 0.5),
        servedMaxMs: served.length ? Math.max(...served) : Number.NaN,
        elapsedMs,
        rssBeforeMB,
        rssPeakMB,
        rssAfterMB: server.rssBytes() / 1e6,
      };
      report.rounds.push(r);
      options.log?.(formatBurstRound(round + 1, r));
    }
    const first = report.rounds[0];
    const last = report.rounds[report.rounds.length - 1];
    report.memoryBounded =
      report.rounds.every((r) => r.rssPeakMB - r.rssBeforeMB <= report.memoryBoundMB) && last.rssAfterMB <= first.rssAfterMB * 1.1;
    report.refusalsQuick = report.rounds.every((r) => !(r.rejectedP50Ms > QUICK_REFUSAL_MS));
    report.healthAfter = await healthStatus(server.address, 5000);
    const probe = options.catalog[0];
    const after = await search(clients[0], probe.image, deadlineMs, 1);
    report.searchAfterOk = after.code === status.OK && after.response?.hits[0]?.itemId === probe.itemId;
    return report;
  } finally {
    clients.forEach((c) => c.close());
    await server.stop();
  }
}

function formatBurstRound(n: number, r: BurstRound): string {
  return (
    `burst ${n}: ${r.calls} Search calls in ${r.elapsedMs.toFixed(0)} ms: ${Object.entries(r.byCode).map(([k, v]) => `${k} ${v}`).join(', ')}; ` +
    `refusals p50 ${r.rejectedP50Ms.toFixed(0)} ms, p99 ${r.rejectedP99Ms.toFixed(0)} ms, max ${r.rejectedMaxMs.toFixed(0)} ms; served p50 ${r.servedP50Ms.toFixed(0)} ms, max ${r.servedMaxMs.toFixed(0)} ms; ` +
    `server RSS ${r.rssBeforeMB.toFixed(0)} MB before, peak ${r.rssPeakMB.toFixed(0)} MB (+${(r.rssPeakMB - r.rssBeforeMB).toFixed(0)}), ${r.rssAfterMB.toFixed(0)} MB after`
  );
}

/** The report as text. */
export function formatBurstReport(r: BurstReport): string {
  return [
    `burst: ${r.rounds[0]?.calls ?? 0} concurrent Search calls x ${r.rounds.length} rounds, ${r.imageBytes} B image, ${r.connections} connections, maxImagesInProgress ${r.maxImagesInProgress}, maxImageCallsInProgress ${r.maxImageCallsInProgress}`,
    ...r.rounds.map((x, i) => formatBurstRound(i + 1, x)),
    `burst: errors other than RESOURCE_EXHAUSTED: ${r.errors}${r.errorSamples.length ? ` (${r.errorSamples.join('; ')})` : ''}; health after: ${r.healthAfter}; search after: ${r.searchAfterOk ? 'correct' : 'WRONG'}`,
    `burst: memory: peak growth ${r.rounds.map((x) => `+${(x.rssPeakMB - x.rssBeforeMB).toFixed(0)}`).join(', ')} MB against a bound of ${r.memoryBoundMB.toFixed(0)} MB ` +
      `(calls x 2 x message + capacity x 2 MiB), RSS after the last burst ${r.rounds.at(-1)?.rssAfterMB.toFixed(0)} MB vs ${r.rounds[0]?.rssAfterMB.toFixed(0)} MB after the first: ${r.memoryBounded ? 'PASS' : 'FAIL'}`,
    `burst: refusals quick (median within ${QUICK_REFUSAL_MS} ms): ${r.refusalsQuick ? 'PASS' : 'FAIL'}${r.refusalsQuick ? '' : ' (a call is refused only after its whole message was read)'}`,
  ].join('\n');
}
