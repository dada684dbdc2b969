/**
 * Scales, rotates and positions a cut-out product in a photo frame (internal).
 */
import sharp from 'sharp';
import type { Cutout } from './cutout.js';
import type { DegradeParams } from './degrade-image.js';
import { rgbaFromBytes } from './raster.js';

// Local aliases: global `Math` lookups are slow in hot loops under some hosts (e.g. jest's vm sandbox).
const { abs, ceil, cos, floor, max, min, round, sin } = Math;

/** The product drawn into an otherwise empty frame. */
export interface PlacedProduct {
  /** Premultiplied RGB (0–255 scale), 3 floats per frame pixel. */
  rgb: Float32Array;
  /** Coverage 0–255 per frame pixel. */
  alpha: Uint8Array;
}

/**
 * Resizes the cut-out with sharp (alpha-aware), then rotates it into a
 * `width × height` frame by inverse bilinear mapping, so that its rotated
 * bounding box spans `objectScale` of the limiting frame side, offset from
 * the centre by `offsetX`/`offsetY` of the free space.
 */
export async function placeProduct(cut: Cutout, p: DegradeParams): Promise<PlacedProduct> {
  const W = p.width;
  const H = p.height;
  // Scale (sharp premultiplies alpha while resizing).
  const theta = (p.rotationDeg * Math.PI) / 180;
  const cosT = cos(theta);
  const sinT = sin(theta);
  const rotW = cut.width * abs(cosT) + cut.height * abs(sinT);
  const rotH = cut.width * abs(sinT) + cut.height * abs(cosT);
  const scale = p.objectScale * min(W / rotW, H / rotH);
  const tw = max(1, round(cut.width * scale));
  const th = max(1, round(cut.height * scale));
  const rgba = Buffer.alloc(cut.width * cut.height * 4);
  for (let i = 0, j = 0; i < cut.width * cut.height; i++, j += 4) {
    rgba[j] = cut.rgb[i * 3] as number;
    rgba[j + 1] = cut.rgb[i * 3 + 1] as number;
    rgba[j + 2] = cut.rgb[i * 3 + 2] as number;
    rgba[j + 3] = cut.alpha[i] as number;
  }
  const small = await sharp(rgba, { raw: { width: cut.width, height: cut.height, channels: 4 } })
    .resize(tw, th, { fit: 'fill' })
    .raw()
    .toBuffer();
  const pm = rgbaFromBytes(small, tw, th).data; // premultiplied RGBA

  // Rotate into the frame (inverse mapping, bilinear, premultiplied).
  const ocx = W / 2 + (p.offsetX * (W - rotW * scale)) / 2;
  const ocy = H / 2 + (p.offsetY * (H - rotH * scale)) / 2;
  const obj = new Float32Array(W * H * 3);
  const objA = new Uint8Array(W * H);
  const bx0 = max(0, floor(ocx - (rotW * scale) / 2) - 2);
  const bx1 = min(W - 1, ceil(ocx + (rotW * scale) / 2) + 2);
  const by0 = max(0, floor(ocy - (rotH * scale) / 2) - 2);
  const by1 = min(H - 1, ceil(ocy + (rotH * scale) / 2) + 2);
  const px = new Float32Array(4);
  for (let y = by0; y <= by1; y++) {
    for (let x = bx0; x <= bx1; x++) {
      const dx = x + 0.5 - ocx;
      const dy = y + 0.5 - ocy;
      const sx = dx * cosT + dy * sinT + tw / 2 - 0.5;
      const sy = -dx * sinT + dy * cosT + th / 2 - 0.5;
      if (sx < -1 || sy < -1 || sx > tw || sy > th) continue;
      bilinear(pm, tw, th, sx, sy, px);
      if ((px[3] as number) <= 0) continue;
      const o = (y * W + x) * 3;
      obj[o] = px[0] as number;
      obj[o + 1] = px[1] as number;
      obj[o + 2] = px[2] as number;
      objA[y * W + x] = min(255, round(px[3] as number));
    }
  }

  return { rgb: obj, alpha: objA };
}

function bilinear(src: Float32Array, w: number, h: number, x: number, y: number, out: Float32Array): void {
  const x0 = floor(x);
  const y0 = floor(y);
  const fx = x - x0;
  const fy = y - y0;
  out.fill(0);
  for (let k = 0; k < 4; k++) {
    const xx = x0 + (k & 1);
    const yy = y0 + (k >> 1);
    if (xx < 0 || yy < 0 || xx >= w || yy >= h) continue;
    const wgt = ((k & 1) === 1 ? fx : 1 - fx) * ((k >> 1) === 1 ? fy : 1 - fy);
    const i = (yy * w + xx) * 4;
    out[0] = (out[0] as number) + (src[i] as number) * wgt;
    out[1] = (out[1] as number) + (src[i + 1] as number) * wgt;
    out[2] = (out[2] as number) + (src[i + 2] as number) * wgt;
    out[3] = (out[3] as number) + (src[i + 3] as number) * wgt;
  }
}
