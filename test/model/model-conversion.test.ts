/**
 * The committed ONNX conversion of the pretrained MobileNetV2 1.4 feature extractor
 * (models/mobilenet_v2_140/model.onnx, built by `make model` from the TF.js graph in nsfwjs)
 * must reproduce the original TF.js model's pooled 1792-d features.
 *
 * Reference: test/fixtures/model/tfjs-reference.json, written by
 * models/convert/record-tfjs-reference.js (TF.js 4.22 pure-JS CPU backend). The four inputs are
 * regenerated here from the same recipes; their byte hashes prove they are identical.
 *
 * Measured when written: max abs diff 1.23e-5 over all 4x1792 values (float32 weights; the
 * embeddings' L2 norms are 16-23), cosine 1.00000000 for every case. Tolerances: 1e-3 / 0.9999.
 */
import * as fs from 'fs';
import * as path from 'path';
import * as ort from 'onnxruntime-node';
import * as referenceInputs from '../../models/convert/reference-inputs.js';

// onnxruntime-node output arrays come from Node's main realm: test/jest-environment.js makes
// instanceof checks accept them.

const ROOT = path.join(__dirname, '..', '..');
const MODEL_DIR = path.join(ROOT, 'models', 'mobilenet_v2_140');
const MODEL = path.join(MODEL_DIR, 'model.onnx');
const REFERENCE = path.join(__dirname, '..', 'fixtures', 'model', 'tfjs-reference.json');
const SIZE = 224;
const DIM = 1792;

interface ReferenceCase {
  name: string;
  recipe: string;
  fnv1a: string;
  embedding: number[];
  logits: number[];
  softmax: number[];
}
interface Reference {
  featureNode: string;
  input: { size: number };
  cases: ReferenceCase[];
}

// The inputs' recipes are shared with the recording script.
const RECIPES = Object.fromEntries(referenceInputs.RECIPES.map((r) => [r.name, r.make]));
const { fnv1a } = referenceInputs;

/** HWC RGB bytes of several images -> NCHW float32 in [0,1] (pixel/255), the model's input. */
function toNCHW(images: Uint8Array[]): Float32Array {
  const out = new Float32Array(images.length * 3 * SIZE * SIZE);
  images.forEach((b, n) => {
    for (let y = 0; y < SIZE; y++) {
      for (let x = 0; x < SIZE; x++) {
        for (let c = 0; c < 3; c++) out[((n * 3 + c) * SIZE + y) * SIZE + x] = b[(y * SIZE + x) * 3 + c] / 255;
      }
    }
  });
  return out;
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]));
  return d;
}
function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let ab = 0;
  let aa = 0;
  let bb = 0;
  for (let i = 0; i < a.length; i++) {
    ab += a[i] * b[i];
    aa += a[i] * a[i];
    bb += b[i] * b[i];
  }
  return ab / Math.sqrt(aa * bb);
}

describe('MobileNetV2 1.4 ONNX conversion vs the original TF.js model', () => {
  const reference: Reference = JSON.parse(fs.readFileSync(REFERENCE, 'utf8'));
  let session: ort.InferenceSession;
  let images: Uint8Array[];

  beforeAll(async () => {
    session = await ort.InferenceSession.create(MODEL, { intraOpNumThreads: 2, interOpNumThreads: 1 });
    images = reference.cases.map((c) => {
      const make = RECIPES[c.name];
      if (!make) throw new Error(`no recipe for reference case ${c.name}`);
      return make();
    });
  });

  afterAll(async () => {
    await session?.release();
  });

  it('regenerates exactly the inputs the reference was recorded on', () => {
    expect(reference.input.size).toBe(SIZE);
    expect(reference.cases.map((c) => c.name)).toEqual(['noise', 'hgradient', 'gray', 'scene']);
    expect(images.map(fnv1a)).toEqual(reference.cases.map((c) => c.fnv1a));
    for (const c of reference.cases) expect(c.embedding).toHaveLength(DIM);
  });

  it('has the documented interface: image [N,3,224,224] -> embedding [N,1792]', () => {
    expect(session.inputNames).toEqual(['image']);
    expect(session.outputNames).toEqual(['embedding']);
    const manifest = JSON.parse(fs.readFileSync(path.join(MODEL_DIR, 'manifest.json'), 'utf8'));
    expect(manifest.file).toBe('model.onnx');
    expect(manifest.input.name).toBe('image');
    expect(manifest.input.size).toBe(SIZE);
    expect(manifest.outputs.embedding).toBe('embedding');
    expect(manifest.embeddingDim).toBe(DIM);
  });

  it('matches the TF.js pooled features for a batch of 4 (max abs diff < 1e-3, cosine > 0.9999)', async () => {
    const n = images.length;
    const out = await session.run({ image: new ort.Tensor('float32', toNCHW(images), [n, 3, SIZE, SIZE]) });
    const emb = out.embedding;
    expect(emb.type).toBe('float32');
    expect(emb.dims).toEqual([n, DIM]);
    const data = emb.data as Float32Array;
    const rows = reference.cases.map((c, k) => data.subarray(k * DIM, (k + 1) * DIM));
    const diffs = rows.map((row, k) => maxAbsDiff(row, reference.cases[k].embedding));
    const cosines = rows.map((row, k) => cosine(row, reference.cases[k].embedding));
    console.log(
      reference.cases.map((c, k) => `${c.name}: maxdiff ${diffs[k].toExponential(2)} cos ${cosines[k].toFixed(8)}`).join('\n'),
    );
    rows.forEach((row, k) => {
      const [diff, cos] = [diffs[k], cosines[k]];
      expect(diff).toBeLessThan(1e-3);
      expect(cos).toBeGreaterThan(0.9999);
      // features after ReLU6 + average pooling are in [0,6]; not L2-normalised
      expect(Math.min(...row)).toBeGreaterThanOrEqual(0);
      expect(Math.max(...row)).toBeLessThanOrEqual(6);
      expect(Math.hypot(...row)).toBeGreaterThan(2);
    });
    // The tolerance is meaningful: the 4 references are far apart from one another, so a
    // wrong node, a wrong pre-processing or a channel/layout mix-up would not pass.
    for (let i = 0; i < n; i++) {
      for (let j = i + 1; j < n; j++) {
        expect(maxAbsDiff(reference.cases[i].embedding, reference.cases[j].embedding)).toBeGreaterThan(0.1);
      }
    }
  });

  it('supports a dynamic batch: batch 1 also reproduces the reference', async () => {
    const k = 3; // scene
    const one = await session.run({ image: new ort.Tensor('float32', toNCHW([images[k]]), [1, 3, SIZE, SIZE]) });
    expect(one.embedding.dims).toEqual([1, DIM]);
    const row = one.embedding.data as Float32Array;
    expect(maxAbsDiff(row, reference.cases[k].embedding)).toBeLessThan(1e-3);
    expect(cosine(row, reference.cases[k].embedding)).toBeGreaterThan(0.9999);
  });
});
