import { CatalogIndex } from '../../../src/store/vector-index/index.js';
import { bruteForce, clusteredVectors } from './vectors.js';

describe('CatalogIndex', () => {
  const dim = 32;
  const n = 3000;
  const vectors = clusteredVectors(n, dim, 3);
  const ids = vectors.map((_, i) => `item-${String(i).padStart(4, '0')}`);
  const brandOf = (i: number): string => (i % 600 === 0 ? 'rare' : i % 2 === 0 ? 'even' : 'odd');

  async function filled(kind: 'exact' | 'hnsw'): Promise<CatalogIndex> {
    const index = new CatalogIndex(dim, { kind, hnsw: { threads: 1 }, exactFilterMaxCandidates: 100 });
    index.upsertMany(
      ids.map((itemId, i) => ({ itemId, metadata: { brand: brandOf(i) } })),
      vectors,
    );
    await index.graphReady();
    return index;
  }

  test.each(['exact', 'hnsw'] as const)('%s: a rare filter returns every match, exactly ranked', async (kind) => {
    const index = await filled(kind);
    expect(index.kind).toBe(kind);
    const rare = ids.filter((_, i) => brandOf(i) === 'rare');
    expect(rare).toHaveLength(5);
    const q = vectors[1];
    const { hits, scanned } = index.search(q, 10, { brand: 'rare' });
    const rareVectors = rare.map((id) => vectors[ids.indexOf(id)]);
    expect(hits.map((h) => h.itemId)).toEqual(bruteForce(rare, rareVectors, q, 10));
    expect(scanned).toBe(5);
    // A filter no item matches, and a key nobody has.
    expect(index.search(q, 10, { brand: 'none' }).hits).toEqual([]);
    expect(index.search(q, 10, { colour: 'red' }).hits).toEqual([]);
    index.close();
  });

  test('hnsw: a common filter returns k matches, all passing it', async () => {
    const index = await filled('hnsw');
    const { hits } = index.search(vectors[7], 10, { brand: 'odd' });
    expect(hits).toHaveLength(10);
    expect(hits.every((h) => h.metadata.brand === 'odd')).toBe(true);
    index.close();
  });

  test('auto: switches from exact to a graph at annMinItems, built in the background', async () => {
    const index = new CatalogIndex(dim, { kind: 'auto', annMinItems: 1000, hnsw: { threads: 1 } });
    index.upsertMany(ids.slice(0, 999).map((itemId) => ({ itemId, metadata: {} })), vectors.slice(0, 999));
    expect(index.kind).toBe('exact');
    index.upsertMany(ids.slice(999, 2000).map((itemId) => ({ itemId, metadata: {} })), vectors.slice(999, 2000));
    expect(index.description).toBe('exact (hnsw building)');
    // Writes during the build reach the graph: a delete and a replace.
    index.delete('item-0005');
    index.upsert({ itemId: 'item-0006', metadata: {} }, vectors[2500]);
    await index.graphReady();
    expect(index.kind).toBe('hnsw');
    expect(index.graph!.size).toBe(1999);
    expect(index.search(vectors[5], 5).hits.map((h) => h.itemId)).not.toContain('item-0005');
    expect(index.search(vectors[2500], 1).hits[0].itemId).toBe('item-0006');
    index.close();
  });

  test('several views per item: a hit is the item, scored by its best view', async () => {
    const index = new CatalogIndex(dim, { kind: 'hnsw', hnsw: { threads: 1 } });
    index.upsertMany(
      ids.slice(0, 500).map((itemId) => ({ itemId, metadata: { brand: 'x' } })),
      vectors.slice(0, 500),
    );
    // item-0001 also has an angle view that looks like vector 900.
    index.upsert({ itemId: 'item-0001', metadata: { brand: 'x' }, view: 'angle' }, vectors[900]);
    await index.graphReady();
    expect(index.itemCount).toBe(500);
    expect(index.size).toBe(501);
    const byAngle = index.search(vectors[900], 5).hits;
    expect(byAngle[0]).toMatchObject({ itemId: 'item-0001', view: 'angle' });
    expect(byAngle[0].score).toBeCloseTo(1, 4);
    // The item appears once even when both of its views are near the query.
    const ids5 = index.search(vectors[1], 20).hits.map((h) => h.itemId);
    expect(ids5.filter((id) => id === 'item-0001')).toHaveLength(1);
    expect(index.search(vectors[1], 1).hits[0]).toMatchObject({ itemId: 'item-0001', view: '' });
    // Dropping the angle view leaves the item; dropping the main one too removes it.
    expect(index.delete('item-0001#angle')).toBe(true);
    expect(index.itemCount).toBe(500);
    expect(index.delete('item-0001')).toBe(true);
    expect(index.itemCount).toBe(499);
    expect(index.search(vectors[900], 5).hits.map((h) => h.itemId)).not.toContain('item-0001');
    index.close();
  });
});
