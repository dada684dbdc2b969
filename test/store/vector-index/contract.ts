import type { VectorIndex } from '../../../src/store/vector-index/index.js';
import { bruteForce, clusteredVectors, dot } from './vectors.js';

/**
 * The behaviour every VectorIndex backend must have. `make` creates an empty
 * index of the given dimension; `minRecall` is what an approximate backend must reach on
 * clustered data (1 for exact).
 */
export function vectorIndexContract(name: string, make: (dim: number) => Promise<VectorIndex>, minRecall: number): void {
  describe(`VectorIndex contract: ${name}`, () => {
    const dim = 32;
    const n = 600;
    const vectors = clusteredVectors(n, dim, 7);
    const keys = vectors.map((_, i) => `item-${i}`);
    let index: VectorIndex;

    beforeEach(async () => {
      index = await make(dim);
      await index.upsert(keys, vectors);
    });
    afterEach(async () => {
      await index.close();
    });

    test('holds what was upserted and finds each vector as its own best match', async () => {
      expect(index.size).toBe(n);
      expect(index.dim).toBe(dim);
      expect(index.has('item-5')).toBe(true);
      expect(index.has('nope')).toBe(false);
      for (const i of [0, 17, 599]) {
        const hits = await index.search(vectors[i], 3);
        expect(hits[0].key).toBe(keys[i]);
        expect(hits[0].score).toBeCloseTo(1, 2);
        // Best first, scores are inner products.
        for (let j = 1; j < hits.length; j++) expect(hits[j].score).toBeLessThanOrEqual(hits[j - 1].score + 1e-6);
      }
    });

    test(`top-10 recall against brute force is at least ${minRecall}`, async () => {
      const queries = clusteredVectors(40, dim, 99);
      let hit = 0;
      for (const q of queries) {
        const truth = new Set(bruteForce(keys, vectors, q, 10));
        for (const h of await index.search(q, 10)) if (truth.has(h.key)) hit++;
      }
      expect(hit / (queries.length * 10)).toBeGreaterThanOrEqual(minRecall);
    });

    test('a replace moves the vector; the old one is no longer found', async () => {
      await index.upsert(['item-3'], [vectors[400]]);
      expect(index.size).toBe(n);
      const hits = await index.search(vectors[400], 2);
      expect(hits.map((h) => h.key).sort()).toEqual(['item-3', 'item-400']);
      const old = await index.search(vectors[3], 5);
      expect(old.map((h) => h.key)).not.toContain('item-3');
    });

    test('removed keys are never returned and removing twice counts once', async () => {
      expect(await index.remove(['item-10', 'item-11', 'nope'])).toBe(2);
      expect(await index.remove(['item-10'])).toBe(0);
      expect(index.size).toBe(n - 2);
      const hits = await index.search(vectors[10], 20);
      expect(hits.map((h) => h.key)).not.toContain('item-10');
      expect(hits.map((h) => h.key)).not.toContain('item-11');
    });

    test('an accept predicate filters results; candidates restrict the search exactly', async () => {
      const even = (key: string): boolean => Number(key.split('-')[1]) % 2 === 0;
      const hits = await index.search(vectors[1], 10, { accept: even });
      expect(hits.length).toBe(10);
      expect(hits.every((h) => even(h.key))).toBe(true);
      const candidates = ['item-1', 'item-200', 'item-333'];
      const some = await index.search(vectors[200], 10, { candidates });
      expect(some.map((h) => h.key)).toEqual(['item-200', ...['item-1', 'item-333'].sort((a, b) => dot(vectors[keys.indexOf(b)], vectors[200]) - dot(vectors[keys.indexOf(a)], vectors[200]))]);
    });

    test('k larger than the index returns everything; an empty index returns nothing', async () => {
      const small = await make(dim);
      expect(await small.search(vectors[0], 5)).toEqual([]);
      await small.upsert(['a', 'b'], [vectors[0], vectors[1]]);
      expect((await small.search(vectors[0], 10)).map((h) => h.key)).toEqual(['a', 'b']);
      await small.close();
    });

    test('wrong dimensions are refused', async () => {
      await expect(index.upsert(['x'], [new Float32Array(dim + 1)])).rejects.toThrow(RangeError);
      await expect(index.search(new Float32Array(dim - 1), 3)).rejects.toThrow(RangeError);
    });
  });
}
