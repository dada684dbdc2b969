/**
 * Every RPC of TwinlensService and CatalogService, end to end: the real server (real model on
 * the CPU provider, real catalog) and the real generated clients. One suite for each store:
 * service.test.ts runs it on the embedded catalog (a fresh temporary directory),
 * service.postgres.test.ts on PostgreSQL + pgvector (a throwaway cluster).
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { status } from '@grpc/grpc-js';
import { RankingStage } from '../../src/gen/twinlens/v1/twinlens.js';
import { DEFAULT_OPTIONS } from '../../src/config/index.js';
import { patternImage, randomBytes, type Format } from '../helpers/images.js';
import { dot, expectStatus, norm, type TestServer } from '../helpers/server.js';

const ROOT = path.join(__dirname, '..', '..');
// The bundled default model, whatever it is: these tests check the service reports it faithfully.
const manifest = JSON.parse(fs.readFileSync(DEFAULT_OPTIONS.modelManifest, 'utf8')) as {
  name: string;
  version: string;
  embeddingDim: number;
  threshold: number;
  input: { size: number };
};
const packageVersion = (JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;

/** Registers the suite on a server that `start` starts (once, before the tests) with the catalog in `store`. */
export function describeServiceApi(store: 'embedded' | 'postgres', start: () => Promise<TestServer>): void {
  /** The catalog every test starts from: 8 items, ids in a known order, with metadata to filter on. */
  const CATALOG = [
    { itemId: 'item-01', seed: 1, metadata: { brand: 'acme', color: 'red', sku: 'A-01' } },
    { itemId: 'item-02', seed: 2, metadata: { brand: 'acme', color: 'blue', sku: 'A-02' } },
    { itemId: 'item-03', seed: 3, metadata: { brand: 'globex', color: 'red', sku: 'G-03' } },
    { itemId: 'item-04', seed: 4, metadata: { brand: 'globex', color: 'green', sku: 'G-04' } },
    { itemId: 'item-05', seed: 5, metadata: { brand: 'initech', color: 'red', sku: 'I-05' } },
    { itemId: 'item-06', seed: 6, metadata: { brand: 'acme', color: 'green', sku: 'A-06' } },
    { itemId: 'item-07', seed: 7, metadata: { brand: 'initech', color: 'blue', sku: 'I-07' } },
    { itemId: 'item-08', seed: 8, metadata: { brand: 'globex', color: 'blue', sku: 'G-08' } },
  ];
  const IDS = CATALOG.map((c) => c.itemId);

  let ts: TestServer;
  const images = new Map<string, Buffer>();
  /** Images that are in no catalog item. */
  let strangerA: Buffer;
  let strangerB: Buffer;

  beforeAll(async () => {
    ts = await start();
    for (const c of CATALOG) images.set(c.itemId, await patternImage(c.seed));
    strangerA = await patternImage(101);
    strangerB = await patternImage(102);
    const res = await ts.rpc.upsertItems(CATALOG.map((c) => ({ itemId: c.itemId, image: images.get(c.itemId), metadata: c.metadata })));
    expect(res).toMatchObject({ upserted: CATALOG.length, failed: 0 });
  });

  afterAll(async () => {
    await ts?.stop();
  });

  describe('GetServiceInfo', () => {
    test('reports the CPU provider, the manifest model and the configuration', async () => {
      const info = await ts.rpc.getServiceInfo();
      expect(info).toMatchObject({
        modelName: manifest.name,
        modelVersion: manifest.version,
        embeddingDim: manifest.embeddingDim,
        executionProvider: 'cpu',
        requestedProviders: ['cpu'],
        providerFallbackReason: '',
        hasPairHead: false,
        inputSize: manifest.input.size,
        serverVersion: packageVersion,
        maxBatchSize: ts.server.options.maxBatchSize,
        maxBatchWaitMs: ts.server.options.maxBatchWaitMs,
      });
      expect(info.threshold).toBeCloseTo(manifest.threshold, 6);
    });
  });

  describe('Embed', () => {
    test('returns a unit vector of the model dimension with the model version and timings', async () => {
      const res = await ts.rpc.embed({ image: strangerA });
      expect(res.embedding).toHaveLength(manifest.embeddingDim);
      expect(norm(res.embedding)).toBeCloseTo(1, 4);
      expect(res.embedding.every(Number.isFinite)).toBe(true);
      expect(res.modelVersion).toBe(manifest.version);
      expect(res.timings!.decodeMs).toBeGreaterThan(0);
      expect(res.timings!.embedMs).toBeGreaterThan(0);
      expect(res.timings!.totalMs).toBeGreaterThanOrEqual(res.timings!.embedMs);
    });

    test('the same image gives the same vector; another image a different one', async () => {
      const first = await ts.rpc.embed({ image: strangerA });
      const again = await ts.rpc.embed({ image: Buffer.from(strangerA) });
      expect(again.embedding).toEqual(first.embedding);
      const other = await ts.rpc.embed({ image: strangerB });
      expect(dot(first.embedding, other.embedding)).toBeLessThan(0.99);
    });

    test('concurrent requests (micro-batched together) agree with a lone request', async () => {
      const alone = await ts.rpc.embed({ image: strangerA });
      const batch = await Promise.all([strangerA, strangerB, strangerA].map((image) => ts.rpc.embed({ image })));
      expect(dot(batch[0].embedding, alone.embedding)).toBeGreaterThan(0.99999);
      expect(dot(batch[2].embedding, alone.embedding)).toBeGreaterThan(0.99999);
      expect(dot(batch[1].embedding, alone.embedding)).toBeLessThan(0.99);
    });

    test.each<Format>(['png', 'webp', 'avif', 'gif', 'tiff'])('accepts %s and embeds it like the JPEG of the same picture', async (format) => {
      const jpeg = await ts.rpc.embed({ image: await patternImage(55, 'jpeg') });
      const other = await ts.rpc.embed({ image: await patternImage(55, format) });
      expect(other.embedding).toHaveLength(manifest.embeddingDim);
      // Lossy codecs and GIF's palette move the vector a little, never far.
      expect(dot(jpeg.embedding, other.embedding)).toBeGreaterThan(0.9);
    });
  });

  describe('UpsertItems', () => {
    const ids = ['batch-a', 'batch-b', 'batch-c', 'batch-d', 'batch-e'];

    afterAll(async () => {
      for (const itemId of ids) await ts.rpc.deleteItem({ itemId });
    });

    test('reports one outcome per item, in order; a bad item in the middle fails alone', async () => {
      const items = await Promise.all(ids.map(async (itemId, i) => ({ itemId, image: await patternImage(200 + i), metadata: { n: String(i) } })));
      items[2] = { ...items[2], image: randomBytes(3000) };
      const res = await ts.rpc.upsertItems(items);
      expect(res.upserted).toBe(4);
      expect(res.failed).toBe(1);
      expect(res.outcomes.map((o) => o.itemId)).toEqual(ids);
      expect(res.outcomes.map((o) => o.ok)).toEqual([true, true, false, true, true]);
      for (const o of res.outcomes.filter((x) => x.ok)) {
        expect(o.replaced).toBe(false);
        expect(o.error).toBeUndefined();
      }
      const bad = res.outcomes[2];
      expect(bad.replaced).toBe(false);
      expect(bad.error).toMatchObject({ code: 3, codeName: 'INVALID_ARGUMENT' });
      expect(bad.error!.message).toContain('image could not be read');

      // The good ones are stored; the bad one is not.
      for (const itemId of ['batch-a', 'batch-b', 'batch-d', 'batch-e']) {
        expect((await ts.rpc.getItem({ itemId })).item!.metadata).toEqual({ n: String(ids.indexOf(itemId)) });
      }
      await expectStatus(ts.rpc.getItem({ itemId: 'batch-c' }), status.NOT_FOUND, "'batch-c' does not exist");
    });

    test('an item with an invalid id, empty image or too much metadata fails alone', async () => {
      const image = await patternImage(210);
      const res = await ts.rpc.upsertItems([
        { itemId: 'has space', image },
        { itemId: 'batch-c', image: Buffer.alloc(0) },
        { itemId: 'batch-c', image, metadata: Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`k${i}`, 'v'])) },
        { itemId: 'batch-c', image, metadata: { n: '2' } },
      ]);
      expect(res.outcomes.map((o) => [o.ok, o.error?.code])).toEqual([
        [false, 3],
        [false, 3],
        [false, 3],
        [true, undefined],
      ]);
      expect(res.outcomes[0].error!.message).toContain("item_id: 'has space' is not a valid item id");
      expect(res.outcomes[1].error!.message).toContain('image: empty');
      expect(res.outcomes[2].error!.message).toContain('metadata: 65 entries, the limit is 64');
      expect(res.outcomes[3].replaced).toBe(false);
    });

    test('re-upserting an id replaces the item and says so', async () => {
      const newImage = await patternImage(220);
      const res = await ts.rpc.upsertItems([{ itemId: 'batch-a', image: newImage, metadata: { n: 'again' } }]);
      expect(res.outcomes).toEqual([{ itemId: 'batch-a', ok: true, replaced: true }]);
      const got = await ts.rpc.getItem({ itemId: 'batch-a', includeImage: true });
      expect(got.item!.metadata).toEqual({ n: 'again' });
      expect(Buffer.compare(got.image, newImage)).toBe(0);
      // The same id twice in one upload: the last one wins, and the second is a replacement.
      const twice = await ts.rpc.upsertItems([
        { itemId: 'batch-e', image: newImage, metadata: { v: '1' } },
        { itemId: 'batch-e', image: newImage, metadata: { v: '2' } },
      ]);
      expect(twice.outcomes.map((o) => [o.ok, o.replaced])).toEqual([
        [true, true],
        [true, true],
      ]);
      expect((await ts.rpc.getItem({ itemId: 'batch-e' })).item!.metadata).toEqual({ v: '2' });
    });
  });

  describe('GetItem', () => {
    test('returns the stored item; no embedding or image unless asked', async () => {
      const before = Date.now();
      const image = await patternImage(300);
      await ts.rpc.upsertItems([{ itemId: 'get/me:1', image, metadata: { a: 'b', 'key with space': 'ünïcode' } }]);
      const after = Date.now();
      try {
        const res = await ts.rpc.getItem({ itemId: 'get/me:1' });
        expect(res.item).toEqual({
          itemId: 'get/me:1',
          metadata: { a: 'b', 'key with space': 'ünïcode' },
          modelVersion: manifest.version,
          imageSha256: createHash('sha256').update(image).digest('hex'),
          imageBytes: image.length,
          updatedAtMs: expect.any(Number),
        });
        expect(res.item!.updatedAtMs).toBeGreaterThanOrEqual(before);
        expect(res.item!.updatedAtMs).toBeLessThanOrEqual(after);
        expect(res.embedding).toEqual([]);
        expect(res.image).toHaveLength(0);

        const full = await ts.rpc.getItem({ itemId: 'get/me:1', includeEmbedding: true, includeImage: true });
        expect(Buffer.compare(full.image, image)).toBe(0);
        expect(full.embedding).toHaveLength(manifest.embeddingDim);
        // The stored vector is the one Embed computes for the same bytes.
        const embedded = await ts.rpc.embed({ image });
        expect(dot(full.embedding, embedded.embedding)).toBeGreaterThan(0.99999);

        const onlyEmbedding = await ts.rpc.getItem({ itemId: 'get/me:1', includeEmbedding: true });
        expect(onlyEmbedding.embedding).toEqual(full.embedding);
        expect(onlyEmbedding.image).toHaveLength(0);
      } finally {
        await ts.rpc.deleteItem({ itemId: 'get/me:1' });
      }
    });

    test('an unknown id is NOT_FOUND; an invalid one INVALID_ARGUMENT', async () => {
      await expectStatus(ts.rpc.getItem({ itemId: 'no-such-item' }), status.NOT_FOUND, "catalog item 'no-such-item' does not exist");
      await expectStatus(ts.rpc.getItem({ itemId: '' }), status.INVALID_ARGUMENT, 'item_id', 'not a valid item id');
      await expectStatus(ts.rpc.getItem({ itemId: 'x'.repeat(257) }), status.INVALID_ARGUMENT, 'not a valid item id');
    });
  });

  describe('ListItems', () => {
    test('page_size 3 walks every id exactly once, in id order', async () => {
      const seen: string[] = [];
      const pageSizes: number[] = [];
      let token = '';
      for (let pages = 0; pages < 10; pages++) {
        const res = await ts.rpc.listItems({ pageSize: 3, pageToken: token });
        expect(res.totalCount).toBe(IDS.length);
        pageSizes.push(res.items.length);
        seen.push(...res.items.map((i) => i.itemId));
        token = res.nextPageToken;
        if (!token) break;
      }
      expect(pageSizes).toEqual([3, 3, 2]);
      expect(seen).toEqual(IDS);
      // Items carry their metadata.
      const all = await ts.rpc.listItems({});
      expect(all.items.map((i) => [i.itemId, i.metadata])).toEqual(CATALOG.map((c) => [c.itemId, c.metadata]));
      expect(all.nextPageToken).toBe('');
    });

    test('a page size that divides the catalog ends with an empty token, not an empty page', async () => {
      const first = await ts.rpc.listItems({ pageSize: 4 });
      const second = await ts.rpc.listItems({ pageSize: 4, pageToken: first.nextPageToken });
      expect([...first.items, ...second.items].map((i) => i.itemId)).toEqual(IDS);
      expect(second.nextPageToken).toBe('');
    });

    test('a token this server did not issue and a page size over 1000 are INVALID_ARGUMENT', async () => {
      await expectStatus(ts.rpc.listItems({ pageSize: 3, pageToken: 'garbage!' }), status.INVALID_ARGUMENT, 'page_token');
      await expectStatus(
        ts.rpc.listItems({ pageToken: Buffer.from('before:item-03').toString('base64url') }),
        status.INVALID_ARGUMENT,
        'page_token',
      );
      await expectStatus(ts.rpc.listItems({ pageSize: 1001 }), status.INVALID_ARGUMENT, 'page_size', '1001');
    });
  });

  describe('DeleteItem', () => {
    test('deletes once (true), then reports false; the item is gone from Search and GetItem', async () => {
      const image = strangerB;
      await ts.rpc.upsertItems([{ itemId: 'delete-me', image }]);
      const found = await ts.rpc.search({ image, topK: 1 });
      expect(found.hits[0].itemId).toBe('delete-me');

      expect(await ts.rpc.deleteItem({ itemId: 'delete-me' })).toEqual({ deleted: true });
      expect(await ts.rpc.deleteItem({ itemId: 'delete-me' })).toEqual({ deleted: false });

      const after = await ts.rpc.search({ image, topK: 100 });
      expect(after.hits.map((h) => h.itemId)).not.toContain('delete-me');
      expect(after.candidatesScanned).toBe(IDS.length);
      await expectStatus(ts.rpc.getItem({ itemId: 'delete-me' }), status.NOT_FOUND);
      await expectStatus(ts.rpc.deleteItem({ itemId: 'bad id' }), status.INVALID_ARGUMENT, 'not a valid item id');
      expect((await ts.rpc.getCatalogStats()).itemCount).toBe(IDS.length);
    });
  });

  describe('GetCatalogStats', () => {
    test('counts the items and describes the index and the data directory', async () => {
      const stats = await ts.rpc.getCatalogStats();
      const imageBytes = [...images.values()].reduce((s, b) => s + b.length, 0);
      expect(stats).toMatchObject({
        itemCount: IDS.length,
        modelVersion: manifest.version,
        embeddingDim: manifest.embeddingDim,
      });
      if (store === 'embedded') {
        expect(stats).toMatchObject({ indexKind: 'exact', dataDir: ts.dataDir });
        expect(stats.indexBytes).toBeGreaterThanOrEqual(IDS.length * manifest.embeddingDim * 4);
      } else {
        // The index lives in the database; the data directory is its URL.
        expect(stats).toMatchObject({ indexKind: expect.stringMatching(/^pgvector hnsw cosine halfvec/), dataDir: expect.stringMatching(/^postgresql:\/\//) });
        expect(Number(stats.indexBytes)).toBe(0);
      }
      expect(stats.dataBytes).toBeGreaterThan(imageBytes);
    });

    // On PostgreSQL the database grows by whole pages, not by each image's bytes.
    (store === 'embedded' ? test : test.skip)('data_bytes grows after an upsert (measured in the background: asked again until it does)', async () => {
      const before = Number((await ts.rpc.getCatalogStats()).dataBytes);
      const image = await patternImage(103, 'png', 256);
      await ts.rpc.upsertItems([{ itemId: 'stats-grow', image }]);
      // `before` may be an earlier measurement, never more than the bytes there were before the upsert.
      let after = before;
      for (const end = Date.now() + 20_000; after < before + image.length && Date.now() < end; ) {
        await new Promise((r) => setTimeout(r, 20));
        after = Number((await ts.rpc.getCatalogStats()).dataBytes);
      }
      // At least the new source image (a new file in the blob store); the table grew too.
      expect(after).toBeGreaterThanOrEqual(before + image.length);
      expect(await ts.rpc.deleteItem({ itemId: 'stats-grow' })).toEqual({ deleted: true });
    });
  });

  describe('Search', () => {
    test('finds the item whose own image is the query, first, with score ~1', async () => {
      const res = await ts.rpc.search({ image: images.get('item-03'), topK: 3 });
      expect(res.hits).toHaveLength(3);
      expect(res.hits[0].itemId).toBe('item-03');
      expect(res.hits[0].score).toBeGreaterThan(0.999);
      expect(res.hits[0].metadata).toEqual(CATALOG[2].metadata);
      expect(res.rankedBy).toBe(RankingStage.RANKING_STAGE_EMBEDDING);
      expect(res.modelVersion).toBe(manifest.version);
      expect(res.candidatesScanned).toBe(IDS.length);
      for (let i = 0; i < res.hits.length; i++) {
        expect(res.hits[i].coarseScore).toBe(res.hits[i].score);
        if (i > 0) expect(res.hits[i].score).toBeLessThanOrEqual(res.hits[i - 1].score);
      }
      const t = res.timings!;
      expect(t.decodeMs).toBeGreaterThan(0);
      expect(t.embedMs).toBeGreaterThan(0);
      expect(t.shortlistMs).toBeGreaterThanOrEqual(0);
      expect(t.rerankMs).toBe(0);
      expect(t.totalMs).toBeGreaterThanOrEqual(t.embedMs + t.shortlistMs);
    });

    test('top_k is respected; 0 means the default (10, here capped by the 8 items)', async () => {
      for (const topK of [1, 5, 8, 50]) {
        const res = await ts.rpc.search({ image: strangerA, topK });
        expect(res.hits).toHaveLength(Math.min(topK, IDS.length));
      }
      const dflt = await ts.rpc.search({ image: strangerA });
      expect(dflt.hits.map((h) => h.itemId).sort()).toEqual(IDS);
      // The scores are the cosine similarities with the stored vectors.
      const q = (await ts.rpc.embed({ image: strangerA })).embedding;
      const stored = (await ts.rpc.getItem({ itemId: dflt.hits[0].itemId, includeEmbedding: true })).embedding;
      expect(dflt.hits[0].score).toBeCloseTo(dot(q, stored), 4);
    });

    test('a metadata filter returns only the matching items', async () => {
      const res = await ts.rpc.search({ image: images.get('item-03'), topK: 10, filter: { brand: 'acme' } });
      const acme = CATALOG.filter((c) => c.metadata.brand === 'acme').map((c) => c.itemId);
      expect(res.hits.map((h) => h.itemId).sort()).toEqual(acme);
      expect(res.candidatesScanned).toBe(acme.length);
      for (const h of res.hits) expect(h.metadata.brand).toBe('acme');

      const two = await ts.rpc.search({ image: strangerA, topK: 10, filter: { brand: 'globex', color: 'blue' } });
      expect(two.hits.map((h) => h.itemId)).toEqual(['item-08']);
    });

    test('a filter that matches exactly one item returns it alone, even when it is a poor match', async () => {
      const res = await ts.rpc.search({ image: images.get('item-01'), topK: 5, filter: { sku: 'I-07' } });
      expect(res.hits.map((h) => h.itemId)).toEqual(['item-07']);
      expect(res.candidatesScanned).toBe(1);
      expect(res.hits[0].metadata).toEqual(CATALOG[6].metadata);
    });

    test('a filter that matches nothing returns no hits', async () => {
      const res = await ts.rpc.search({ image: strangerA, filter: { brand: 'nobody' } });
      expect(res.hits).toEqual([]);
      expect(res.candidatesScanned).toBe(0);
      const unknownKey = await ts.rpc.search({ image: strangerA, filter: { 'no-such-key': 'acme' } });
      expect(unknownKey.hits).toEqual([]);
    });
  });

  describe('Compare', () => {
    test('an image against itself scores ~1 and matches', async () => {
      const res = await ts.rpc.compare({ a: { source: { $case: 'image', value: strangerA } }, b: { source: { $case: 'image', value: strangerA } } });
      expect(res.score).toBeGreaterThan(0.999);
      expect(res.score).toBeLessThan(1.0001);
      expect(res.match).toBe(true);
      expect(res.threshold).toBeCloseTo(manifest.threshold, 6);
      expect(res.scoredBy).toBe(RankingStage.RANKING_STAGE_EMBEDDING);
      expect(res.modelVersion).toBe(manifest.version);
      expect(res.timings!.embedMs).toBeGreaterThan(0);
      expect(res.timings!.totalMs).toBeGreaterThan(0);
    });

    test('an image against the catalog item made from it scores ~1 and matches', async () => {
      const res = await ts.rpc.compare({
        a: { source: { $case: 'image', value: images.get('item-05')! } },
        b: { source: { $case: 'itemId', value: 'item-05' } },
      });
      expect(res.score).toBeGreaterThan(0.999);
      expect(res.match).toBe(true);
    });

    test('two different items: the score is their cosine similarity, symmetric, match = score >= threshold', async () => {
      const ab = await ts.rpc.compare({ a: { source: { $case: 'itemId', value: 'item-01' } }, b: { source: { $case: 'itemId', value: 'item-02' } } });
      const ba = await ts.rpc.compare({ a: { source: { $case: 'itemId', value: 'item-02' } }, b: { source: { $case: 'itemId', value: 'item-01' } } });
      const [e1, e2] = await Promise.all(['item-01', 'item-02'].map((itemId) => ts.rpc.getItem({ itemId, includeEmbedding: true })));
      expect(ab.score).toBeCloseTo(dot(e1.embedding, e2.embedding), 5);
      expect(ba.score).toBeCloseTo(ab.score, 6);
      expect(ab.score).toBeLessThan(0.99);
      expect(ab.match).toBe(ab.score >= ab.threshold);
      // Two item ids need no model run.
      expect(ab.timings!.embedMs).toBe(0);
    });

    test('an unknown item id is NOT_FOUND', async () => {
      await expectStatus(
        ts.rpc.compare({ a: { source: { $case: 'image', value: strangerA } }, b: { source: { $case: 'itemId', value: 'ghost-item' } } }),
        status.NOT_FOUND,
        "catalog item 'ghost-item' does not exist",
      );
    });

    test('a missing side is INVALID_ARGUMENT naming the side', async () => {
      await expectStatus(ts.rpc.compare({ a: { source: { $case: 'image', value: strangerA } } }), status.INVALID_ARGUMENT, 'b: missing');
      await expectStatus(ts.rpc.compare({ b: { source: { $case: 'itemId', value: 'item-01' } } }), status.INVALID_ARGUMENT, 'a: missing');
      await expectStatus(ts.rpc.compare({}), status.INVALID_ARGUMENT, 'missing');
    });
  });
}
