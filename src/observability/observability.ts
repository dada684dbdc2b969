import type { ServerInterceptor } from '@grpc/grpc-js';
import type { Logger } from './logger.js';
import { type CallOutcomeSink, createCallObserverInterceptor } from './call-observer.js';
import { createTwinlensMetrics, type MetricsSource, type TwinlensMetrics } from './metrics.js';
import { type MetricsServer, startMetricsServer } from './metrics-server.js';
import { createRequestLog } from './request-log.js';

/** Options of `createObservability`. */
export interface ObservabilityOptions {
  /** Port of the metrics HTTP server; 0 picks a free one; null keeps no metrics at all. */
  metricsPort: number | null;
  /** Address the metrics server binds. */
  metricsHost: string;
  /** Where the request lines go. */
  log: Logger;
}

/** A server's metrics and request log, wired as grpc-js interceptors and an embedder hook. */
export interface Observability {
  /** Interceptors for the Server's list, after the auth interceptor. */
  readonly interceptors: ServerInterceptor[];
  /** The embedder's `onBatch` hook; undefined when metrics are off. */
  readonly onModelRun: ((batchSize: number, seconds: number) => void) | undefined;
  /** The metrics; undefined when metrics are off. */
  readonly metrics: TwinlensMetrics | undefined;
  /** Points the gauges at `source` and starts the metrics server (resolves undefined when metrics are off). */
  start(source: MetricsSource): Promise<MetricsServer | undefined>;
  /** Stops the metrics server. */
  close(): Promise<void>;
}

/**
 * One line per call to `options.log`, and with a metrics port, the per-server metrics and their
 * HTTP server. Keeps nothing and serves nothing for metrics when `metricsPort` is null.
 */
export function createObservability(options: ObservabilityOptions): Observability {
  const metrics = options.metricsPort === null ? undefined : createTwinlensMetrics();
  const sinks: CallOutcomeSink[] = [createRequestLog(options.log)];
  if (metrics) sinks.push((outcome) => metrics.recordCall(outcome));
  let server: MetricsServer | undefined;
  return {
    interceptors: [createCallObserverInterceptor(...sinks)],
    onModelRun: metrics ? (size, seconds) => metrics.recordModelRun(size, seconds) : undefined,
    metrics,
    async start(source) {
      if (!metrics || options.metricsPort === null) return undefined;
      metrics.track(source);
      server = await startMetricsServer(metrics.registry, { host: options.metricsHost, port: options.metricsPort });
      return server;
    },
    async close() {
      await server?.close();
    },
  };
}
