/**
 * Photo simulation: turns catalog images (products on white) into plausible phone photos, and
 * writes them, decoded by the service's own decoder, as training view sets for models/training/.
 */
export { runOrdered } from './ordered-pool.js';
export { renderItemViews, viewSeed, writeQuerySet, writeViewSet } from './write-view-set.js';
export type { ItemRenderer } from './write-view-set.js';
export { createWorkerPhotoRenderer, createWorkerRenderer, workersAvailable } from './worker-renderer.js';
export type { WorkerSetup } from './worker-renderer.js';
export type { SimulateSourceItem, ViewSimulator, WriteQuerySetOptions, WriteViewSetOptions } from './write-view-set.js';
export { ASSET_DEFAULTS, BACKGROUND_KINDS, BACKGROUND_SOURCES, DEGRADE_DEFAULTS, OCCLUDER_KINDS, PHOTO_DEFAULTS, PHOTO_LAYOUTS } from './defaults.js';
export type { BackgroundKind, BackgroundSource, OccluderKind, PhotoLayout } from './defaults.js';
export { loadSimulationAssets } from './assets.js';
export type { SimulationAssetOptions, SimulationAssets } from './assets.js';
export { createPhotoSimulator, photosOf } from './simulate-photo.js';
export type { PhotoSimulator, SimulatedPhoto } from './simulate-photo.js';
export { resolvePhotoOptions, resolvePhotoParams } from './photo-params.js';
export type { PhotoOptions, PhotoParams, ResolvedPhotoOptions } from './photo-params.js';
export { prepareProduct } from './product.js';
export type { PreparedProduct } from './product.js';
export { cutOutWhiteBackground } from './cutout.js';
export type { Cutout } from './cutout.js';
export { coveredFraction, placeMain } from './scene.js';
export type { Scene } from './scene.js';
export { degradeImage, resolveDegradeParams } from './degrade-image.js';
export type { DegradeOptions, DegradeParams } from './degrade-image.js';
export { chance, createRng, hashBytes, intRange, pick, range, sampleKnob } from './random.js';
export type { Knob, Rng } from './random.js';
export type { QueryRecord, QuerySetIndex, ViewRecord, ViewSetIndex, ViewSetItem } from './view-set.js';
export { writeContactSheet } from './contact-sheet.js';
export type { ContactSheetOptions } from './contact-sheet.js';
export { simulateCatalog } from './simulate-catalog.js';
export type { SimulateCatalogOptions } from './simulate-catalog.js';
export { sourceItems } from './catalog-source.js';
export type { SourceItem } from './catalog-source.js';
export { genericClipartItems } from './generic-items.js';
export { shuffledClipartFiles } from './assets.js';
