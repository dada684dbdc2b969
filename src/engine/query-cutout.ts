/**
 * The query cut-out: a salient-object mask finds the product in a query photo, which is cropped
 * with a margin and composited onto white, so that it looks more like a catalog image (product on
 * white) than the photo with its background does. The engine embeds it beside the photo and averages
 * the two vectors (option queryCutout).
 */
import sharp from 'sharp';
import { InvalidImageError } from '../errors/index.js';
import type { DecodedImage } from '../imaging/index.js';
import { SALIENT_MASK_SIZE, type SalientMask } from '../model/index.js';
import { asBuffer } from '../imaging/as-buffer.js';

/** Options of {@link cutOutProduct}. */
export interface CutoutOptions {
  /** Side of the model's square input, in pixels. */
  size: number;
  /** Largest decoded image accepted, in pixels (the decoder's limit). */
  maxImagePixels: number;
  /** Longest side the photo is worked on at, in pixels. Default 640. */
  workingSide?: number;
  /** Mask value (0..1, after min-max) above which a pixel is in the product's box. Default 0.5. */
  threshold?: number;
  /** Margin added around the box on each side, as a fraction of the box's width and height. Default 0.08. */
  margin?: number;
}

/** Where the product was found, in working-image pixels, and the share of the photo it covers. */
export interface CutoutBox {
  left: number;
  top: number;
  width: number;
  height: number;
}

/**
 * The product of a query photo cut out on white, as model input (`size` square, the crop fitted
 * inside on white so its proportions are kept), or null when the mask finds nothing (a flat mask).
 * The photo is decoded again here, bounded to `workingSide`; call it after the service's decoder
 * accepted the bytes.
 */
export async function cutOutProduct(
  bytes: Uint8Array,
  mask: SalientMask,
  options: CutoutOptions,
): Promise<{ image: DecodedImage; box: CutoutBox } | null> {
  const { size, maxImagePixels, workingSide = 640, threshold = 0.5, margin = 0.08 } = options;
  const input = asBuffer(bytes);
  let work: { data: Buffer; info: sharp.OutputInfo };
  try {
    work = await sharp(input, { limitInputPixels: maxImagePixels, failOn: 'warning', pages: 1 })
      .rotate()
      .flatten({ background: '#ffffff' })
      .toColourspace('srgb')
      .resize(workingSide, workingSide, { fit: 'inside', withoutEnlargement: true })
      .removeAlpha()
      .raw()
      .toBuffer({ resolveWithObject: true });
  } catch (e) {
    throw new InvalidImageError(`image could not be decoded for the cut-out: ${(e as Error).message.split('\n')[0]}`, { cause: e });
  }
  const { width: w, height: h } = work.info;
  const raw = { raw: { width: w, height: h, channels: 3 as const } };
  const small = await sharp(work.data, raw).resize(SALIENT_MASK_SIZE, SALIENT_MASK_SIZE, { fit: 'fill' }).raw().toBuffer();
  const m = await mask.mask(new Uint8Array(small.buffer, small.byteOffset, small.length));
  const m8 = Buffer.alloc(m.length);
  let any = false;
  for (let i = 0; i < m.length; i++) {
    m8[i] = Math.round(m[i] * 255);
    if (m[i] > 0) any = true;
  }
  if (!any) return null;
  // A resized 1-channel raw buffer comes back with 3 channels unless the channel is extracted.
  const full = await sharp(m8, { raw: { width: SALIENT_MASK_SIZE, height: SALIENT_MASK_SIZE, channels: 1 } })
    .resize(w, h, { fit: 'fill' })
    .extractChannel(0)
    .raw()
    .toBuffer();
  if (full.length !== w * h) throw new Error(`cut-out mask: expected ${w * h} values, received ${full.length}`);
  const cut = Math.round(threshold * 255);
  let x0 = w;
  let y0 = h;
  let x1 = -1;
  let y1 = -1;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      if (full[y * w + x] > cut) {
        if (x < x0) x0 = x;
        if (x > x1) x1 = x;
        if (y < y0) y0 = y;
        if (y > y1) y1 = y;
      }
    }
  }
  if (x1 < 0) return null;
  const mx = Math.round((x1 - x0 + 1) * margin);
  const my = Math.round((y1 - y0 + 1) * margin);
  const box = {
    left: Math.max(0, x0 - mx),
    top: Math.max(0, y0 - my),
    width: Math.min(w, x1 + 1 + mx) - Math.max(0, x0 - mx),
    height: Math.min(h, y1 + 1 + my) - Math.max(0, y0 - my),
  };
  // Composite onto white with the soft mask: background pixels fade to white.
  const crop = Buffer.alloc(box.width * box.height * 3);
  for (let y = 0; y < box.height; y++) {
    for (let x = 0; x < box.width; x++) {
      const src = (box.top + y) * w + box.left + x;
      const a = full[src] / 255;
      const o = (y * box.width + x) * 3;
      for (let c = 0; c < 3; c++) crop[o + c] = Math.round(a * work.data[src * 3 + c] + (1 - a) * 255);
    }
  }
  const { data, info } = await sharp(crop, { raw: { width: box.width, height: box.height, channels: 3 } })
    .resize(size, size, { fit: 'contain', background: '#ffffff' })
    .raw()
    .toBuffer({ resolveWithObject: true });
  if (info.channels !== 3 || data.length !== size * size * 3) throw new Error(`cut-out: unexpected layout ${info.width}x${info.height}x${info.channels}`);
  return {
    image: { rgb: new Uint8Array(data.buffer, data.byteOffset, data.length), size, sourceWidth: box.width, sourceHeight: box.height, format: 'png' },
    box,
  };
}
