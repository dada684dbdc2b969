/**
 * Camera-like degradations of a composed frame (internal).
 */
import type { DegradeParams } from './degrade-image.js';

/** The camera knobs {@link applyCameraEffects} reads. */
export type CameraParams = Pick<
  DegradeParams,
  'width' | 'height' | 'brightness' | 'castGains' | 'lightGradient' | 'lightAngle' | 'vignette' | 'noise' | 'noiseSeed'
>;
import { createRng } from './random.js';

// Local aliases: global `Math` lookups are slow in hot loops under some hosts (e.g. jest's vm sandbox).
const { cos, hypot, round, sin } = Math;

/** Rounds and clamps to a byte. */
export function clampByte(v: number): number {
  return v <= 0 ? 0 : v >= 255 ? 255 : round(v);
}

/**
 * Applies exposure (`brightness`), uneven lighting, vignetting, colour cast
 * and sensor noise to a packed RGB frame of `p.width × p.height`.
 *
 * @returns a new RGB buffer.
 */
export function applyCameraEffects(rgb: Uint8Array, p: CameraParams): Buffer {
  const W = p.width;
  const H = p.height;
  // Sensor noise: a table of normal deviates indexed by an inline xorshift (fast, deterministic).
  const noiseRng = createRng(p.noiseSeed);
  const gauss = new Float32Array(65536);
  for (let i = 0; i < gauss.length; i++) gauss[i] = (noiseRng() + noiseRng() + noiseRng() - 1.5) * 2;
  let state = (p.noiseSeed | 1) >>> 0;
  const lx = cos(p.lightAngle);
  const ly = sin(p.lightAngle);
  const half = hypot(W, H) / 2;
  const out = Buffer.alloc(W * H * 3);
  const [gr, gg, gb] = p.castGains;
  const luma = p.noise;
  const chroma = p.noise * 0.35;
  // Loop invariants in locals, and the per-column terms of the lighting once per frame: each value is
  // computed exactly as before (same operations, same order), so the output bytes do not change.
  const { brightness, vignette, lightGradient } = p;
  const nxs = new Float64Array(W);
  for (let x = 0; x < W; x++) nxs[x] = (x - W / 2) / half;
  for (let y = 0; y < H; y++) {
    const ny = (y - H / 2) / half;
    const nyny = ny * ny;
    const nyly = ny * ly;
    for (let x = 0, i = y * W * 3; x < W; x++, i += 3) {
      const nx = nxs[x] as number;
      const light = brightness * (1 - vignette * (nx * nx + nyny)) * (1 + lightGradient * (nx * lx + nyly));
      state ^= state << 13;
      state ^= state >>> 17;
      state ^= state << 5;
      const n0 = (gauss[state & 65535] as number) * luma;
      const n1 = (gauss[(state >>> 16) & 65535] as number) * chroma;
      const n2 = (gauss[((state >>> 8) ^ (state << 3)) & 65535] as number) * chroma;
      out[i] = clampByte((rgb[i] as number) * light * gr + n0 + n1);
      out[i + 1] = clampByte((rgb[i + 1] as number) * light * gg + n0 - n1 * 0.5 + n2 * 0.5);
      out[i + 2] = clampByte((rgb[i + 2] as number) * light * gb + n0 + n2);
    }
  }

  return out;
}
