/**
 * Catalog adaptation: fine-tune the twin and its pair head on simulated photos of a user's own
 * catalog (src/simulate + models/training/train.py) and write a new model version; and the warm
 * path's learner: a within-item whitening fitted on confirmed photos, written as a new model version
 * (the raw network plus a manifest projection).
 */
export { adaptModel, PRETRAINED_BACKBONE_MANIFEST } from './adapt-model.js';
export type { AdaptModelOptions, AdaptResult } from './adapt-model.js';
export { AdaptError } from './adapt-error.js';
export { checkTrainingPython } from './check-python.js';
export { ADAPT_DEFAULTS, TRAINING_PACKAGES } from './defaults.js';
export { EtaEstimator, formatDuration, parseTrainerLine } from './progress.js';
export type { AdaptProgress, TrainerEvent } from './progress.js';
export {
  fitWhitening,
  whiteningGroupsOf,
  WHITENING_DEFAULTS,
  MIN_CONFIRMED_WITHOUT_CATALOG,
  type Whitening,
  type WhiteningGroup,
  type WhiteningOptions,
  type ItemEvidence,
} from './fit-whitening.js';
export { writeWhitenedModel, PROJECTION_FILE, type WriteWhitenedModelOptions } from './write-whitened-model.js';
export { createWhiteningAdapter, WHITENING_ADAPTER_DEFAULTS, type WhiteningAdapterOptions, type HoldoutFigures } from './whitening-adapter.js';
export { createFinetuneAdapter, FINETUNE_ADAPTER_DEFAULTS, type FinetuneAdapterOptions, type FinetuneHoldoutFigures } from './finetune-adapter.js';
export { holdout, holdoutSplit, type ItemVectors } from './holdout.js';
