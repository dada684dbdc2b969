import { performance } from 'node:perf_hooks';
import type { TwinlensEngine } from '../../src/engine/index.js';
import type { BenchImage } from './bench-images.js';

/** Mean milliseconds per catalog item in each ingest stage, one item at a time (nothing overlaps). */
export interface IngestBreakdown {
  items: number;
  /** Simulated photos per item (the server's catalogViews). */
  views: number;
  /** Rendering the simulated photos (worker threads when the server has them). */
  simulateMs: number;
  /** Decoding the clean image and the photos with the service's decoder. */
  decodeMs: number;
  /** Model time: the clean image alone (what UpsertItems waits for with background refinement). */
  modelCleanMs: number;
  /** Model time: the clean image and its photos in one run (what refinement adds). */
  modelViewsMs: number;
  /** One catalog commit of one item (table write, image blob, index update). */
  commitMs: number;
}

/**
 * Times the stages of storing one catalog item with the server's own parts (decoder, embedder,
 * view source, catalog), item after item, so each figure is that stage alone. The items are
 * written under `idPrefix` and deleted again.
 */
export async function measureIngestBreakdown(engine: TwinlensEngine, images: readonly BenchImage[], idPrefix: string): Promise<IngestBreakdown> {
  const sum = { simulateMs: 0, decodeMs: 0, modelCleanMs: 0, modelViewsMs: 0, commitMs: 0 };
  const views = engine.catalogViews;
  for (const [i, img] of images.entries()) {
    let t = performance.now();
    const photos = views ? await views.photos(img.bytes) : [];
    sum.simulateMs += performance.now() - t;
    t = performance.now();
    const decoded = await Promise.all([img.bytes, ...photos].map((b) => engine.decoder.decode(b)));
    sum.decodeMs += performance.now() - t;
    t = performance.now();
    const [clean] = await engine.embedder.embedBatch(decoded.slice(0, 1));
    sum.modelCleanMs += performance.now() - t;
    if (photos.length > 0) {
      t = performance.now();
      await engine.embedder.embedBatch(decoded);
      sum.modelViewsMs += performance.now() - t;
    }
    t = performance.now();
    // Stored as a vector made elsewhere (no simulatedViews): the refiner leaves it alone.
    await engine.catalog.upsert([{ itemId: `${idPrefix}${i}`, metadata: { bench: 'breakdown' }, image: img.bytes, embedding: clean.embedding, local: clean.local }]);
    sum.commitMs += performance.now() - t;
  }
  for (let i = 0; i < images.length; i++) await engine.catalog.delete(`${idPrefix}${i}`);
  const n = Math.max(1, images.length);
  return {
    items: images.length,
    views: views?.views ?? 0,
    simulateMs: sum.simulateMs / n,
    decodeMs: sum.decodeMs / n,
    modelCleanMs: sum.modelCleanMs / n,
    modelViewsMs: sum.modelViewsMs / n,
    commitMs: sum.commitMs / n,
  };
}
