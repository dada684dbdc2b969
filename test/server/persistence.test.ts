/**
 * The catalog survives a restart: close the server, start a new one on the same data directory,
 * and items, metadata, stored images, embeddings and Search results are what they were; deletes
 * and replacements persist too.
 */
import * as fs from 'node:fs/promises';
import { status } from '@grpc/grpc-js';
import type { CatalogItem, SearchResponse } from '../../src/gen/twinlens/v1/twinlens.js';
import { patternImage } from '../helpers/images.js';
import { expectStatus, makeTempDir, startTestServer, type TestServer } from '../helpers/server.js';

let dataDir: string;
let ts: TestServer | undefined;

const ITEMS = Array.from({ length: 6 }, (_, i) => ({
  itemId: `persist-${i}`,
  seed: 800 + i,
  metadata: { n: String(i), parity: i % 2 === 0 ? 'even' : 'odd' },
}));
const images = new Map<string, Buffer>();
let query: Buffer;

beforeAll(async () => {
  dataDir = await makeTempDir('twinlens-persist-');
  for (const it of ITEMS) images.set(it.itemId, await patternImage(it.seed));
  query = await patternImage(899);
});

afterAll(async () => {
  await ts?.stop();
  await fs.rm(dataDir, { recursive: true, force: true });
});

/** Everything a client can see of the catalog. */
async function snapshot(t: TestServer): Promise<{
  items: CatalogItem[];
  embeddings: number[][];
  images: Buffer[];
  search: SearchResponse['hits'];
  filtered: SearchResponse['hits'];
}> {
  const list = await t.rpc.listItems({ pageSize: 1000 });
  const full = await Promise.all(list.items.map((i) => t.rpc.getItem({ itemId: i.itemId, includeEmbedding: true, includeImage: true })));
  const search = await t.rpc.search({ image: query, topK: 100 });
  const filtered = await t.rpc.search({ image: query, topK: 100, filter: { parity: 'even' } });
  return {
    items: list.items,
    embeddings: full.map((f) => f.embedding),
    images: full.map((f) => f.image),
    search: search.hits,
    filtered: filtered.hits,
  };
}

test('items, metadata, images, vectors and Search results survive a restart; so do deletes and replacements', async () => {
  ts = await startTestServer({ dataDir });
  const up = await ts.rpc.upsertItems(ITEMS.map((it) => ({ itemId: it.itemId, image: images.get(it.itemId), metadata: it.metadata })));
  expect(up.failed).toBe(0);
  const before = await snapshot(ts);
  expect(before.items.map((i) => i.itemId)).toEqual(ITEMS.map((i) => i.itemId));
  await ts.stop();

  // Restart 1: everything is as it was.
  ts = await startTestServer({ dataDir });
  const after = await snapshot(ts);
  expect(after.items).toEqual(before.items);
  expect(after.embeddings).toEqual(before.embeddings);
  after.images.forEach((b, i) => expect(Buffer.compare(b, images.get(after.items[i].itemId)!)).toBe(0));
  expect(after.search).toEqual(before.search);
  expect(after.filtered).toEqual(before.filtered);
  expect(after.filtered.map((h) => h.metadata.parity)).toEqual(['even', 'even', 'even']);
  expect((await ts.rpc.getCatalogStats()).itemCount).toBe(ITEMS.length);

  // Delete one, replace another (new image and metadata), then restart again.
  expect(await ts.rpc.deleteItem({ itemId: 'persist-2' })).toEqual({ deleted: true });
  const replacement = await patternImage(850);
  const rep = await ts.rpc.upsertItems([{ itemId: 'persist-3', image: replacement, metadata: { n: '3', parity: 'odd', v: '2' } }]);
  expect(rep.outcomes[0]).toMatchObject({ ok: true, replaced: true });
  const beforeSecond = await snapshot(ts);
  await ts.stop();

  ts = await startTestServer({ dataDir });
  const afterSecond = await snapshot(ts);
  expect(afterSecond.items.map((i) => i.itemId)).toEqual(['persist-0', 'persist-1', 'persist-3', 'persist-4', 'persist-5']);
  expect(afterSecond.items).toEqual(beforeSecond.items);
  expect(afterSecond.embeddings).toEqual(beforeSecond.embeddings);
  expect(afterSecond.search).toEqual(beforeSecond.search);
  expect(afterSecond.search.map((h) => h.itemId)).not.toContain('persist-2');
  await expectStatus(ts.rpc.getItem({ itemId: 'persist-2' }), status.NOT_FOUND);
  const p3 = await ts.rpc.getItem({ itemId: 'persist-3', includeImage: true });
  expect(p3.item!.metadata).toEqual({ n: '3', parity: 'odd', v: '2' });
  expect(Buffer.compare(p3.image, replacement)).toBe(0);
  // The replaced item is found by its new image, not its old one.
  expect((await ts.rpc.search({ image: replacement, topK: 1 })).hits[0]).toMatchObject({ itemId: 'persist-3' });
  expect((await ts.rpc.getCatalogStats()).itemCount).toBe(ITEMS.length - 1);
});
