/**
 * The store: the catalog (items, metadata, image bytes and vectors in an embedded LanceDB table)
 * and the vector index that Search reads (exact SIMD scan or a usearch HNSW graph).
 */
export * from './catalog/index.js';
export * from './vector-index/index.js';
export { type CatalogStore, type CatalogStoreStats, embeddedStore } from './catalog-store.js';
export { hnswIndexSql, PgCatalogStore, type PgCatalogStoreOptions, type ReembedRows, type RowToEmbed } from './postgres/index.js';
