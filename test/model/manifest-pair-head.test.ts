/** loadManifest's checks of local features and the pair head (the old manifest shape keeps loading unchanged). */
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadManifest } from '../../src/model/index.js';

const FIXTURE = path.join(__dirname, '..', 'fixtures', 'tiny-twin', 'manifest.json');
const BUNDLED = path.join(__dirname, '..', '..', 'models', 'mobilenet_v2_140', 'manifest.json');

let dir: string;
beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'twinlens-manifest-'));
  for (const f of ['embedder.onnx', 'pair_head.onnx']) await fs.copyFile(path.join(path.dirname(FIXTURE), f), path.join(dir, f));
});
afterAll(() => fs.rm(dir, { recursive: true, force: true }));

/** Writes the fixture's manifest with `change` applied and loads it. */
async function loadChanged(change: (m: Record<string, any>) => void): Promise<unknown> {
  const m = JSON.parse(await fs.readFile(FIXTURE, 'utf8'));
  change(m);
  const file = path.join(dir, 'manifest.json');
  await fs.writeFile(file, JSON.stringify(m));
  return loadManifest(file);
}

test('a model with local features and a pair head loads with resolved paths', async () => {
  const m = await loadManifest(FIXTURE);
  expect(m.localFeatures).toEqual({ channels: 3, height: 7, width: 7 });
  expect(m.pairHead).toMatchObject({ file: 'pair_head.onnx', threshold: 0.5, path: path.join(path.dirname(FIXTURE), 'pair_head.onnx') });
});

test('the bundled model without local features or head loads as before', async () => {
  const m = await loadManifest(BUNDLED);
  expect(m.pairHead).toBeNull();
  expect(m.localFeatures).toBeNull();
  expect(m.outputs).toEqual({ embedding: 'embedding' });
});

describe('bad pair-head manifests fail with a message naming the field', () => {
  test.each<[string, (m: Record<string, any>) => void, RegExp]>([
    ['pair head without local features', (m) => { delete m.localFeatures; delete m.outputs.localFeatures; }, /pairHead is set, but the model has no local features/],
    ['local shape without output name', (m) => delete m.outputs.localFeatures, /outputs.localFeatures must name/],
    ['output name without shape', (m) => delete m.localFeatures, /localFeatures must give its shape/],
    ['zero channels', (m) => (m.localFeatures.channels = 0), /localFeatures.channels must be a positive integer, received 0/],
    ['threshold out of (0,1)', (m) => (m.pairHead.threshold = 1.5), /pairHead.threshold is a probability .* received 1.5/],
    ['threshold missing', (m) => delete m.pairHead.threshold, /pairHead.threshold/],
    ['missing head file', (m) => (m.pairHead.file = 'nope.onnx'), /pairHead.file 'nope.onnx' does not exist/],
    ['missing input names', (m) => (m.pairHead.inputs = { query: 'q' }), /pairHead.inputs must name both inputs/],
    ['same input twice', (m) => (m.pairHead.inputs = { query: 'q', candidate: 'q' }), /must name different inputs/],
    ['missing output', (m) => delete m.pairHead.output, /pairHead.output must name the logit output/],
    ['cosine input named like another', (m) => (m.pairHead.inputs.cosine = 'query_local'), /must name different inputs/],
    ['cosine input not a name', (m) => (m.pairHead.inputs.cosine = 3), /pairHead.inputs.cosine, when set, must name/],
  ])('%s', async (_name, change, message) => {
    await expect(loadChanged(change)).rejects.toThrow(message);
  });
});
