'use strict';
/**
 * The four deterministic 224x224 RGB inputs of the model-conversion check, shared by
 * record-tfjs-reference.js (which runs the original TF.js model on them) and
 * test/model/model-conversion.test.ts (which runs the converted ONNX model on them). The FNV-1a hash of
 * each input's bytes is recorded with the reference outputs, so a changed recipe is caught.
 */
const SIZE = 224;

function mulberry32(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const clampByte = (v) => (v < 0 ? 0 : v > 255 ? 255 : Math.round(v));

/** Each recipe returns SIZE*SIZE*3 bytes, row-major HWC, RGB. Only + - * / and comparisons. */
const RECIPES = [
  {
    name: 'noise',
    recipe: 'mulberry32(seed=1): byte = floor(rng()*256) for every value in HWC order',
    make() {
      const rng = mulberry32(1);
      const b = new Uint8Array(SIZE * SIZE * 3);
      for (let i = 0; i < b.length; i++) b[i] = Math.floor(rng() * 256);
      return b;
    },
  },
  {
    name: 'hgradient',
    recipe: 'R = round(255*x/223), G = 255-R, B = 64',
    make() {
      const b = new Uint8Array(SIZE * SIZE * 3);
      for (let y = 0; y < SIZE; y++) {
        for (let x = 0; x < SIZE; x++) {
          const i = (y * SIZE + x) * 3;
          const r = Math.round((255 * x) / (SIZE - 1));
          b[i] = r;
          b[i + 1] = 255 - r;
          b[i + 2] = 64;
        }
      }
      return b;
    },
  },
  {
    name: 'gray',
    recipe: 'constant 128 in every channel',
    make() {
      return new Uint8Array(SIZE * SIZE * 3).fill(128);
    },
  },
  {
    name: 'scene',
    recipe:
      'sky gradient (y<120) over green-brown ground; shaded red disc centre (80,130) r=45; ' +
      'yellow box x 130..200, y 60..170 with dark stripes every 12 rows; ' +
      'plus mulberry32(seed=7) noise: floor(rng()*17)-8 per value; clamp+round to bytes',
    make() {
      const rng = mulberry32(7);
      const b = new Uint8Array(SIZE * SIZE * 3);
      for (let y = 0; y < SIZE; y++) {
        for (let x = 0; x < SIZE; x++) {
          let r;
          let g;
          let bl;
          if (y < 120) {
            r = 90 + y * 0.8;
            g = 140 + y * 0.6;
            bl = 235 - y * 0.3;
          } else {
            r = 95 + ((x * 7 + y * 3) % 23);
            g = 120 + ((x * 5 + y * 11) % 31);
            bl = 50 + (y - 120) * 0.2;
          }
          const dx = x - 80;
          const dy = y - 130;
          const d2 = dx * dx + dy * dy;
          if (d2 < 45 * 45) {
            const shade = 1 - d2 / (45 * 45 * 2) - (dx + dy) / 200;
            r = 210 * shade + 20;
            g = 30 * shade + 10;
            bl = 35 * shade + 10;
            if ((dx + 15) * (dx + 15) + (dy + 15) * (dy + 15) < 64) {
              r = 250;
              g = 230;
              bl = 230; // specular highlight
            }
          }
          if (x >= 130 && x < 200 && y >= 60 && y < 170) {
            const stripe = (y - 60) % 12 < 3;
            r = stripe ? 60 : 235 - (x - 130) * 0.5;
            g = stripe ? 40 : 200 - (y - 60) * 0.3;
            bl = stripe ? 30 : 40;
          }
          const i = (y * SIZE + x) * 3;
          b[i] = clampByte(r + Math.floor(rng() * 17) - 8);
          b[i + 1] = clampByte(g + Math.floor(rng() * 17) - 8);
          b[i + 2] = clampByte(bl + Math.floor(rng() * 17) - 8);
        }
      }
      return b;
    },
  },
];

function fnv1a(bytes) {
  let h = 0x811c9dc5;
  for (let i = 0; i < bytes.length; i++) {
    h ^= bytes[i];
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h.toString(16).padStart(8, '0');
}

/** float32 -> shortest decimal that round-trips through float32 (<= 9 significant digits). */

module.exports = { SIZE, RECIPES, mulberry32, fnv1a };
