export { hnswIndexSql, PgCatalogStore, type PgCatalogStoreOptions } from './pg-catalog-store.js';
