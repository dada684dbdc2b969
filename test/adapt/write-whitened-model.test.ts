/** End to end: fit a whitening on features, write it as a model folder, load it through loadManifest + OnnxEmbedder. */
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { AdaptError, fitWhitening, writeWhitenedModel } from '../../src/adapt/index.js';
import type { DecodedImage } from '../../src/imaging/index.js';
import { applyProjection, l2Normalize, loadManifest, OnnxEmbedder } from '../../src/model/index.js';

const FIXTURE = path.join(__dirname, '..', 'fixtures', 'tiny-twin', 'manifest.json');
const options = { providers: ['cpu' as const], intraOpThreads: 1, maxBatchSize: 1, maxBatchWaitMs: 0 };

let dir: string;
beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'twinlens-whitened-'));
});
afterAll(() => fs.rm(dir, { recursive: true, force: true }));

function solid(r: number, g: number, b: number): DecodedImage {
  const rgb = new Uint8Array(224 * 224 * 3);
  for (let i = 0; i < rgb.length; i += 3) rgb.set([r, g, b], i);
  return { rgb, size: 224, sourceWidth: 224, sourceHeight: 224, format: 'png' };
}

/** Two "items" (reddish and bluish solid colours), three shades each, embedded by the tiny twin's raw network. */
async function features(embedder: OnnxEmbedder): Promise<{ itemId: string; members: Float32Array[] }[]> {
  const red = await embedder.embedBatch([solid(200, 40, 30), solid(180, 60, 20), solid(220, 50, 60)]);
  const blue = await embedder.embedBatch([solid(30, 40, 200), solid(50, 70, 190), solid(20, 30, 230)]);
  return [
    { itemId: 'red', members: red.map((f) => f.embedding) },
    { itemId: 'blue', members: blue.map((f) => f.embedding) },
  ];
}

test.each(['copy', 'reference'] as const)('a whitening fitted on raw features loads and serves as a new model version (%s)', async (mode) => {
  const base = await loadManifest(FIXTURE);
  const raw = await OnnxEmbedder.create(base, options);
  const outDir = path.join(dir, mode);
  try {
    const whitening = fitWhitening(await features(raw));
    const { manifestPath, version } = await writeWhitenedModel({
      baseManifestPath: FIXTURE,
      projection: whitening,
      outDir,
      version: `tiny-whitened-${mode}`,
      baseModelFile: mode,
      provenance: { members: whitening.members },
    });
    expect(version).toBe(`tiny-whitened-${mode}`);
    const m = await loadManifest(manifestPath);
    expect(m).toMatchObject({ version, embeddingDim: 3, pairHead: null, localFeatures: base.localFeatures, threshold: base.threshold });
    expect(m.projection).toMatchObject({ file: 'projection.f32', inputDim: 3, outputDim: 3, provenance: { members: 6 } });
    expect(m.projection!.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(m.training).toMatchObject({ baseManifest: base.manifestPath, baseVersion: base.version });
    expect(m.modelPath).toBe(mode === 'copy' ? path.join(outDir, 'embedder.onnx') : base.modelPath);
    expect(await fs.readFile(path.join(outDir, 'README.md'), 'utf8')).toContain('within-item whitening');

    const whitened = await OnnxEmbedder.create(m, options);
    try {
      expect(whitened.modelVersion).toBe(version);
      const image = solid(120, 90, 140);
      const [x] = await raw.embedBatch([image]);
      const [y] = await whitened.embedBatch([image]);
      const expected = l2Normalize(applyProjection(whitening, x.embedding));
      expect(Array.from(y.embedding)).toEqual(Array.from(expected).map((v) => expect.closeTo(v, 5)));
    } finally {
      await whitened.close();
    }
  } finally {
    await raw.close();
  }
});

describe('writeWhitenedModel refuses', () => {
  const projection = { inputDim: 3, outputDim: 3, mean: new Float32Array(3), matrix: Float32Array.from([1, 0, 0, 0, 1, 0, 0, 0, 1]) };
  it('a projection of another length than the base output', async () => {
    await expect(
      writeWhitenedModel({ baseManifestPath: FIXTURE, projection: { ...projection, inputDim: 2 }, outDir: path.join(dir, 'x'), version: 'v2' }),
    ).rejects.toThrow(new AdaptError('projection takes 2 values, the base model gives 3'));
  });
  it("the base's own version", async () => {
    const base = await loadManifest(FIXTURE);
    await expect(writeWhitenedModel({ baseManifestPath: FIXTURE, projection, outDir: path.join(dir, 'y'), version: base.version })).rejects.toThrow(
      AdaptError,
    );
  });
  it('a base that already has a projection', async () => {
    const { manifestPath } = await writeWhitenedModel({ baseManifestPath: FIXTURE, projection, outDir: path.join(dir, 'z'), version: 'v-once' });
    await expect(writeWhitenedModel({ baseManifestPath: manifestPath, projection, outDir: path.join(dir, 'w'), version: 'v-twice' })).rejects.toThrow(
      /already has a projection; fit on and write from the raw model/,
    );
  });
});
