/**
 * Small deterministic pseudo-random helpers for the photo simulator, the demo image generator and the
 * index's synthetic vectors.
 *
 * Everything in `src/simulate` and `src/demo` draws randomness from an {@link Rng} so that the
 * same seed always yields the same watches, backgrounds and simulated photos.
 */

// Local aliases: global `Math` lookups are slow in hot loops under some hosts (e.g. jest's vm sandbox).
const { floor, imul } = Math;

/** A deterministic pseudo-random source returning floats in `[0, 1)`. */
export type Rng = () => number;

/**
 * A numeric knob: either a fixed value, or an inclusive `[min, max]` range
 * from which a value is drawn uniformly with an {@link Rng}.
 */
export type Knob = number | readonly [number, number];

/**
 * mulberry32 on a 32-bit state: small, fast and deterministic. The plain generator, for callers that
 * fold their own integer seeds (the index bench and crash test); `seed` is taken modulo 2^32.
 */
export function mulberry32(seed: number): Rng {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = imul(t ^ (t >>> 15), t | 1);
    t ^= t + imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Creates a seeded pseudo-random generator (mulberry32 on a scrambled seed).
 *
 * @param seed any finite number; non-integers are folded into 32 bits.
 * @returns a function returning uniformly distributed floats in `[0, 1)`.
 */
export function createRng(seed: number): Rng {
  return mulberry32(toUint32(seed) ^ 0x9e3779b9);
}

/**
 * Draws a float uniformly from `[min, max)`.
 *
 * @param rng the random source.
 * @param min lower bound (inclusive).
 * @param max upper bound (exclusive).
 */
export function range(rng: Rng, min: number, max: number): number {
  return min + (max - min) * rng();
}

/**
 * Draws an integer uniformly from `[min, max]` (both inclusive).
 *
 * @param rng the random source.
 * @param min lower bound (inclusive).
 * @param max upper bound (inclusive).
 */
export function intRange(rng: Rng, min: number, max: number): number {
  return min + floor(rng() * (max - min + 1));
}

/**
 * Picks one element uniformly.
 *
 * @param rng the random source.
 * @param items a non-empty list.
 * @throws Error when `items` is empty.
 */
export function pick<T>(rng: Rng, items: readonly T[]): T {
  if (items.length === 0) throw new Error('pick: empty list');
  return items[floor(rng() * items.length)] as T;
}

/**
 * Returns `true` with probability `p`.
 *
 * @param rng the random source.
 * @param p probability in `[0, 1]`.
 */
export function chance(rng: Rng, p: number): boolean {
  return rng() < p;
}

/**
 * Resolves a {@link Knob}: a fixed number is returned as is, a range is sampled.
 *
 * The rng is consumed exactly once either way, so later draws do not shift
 * when one knob is pinned to a fixed value.
 *
 * @param rng the random source.
 * @param knob a fixed value or an inclusive `[min, max]` range.
 */
export function sampleKnob(rng: Rng, knob: Knob): number {
  const u = rng();
  if (typeof knob === 'number') return knob;
  return knob[0] + (knob[1] - knob[0]) * u;
}

/**
 * Hashes bytes into a 32-bit seed (FNV-1a), e.g. to derive a per-image rng.
 *
 * @param data the bytes to hash.
 */
export function hashBytes(data: Uint8Array): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < data.length; i++) {
    h ^= data[i] as number;
    h = imul(h, 0x01000193);
  }
  return h >>> 0;
}

function toUint32(seed: number): number {
  if (!Number.isFinite(seed)) throw new Error(`createRng: seed must be finite, got ${seed}`);
  if (Number.isInteger(seed)) return seed >>> 0;
  // Fold the float's bits so that e.g. 0.1 and 0.2 give different streams.
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, seed);
  return (view.getUint32(0) ^ imul(view.getUint32(4), 0x85ebca6b)) >>> 0;
}
