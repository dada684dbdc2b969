import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { CallOutcome } from './call-observer.js';

/** The names of twinlens's own metrics (the prom-client process metrics come on top). */
export const METRIC_NAMES = Object.freeze({
  requests: 'twinlens_grpc_requests_total',
  requestDuration: 'twinlens_grpc_request_duration_seconds',
  queueDepth: 'twinlens_model_queue_depth',
  batchSize: 'twinlens_model_batch_size',
  modelRun: 'twinlens_model_run_seconds',
  catalogItems: 'twinlens_catalog_items',
  indexBytes: 'twinlens_index_bytes',
  imageBytesInFlight: 'twinlens_image_bytes_in_flight',
  imageBytesBudget: 'twinlens_image_bytes_budget',
});

/** Request latency buckets, in seconds: 1 ms (a health check) to 10 s (a long upload or stream). */
export const REQUEST_DURATION_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
/** Batch size buckets: powers of two up to 64 (maxBatchSize defaults to 16). */
export const BATCH_SIZE_BUCKETS = [1, 2, 4, 8, 16, 32, 64];
/** Model run buckets, in seconds: ~10 ms is one image on 2 CPU cores, a full batch a few hundred ms. */
export const MODEL_RUN_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

/** What the gauges read at each scrape; a TwinlensEngine fits. */
export interface MetricsSource {
  embedder: { readonly queueDepth: number };
  catalog: { readonly size: number; readonly indexBytes: number };
  /** The server's image memory budget (maxImageBytesInFlight); its gauges read 0 without one. */
  imageBudget?: { readonly inUse: number; readonly capacity: number };
}

/** Options of `createTwinlensMetrics`. */
export interface TwinlensMetricsOptions {
  /**
   * Also register prom-client's default process metrics (`process_*` memory and CPU,
   * `nodejs_eventloop_lag_*`, heap, GC, handles). Default true.
   */
  processMetrics?: boolean;
}

/** One server's metrics, on a registry of its own. */
export interface TwinlensMetrics {
  /** The server's registry (never prom-client's global one, so servers in one process do not collide). */
  readonly registry: Registry;
  /** Counts one finished call and observes its duration, by method and code name. */
  recordCall(outcome: Pick<CallOutcome, 'method' | 'codeName' | 'durationMs'>): void;
  /** Observes one ONNX Runtime run: its batch size and its duration in seconds (the embedder's `onBatch`). */
  recordModelRun(batchSize: number, seconds: number): void;
  /** Makes the queue depth and catalog gauges read `source` at each scrape (0 until called). */
  track(source: MetricsSource): void;
}

/**
 * Creates the registry and the metrics: `twinlens_grpc_requests_total{method,code}`,
 * `twinlens_grpc_request_duration_seconds{method,code}`, `twinlens_model_queue_depth`,
 * `twinlens_model_batch_size`, `twinlens_model_run_seconds`, `twinlens_catalog_items`,
 * `twinlens_index_bytes`, `twinlens_image_bytes_in_flight`, `twinlens_image_bytes_budget`, and by default prom-client's process metrics.
 */
export function createTwinlensMetrics(options: TwinlensMetricsOptions = {}): TwinlensMetrics {
  const registry = new Registry();
  const registers = [registry];
  let source: MetricsSource | undefined;

  const requests = new Counter({
    name: METRIC_NAMES.requests,
    help: 'gRPC calls finished, by full method path and status code name.',
    labelNames: ['method', 'code'] as const,
    registers,
  });
  const requestDuration = new Histogram({
    name: METRIC_NAMES.requestDuration,
    help: 'Time from the start of a gRPC call to its status, in seconds, by method and code.',
    labelNames: ['method', 'code'] as const,
    buckets: REQUEST_DURATION_BUCKETS,
    registers,
  });
  new Gauge({
    name: METRIC_NAMES.queueDepth,
    help: 'Images waiting for the model (queued in the micro-batcher).',
    registers,
    collect() {
      this.set(source?.embedder.queueDepth ?? 0);
    },
  });
  const batchSize = new Histogram({
    name: METRIC_NAMES.batchSize,
    help: 'Images per ONNX Runtime run.',
    buckets: BATCH_SIZE_BUCKETS,
    registers,
  });
  const modelRun = new Histogram({
    name: METRIC_NAMES.modelRun,
    help: 'Duration of one ONNX Runtime run (one batch), in seconds.',
    buckets: MODEL_RUN_BUCKETS,
    registers,
  });
  new Gauge({
    name: METRIC_NAMES.catalogItems,
    help: 'Items in the catalog search index.',
    registers,
    collect() {
      this.set(source?.catalog.size ?? 0);
    },
  });
  new Gauge({
    name: METRIC_NAMES.indexBytes,
    help: 'Memory held by the catalog search index, in bytes.',
    registers,
    collect() {
      this.set(source?.catalog.indexBytes ?? 0);
    },
  });
  new Gauge({
    name: METRIC_NAMES.imageBytesInFlight,
    help: 'Request image bytes held by the server now (charged to the image memory budget).',
    registers,
    collect() {
      this.set(source?.imageBudget?.inUse ?? 0);
    },
  });
  new Gauge({
    name: METRIC_NAMES.imageBytesBudget,
    help: 'The image memory budget (maxImageBytesInFlight), in bytes.',
    registers,
    collect() {
      this.set(source?.imageBudget?.capacity ?? 0);
    },
  });
  if (options.processMetrics ?? true) collectDefaultMetrics({ register: registry });

  return {
    registry,
    recordCall({ method, codeName, durationMs }) {
      const labels = { method, code: codeName };
      requests.inc(labels);
      requestDuration.observe(labels, durationMs / 1000);
    },
    recordModelRun(size, seconds) {
      batchSize.observe(size);
      modelRun.observe(seconds);
    },
    track(s) {
      source = s;
    },
  };
}
