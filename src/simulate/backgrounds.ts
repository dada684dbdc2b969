/**
 * Procedural photo backgrounds (table tops, fabric, paper...) for degradeImage (internal).
 */
import type { BackgroundKind } from './defaults.js';
import { createRng, pick, range, type Rng } from './random.js';

// Local aliases: global `Math` lookups are slow in hot loops under some hosts (e.g. jest's vm sandbox).
const { cos, exp, floor, hypot, imul, max, min, pow, sin } = Math;

type Rgb = readonly [number, number, number];

/**
 * Smooth 2-D value noise in `[0, 1]` with a fractal sum helper. Each octave remembers the lattice
 * cell it last sampled: a row of pixels stays in one cell for many pixels, so the four corner hashes
 * are mostly reused (same values as hashing again). Use one function per call site, so that call
 * sites at different scales do not evict each other's cells.
 */
function makeNoise(seed: number): (x: number, y: number, octaves?: number) => number {
  const s = seed >>> 0;
  const lattice = (ix: number, iy: number): number => {
    let h = imul(ix, 374761393) ^ imul(iy, 668265263) ^ s;
    h = imul(h ^ (h >>> 13), 1274126177);
    return ((h ^ (h >>> 16)) >>> 0) / 4294967296;
  };
  const OCTAVES = 8;
  const cellX = new Float64Array(OCTAVES).fill(NaN);
  const cellY = new Float64Array(OCTAVES).fill(NaN);
  const corners = new Float64Array(OCTAVES * 4);
  const base = (o: number, x: number, y: number): number => {
    const ix = floor(x);
    const iy = floor(y);
    const fx = x - ix;
    const fy = y - iy;
    const ux = fx * fx * (3 - 2 * fx);
    const uy = fy * fy * (3 - 2 * fy);
    const k = o * 4;
    if (ix !== cellX[o] || iy !== cellY[o]) {
      cellX[o] = ix;
      cellY[o] = iy;
      corners[k] = lattice(ix, iy);
      corners[k + 1] = lattice(ix + 1, iy);
      corners[k + 2] = lattice(ix, iy + 1);
      corners[k + 3] = lattice(ix + 1, iy + 1);
    }
    const a = corners[k] as number;
    const b = corners[k + 1] as number;
    const c = corners[k + 2] as number;
    const d = corners[k + 3] as number;
    return a + (b - a) * ux + (c - a) * uy + (a - b - c + d) * ux * uy;
  };
  return (x, y, octaves = 1) => {
    if (octaves > OCTAVES) throw new RangeError(`noise: at most ${OCTAVES} octaves, asked for ${octaves}`);
    let sum = 0;
    let amp = 1;
    let norm = 0;
    let fx = x;
    let fy = y;
    for (let o = 0; o < octaves; o++) {
      sum += base(o, fx, fy) * amp;
      norm += amp;
      amp *= 0.5;
      fx *= 2.03;
      fy *= 2.03;
    }
    return sum / norm;
  };
}

const SOLIDS: readonly Rgb[] = [
  [222, 210, 190], // beige paper
  [188, 190, 194], // light grey desk
  [168, 188, 208], // pale blue
  [170, 186, 160], // sage
  [214, 186, 180], // dusty pink
  [140, 140, 142], // mid grey
  [190, 160, 118], // kraft paper
];
const WOODS: readonly Rgb[] = [
  [156, 104, 62],
  [112, 72, 42],
  [192, 146, 96],
  [84, 54, 34],
  [170, 120, 80],
];
const FABRICS: readonly Rgb[] = [
  [62, 82, 122], // denim
  [112, 112, 118], // grey felt
  [150, 42, 48], // red cloth
  [42, 100, 64], // green baize
  [198, 184, 158], // linen
  [40, 40, 44], // black cotton
];
const STONES: readonly Rgb[] = [
  [150, 148, 142], // concrete
  [120, 112, 104], // granite
  [176, 168, 150], // sandstone
  [96, 100, 106], // slate
];

const mix = (a: number, b: number, t: number) => a + (b - a) * t;

/**
 * Paints a `width × height` RGB background (floats, 0–255 scale) of the given kind.
 *
 * @param kind the surface.
 * @param rng used for the palette and layout; pixel noise uses a seed drawn from it.
 */
export function renderBackground(kind: BackgroundKind, width: number, height: number, rng: Rng): Float32Array {
  const out = new Float32Array(width * height * 3);
  const noiseSeed = floor(rng() * 4294967296);
  const noise = makeNoise(noiseSeed);
  // The same noise for another call site in the same pixel loop (its own cell cache).
  const sameNoise = (): ReturnType<typeof makeNoise> => makeNoise(noiseSeed);
  const grain = createRng(floor(rng() * 4294967296));
  const set = (i: number, r: number, g: number, b: number) => {
    out[i] = r;
    out[i + 1] = g;
    out[i + 2] = b;
  };
  const diag = hypot(width, height);

  switch (kind) {
    case 'solid': {
      const c = pick(rng, SOLIDS);
      const ang = range(rng, 0, Math.PI * 2);
      const dx = cos(ang) / diag;
      const dy = sin(ang) / diag;
      for (let y = 0, i = 0; y < height; y++) {
        for (let x = 0; x < width; x++, i += 3) {
          const l = 1 + 0.16 * ((x - width / 2) * dx + (y - height / 2) * dy) * 2 + (noise(x / 90, y / 90, 2) - 0.5) * 0.05;
          set(i, c[0] * l, c[1] * l, c[2] * l);
        }
      }
      break;
    }
    case 'gradient': {
      const a = pick(rng, [...SOLIDS, ...FABRICS]);
      const b = pick(rng, [...SOLIDS, ...STONES]);
      const ang = range(rng, 0, Math.PI * 2);
      const dx = cos(ang);
      const dy = sin(ang);
      for (let y = 0, i = 0; y < height; y++) {
        for (let x = 0; x < width; x++, i += 3) {
          const t = min(1, max(0, 0.5 + ((x - width / 2) * dx + (y - height / 2) * dy) / diag));
          set(i, mix(a[0], b[0], t), mix(a[1], b[1], t), mix(a[2], b[2], t));
        }
      }
      break;
    }
    case 'noise': {
      const c = pick(rng, STONES);
      const scale = range(rng, 40, 120);
      for (let y = 0, i = 0; y < height; y++) {
        for (let x = 0; x < width; x++, i += 3) {
          const l = 0.78 + 0.45 * noise(x / scale, y / scale, 4) + (grain() - 0.5) * 0.12;
          set(i, c[0] * l, c[1] * l, c[2] * l);
        }
      }
      break;
    }
    case 'wood': {
      const c = pick(rng, WOODS);
      const light: Rgb = [c[0] * 1.18, c[1] * 1.15, c[2] * 1.1];
      const dark: Rgb = [c[0] * 0.62, c[1] * 0.58, c[2] * 0.55];
      const vertical = rng() < 0.5;
      const tilt = range(rng, -0.08, 0.08);
      const plank = range(rng, 110, 220);
      const freq = range(rng, 0.18, 0.35);
      const [streakNoise, toneNoise, boardNoise] = [sameNoise(), sameNoise(), sameNoise()];
      for (let y = 0, i = 0; y < height; y++) {
        for (let x = 0; x < width; x++, i += 3) {
          const u = vertical ? y + x * tilt : x + y * tilt; // along the grain
          const v = vertical ? x - y * tilt : y - x * tilt; // across the grain
          const board = floor(v / plank);
          const warp = noise(u / 300 + board * 7.1, v / 45, 2) * 14;
          const ring = 0.5 + 0.5 * sin(v * freq + warp + board * 2.3);
          const streak = streakNoise(u / 90 + board * 3.7, v / 1.6, 2);
          let t = pow(ring, 4) * 0.45 + streak * 0.45 + toneNoise(u / 400, v / 60 + board, 2) * 0.3;
          const seam = v - board * plank;
          if (seam < 2 || seam > plank - 1) t = 1.35;
          const boardTone = 0.9 + 0.2 * boardNoise(board * 3.3, 0.5);
          set(i, mix(light[0], dark[0], t) * boardTone, mix(light[1], dark[1], t) * boardTone, mix(light[2], dark[2], t) * boardTone);
        }
      }
      break;
    }
    case 'fabric': {
      const c = pick(rng, FABRICS);
      const period = range(rng, 3, 5.5);
      const k = (Math.PI * 2) / period;
      const wrinkle = range(rng, 0.08, 0.2);
      const [weftNoise, foldNoise] = [sameNoise(), sameNoise()];
      const sinX = Float32Array.from({ length: width }, (_, x) => sin(x * k));
      for (let y = 0, i = 0; y < height; y++) {
        const sinY = sin(y * k) * 0.07;
        for (let x = 0; x < width; x++, i += 3) {
          const weave = (sinX[x] as number) * sinY;
          const threads = (noise(x / 1.5, y / 60) - 0.5) * 0.16 + (weftNoise(x / 60 + 9, y / 1.5) - 0.5) * 0.16;
          const folds = (foldNoise(x / 160, y / 160, 3) - 0.5) * 2 * wrinkle;
          const l = 1 + weave + threads + folds + (grain() - 0.5) * 0.06;
          set(i, c[0] * l, c[1] * l, c[2] * l);
        }
      }
      break;
    }
    case 'dark-table': {
      const base = range(rng, 26, 52);
      const tint: Rgb = pick(rng, [
        [1, 1, 1],
        [1.12, 1, 0.9],
        [0.92, 0.98, 1.1],
      ] as const);
      // A broad soft reflection of a window/lamp on a glossy top.
      const hx = range(rng, 0.2, 0.8) * width;
      const hy = range(rng, 0.1, 0.5) * height;
      const hr = range(rng, 0.25, 0.5) * diag;
      const invR2 = 1 / (hr * hr);
      for (let y = 0, i = 0; y < height; y++) {
        for (let x = 0; x < width; x++, i += 3) {
          const ex = x - hx;
          const ey = (y - hy) * 1.6;
          const glow = exp(-(ex * ex + ey * ey) * invR2) * 38;
          const l = base + glow + (noise(x / 70, y / 70, 3) - 0.5) * 12 + (grain() - 0.5) * 5;
          set(i, l * tint[0], l * tint[1], l * tint[2]);
        }
      }
      break;
    }
  }
  return out;
}
