import { createTwinlensServer } from '../../api/index.js';
import type { TwinlensOptions } from '../../config/index.js';

/** `twinlens serve`: runs the service until SIGINT or SIGTERM, then shuts down gracefully. */
export async function serveCommand(options: Partial<TwinlensOptions>): Promise<void> {
  const server = await createTwinlensServer({ seedDemoCatalog: true, ...options });
  console.log(`twinlens listening on ${server.address}`);
  const stop = async (signal: string): Promise<void> => {
    console.error(`[twinlens] ${signal}: shutting down`);
    await server.close();
    process.exit(0);
  };
  process.once('SIGINT', () => void stop('SIGINT'));
  process.once('SIGTERM', () => void stop('SIGTERM'));
}
