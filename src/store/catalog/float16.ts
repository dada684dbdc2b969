/**
 * IEEE 754 half-precision packing for stored local feature maps. Hand-written rather than
 * @petamoriken/float16: its Float16Array reads every element through a Proxy, and the rerank
 * unpacks a whole shortlist (50 x 6,272 values) per query; here unpacking is one table load per value.
 */

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** The float16 bit pattern nearest to `x` (round half to even; overflow to infinity; NaN kept). */
export function float16Bits(x: number): number {
  f32[0] = x;
  const b = u32[0];
  const sign = (b >>> 16) & 0x8000;
  const exp = (b >>> 23) & 0xff;
  const mant = b & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0); // Inf or NaN
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00; // too large: infinity
  if (e <= 0) {
    if (e < -10) return sign; // below the smallest subnormal: zero
    const m = mant | 0x800000; // subnormal half: shift the implicit 1 in
    const shift = 14 - e;
    const half = 1 << (shift - 1);
    const rest = m & ((1 << shift) - 1);
    let h = m >>> shift;
    if (rest > half || (rest === half && h & 1)) h++;
    return sign | h;
  }
  let h = (e << 10) | (mant >>> 13);
  const rest = mant & 0x1fff;
  if (rest > 0x1000 || (rest === 0x1000 && h & 1)) h++; // may carry into the exponent: still right
  return sign | h;
}

/** float32 value of every float16 bit pattern: 256 KiB, built on first use. */
let table: Float32Array | undefined;

function halfTable(): Float32Array {
  if (table) return table;
  table = new Float32Array(65536);
  for (let h = 0; h < 65536; h++) {
    const sign = h & 0x8000 ? -1 : 1;
    const e = (h >>> 10) & 0x1f;
    const m = h & 0x3ff;
    table[h] = e === 0 ? sign * m * 2 ** -24 : e === 0x1f ? (m ? NaN : sign * Infinity) : sign * (1 + m / 1024) * 2 ** (e - 15);
  }
  return table;
}

/** Packs float32 values as float16 (half the bytes; relative error at most 2^-11 in the normal range). */
export function toFloat16(values: Float32Array): Uint16Array {
  const out = new Uint16Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = float16Bits(values[i]);
  return out;
}

/** Unpacks float16 bit patterns to float32, into `out` when given. */
export function fromFloat16(halves: Uint16Array, out: Float32Array = new Float32Array(halves.length)): Float32Array {
  const t = halfTable();
  for (let i = 0; i < halves.length; i++) out[i] = t[halves[i]];
  return out;
}
