import * as fs from 'node:fs/promises';
import { type ProjectionSpec, projectionFileBytes } from './manifest.js';

/** A projection's numbers (format: {@link ProjectionSpec}). */
export interface Projection {
  inputDim: number;
  outputDim: number;
  /** Subtracted from the L2-normalised input; length inputDim. */
  mean: Float32Array;
  /** Row-major inputDim x outputDim: output j = sum over i of (input i - mean i) * matrix[i * outputDim + j]. */
  matrix: Float32Array;
}

/** Reads a checked projection file (loadManifest checked its size and hash). */
export async function readProjection(spec: ProjectionSpec & { path: string }): Promise<Projection> {
  const { inputDim, outputDim } = spec;
  const bytes = await fs.readFile(spec.path);
  if (bytes.length !== projectionFileBytes(inputDim, outputDim)) {
    throw new Error(`projection ${spec.path} has ${bytes.length} bytes, expected ${projectionFileBytes(inputDim, outputDim)}`);
  }
  return projectionFromBytes(bytes, inputDim, outputDim);
}

/** Decodes the projection file format (little-endian float32: mean, then the matrix). */
export function projectionFromBytes(bytes: Uint8Array, inputDim: number, outputDim: number): Projection {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const all = new Float32Array(inputDim + inputDim * outputDim);
  for (let i = 0; i < all.length; i++) all[i] = view.getFloat32(i * 4, true);
  return { inputDim, outputDim, mean: all.subarray(0, inputDim), matrix: all.subarray(inputDim) };
}

/** Encodes a projection in the file format of {@link ProjectionSpec}. */
export function projectionToBytes(p: Projection): Buffer {
  if (p.mean.length !== p.inputDim || p.matrix.length !== p.inputDim * p.outputDim) {
    throw new RangeError(`projection: mean has ${p.mean.length} values and matrix ${p.matrix.length}, expected ${p.inputDim} and ${p.inputDim} x ${p.outputDim}`);
  }
  const out = Buffer.alloc(projectionFileBytes(p.inputDim, p.outputDim));
  p.mean.forEach((v, i) => out.writeFloatLE(v, i * 4));
  const base = p.inputDim * 4;
  p.matrix.forEach((v, i) => out.writeFloatLE(v, base + i * 4));
  return out;
}

/** Each matrix transposed (outputDim rows of inputDim), made once: output j is then one contiguous dot product. */
const transposed = new WeakMap<Float32Array, Float32Array>();

function columnsOf(p: Projection): Float32Array {
  let t = transposed.get(p.matrix);
  if (!t) {
    const { inputDim: n, outputDim: m, matrix } = p;
    t = new Float32Array(n * m);
    for (let i = 0; i < n; i++) for (let j = 0; j < m; j++) t[j * n + i] = matrix[i * m + j];
    transposed.set(p.matrix, t);
  }
  return t;
}

/**
 * (normalise(x) - mean) . matrix for one network output `x` (not normalised again: the embedder
 * L2-normalises the result as it does every embedding).
 */
export function applyProjection(p: Projection, x: Float32Array): Float32Array {
  return applyProjectionToRows(p, [x])[0];
}

/**
 * {@link applyProjection} for several outputs at once: each column of the matrix is read once for
 * all of them (the matrix, 12.8 MB at 1792 x 1792, does not fit in cache).
 */
export function applyProjectionToRows(p: Projection, rows: readonly Float32Array[]): Float32Array[] {
  const n = p.inputDim;
  const centred = rows.map((x) => {
    if (x.length !== n) throw new RangeError(`projection wants ${n} values, received ${x.length}`);
    let s = 0;
    for (let i = 0; i < n; i++) s += x[i] * x[i];
    const inv = s > 0 ? 1 / Math.sqrt(s) : 0;
    const c = new Float32Array(n);
    for (let i = 0; i < n; i++) c[i] = x[i] * inv - p.mean[i];
    return c;
  });
  const cols = columnsOf(p);
  const outs = rows.map(() => new Float32Array(p.outputDim));
  const n4 = n - (n % 4);
  for (let j = 0; j < p.outputDim; j++) {
    const base = j * n;
    for (let r = 0; r < centred.length; r++) {
      const c = centred[r];
      let a0 = 0;
      let a1 = 0;
      let a2 = 0;
      let a3 = 0;
      let i = 0;
      for (; i < n4; i += 4) {
        a0 += c[i] * cols[base + i];
        a1 += c[i + 1] * cols[base + i + 1];
        a2 += c[i + 2] * cols[base + i + 2];
        a3 += c[i + 3] * cols[base + i + 3];
      }
      for (; i < n; i++) a0 += c[i] * cols[base + i];
      outs[r][j] = a0 + a1 + a2 + a3;
    }
  }
  return outs;
}
