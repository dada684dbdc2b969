/**
 * Simulated phone photos of catalog products: the scene (src/simulate/scene.ts), then the camera
 * (blur, camera shake, exposure, uneven light, vignette, colour cast, sensor noise, JPEG).
 */
import sharp from 'sharp';
import type { SimulationAssets } from './assets.js';
import { applyCameraEffects } from './camera-effects.js';
import { resolvePhotoOptions, resolvePhotoParams, type PhotoOptions, type PhotoParams, type ResolvedPhotoOptions } from './photo-params.js';
import { prepareProduct, type PreparedProduct } from './product.js';
import { createRng } from './random.js';
import { layerToBytes } from './raster.js';
import { composeScene, type Scene } from './scene.js';

/** A simulated photo and how it was made. */
export interface SimulatedPhoto {
  /** The photo, JPEG-encoded. */
  jpeg: Buffer;
  params: PhotoParams;
  /** Fraction of the main product hidden by the occluder. */
  occludedFraction: number;
}

/** Makes simulated photos of prepared catalog products; one per (product, seed), deterministic. */
export interface PhotoSimulator {
  readonly options: ResolvedPhotoOptions;
  /** Cuts the product out of its catalog image (do it once per item). */
  prepare(image: Buffer): Promise<PreparedProduct>;
  /** The photo's parameters for a seed (what {@link photo} will draw). */
  params(seed: number): PhotoParams;
  /** The scene before the camera (for tests and pictures). */
  scene(product: PreparedProduct, seed: number): Promise<Scene>;
  /** One simulated photo. */
  photo(product: PreparedProduct, seed: number): Promise<SimulatedPhoto>;
}

/** Camera shake: a normalised line kernel of `len` pixels at `angle`. */
function motionKernel(len: number, angle: number): { width: number; height: number; kernel: number[] } {
  const size = Math.max(3, Math.round(len) | 1);
  const c = (size - 1) / 2;
  const k = new Array<number>(size * size).fill(0);
  const steps = size * 4;
  for (let s = 0; s <= steps; s++) {
    const t = (s / steps - 0.5) * (len - 1);
    const x = Math.round(c + t * Math.cos(angle));
    const y = Math.round(c + t * Math.sin(angle));
    if (x >= 0 && y >= 0 && x < size && y < size) k[y * size + x] = 1;
  }
  return { width: size, height: size, kernel: k };
}

/**
 * Creates a photo simulator over loaded assets (see {@link loadSimulationAssets}).
 *
 * @param options knobs; defaults in PHOTO_DEFAULTS (src/simulate/defaults.ts).
 */
export function createPhotoSimulator(assets: SimulationAssets, options: PhotoOptions = {}): PhotoSimulator {
  const o = resolvePhotoOptions(options);
  const availability = { backgrounds: assets.backgrounds.length, clipart: assets.clipart.length };
  const params = (seed: number) => resolvePhotoParams(o, createRng(seed), availability);
  return {
    options: o,
    prepare: (image) => prepareProduct(image, { maxSide: o.productMaxSide, whiteThreshold: o.whiteThreshold, maxEdgeStep: o.maxEdgeStep }),
    params,
    scene: (product, seed) => composeScene(product.sprite, params(seed), assets),
    async photo(product, seed) {
      const p = params(seed);
      const scene = await composeScene(product.sprite, p, assets);
      const W = p.width;
      const H = p.height;
      let img = sharp(layerToBytes(scene.frame), { raw: { width: W, height: H, channels: 3 } });
      if (p.blurSigma >= 0.3) img = img.blur(p.blurSigma);
      if (p.motionBlur) img = img.convolve(motionKernel(p.motionBlur.lengthPx, p.motionBlur.angleRad));
      const blurred = p.blurSigma >= 0.3 || p.motionBlur ? await img.raw().toBuffer() : layerToBytes(scene.frame);
      const shot = applyCameraEffects(blurred, p);
      const jpeg = await sharp(shot, { raw: { width: W, height: H, channels: 3 } }).jpeg({ quality: p.jpegQuality }).toBuffer();
      return { jpeg, params: p, occludedFraction: scene.occludedFraction };
    },
  };
}

/** Simulated photos (JPEG) of one catalog image, one per seed: the product is cut out once. */
export async function photosOf(simulator: PhotoSimulator, image: Uint8Array, seeds: readonly number[]): Promise<Buffer[]> {
  const product = await simulator.prepare(Buffer.from(image.buffer, image.byteOffset, image.length));
  const out: Buffer[] = [];
  for (const seed of seeds) out.push((await simulator.photo(product, seed)).jpeg);
  return out;
}
