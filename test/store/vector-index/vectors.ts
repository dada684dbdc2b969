import { mulberry32 } from '../../../src/simulate/random.js';

/** Deterministic unit vectors for index tests: clustered, so an ANN graph behaves as on real data. */
export function clusteredVectors(n: number, dim: number, seed = 1, clusters = 20): Float32Array[] {
  const rng = mulberry32(seed);
  const gauss = (): number => Math.sqrt(-2 * Math.log(rng() || 1e-12)) * Math.cos(2 * Math.PI * rng());
  const centres = Array.from({ length: clusters }, () => Float32Array.from({ length: dim }, gauss));
  return Array.from({ length: n }, (_, i) => unit(centres[i % clusters].map((c) => c + 0.6 * gauss())));
}

export function unit(v: Float32Array): Float32Array {
  const norm = Math.hypot(...v);
  return v.map((x) => x / norm);
}

export function dot(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

/** Exact top-k keys by inner product. */
export function bruteForce(keys: string[], vectors: Float32Array[], q: Float32Array, k: number): string[] {
  return keys
    .map((key, i) => ({ key, s: dot(vectors[i], q) }))
    .sort((x, y) => y.s - x.s)
    .slice(0, k)
    .map((x) => x.key);
}
