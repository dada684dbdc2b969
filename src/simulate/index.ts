/**
 * Photo simulation: turns catalog images (products on white) into plausible phone photos, and
 * writes them, decoded by the service's own decoder, as training view sets for models/training/.
 */
export { runOrdered } from './ordered-pool.js';
export { viewSeed, writeQuerySet, writeViewSet } from './write-view-set.js';
export type { PhotoSimulator, SimulateSourceItem, WriteQuerySetOptions, WriteViewSetOptions } from './write-view-set.js';
export type { QueryRecord, QuerySetIndex, ViewRecord, ViewSetIndex, ViewSetItem } from './view-set.js';
