/** One scored result of a vector index search. */
export interface ScoredKey {
  key: string;
  /** Inner product of the (unit) query and stored vector: cosine similarity, full precision. */
  score: number;
}

/** Optional restrictions on one search. */
export interface VectorSearchOptions {
  /**
   * Only keys this predicate accepts are returned. An ANN index over-fetches and filters, so a
   * predicate that rejects almost everything may return fewer than k: callers with a rare filter
   * pass `candidates` instead (see CatalogIndex).
   */
  accept?: (key: string) => boolean;
  /** Score exactly these keys (a pre-filtered candidate set) instead of searching the whole index. */
  candidates?: Iterable<string>;
}

/** The implementations behind VectorIndex. */
export type VectorIndexKind = 'exact' | 'hnsw';

/** Element types an ANN index may store its vectors as. `b1`: random-projection sign bits, Hamming search, exact rescore. */
export type Quantization = 'f32' | 'f16' | 'i8' | 'b1';

/**
 * A vector index over unit vectors keyed by string, scored by inner product. Implementations:
 * ExactVectorIndex (SIMD brute force) and HnswVectorIndex (usearch HNSW with quantisation). Both are
 * synchronous inside; the interface is async so a remote index fits behind it.
 */
export interface VectorIndex {
  readonly kind: VectorIndexKind;
  readonly dim: number;
  /** Keys held. */
  readonly size: number;
  /** Resident bytes the index itself holds (vectors, codes, graph), as far as it can tell. */
  readonly memoryBytes: number;
  /** Adds or replaces vectors by key (all of one call, in order; a later duplicate wins). */
  upsert(keys: readonly string[], vectors: readonly Float32Array[]): Promise<void>;
  /** Removes keys; returns how many were present. */
  remove(keys: readonly string[]): Promise<number>;
  has(key: string): boolean;
  /** The `k` keys with the highest inner product with `query`, best first. */
  search(query: Float32Array, k: number, options?: VectorSearchOptions): Promise<ScoredKey[]>;
  /** Frees native resources. */
  close(): Promise<void>;
}
