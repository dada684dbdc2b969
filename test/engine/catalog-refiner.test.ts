/**
 * Background refinement of catalog vectors (src/engine/catalog-refiner.ts) through the real server:
 * an item is searchable with its clean vector at once and re-stored with its simulated views later,
 * and rows still waiting are found again when the server restarts.
 */
import { generateDemoCatalog } from '../../src/demo/index.js';
import { dot, makeTempDir, norm, startTestServer, type TestServer } from '../helpers/server.js';
import * as fs from 'node:fs/promises';

/** Polls GetCatalogStats until no row waits for refinement. */
async function refined(ts: TestServer, timeoutMs = 240_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const stats = await ts.rpc.getCatalogStats();
    if (stats.refinement && stats.refinement.pending === 0) return;
    if (Date.now() > end) throw new Error(`refinement still pending: ${JSON.stringify(stats.refinement)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('catalog views refined in the background', () => {
  let ts: TestServer;
  beforeAll(async () => {
    ts = await startTestServer({ catalogViews: 2, catalogViewWorkers: 0, catalogViewsInBackground: true, queryMirror: false });
  }, 120_000);
  afterAll(async () => {
    await ts?.stop();
  });

  test('an item is found by Search while its views are refined, and its vector changes once they are', async () => {
    const views = ts.server.engine.catalogViews!;
    // Hold the simulation until the checks on the clean vector are done.
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const photos = views.photos.bind(views);
    views.photos = async (image) => {
      await held;
      return photos(image);
    };
    const items = await generateDemoCatalog({ count: 3, seed: 21, sizePx: 256 });
    const res = await ts.rpc.upsertItems(items.map((it) => ({ itemId: it.itemId, image: it.image, metadata: it.metadata })));
    expect(res).toMatchObject({ upserted: 3, failed: 0 });

    const waiting = await ts.rpc.getCatalogStats();
    expect(waiting.refinement).toMatchObject({ views: 2, pending: 3, refined: 0 });
    const before = new Map<string, number[]>();
    for (const it of items) {
      expect((await ts.rpc.search({ image: it.image, topK: 1 })).hits[0].itemId).toBe(it.itemId);
      const stored = (await ts.rpc.getItem({ itemId: it.itemId, includeEmbedding: true })).embedding;
      // The clean image's vector: what Embed gives for the same bytes (no query mirror here).
      expect(dot(stored, (await ts.rpc.embed({ image: it.image })).embedding)).toBeGreaterThan(0.9999);
      before.set(it.itemId, stored);
    }

    release();
    await refined(ts);
    const stats = await ts.rpc.getCatalogStats();
    expect(stats.refinement).toMatchObject({ views: 2, pending: 0, refined: 3 });
    expect(stats.refinement!.simulateMs).toBeGreaterThan(0);
    for (const it of items) {
      const after = (await ts.rpc.getItem({ itemId: it.itemId, includeEmbedding: true })).embedding;
      expect(norm(after)).toBeCloseTo(1, 4);
      expect(dot(after, before.get(it.itemId)!)).toBeLessThan(0.999);
      expect((await ts.rpc.search({ image: it.image, topK: 1 })).hits[0].itemId).toBe(it.itemId);
    }
  }, 300_000);
});

describe('rows waiting for refinement across a restart', () => {
  test('are found again at start and refined', async () => {
    const dataDir = await makeTempDir();
    try {
      const [item] = await generateDemoCatalog({ count: 1, seed: 22, sizePx: 256 });
      // Stored by a server that adds no views: the clean vector, marked as having none.
      const first = await startTestServer({ dataDir, catalogViews: 0 });
      await first.rpc.upsertItems([{ itemId: item.itemId, image: item.image, metadata: item.metadata }]);
      const clean = (await first.rpc.getItem({ itemId: item.itemId, includeEmbedding: true })).embedding;
      await first.stop();

      const second = await startTestServer({ dataDir, catalogViews: 2, catalogViewWorkers: 0, catalogViewsInBackground: true });
      try {
        await refined(second);
        expect((await second.rpc.getCatalogStats()).refinement).toMatchObject({ pending: 0, refined: 1 });
        const after = (await second.rpc.getItem({ itemId: item.itemId, includeEmbedding: true })).embedding;
        expect(dot(after, clean)).toBeLessThan(0.999);
      } finally {
        await second.stop();
      }
    } finally {
      await fs.rm(dataDir, { recursive: true, force: true });
    }
  }, 300_000);
});
