import { generateDemoCatalog } from '../demo/index.js';
import type { TwinlensEngine } from '../search/index.js';
import { consoleLogger, type Logger } from './logger.js';

/** Fills an empty catalog with generated demo watches, so a fresh service answers Search at once. */
export async function seedDemoCatalog(engine: TwinlensEngine, count: number, log: Logger = consoleLogger): Promise<void> {
  const demo = await generateDemoCatalog({ count });
  const decoded = await Promise.all(demo.map((d) => engine.decoder.decode(d.image)));
  const vectors = await engine.embedder.embedBatch(decoded);
  await engine.catalog.upsert(demo.map((d, i) => ({ itemId: d.itemId, metadata: d.metadata, image: d.image, embedding: vectors[i] })));
  log.info(`seeded the empty catalog with ${demo.length} generated demo watches`);
}
