import { generateDemoCatalog } from './demo-catalog.js';
import type { TwinlensEngine } from '../engine/index.js';
import { consoleLogger, type Logger } from '../observability/logger.js';

/** Fills an empty catalog with generated demo watches, so a fresh service answers Search at once. */
export async function seedDemoCatalog(engine: TwinlensEngine, count: number, log: Logger = consoleLogger): Promise<void> {
  const demo = await generateDemoCatalog({ count });
  const views = engine.catalogViews ? ` with ${engine.catalogViews.views} simulated photos each (catalogViews; ~1 s per watch on 2 cores, first start only)` : '';
  log.info(`seeding the empty catalog with ${demo.length} generated demo watches${views}`);
  await engine.ingest(
    demo.map((d) => ({ itemId: d.itemId, metadata: d.metadata, loadImage: async () => d.image })),
    (done, total) => log.info(`seeded ${done}/${total}`),
  );
  log.info(`seeded the empty catalog with ${demo.length} generated demo watches`);
}
