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

/**
 * (normalise(x) - mean) . matrix for one network output `x` (not normalised again: the embedder
 * L2-normalises the result as it does every embedding).
 */
export function applyProjection(p: Projection, x: Float32Array): Float32Array {
  if (x.length !== p.inputDim) throw new RangeError(`projection wants ${p.inputDim} values, received ${x.length}`);
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i] * x[i];
  const inv = s > 0 ? 1 / Math.sqrt(s) : 0;
  const { outputDim: m, matrix, mean } = p;
  const acc = new Float64Array(m);
  for (let i = 0; i < p.inputDim; i++) {
    const c = x[i] * inv - mean[i];
    if (c === 0) continue;
    const row = i * m;
    for (let j = 0; j < m; j++) acc[j] += c * matrix[row + j];
  }
  return Float32Array.from(acc);
}
