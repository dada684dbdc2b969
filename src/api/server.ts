import { Server, ServerCredentials } from '@grpc/grpc-js';
import { HealthImplementation } from 'grpc-health-check';
import { Catalog } from '../catalog/index.js';
import { type TwinlensOptions, validateOptions } from '../config/index.js';
import { generateDemoCatalog } from '../demo/index.js';
import { CatalogServiceService, TwinlensServiceService } from '../gen/twinlens/v1/twinlens.js';
import { createSharpDecoder } from '../imaging/index.js';
import { loadManifest, OnnxEmbedder } from '../model/index.js';
import { TwinlensEngine } from '../search/index.js';
import { createCatalogService } from './catalog-service.js';
import { consoleLogger, type Logger } from './logger.js';
import { addReflection } from './reflection.js';
import { createTwinlensService } from './twinlens-service.js';

/** Service names reported by grpc.health.v1 ("" is the whole server). */
export const HEALTH_SERVICES = ['', 'twinlens.v1.TwinlensService', 'twinlens.v1.CatalogService'];

/** A running twinlens server. */
export interface TwinlensServer {
  /** The bound port (the real one when options.port was 0). */
  port: number;
  address: string;
  engine: TwinlensEngine;
  options: Readonly<TwinlensOptions>;
  /** Stops accepting calls, lets running ones finish, releases the model and the catalog. */
  close(): Promise<void>;
}

/**
 * Builds the engine from options: the manifest's model on the first execution provider that
 * loads, the sharp decoder, and the catalog (re-embedding rows of another model version first).
 */
export async function createEngine(options: Readonly<TwinlensOptions>, log: Logger = consoleLogger): Promise<TwinlensEngine> {
  const manifest = await loadManifest(options.modelManifest);
  const embedder = await OnnxEmbedder.create(manifest, {
    providers: options.executionProviders,
    intraOpThreads: options.intraOpThreads,
    maxBatchSize: options.maxBatchSize,
    maxBatchWaitMs: options.maxBatchWaitMs,
    log: log.info,
  });
  log.info(`model ${manifest.name} ${manifest.version} on ${embedder.provider}`);
  const decoder = createSharpDecoder({
    size: manifest.input.size,
    maxImageBytes: options.maxImageBytes,
    maxImagePixels: options.maxImagePixels,
  });
  const { catalog, stale } = await Catalog.open(options.dataDir, manifest.embeddingDim, manifest.version);
  const engine = new TwinlensEngine(decoder, embedder, catalog, manifest.threshold, manifest.input.size);
  if (stale.length > 0) {
    log.info(`re-embedding ${stale.length} catalog items stored under another model version`);
    await engine.reembed(stale, (done, total) => log.info(`re-embedded ${done}/${total}`));
  }
  if (options.seedDemoCatalog && catalog.size === 0) {
    const demo = await generateDemoCatalog({ count: options.demoCatalogSize });
    const decoded = await Promise.all(demo.map((d) => decoder.decode(d.image)));
    const vectors = await embedder.embedBatch(decoded);
    await catalog.upsert(demo.map((d, i) => ({ itemId: d.itemId, metadata: d.metadata, image: d.image, embedding: vectors[i] })));
    log.info(`seeded the empty catalog with ${demo.length} generated demo watches`);
  }
  return engine;
}

/** Creates the engine and serves it over gRPC, with health checking and reflection. */
export async function createTwinlensServer(
  partial: Partial<TwinlensOptions> = {},
  log: Logger = consoleLogger,
): Promise<TwinlensServer> {
  const options = validateOptions(partial);
  const engine = await createEngine(options, log);
  const server = new Server({
    'grpc.max_receive_message_length': options.maxMessageBytes,
    'grpc.max_send_message_length': options.maxMessageBytes,
  });
  server.addService(TwinlensServiceService, createTwinlensService(engine, options, log));
  server.addService(CatalogServiceService, createCatalogService(engine, log));
  const health = new HealthImplementation(Object.fromEntries(HEALTH_SERVICES.map((s) => [s, 'SERVING' as const])));
  health.addToServer(server);
  addReflection(server);

  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(`${options.host}:${options.port}`, ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))),
  );
  const address = `${options.host.includes(':') ? `[${options.host}]` : options.host}:${port}`;
  log.info(`serving on ${address} (catalog: ${engine.catalog.size} items in ${options.dataDir})`);

  let closed: Promise<void> | undefined;
  return {
    port,
    address,
    engine,
    options,
    close() {
      closed ??= (async () => {
        HEALTH_SERVICES.forEach((s) => health.setStatus(s, 'NOT_SERVING'));
        await new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
        engine.catalog.close();
        await engine.embedder.close();
      })();
      return closed;
    },
  };
}
