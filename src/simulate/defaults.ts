/**
 * Default values of every option in `src/simulate`, documented in one place. A field of an options
 * interface left `undefined` takes the value below.
 */
import type { Knob } from './random.js';

/** Background surfaces that {@link degradeImage} can put a product on. */
export const BACKGROUND_KINDS = ['solid', 'gradient', 'noise', 'wood', 'fabric', 'dark-table'] as const;
/** A background surface for {@link degradeImage}. */
export type BackgroundKind = (typeof BACKGROUND_KINDS)[number];

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


/** Where a simulated photo's background comes from. */
export const BACKGROUND_SOURCES = ['procedural', 'shelf', 'photo'] as const;
/** A background source: a drawn surface, a synthetic shelf of clip-art objects, or a real photo. */
export type BackgroundSource = (typeof BACKGROUND_SOURCES)[number];

/** How the product appears in a simulated photo. */
export const PHOTO_LAYOUTS = ['single', 'row', 'pile'] as const;
/** One item; a row of facings side by side (a shelf); a heap of copies (produce). */
export type PhotoLayout = (typeof PHOTO_LAYOUTS)[number];

/** What can cover part of the product. */
export const OCCLUDER_KINDS = ['hand', 'clipart', 'tag'] as const;
export type OccluderKind = (typeof OCCLUDER_KINDS)[number];

/**
 * Defaults of {@link simulatePhoto} (src/simulate/simulate-photo.ts). Knobs given as `[min, max]`
 * are drawn uniformly per photo; pass a number to pin one. Chosen by looking at catalog-vs-photo
 * differences in general (products large in the frame, often cropped, several copies, shelves,
 * hands, dim and colour-cast store light), not tuned on any benchmark's figures.
 */
export const PHOTO_DEFAULTS = {
  /** Long side of the simulated photo in pixels (the service squashes it to the model's 224 px). */
  longSidePx: 320,
  /** Short side in pixels (4:3, like phone photos). */
  shortSidePx: 240,
  /** Probability that the photo is portrait rather than landscape. */
  portraitChance: 0.5,
  /** Relative weights of the background sources; a source with no assets is skipped. */
  backgroundWeights: { procedural: 0.3, shelf: 0.4, photo: 0.3 } as Readonly<Record<BackgroundSource, number>>,
  /** Procedural surfaces to pick from when the source is 'procedural'. */
  proceduralKinds: BACKGROUND_KINDS as readonly BackgroundKind[],
  /** Relative weights of the layouts. */
  layoutWeights: { single: 0.55, row: 0.2, pile: 0.25 } as Readonly<Record<PhotoLayout, number>>,
  /** Size of the main product's box relative to the frame (limiting side); over 1 crops it. */
  objectScale: [0.5, 1.3] as Knob,
  /** Rotation in degrees, positive clockwise. */
  rotationDeg: [-25, 25] as Knob,
  /** Perspective tilt strength (0 = camera square to the product; 0.4 = far side ~40% smaller). */
  perspective: [0, 0.35] as Knob,
  /** Fraction (0-1) of the free space used to move the product off-centre. */
  placementJitter: 0.8 as Knob,
  /** Copies beside the main one in a 'row' layout (each side together). */
  rowCopies: [2, 5] as Knob,
  /** Copies under the main one in a 'pile' layout. */
  pileCopies: [5, 14] as Knob,
  /** Size of a pile copy relative to the main product. */
  pileScale: [0.55, 0.95] as Knob,
  /** Clip-art objects scattered on the background behind the product. */
  clutterCount: [0, 3] as Knob,
  /** Probability that something covers part of the product. */
  occlusionChance: 0.4,
  /** Fraction of the product's visible area covered when it is occluded. */
  occlusionFraction: [0.1, 0.4] as Knob,
  /** Relative weights of the occluder kinds. */
  occluderWeights: { hand: 0.45, clipart: 0.35, tag: 0.2 } as Readonly<Record<OccluderKind, number>>,
  /** Drop shadow opacity, 0-1. */
  shadowOpacity: [0.1, 0.5] as Knob,
  /** Probability of specular glare (store lights reflected on glossy packaging) on the product. */
  glareChance: 0.25,
  /** Peak strength of a glare spot, 0-1 (screen blend towards white). */
  glareStrength: [0.3, 0.8] as Knob,
  /** Exposure multiplier (under 1: darker). */
  brightness: [0.35, 1.05] as Knob,
  /** White-balance error strength (0 = none; 0.2 = strong). */
  colorCast: [0, 0.2] as Knob,
  /** Uneven lighting strength, 0-1. */
  lightGradient: [0, 0.35] as Knob,
  /** Corner darkening, 0-1. */
  vignette: [0, 0.4] as Knob,
  /** Gaussian blur sigma in photo pixels (under 0.3: none). */
  blurSigma: [0, 1.3] as Knob,
  /** Probability of camera-shake motion blur. */
  motionBlurChance: 0.2,
  /** Motion blur length in photo pixels. */
  motionBlurPx: [2, 6] as Knob,
  /** Sensor noise standard deviation in 8-bit levels. */
  noise: [1, 6] as Knob,
  /** JPEG quality of the photo. */
  jpegQuality: [35, 90] as Knob,
  /** Near-white threshold of the cut-out (0-255); 245 keeps white cartons whole where 235 ate into them. */
  whiteThreshold: 245,
  /** Largest step between neighbouring pixels the cut-out's fill crosses (8-bit levels): a faint outline stops it. */
  maxEdgeStep: 3,
  /** Longest side the cut-out product is kept at, in pixels. */
  productMaxSide: 384,
} as const;

/**
 * Defaults of {@link loadSimulationAssets}: the free, offline images backgrounds, clutter and
 * occluders come from. Folders that do not exist are skipped (the photo then uses procedural
 * surfaces, drawn hands and price tags only).
 */
export const ASSET_DEFAULTS = {
  /** Folders of real background photos/wallpapers (Debian: gnome-backgrounds). */
  backgroundDirs: ['/usr/share/backgrounds'] as readonly string[],
  /** Folder of clip-art objects with transparency (Debian: openclipart-png, public domain). */
  clipartDir: '/usr/share/openclipart/png' as string | null,
  /** Clip-art objects loaded (a seeded sample of the folder). */
  clipartCount: 160,
  /** Longest side a clip-art object is kept at, in pixels. */
  clipartMaxSide: 128,
  /** Most background images loaded. */
  maxBackgrounds: 64,
  /** Longest side a background is kept at, in pixels. */
  backgroundMaxSide: 640,
  /** Seed of the asset sample. */
  seed: 1,
} as const;
