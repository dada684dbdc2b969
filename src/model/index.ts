export {
  type ModelManifest,
  type LoadedManifest,
  type ModelInputSpec,
  type LocalFeatureShape,
  type PairHeadSpec,
  type ProjectionSpec,
  loadManifest,
  localFeatureLength,
  projectionFileBytes,
} from './manifest.js';
export { type Projection, readProjection, projectionFromBytes, projectionToBytes, applyProjection, applyProjectionToRows } from './projection.js';
export { type ProviderSession, type CreateSessionOptions, createProviderSession } from './create-session.js';
export { type MicroBatcher, type MicroBatcherOptions, createMicroBatcher } from './micro-batcher.js';
export {
  type Embedder,
  type TwinFeatures,
  type OnnxEmbedderOptions,
  OnnxEmbedder,
  tensorFromImages,
  l2Normalize,
} from './embedder.js';
export { type PairHead, type OnnxPairHeadOptions, OnnxPairHead, sigmoid } from './pair-head.js';
export {
  type SalientMask,
  type SalientMaskOptions,
  OnnxSalientMask,
  MaskModelFileError,
  verifyModelFile,
  BUNDLED_SALIENT_MASK_MODEL,
  U2NETP_SHA256,
  SALIENT_MASK_SIZE,
} from './salient-mask.js';
