/**
 * Options of a simulated photo and the resolution of every random choice into numbers.
 */
import {
  BACKGROUND_SOURCES,
  OCCLUDER_KINDS,
  PHOTO_DEFAULTS,
  PHOTO_LAYOUTS,
  type BackgroundKind,
  type BackgroundSource,
  type OccluderKind,
  type PhotoLayout,
} from './defaults.js';
import { pick, sampleKnob, type Knob, type Rng } from './random.js';

const { cos, floor, max, min, PI, round } = Math;

/** Options of {@link simulatePhoto}; every field defaults to {@link PHOTO_DEFAULTS}. */
export interface PhotoOptions {
  longSidePx?: number;
  shortSidePx?: number;
  portraitChance?: number;
  backgroundWeights?: Partial<Record<BackgroundSource, number>>;
  proceduralKinds?: readonly BackgroundKind[];
  layoutWeights?: Partial<Record<PhotoLayout, number>>;
  objectScale?: Knob;
  rotationDeg?: Knob;
  perspective?: Knob;
  placementJitter?: Knob;
  rowCopies?: Knob;
  pileCopies?: Knob;
  pileScale?: Knob;
  clutterCount?: Knob;
  occlusionChance?: number;
  occlusionFraction?: Knob;
  occluderWeights?: Partial<Record<OccluderKind, number>>;
  shadowOpacity?: Knob;
  glareChance?: number;
  glareStrength?: Knob;
  brightness?: Knob;
  colorCast?: Knob;
  lightGradient?: Knob;
  vignette?: Knob;
  blurSigma?: Knob;
  motionBlurChance?: number;
  motionBlurPx?: Knob;
  noise?: Knob;
  jpegQuality?: Knob;
  whiteThreshold?: number;
  maxEdgeStep?: number;
  productMaxSide?: number;
}

/** Fully populated options. */
export type ResolvedPhotoOptions = Required<Omit<PhotoOptions, 'backgroundWeights' | 'layoutWeights' | 'occluderWeights'>> & {
  backgroundWeights: Record<BackgroundSource, number>;
  layoutWeights: Record<PhotoLayout, number>;
  occluderWeights: Record<OccluderKind, number>;
};

/** Which assets exist, so a source without any is never picked. */
export interface AssetAvailability {
  backgrounds: number;
  clipart: number;
}

/** Every random choice of one simulated photo. */
export interface PhotoParams {
  width: number;
  height: number;
  background: { source: BackgroundSource; kind: BackgroundKind; index: number };
  layout: PhotoLayout;
  /** Copies besides the main one (row or pile). */
  copies: number;
  pileScale: number;
  rotationDeg: number;
  objectScale: number;
  /** Tilt strength and the direction (radians) of the side that recedes. */
  perspective: number;
  perspectiveAngle: number;
  /** Offset of the product centre, each in [-1, 1] of the free half-space. */
  offsetX: number;
  offsetY: number;
  clutterCount: number;
  occlusion: null | { kind: OccluderKind; fraction: number; angle: number };
  shadowOpacity: number;
  lightAngle: number;
  brightness: number;
  castGains: [number, number, number];
  lightGradient: number;
  vignette: number;
  blurSigma: number;
  motionBlur: null | { lengthPx: number; angleRad: number };
  noise: number;
  noiseSeed: number;
  jpegQuality: number;
  /** Seed of the scene's layout draws (background texture, clutter, copies, occluder). */
  sceneSeed: number;
  /** Specular glare spots on the product, or none. */
  glare: null | { strength: number; spots: number; seed: number };
}

const clamp = (x: number, lo: number, hi: number) => min(hi, max(lo, x));

function checkWeights(name: string, w: Record<string, number>): void {
  for (const [k, v] of Object.entries(w)) {
    if (!(Number.isFinite(v) && v >= 0)) throw new RangeError(`simulatePhoto: ${name}.${k} must be a finite number >= 0, got ${v}`);
  }
}

/** Fills defaults and checks ranges; throws RangeError naming the bad option. */
export function resolvePhotoOptions(options: PhotoOptions = {}): ResolvedPhotoOptions {
  const given = Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) as PhotoOptions;
  const o = {
    ...PHOTO_DEFAULTS,
    ...given,
    backgroundWeights: { ...PHOTO_DEFAULTS.backgroundWeights, ...given.backgroundWeights },
    layoutWeights: { ...PHOTO_DEFAULTS.layoutWeights, ...given.layoutWeights },
    occluderWeights: { ...PHOTO_DEFAULTS.occluderWeights, ...given.occluderWeights },
  } as ResolvedPhotoOptions;
  if (!(o.longSidePx >= 32 && o.longSidePx <= 4096 && o.shortSidePx >= 32 && o.shortSidePx <= o.longSidePx)) {
    throw new RangeError(`simulatePhoto: need 32 <= shortSidePx <= longSidePx <= 4096, got ${o.shortSidePx} and ${o.longSidePx}`);
  }
  if (o.proceduralKinds.length === 0) throw new RangeError('simulatePhoto: proceduralKinds is empty');
  checkWeights('backgroundWeights', o.backgroundWeights);
  checkWeights('layoutWeights', o.layoutWeights);
  checkWeights('occluderWeights', o.occluderWeights);
  return o;
}

/** Picks a key with probability proportional to its weight (one rng draw). */
function weighted<K extends string>(rng: Rng, keys: readonly K[], w: Record<K, number>): K {
  const total = keys.reduce((s, k) => s + w[k], 0);
  const u = rng() * total;
  let acc = 0;
  for (const k of keys) {
    acc += w[k];
    if (u < acc) return k;
  }
  return keys.find((k) => w[k] > 0) ?? keys[0]!;
}

/**
 * Draws the parameters of one photo. The rng is consumed in a fixed order, whether a knob is pinned
 * or not, so pinning one knob does not change the others.
 */
export function resolvePhotoParams(o: ResolvedPhotoOptions, rng: Rng, assets: AssetAvailability): PhotoParams {
  const portrait = rng() < o.portraitChance;
  const width = portrait ? o.shortSidePx : o.longSidePx;
  const height = portrait ? o.longSidePx : o.shortSidePx;
  const bgWeights = {
    ...o.backgroundWeights,
    photo: assets.backgrounds > 0 ? o.backgroundWeights.photo : 0,
    shelf: assets.clipart > 0 ? o.backgroundWeights.shelf : 0,
  };
  if (BACKGROUND_SOURCES.every((k) => bgWeights[k] === 0)) bgWeights.procedural = 1;
  const source = weighted(rng, BACKGROUND_SOURCES, bgWeights);
  const kind = pick(rng, o.proceduralKinds);
  const index = floor(rng() * max(1, assets.backgrounds));
  const layout = weighted(rng, PHOTO_LAYOUTS, o.layoutWeights);
  const rowCopies = round(max(0, sampleKnob(rng, o.rowCopies)));
  const pileCopies = round(max(0, sampleKnob(rng, o.pileCopies)));
  const pileScale = clamp(sampleKnob(rng, o.pileScale), 0.05, 2);
  const rotationDeg = sampleKnob(rng, o.rotationDeg);
  const objectScale = clamp(sampleKnob(rng, o.objectScale), 0.05, 3);
  const perspective = clamp(sampleKnob(rng, o.perspective), 0, 0.8);
  const perspectiveAngle = rng() * 2 * PI;
  const jitter = clamp(sampleKnob(rng, o.placementJitter), 0, 1);
  const offsetX = (rng() * 2 - 1) * jitter;
  const offsetY = (rng() * 2 - 1) * jitter;
  const clutterCount = round(max(0, sampleKnob(rng, o.clutterCount)));
  const occluded = rng() < o.occlusionChance;
  const occFraction = clamp(sampleKnob(rng, o.occlusionFraction), 0, 0.95);
  const occKind = weighted(rng, OCCLUDER_KINDS, o.occluderWeights);
  // Hands mostly come from below; other things from anywhere.
  const occAngle = occKind === 'hand' ? PI / 2 + (rng() * 2 - 1) * 1.2 : rng() * 2 * PI;
  const shadowOpacity = clamp(sampleKnob(rng, o.shadowOpacity), 0, 1);
  const lightAngle = rng() * 2 * PI;
  const brightness = max(0, sampleKnob(rng, o.brightness));
  const cast = max(0, sampleKnob(rng, o.colorCast));
  const hue = rng() * 2 * PI;
  const castGains = [0, 1, 2].map((c) => 1 + cast * cos(hue - (c * 2 * PI) / 3)) as [number, number, number];
  const lightGradient = clamp(sampleKnob(rng, o.lightGradient), 0, 1);
  const vignette = clamp(sampleKnob(rng, o.vignette), 0, 1);
  const blurSigma = max(0, sampleKnob(rng, o.blurSigma));
  const motion = rng() < o.motionBlurChance;
  const motionLen = max(0, sampleKnob(rng, o.motionBlurPx));
  const motionAngle = rng() * PI;
  const noise = max(0, sampleKnob(rng, o.noise));
  const noiseSeed = floor(rng() * 4294967296);
  const jpegQuality = round(clamp(sampleKnob(rng, o.jpegQuality), 1, 100));
  const sceneSeed = floor(rng() * 4294967296);
  // Drawn after everything else so that adding glare did not move any earlier choice.
  const glared = rng() < o.glareChance;
  const glareStrength = clamp(sampleKnob(rng, o.glareStrength), 0, 1);
  const glareSpots = 1 + floor(rng() * 3);
  const glareSeed = floor(rng() * 4294967296);
  return {
    width,
    height,
    background: { source, kind, index },
    layout,
    copies: layout === 'row' ? rowCopies : layout === 'pile' ? pileCopies : 0,
    pileScale,
    rotationDeg,
    objectScale,
    perspective,
    perspectiveAngle,
    offsetX,
    offsetY,
    clutterCount,
    occlusion: occluded && occFraction > 0 ? { kind: occKind, fraction: occFraction, angle: occAngle } : null,
    shadowOpacity,
    lightAngle,
    brightness,
    castGains,
    lightGradient,
    vignette,
    blurSigma,
    motionBlur: motion && motionLen >= 1.5 ? { lengthPx: motionLen, angleRad: motionAngle } : null,
    noise,
    noiseSeed,
    jpegQuality,
    sceneSeed,
    glare: glared && glareStrength > 0 ? { strength: glareStrength, spots: glareSpots, seed: glareSeed } : null,
  };
}
