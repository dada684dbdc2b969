/**
 * Within-item whitening, fitted in closed form on confirmed photos (the warm path): the linear
 * map under which photos of one item vary as little as possible relative to every other direction.
 * With Sw the within-item scatter of the members, W is any matrix with W Wᵀ = (Sw + ridge·λ̄·I)⁻¹
 * (λ̄ = Sw's mean eigenvalue); this takes W = L⁻ᵀ from the Cholesky factor L Lᵀ of that matrix.
 * Pure TypeScript in float64: scatter, Cholesky and the triangular inverse are each about d³/6
 * multiply-adds (1792-d: seconds on one core).
 */
import type { Projection } from '../model/index.js';

/** The vectors that show one item: its confirmed photos, and more (catalog vector, views) when it has few. */
export interface WhiteningGroup {
  itemId: string;
  /** Embeddings of the raw network (any length scale: each is L2-normalised before use). */
  members: readonly Float32Array[];
}

/** Options of {@link fitWhitening}; defaults in {@link WHITENING_DEFAULTS}. */
export interface WhiteningOptions {
  /**
   * Ridge added to Sw, as a fraction of Sw's mean eigenvalue. Default 0.1 (chosen by cross-validation
   * within grocery-feedback; 0.03 and 0.3 scored lower). Must be > 0: it keeps the inverse defined
   * when there are fewer photos than dimensions.
   */
  ridge?: number;
}

/** Defaults of {@link WhiteningOptions}. */
export const WHITENING_DEFAULTS: Required<WhiteningOptions> = Object.freeze({ ridge: 0.1 });

/** A fitted whitening: a {@link Projection} with inputDim = outputDim, plus what it was fitted on. */
export interface Whitening extends Projection {
  /** Groups with at least one member, and members in all. */
  items: number;
  members: number;
  ridge: number;
}

/** An item's raw-model vectors as the adapter finds them. */
export interface ItemEvidence {
  itemId: string;
  /** Embeddings of its confirmed (SAME) photos, as stored (query-mirror average). */
  confirmed: readonly Float32Array[];
  /** Its catalog vector and the embeddings of its simulated catalog views. */
  catalog: readonly Float32Array[];
}

/**
 * Items with fewer confirmed photos than this also contribute their catalog vector and simulated
 * views as members: a handful of photos alone gives too little within-item spread to measure
 * (grocery-feedback with 3 photos per item: 0.449 R@1 with them). Default of {@link whiteningGroupsOf}.
 */
export const MIN_CONFIRMED_WITHOUT_CATALOG = 10;

/** The fitting groups: each item's confirmed photos, plus its catalog vectors when it has fewer than `minConfirmed`. */
export function whiteningGroupsOf(items: readonly ItemEvidence[], minConfirmed = MIN_CONFIRMED_WITHOUT_CATALOG): WhiteningGroup[] {
  return items.map((it) => ({
    itemId: it.itemId,
    members: it.confirmed.length < minConfirmed ? [...it.confirmed, ...it.catalog] : it.confirmed,
  }));
}

/** Scatter rows are accumulated this many members at a time (one pass over the d x d matrix per block). */
const BLOCK = 64;

/**
 * Fits the within-item whitening of `groups`: mean = the mean of all (L2-normalised) members;
 * Sw = the sum over members of (member − its item's mean)(…)ᵀ divided by the member count;
 * matrix = L⁻ᵀ with L Lᵀ = Sw + ridge·trace(Sw)/d·I. Applied as normalise((normalise(x) − mean)·matrix),
 * which is what the embedder does with a manifest projection. Groups without members are ignored.
 */
export function fitWhitening(groups: readonly WhiteningGroup[], options: WhiteningOptions = {}): Whitening {
  const ridge = options.ridge ?? WHITENING_DEFAULTS.ridge;
  if (!(ridge > 0) || !Number.isFinite(ridge)) throw new RangeError(`ridge must be a finite number > 0, received ${ridge}`);
  const used = groups.filter((g) => g.members.length > 0);
  const d = used[0]?.members[0]?.length ?? 0;
  if (d === 0) throw new RangeError('fitWhitening needs at least one non-empty member');
  const n = used.reduce((s, g) => s + g.members.length, 0);

  // Normalised members, their overall mean, and residuals from their item's mean (float64).
  const mean = new Float64Array(d);
  const residuals: Float64Array[] = [];
  for (const g of used) {
    const rows = g.members.map((m) => {
      if (m.length !== d) throw new RangeError(`item '${g.itemId}': member of length ${m.length}, expected ${d}`);
      return normalised(m);
    });
    const itemMean = new Float64Array(d);
    for (const r of rows) for (let i = 0; i < d; i++) itemMean[i] += r[i];
    for (let i = 0; i < d; i++) {
      mean[i] += itemMean[i];
      itemMean[i] /= rows.length;
    }
    for (const r of rows) {
      for (let i = 0; i < d; i++) r[i] -= itemMean[i];
      residuals.push(r);
    }
  }
  for (let i = 0; i < d; i++) mean[i] /= n;

  const a = scatter(residuals, d);
  let trace = 0;
  for (let i = 0; i < d; i++) trace += a[i * d + i] /= n;
  for (let i = 0; i < d; i++) for (let j = 0; j < i; j++) a[i * d + j] /= n;
  const add = (ridge * trace) / d || ridge; // all members equal (trace 0): whiten the identity
  for (let i = 0; i < d; i++) a[i * d + i] += add;

  choleskyInPlace(a, d);
  const inv = lowerInverse(a, d);
  // matrix[i][j] = (L⁻ᵀ)[i][j] = (L⁻¹)[j][i]
  const matrix = new Float32Array(d * d);
  for (let j = 0; j < d; j++) {
    const row = j * d;
    for (let i = 0; i <= j; i++) matrix[i * d + j] = inv[row + i];
  }
  return { inputDim: d, outputDim: d, mean: Float32Array.from(mean), matrix, items: used.length, members: n, ridge };
}

function normalised(v: Float32Array): Float64Array {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i] * v[i];
  const inv = s > 0 ? 1 / Math.sqrt(s) : 0;
  const out = new Float64Array(v.length);
  for (let i = 0; i < v.length; i++) out[i] = v[i] * inv;
  return out;
}

/**
 * Σ rᵀr over `rows`, lower triangle filled (row-major d x d). Rows go in blocks of BLOCK, transposed so
 * each (i, j) entry takes one contiguous dot product per block.
 */
function scatter(rows: readonly Float64Array[], d: number): Float64Array {
  const s = new Float64Array(d * d);
  const t = new Float64Array(d * BLOCK);
  for (let start = 0; start < rows.length; start += BLOCK) {
    const b = Math.min(BLOCK, rows.length - start);
    for (let k = 0; k < b; k++) {
      const r = rows[start + k];
      for (let i = 0; i < d; i++) t[i * BLOCK + k] = r[i];
    }
    for (let i = 0; i < d; i++) {
      const ti = i * BLOCK;
      const si = i * d;
      for (let j = 0; j <= i; j++) {
        const tj = j * BLOCK;
        let acc = 0;
        for (let k = 0; k < b; k++) acc += t[ti + k] * t[tj + k];
        s[si + j] += acc;
      }
    }
  }
  return s;
}

/** Overwrites the lower triangle of the symmetric positive definite `a` with L (L Lᵀ = a). */
function choleskyInPlace(a: Float64Array, d: number): void {
  for (let i = 0; i < d; i++) {
    const ri = i * d;
    for (let j = 0; j <= i; j++) {
      const rj = j * d;
      let s = a[ri + j];
      for (let k = 0; k < j; k++) s -= a[ri + k] * a[rj + k];
      if (i === j) {
        if (!(s > 0)) throw new RangeError(`fitWhitening: matrix is not positive definite at row ${i} (pivot ${s})`);
        a[ri + i] = Math.sqrt(s);
      } else {
        a[ri + j] = s / a[rj + j];
      }
    }
  }
}

/** L⁻¹ (lower triangular, row-major) of the lower triangle of `l`, row by row: row i = (eᵢ − Σₘ<ᵢ L[i][m]·row m) / L[i][i]. */
function lowerInverse(l: Float64Array, d: number): Float64Array {
  const inv = new Float64Array(d * d);
  for (let i = 0; i < d; i++) {
    const ri = i * d;
    for (let m = 0; m < i; m++) {
      const c = l[ri + m];
      if (c === 0) continue;
      const rm = m * d;
      for (let k = 0; k <= m; k++) inv[ri + k] -= c * inv[rm + k];
    }
    const diag = 1 / l[ri + i];
    for (let k = 0; k < i; k++) inv[ri + k] *= diag;
    inv[ri + i] = diag;
  }
  return inv;
}
