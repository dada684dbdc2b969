/** A manifest projection: loadManifest's checks, the file format, and the embedder applying it. */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import type { DecodedImage } from '../../src/imaging/index.js';
import { loadManifest, OnnxEmbedder, type Projection, projectionFromBytes, projectionToBytes } from '../../src/model/index.js';

const FIXTURE = path.join(__dirname, '..', 'fixtures', 'tiny-twin', 'manifest.json');

/** 3 -> 2: mean and a row-major 3 x 2 matrix. */
const PROJECTION: Projection = {
  inputDim: 3,
  outputDim: 2,
  mean: Float32Array.from([0.1, 0.2, 0.3]),
  matrix: Float32Array.from([1, 2, -1, 0.5, 0.25, -3]),
};

let dir: string;
beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'twinlens-projection-'));
  for (const f of ['embedder.onnx', 'pair_head.onnx']) await fs.copyFile(path.join(path.dirname(FIXTURE), f), path.join(dir, f));
  await fs.writeFile(path.join(dir, 'projection.f32'), projectionToBytes(PROJECTION));
});
afterAll(() => fs.rm(dir, { recursive: true, force: true }));

/** Writes the fixture's manifest with a 3 -> 2 projection and `change` applied; returns its path. */
async function writeManifest(change: (m: Record<string, any>) => void = () => undefined): Promise<string> {
  const m = JSON.parse(await fs.readFile(FIXTURE, 'utf8'));
  m.embeddingDim = 2;
  m.projection = { file: 'projection.f32', inputDim: 3, outputDim: 2 };
  change(m);
  const file = path.join(dir, 'manifest.json');
  await fs.writeFile(file, JSON.stringify(m));
  return file;
}

function solid(r: number, g: number, b: number): DecodedImage {
  const rgb = new Uint8Array(224 * 224 * 3);
  for (let i = 0; i < rgb.length; i += 3) rgb.set([r, g, b], i);
  return { rgb, size: 224, sourceWidth: 224, sourceHeight: 224, format: 'png' };
}

test('the file format round-trips: little-endian float32 mean, then the row-major matrix', () => {
  const bytes = projectionToBytes(PROJECTION);
  expect(bytes.length).toBe((3 + 6) * 4);
  expect(bytes.readFloatLE(0)).toBeCloseTo(0.1, 7);
  expect(bytes.readFloatLE(3 * 4 + 5 * 4)).toBe(-3);
  const back = projectionFromBytes(bytes, 3, 2);
  expect(Array.from(back.mean)).toEqual(Array.from(PROJECTION.mean));
  expect(Array.from(back.matrix)).toEqual(Array.from(PROJECTION.matrix));
});

test('the embedder projects the network output: normalise((normalise(x) - mean) . matrix)', async () => {
  const options = { providers: ['cpu' as const], intraOpThreads: 1, maxBatchSize: 1, maxBatchWaitMs: 0 };
  const raw = await OnnxEmbedder.create(await loadManifest(FIXTURE), options);
  const projected = await OnnxEmbedder.create(await loadManifest(await writeManifest()), options);
  try {
    expect(projected.dim).toBe(2);
    const images = [solid(200, 100, 50), solid(10, 220, 90)];
    const [a, b] = await raw.embedBatch(images);
    const out = await projected.embedBatch(images);
    // The tiny twin's embedding is the mean colour (/255): (200,100,50) normalised is (4,2,1)/sqrt(21).
    expect(Array.from(a.embedding).map((v) => v * Math.sqrt(21))).toEqual([4, 2, 1].map((v) => expect.closeTo(v, 5)));
    for (const [i, x] of [a.embedding, b.embedding].entries()) {
      const c = [0, 1, 2].map((k) => x[k] - PROJECTION.mean[k]);
      const y = [0, 1].map((j) => c[0] * PROJECTION.matrix[j] + c[1] * PROJECTION.matrix[2 + j] + c[2] * PROJECTION.matrix[4 + j]);
      const n = Math.hypot(...y);
      expect(Array.from(out[i].embedding)).toEqual(y.map((v) => expect.closeTo(v / n, 5)));
      expect(out[i].local).toEqual([a, b][i].local); // local features are not projected
    }
    // embed (the batched path every service call takes) gives the same vector as embedBatch.
    expect(Array.from((await projected.embed(images[1])).embedding)).toEqual(Array.from(out[1].embedding));
  } finally {
    await raw.close();
    await projected.close();
  }
});

test('loadManifest resolves the projection file and checks its SHA-256 when given', async () => {
  const sha = createHash('sha256').update(await fs.readFile(path.join(dir, 'projection.f32'))).digest('hex');
  const m = await loadManifest(await writeManifest((m) => (m.projection.sha256 = sha)));
  expect(m.projection).toMatchObject({ inputDim: 3, outputDim: 2, path: path.join(dir, 'projection.f32') });
  expect((await loadManifest(FIXTURE)).projection).toBeNull();
});

describe('bad projections fail with a message naming the field', () => {
  test.each<[string, (m: Record<string, any>) => void, RegExp]>([
    ['outputDim differs from embeddingDim', (m) => (m.embeddingDim = 3), /projection.outputDim is 2, but embeddingDim is 3/],
    ['inputDim not an integer', (m) => (m.projection.inputDim = 2.5), /projection.inputDim must be a positive integer, received 2.5/],
    ['missing file', (m) => (m.projection.file = 'nope.f32'), /projection.file 'nope.f32' does not exist/],
    ['file of the wrong size', (m) => ((m.projection.inputDim = 4), (m.projection.outputDim = 2)), /has 36 bytes, expected 48/],
    ['SHA-256 mismatch', (m) => (m.projection.sha256 = '0'.repeat(64)), /has SHA-256 [0-9a-f]{64}, the manifest says 0{64}/],
    ['SHA-256 not hex', (m) => (m.projection.sha256 = 'abc'), /projection.sha256, when set, must be 64 hex digits/],
  ])('%s', async (_name, change, message) => {
    await expect(loadManifest(await writeManifest(change))).rejects.toThrow(message);
  });
});
