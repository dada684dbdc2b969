export { type ModelManifest, type LoadedManifest, type ModelInputSpec, loadManifest } from './manifest.js';
export { type ProviderSession, type CreateSessionOptions, createProviderSession } from './create-session.js';
export { type MicroBatcher, type MicroBatcherOptions, createMicroBatcher } from './micro-batcher.js';
export { type Embedder, type OnnxEmbedderOptions, OnnxEmbedder, tensorFromImages, l2Normalize } from './embedder.js';
