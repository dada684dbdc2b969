import { generateDemoCatalog } from '../demo/index.js';
import type { TwinlensEngine } from '../search/index.js';
import { consoleLogger, type Logger } from './logger.js';

/** Fills an empty catalog with generated demo watches, so a fresh service answers Search at once. */
export async function seedDemoCatalog(engine: TwinlensEngine, count: number, log: Logger = consoleLogger): Promise<void> {
  const demo = await generateDemoCatalog({ count });
  await engine.ingest(demo.map((d) => ({ itemId: d.itemId, metadata: d.metadata, loadImage: async () => d.image })));
  log.info(`seeded the empty catalog with ${demo.length} generated demo watches`);
}
