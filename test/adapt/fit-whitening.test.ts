import { fitWhitening, whiteningGroupsOf, type WhiteningGroup } from '../../src/adapt/index.js';
import { applyProjection, l2Normalize } from '../../src/model/index.js';

const f32 = (v: number[]): Float32Array => Float32Array.from(v);

/** A small seeded PRNG (mulberry32) and a standard normal from it. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
function normal(r: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
}

function dist(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i] - b[i]) ** 2;
  return Math.sqrt(s);
}
function meanOf(rows: Float32Array[]): Float32Array {
  const m = new Float32Array(rows[0].length);
  for (const r of rows) for (let i = 0; i < m.length; i++) m[i] += r[i] / rows.length;
  return m;
}
/** Mean distance of members to their item's mean, over the mean distance between item means. */
function spreadRatio(groups: Float32Array[][]): number {
  const means = groups.map(meanOf);
  let within = 0;
  let n = 0;
  groups.forEach((g, i) => g.forEach((r) => ((within += dist(r, means[i])), n++)));
  let between = 0;
  let pairs = 0;
  for (let i = 0; i < means.length; i++) for (let j = 0; j < i; j++) ((between += dist(means[i], means[j])), pairs++);
  return within / n / (between / pairs);
}

describe('fitWhitening', () => {
  // Reference: /usr/bin/python3 with numpy, the research recipe (warmlib.within_whitening, eps 0.1):
  // rows l2-normalised, mu = mean, Sw = within-item scatter / n, W = inv(cholesky(Sw + 0.1*mean_eig*I)).T
  const groups: WhiteningGroup[] = [
    { itemId: 'a', members: [f32([1.0, 0.2, 0.1, 0.0]), f32([0.9, 0.3, 0.0, 0.1]), f32([1.1, 0.1, 0.2, 0.05])] },
    { itemId: 'b', members: [f32([0.0, 1.0, 0.3, 0.2]), f32([0.1, 0.8, 0.4, 0.1])] },
    {
      itemId: 'c',
      members: [f32([0.2, 0.1, 1.0, 0.7]), f32([0.3, 0.0, 0.9, 0.8]), f32([0.1, 0.2, 1.1, 0.6]), f32([0.2, 0.2, 1.0, 0.9])],
    },
    { itemId: 'empty', members: [] },
  ];
  const expectedMean = [0.4039703, 0.3117815, 0.4580254, 0.3091885];
  const expectedMatrix = [
    [19.468979, 15.731051, 6.865795, -5.263147],
    [0.0, 17.95998, 8.98902, 4.659428],
    [0.0, 0.0, 15.739358, 19.501497],
    [0.0, 0.0, 0.0, 27.53559],
  ];

  it('matches the numpy reference to 1e-4 (relative)', () => {
    const w = fitWhitening(groups, { ridge: 0.1 });
    expect([w.inputDim, w.outputDim, w.items, w.members, w.ridge]).toEqual([4, 4, 3, 9, 0.1]);
    w.mean.forEach((v, i) => expect(Math.abs(v - expectedMean[i])).toBeLessThan(1e-4));
    expectedMatrix.forEach((row, i) =>
      row.forEach((v, j) => expect(Math.abs(w.matrix[i * 4 + j] - v)).toBeLessThan(1e-4 * Math.max(1, Math.abs(v)))),
    );
  });

  it('defaults to ridge 0.1 and normalises members itself (scaled members give the same fit)', () => {
    const scaled = groups.map((g) => ({ ...g, members: g.members.map((m) => m.map((v) => v * 7)) }));
    const a = fitWhitening(groups);
    const b = fitWhitening(scaled);
    expect(a.ridge).toBe(0.1);
    a.matrix.forEach((v, i) => expect(b.matrix[i]).toBeCloseTo(v, 3));
  });

  it('shrinks within-item spread relative to between-item distance on clustered data with shared nuisance directions', () => {
    const r = rng(7);
    const d = 32;
    const nuisance = Array.from({ length: 3 }, () => l2Normalize(Float32Array.from({ length: d }, () => normal(r))));
    const centers = Array.from({ length: 12 }, () => Float32Array.from({ length: d }, () => normal(r) * 0.3 + 1 / Math.sqrt(d)));
    const sample = (c: Float32Array): Float32Array => {
      const v = Float32Array.from(c, (x) => x + normal(r) * 0.02);
      for (const u of nuisance) {
        const s = normal(r) * 0.8;
        for (let i = 0; i < d; i++) v[i] += s * u[i];
      }
      return v;
    };
    const train = centers.map((c, i) => ({ itemId: String(i), members: Array.from({ length: 20 }, () => sample(c)) }));
    const test = centers.map((c) => Array.from({ length: 10 }, () => sample(c)));
    const w = fitWhitening(train);
    const before = spreadRatio(test.map((g) => g.map((v) => l2Normalize(v.slice()))));
    const after = spreadRatio(test.map((g) => g.map((v) => l2Normalize(applyProjection(w, v)))));
    expect(before).toBeGreaterThan(0.3);
    expect(after).toBeLessThan(before / 3);
  });

  describe('bad input fails', () => {
    it('ridge not above 0', () => {
      expect(() => fitWhitening(groups, { ridge: 0 })).toThrow(new RangeError('ridge must be a finite number > 0, received 0'));
      expect(() => fitWhitening(groups, { ridge: Number.NaN })).toThrow(RangeError);
    });
    it('no members at all', () => {
      expect(() => fitWhitening([{ itemId: 'x', members: [] }])).toThrow(new RangeError('fitWhitening needs at least one non-empty member'));
    });
    it('members of different lengths', () => {
      expect(() => fitWhitening([{ itemId: 'x', members: [f32([1, 0]), f32([1, 0, 0])] }])).toThrow(
        new RangeError("item 'x': member of length 3, expected 2"),
      );
    });
  });
});

describe('whiteningGroupsOf', () => {
  const v = (x: number): Float32Array => f32([x, 1]);
  it('adds the catalog vectors of items with fewer than minConfirmed photos only', () => {
    const groups = whiteningGroupsOf(
      [
        { itemId: 'few', confirmed: [v(1)], catalog: [v(2), v(3)] },
        { itemId: 'many', confirmed: [v(4), v(5)], catalog: [v(6)] },
      ],
      2,
    );
    expect(groups.map((g) => [g.itemId, g.members.map((m) => m[0])])).toEqual([
      ['few', [1, 2, 3]],
      ['many', [4, 5]],
    ]);
  });
});
