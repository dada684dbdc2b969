export {
  createCallObserverInterceptor,
  type CallOutcome,
  type CallOutcomeSink,
  REFUSED_CODE_NAME,
} from './call-observer.js';
export {
  createTwinlensMetrics,
  type TwinlensMetrics,
  type TwinlensMetricsOptions,
  type MetricsSource,
  METRIC_NAMES,
  REQUEST_DURATION_BUCKETS,
  BATCH_SIZE_BUCKETS,
  MODEL_RUN_BUCKETS,
} from './metrics.js';
export { startMetricsServer, type MetricsServer, type MetricsServerOptions } from './metrics-server.js';
export { createObservability, type Observability, type ObservabilityOptions } from './observability.js';
export {
  createRequestLog,
  requestLogFieldsFrom,
  REQUEST_LOG_MESSAGE,
  SERVER_FAULT_CODES,
  MAX_LOGGED_DETAILS_CHARS,
} from './request-log.js';
export { createRequestId, requestIdFrom, REQUEST_ID_KEY, REQUEST_ID_PATTERN } from './request-id.js';
export { type Logger, type LogFields, type PinoLoggerOptions, createPinoLogger, consoleLogger, silentLogger } from './logger.js';
