/**
 * A catalog image made ready for compositing: cut off its white background once, kept as a sprite.
 */
import sharp from 'sharp';
import { cutOutWhiteBackground } from './cutout.js';
import type { RgbaImage } from './raster.js';

/** A product cut out of its catalog image. */
export interface PreparedProduct {
  sprite: RgbaImage;
  /** Fraction of the source image's pixels that were white background connected to the border. */
  backgroundFraction: number;
}

/**
 * Decodes a catalog image (flattened on white), shrinks it so its longest side is at most
 * `maxSide`, and cuts the product out (near-white pixels connected to the border become
 * transparent, the edge is softened, the sprite is cropped to the product). An image with no
 * white border is kept whole and opaque (a photo-like catalog image still works).
 */
export async function prepareProduct(
  image: Buffer,
  options: { maxSide: number; whiteThreshold: number; maxEdgeStep?: number },
): Promise<PreparedProduct> {
  const { data, info } = await sharp(image)
    .rotate()
    .flatten({ background: '#ffffff' })
    .toColourspace('srgb')
    .resize(options.maxSide, options.maxSide, { fit: 'inside', withoutEnlargement: true })
    .removeAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
  const w = info.width;
  const h = info.height;
  const rgb = info.channels === 3 ? data : toRgb(data, w * h, info.channels);
  const cut = cutOutWhiteBackground(rgb, w, h, options.whiteThreshold, options.maxEdgeStep);
  const n = cut.width * cut.height;
  const sprite: RgbaImage = { width: cut.width, height: cut.height, data: new Float32Array(n * 4) };
  let opaque = 0;
  for (let i = 0; i < n; i++) {
    const a = (cut.alpha[i] as number) / 255;
    sprite.data[i * 4] = (cut.rgb[i * 3] as number) * a;
    sprite.data[i * 4 + 1] = (cut.rgb[i * 3 + 1] as number) * a;
    sprite.data[i * 4 + 2] = (cut.rgb[i * 3 + 2] as number) * a;
    sprite.data[i * 4 + 3] = cut.alpha[i] as number;
    opaque += a;
  }
  return { sprite, backgroundFraction: 1 - opaque / (w * h) };
}

function toRgb(data: Uint8Array, n: number, channels: number): Uint8Array {
  const out = new Uint8Array(n * 3);
  for (let i = 0; i < n; i++) for (let c = 0; c < 3; c++) out[i * 3 + c] = data[i * channels + Math.min(c, channels - 1)] as number;
  return out;
}
