/**
 * The warm path's learning through the real server: confirmed photos go in with AddExamples, the
 * whitening adapter fits on them and writes a version only when it beats the serving model on
 * held-out photos, the version rolls in through the background re-embed, and a restart keeps it.
 *
 * The photos are built so that the serving model's cosine is misled in a way a within-item
 * whitening can undo: each is a small product (an item's catalog picture) on a large background,
 * and every item is photographed on the same backgrounds. A held-out photo's background is then
 * folded into every other item's vector but not into its own item's, and the raw cosine follows the
 * background; the whitening learns that backgrounds are what varies within an item and looks past it.
 * In the slow tier: three servers each fit and re-embed on the 1,792-d backbone (about 45 s quiet).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CLI_ENTRY, PACKAGE_ROOT } from '../../src/config/index.js';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { status as GrpcStatus } from '@grpc/grpc-js';
import { AdaptationState, AddExamplesRequest, ExampleLabel } from '../../src/gen/twinlens/v1/twinlens.js';
import { patternImage, productOnBackground } from '../helpers/images.js';
import { expectStatus, makeTempDir, startTestServer, type TestServer } from '../helpers/server.js';
import { addExamples, startAdaptation } from '../helpers/examples.js';

const MODEL = path.join(PACKAGE_ROOT, 'models', 'mobilenet_v2_140', 'manifest.json');
const ITEMS = 6;
const BACKGROUNDS = 6;
// The serving model is its own adaptation base: the adapter then reuses its vectors (faster).
const OPTIONS = { modelManifest: MODEL, adaptBaseManifest: MODEL } as const;
// Fits and re-embeds on 2 cores: a minute each when quiet, several beside another CPU-heavy job.
jest.setTimeout(600_000);


/** A confirmed photo of `item` on `background` (see productOnBackground). */
const photo = (item: number, background: number, shot = 0): Promise<Buffer> => productOnBackground(item, background, shot);


/** How many of `queries` find their item first. */
async function firstHits(server: TestServer, queries: { item: number; image: Buffer }[]): Promise<number> {
  let hits = 0;
  for (const q of queries) {
    const r = await server.rpc.search({ image: q.image, topK: 1 });
    if (r.hits[0]?.itemId === `item-${q.item}`) hits++;
  }
  return hits;
}

/** The catalog (ITEMS pictures) and every item's confirmed photos on each of the BACKGROUNDS. */
async function fill(server: TestServer): Promise<void> {
  const items = await Promise.all(Array.from({ length: ITEMS }, async (_, i) => ({ itemId: `item-${i}`, image: await patternImage(i), metadata: {} })));
  expect((await server.rpc.upsertItems(items)).upserted).toBe(ITEMS);
  const examples: Partial<AddExamplesRequest>[] = [];
  for (let i = 0; i < ITEMS; i++) {
    for (let b = 0; b < BACKGROUNDS; b++) examples.push({ itemId: `item-${i}`, image: await photo(i, b), label: ExampleLabel.EXAMPLE_LABEL_SAME });
  }
  expect(await addExamples(server.catalog, examples)).toMatchObject({ added: ITEMS * BACKGROUNDS, failed: 0 });
}

test('too few confirmed photos: nothing is learned, and the reason says so', async () => {
  const server = await startTestServer(OPTIONS);
  try {
    await server.rpc.upsertItems([{ itemId: 'item-0', image: await patternImage(0), metadata: {} }]);
    await addExamples(server.catalog, [{ itemId: 'item-0', image: await photo(0, 0), label: ExampleLabel.EXAMPLE_LABEL_SAME }]);
    const outcome = await server.server.adaptFromExamples({ budgetMs: 60_000 });
    expect(outcome).toMatchObject({ adapted: false, reason: expect.stringMatching(/1 SAME examples; .* at least 20/) });
    expect((await server.rpc.getServiceInfo()).modelVersion).toBe('mobilenet_v2_140-nsfwjs-1');
  } finally {
    await server.stop();
  }
});

test('confirmed photos train a whitening that beats the serving model, roll in without downtime, and survive a restart', async () => {
  const dataDir = await makeTempDir();
  let server: TestServer | undefined;
  try {
    server = await startTestServer({ ...OPTIONS, dataDir });
    const base = (await server.rpc.getServiceInfo()).modelVersion;
    await fill(server);
    // New photos of every item: the confirmed photos' backgrounds, the product elsewhere.
    const queries = await Promise.all(
      Array.from({ length: ITEMS * BACKGROUNDS }, async (_, n) => ({ item: n % ITEMS, image: await photo(n % ITEMS, Math.floor(n / ITEMS), 1) })),
    );
    const before = await firstHits(server, queries);

    const outcome = await server.server.adaptFromExamples({ budgetMs: 5 * 60_000 });
    expect(outcome).toMatchObject({ adapted: true, modelVersion: expect.stringContaining(`${base}+whitened-36ex-`) });
    const [whitened, serving] = outcome.reason.match(/Recall@1 ([\d.]+) whitened vs ([\d.]+) serving/)!.slice(1).map(Number);
    expect(whitened).toBeGreaterThan(serving);
    // Resolved once the learned version serves: catalog, examples and Search all on it.
    const stats = await server.rpc.getCatalogStats();
    expect(stats).toMatchObject({ modelVersion: outcome.modelVersion, itemCount: ITEMS, sameExampleCount: 36, embeddingDim: 1792 });
    expect(stats.reembedding).toBeUndefined();
    expect((await server.rpc.search({ image: queries[0].image, topK: 1 })).modelVersion).toBe(outcome.modelVersion);
    const after = await firstHits(server, queries);
    expect(after).toBeGreaterThan(before); // here 30 against 19 of 36
    const manifest = JSON.parse(fs.readFileSync(path.join(dataDir, 'ACTIVE.json'), 'utf8')).manifest as string;
    expect(JSON.parse(fs.readFileSync(manifest, 'utf8'))).toMatchObject({
      version: outcome.modelVersion,
      training: { learnedOver: base },
      thresholdCalibration: expect.stringMatching(/^equal-error threshold on \d+ positive \/ \d+ negative held-out/),
    });
    await server.stop();

    // A restart with the same configured model keeps serving what was learned, with nothing to re-embed.
    server = await startTestServer({ ...OPTIONS, dataDir });
    expect(server.server.backgroundReembed).toBeUndefined();
    expect(await server.rpc.getCatalogStats()).toMatchObject({ modelVersion: outcome.modelVersion, itemCount: ITEMS, sameExampleCount: 36 });
    expect(await firstHits(server, queries)).toBe(after);
    // Adapting again compares against the learned version's stored vectors (it is not the base):
    // the same photos give the same whitening, so it must not count as an improvement.
    const again = await server.server.adaptFromExamples({ budgetMs: 5 * 60_000 });
    expect(again).toMatchObject({ adapted: false, reason: expect.stringMatching(/does not beat the serving model: held-out 7 of 36 photos/) });
  } finally {
    await server?.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
});

test('adaptAfterExamples: a server adapts by itself once enough confirmed photos have arrived', async () => {
  const server = await startTestServer({ ...OPTIONS, adaptAfterExamples: ITEMS * BACKGROUNDS });
  try {
    const base = (await server.rpc.getServiceInfo()).modelVersion;
    await fill(server);
    // Adaptation and the roll-in run in the background; the learned version shows in the stats once it serves.
    const deadline = Date.now() + 240_000;
    let version = base;
    while (version === base && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 250));
      version = (await server.rpc.getCatalogStats()).modelVersion;
    }
    expect(version).toContain(`${base}+whitened-36ex-`);
    expect(await server.rpc.getCatalogStats()).toMatchObject({
      itemCount: ITEMS,
      sameExampleCount: 36,
      adaptation: { state: AdaptationState.ADAPTATION_STATE_ADAPTED, trigger: 'adaptAfterExamples', examples: 36, modelVersion: version },
    });
  } finally {
    await server.stop();
  }
});

test('twinlens adapt --examples: StartAdaptation runs one adaptation at a time, and its progress and outcome are in GetCatalogStats', async () => {
  const server = await startTestServer(OPTIONS);
  try {
    const base = (await server.rpc.getServiceInfo()).modelVersion;
    expect((await server.rpc.getCatalogStats()).adaptation).toBeUndefined();
    await expectStatus(startAdaptation(server.catalog, { budgetMinutes: -1 }), GrpcStatus.INVALID_ARGUMENT, 'budget_minutes');
    await fill(server);
    const cli = promisify(execFile)(process.execPath, [CLI_ENTRY, 'adapt', '--examples', '--server', server.address, '--poll-seconds', '0.2', '--json'], { timeout: 540_000 });
    // While the CLI's adaptation runs, a second one is refused and the first reports where it is.
    let running;
    while (!running) {
      await new Promise((r) => setTimeout(r, 50));
      running = (await server.rpc.getCatalogStats()).adaptation;
    }
    expect(running).toMatchObject({ state: AdaptationState.ADAPTATION_STATE_RUNNING, trigger: 'request', examples: 36, finishedAtMs: 0 });
    await expectStatus(startAdaptation(server.catalog), GrpcStatus.FAILED_PRECONDITION, 'an adaptation is already running');
    const { stdout, stderr } = await cli;
    expect(stderr).toContain(`adaptation started on ${server.address} with 36 confirmed photos`);
    const final = JSON.parse(stdout) as { state: string; modelVersion: string; reason: string; finishedAtMs: number; startedAtMs: number };
    expect(final).toMatchObject({ state: 'ADAPTATION_STATE_ADAPTED', modelVersion: expect.stringContaining(`${base}+whitened-36ex-`), reason: expect.stringMatching(/Recall@1 [\d.]+ whitened vs/) });
    expect(final.finishedAtMs).toBeGreaterThanOrEqual(final.startedAtMs);
    // The CLI returns once the learned version serves.
    expect(await server.rpc.getCatalogStats()).toMatchObject({ modelVersion: final.modelVersion, adaptation: { state: AdaptationState.ADAPTATION_STATE_ADAPTED, modelVersion: final.modelVersion } });
  } finally {
    await server.stop();
  }
});
