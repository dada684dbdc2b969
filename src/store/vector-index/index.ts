export { type VectorIndex, type VectorIndexKind, type ScoredKey, type VectorSearchOptions, type Quantization } from './vector-index.js';
export { FlatVectors } from './flat-vectors.js';
export { ExactVectorIndex } from './exact-vector-index.js';
export { HnswVectorIndex, type HnswOptions, type RescoreSource, DEFAULT_HNSW_OPTIONS, validateHnswOptions } from './hnsw-vector-index.js';
export { BinaryCoder } from './binary-codes.js';
export {
  CatalogIndex,
  type CatalogIndexOptions,
  type IndexEntry,
  type IndexHit,
  type MetadataFilter,
  DEFAULT_CATALOG_INDEX_OPTIONS,
  matchesFilter,
  vectorKeyOf,
  VIEW_SEPARATOR,
} from './catalog-index.js';
export { IndexSnapshots, type RestoreReport } from './index-snapshot.js';
