/**
 * Separates a product from its white studio background (internal).
 */

// Local aliases: global `Math` lookups are slow in hot loops under some hosts (e.g. jest's vm sandbox).
const { round } = Math;

/** A product cut out of its background: premultiplied-ready RGB plus alpha. */
export interface Cutout {
  width: number;
  height: number;
  /** RGB, 3 bytes per pixel. */
  rgb: Uint8Array;
  /** Coverage 0–255, 1 byte per pixel. */
  alpha: Uint8Array;
}

/**
 * Marks near-white pixels connected to the image border as background
 * (alpha 0), everything else as the product (alpha 255), softens the edge
 * with a 3×3 box filter and crops to the product's bounding box.
 *
 * A product with no white border around it is returned whole, fully opaque.
 *
 * @param rgb packed RGB pixels.
 * @param threshold a pixel is near-white when all its channels are at least this.
 * @param maxStep largest per-channel difference between neighbours the fill crosses (default: any).
 * @param peel with a finite `maxStep`: rings of light pixels (all channels >= `peelThreshold`)
 *   touching the background that are removed afterwards, so the rim does not leave a white halo.
 */
export function cutOutWhiteBackground(
  rgb: Uint8Array,
  width: number,
  height: number,
  threshold: number,
  maxStep = Infinity,
  peel = 2,
  peelThreshold = threshold - 25,
): Cutout {
  const n = width * height;
  const bg = new Uint8Array(n);
  const queue = new Int32Array(n);
  let head = 0;
  let tail = 0;
  const white = (p: number) => {
    const i = p * 3;
    return (rgb[i] as number) >= threshold && (rgb[i + 1] as number) >= threshold && (rgb[i + 2] as number) >= threshold;
  };
  // A step between neighbours over `maxStep` (any channel) is an edge the fill does not cross:
  // it keeps white parts of a product that touch the background along a faint outline.
  const smooth = (a: number, b: number) => {
    if (maxStep === Infinity) return true;
    const i = a * 3;
    const j = b * 3;
    return (
      Math.abs((rgb[i] as number) - (rgb[j] as number)) <= maxStep &&
      Math.abs((rgb[i + 1] as number) - (rgb[j + 1] as number)) <= maxStep &&
      Math.abs((rgb[i + 2] as number) - (rgb[j + 2] as number)) <= maxStep
    );
  };
  const seed = (p: number, from = p) => {
    if (bg[p] === 0 && white(p) && smooth(p, from)) {
      bg[p] = 1;
      queue[tail++] = p;
    }
  };
  for (let x = 0; x < width; x++) {
    seed(x);
    seed((height - 1) * width + x);
  }
  for (let y = 0; y < height; y++) {
    seed(y * width);
    seed(y * width + width - 1);
  }
  while (head < tail) {
    const p = queue[head++] as number;
    const x = p % width;
    if (x > 0) seed(p - 1, p);
    if (x < width - 1) seed(p + 1, p);
    if (p >= width) seed(p - width, p);
    if (p < n - width) seed(p + width, p);
  }

  // The edge rule leaves the product's anti-aliased rim (light pixels that step gradually into the
  // white) as a halo: peel up to `peel` rings of light pixels touching the background.
  if (maxStep !== Infinity && peel > 0) {
    const light = (p: number) => {
      const i = p * 3;
      return (rgb[i] as number) >= peelThreshold && (rgb[i + 1] as number) >= peelThreshold && (rgb[i + 2] as number) >= peelThreshold;
    };
    for (let r = 0; r < peel; r++) {
      const ring: number[] = [];
      for (let p = 0; p < n; p++) {
        if (bg[p] === 1 || !light(p)) continue;
        const x = p % width;
        if ((x > 0 && bg[p - 1] === 1) || (x < width - 1 && bg[p + 1] === 1) || (p >= width && bg[p - width] === 1) || (p < n - width && bg[p + width] === 1)) {
          ring.push(p);
        }
      }
      if (ring.length === 0) break;
      for (const p of ring) bg[p] = 1;
    }
  }

  // Soft edge: 3×3 mean of the binary mask.
  const alphaFull = new Uint8Array(n);
  let x0 = width;
  let y0 = height;
  let x1 = -1;
  let y1 = -1;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      let sum = 0;
      let cnt = 0;
      for (let dy = -1; dy <= 1; dy++) {
        const yy = y + dy;
        if (yy < 0 || yy >= height) continue;
        for (let dx = -1; dx <= 1; dx++) {
          const xx = x + dx;
          if (xx < 0 || xx >= width) continue;
          sum += bg[yy * width + xx] === 0 ? 1 : 0;
          cnt++;
        }
      }
      // Pixels that are themselves background stay transparent (no white halo).
      const a = bg[y * width + x] === 1 ? 0 : round((255 * sum) / cnt);
      alphaFull[y * width + x] = a;
      if (a > 0) {
        if (x < x0) x0 = x;
        if (x > x1) x1 = x;
        if (y < y0) y0 = y;
        if (y > y1) y1 = y;
      }
    }
  }
  if (x1 < 0) {
    return { width, height, rgb: rgb.slice(0, n * 3), alpha: new Uint8Array(n).fill(255) };
  }
  const w = x1 - x0 + 1;
  const h = y1 - y0 + 1;
  const outRgb = new Uint8Array(w * h * 3);
  const outA = new Uint8Array(w * h);
  for (let y = 0; y < h; y++) {
    const src = (y0 + y) * width + x0;
    outRgb.set(rgb.subarray(src * 3, (src + w) * 3), y * w * 3);
    outA.set(alphaFull.subarray(src, src + w), y * w);
  }
  return { width: w, height: h, rgb: outRgb, alpha: outA };
}
