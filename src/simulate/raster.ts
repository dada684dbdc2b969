/**
 * Float raster layers and projective drawing of premultiplied RGBA sprites (internal).
 */
import sharp from 'sharp';
import { invert, projectedBox, type Mat3 } from './homography.js';

// Local aliases: global `Math` lookups are slow in hot loops under some hosts (e.g. jest's vm sandbox).
const { ceil, floor, max, min } = Math;

/** A sprite: premultiplied RGBA, channels 0-255, 4 floats per pixel. */
export interface RgbaImage {
  width: number;
  height: number;
  data: Float32Array;
}

/** A drawing surface: premultiplied RGB (0-255) and coverage (0-1) per pixel. */
export interface Layer {
  width: number;
  height: number;
  rgb: Float32Array;
  alpha: Float32Array;
}

export function createLayer(width: number, height: number): Layer {
  return { width, height, rgb: new Float32Array(width * height * 3), alpha: new Float32Array(width * height) };
}

/** An opaque layer holding an RGB float image (e.g. a background). */
export function opaqueLayer(width: number, height: number, rgb: Float32Array): Layer {
  return { width, height, rgb, alpha: new Float32Array(width * height).fill(1) };
}

/** Premultiplies interleaved RGBA bytes into a sprite. */
export function rgbaFromBytes(bytes: Uint8Array, width: number, height: number): RgbaImage {
  const data = new Float32Array(width * height * 4);
  for (let i = 0; i < width * height * 4; i += 4) {
    const a = (bytes[i + 3] as number) / 255;
    data[i] = (bytes[i] as number) * a;
    data[i + 1] = (bytes[i + 1] as number) * a;
    data[i + 2] = (bytes[i + 2] as number) * a;
    data[i + 3] = bytes[i + 3] as number;
  }
  return { width, height, data };
}

/** Decodes any image sharp reads into a sprite whose longest side is at most `maxSide`. */
export async function loadSprite(input: Buffer | string, maxSide: number): Promise<RgbaImage> {
  const { data, info } = await sharp(input)
    .resize(maxSide, maxSide, { fit: 'inside', withoutEnlargement: true })
    .toColourspace('srgb')
    .ensureAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
  return rgbaFromBytes(data, info.width, info.height);
}

/** A rectangle of layer pixels, bounds included. */
export interface PixelBox {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}

/**
 * Draws `src` into `dst` through the projective map `m` (source pixel coords -> layer pixel coords),
 * "over" what is there: inverse mapping with bilinear sampling of premultiplied values. `tint`
 * multiplies the sprite's colour per channel; `opacity` its coverage. With `clip`, only the pixels
 * inside it are touched; with `alphaOnly`, only the coverage is written (the colour is left as is),
 * for callers that measure where a sprite lands before drawing it for good.
 */
export function drawSprite(
  dst: Layer,
  src: RgbaImage,
  m: Mat3,
  opacity = 1,
  tint: readonly [number, number, number] = [1, 1, 1],
  clip?: PixelBox,
  alphaOnly = false,
): void {
  const W = dst.width;
  const H = dst.height;
  const box = projectedBox(m, 0, 0, src.width, src.height);
  const bx0 = max(clip?.x0 ?? 0, floor(box.x0) - 1);
  const by0 = max(clip?.y0 ?? 0, floor(box.y0) - 1);
  const bx1 = min(clip?.x1 ?? W - 1, ceil(box.x1) + 1);
  const by1 = min(clip?.y1 ?? H - 1, ceil(box.y1) + 1);
  if (bx0 > bx1 || by0 > by1) return;
  const [i0, i1, i2, i3, i4, i5, i6, i7, i8] = invert(m);
  const sw = src.width;
  const sh = src.height;
  const s = src.data;
  const [tr, tg, tb] = tint;
  for (let y = by0; y <= by1; y++) {
    for (let x = bx0; x <= bx1; x++) {
      // Pixel centres: layer pixel (x, y) covers [x, x+1); source pixel (i, j) has its centre at i + 0.5.
      // Inverse map inlined (no tuple per pixel: this loop is the simulator's hot spot).
      const px = x + 0.5;
      const py = y + 0.5;
      const w = i6 * px + i7 * py + i8;
      const fxp = (i0 * px + i1 * py + i2) / w - 0.5;
      const fyp = (i3 * px + i4 * py + i5) / w - 0.5;
      if (fxp <= -1 || fyp <= -1 || fxp >= sw || fyp >= sh) continue;
      const x0 = floor(fxp);
      const y0 = floor(fyp);
      const fx = fxp - x0;
      const fy = fyp - y0;
      let r = 0;
      let g = 0;
      let b = 0;
      let a = 0;
      if (x0 >= 0 && y0 >= 0 && x0 + 1 < sw && y0 + 1 < sh) {
        // Interior: all four taps exist (most pixels); skip fully transparent ones before the colour.
        const i00 = (y0 * sw + x0) * 4;
        const i10 = i00 + 4;
        const i01 = i00 + sw * 4;
        const i11 = i01 + 4;
        const a00 = s[i00 + 3] as number;
        const a10 = s[i10 + 3] as number;
        const a01 = s[i01 + 3] as number;
        const a11 = s[i11 + 3] as number;
        if (a00 + a10 + a01 + a11 === 0) continue;
        const w00 = (1 - fx) * (1 - fy);
        const w10 = fx * (1 - fy);
        const w01 = (1 - fx) * fy;
        const w11 = fx * fy;
        r = (s[i00] as number) * w00 + (s[i10] as number) * w10 + (s[i01] as number) * w01 + (s[i11] as number) * w11;
        g = (s[i00 + 1] as number) * w00 + (s[i10 + 1] as number) * w10 + (s[i01 + 1] as number) * w01 + (s[i11 + 1] as number) * w11;
        b = (s[i00 + 2] as number) * w00 + (s[i10 + 2] as number) * w10 + (s[i01 + 2] as number) * w01 + (s[i11 + 2] as number) * w11;
        a = a00 * w00 + a10 * w10 + a01 * w01 + a11 * w11;
      } else {
        for (let k = 0; k < 4; k++) {
          const xx = x0 + (k & 1);
          const yy = y0 + (k >> 1);
          if (xx < 0 || yy < 0 || xx >= sw || yy >= sh) continue;
          const wgt = ((k & 1) === 1 ? fx : 1 - fx) * ((k >> 1) === 1 ? fy : 1 - fy);
          const i = (yy * sw + xx) * 4;
          r += (s[i] as number) * wgt;
          g += (s[i + 1] as number) * wgt;
          b += (s[i + 2] as number) * wgt;
          a += (s[i + 3] as number) * wgt;
        }
      }
      if (a <= 0) continue;
      const sa = min(1, (a / 255) * opacity);
      const keep = 1 - sa;
      const o = y * W + x;
      if (alphaOnly) {
        dst.alpha[o] = sa + (dst.alpha[o] as number) * keep;
        continue;
      }
      const o3 = o * 3;
      dst.rgb[o3] = r * opacity * tr + (dst.rgb[o3] as number) * keep;
      dst.rgb[o3 + 1] = g * opacity * tg + (dst.rgb[o3 + 1] as number) * keep;
      dst.rgb[o3 + 2] = b * opacity * tb + (dst.rgb[o3 + 2] as number) * keep;
      dst.alpha[o] = sa + (dst.alpha[o] as number) * keep;
    }
  }
}

/** Composites layer `top` over `bottom` in place. */
export function compositeOver(bottom: Layer, top: Layer): void {
  const n = bottom.width * bottom.height;
  for (let i = 0; i < n; i++) {
    const a = top.alpha[i] as number;
    if (a <= 0) continue;
    const keep = 1 - a;
    const i3 = i * 3;
    bottom.rgb[i3] = (top.rgb[i3] as number) + (bottom.rgb[i3] as number) * keep;
    bottom.rgb[i3 + 1] = (top.rgb[i3 + 1] as number) + (bottom.rgb[i3 + 1] as number) * keep;
    bottom.rgb[i3 + 2] = (top.rgb[i3 + 2] as number) + (bottom.rgb[i3 + 2] as number) * keep;
    bottom.alpha[i] = a + (bottom.alpha[i] as number) * keep;
  }
}

/** Rounds an opaque layer's premultiplied RGB to bytes. */
export function layerToBytes(layer: Layer): Buffer {
  const out = Buffer.alloc(layer.width * layer.height * 3);
  for (let i = 0; i < out.length; i++) {
    const v = layer.rgb[i] as number;
    // floor(v + 0.5) is Math.round for v >= 0, and exact here: v is a float32 below 2^24.
    out[i] = v <= 0 ? 0 : v >= 255 ? 255 : floor(v + 0.5);
  }
  return out;
}

/** The smallest box holding every pixel of `layer` with coverage above 0, or null when there is none. */
export function coveredBox(layer: Layer): PixelBox | null {
  const W = layer.width;
  let box: PixelBox | null = null;
  for (let i = 0; i < layer.alpha.length; i++) {
    if ((layer.alpha[i] as number) <= 0) continue;
    const x = i % W;
    const y = (i - x) / W;
    if (!box) box = { x0: x, y0: y, x1: x, y1: y };
    else {
      if (x < box.x0) box.x0 = x;
      if (x > box.x1) box.x1 = x;
      box.y1 = y;
    }
  }
  return box;
}

/** Sum of coverage of a layer. */
export function alphaMass(layer: Layer): number {
  let s = 0;
  for (let i = 0; i < layer.alpha.length; i++) s += layer.alpha[i] as number;
  return s;
}
