import { performance } from 'node:perf_hooks';
import { upsertItems } from '../../src/cli/client.js';
import type { CatalogServiceClient, UpsertItemsRequest } from '../../src/gen/twinlens/v1/twinlens.js';
import type { ImageDecoder } from '../../src/imaging/index.js';
import { runClosedLoop } from './closed-loop.js';
import type { BenchImage } from './bench-images.js';
import { quantile } from '../../src/eval/percentiles.js';

/** Service ingest throughput: images streamed through UpsertItems. */
export interface IngestResult {
  /** Images timed. */
  images: number;
  upserted: number;
  failed: number;
  /** Mean encoded size of one image, in bytes. */
  meanImageBytes: number;
  /** Wall time from the first write to the response, in ms (summed over streams). */
  elapsedMs: number;
  imagesPerSec: number;
}

/** Throughput of the service's own decoder alone (no model), for comparison. */
export interface DecodeResult {
  images: number;
  /** Images decoded at once, as UpsertItems does. */
  concurrency: number;
  elapsedMs: number;
  imagesPerSec: number;
  /** Median wall time of one decode, in ms (queueing in libuv's pool included). */
  p50Ms: number;
}

/** The item id `benchIngest` gives image `index` under `idPrefix`. */
export function benchItemId(idPrefix: string, index: number): string {
  return `${idPrefix}${String(index).padStart(5, '0')}`;
}

function requestsOf(images: readonly BenchImage[], idPrefix: string): UpsertItemsRequest[] {
  return images.map((img, i) => ({
    itemId: benchItemId(idPrefix, i),
    image: img.bytes,
    metadata: { ...img.metadata, bench: 'ingest' },
  }));
}

/**
 * Streams `images` through one UpsertItems call (the client honours back-pressure) and times it
 * from the first write to the response; every item is committed when the response arrives.
 * Fails when any item fails.
 */
export async function benchIngest(client: CatalogServiceClient, images: readonly BenchImage[], idPrefix: string): Promise<IngestResult> {
  const requests = requestsOf(images, idPrefix);
  const start = performance.now();
  const response = await upsertItems(client, requests);
  const elapsedMs = performance.now() - start;
  if (response.failed > 0) {
    const first = response.outcomes.find((o) => !o.ok);
    throw new Error(`ingest: ${response.failed} of ${images.length} items failed, e.g. ${first?.itemId}: ${first?.error?.message}`);
  }
  return {
    images: images.length,
    upserted: response.upserted,
    failed: response.failed,
    meanImageBytes: Math.round(images.reduce((s, i) => s + i.bytes.length, 0) / Math.max(1, images.length)),
    elapsedMs,
    imagesPerSec: (images.length * 1000) / elapsedMs,
  };
}

/**
 * Decodes `images` with `decoder` (use the service's: `server.engine.decoder`), `concurrency`
 * at a time, and times it: the decode share of ingest, without the model or gRPC.
 */
export async function benchDecode(decoder: ImageDecoder, images: readonly BenchImage[], concurrency: number): Promise<DecodeResult> {
  const run = await runClosedLoop((i) => decoder.decode(images[i % images.length].bytes), {
    concurrency,
    total: images.length,
    warmup: Math.min(images.length, concurrency),
  });
  return {
    images: images.length,
    concurrency,
    elapsedMs: run.elapsedMs,
    imagesPerSec: (images.length * 1000) / run.elapsedMs,
    p50Ms: quantile(run.latenciesMs, 0.5),
  };
}
