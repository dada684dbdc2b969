export { type IndexEntry, type IndexHit, type MetadataFilter, matchesFilter } from '../store/index.js';
export {
  TwinlensEngine,
  type TwinlensEngineOptions,
  type ServingModel,
  storeBatch,
  type SearchParams,
  type SearchResult,
  type CompareResult,
  type EmbedResult,
  type Timings,
  type RankedBy,
  type ScoredBy,
  type ImageSource,
  type RequestContext,
  type IngestItem,
  MAX_TOP_K,
  dot,
} from './engine.js';
export { AdmissionGate } from './admission-gate.js';
export { RecentQueries, type RecentQueriesOptions } from './recent-queries.js';
export { type AdaptOptions, type AdaptOutcome, type ExampleAdapter, NO_EXAMPLE_ADAPTER, EXAMPLE_ADAPT_BUDGET_MINUTES } from './example-adapter.js';
export { addExamples, confirmMatch, exampleIdOf, type ExampleResult, type NewExample, prepareExample } from './add-examples.js';
export {
  type CatalogViewOptions,
  type CatalogViewSource,
  averageFeatures,
  CATALOG_VIEW_ASSETS,
  createCatalogViewSource,
  mirrorImage,
  withCatalogViews,
} from './catalog-views.js';
export { CatalogRefiner, type CatalogRefinerOptions, type RefinementProgress } from './catalog-refiner.js';
export { createEngine, type CreatedEngine } from './create-engine.js';
export { AdaptationJob, type AdaptationState, type AdaptationStatus, type AdaptationTrigger, ROLL_IN_STAGE } from './adaptation-job.js';
export { readActiveVersion, writeActiveVersion, type ActiveVersion } from './active-version.js';
export { cutOutProduct, type CutoutOptions, type CutoutBox } from './query-cutout.js';
