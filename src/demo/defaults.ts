/**
 * Default values of every option in `src/demo`, documented in one place.
 *
 * The option interfaces ({@link RenderWatchOptions}, {@link DegradeOptions},
 * {@link DemoCatalogOptions}) refer here; a field left `undefined` takes the
 * value below.
 */
import type { Knob } from './random.js';

/** Background surfaces that {@link degradeImage} can put a product on. */
export const BACKGROUND_KINDS = ['solid', 'gradient', 'noise', 'wood', 'fabric', 'dark-table'] as const;
/** A background surface for {@link degradeImage}. */
export type BackgroundKind = (typeof BACKGROUND_KINDS)[number];

/** Defaults of {@link renderWatch}. */
export const RENDER_DEFAULTS = {
  /** Output width and height in pixels (the image is square). */
  sizePx: 512,
  /** Output encoding. */
  format: 'jpeg' as 'jpeg' | 'png',
  /** JPEG quality (ignored for PNG). */
  quality: 90,
} as const;

/**
 * Defaults of {@link degradeImage}. Knobs given as `[min, max]` are drawn
 * uniformly from the rng for every call; pass a number to pin one.
 */
export const DEGRADE_DEFAULTS = {
  /** Output width in pixels. */
  width: 640,
  /** Output height in pixels. */
  height: 480,
  /** Candidate surfaces; one is picked with the rng. */
  background: BACKGROUND_KINDS as readonly BackgroundKind[],
  /** Rotation of the product in degrees (positive = clockwise). */
  rotationDeg: [-20, 20] as Knob,
  /** Size of the product's rotated bounding box relative to the frame (the limiting side). */
  objectScale: [0.5, 0.9] as Knob,
  /** How much of the free space around the product is used to move it off-centre, 0–1. */
  placementJitter: 0.8 as Knob,
  /** Exposure multiplier applied to the whole photo (under-exposure < 1). */
  brightness: [0.4, 0.8] as Knob,
  /** Strength of a random white-balance error (0 = none; 0.2 = strong). */
  colorCast: [0.03, 0.18] as Knob,
  /** Strength of uneven lighting: one side of the frame brighter than the other, 0–1. */
  lightGradient: [0, 0.25] as Knob,
  /** Darkening of the corners, 0–1. */
  vignette: [0.1, 0.4] as Knob,
  /** Opacity of the soft drop shadow under the product, 0–1. */
  shadowOpacity: [0.25, 0.55] as Knob,
  /** Gaussian blur sigma in output pixels (values under 0.3 mean no blur). */
  blurSigma: [0.4, 1.2] as Knob,
  /** Standard deviation of sensor noise in 8-bit levels. */
  noise: [1.5, 5] as Knob,
  /** JPEG quality of the re-encoded photo. */
  jpegQuality: 70 as Knob,
  /** A pixel whose channels are all at least this, connected to the border, is background. */
  whiteThreshold: 235,
} as const;

/** Defaults of {@link generateDemoCatalog}. */
export const CATALOG_DEFAULTS = {
  /** Number of items. */
  count: 60,
  /** Seed of the spec / brand / price stream. */
  seed: 7,
  /** Rendered image size in pixels. */
  sizePx: RENDER_DEFAULTS.sizePx,
  /** Rendered image encoding. */
  format: RENDER_DEFAULTS.format,
  /** How many images are rendered at once. */
  concurrency: 2,
} as const;
