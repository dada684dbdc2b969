import { createTwinlensServer, type TwinlensServer } from '../../src/server/index.js';
import { type Logger } from '../../src/observability/index.js';
import { connect, type TwinlensClients } from '../../src/cli/client.js';
import type { ExecutionProviderName, TwinlensOptions } from '../../src/config/index.js';

/** A real twinlens server on 127.0.0.1 with gRPC clients connected to it. */
export interface BenchServer {
  server: TwinlensServer;
  clients: TwinlensClients;
  /** Closes the clients, then the server (model and catalog released). */
  stop(): Promise<void>;
}

/** What every bench server shares. */
export interface BenchServerBase {
  dataDir: string;
  modelManifest: string;
  executionProviders: ExecutionProviderName[];
  intraOpThreads: number;
  /** Further options (e.g. maxBatchWaitMs) for every server. */
  extra: Partial<TwinlensOptions>;
  /** Server errors go here. */
  log: (line: string) => void;
}

/**
 * Starts the real server (`createTwinlensServer`) on 127.0.0.1 and a free port, on `base.dataDir`,
 * never seeding demo items, and connects clients of both services to it over gRPC.
 */
export async function startBenchServer(base: BenchServerBase, overrides: Partial<TwinlensOptions> = {}): Promise<BenchServer> {
  const logger: Logger = {
    info: () => undefined,
    error: (m, e) => base.log(`server error: ${m} ${e instanceof Error ? e.message : (e ?? '')}`),
  };
  const server = await createTwinlensServer(
    {
      intraOpThreads: base.intraOpThreads,
      ...base.extra,
      ...overrides,
      host: '127.0.0.1',
      port: 0,
      dataDir: base.dataDir,
      modelManifest: base.modelManifest,
      executionProviders: base.executionProviders,
      seedDemoCatalog: false,
    },
    logger,
  );
  const clients = connect(`127.0.0.1:${server.port}`, server.options.maxMessageBytes);
  return {
    server,
    clients,
    async stop() {
      clients.close();
      await server.close();
    },
  };
}
