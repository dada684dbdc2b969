/**
 * twinlens as a library: start the gRPC service in your own process, or drive the engine directly.
 * The `twinlens` command (src/cli) is built on the same exports.
 */
export { createTwinlensServer, type TwinlensServer, HEALTH_SERVICES } from './server/index.js';
export { createEngine, type CreatedEngine, TwinlensEngine, type TwinlensEngineOptions, type SearchParams, type SearchResult, type CompareResult, type EmbedResult } from './engine/index.js';
export { type TwinlensOptions, DEFAULT_OPTIONS, validateOptions, optionsFromEnv } from './config/index.js';
export { type Logger, createPinoLogger, consoleLogger, silentLogger } from './observability/index.js';
export { loadManifest, type ModelManifest } from './model/index.js';

// For other libraries: the typed errors the engine throws (the server maps them to gRPC status codes).
export * from './errors/index.js';
