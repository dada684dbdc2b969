import { createTwinlensServer } from '../../server/index.js';
import { createPinoLogger } from '../../observability/index.js';
import type { TwinlensOptions } from '../../config/index.js';

/**
 * `twinlens serve`: runs the service until SIGINT or SIGTERM, then shuts down gracefully. The CLI
 * passes SERVE_DEFAULTS (metrics on, demo catalog seeded), the environment and the flags given, in
 * that order of precedence. JSON log lines go to stderr; stdout gets the human-facing "listening" line (and where the metrics are).
 */
export async function serveCommand(options: Partial<TwinlensOptions>): Promise<void> {
  const log = createPinoLogger({ level: options.logLevel });
  const server = await createTwinlensServer(options, log);
  console.log(`twinlens listening on ${server.address}`);
  if (server.metricsPort !== null) {
    const host = server.options.metricsHost ?? server.options.host;
    console.log(`metrics on http://${host.includes(':') ? `[${host}]` : host}:${server.metricsPort}/metrics`);
  }
  const stop = async (signal: string): Promise<void> => {
    log.info('shutting down', { signal });
    await server.close();
    process.exit(0);
  };
  process.once('SIGINT', () => void stop('SIGINT'));
  process.once('SIGTERM', () => void stop('SIGTERM'));
}
