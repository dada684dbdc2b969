import * as path from 'node:path';
import { isWellFormedToken, MIN_TOKEN_LENGTH } from '../security/bearer-token.js';
import { DEFAULT_AUTH_EXEMPT_SERVICES } from '../security/method-permissions.js';

import { PACKAGE_ROOT } from './package-root.js';

/** Execution providers twinlens knows how to ask ONNX Runtime for. */
export type ExecutionProviderName = 'cuda' | 'cpu';

/** pino log levels, most to least severe; `silent` writes nothing. */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** One of LOG_LEVELS. */
export type LogLevel = (typeof LOG_LEVELS)[number];

/**
 * Everything a twinlens service can be configured with. `validateOptions` fills the defaults
 * documented here; the CLI and environment variables (`optionsFromEnv`) feed it.
 */
export interface TwinlensOptions extends WarmPathOptions {
  /** Address to bind. Default `127.0.0.1`: loopback only, nothing is exposed by accident. */
  host: string;
  /** TCP port; 0 picks a free one (tests). Default 50051, the customary gRPC port. */
  port: number;
  /** Where the catalog lives (LanceDB table plus source images). Default `./data`. */
  dataDir: string;
  /** The model's `manifest.json`. Default: the bundled generic twin, `models/twinlens_generic_v1/manifest.shortlist.json` (256-d; see its README). */
  modelManifest: string;
  /**
   * Execution providers in order of preference. Default `['cuda', 'cpu']`: CUDA where it loads,
   * otherwise CPU with the reason logged (onnxruntime-node throws rather than falling back).
   */
  executionProviders: ExecutionProviderName[];
  /** ONNX Runtime intra-op threads. Default 0: one per core (ORT's own default). */
  intraOpThreads: number;
  /** Most images embedded in one ONNX Runtime run. 1 turns micro-batching off. Default 16. */
  maxBatchSize: number;
  /**
   * How long an idle model holds the first request for others to join its batch, in ms. Default 0:
   * a lone request runs at once (a wait would only add latency at low load), and requests that
   * arrive while a batch runs form the next batch, so batches grow with load by themselves.
   */
  maxBatchWaitMs: number;
  /** Largest encoded image accepted, in bytes. Default 20 MiB. */
  maxImageBytes: number;
  /** Largest decoded image accepted, in pixels (width x height); guards against decompression bombs. Default 50 Mpx. */
  maxImagePixels: number;
  /** Largest gRPC message accepted, in bytes. Default 32 MiB (an image plus metadata). */
  maxMessageBytes: number;
  /** Hits returned by Search when the request says 0. Default 10. */
  defaultTopK: number;
  /** Candidates the shortlist passes to the rerank when the request says 0. Default 50. */
  defaultShortlistK: number;
  /**
   * Simulated phone photos (src/simulate) averaged into each catalog item's vector when it is
   * embedded (upsert, re-embedding, demo seed, eval): the stored vector moves toward where real
   * photos of the item land. Costs one extra model run and `catalogViews` simulations per item
   * (README "Measured"); 0 stores the clean image's vector alone (large catalogs, fast bulk loads).
   * Items keep the vector they were embedded with until re-embedded. Default 16.
   * Env `TWINLENS_CATALOG_VIEWS`.
   */
  catalogViews: number;
  /** Worker threads simulating catalog views (0: on the main thread). Default 2. Env `TWINLENS_CATALOG_VIEW_WORKERS`. */
  catalogViewWorkers: number;
  /**
   * Embed each query photo (Search, Compare, Embed) together with its mirror image and average the
   * two vectors: about twice the model time of a lone query, for better Recall@1 (README).
   * Default true. Env `TWINLENS_QUERY_MIRROR` (`0`/`false` to turn off).
   */
  queryMirror: boolean;
  /**
   * Use the model's pair head, when its manifest has one, to rerank Search's shortlist and to score
   * Compare. Default false: every pair head trained here so far, on simulated pairs, ranked real
   * photos worse than the embedding cosine (grocery-dev: the adapted model's Recall@1 0.257 by cosine,
   * 0.142 reranked; README "Measured"). `twinlens eval` turns it on to report both orders.
   * Env `TWINLENS_USE_PAIR_HEAD` (`1`/`true`).
   */
  usePairHead: boolean;
  /** Pairs of one CompareStream worked on at once; the stream stops reading beyond it. Default 8. */
  compareStreamMaxInFlight: number;
  /**
   * Most images in progress at once (decoding, queued for the model, or in it). A unary request
   * beyond it gets RESOURCE_EXHAUSTED at once; streamed items wait. Default 64: four full batches,
   * about half a second of model time on 2 cores, and at most a few hundred MB of decoded pixels.
   */
  maxImagesInProgress: number;
  /**
   * Most Search, Compare and Embed calls in progress at once, checked on the request headers,
   * before the request message is read: a call beyond it gets RESOURCE_EXHAUSTED at once, without
   * its body being read or buffered (the engine gate above acts only after grpc-js has read the
   * whole message, which under a large burst took seconds). Default 128: twice maxImagesInProgress,
   * so the gate stays full while admitted bodies arrive; admitted bodies buffer at most
   * 128 x the message size (26 MB at 200 KB per image).
   */
  maxImageCallsInProgress: number;
  /** Most frames an animated image may declare (only the first is used). Default 256. */
  maxImageFrames: number;
  /**
   * Child processes that decode images. Default 2 (one per core here). A native crash in libvips
   * or a codec on a corrupt file (a SIGSEGV, seen once in ~100,000 fuzz cases) then kills a child,
   * not the server: the child is replaced and its decodes retried alone (one that crashes alone
   * is refused with INVALID_ARGUMENT). 0 decodes in the server process itself (no isolation).
   * Env `TWINLENS_DECODE_PROCESSES`.
   */
  decodeProcesses: number;
  /** On shutdown, how long running calls may take to finish before they are cancelled, in ms. Default 10,000. */
  shutdownGraceMs: number;
  /**
   * Port of the HTTP server for Prometheus (`GET /metrics`) and liveness (`GET /healthz`); 0 picks
   * a free one (tests). Default null: no metrics server and no metrics kept (library use, tests);
   * the CLI's `serve` turns it on at 9464. Env `TWINLENS_METRICS_PORT` (`off`: null).
   */
  metricsPort: number | null;
  /**
   * Address the metrics server binds. Default null: the gRPC `host` (loopback unless changed), so
   * metrics are never exposed wider than the service. Env `TWINLENS_METRICS_HOST`.
   */
  metricsHost: string | null;
  /**
   * Lowest level of the JSON log lines on stderr (start-up lines, one line per request). Default
   * `info`; `warn` drops the request lines of successful and client-error calls. Env `TWINLENS_LOG_LEVEL`.
   */
  logLevel: LogLevel;
  /** Seed an empty catalog with the generated demo watches at start-up. Default false (the CLI's `serve` turns it on). */
  seedDemoCatalog: boolean;
  /** Number of demo watches to seed. Default 60. */
  demoCatalogSize: number;
  /**
   * PEM certificate chain the server presents; with tlsKeyFile it turns TLS on. Default '':
   * plaintext, which suits loopback; set it (or terminate TLS in front) before exposing the port.
   * Env `TWINLENS_TLS_CERT`.
   */
  tlsCertFile: string;
  /** PEM private key of tlsCertFile. Default ''. Env `TWINLENS_TLS_KEY`. */
  tlsKeyFile: string;
  /**
   * PEM CA certificate(s) for mutual TLS: set, every client must present a certificate signed by
   * it. Needs tlsCertFile. Default '': clients present none. Env `TWINLENS_TLS_CLIENT_CA`.
   */
  tlsClientCaFile: string;
  /**
   * Bearer tokens that may call the read methods (Search, Compare, CompareStream, Embed,
   * GetServiceInfo, GetItem, ListItems, GetCatalogStats). Default []: with no read, write or file
   * token at all, authentication is off. A token is 16+ characters of A-Z a-z 0-9 - . _ ~ + /
   * (and trailing =). Env `TWINLENS_READ_TOKENS`, comma-separated.
   */
  readTokens: string[];
  /**
   * Bearer tokens that may call every method, catalog changes (UpsertItems, DeleteItem) included.
   * Default []. Env `TWINLENS_WRITE_TOKENS`, comma-separated.
   */
  writeTokens: string[];
  /**
   * A file of more tokens, one `read:<token>` or `write:<token>` per line (blank lines and `#`
   * comments ignored), read at start; keeps tokens off command lines. Default ''. Env `TWINLENS_AUTH_TOKEN_FILE`.
   */
  authTokenFile: string;
  /**
   * Services callable without a token while authentication is on, by full name. Default
   * grpc.health.v1.Health and server reflection v1 and v1alpha: probes and `grpcurl list` keep
   * working, and they reveal only liveness and the schema. `[]` puts everything behind a token.
   * Env `TWINLENS_AUTH_EXEMPT_SERVICES`, comma-separated (empty: none).
   */
  authExemptServices: string[];
  /**
   * Search index. `auto` (default): exact SIMD scan below `annMinItems` items, an HNSW graph from
   * there on (built in the background while exact serves; saved under `<dataDir>/index`, bound to
   * the model version). `exact` or `hnsw` force one. Env `TWINLENS_INDEX_KIND`.
   */
  indexKind: 'auto' | 'exact' | 'hnsw';
  /** Items from which `auto` serves from the HNSW graph. Default 50,000 (exact takes ~3 ms a query at 256-d there). Env `TWINLENS_ANN_MIN_ITEMS`. */
  annMinItems: number;
  /**
   * What the graph stores per vector: `i8` (default: smallest graph that keeps recall once
   * candidates are rescored from the full-precision vectors the catalog holds anyway), `f16`, `f32`,
   * or `b1` (~1,000-bit binary codes, Hamming search, rescore). Env `TWINLENS_INDEX_QUANTIZATION`.
   */
  indexQuantization: 'f32' | 'f16' | 'i8' | 'b1';
  /** HNSW graph degree M. Default 16. Env `TWINLENS_HNSW_M`. */
  hnswConnectivity: number;
  /** HNSW build beam width (efConstruction). Default 128. Env `TWINLENS_HNSW_EF_CONSTRUCTION`. */
  hnswExpansionAdd: number;
  /**
   * HNSW search beam width (ef). Default 128: in `make bench-index` at 1M clustered 256-d vectors the
   * i8 graph with rescore reached recall@10 0.992 at 0.47 ms p50 (ef 64: 0.980 at 0.29 ms). Env `TWINLENS_HNSW_EF`.
   */
  hnswExpansionSearch: number;
  /** Least ms between two graph saves (after writes; also on shutdown). Default 600,000. Env `TWINLENS_INDEX_SNAPSHOT_INTERVAL_MS`. */
  indexSnapshotIntervalMs: number;
}

// ---- Warm path (confirmed examples, issue 11): fields, defaults, checks and environment ----

/** How confirmed examples act on search, and how long Search's query photos are kept for ConfirmMatch. */
export interface WarmPathOptions {
  /**
   * How an item's SAME examples take part in Search: `fold` (default: the item's vector is the
   * normalised sum of its catalog vector and its confirmed photos' vectors; measured better than
   * best-view on grocery-dev, docs/warm-path.md) or `best-view` (each confirmed photo is another view
   * of the item; the item scores by its best view). Env `TWINLENS_EXAMPLE_SCORING`.
   */
  exampleScoring: 'best-view' | 'fold';
  /**
   * How long Search's query images are kept in memory so that ConfirmMatch can turn one into an
   * example without a second upload, in ms. Default 600,000 (10 min). 0 keeps none (ConfirmMatch
   * then answers FAILED_PRECONDITION): the photos people search with outlive their request only
   * while this is on (docs/warm-path.md). Env `TWINLENS_CONFIRM_RETENTION_MS`.
   */
  confirmRetentionMs: number;
  /**
   * Most bytes of query images kept for ConfirmMatch; the oldest go first. Default 64 MiB. 0 keeps
   * none. Env `TWINLENS_CONFIRM_RETENTION_BYTES`.
   */
  confirmRetentionBytes: number;
}

const WARM_PATH_DEFAULTS: Readonly<WarmPathOptions> = Object.freeze({
  exampleScoring: 'fold' as const,
  confirmRetentionMs: 10 * 60_000,
  confirmRetentionBytes: 64 * 1024 * 1024,
});

function checkWarmPathOptions(o: TwinlensOptions): void {
  if (!['best-view', 'fold'].includes(o.exampleScoring)) {
    throw new RangeError(`option exampleScoring: expected best-view or fold, received ${JSON.stringify(o.exampleScoring)}`);
  }
  checkInteger('confirmRetentionMs', o.confirmRetentionMs, 0, 2 ** 31 - 1);
  checkInteger('confirmRetentionBytes', o.confirmRetentionBytes, 0, 2 ** 40);
}

function warmPathOptionsFromEnv(env: NodeJS.ProcessEnv): Partial<TwinlensOptions> {
  const num = (name: string): number | undefined => (env[name] === undefined ? undefined : Number(env[name]));
  return {
    exampleScoring: env.TWINLENS_EXAMPLE_SCORING as WarmPathOptions['exampleScoring'] | undefined,
    confirmRetentionMs: num('TWINLENS_CONFIRM_RETENTION_MS'),
    confirmRetentionBytes: num('TWINLENS_CONFIRM_RETENTION_BYTES'),
  };
}

// ---- end of warm path options ----

/** The defaults, in one place. */
export const DEFAULT_OPTIONS: Readonly<TwinlensOptions> = Object.freeze({
  host: '127.0.0.1',
  port: 50051,
  dataDir: './data',
  modelManifest: path.join(PACKAGE_ROOT, 'models', 'twinlens_generic_v1', 'manifest.shortlist.json'),
  executionProviders: ['cuda', 'cpu'] as ExecutionProviderName[],
  intraOpThreads: 0,
  maxBatchSize: 16,
  maxBatchWaitMs: 0,
  maxImageBytes: 20 * 1024 * 1024,
  maxImagePixels: 50_000_000,
  maxMessageBytes: 32 * 1024 * 1024,
  defaultTopK: 10,
  defaultShortlistK: 50,
  catalogViews: 16,
  catalogViewWorkers: 2,
  queryMirror: true,
  usePairHead: false,
  compareStreamMaxInFlight: 8,
  maxImagesInProgress: 64,
  maxImageCallsInProgress: 128,
  maxImageFrames: 256,
  decodeProcesses: 2,
  shutdownGraceMs: 10_000,
  metricsPort: null,
  metricsHost: null,
  logLevel: 'info',
  seedDemoCatalog: false,
  demoCatalogSize: 60,
  tlsCertFile: '',
  tlsKeyFile: '',
  tlsClientCaFile: '',
  readTokens: [] as string[],
  writeTokens: [] as string[],
  authTokenFile: '',
  authExemptServices: [...DEFAULT_AUTH_EXEMPT_SERVICES],
  indexKind: 'auto' as const,
  annMinItems: 50_000,
  indexQuantization: 'i8' as const,
  hnswConnectivity: 16,
  hnswExpansionAdd: 128,
  hnswExpansionSearch: 128,
  indexSnapshotIntervalMs: 600_000,
  ...WARM_PATH_DEFAULTS,
});

const PROVIDERS: readonly ExecutionProviderName[] = ['cuda', 'cpu'];

function checkInteger(name: keyof TwinlensOptions, value: number, min: number, max: number): void {
  if (typeof value !== 'number' || !Number.isInteger(value)) {
    throw new TypeError(`option ${name}: expected an integer, received ${JSON.stringify(value)}`);
  }
  if (value < min || value > max) {
    throw new RangeError(`option ${name}: expected ${min}..${max}, received ${value}`);
  }
}

/**
 * Checks the TLS and token options and copies their lists (the files are read at start, by
 * security/serverSecurityFrom). Messages never include a token.
 */
function checkSecurityOptions(o: TwinlensOptions): void {
  for (const name of ['tlsCertFile', 'tlsKeyFile', 'tlsClientCaFile', 'authTokenFile'] as const) {
    if (typeof o[name] !== 'string') throw new TypeError(`option ${name}: expected a file path, received ${typeof o[name]}`);
  }
  if (Boolean(o.tlsCertFile) !== Boolean(o.tlsKeyFile)) {
    throw new RangeError('options tlsCertFile and tlsKeyFile: set both (TLS) or neither (plaintext)');
  }
  if (o.tlsClientCaFile && !o.tlsCertFile) {
    throw new RangeError('option tlsClientCaFile: mutual TLS needs the server certificate too (tlsCertFile, tlsKeyFile)');
  }
  for (const name of ['readTokens', 'writeTokens'] as const) {
    if (!Array.isArray(o[name])) throw new TypeError(`option ${name}: expected a list of tokens`);
    o[name].forEach((token, i) => {
      if (!isWellFormedToken(token)) {
        throw new RangeError(
          `option ${name}: entry ${i} is not a usable bearer token (expected ${MIN_TOKEN_LENGTH}+ characters of A-Z a-z 0-9 - . _ ~ + / and trailing =; value not shown)`,
        );
      }
    });
    o[name] = [...o[name]];
  }
  if (!Array.isArray(o.authExemptServices) || !o.authExemptServices.every((s) => typeof s === 'string' && /^[A-Za-z_][\w.]*$/.test(s))) {
    throw new TypeError("option authExemptServices: expected a list of full service names such as 'grpc.health.v1.Health'");
  }
  o.authExemptServices = [...o.authExemptServices];
}

/** The TLS and token options of the `TWINLENS_*` environment (see the fields' docs); lists are comma-separated. */
function securityOptionsFromEnv(env: NodeJS.ProcessEnv): Partial<TwinlensOptions> {
  const list = (name: string): string[] | undefined =>
    env[name] === undefined ? undefined : env[name].split(',').map((s) => s.trim()).filter(Boolean);
  return {
    tlsCertFile: env.TWINLENS_TLS_CERT,
    tlsKeyFile: env.TWINLENS_TLS_KEY,
    tlsClientCaFile: env.TWINLENS_TLS_CLIENT_CA,
    readTokens: list('TWINLENS_READ_TOKENS'),
    writeTokens: list('TWINLENS_WRITE_TOKENS'),
    authTokenFile: env.TWINLENS_AUTH_TOKEN_FILE,
    authExemptServices: list('TWINLENS_AUTH_EXEMPT_SERVICES'),
  };
}

/** Checks the metrics and log options. */
function checkObservabilityOptions(o: TwinlensOptions): void {
  if (o.metricsPort !== null) checkInteger('metricsPort', o.metricsPort, 0, 65535);
  if (o.metricsHost !== null && (typeof o.metricsHost !== 'string' || o.metricsHost.length === 0)) {
    throw new TypeError(`option metricsHost: expected a non-empty string or null, received ${JSON.stringify(o.metricsHost)}`);
  }
  if (!LOG_LEVELS.includes(o.logLevel)) {
    throw new RangeError(`option logLevel: expected one of ${LOG_LEVELS.join(', ')}, received ${JSON.stringify(o.logLevel)}`);
  }
}

/** The metrics and log options of the `TWINLENS_*` environment (see the fields' docs). */
function observabilityOptionsFromEnv(env: NodeJS.ProcessEnv): Partial<TwinlensOptions> {
  const port = env.TWINLENS_METRICS_PORT;
  return {
    metricsPort: port === undefined ? undefined : port === 'off' ? null : Number(port),
    metricsHost: env.TWINLENS_METRICS_HOST,
    logLevel: env.TWINLENS_LOG_LEVEL as LogLevel | undefined,
  };
}

/** Checks the search index options. */
function checkIndexOptions(o: TwinlensOptions): void {
  if (!['auto', 'exact', 'hnsw'].includes(o.indexKind)) {
    throw new RangeError(`option indexKind: expected auto, exact or hnsw, received ${JSON.stringify(o.indexKind)}`);
  }
  if (!['f32', 'f16', 'i8', 'b1'].includes(o.indexQuantization)) {
    throw new RangeError(`option indexQuantization: expected f32, f16, i8 or b1, received ${JSON.stringify(o.indexQuantization)}`);
  }
  checkInteger('annMinItems', o.annMinItems, 0, 2 ** 31 - 1);
  checkInteger('hnswConnectivity', o.hnswConnectivity, 2, 256);
  checkInteger('hnswExpansionAdd', o.hnswExpansionAdd, 1, 10_000);
  checkInteger('hnswExpansionSearch', o.hnswExpansionSearch, 1, 10_000);
  checkInteger('indexSnapshotIntervalMs', o.indexSnapshotIntervalMs, 0, 2 ** 31 - 1);
}

/** Fills defaults, checks types and ranges, and returns a fully populated, frozen options object. */
export function validateOptions(partial: Partial<TwinlensOptions> = {}): Readonly<TwinlensOptions> {
  const defined = Object.fromEntries(Object.entries(partial).filter(([, v]) => v !== undefined));
  const o: TwinlensOptions = { ...DEFAULT_OPTIONS, ...defined };
  checkInteger('port', o.port, 0, 65535);
  checkInteger('intraOpThreads', o.intraOpThreads, 0, 1024);
  checkInteger('maxBatchSize', o.maxBatchSize, 1, 1024);
  checkInteger('maxImageBytes', o.maxImageBytes, 1, 2 ** 31 - 1);
  checkInteger('maxImagePixels', o.maxImagePixels, 1, 2 ** 31 - 1);
  checkInteger('maxMessageBytes', o.maxMessageBytes, 1024, 2 ** 31 - 1);
  checkInteger('defaultTopK', o.defaultTopK, 1, 10_000);
  checkInteger('defaultShortlistK', o.defaultShortlistK, 1, 10_000);
  checkInteger('catalogViews', o.catalogViews, 0, 1_000);
  checkInteger('catalogViewWorkers', o.catalogViewWorkers, 0, 256);
  for (const k of ['queryMirror', 'usePairHead'] as const) {
    if (typeof o[k] !== 'boolean') throw new RangeError(`option ${k}: expected true or false, received ${String(o[k])}`);
  }
  checkInteger('compareStreamMaxInFlight', o.compareStreamMaxInFlight, 1, 1024);
  checkInteger('maxImagesInProgress', o.maxImagesInProgress, 1, 100_000);
  checkInteger('maxImageCallsInProgress', o.maxImageCallsInProgress, 1, 100_000);
  checkInteger('maxImageFrames', o.maxImageFrames, 1, 100_000);
  checkInteger('decodeProcesses', o.decodeProcesses, 0, 256);
  checkInteger('shutdownGraceMs', o.shutdownGraceMs, 0, 3_600_000);
  checkInteger('demoCatalogSize', o.demoCatalogSize, 1, 10_000);
  checkIndexOptions(o);
  if (typeof o.maxBatchWaitMs !== 'number' || !(o.maxBatchWaitMs >= 0 && o.maxBatchWaitMs <= 1000)) {
    throw new RangeError(`option maxBatchWaitMs: expected 0..1000 ms, received ${o.maxBatchWaitMs}`);
  }
  if (!Array.isArray(o.executionProviders) || o.executionProviders.length === 0) {
    throw new TypeError('option executionProviders: expected a non-empty list such as ["cuda","cpu"]');
  }
  for (const p of o.executionProviders) {
    if (!PROVIDERS.includes(p)) {
      throw new RangeError(`option executionProviders: unknown provider '${p}', expected one of ${PROVIDERS.join(', ')}`);
    }
  }
  if (typeof o.host !== 'string' || o.host.length === 0) throw new TypeError('option host: expected a non-empty string');
  checkSecurityOptions(o);
  checkObservabilityOptions(o);
  checkWarmPathOptions(o);
  return Object.freeze({ ...o, executionProviders: [...o.executionProviders] });
}

/** A yes/no variable: `0`, `false`, `off`, `no` are no, anything else yes; unset stays undefined. */
function flag(value: string | undefined): boolean | undefined {
  return value === undefined ? undefined : !['0', 'false', 'off', 'no'].includes(value.trim().toLowerCase());
}

/**
 * Options from `TWINLENS_*` environment variables, e.g. `TWINLENS_PORT=6000`,
 * `TWINLENS_EXECUTION_PROVIDERS=cpu`, `TWINLENS_MAX_BATCH_SIZE=1`. Unset variables stay undefined.
 */
export function optionsFromEnv(env: NodeJS.ProcessEnv = process.env): Partial<TwinlensOptions> {
  const num = (name: string): number | undefined => (env[name] === undefined ? undefined : Number(env[name]));
  return {
    ...securityOptionsFromEnv(env),
    ...observabilityOptionsFromEnv(env),
    ...warmPathOptionsFromEnv(env),
    host: env.TWINLENS_HOST,
    port: num('TWINLENS_PORT'),
    dataDir: env.TWINLENS_DATA_DIR,
    modelManifest: env.TWINLENS_MODEL,
    indexKind: env.TWINLENS_INDEX_KIND as TwinlensOptions['indexKind'] | undefined,
    annMinItems: num('TWINLENS_ANN_MIN_ITEMS'),
    indexQuantization: env.TWINLENS_INDEX_QUANTIZATION as TwinlensOptions['indexQuantization'] | undefined,
    hnswConnectivity: num('TWINLENS_HNSW_M'),
    hnswExpansionAdd: num('TWINLENS_HNSW_EF_CONSTRUCTION'),
    hnswExpansionSearch: num('TWINLENS_HNSW_EF'),
    indexSnapshotIntervalMs: num('TWINLENS_INDEX_SNAPSHOT_INTERVAL_MS'),
    executionProviders: env.TWINLENS_EXECUTION_PROVIDERS?.split(',').map((s) => s.trim()) as
      | ExecutionProviderName[]
      | undefined,
    intraOpThreads: num('TWINLENS_INTRA_OP_THREADS'),
    maxBatchSize: num('TWINLENS_MAX_BATCH_SIZE'),
    maxBatchWaitMs: num('TWINLENS_MAX_BATCH_WAIT_MS'),
    maxImageBytes: num('TWINLENS_MAX_IMAGE_BYTES'),
    maxImagePixels: num('TWINLENS_MAX_IMAGE_PIXELS'),
    maxImagesInProgress: num('TWINLENS_MAX_IMAGES_IN_PROGRESS'),
    maxImageCallsInProgress: num('TWINLENS_MAX_IMAGE_CALLS_IN_PROGRESS'),
    decodeProcesses: num('TWINLENS_DECODE_PROCESSES'),
    catalogViews: num('TWINLENS_CATALOG_VIEWS'),
    catalogViewWorkers: num('TWINLENS_CATALOG_VIEW_WORKERS'),
    queryMirror: flag(env.TWINLENS_QUERY_MIRROR),
    usePairHead: flag(env.TWINLENS_USE_PAIR_HEAD),
    shutdownGraceMs: num('TWINLENS_SHUTDOWN_GRACE_MS'),
  };
}
