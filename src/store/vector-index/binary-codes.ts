/**
 * Binary codes for Hamming search: each vector is rotated by a fixed, seeded random orthogonal
 * transform (random sign flips then a fast Walsh-Hadamard transform, twice; zero-padded to a power
 * of two) and each rotated coordinate gives one sign bit. Several independent rotations are
 * concatenated to reach the requested number of bits (~1,000 bits from a 256-d embedding, as the
 * issue's advisers suggested). The Hamming distance between two codes then estimates the angle
 * between the vectors (SimHash with a structured, O(d log d) rotation instead of a dense d x bits
 * Gaussian matrix, which would cost 262k multiply-adds per 256-d vector at 1,024 bits).
 */
export class BinaryCoder {
  /** Padded dimension (a power of two). */
  readonly padDim: number;
  /** Independent rotations; bits = padDim x rotations. */
  readonly rotations: number;
  readonly bits: number;
  /** Bytes per code once packed (what the index stores). */
  readonly bytes: number;
  private readonly signs: Int8Array[];
  private readonly work: Float32Array;

  constructor(readonly dim: number, targetBits: number, readonly seed = 0x7417_1e45) {
    let p = 1;
    while (p < dim) p *= 2;
    this.padDim = p;
    this.rotations = Math.max(1, Math.round(targetBits / p));
    this.bits = this.padDim * this.rotations;
    this.bytes = this.bits / 8;
    // Two rounds of (signs, FWHT) per rotation mix better than one.
    this.signs = [];
    let s = seed >>> 0;
    for (let r = 0; r < this.rotations * 2; r++) {
      const v = new Int8Array(p);
      for (let i = 0; i < p; i++) {
        // xorshift32: deterministic across runs and machines (the codes are persisted).
        s ^= s << 13;
        s >>>= 0;
        s ^= s >>> 17;
        s ^= s << 5;
        s >>>= 0;
        v[i] = s & 1 ? 1 : -1;
      }
      this.signs.push(v);
    }
    this.work = new Float32Array(p);
  }

  /**
   * Writes the code of `v` into `out` from `offset`, one element per bit (0 or 1): usearch's
   * JavaScript binding takes b1 vectors as one float per bit and packs them itself.
   */
  encodeInto(v: Float32Array, out: Float32Array, offset = 0): void {
    const p = this.padDim;
    const w = this.work;
    for (let r = 0; r < this.rotations; r++) {
      w.fill(0);
      w.set(v.length <= p ? v : v.subarray(0, p));
      for (let round = 0; round < 2; round++) {
        const sg = this.signs[r * 2 + round];
        for (let i = 0; i < p; i++) w[i] *= sg[i];
        fwht(w);
      }
      const base = offset + r * p;
      for (let i = 0; i < p; i++) out[base + i] = w[i] > 0 ? 1 : 0;
    }
  }

  /** The code of `v`, one element (0 or 1) per bit. */
  encode(v: Float32Array): Float32Array {
    const out = new Float32Array(this.bits);
    this.encodeInto(v, out, 0);
    return out;
  }
}

/** In-place unnormalised fast Walsh-Hadamard transform (length a power of two). */
function fwht(a: Float32Array): void {
  for (let h = 1; h < a.length; h *= 2) {
    for (let i = 0; i < a.length; i += h * 2) {
      for (let j = i; j < i + h; j++) {
        const x = a[j];
        const y = a[j + h];
        a[j] = x + y;
        a[j + h] = x - y;
      }
    }
  }
}
