import { exactSearch, MetricKind } from 'usearch';
import type { ScoredKey } from './vector-index.js';
import { atOffsetZero } from './native-array.js';
import { TopK } from './top-k.js';

/**
 * Full-precision (float32) vectors in one contiguous matrix, keyed by string. The exact index, the
 * exact rescore of quantised ANN candidates and the catalog's stored embeddings all read from it.
 * Deletes move the last row into the hole so the matrix stays dense and SIMD-scannable.
 */
export class FlatVectors {
  private data: Float32Array;
  private keys: string[] = [];
  private slotOf = new Map<string, number>();

  constructor(readonly dim: number, initialCapacity = 1024) {
    if (!Number.isInteger(dim) || dim < 1) throw new RangeError(`dim: expected a positive integer, received ${dim}`);
    this.data = new Float32Array(dim * Math.max(1, initialCapacity));
  }

  get size(): number {
    return this.keys.length;
  }

  /** Bytes of the matrix, spare capacity included. */
  get memoryBytes(): number {
    return this.data.byteLength;
  }

  has(key: string): boolean {
    return this.slotOf.has(key);
  }

  /** A view (not a copy) of the stored vector; valid until the next write. */
  view(key: string): Float32Array | undefined {
    const slot = this.slotOf.get(key);
    return slot === undefined ? undefined : this.data.subarray(slot * this.dim, (slot + 1) * this.dim);
  }

  /** A copy of the stored vector. */
  get(key: string): Float32Array | undefined {
    return this.view(key)?.slice();
  }

  allKeys(): readonly string[] {
    return this.keys;
  }

  set(key: string, vector: Float32Array): void {
    if (vector.length !== this.dim) throw new RangeError(`vector of '${key}' has ${vector.length} dims, expected ${this.dim}`);
    let slot = this.slotOf.get(key);
    if (slot === undefined) {
      slot = this.keys.length;
      if ((slot + 1) * this.dim > this.data.length) {
        const grown = new Float32Array(Math.max(this.data.length * 2, (slot + 1) * this.dim));
        grown.set(this.data);
        this.data = grown;
      }
      this.keys.push(key);
      this.slotOf.set(key, slot);
    }
    this.data.set(vector, slot * this.dim);
  }

  delete(key: string): boolean {
    const slot = this.slotOf.get(key);
    if (slot === undefined) return false;
    const last = this.keys.length - 1;
    if (slot !== last) {
      this.keys[slot] = this.keys[last];
      this.slotOf.set(this.keys[slot], slot);
      this.data.copyWithin(slot * this.dim, last * this.dim, (last + 1) * this.dim);
    }
    this.keys.pop();
    this.slotOf.delete(key);
    return true;
  }

  /** Inner product of `query` with the stored vector of `key` (NaN when absent). */
  dot(key: string, query: Float32Array): number {
    const slot = this.slotOf.get(key);
    if (slot === undefined) return NaN;
    return dotAt(this.data, slot * this.dim, query);
  }

  /** Exact top-k over every vector (usearch SIMD). */
  searchAll(query: Float32Array, k: number): ScoredKey[] {
    const n = this.keys.length;
    if (n === 0 || k <= 0) return [];
    const m = exactSearch(this.data.subarray(0, n * this.dim), atOffsetZero(query), this.dim, Math.min(k, n), MetricKind.IP, 1);
    const out: ScoredKey[] = [];
    for (let i = 0; i < m.keys.length; i++) out.push({ key: this.keys[Number(m.keys[i])], score: 1 - m.distances[i] });
    return out;
  }

  /** Exact top-k among `keys` (absent keys are skipped); `accept` filters further. */
  searchAmong(query: Float32Array, k: number, keys: Iterable<string>, accept?: (key: string) => boolean): ScoredKey[] {
    const top = new TopK<string>(k);
    for (const key of keys) {
      const slot = this.slotOf.get(key);
      if (slot === undefined || (accept && !accept(key))) continue;
      top.offer(key, dotAt(this.data, slot * this.dim, query));
    }
    return top.sorted().map(([key, score]) => ({ key, score }));
  }
}

/** Inner product of `q` with the row of `m` starting at `offset`. */
export function dotAt(m: Float32Array, offset: number, q: Float32Array): number {
  // Four accumulators let V8 overlap the multiply-adds (about 1.25x a single one).
  let a0 = 0;
  let a1 = 0;
  let a2 = 0;
  let a3 = 0;
  const dim = q.length;
  let j = 0;
  for (; j + 3 < dim; j += 4) {
    a0 += m[offset + j] * q[j];
    a1 += m[offset + j + 1] * q[j + 1];
    a2 += m[offset + j + 2] * q[j + 2];
    a3 += m[offset + j + 3] * q[j + 3];
  }
  for (; j < dim; j++) a0 += m[offset + j] * q[j];
  return a0 + a1 + a2 + a3;
}
