export { hnswIndexSql, PgCatalogStore, type PgCatalogStoreOptions, type ReembedRows, type RowToEmbed } from './pg-catalog-store.js';
