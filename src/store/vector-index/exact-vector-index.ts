import { FlatVectors } from './flat-vectors.js';
import type { ScoredKey, VectorIndex, VectorSearchOptions } from './vector-index.js';

/**
 * Exact (brute-force) inner-product search, SIMD through usearch's exactSearch: right for small
 * catalogs (3,000 x 1,792-d in under 1.5 ms; 100k x 256-d ~5 ms). With `candidates` it scores
 * only those keys, so a rare filter returns every match.
 */
export class ExactVectorIndex implements VectorIndex {
  readonly kind = 'exact' as const;

  /** `store` may be shared with the caller (the catalog's full-precision vectors). */
  constructor(readonly dim: number, readonly store: FlatVectors = new FlatVectors(dim)) {}

  get size(): number {
    return this.store.size;
  }

  get memoryBytes(): number {
    return this.store.memoryBytes;
  }

  has(key: string): boolean {
    return this.store.has(key);
  }

  async upsert(keys: readonly string[], vectors: readonly Float32Array[]): Promise<void> {
    keys.forEach((k, i) => this.store.set(k, vectors[i]));
  }

  async remove(keys: readonly string[]): Promise<number> {
    let n = 0;
    for (const k of keys) if (this.store.delete(k)) n++;
    return n;
  }

  async search(query: Float32Array, k: number, options: VectorSearchOptions = {}): Promise<ScoredKey[]> {
    return this.searchSync(query, k, options);
  }

  searchSync(query: Float32Array, k: number, options: VectorSearchOptions = {}): ScoredKey[] {
    if (query.length !== this.dim) throw new RangeError(`query has ${query.length} dims, index has ${this.dim}`);
    if (options.candidates) return this.store.searchAmong(query, k, options.candidates, options.accept);
    if (options.accept) return this.store.searchAmong(query, k, this.store.allKeys(), options.accept);
    return this.store.searchAll(query, k);
  }

  async close(): Promise<void> {}
}
