export { type IndexEntry, type IndexHit, type MetadataFilter, matchesFilter } from '../store/index.js';
export {
  TwinlensEngine,
  storeBatch,
  type SearchParams,
  type SearchResult,
  type CompareResult,
  type EmbedResult,
  type Timings,
  type RankedBy,
  type ImageSource,
  type RequestContext,
  type IngestItem,
  MAX_TOP_K,
  dot,
} from './engine.js';
export { AdmissionGate } from './admission-gate.js';
export { RecentQueries, type RecentQueriesOptions } from './recent-queries.js';
export { type AdaptOptions, type AdaptOutcome, type ExampleAdapter, NO_EXAMPLE_ADAPTER } from './example-adapter.js';
export { addExamples, confirmMatch, exampleIdOf, type ExampleResult, type NewExample, prepareExample } from './add-examples.js';
export {
  type CatalogViewOptions,
  type CatalogViewSource,
  averageFeatures,
  createCatalogViewSource,
  mirrorImage,
  withCatalogViews,
} from './catalog-views.js';
export { createEngine, type BackgroundReembedding } from './create-engine.js';
export { readActiveVersion, writeActiveVersion, type ActiveVersion } from './active-version.js';
