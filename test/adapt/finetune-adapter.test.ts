/**
 * The finetune example adapter's cheap paths (no training): its epoch and hold-out sizing, a server
 * with too few confirmed photos that learns nothing and says why, and how a learned version's kept
 * pair head serves. The training path itself runs in
 * test/server/adapt-finetune.slow.test.ts.
 */
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { epochsFor, trainerHoldout } from '../../src/adapt/finetune-adapter.js';
import { PACKAGE_ROOT } from '../../src/config/index.js';
import { ExampleLabel } from '../../src/gen/twinlens/v1/twinlens.js';
import { patternImage } from '../helpers/images.js';
import { makeTempDir, startTestServer } from '../helpers/server.js';
import { addExamples } from '../helpers/examples.js';

test('small example sets get more epochs, so that training takes at least minSteps steps', () => {
  // train.py: an epoch is 85% of the photos over 72 views per step.
  expect(epochsFor(64, 60)).toBe(60); // one step per epoch
  expect(epochsFor(2112, 60)).toBe(6); // 24 steps per epoch: the trainer's own 6 epochs give 144
  expect(epochsFor(600, 60)).toBeCloseTo(60 / 7);
});

test('too few confirmed photos: nothing is trained, and the reason says so', async () => {
  const server = await startTestServer({ exampleAdapter: 'finetune' });
  try {
    const base = (await server.rpc.getServiceInfo()).modelVersion;
    await server.rpc.upsertItems([{ itemId: 'item-0', image: await patternImage(0), metadata: {} }]);
    await addExamples(server.catalog, [{ itemId: 'item-0', image: await patternImage(7), label: ExampleLabel.EXAMPLE_LABEL_SAME }]);
    const outcome = await server.server.adaptFromExamples({ budgetMs: 60_000 });
    expect(outcome).toEqual({ adapted: false, reason: '1 SAME examples; the finetune adapter needs at least 20' });
    expect(await server.rpc.getServiceInfo()).toMatchObject({ modelVersion: base, pairHeadDecision: '' });
  } finally {
    await server.stop();
  }
});

test("the trainer's own hold-out grows for few photos per item, so that it validates on something", () => {
  const photos = (perItem: number[]) => perItem.flatMap((n, i) => Array.from({ length: n }, () => ({ itemId: `item-${i}` })));
  expect(trainerHoldout(photos([33, 30, 35]))).toBe(0.15); // the trainer's default
  expect(trainerHoldout(photos([2, 2, 3]))).toBeCloseTo(0.3); // round(2 x 0.3) = round(3 x 0.3) = 1
  expect(trainerHoldout(photos([1, 1, 2]))).toBeNull(); // one item with two photos: nothing to validate on
});

test("a learned version's pair head serves when its held-out check kept it, even with usePairHead off; otherwise only when asked for", async () => {
  const dir = await makeTempDir();
  try {
    const bundled = path.join(PACKAGE_ROOT, 'models', 'twinlens_generic_v1');
    const shipped = JSON.parse(await fs.readFile(path.join(bundled, 'manifest.json'), 'utf8'));
    const write = async (name: string, training: Record<string, unknown>) => {
      const manifest = {
        ...shipped,
        version: `twinlens-generic-v1+${name}`,
        file: path.join(bundled, shipped.file),
        pairHead: { ...shipped.pairHead, file: path.join(bundled, shipped.pairHead.file) },
        training,
      };
      await fs.writeFile(path.join(dir, `${name}.json`), JSON.stringify(manifest));
      return path.join(dir, `${name}.json`);
    };
    const kept = await write('kept', { learnedOver: 'twinlens-generic-v1', pairHeadDecision: 'on: it reranks held-out confirmed photos to Recall@1 0.6, the cosine order 0.5' });
    const plain = await write('plain', {});
    for (const [modelManifest, usePairHead, hasPairHead, decision] of [
      [kept, false, true, 'on: it reranks held-out confirmed photos to Recall@1 0.6, the cosine order 0.5'],
      [plain, false, false, ''],
      [plain, true, true, ''],
    ] as const) {
      const server = await startTestServer({ modelManifest, usePairHead, dataDir: path.join(dir, `data-${path.basename(modelManifest)}-${usePairHead}`) });
      try {
        expect(await server.rpc.getServiceInfo()).toMatchObject({ hasPairHead, pairHeadDecision: decision });
      } finally {
        await server.stop();
      }
    }
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
});
