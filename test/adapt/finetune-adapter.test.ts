/**
 * The finetune example adapter's cheap paths (no training): its epoch sizing, and a server with too
 * few confirmed photos that learns nothing and says why. The training path itself runs in
 * test/server/adapt-finetune.slow.test.ts.
 */
import { epochsFor } from '../../src/adapt/finetune-adapter.js';
import { ExampleLabel } from '../../src/gen/twinlens/v1/twinlens.js';
import { patternImage } from '../helpers/images.js';
import { startTestServer } from '../helpers/server.js';
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
