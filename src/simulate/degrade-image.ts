/**
 * Turns a clean studio product shot into a plausible bad phone photo.
 */
import sharp from 'sharp';
import { renderBackground } from './backgrounds.js';
import { applyCameraEffects, clampByte } from './camera-effects.js';
import { cutOutWhiteBackground } from './cutout.js';
import { DEGRADE_DEFAULTS, type BackgroundKind } from './defaults.js';
import { placeProduct } from './place-product.js';
import { createRng, hashBytes, pick, sampleKnob, type Knob, type Rng } from './random.js';

// Local aliases: global `Math` lookups are slow in hot loops under some hosts (e.g. jest's vm sandbox).
const { cos, floor, max, min, round, sin } = Math;

/**
 * Options of {@link degradeImage}; every field defaults to the value in
 * {@link DEGRADE_DEFAULTS}. A {@link Knob} is a fixed number or a `[min, max]`
 * range drawn from the rng.
 */
export interface DegradeOptions {
  /** Output width in pixels. */
  width?: number;
  /** Output height in pixels. */
  height?: number;
  /** One surface, or candidates to pick from. */
  background?: BackgroundKind | readonly BackgroundKind[];
  /** Rotation in degrees, positive clockwise. */
  rotationDeg?: Knob;
  /** Rotated product bounding box relative to the frame (limiting side), in `(0, 1]`. */
  objectScale?: Knob;
  /** Fraction (0–1) of the free space used to move the product off-centre. */
  placementJitter?: Knob;
  /** Exposure multiplier. */
  brightness?: Knob;
  /** White-balance error strength. */
  colorCast?: Knob;
  /** Uneven lighting strength. */
  lightGradient?: Knob;
  /** Corner darkening. */
  vignette?: Knob;
  /** Drop shadow opacity. */
  shadowOpacity?: Knob;
  /** Gaussian blur sigma in pixels (< 0.3: none). */
  blurSigma?: Knob;
  /** Sensor noise standard deviation in 8-bit levels. */
  noise?: Knob;
  /** JPEG quality, rounded to an integer in 1–100. */
  jpegQuality?: Knob;
  /** Near-white threshold for the cut-out (0–255). */
  whiteThreshold?: number;
}

/** Every random choice of one {@link degradeImage} call, resolved to numbers. */
export interface DegradeParams {
  width: number;
  height: number;
  background: BackgroundKind;
  /** Seed of the background texture. */
  backgroundSeed: number;
  rotationDeg: number;
  objectScale: number;
  /** Product centre offset, each in `[-1, 1]` of the available free half-space. */
  offsetX: number;
  offsetY: number;
  brightness: number;
  /** Per-channel gains of the colour cast. */
  castGains: [number, number, number];
  lightGradient: number;
  /** Direction the light comes from, radians. */
  lightAngle: number;
  vignette: number;
  shadowOpacity: number;
  blurSigma: number;
  noise: number;
  /** Seed of the sensor noise. */
  noiseSeed: number;
  jpegQuality: number;
  whiteThreshold: number;
}

const clamp = (x: number, lo: number, hi: number) => min(hi, max(lo, x));

/**
 * Draws the parameters of one degradation. The rng is consumed in a fixed
 * order, one draw per knob, whether the knob is pinned or not.
 *
 * @param options knobs; see {@link DEGRADE_DEFAULTS}.
 * @param rng the random source.
 */
export function resolveDegradeParams(options: DegradeOptions, rng: Rng): DegradeParams {
  const o = { ...DEGRADE_DEFAULTS, ...stripUndefined(options) };
  const width = round(o.width);
  const height = round(o.height);
  if (!(width >= 16 && height >= 16 && width <= 8192 && height <= 8192)) {
    throw new RangeError(`degradeImage: output size must be within 16..8192, got ${width}x${height}`);
  }
  const kinds: readonly BackgroundKind[] = typeof o.background === 'string' ? [o.background] : o.background;
  if (kinds.length === 0) throw new RangeError('degradeImage: background list is empty');
  const background = pick(rng, kinds);
  const backgroundSeed = floor(rng() * 4294967296);
  const rotationDeg = sampleKnob(rng, o.rotationDeg);
  const objectScale = clamp(sampleKnob(rng, o.objectScale), 0.05, 1);
  const jitter = clamp(sampleKnob(rng, o.placementJitter), 0, 1);
  const offsetX = (rng() * 2 - 1) * jitter;
  const offsetY = (rng() * 2 - 1) * jitter;
  const brightness = max(0, sampleKnob(rng, o.brightness));
  const cast = max(0, sampleKnob(rng, o.colorCast));
  const hue = rng() * Math.PI * 2;
  const castGains: [number, number, number] = [0, 1, 2].map((c) => 1 + cast * cos(hue - (c * 2 * Math.PI) / 3)) as [
    number,
    number,
    number,
  ];
  const lightGradient = clamp(sampleKnob(rng, o.lightGradient), 0, 1);
  const lightAngle = rng() * Math.PI * 2;
  const vignette = clamp(sampleKnob(rng, o.vignette), 0, 1);
  const shadowOpacity = clamp(sampleKnob(rng, o.shadowOpacity), 0, 1);
  const blurSigma = max(0, sampleKnob(rng, o.blurSigma));
  const noise = max(0, sampleKnob(rng, o.noise));
  const noiseSeed = floor(rng() * 4294967296);
  const jpegQuality = round(clamp(sampleKnob(rng, o.jpegQuality), 1, 100));
  return {
    width,
    height,
    background,
    backgroundSeed,
    rotationDeg,
    objectScale,
    offsetX,
    offsetY,
    brightness,
    castGains,
    lightGradient,
    lightAngle,
    vignette,
    shadowOpacity,
    blurSigma,
    noise,
    noiseSeed,
    jpegQuality,
    whiteThreshold: o.whiteThreshold,
  };
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/**
 * Simulates a real phone photo of a studio product shot: the product is cut
 * off its white background (near-white pixels connected to the border),
 * scaled, rotated and placed on a textured surface with a soft shadow, then
 * the whole frame is under-exposed, unevenly lit, colour cast, vignetted,
 * blurred, given sensor noise and re-encoded as a low-quality JPEG.
 *
 * @param image an encoded image (anything sharp decodes), product on white.
 * @param options knobs; see {@link DEGRADE_DEFAULTS}.
 * @param rng random source; defaults to one seeded from the image bytes, so
 *   the result is deterministic either way.
 * @returns the JPEG photo (`width × height`, default 640×480).
 */
export async function degradeImage(image: Buffer, options: DegradeOptions = {}, rng?: Rng): Promise<Buffer> {
  const p = resolveDegradeParams(options, rng ?? createRng(hashBytes(image)));
  const W = p.width;
  const H = p.height;

  // 1. Cut the product out.
  const decoded = await sharp(image)
    .flatten({ background: '#ffffff' })
    .toColourspace('srgb')
    .removeAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
  const rgb3 = toRgb(decoded.data, decoded.info.width, decoded.info.height, decoded.info.channels);
  const cut = cutOutWhiteBackground(rgb3, decoded.info.width, decoded.info.height, p.whiteThreshold);

  // 2–3. Scale, rotate and position it in the frame.
  const { rgb: obj, alpha: objA } = await placeProduct(cut, p);

  // 4. Soft shadow, cast away from the light.
  const sigma = max(1, 0.025 * min(W, H));
  const shadow = p.shadowOpacity > 0
    ? await sharp(objA, { raw: { width: W, height: H, channels: 1 } }).blur(sigma).raw().toBuffer({ resolveWithObject: true })
    : null;
  const shadowCh = shadow?.info.channels ?? 1;
  const sdx = round(-cos(p.lightAngle) * 0.02 * min(W, H));
  const sdy = round(-sin(p.lightAngle) * 0.02 * min(W, H));

  // 5. Composite over the surface.
  const bg = renderBackground(p.background, W, H, createRng(p.backgroundSeed));
  const frame = Buffer.alloc(W * H * 3);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const i = y * W + x;
      let keep = 1;
      if (shadow) {
        const sx = x - sdx;
        const sy = y - sdy;
        if (sx >= 0 && sy >= 0 && sx < W && sy < H) keep = 1 - (p.shadowOpacity * (shadow.data[(sy * W + sx) * shadowCh] as number)) / 255;
      }
      const inv = (1 - (objA[i] as number) / 255) * keep;
      const o = i * 3;
      frame[o] = clampByte((obj[o] as number) + (bg[o] as number) * inv);
      frame[o + 1] = clampByte((obj[o + 1] as number) + (bg[o + 1] as number) * inv);
      frame[o + 2] = clampByte((obj[o + 2] as number) + (bg[o + 2] as number) * inv);
    }
  }

  // 6. Lens blur.
  const blurred =
    p.blurSigma >= 0.3 ? await sharp(frame, { raw: { width: W, height: H, channels: 3 } }).blur(p.blurSigma).raw().toBuffer() : frame;

  // 7. Exposure, uneven light, vignette, colour cast, sensor noise.
  const out = applyCameraEffects(blurred, p);

  // 8. Re-encode.
  return sharp(out, { raw: { width: W, height: H, channels: 3 } }).jpeg({ quality: p.jpegQuality }).toBuffer();
}

function toRgb(data: Buffer, width: number, height: number, channels: number): Uint8Array {
  if (channels === 3) return data;
  const out = new Uint8Array(width * height * 3);
  for (let i = 0; i < width * height; i++) {
    for (let c = 0; c < 3; c++) out[i * 3 + c] = data[i * channels + min(c, channels - 1)] as number;
  }
  return out;
}
