import { createRng } from '../../src/demo/index.js';
import { ExactIndex } from '../../src/search/index.js';

function unit(v: number[]): Float32Array {
  const n = Math.hypot(...v);
  return Float32Array.from(v.map((x) => x / n));
}

describe('ExactIndex', () => {
  it('returns the k nearest by inner product, best first, and agrees with a brute-force sort', () => {
    const index = new ExactIndex(8, 2); // tiny capacity: forces growth
    const rand = createRng(1);
    const vectors = new Map<string, Float32Array>();
    for (let i = 0; i < 200; i++) {
      const v = unit(Array.from({ length: 8 }, () => rand() - 0.5));
      vectors.set(`id-${i}`, v);
      index.upsert({ itemId: `id-${i}`, metadata: { parity: String(i % 2) } }, v);
    }
    const q = unit(Array.from({ length: 8 }, () => rand() - 0.5));
    const dot = (a: Float32Array) => a.reduce((s, x, j) => s + x * q[j], 0);
    const expected = [...vectors].map(([id, v]) => ({ id, s: dot(v) })).sort((a, b) => b.s - a.s).slice(0, 7);
    const { hits, scanned } = index.search(q, 7);
    expect(scanned).toBe(200);
    expect(hits.map((h) => h.itemId)).toEqual(expected.map((e) => e.id));
    expect(hits[0].score).toBeCloseTo(expected[0].s, 5);
  });

  it('applies metadata filters, including one matching a single item', () => {
    const index = new ExactIndex(2);
    index.upsert({ itemId: 'a', metadata: { brand: 'x', color: 'red' } }, unit([1, 0]));
    index.upsert({ itemId: 'b', metadata: { brand: 'x', color: 'blue' } }, unit([1, 1]));
    index.upsert({ itemId: 'c', metadata: { brand: 'y', color: 'red' } }, unit([0, 1]));
    expect(index.search(unit([1, 0]), 10, { brand: 'x' }).hits.map((h) => h.itemId)).toEqual(['a', 'b']);
    const one = index.search(unit([0, 1]), 10, { brand: 'x', color: 'red' });
    expect(one.hits.map((h) => h.itemId)).toEqual(['a']);
    expect(one.scanned).toBe(1);
    expect(index.search(unit([0, 1]), 10, { brand: 'z' }).hits).toEqual([]);
  });

  it('replaces and deletes without disturbing other items', () => {
    const index = new ExactIndex(2);
    index.upsert({ itemId: 'a', metadata: {} }, unit([1, 0]));
    index.upsert({ itemId: 'b', metadata: {} }, unit([0, 1]));
    index.upsert({ itemId: 'c', metadata: {} }, unit([-1, 0]));
    index.upsert({ itemId: 'a', metadata: { v: '2' } }, unit([0, -1]));
    expect(index.size).toBe(3);
    expect(index.search(unit([0, -1]), 1).hits[0]).toMatchObject({ itemId: 'a', metadata: { v: '2' } });
    expect(index.delete('a')).toBe(true);
    expect(index.delete('a')).toBe(false);
    expect(index.size).toBe(2);
    expect(index.search(unit([-1, 0]), 1).hits[0].itemId).toBe('c');
    expect(index.get('c')?.vector[0]).toBeCloseTo(-1);
    expect(index.sortedIds()).toEqual(['b', 'c']);
  });

  it('refuses vectors of the wrong dimension', () => {
    const index = new ExactIndex(3);
    expect(() => index.upsert({ itemId: 'a', metadata: {} }, new Float32Array(2))).toThrow(RangeError);
    expect(() => index.search(new Float32Array(4), 1)).toThrow(/4 dims/);
  });
});

describe('ExactIndex paths agree', () => {
  it('the SIMD scan (no filter) and the filtered scan (a filter every item passes) rank alike', () => {
    const index = new ExactIndex(64);
    const r = createRng(42);
    for (let i = 0; i < 300; i++) {
      const v = Float32Array.from({ length: 64 }, () => r() - 0.5);
      const n = Math.hypot(...v);
      index.upsert({ itemId: `i${i}`, metadata: { all: 'yes' } }, v.map((x) => x / n));
    }
    const q = index.get('i17')!.vector;
    const simd = index.search(q, 10);
    const filtered = index.search(q, 10, { all: 'yes' });
    expect(simd.hits.map((h) => h.itemId)).toEqual(filtered.hits.map((h) => h.itemId));
    expect(simd.hits[0]).toMatchObject({ itemId: 'i17' });
    expect(simd.hits[0].score).toBeCloseTo(1, 5);
    simd.hits.forEach((h, i) => expect(h.score).toBeCloseTo(filtered.hits[i].score, 5));
  });
});
