/**
 * The warm path's fine-tuning learner through the real server (exampleAdapter=finetune): confirmed
 * photos go in with AddExamples, models/training/train.py (Debian's PyTorch) fine-tunes the twin and
 * its pair head on all but a held-out fifth of them, the adapter measures the result on that fifth
 * (cosine, and the pair head reranking it, against the serving model), writes the version only when
 * it wins, keeps the pair head on only when the head beats the cosine order, and the version rolls in
 * through the background re-embed; GetServiceInfo says why the head is on or off; a restart keeps it.
 *
 * The photos are those of the whitening suite: each item's picture, small, on one of a few large
 * backgrounds shared by every item, so the serving model's cosine follows the background and a twin
 * trained on the confirmed pairs can learn to look past it.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { AddExamplesRequest, ExampleLabel, RankingStage } from '../../src/gen/twinlens/v1/twinlens.js';
import { patternImage, productOnBackground } from '../helpers/images.js';
import { makeTempDir, startTestServer, type TestServer } from '../helpers/server.js';
import { addExamples } from '../helpers/examples.js';

const ITEMS = 8;
const BACKGROUNDS = 8;
const OPTIONS = { exampleAdapter: 'finetune' } as const;
// Training, measuring and the re-embed on 2 cores: a few minutes quiet, more beside another job.
jest.setTimeout(900_000);

/** A confirmed photo of `item` on `background` (see productOnBackground). */
const photo = (item: number, background: number, shot = 0): Promise<Buffer> => productOnBackground(item, background, shot, 156);

async function fill(server: TestServer): Promise<void> {
  const items = await Promise.all(Array.from({ length: ITEMS }, async (_, i) => ({ itemId: `item-${i}`, image: await patternImage(i), metadata: {} })));
  expect((await server.rpc.upsertItems(items)).upserted).toBe(ITEMS);
  const examples: Partial<AddExamplesRequest>[] = [];
  for (let i = 0; i < ITEMS; i++) {
    for (let b = 0; b < BACKGROUNDS; b++) examples.push({ itemId: `item-${i}`, image: await photo(i, b), label: ExampleLabel.EXAMPLE_LABEL_SAME });
  }
  // A DIFFERENT label among them: stored, not trained on (the trainer's negatives are the other items).
  examples.push({ itemId: 'item-0', image: await photo(1, 0), label: ExampleLabel.EXAMPLE_LABEL_DIFFERENT });
  expect(await addExamples(server.catalog, examples)).toMatchObject({ added: ITEMS * BACKGROUNDS + 1, failed: 0 });
}

test('confirmed photos fine-tune the twin; the version that beats the serving model rolls in, says why its pair head is on or off, and survives a restart', async () => {
  const dataDir = await makeTempDir();
  let server: TestServer | undefined;
  try {
    server = await startTestServer({ ...OPTIONS, dataDir });
    const base = (await server.rpc.getServiceInfo()).modelVersion;
    await fill(server);
    const stages: string[] = [];
    const outcome = await server.server.adaptFromExamples({ budgetMs: 10 * 60_000, onProgress: (stage) => stages.includes(stage) || stages.push(stage) });
    expect(outcome).toMatchObject({ adapted: true, modelVersion: expect.stringContaining(`${base}+finetuned-${ITEMS * BACKGROUNDS}ex-`) });
    expect(stages).toEqual(expect.arrayContaining(['writing training views', 'training (train)', 'training (export)', 'fitting and measuring on held-out photos', 'rolling in']));
    // The held-out figures: the version is written only when it beats the serving model ...
    const m = /held-out (\d+) of 64 photos \(8 items\): Recall@1 ([\d.]+) fine-tuned cosine, ([\d.]+) its pair head vs ([\d.]+) serving/.exec(outcome.reason);
    expect(m).not.toBeNull();
    const [heldOut, cosine, head, serving] = m!.slice(1).map(Number);
    expect(heldOut).toBeGreaterThan(0);
    expect(Math.max(cosine, head)).toBeGreaterThan(serving); // here 0.429 (6 of 14) against 0.071
    // ... and its pair head serves only when it reranks them better than the cosine order.
    const headOn = head > cosine;
    const info = await server.rpc.getServiceInfo();
    expect(info).toMatchObject({ modelVersion: outcome.modelVersion, hasPairHead: headOn, embeddingDim: 256 });
    expect(info.pairHeadDecision).toMatch(headOn ? /^on: it reranks held-out confirmed photos to Recall@1 / : /^off: it reranks held-out confirmed photos to Recall@1 .* no better than the cosine order/);
    expect(outcome.reason).toContain(`pair head ${info.pairHeadDecision}`);
    const search = await server.rpc.search({ image: await photo(3, 2, 1), topK: 3 });
    expect(search).toMatchObject({ modelVersion: outcome.modelVersion, rankedBy: headOn ? RankingStage.RANKING_STAGE_PAIR_HEAD : RankingStage.RANKING_STAGE_EMBEDDING });
    expect(await server.rpc.getCatalogStats()).toMatchObject({ modelVersion: outcome.modelVersion, itemCount: ITEMS, sameExampleCount: 64, differentExampleCount: 1 });
    const manifestPath = JSON.parse(fs.readFileSync(path.join(dataDir, 'ACTIVE.json'), 'utf8')).manifest as string;
    const manifest = JSON.parse(fs.readFileSync(manifestPath, 'utf8'));
    expect(manifest).toMatchObject({
      version: outcome.modelVersion,
      training: { learnedOver: base, pairHeadDecision: info.pairHeadDecision, examples: { examples: 64, trainedOn: 64 - heldOut } },
      thresholdCalibration: expect.stringMatching(/^equal-error threshold on \d+ positive \/ \d+ negative held-out confirmed-photo pairs/),
    });
    expect(manifest.pairHead === null).toBe(!headOn);
    expect(fs.existsSync(path.join(path.dirname(manifestPath), 'pair_head.onnx'))).toBe(true);
    expect(fs.readdirSync(path.join(dataDir, 'learned')).filter((f) => f.endsWith('.views'))).toEqual([]); // training views removed
    await server.stop();

    // A restart with the same configured model keeps serving the learned version and its decision.
    server = await startTestServer({ ...OPTIONS, dataDir });
    expect(server.server.backgroundReembed).toBeUndefined();
    expect(await server.rpc.getServiceInfo()).toMatchObject({ modelVersion: outcome.modelVersion, hasPairHead: headOn, pairHeadDecision: info.pairHeadDecision });
  } finally {
    await server?.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
});
