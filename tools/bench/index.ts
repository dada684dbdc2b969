/** `twinlens-dev bench`: raw model, ingest and search figures of this machine, measured in one run. */
export { runBench } from './run-bench.js';
export {
  type BenchOptions,
  type ResolvedBenchSettings,
  FULL_BENCH,
  QUICK_BENCH,
  resolveBenchSettings,
} from './bench-options.js';
export {
  type BenchReport,
  type BenchTarget,
  type SearchModeResult,
  INGEST_TARGET,
  SEARCH_LATENCY_TARGET,
  DRIFT_WARNING,
  CPU_PRESSURE_WARNING,
} from './bench-report.js';
export { benchSummary, formatBenchReport, textTable } from './format-report.js';
export {
  type RawModelResult,
  type RawBatchResult,
  type RawModelBenchOptions,
  type RawRunner,
  benchRawModel,
  cpuPressureTotalUs,
  openRawRunner,
} from './raw-model.js';
export { type BenchServer, type BenchServerBase, startBenchServer } from './bench-server.js';
export { type IngestResult, type DecodeResult, benchIngest, benchDecode, benchItemId } from './ingest.js';
export { type SearchBenchOptions, type SearchLevelResult, type ServerStageMedians, benchSearch } from './search-latency.js';
export { type CatalogFillResult, topUpCatalog } from './catalog-fill.js';
export { type BenchImage, type BenchImageSet, type BenchImageOptions, makeBenchImages } from './bench-images.js';
export { type MachineInfo, machineInfo } from './machine-info.js';
export { type Summary, quantile, summarize } from '../../src/eval/percentiles.js';
export { type ClosedLoopResult, runClosedLoop } from './closed-loop.js';
