/**
 * PgCatalogStore on a throwaway PostgreSQL 15 + pgvector cluster: a rare filter still fills k hits,
 * the catalog is bound to one model version, and an item counts once in Search however many views
 * match. Fails when PostgreSQL is missing. (At this size PostgreSQL answers filtered queries from the
 * GIN index or a scan, exactly; the HNSW path with iterative scans is measured by bench-scale-out.)
 */
import { FailedPreconditionError } from '../../src/errors/index.js';
import { PgCatalogStore } from '../../src/store/index.js';
import { startPostgres, type PostgresCluster } from '../helpers/postgres.js';

let pg: PostgresCluster;

beforeAll(async () => {
  pg = await startPostgres();
});

afterAll(async () => {
  await pg?.destroy();
});

const DIM = 32;

/** A deterministic unit vector near centre `c` (clustered, like real embeddings). */
function vector(seed: number, c = seed % 8): Float32Array {
  let s = seed * 2654435761 + 1;
  const rand = (): number => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return s / 2147483648 - 0.5;
  };
  const v = new Float32Array(DIM);
  for (let i = 0; i < DIM; i++) v[i] = (i % 8 === c ? 1 : 0) + 0.3 * rand();
  const n = Math.hypot(...v);
  return v.map((x) => x / n);
}

const image = (i: number): Uint8Array => Buffer.from(`image-${i}`);

test('a filter that 5 of 3,000 rows match returns all 5, with ef_search 10', async () => {
  const store = await PgCatalogStore.open({ url: await pg.createDatabase('rare'), efSearch: 10 }, DIM, 'm1');
  try {
    const items = Array.from({ length: 3000 }, (_, i) => ({
      itemId: `it-${String(i).padStart(4, '0')}`,
      metadata: { rare: i % 600 === 7 ? 'yes' : 'no' },
      image: image(i),
      embedding: vector(i),
    }));
    for (let i = 0; i < items.length; i += 500) await store.upsert(items.slice(i, i + 500));
    const rare = items.filter((it) => it.metadata.rare === 'yes').map((it) => it.itemId);
    expect(rare).toHaveLength(5);
    const { hits } = await store.search(vector(123456, 3), 5, { rare: 'yes' });
    expect(hits.map((h) => h.itemId).sort()).toEqual(rare);
    for (const h of hits) expect(h.metadata.rare).toBe('yes');
    // Unfiltered: k hits, best first.
    const all = await store.search(items[42].embedding, 10);
    expect(all.hits).toHaveLength(10);
    expect(all.hits[0]).toMatchObject({ itemId: 'it-0042', view: '' });
    expect(all.hits[0].score).toBeCloseTo(1, 5);
    for (let i = 1; i < all.hits.length; i++) expect(all.hits[i].score).toBeLessThanOrEqual(all.hits[i - 1].score);
    expect(await store.count()).toBe(3000);
  } finally {
    await store.close();
  }
});

test('an item counts once in Search, by its best view; deleting the item removes its views', async () => {
  const store = await PgCatalogStore.open({ url: await pg.createDatabase('views') }, DIM, 'm1');
  try {
    const near = vector(1, 2);
    await store.upsert([
      { itemId: 'shoe', metadata: {}, image: image(1), embedding: vector(50, 5) },
      { itemId: 'shoe', view: 'side', metadata: {}, image: image(2), embedding: near },
      { itemId: 'shoe', view: 'top', metadata: {}, image: image(3), embedding: near },
      { itemId: 'boot', metadata: {}, image: image(4), embedding: vector(60, 2) },
    ]);
    const { hits } = await store.search(near, 2);
    expect(hits.map((h) => h.itemId)).toEqual(['shoe', 'boot']);
    expect(['side', 'top']).toContain(hits[0].view);
    expect(await store.count()).toBe(2);
    expect(await store.delete('shoe')).toBe(true);
    expect((await store.search(near, 5)).hits.map((h) => h.itemId)).toEqual(['boot']);
    expect(await store.delete('shoe')).toBe(false);
  } finally {
    await store.close();
  }
});

test('the catalog is bound to its model version: another version is refused while it holds vectors, taken when empty', async () => {
  const url = await pg.createDatabase('binding');
  const first = await PgCatalogStore.open({ url }, DIM, 'm1');
  await first.upsert([{ itemId: 'a', metadata: {}, image: image(1), embedding: vector(1) }]);
  await first.close();
  await expect(PgCatalogStore.open({ url }, DIM, 'm2')).rejects.toThrow(FailedPreconditionError);
  await expect(PgCatalogStore.open({ url }, 64, 'm1')).rejects.toThrow('holds vectors of model m1 (32-d)');
  const again = await PgCatalogStore.open({ url }, DIM, 'm1');
  expect(await again.delete('a')).toBe(true);
  await again.close();
  // Empty now: a new model (and dimension) takes the catalog over.
  const next = await PgCatalogStore.open({ url }, 64, 'm2');
  expect(next.modelVersion).toBe('m2');
  expect((await next.stats()).itemCount).toBe(0);
  await next.close();
});
