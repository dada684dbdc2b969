import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { mulberry32 } from '../../../src/simulate/random.js';
import { PackedKeys } from '../../../src/store/vector-index/packed-keys.js';
import { HnswVectorIndex } from '../../../src/store/vector-index/hnsw-vector-index.js';
import { clusteredVectors, dot } from './vectors.js';

/** Random ids of mixed length and script (ASCII, accents, CJK, emoji, empty). */
function randomKey(rng: () => number): string {
  const alphabet = ['a', 'Z', '7', '-', 'é', 'ß', '商', '品', '😀', '#'];
  const n = Math.floor(rng() * 12);
  let s = '';
  for (let i = 0; i < n; i++) s += alphabet[Math.floor(rng() * alphabet.length)];
  return s;
}

describe('PackedKeys', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'packed-keys-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('agrees with a Map under random adds and deletes, through growth and a file round trip', () => {
    const rng = mulberry32(7);
    const keys = new PackedKeys(4, 8);
    const model = new Map<string, number>();
    let next = 0;
    // Disagreements are collected and asserted once: an expect per step made this test take 12 s.
    const disagreements: string[] = [];
    for (let step = 0; step < 20_000; step++) {
      const key = randomKey(rng);
      if (rng() < 0.7) {
        const label = keys.add(key);
        if (!model.has(key)) model.set(key, next++);
        if (label !== model.get(key)) disagreements.push(`step ${step}: add '${key}' gave ${label}, expected ${model.get(key)}`);
      } else {
        const removed = keys.delete(key);
        if (removed !== (model.get(key) ?? -1)) disagreements.push(`step ${step}: delete '${key}' gave ${removed}, expected ${model.get(key) ?? -1}`);
        model.delete(key);
      }
    }
    expect(disagreements).toEqual([]);
    const check = (k: PackedKeys): void => {
      expect(k.size).toBe(model.size);
      expect(k.labelCount).toBe(next);
      expect([...model].filter(([key, label]) => k.labelOf(key) !== label || k.keyAt(label) !== key)).toEqual([]);
      expect(k.pairs()).toEqual([...model].map(([key, label]) => [label, key]).sort((a, b) => (a[0] as number) - (b[0] as number)));
      expect(k.labelOf('never-added-\u0000')).toBe(-1);
      expect(k.keyAt(-1)).toBeUndefined();
      expect(k.keyAt(next)).toBeUndefined();
    };
    check(keys);
    const file = path.join(dir, 'keys.bin');
    keys.writeFile(file);
    const read = PackedKeys.readFile(file);
    check(read);
    check(PackedKeys.fromPairs(keys.pairs(), keys.labelCount));
    // A key file stays usable for writes: new labels continue after the old ones.
    expect(read.add('brand-new')).toBe(next);
    expect(read.keyAt(next)).toBe('brand-new');
  });

  it('refuses torn and foreign key files and inconsistent label lists', () => {
    const keys = new PackedKeys();
    for (let i = 0; i < 1000; i++) keys.add(`item-${i}`);
    const file = path.join(dir, 'keys.bin');
    keys.writeFile(file);
    const bytes = fs.readFileSync(file);
    fs.writeFileSync(file, bytes.subarray(0, bytes.length - 3));
    expect(() => PackedKeys.readFile(file)).toThrow(/not a complete key file/);
    const foreign = Buffer.from(bytes);
    foreign[0] ^= 0xff;
    fs.writeFileSync(file, foreign);
    expect(() => PackedKeys.readFile(file)).toThrow(/not a complete key file/);
    expect(() => PackedKeys.fromPairs([[0, 'a'], [1, 'a']], 2)).toThrow(/appears twice/);
    expect(() => PackedKeys.fromPairs([[5, 'a']], 3)).toThrow(/distinct integers below 3/);
  });
});

describe('HnswVectorIndex with binary keys (saveWithKeys) and a read-only view', () => {
  it('answers like the index it was saved from, and refuses writes when viewed', async () => {
    const dim = 32;
    const n = 2000;
    const vectors = clusteredVectors(n, dim, 3);
    const keys = vectors.map((_, i) => `sku-${i}-商品`);
    const index = new HnswVectorIndex(dim, { quantization: 'b1', threads: 1, binaryBits: 256 });
    await index.upsert(keys, vectors);
    await index.remove(keys.slice(0, 100));
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hnsw-keys-'));
    try {
      const header = index.saveWithKeys(dir);
      expect('labels' in header).toBe(false);
      const rows = new Map(keys.map((k, i) => [k, vectors[i]]));
      const rescore = { dot: (key: string, q: Float32Array) => dot(rows.get(key)!, q) };
      const viewed = HnswVectorIndex.load(dir, header, rescore, {}, 'view');
      expect(viewed.isReadOnly).toBe(true);
      expect(viewed.size).toBe(n - 100);
      expect(viewed.has(keys[0])).toBe(false);
      expect(viewed.labelOf(keys[150])).toBe(150);
      for (const q of [vectors[500], vectors[1999], vectors[120]]) {
        const [got, want] = [await viewed.search(q, 10), await index.search(q, 10)];
        expect(got.map((h) => h.key)).toEqual(want.map((h) => h.key));
        got.forEach((h, i) => expect(h.score).toBeCloseTo(want[i].score, 6));
      }
      await expect(viewed.upsert([keys[0]], [vectors[0]])).rejects.toThrow(/read-only memory-mapped view/);
      await expect(viewed.remove([keys[200]])).rejects.toThrow(/read-only memory-mapped view/);
      await viewed.close();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
      await index.close();
    }
  });
});
