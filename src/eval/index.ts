export { type BenchmarkItem, type BenchmarkQuery, readCatalogCsv, readQueriesCsv } from './benchmark-csv.js';
export {
  type RetrievalMetrics,
  type EvalReport,
  type QueryOutcome,
  type VerificationReport,
  metricsOf,
  reportOf,
} from './metrics.js';
export { type RunEvalOptions, type EvalRun, type EvalHit, type QueryDetail, runEval, indexBenchmarkCatalog } from './run-eval.js';
export {
  type FeedbackOptions,
  type FeedbackReport,
  type LearningCurvePoint,
  LEARNING_CURVE_K,
  itemGetsFeedback,
  learningCurveSvg,
} from './feedback.js';
export { verificationReportOf } from './verification-report.js';
export { type HtmlReportOptions, writeHtmlReport } from './html-report.js';
export { type PairScores, type VerificationMetrics, rocAuc, verificationMetrics } from './verification.js';
export { type CalibrateOptions, type CalibrationResult, calibrateThreshold, writeThreshold } from './calibrate-threshold.js';
