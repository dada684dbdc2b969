import { mulberry32, type Rng } from '../../src/simulate/random.js';

/** How the clustered synthetic catalog is drawn (see `syntheticCatalog`). */
export interface SyntheticOptions {
  /** Items in the catalog. */
  count: number;
  /** Embedding size. Default 256 (the trained model's). */
  dim: number;
  /** Query vectors drawn besides the catalog. Default 1,000. */
  queries: number;
  /** Catalog items per top-level cluster, on average. Default 500 (2,000 clusters per million). */
  itemsPerCluster: number;
  /** Power-law exponent of the per-direction spread (PCA spectrum of real CNN embeddings decays). Default 0.7. */
  spectrumDecay: number;
  seed: number;
}

export const DEFAULT_SYNTHETIC: Readonly<Omit<SyntheticOptions, 'count'>> = Object.freeze({
  dim: 256,
  queries: 1000,
  itemsPerCluster: 500,
  spectrumDecay: 0.7,
  seed: 1,
});

/** A synthetic catalog and its queries, every row L2-normalised. */
export interface SyntheticCatalog {
  dim: number;
  count: number;
  /** count x dim, row-major. */
  vectors: Float32Array;
  /** queries x dim, row-major. */
  queries: Float32Array;
  description: string;
}

/**
 * Clustered synthetic embeddings with the structure that makes real image embeddings easy or hard
 * for an ANN index, instead of i.i.d. Gaussian noise (on which every HNSW looks broken):
 *  - an anisotropic space: spreads fall off as a power law over directions (like the PCA
 *    spectrum of CNN features), then a fixed random rotation so no axis is special;
 *  - top-level clusters (product families; sizes vary 0.2x-3x the mean) with a common offset
 *    (real embeddings share a mean direction; cosines between unrelated items are not ~0);
 *  - inside each cluster, variant groups of 1-6 near-duplicates (colourways, views of one product);
 *  - queries: 80% a catalog item seen again with "photo" noise as large as the spread between
 *    variants (a phone photo of a catalog product), 20% fresh draws from the same clusters.
 * Deterministic for a seed.
 */
export function syntheticCatalog(options: Partial<SyntheticOptions> & { count: number }): SyntheticCatalog {
  const o: SyntheticOptions = { ...DEFAULT_SYNTHETIC, ...options };
  const { dim, count } = o;
  const rng = mulberry32(o.seed);
  const gauss = gaussian(rng);
  const spectrum = new Float32Array(dim);
  for (let j = 0; j < dim; j++) spectrum[j] = (j + 1) ** -o.spectrumDecay;
  const rotate = randomRotation(dim, rng);
  const clusters = Math.max(1, Math.round(count / o.itemsPerCluster));
  // Shared offset: a common mean direction (cos ~0.3 between random items).
  const mean = new Float32Array(dim);
  for (let j = 0; j < dim; j++) mean[j] = gauss() * spectrum[j];
  normalise(mean);
  const centres = new Float32Array(clusters * dim);
  const weights = new Float64Array(clusters);
  let wsum = 0;
  for (let c = 0; c < clusters; c++) {
    const row = centres.subarray(c * dim, (c + 1) * dim);
    for (let j = 0; j < dim; j++) row[j] = gauss() * spectrum[j];
    normalise(row);
    for (let j = 0; j < dim; j++) row[j] = 0.55 * mean[j] + row[j];
    weights[c] = 0.2 + 2.8 * rng() ** 2;
    wsum += weights[c];
  }
  const cumulative = new Float64Array(clusters);
  let acc = 0;
  for (let c = 0; c < clusters; c++) cumulative[c] = acc += weights[c] / wsum;
  const pickCluster = (): number => {
    const u = rng();
    let lo = 0;
    let hi = clusters - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cumulative[mid] < u) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
  const clusterSpread = 0.55;
  const variantSpread = 0.18;
  const vectors = new Float32Array(count * dim);
  const base = new Float32Array(dim);
  let i = 0;
  while (i < count) {
    const c = pickCluster();
    // A product: its cluster centre plus anisotropic within-cluster spread.
    for (let j = 0; j < dim; j++) base[j] = centres[c * dim + j] + clusterSpread * gauss() * spectrum[j];
    const variants = 1 + Math.floor(rng() ** 2 * 6);
    for (let v = 0; v < variants && i < count; v++, i++) {
      const row = vectors.subarray(i * dim, (i + 1) * dim);
      for (let j = 0; j < dim; j++) row[j] = base[j] + variantSpread * gauss() * spectrum[j];
    }
  }
  const queries = new Float32Array(o.queries * dim);
  for (let qi = 0; qi < o.queries; qi++) {
    const row = queries.subarray(qi * dim, (qi + 1) * dim);
    if (rng() < 0.8) {
      // Catalog rows are still in the raw (unrotated, unnormalised) space here; all rotate below.
      const src = Math.floor(rng() * count);
      row.set(vectors.subarray(src * dim, (src + 1) * dim));
      for (let j = 0; j < dim; j++) row[j] += variantSpread * gauss() * spectrum[j];
    } else {
      const c = pickCluster();
      for (let j = 0; j < dim; j++) row[j] = centres[c * dim + j] + clusterSpread * gauss() * spectrum[j];
    }
  }
  for (const m of [vectors, queries]) {
    for (let r = 0; r < m.length / dim; r++) {
      const row = m.subarray(r * dim, (r + 1) * dim);
      rotate(row);
      normalise(row);
    }
  }
  return {
    dim,
    count,
    vectors,
    queries,
    description:
      `clustered synthetic: ${clusters} clusters (sizes 0.2-3x), variant groups of 1-6, power-law spectrum ` +
      `(decay ${o.spectrumDecay}) under a random rotation, shared mean direction; queries 80% noisy re-draws of ` +
      `catalog items, 20% fresh; seed ${o.seed}`,
  };
}

function gaussian(rng: Rng): () => number {
  let spare: number | null = null;
  return () => {
    if (spare !== null) {
      const s = spare;
      spare = null;
      return s;
    }
    let u = 0;
    while (u === 0) u = rng();
    const v = rng();
    const r = Math.sqrt(-2 * Math.log(u));
    spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  };
}

function normalise(v: Float32Array): void {
  let s = 0;
  for (let j = 0; j < v.length; j++) s += v[j] * v[j];
  const inv = s > 0 ? 1 / Math.sqrt(s) : 0;
  for (let j = 0; j < v.length; j++) v[j] *= inv;
}

/**
 * A fixed random orthogonal map applied in place: sign flips and a normalised Walsh-Hadamard
 * transform, twice, for power-of-two dims; for other dims, a random permutation with sign flips
 * (still orthogonal, mixes less).
 */
function randomRotation(dim: number, rng: Rng): (v: Float32Array) => void {
  const signs = [0, 1].map(() => Float32Array.from({ length: dim }, () => (rng() < 0.5 ? -1 : 1)));
  if ((dim & (dim - 1)) === 0) {
    const scale = 1 / Math.sqrt(dim);
    return (v) => {
      for (const s of signs) {
        for (let j = 0; j < dim; j++) v[j] *= s[j] * scale;
        for (let h = 1; h < dim; h *= 2) {
          for (let i = 0; i < dim; i += h * 2) {
            for (let j = i; j < i + h; j++) {
              const x = v[j];
              const y = v[j + h];
              v[j] = x + y;
              v[j + h] = x - y;
            }
          }
        }
      }
    };
  }
  const perm = Array.from({ length: dim }, (_, j) => j).sort(() => rng() - 0.5);
  const tmp = new Float32Array(dim);
  return (v) => {
    for (let j = 0; j < dim; j++) tmp[j] = v[perm[j]] * signs[0][j];
    v.set(tmp);
  };
}
