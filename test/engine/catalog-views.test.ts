/**
 * Catalog view averaging and query mirroring (src/engine/catalog-views.ts): the pure parts, then the
 * real server storing an item as the mean of its clean image and simulated photos of it.
 */
import sharp from 'sharp';
import { averageFeatures, createCatalogViewSource, mirrorImage } from '../../src/engine/index.js';
import { generateDemoCatalog } from '../../src/demo/index.js';
import { DEFAULT_OPTIONS } from '../../src/config/index.js';
import { dot, norm, startTestServer, type TestServer } from '../helpers/server.js';

describe('averageFeatures', () => {
  test('is the normalised mean of the embeddings and keeps the first local map', () => {
    const local = new Float32Array([7, 8]);
    const f = averageFeatures([
      { embedding: new Float32Array([1, 0, 0]), local },
      { embedding: new Float32Array([0, 1, 0]), local: new Float32Array([1, 1]) },
    ]);
    expect(Array.from(f.embedding)).toEqual([Math.SQRT1_2, Math.SQRT1_2, 0].map((x) => expect.closeTo(x, 6)));
    expect(f.local).toBe(local);
  });

  test('refuses an empty list', () => {
    expect(() => averageFeatures([])).toThrow('no features');
  });
});

describe('mirrorImage', () => {
  test('flips each row left to right and leaves the source untouched', () => {
    // 2 x 2: pixel (x, y) has channels [10x + y, 100 + 10x + y, 200 + 10x + y].
    const rgb = Uint8Array.from([0, 100, 200, 10, 110, 210, 1, 101, 201, 11, 111, 211]);
    const m = mirrorImage({ rgb, size: 2, sourceWidth: 2, sourceHeight: 2, format: 'png' });
    expect(Array.from(m.rgb)).toEqual([10, 110, 210, 0, 100, 200, 11, 111, 211, 1, 101, 201]);
    expect(rgb[0]).toBe(0);
    expect(Array.from(mirrorImage(m).rgb)).toEqual(Array.from(rgb));
  });
});

describe('createCatalogViewSource', () => {
  test('is null for 0 views', async () => {
    expect(createCatalogViewSource({ views: 0, seed: 1, workers: 0 })).toBeNull();
  });

  test('gives the same photos for the same bytes, other photos for other bytes', async () => {
    const [a, b] = await generateDemoCatalog({ count: 2, seed: 7, sizePx: 256 });
    const source = (createCatalogViewSource({ views: 3, seed: 1, workers: 0 }))!;
    try {
      const first = await source.photos(a.image);
      expect(first).toHaveLength(3);
      for (const p of first) expect((await sharp(p).metadata()).format).toBe('jpeg');
      expect(new Set(first.map((p) => Buffer.from(p).toString('base64'))).size).toBe(3);
      const again = await source.photos(a.image);
      expect(again.map((p) => Buffer.from(p).equals(Buffer.from(first[again.indexOf(p)])))).toEqual([true, true, true]);
      const other = await source.photos(b.image);
      expect(Buffer.from(other[0]).equals(Buffer.from(first[0]))).toBe(false);
    } finally {
      await source.close();
    }
  }, 60_000);
});

describe('a server with catalog view averaging', () => {
  let withViews: TestServer;
  let plain: TestServer;
  beforeAll(async () => {
    [withViews, plain] = await Promise.all([
      startTestServer({ catalogViews: 4, catalogViewWorkers: 0, catalogViewsInBackground: false, queryMirror: true }),
      startTestServer({ catalogViews: 0, queryMirror: false }),
    ]);
  }, 120_000);
  afterAll(async () => {
    await Promise.all([withViews?.stop(), plain?.stop()]);
  });

  test('stores each item as the mean of its clean image and its simulated photos, reproducibly', async () => {
    const items = await generateDemoCatalog({ count: 3, seed: 11, sizePx: 256 });
    const req = items.map((it) => ({ itemId: it.itemId, image: it.image, metadata: it.metadata }));
    expect((await withViews.rpc.upsertItems(req)).upserted).toBe(3);
    expect((await plain.rpc.upsertItems(req)).upserted).toBe(3);
    for (const it of items) {
      const averaged = (await withViews.rpc.getItem({ itemId: it.itemId, includeEmbedding: true })).embedding;
      const clean = (await plain.rpc.getItem({ itemId: it.itemId, includeEmbedding: true })).embedding;
      expect(norm(averaged)).toBeCloseTo(1, 4);
      // Views move the vector, but it stays nearest its own clean image.
      expect(dot(averaged, clean)).toBeLessThan(0.999);
      expect(dot(averaged, clean)).toBeGreaterThan(0.5);
    }
    // Upserting the same bytes again gives the same vector (views are seeded by the image).
    const before = (await withViews.rpc.getItem({ itemId: items[0].itemId, includeEmbedding: true })).embedding;
    await withViews.rpc.upsertItems([req[0]]);
    const after = (await withViews.rpc.getItem({ itemId: items[0].itemId, includeEmbedding: true })).embedding;
    expect(dot(before, after)).toBeCloseTo(1, 5);
    // Search with an item's own catalog image still finds it first.
    for (const it of items) {
      const res = await withViews.rpc.search({ image: it.image, topK: 3 });
      expect(res.hits[0].itemId).toBe(it.itemId);
    }
  }, 180_000);
});

describe('the service defaults', () => {
  let ts: TestServer;
  beforeAll(async () => {
    // The service's own defaults for these (the helper turns them off for other suites).
    const { catalogViews, queryMirror, textEvidence, colorEvidence } = DEFAULT_OPTIONS;
    ts = await startTestServer({ catalogViews, queryMirror, textEvidence, colorEvidence });
  }, 120_000);
  afterAll(async () => {
    await ts?.stop();
  });

  test('are on: catalog views, query mirroring, the text and colour evidence', () => {
    expect(DEFAULT_OPTIONS.catalogViews).toBeGreaterThan(0);
    expect(DEFAULT_OPTIONS.queryMirror).toBe(true);
    expect(DEFAULT_OPTIONS.textEvidence).toBe(true);
    expect(DEFAULT_OPTIONS.colorEvidence).toBe(true);
  });

  test("a query's vector is the normalised mean of the photo's and its mirror image's", async () => {
    const [item] = await generateDemoCatalog({ count: 1, seed: 12, sizePx: 256 });
    const photo = await sharp(item.image).rotate(8, { background: '#808080' }).jpeg().toBuffer();
    const mirrored = await sharp(photo).flop().png().toBuffer();
    const [served, own, mirror] = await Promise.all([
      ts.rpc.embed({ image: photo }),
      // Photo and mirror alone, on the test-default server that mirrors nothing.
      plainEmbed(photo),
      plainEmbed(mirrored),
    ]);
    const mean = own.map((x, i) => x + mirror[i]);
    const n = norm(mean);
    expect(dot(served.embedding, mean) / n).toBeGreaterThan(0.999);
    expect(dot(served.embedding, own)).toBeLessThan(0.999);
  }, 120_000);

  test('an upserted item is found first by its own image', async () => {
    const items = await generateDemoCatalog({ count: 2, seed: 13, sizePx: 256 });
    expect((await ts.rpc.upsertItems(items.map((it) => ({ itemId: it.itemId, image: it.image, metadata: it.metadata })))).upserted).toBe(2);
    for (const it of items) expect((await ts.rpc.search({ image: it.image, topK: 2 })).hits[0].itemId).toBe(it.itemId);
  }, 300_000);
});

let plainServer: Promise<TestServer> | undefined;
async function plainEmbed(image: Buffer): Promise<number[]> {
  plainServer ??= startTestServer();
  return (await (await plainServer).rpc.embed({ image })).embedding;
}
afterAll(async () => {
  if (plainServer) await (await plainServer).stop();
});
