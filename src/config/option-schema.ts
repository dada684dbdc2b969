import * as path from 'node:path';
import { isWellFormedToken, MIN_TOKEN_LENGTH } from '../security/bearer-token.js';
import { DEFAULT_AUTH_EXEMPT_SERVICES } from '../security/method-permissions.js';
import {
  booleanOption,
  enumOption,
  intOption,
  listOption,
  numberOption,
  portOrOffOption,
  stringOption,
  stringOrNullOption,
} from './option-spec.js';
import { PACKAGE_ROOT } from './package-root.js';

/** Execution providers twinlens knows how to ask ONNX Runtime for. */
export const EXECUTION_PROVIDERS = ['cuda', 'cpu'] as const;

/** One of EXECUTION_PROVIDERS. */
export type ExecutionProviderName = (typeof EXECUTION_PROVIDERS)[number];

/** pino log levels, most to least severe; `silent` writes nothing. */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** One of LOG_LEVELS. */
export type LogLevel = (typeof LOG_LEVELS)[number];

const MAX_INT32 = 2 ** 31 - 1;

/**
 * Every option of a twinlens service, once: type, default, range or choices, environment variable,
 * flag of `twinlens serve` (and of `eval` / `calibrate` for the model's options) and doc line. The
 * TwinlensOptions type, DEFAULT_OPTIONS, validateOptions, optionsFromEnv, the CLI flags
 * (src/cli/option-flags.ts) and the README's configuration table are derived from it. The JSDoc of
 * an entry says why its default is what it is.
 */
export const OPTION_SCHEMA = {
  /** Loopback by default: nothing is exposed by accident. */
  host: stringOption({
    default: '127.0.0.1',
    nonEmpty: true,
    env: 'TWINLENS_HOST',
    flag: { flags: '--host <host>' },
    doc: 'address to bind (loopback by default: nothing is exposed by accident)',
  }),
  /** 50051 is the customary gRPC port. */
  port: intOption({ default: 50051, min: 0, max: 65535, env: 'TWINLENS_PORT', flag: { flags: '--port <n>' }, doc: 'gRPC port (0: any free one)' }),
  dataDir: stringOption({
    default: './data',
    nonEmpty: true,
    env: 'TWINLENS_DATA_DIR',
    flag: { flags: '--data <dir>' },
    doc: 'catalog directory (LanceDB table, source images, search index)',
  }),
  /** The bundled generic twin (256-d; see its README). */
  modelManifest: stringOption({
    default: path.join(PACKAGE_ROOT, 'models', 'twinlens_generic_v1', 'manifest.shortlist.json'),
    defaultText: 'the bundled generic twin, `models/twinlens_generic_v1/manifest.shortlist.json`',
    nonEmpty: true,
    env: 'TWINLENS_MODEL',
    flag: { flags: '--model <manifest>', scope: 'model' },
    doc: "the model's manifest.json",
  }),
  /**
   * CUDA where it loads, otherwise CPU with the reason logged: onnxruntime-node throws rather than
   * falling back, so twinlens tries each in turn.
   */
  executionProviders: listOption<ExecutionProviderName>({
    default: [...EXECUTION_PROVIDERS],
    of: 'execution providers such as cuda,cpu',
    nonEmpty: true,
    choices: EXECUTION_PROVIDERS,
    env: 'TWINLENS_EXECUTION_PROVIDERS',
    flag: { flags: '--providers <list>', scope: 'model' },
    doc: 'ONNX Runtime execution providers in order of preference, comma-separated',
  }),
  /** 0 is ORT's own default: one thread per core. */
  intraOpThreads: intOption({
    default: 0,
    min: 0,
    max: 1024,
    env: 'TWINLENS_INTRA_OP_THREADS',
    flag: { flags: '--intra-op-threads <n>' },
    doc: 'ONNX Runtime intra-op threads (0: one per core)',
  }),
  /**
   * Off: ONNX Runtime's idle threads sleep. Spinning makes a lone query about 2.7 ms faster (embed p50
   * 13.8-13.9 vs 16.3-16.8 ms) but takes the cores that catalog-view simulation and decoding need:
   * refining 150 catalog items took 62.3-62.5 s spinning, 56.6-57.0 s not (`dev.js bench-refine`);
   * 8 concurrent queries gain nothing either way.
   */
  ortSpinWait: booleanOption({
    default: false,
    env: 'TWINLENS_ORT_SPIN_WAIT',
    flag: { flags: '--ort-spin-wait', help: "let ONNX Runtime's idle threads spin (lower lone-query latency, less CPU for the rest)" },
    doc: "ONNX Runtime's idle intra-op threads spin waiting for work instead of sleeping",
  }),
  maxBatchSize: intOption({
    default: 16,
    min: 1,
    max: 1024,
    env: 'TWINLENS_MAX_BATCH_SIZE',
    flag: { flags: '--max-batch-size <n>' },
    doc: 'most images embedded in one model run (1 turns micro-batching off)',
  }),
  /**
   * 0: a lone request runs at once (a wait would only add latency at low load), and requests that
   * arrive while a batch runs form the next batch, so batches grow with load by themselves.
   */
  maxBatchWaitMs: numberOption({
    default: 0,
    min: 0,
    max: 1000,
    env: 'TWINLENS_MAX_BATCH_WAIT_MS',
    flag: { flags: '--max-batch-wait-ms <ms>' },
    doc: 'how long an idle model holds a request for others to join its batch, ms',
  }),
  maxImageBytes: intOption({
    default: 20 * 1024 * 1024,
    min: 1,
    max: MAX_INT32,
    env: 'TWINLENS_MAX_IMAGE_BYTES',
    flag: { flags: '--max-image-bytes <n>' },
    doc: 'largest encoded image accepted, bytes',
  }),
  /** Guards against decompression bombs. */
  maxImagePixels: intOption({
    default: 50_000_000,
    min: 1,
    max: MAX_INT32,
    env: 'TWINLENS_MAX_IMAGE_PIXELS',
    flag: { flags: '--max-image-pixels <n>' },
    doc: 'largest decoded image accepted, pixels (width x height)',
  }),
  /** 32 MiB: an image plus metadata. */
  maxMessageBytes: intOption({
    default: 32 * 1024 * 1024,
    min: 1024,
    max: MAX_INT32,
    env: 'TWINLENS_MAX_MESSAGE_BYTES',
    flag: { flags: '--max-message-bytes <n>' },
    doc: 'largest gRPC message accepted, bytes',
  }),
  defaultTopK: intOption({
    default: 10,
    min: 1,
    max: 10_000,
    env: 'TWINLENS_DEFAULT_TOP_K',
    flag: { flags: '--default-top-k <n>' },
    doc: 'hits Search returns when the request says 0',
  }),
  defaultShortlistK: intOption({
    default: 50,
    min: 1,
    max: 10_000,
    env: 'TWINLENS_DEFAULT_SHORTLIST_K',
    flag: { flags: '--default-shortlist-k <n>' },
    doc: 'candidates the shortlist passes to the rerank when the request says 0',
  }),
  /**
   * Simulated phone photos (src/simulate) averaged into each catalog item's vector when it is
   * embedded (upsert, re-embedding, demo seed, eval): the stored vector moves toward where real
   * photos of the item land. Costs one extra model run and `catalogViews` simulations per item
   * (README "Measured"); 0 stores the clean image's vector alone (large catalogs, fast bulk loads).
   * Items keep the vector they were embedded with until re-embedded.
   */
  catalogViews: intOption({
    default: 16,
    min: 0,
    max: 1_000,
    env: 'TWINLENS_CATALOG_VIEWS',
    flag: { flags: '--catalog-views <n>', scope: 'model' },
    doc: "simulated photos averaged into each catalog item's vector when it is embedded (0: the clean image alone)",
  }),
  catalogViewWorkers: intOption({
    default: 2,
    min: 0,
    max: 256,
    env: 'TWINLENS_CATALOG_VIEW_WORKERS',
    readme: false,
    flag: { flags: '--catalog-view-workers <n>' },
    doc: 'worker threads simulating those photos (0: on the main thread)',
  }),
  /** About twice the model time of a lone query, for better Recall@1 (README "Measured"). */
  /**
   * On: an upserted item is searchable by its clean image's vector as soon as the upsert returns, and
   * a background refiner re-stores it with the catalogViews averaged in once upserts pause
   * (GetCatalogStats `refinement`; rows still waiting are found again at start), so ingest runs at
   * the model's speed and the refined vectors are the same as before.
   */
  catalogViewsInBackground: booleanOption({
    default: true,
    env: 'TWINLENS_CATALOG_VIEWS_IN_BACKGROUND',
    flag: { flags: '--no-catalog-views-in-background', help: 'average the catalog views in before an upsert returns' },
    doc: 'store an upserted item by its clean vector at once and average its catalog views in the background',
  }),
  queryMirror: booleanOption({
    default: true,
    env: 'TWINLENS_QUERY_MIRROR',
    flag: { flags: '--no-query-mirror', scope: 'model', help: 'embed query photos without averaging in their mirror image' },
    doc: "average each query photo's vector (Search, Compare, Embed) with its mirror image's",
  }),
  /**
   * Off: on grocery-dev (cold, shipped defaults otherwise) it moved Recall@1 0.223 -> 0.199 and
   * Recall@5 0.470 -> 0.473 (Fruit 0.153 -> 0.135, Packages 0.380 -> 0.320, Vegetables 0.129 -> 0.141),
   * for one u2netp run (320 x 320) and one more embed per query photo.
   */
  queryCutout: booleanOption({
    default: false,
    env: 'TWINLENS_QUERY_CUTOUT',
    flag: { flags: '--query-cutout', scope: 'model' },
    doc: "cut the product out of each query photo (salient-object mask, on white) and average its vector with the photo's (Search, Compare, Embed)",
  }),
  /** The bundled U^2-Net-p, checked against its sha256 at start (models/u2netp/README.md). */
  queryCutoutModel: stringOption({
    default: path.join(PACKAGE_ROOT, 'models', 'u2netp', 'u2netp.onnx'),
    defaultText: 'the bundled u2netp, `models/u2netp/u2netp.onnx`',
    nonEmpty: true,
    env: 'TWINLENS_QUERY_CUTOUT_MODEL',
    flag: { flags: '--query-cutout-model <file>', scope: 'model' },
    doc: "the query cut-out's salient-object mask model (ONNX; its sha256 must be the bundled file's)",
  }),
  /**
   * On grocery-dev (cold, shipped defaults otherwise) it moves Recall@1 0.223 -> 0.277 and Packages
   * 0.380 -> 0.540, Fruit and Vegetables unchanged (docs/benchmarks.md). Its cost: one OCR of each
   * catalog image (about 0.1 s on 2 cores, in the background, kept on disk) and one of each query
   * photo at 384 px, which on 2 cores took `make bench`'s Search p50 from 24.3 to 45.1 ms and its
   * searches/s at 8 clients from 45.4 to 23.9; off for Search throughput over print.
   */
  textEvidence: booleanOption({
    default: true,
    env: 'TWINLENS_TEXT_EVIDENCE',
    flag: { flags: '--no-text-evidence', scope: 'model', help: "rank Search's hits without the print the query photo shows" },
    doc: "re-score Search's top hits by the print the query photo shows (OCR, PP-OCRv4) against each item's catalog print and textFields",
  }),
  textWeight: numberOption({
    default: 0.2,
    min: 0,
    max: 10,
    env: 'TWINLENS_TEXT_WEIGHT',
    readme: false,
    flag: { flags: '--text-weight <w>', scope: 'model' },
    doc: "added to a hit's score when all of the query's print is found in the item's text (textEvidence)",
  }),
  textDepth: intOption({
    default: 20,
    min: 1,
    max: 1000,
    env: 'TWINLENS_TEXT_DEPTH',
    readme: false,
    flag: { flags: '--text-depth <n>', scope: 'model' },
    doc: 'how many of the top hits the text evidence re-scores',
  }),
  textFields: listOption<string>({
    default: ['name'],
    of: 'metadata field names',
    env: 'TWINLENS_TEXT_FIELDS',
    readme: false,
    flag: { flags: '--text-fields <list>', scope: 'model' },
    doc: "metadata fields whose values count as an item's text besides its catalog image's print (textEvidence), comma-separated",
  }),
  /**
   * On grocery-dev (cold, text evidence on) it moved Recall@5 0.476 -> 0.571 and MRR 0.387 -> 0.404,
   * Recall@1 0.277 -> 0.274 (one photo); on `make eval-scale`'s generated watches Recall@1 0.170 ->
   * 0.198 and Recall@5 0.360 -> 0.420, for about 7 ms a query (docs/benchmarks.md).
   */
  colorEvidence: booleanOption({
    default: true,
    env: 'TWINLENS_COLOR_EVIDENCE',
    flag: { flags: '--no-color-evidence', scope: 'model', help: "rank Search's hits without comparing colours" },
    doc: "re-score Search's top hits by how alike the colours of the query photo's middle and each item's catalog image are",
  }),
  colorWeight: numberOption({
    default: 0.1,
    min: 0,
    max: 10,
    env: 'TWINLENS_COLOR_WEIGHT',
    readme: false,
    flag: { flags: '--color-weight <w>', scope: 'model' },
    doc: "added to a hit's score when its colours and the query photo's agree fully (colorEvidence)",
  }),
  colorDepth: intOption({
    default: 20,
    min: 1,
    max: 1000,
    env: 'TWINLENS_COLOR_DEPTH',
    readme: false,
    flag: { flags: '--color-depth <n>', scope: 'model' },
    doc: 'how many of the top hits the colour evidence re-scores',
  }),
  /**
   * Issue 12's pair head v2: a small learned model (models/evidence_head/) that weighs each of
   * Search's top hits' cosine, colour and text similarity into one probability, in place of
   * colorWeight and textWeight. It applies while the embedding model it learned on serves and the
   * stages it reads are on; a version learned from confirmed photos ranks by the fixed weights.
   */
  evidenceHead: stringOption({
    default: path.join(PACKAGE_ROOT, 'models', 'evidence_head', 'manifest.json'),
    defaultText: 'the bundled head, `models/evidence_head/manifest.json`',
    env: 'TWINLENS_EVIDENCE_HEAD',
    flag: { flags: '--evidence-head <manifest>', scope: 'model' },
    doc: "the manifest of the learned head that weighs Search's evidence (cosine, colour, text); '' ranks by colorWeight and textWeight",
  }),
  /**
   * Off: every pair head trained here so far, on simulated pairs, ranked real photos worse than the
   * embedding cosine (grocery-dev: the adapted model's Recall@1 0.257 by cosine, 0.142 reranked;
   * README "Measured"). `twinlens eval` turns it on to report both orders.
   */
  usePairHead: booleanOption({
    default: false,
    env: 'TWINLENS_USE_PAIR_HEAD',
    flag: { flags: '--pair-head', scope: 'model' },
    doc: "rerank Search's shortlist and score Compare with the model's pair head, when its manifest has one (a version learned from confirmed examples uses its head when its held-out check kept it)",
  }),
  compareStreamMaxInFlight: intOption({
    default: 8,
    min: 1,
    max: 1024,
    env: 'TWINLENS_COMPARE_STREAM_MAX_IN_FLIGHT',
    flag: { flags: '--compare-stream-max-in-flight <n>' },
    doc: 'pairs of one CompareStream worked on at once (the stream stops reading beyond it)',
  }),
  /** 64: four full batches, about half a second of model time on 2 cores, and at most a few hundred MB of decoded pixels. */
  maxImagesInProgress: intOption({
    default: 64,
    min: 1,
    max: 100_000,
    env: 'TWINLENS_MAX_IMAGES_IN_PROGRESS',
    flag: { flags: '--max-images-in-progress <n>' },
    doc: 'most images decoding, queued or in the model at once (a unary call beyond it: RESOURCE_EXHAUSTED; streamed items wait)',
  }),
  /**
   * Checked on the request headers, before the request message is read: the engine gate above acts
   * only after grpc-js has read the whole message, which under a large burst took seconds. 128:
   * twice maxImagesInProgress, so the gate stays full while admitted bodies arrive; admitted bodies
   * buffer at most 128 x the message size (26 MB at 200 KB per image).
   */
  maxImageCallsInProgress: intOption({
    default: 128,
    min: 1,
    max: 100_000,
    env: 'TWINLENS_MAX_IMAGE_CALLS_IN_PROGRESS',
    readme: false,
    flag: { flags: '--max-image-calls-in-progress <n>' },
    doc: 'most Search, Compare and Embed calls at once, checked on the headers (beyond it: RESOURCE_EXHAUSTED before the message is read)',
  }),
  /**
   * Budget of image bytes held by the server across all calls and streams (request images received
   * and not yet done with: decoding, embedding, waiting for a commit). A unary call (Search, Compare,
   * Embed) whose image does not fit gets RESOURCE_EXHAUSTED; a streamed message (UpsertItems,
   * CompareStream) waits for room and its stream is not read meanwhile. 256 MiB: about 13 images of
   * 19 MB or 1,300 of 200 KB, more than two cores decode and embed at once, a few percent of 24 GiB.
   * What sits outside it: one message per admitted stream (maxImageStreamsInProgress x
   * maxMessageBytes), the bodies of unary calls being received (src/server/image-budget-admission.ts),
   * and a working set: 80-180 MB in the server process (garbage V8 has not collected yet, allocator
   * slack) and the two decoder children (~80 MB each at rest, up to 3 images each while decoding).
   * Measured with upload-flood: docs/benchmarks.md, section 4.
   */
  maxImageBytesInFlight: intOption({
    default: 256 * 1024 * 1024,
    min: 1024 * 1024,
    max: Number.MAX_SAFE_INTEGER,
    env: 'TWINLENS_MAX_IMAGE_BYTES_IN_FLIGHT',
    flag: { flags: '--max-image-bytes-in-flight <n>' },
    doc: 'image bytes held at once across all calls and streams (beyond it: unary RESOURCE_EXHAUSTED, streams wait)',
  }),
  /**
   * Most UpsertItems, AddExamples and CompareStream streams at once, checked on the headers before any message is
   * read. 4: more concurrent uploads do not go faster on 2 cores (the model is the bottleneck), and
   * 4 x 32 MiB bounds what waits outside the byte budget.
   */
  maxImageStreamsInProgress: intOption({
    default: 4,
    min: 1,
    max: 100_000,
    env: 'TWINLENS_MAX_IMAGE_STREAMS_IN_PROGRESS',
    readme: false,
    flag: { flags: '--max-image-streams-in-progress <n>' },
    doc: 'most UpsertItems, AddExamples and CompareStream streams at once (beyond it: RESOURCE_EXHAUSTED on the headers)',
  }),
  maxImageFrames: intOption({
    default: 256,
    min: 1,
    max: 100_000,
    env: 'TWINLENS_MAX_IMAGE_FRAMES',
    flag: { flags: '--max-image-frames <n>' },
    doc: 'most frames an animated image may declare (only the first is used)',
  }),
  /**
   * 2: one per core here. A native crash in libvips or a codec on a corrupt file (a SIGSEGV, seen
   * once in ~100,000 fuzz cases) then kills a child, not the server: the child is replaced and its
   * decodes retried alone (one that crashes alone is refused with INVALID_ARGUMENT).
   */
  decodeProcesses: intOption({
    default: 2,
    min: 0,
    max: 256,
    env: 'TWINLENS_DECODE_PROCESSES',
    flag: { flags: '--decode-processes <n>' },
    doc: 'child processes decoding images (0: in the server process, no crash isolation)',
  }),
  shutdownGraceMs: intOption({
    default: 10_000,
    min: 0,
    max: 3_600_000,
    env: 'TWINLENS_SHUTDOWN_GRACE_MS',
    flag: { flags: '--shutdown-grace-ms <ms>' },
    doc: 'on shutdown, how long running calls may take before they are cancelled, ms',
  }),
  /** Null in the library: no metrics server and no metrics kept (library use, tests); `serve` turns it on. */
  metricsPort: portOrOffOption({
    default: null,
    serveDefault: 9464,
    env: 'TWINLENS_METRICS_PORT',
    flag: { flags: '--metrics-port <n>', off: '--no-metrics', offHelp: 'serve no metrics (wins over --metrics-port and the variable)' },
    doc: 'HTTP port of Prometheus GET /metrics and liveness GET /healthz (0: any free one; off: none)',
  }),
  /** Null: the gRPC `host`, so metrics are never exposed wider than the service. */
  metricsHost: stringOrNullOption({
    default: null,
    defaultText: 'the gRPC host',
    env: 'TWINLENS_METRICS_HOST',
    readme: false,
    flag: { flags: '--metrics-host <host>' },
    doc: 'address the metrics server binds',
  }),
  /** `warn` drops the request lines of successful and client-error calls. */
  logLevel: enumOption(LOG_LEVELS, {
    default: 'info',
    env: 'TWINLENS_LOG_LEVEL',
    flag: { flags: '--log-level <level>' },
    doc: 'lowest level of the JSON log lines on stderr',
  }),
  /** Off in the library; `serve` seeds an empty catalog so a first start has something to search. */
  seedDemoCatalog: booleanOption({
    default: false,
    serveDefault: true,
    env: 'TWINLENS_SEED_DEMO_CATALOG',
    flag: { flags: '--no-demo', help: 'do not seed an empty catalog with demo watches' },
    doc: 'seed an empty catalog with generated demo watches at start-up',
  }),
  demoCatalogSize: intOption({
    default: 60,
    min: 1,
    max: 10_000,
    env: 'TWINLENS_DEMO_CATALOG_SIZE',
    readme: false,
    flag: { flags: '--demo-catalog-size <n>' },
    doc: 'demo watches seeded',
  }),
  /** Plaintext suits loopback; set it (or terminate TLS in front) before exposing the port. */
  tlsCertFile: stringOption({
    default: '',
    expected: 'a file path',
    env: 'TWINLENS_TLS_CERT',
    flag: { flags: '--tls-cert <file>' },
    doc: 'PEM certificate chain the server presents; with the key it turns TLS on',
  }),
  tlsKeyFile: stringOption({
    default: '',
    expected: 'a file path',
    env: 'TWINLENS_TLS_KEY',
    flag: { flags: '--tls-key <file>' },
    doc: 'PEM private key of the certificate',
  }),
  tlsClientCaFile: stringOption({
    default: '',
    expected: 'a file path',
    env: 'TWINLENS_TLS_CLIENT_CA',
    flag: { flags: '--tls-client-ca <file>' },
    doc: 'PEM CA for mutual TLS: every client must present a certificate it signed (needs the certificate)',
  }),
  /**
   * With no read, write or file token at all, authentication is off. Tokens on a command line show
   * in `ps`: prefer the token file or the variable outside a laptop.
   */
  readTokens: listOption<string>({
    default: [],
    of: 'tokens',
    entry: checkToken,
    env: 'TWINLENS_READ_TOKENS',
    flag: { flags: '--read-token <token>', repeatable: true, secret: true, help: 'bearer token allowed to search, compare, embed and read the catalog (repeatable)' },
    doc: `bearer tokens that may call the read methods (${MIN_TOKEN_LENGTH}+ characters of A-Z a-z 0-9 - . _ ~ + / and trailing =), comma-separated`,
  }),
  writeTokens: listOption<string>({
    default: [],
    of: 'tokens',
    entry: checkToken,
    env: 'TWINLENS_WRITE_TOKENS',
    flag: { flags: '--write-token <token>', repeatable: true, secret: true, help: 'bearer token also allowed to change the catalog (repeatable)' },
    doc: 'bearer tokens that may call every method, catalog changes included, comma-separated',
  }),
  /** Keeps tokens off command lines. */
  authTokenFile: stringOption({
    default: '',
    expected: 'a file path',
    env: 'TWINLENS_AUTH_TOKEN_FILE',
    flag: { flags: '--token-file <file>' },
    doc: "file of more tokens, one 'read:<token>' or 'write:<token>' per line ('#' comments), read at start",
  }),
  /** Health and reflection: probes and `grpcurl list` keep working, and they reveal only liveness and the schema. */
  authExemptServices: listOption<string>({
    default: [...DEFAULT_AUTH_EXEMPT_SERVICES],
    defaultText: 'health, reflection v1 and v1alpha',
    of: "full service names such as 'grpc.health.v1.Health'",
    entry: checkServiceName,
    env: 'TWINLENS_AUTH_EXEMPT_SERVICES',
    flag: { flags: '--auth-exempt <services>' },
    doc: 'services callable without a token while authentication is on, comma-separated (none: every service needs one)',
  }),
  /**
   * `auto`: exact SIMD scan below `annMinItems` items, an HNSW graph from there on (built in the
   * background while exact serves; saved under `<dataDir>/index`, bound to the model version).
   */
  /**
   * fold: the item's vector is the normalised sum of its catalog vector and its confirmed photos'
   * vectors (measured better than best-view on grocery-dev, docs/warm-path.md); best-view: each
   * confirmed photo is another view of the item and the item scores by its best view. With
   * store=postgres the catalog is bound to one way, which every replica must share (docs/scale-out.md).
   */
  exampleScoring: enumOption(['fold', 'best-view'] as const, {
    default: 'fold',
    env: 'TWINLENS_EXAMPLE_SCORING',
    flag: { flags: '--example-scoring <how>', scope: 'model' },
    doc: "how an item's confirmed SAME photos act on Search: fold (into the item vector) or best-view",
  }),
  /**
   * Search's query images are kept in memory this long so that ConfirmMatch can turn one into an
   * example without a second upload. 0 keeps none (ConfirmMatch then answers FAILED_PRECONDITION):
   * the photos people search with outlive their request only while this is on (docs/warm-path.md).
   */
  confirmRetentionMs: intOption({
    default: 10 * 60_000,
    min: 0,
    max: 2 ** 31 - 1,
    env: 'TWINLENS_CONFIRM_RETENTION_MS',
    flag: { flags: '--confirm-retention-ms <ms>' },
    doc: 'how long query photos are kept for ConfirmMatch, ms (0: none kept, ConfirmMatch off)',
  }),
  /** The oldest query images go first beyond it. */
  confirmRetentionBytes: intOption({
    default: 64 * 1024 * 1024,
    min: 0,
    max: 2 ** 40,
    env: 'TWINLENS_CONFIRM_RETENTION_BYTES',
    readme: false,
    flag: { flags: '--confirm-retention-bytes <n>' },
    doc: 'most bytes of query photos kept for ConfirmMatch (0: none)',
  }),
  /**
   * `whitening` (src/adapt/whitening-adapter.ts) is the learner measured to help: on grocery-dev with
   * every grocery-feedback photo it lifts Recall@1 well above folding the photos in alone, and it
   * only writes a version that beats the serving model on held-out photos. `finetune` trains the twin
   * and its pair head on the photos (Debian's PyTorch) and measured below the whitening with every
   * photo folded in (docs/warm-path.md), so it is the choice, not the default.
   */
  exampleAdapter: enumOption(['whitening', 'finetune', 'none'] as const, {
    default: 'whitening',
    env: 'TWINLENS_EXAMPLE_ADAPTER',
    flag: { flags: '--example-adapter <name>', scope: 'model' },
    doc: 'what learns from confirmed examples, rolled in as a new model version: whitening (a fitted projection), finetune (the twin and pair head trained on them; needs python3-torch) or none',
  }),
  /**
   * The bundled raw MobileNetV2-1.4: its 1,792-d features whitened beat the 256-d twin's whitened
   * (grocery-dev, all confirmed photos: 0.605 against 0.500 Recall@1 in the research runs).
   */
  adaptBaseManifest: stringOption({
    default: path.join(PACKAGE_ROOT, 'models', 'mobilenet_v2_140', 'manifest.json'),
    defaultText: 'the bundled raw backbone, `models/mobilenet_v2_140/manifest.json`',
    nonEmpty: true,
    env: 'TWINLENS_ADAPT_BASE_MODEL',
    flag: { flags: '--adapt-base-model <manifest>', scope: 'model' },
    doc: "network whose raw vectors the whitening adapter fits on (the serving model's manifest keeps its network)",
  }),
  /**
   * Off by default: each adaptation re-embeds the whole catalog in the background (minutes for
   * thousands of items, far more for millions), so a deployment chooses when it is worth it.
   */
  adaptAfterExamples: intOption({
    default: 0,
    min: 0,
    max: MAX_INT32,
    env: 'TWINLENS_ADAPT_AFTER_EXAMPLES',
    flag: { flags: '--adapt-after-examples <n>' },
    doc: 'a server adapts in the background once this many SAME examples arrived since the serving version was learned (0: never)',
  }),
  indexKind: enumOption(['auto', 'exact', 'hnsw'] as const, {
    default: 'auto',
    env: 'TWINLENS_INDEX_KIND',
    flag: { flags: '--index-kind <kind>' },
    doc: 'search index: auto (exact, then HNSW from annMinItems items), exact or hnsw',
  }),
  /** Exact takes ~3 ms a query at 256-d at 50,000 items. */
  annMinItems: intOption({
    default: 50_000,
    min: 0,
    max: MAX_INT32,
    env: 'TWINLENS_ANN_MIN_ITEMS',
    flag: { flags: '--ann-min-items <n>' },
    doc: 'items from which auto serves from the HNSW graph',
  }),
  /**
   * `i8`: the smallest graph that keeps recall once candidates are rescored from the full-precision
   * vectors the catalog holds anyway. `b1`: ~1,000-bit binary codes, Hamming search, rescore.
   */
  indexQuantization: enumOption(['f32', 'f16', 'i8', 'b1'] as const, {
    default: 'i8',
    env: 'TWINLENS_INDEX_QUANTIZATION',
    flag: { flags: '--index-quantization <q>' },
    doc: 'what the HNSW graph stores per vector',
  }),
  hnswConnectivity: intOption({
    default: 16,
    min: 2,
    max: 256,
    env: 'TWINLENS_HNSW_M',
    readme: false,
    flag: { flags: '--hnsw-m <n>' },
    doc: 'HNSW graph degree M',
  }),
  hnswExpansionAdd: intOption({
    default: 128,
    min: 1,
    max: 10_000,
    env: 'TWINLENS_HNSW_EF_CONSTRUCTION',
    readme: false,
    flag: { flags: '--hnsw-ef-construction <n>' },
    doc: 'HNSW build beam width (efConstruction)',
  }),
  /**
   * 128: in `make bench-index` at 1M clustered 256-d vectors the i8 graph with rescore reached
   * recall@10 0.992 at 0.47 ms p50 (ef 64: 0.980 at 0.29 ms).
   */
  hnswExpansionSearch: intOption({
    default: 128,
    min: 1,
    max: 10_000,
    env: 'TWINLENS_HNSW_EF',
    readme: false,
    flag: { flags: '--hnsw-ef <n>' },
    doc: 'HNSW search beam width (ef)',
  }),
  indexSnapshotIntervalMs: intOption({
    default: 600_000,
    min: 0,
    max: MAX_INT32,
    env: 'TWINLENS_INDEX_SNAPSHOT_INTERVAL_MS',
    readme: false,
    flag: { flags: '--index-snapshot-interval-ms <ms>' },
    doc: 'least time between two saves of the HNSW graph (after writes; also on shutdown), ms',
  }),
  /**
   * `embedded` (LanceDB + in-memory index in this process) for one machine; `postgres` puts items,
   * images and vectors in PostgreSQL + pgvector so several replicas serve one catalog (docs/scale-out.md).
   */
  store: enumOption(['embedded', 'postgres'] as const, {
    default: 'embedded',
    env: 'TWINLENS_STORE',
    flag: { flags: '--store <kind>' },
    doc: 'catalog store: embedded (this process) or postgres (shared by replicas; needs postgresUrl)',
  }),
  postgresUrl: stringOption({
    default: '',
    env: 'TWINLENS_POSTGRES_URL',
    flag: { flags: '--postgres-url <url>' },
    doc: 'PostgreSQL URL of the catalog with store=postgres, e.g. postgresql://twinlens@db:5432/twinlens',
  }),
  /** A search holds one connection for one query; 8 covers 2-8 cores of model work per replica. */
  postgresPoolSize: intOption({
    default: 8,
    min: 1,
    max: 1000,
    env: 'TWINLENS_POSTGRES_POOL_SIZE',
    readme: false,
    flag: { flags: '--postgres-pool-size <n>' },
    doc: 'connections each replica keeps to PostgreSQL',
  }),
  /** pgvector's default is 40; 100 keeps recall@10 high on clustered catalogs (docs/scale-out.md). */
  postgresEfSearch: intOption({
    default: 100,
    min: 1,
    max: 1000,
    env: 'TWINLENS_POSTGRES_EF_SEARCH',
    readme: false,
    flag: { flags: '--postgres-ef-search <n>' },
    doc: "pgvector's hnsw.ef_search: HNSW candidates per query (recall against latency)",
  }),
};

/** A token entry: well-formed, and never echoed. */
function checkToken(name: string, token: string, i: number): void {
  if (!isWellFormedToken(token)) {
    throw new RangeError(
      `option ${name}: entry ${i} is not a usable bearer token (expected ${MIN_TOKEN_LENGTH}+ characters of A-Z a-z 0-9 - . _ ~ + / and trailing =; value not shown)`,
    );
  }
}

/** A full gRPC service name. */
function checkServiceName(name: string, service: string): void {
  if (!/^[A-Za-z_][\w.]*$/.test(service)) {
    throw new TypeError(`option ${name}: expected a list of full service names such as 'grpc.health.v1.Health', received ${JSON.stringify(service)}`);
  }
}
