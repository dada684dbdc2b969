/**
 * Procedural demo data: wrist-watch product shots drawn with SVG and
 * rasterised by sharp, and the service's built-in demo catalog. The "real
 * phone photo" degradation and the seeded rng live in `src/simulate` and are
 * re-exported here for the demo's users.
 *
 * Internal modules (colours, geometry, SVG painters, backgrounds, cut-out)
 * are not part of this API.
 */
export { chance, createRng, hashBytes, intRange, pick, range, sampleKnob } from '../simulate/random.js';
export type { Knob, Rng } from '../simulate/random.js';

export { CATALOG_DEFAULTS, RENDER_DEFAULTS } from './defaults.js';
export { mapInOrder } from '../simulate/ordered-pool.js';
export { BACKGROUND_KINDS, DEGRADE_DEFAULTS } from '../simulate/defaults.js';
export type { BackgroundKind } from '../simulate/defaults.js';

export {
  BEZEL_COLORS,
  BEZEL_STYLES,
  CASE_COLORS,
  CASE_SHAPES,
  DIAL_COLORS,
  DIAL_TEXTURES,
  HAND_STYLES,
  HANDS_COLORS,
  LOGOS,
  MARKER_STYLES,
  SECONDS_COLORS,
  STITCHINGS,
  STRAP_ACCENT_COLORS,
  STRAP_COLORS,
  STRAP_MATERIALS,
  STRAP_WIDTHS,
  describeWatch,
  randomWatchSpec,
  watchSpecKey,
} from './watch-spec.js';
export type {
  BezelColor,
  BezelStyle,
  CaseColor,
  CaseShape,
  DialColor,
  DialTexture,
  HandStyle,
  HandsColor,
  Logo,
  MarkerStyle,
  SecondsColor,
  Stitching,
  StrapAccentColor,
  StrapColor,
  StrapMaterial,
  StrapWidth,
  WatchSpec,
  WatchTime,
} from './watch-spec.js';

export { renderWatch, watchSvg } from './render-watch.js';
export type { RenderWatchOptions } from './render-watch.js';

export { degradeImage, resolveDegradeParams } from '../simulate/degrade-image.js';
export type { DegradeOptions, DegradeParams } from '../simulate/degrade-image.js';

export { DEMO_BRANDS, generateDemoCatalog, planDemoCatalog, watchName } from './demo-catalog.js';
export type { DemoCatalogEntry, DemoCatalogItem, DemoCatalogOptions } from './demo-catalog.js';

export { writeDemoSamples } from './write-samples.js';
export type { DemoSampleFiles } from './write-samples.js';
export { seedDemoCatalog } from './seed-demo-catalog.js';
