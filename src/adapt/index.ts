/**
 * Catalog adaptation: fine-tune the twin and its pair head on simulated photos of a user's own
 * catalog (src/simulate + models/training/train.py) and write a new model version.
 */
export { adaptModel, PRETRAINED_BACKBONE_MANIFEST } from './adapt-model.js';
export type { AdaptModelOptions, AdaptResult } from './adapt-model.js';
export { AdaptError } from './adapt-error.js';
export { checkTrainingPython } from './check-python.js';
export { ADAPT_DEFAULTS, TRAINING_PACKAGES } from './defaults.js';
export { EtaEstimator, formatDuration, parseTrainerLine } from './progress.js';
export type { AdaptProgress, TrainerEvent } from './progress.js';
