import { Server } from '@grpc/grpc-js';
import { HealthImplementation } from 'grpc-health-check';
import { type TwinlensOptions, validateOptions } from '../config/index.js';
import { CatalogServiceService, TwinlensServiceService } from '../gen/twinlens/v1/twinlens.js';
import { createObservability } from '../observability/index.js';
import type { TwinlensEngine } from '../engine/index.js';
import { routeGrpcJsLogs, serverSecurityFrom } from '../security/index.js';
import { type CallAdmission, createCallAdmission } from './call-admission.js';
import { createCatalogService } from './catalog-service.js';
import { createImageBudgetAdmission, type ImageBudgetAdmission } from './image-budget-admission.js';
import { createImageMemoryBudget } from './image-memory-budget.js';
import { createEngine, type CreatedEngine } from '../engine/create-engine.js';
import { createPinoLogger, type Logger } from '../observability/logger.js';
import { addReflection } from './reflection.js';
import { releaseDecodedChunks } from './grpc-decoder-release.js';
import { withPrototypeFreeMaps } from './prototype-free-maps.js';
import { seedDemoCatalog } from '../demo/seed-demo-catalog.js';
import { createTwinlensService } from './twinlens-service.js';

/** How often a replica on store=postgres asks the database whether it answers (Health), in ms. */
const STORE_HEALTH_INTERVAL_MS = 1000;
/** How often such a replica counts the catalog's items for the `twinlens_catalog_items` gauge, in ms. */
const STORE_COUNT_INTERVAL_MS = 30_000;

/** Service names reported by grpc.health.v1 ("" is the whole server). */
export const HEALTH_SERVICES = ['', 'twinlens.v1.TwinlensService', 'twinlens.v1.CatalogService'];

/** A running twinlens server. */
export interface TwinlensServer {
  /** The bound port (the real one when options.port was 0). */
  port: number;
  address: string;
  engine: TwinlensEngine;
  /**
   * Settles when a background re-embedding for a new model version has switched the service to it
   * (or stopped or failed); undefined when the catalog already held the model's vectors.
   */
  backgroundReembed: Promise<void> | undefined;
  /**
   * Learns from the catalog's confirmed examples now (option exampleAdapter) and rolls in the version
   * it wrote; resolves once that version serves (what adaptAfterExamples runs in the background).
   */
  adaptFromExamples: CreatedEngine['adaptFromExamples'];
  options: Readonly<TwinlensOptions>;
  /** Admission of Search, Compare and Embed calls on their headers (maxImageCallsInProgress). */
  callAdmission: CallAdmission;
  /** The image memory budget and its admission of image calls and streams (maxImageBytesInFlight). */
  imageAdmission: ImageBudgetAdmission;
  /** The bound port of the metrics HTTP server (the real one when options.metricsPort was 0); null when off. */
  metricsPort: number | null;
  /**
   * Graceful shutdown: reports NOT_SERVING, stops accepting calls, lets running ones finish for up
   * to `shutdownGraceMs` (then cancels them), waits for catalog writes to commit, and releases the
   * model and the catalog. Calling it again returns the same promise.
   */
  close(): Promise<void>;
}

/**
 * Creates the engine and serves it over gRPC, with health checking and reflection, one log line
 * per call, and Prometheus metrics when `metricsPort` is set. Logs go to `logger`, by default
 * pino JSON lines on stderr at `options.logLevel`.
 */
export async function createTwinlensServer(
  partial: Partial<TwinlensOptions> = {},
  logger?: Logger,
): Promise<TwinlensServer> {
  const options = validateOptions(partial);
  const log = logger ?? createPinoLogger({ level: options.logLevel });
  // grpc-js's own lines (it has one logger per process) go to this server's log, without tokens.
  routeGrpcJsLogs(log);
  if (!releaseDecodedChunks()) log.info('grpc-js message decoder not as expected: each upload stream may hold its last message twice');
  // TLS and token files are read before the model loads, so a bad path fails fast.
  const security = serverSecurityFrom(options);
  const observability = createObservability({
    metricsPort: options.metricsPort,
    metricsHost: options.metricsHost ?? options.host,
    log,
  });
  const { engine, backgroundReembed, stopBackgroundReembed, adaptFromExamples, adaptation } = await createEngine(options, log, { onBatch: observability.onModelRun });
  if (options.seedDemoCatalog && (await engine.store.count()) === 0) await seedDemoCatalog(engine, options.demoCatalogSize, log);
  const callAdmission = createCallAdmission({ maxCallsInProgress: options.maxImageCallsInProgress });
  const imageAdmission = createImageBudgetAdmission({
    budget: createImageMemoryBudget(options.maxImageBytesInFlight),
    maxStreamsInProgress: options.maxImageStreamsInProgress,
  });
  const server = new Server({
    // Observability outermost: it only watches (and adds x-request-id), so it sees every call's
    // real status, UNAUTHENTICATED and PERMISSION_DENIED included. Auth comes next, before any
    // handler: a refused call never starts one, so no message is read or decoded. Admission last:
    // an unauthenticated call is refused by auth and takes no slot; a call over capacity is
    // refused on its headers, before its (image-sized) message is read. The image budget after it:
    // it charges the messages of admitted calls only.
    interceptors: [...observability.interceptors, security.authInterceptor, callAdmission.interceptor, imageAdmission.interceptor],
    'grpc.max_receive_message_length': options.maxMessageBytes,
    'grpc.max_send_message_length': options.maxMessageBytes,
  });
  // Request maps (Search filter, item metadata) are decoded into objects without a prototype.
  server.addService(withPrototypeFreeMaps(TwinlensServiceService), createTwinlensService(engine, options, log, imageAdmission.budget));
  server.addService(withPrototypeFreeMaps(CatalogServiceService), createCatalogService(engine, log, imageAdmission.budget, adaptation));
  const health = new HealthImplementation(Object.fromEntries(HEALTH_SERVICES.map((s) => [s, 'SERVING' as const])));
  health.addToServer(server);
  // A store in another process: Health follows whether it answers (NOT_SERVING while it does not).
  let closing = false;
  const storeHealth = watchStoreHealth(engine, log, (serving) => {
    if (!closing) HEALTH_SERVICES.forEach((s) => health.setStatus(s, serving ? 'SERVING' : 'NOT_SERVING'));
  });
  addReflection(server);

  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(`${options.host}:${options.port}`, security.credentials, (e, p) => (e ? reject(e) : resolve(p))),
  );
  const address = `${options.host.includes(':') ? `[${options.host}]` : options.host}:${port}`;
  const metrics = await observability.start({
    get embedder() {
      return engine.embedder;
    },
    catalog: storeHealth.gauges,
    imageBudget: imageAdmission.budget,
  }).catch(async (e: unknown) => {
    // The metrics port is taken (or the like): release what started, then fail.
    server.forceShutdown();
    await engine.close();
    throw e;
  });
  log.info('serving', {
    address,
    catalogItems: await engine.store.count(),
    dataDir: options.dataDir,
    metrics: metrics?.url ?? null,
  });
  log.info(`security: ${security.summary}`);
  for (const warning of security.warnings) log.info(`WARNING: ${warning}`);

  let closed: Promise<void> | undefined;
  return {
    port,
    address,
    engine,
    backgroundReembed,
    adaptFromExamples,
    options,
    callAdmission,
    imageAdmission,
    metricsPort: metrics?.port ?? null,
    close() {
      closed ??= (async () => {
        closing = true;
        storeHealth.stop();
        HEALTH_SERVICES.forEach((s) => health.setStatus(s, 'NOT_SERVING'));
        await new Promise<void>((resolve) => {
          const force = setTimeout(() => {
            log.info(`shutdown: calls still running after ${options.shutdownGraceMs} ms are cancelled`);
            server.forceShutdown();
            resolve();
          }, options.shutdownGraceMs);
          server.tryShutdown(() => {
            clearTimeout(force);
            resolve();
          });
        });
        await observability.close();
        // Stop a background re-embedding before the catalog and models it uses are closed.
        await stopBackgroundReembed();
        // A cancelled upload may still be committing: let the catalog's write queue drain.
        await engine.store.flush();
        // Save the ANN graph if it changed, so the next start loads it instead of rebuilding.
        if (engine.store.kind === 'embedded') await engine.catalog.saveIndex().catch((e: unknown) => log.error('saving the search index failed', e));
        await engine.close();
      })();
      return closed;
    },
  };
}

/**
 * With store=postgres: pings the database every STORE_HEALTH_INTERVAL_MS and reports each change
 * (`onChange(false)` when a ping fails, `true` when one answers again), and keeps the item count for
 * the metrics gauges (read synchronously at each scrape; counted every STORE_COUNT_INTERVAL_MS). The embedded store is always serving.
 */
function watchStoreHealth(
  engine: TwinlensEngine,
  log: Logger,
  onChange: (serving: boolean) => void,
): { gauges: { readonly size: number; readonly indexBytes: number }; stop(): void } {
  if (engine.store.kind === 'embedded') {
    return {
      gauges: {
        get size() {
          return engine.catalog.size;
        },
        get indexBytes() {
          return engine.catalog.indexBytes;
        },
      },
      stop: () => undefined,
    };
  }
  const store = engine.store;
  let size = 0;
  let countedAt = 0;
  let serving = true;
  let running = false;
  const check = async (): Promise<void> => {
    if (running) return;
    running = true;
    try {
      // A cheap read of the model binding each time; the item count (a scan of the rows) now and then.
      await store.check();
      if (Date.now() - countedAt >= STORE_COUNT_INTERVAL_MS) {
        size = await store.count();
        countedAt = Date.now();
      }
      if (!serving) log.info('the catalog database answers again: SERVING');
      serving = true;
    } catch (e) {
      if (serving) log.error('the catalog database does not answer: NOT_SERVING until it does', e);
      serving = false;
    } finally {
      running = false;
    }
    onChange(serving);
  };
  const timer = setInterval(() => void check(), STORE_HEALTH_INTERVAL_MS);
  timer.unref();
  void check();
  return {
    gauges: {
      get size() {
        return size;
      },
      indexBytes: 0,
    },
    stop: () => clearInterval(timer),
  };
}
