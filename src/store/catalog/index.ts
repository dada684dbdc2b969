export {
  Catalog,
  catalogIndexSettingsFrom,
  type CatalogIndexSettings,
  type NewCatalogItem,
  type RefinedVector,
  type CatalogItemInfo,
  ITEM_ID_PATTERN,
  MAX_METADATA_ENTRIES,
  MAX_METADATA_BYTES,
  validateItemId,
  validateNewItems,
  validateMetadata,
  validateMapKeys,
  RESERVED_MAP_KEYS,
  validateView,
  VIEW_PATTERN,
  rowKeyOf,
  splitRowKey,
} from './catalog.js';
export { type CatalogRow } from './catalog-table.js';
export {
  type ExampleInfo,
  type ExampleLabel,
  type ExampleScoring,
  EXAMPLE_ID_PATTERN,
  exampleViewOf,
  isExampleView,
  newExampleId,
  parseExampleView,
  validateExampleId,
} from './examples.js';
export { BlobStore } from './blob-store.js';
