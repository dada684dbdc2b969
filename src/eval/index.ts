export { type BenchmarkItem, type BenchmarkQuery, readCatalogCsv, readQueriesCsv } from './benchmark-csv.js';
export { type RetrievalMetrics, type EvalReport, type QueryOutcome, metricsOf, reportOf } from './metrics.js';
export { type RunEvalOptions, runEval, indexBenchmarkCatalog } from './run-eval.js';
export { type PairScores, type VerificationMetrics, rocAuc, verificationMetrics } from './verification.js';
export { type CalibrateOptions, type CalibrationResult, calibrateThreshold, writeThreshold } from './calibrate-threshold.js';
