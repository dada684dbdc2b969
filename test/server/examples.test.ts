import * as fs from 'node:fs';
import * as path from 'node:path';
import { status } from '@grpc/grpc-js';
import sharp from 'sharp';
import { PACKAGE_ROOT } from '../../src/config/index.js';
import { AdaptationState, ExampleLabel } from '../../src/gen/twinlens/v1/twinlens.js';
import { patternImage, randomBytes } from '../helpers/images.js';
import { expectStatus, makeTempDir, startTestServer, type TestServer } from '../helpers/server.js';
import { addExamples, listExamples, confirmMatch, startAdaptation } from '../helpers/examples.js';
import { confirmedPhotoWins, exampleLifecycle, nearDuplicate } from './examples-api.js';
import { silentLogger } from '../../src/observability/index.js';

const errorLog = { ...silentLogger, error: (m: string, e?: unknown) => console.error(m, e) };
const V1 = path.join(PACKAGE_ROOT, 'models', 'mobilenet_v2_140', 'manifest.json');
const V2 = path.join(PACKAGE_ROOT, 'test', 'fixtures', 'tiny-twin', 'manifest.json');
const SAME = ExampleLabel.EXAMPLE_LABEL_SAME;
const DIFFERENT = ExampleLabel.EXAMPLE_LABEL_DIFFERENT;



describe('confirmed examples', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
    const up = await server.rpc.upsertItems(await Promise.all([0, 1, 2, 3].map(async (i) => ({ itemId: `it-${i}`, image: await patternImage(i), metadata: {} }))));
    expect(up.upserted).toBe(4);
  });
  afterAll(() => server.stop());

  test('a bad example gets its own error while the rest land; counts, paging and delete; the item takes its examples with it', () =>
    exampleLifecycle(server));
});

describe.each(['fold', 'best-view'] as const)('ConfirmMatch with exampleScoring %s', (exampleScoring) => {
  test('a query photo confirmed as SAME brings its item first for a near-duplicate of it', async () => {
    const server = await startTestServer({ exampleScoring });
    try {
      await server.rpc.upsertItems(await Promise.all(Array.from({ length: 8 }, async (_, i) => ({ itemId: `c-${i}`, image: await patternImage(i), metadata: {} }))));
      await confirmedPhotoWins(server, exampleScoring);
    } finally {
      await server.stop();
    }
  });
});

describe('query retention for ConfirmMatch', () => {
  test('after the retention window ConfirmMatch answers NOT_FOUND', async () => {
    const server = await startTestServer({ confirmRetentionMs: 300 });
    try {
      await server.rpc.upsertItems([{ itemId: 'a', image: await patternImage(1), metadata: {} }]);
      const r = await server.rpc.search({ image: await patternImage(2), topK: 1 });
      expect(r.searchId).not.toBe('');
      await new Promise((done) => setTimeout(done, 400));
      await expectStatus(confirmMatch(server.catalog, { searchId: r.searchId, itemId: 'a', label: SAME }), status.NOT_FOUND, 'no longer kept', 'AddExamples');
      expect((await server.rpc.getCatalogStats()).sameExampleCount).toBe(0);
    } finally {
      await server.stop();
    }
  });

  test('the size bound evicts the oldest query first', async () => {
    const first = await patternImage(2);
    const second = await patternImage(3);
    const server = await startTestServer({ confirmRetentionBytes: Math.max(first.length, second.length) + 10 });
    try {
      await server.rpc.upsertItems([{ itemId: 'a', image: await patternImage(1), metadata: {} }]);
      const r1 = await server.rpc.search({ image: first, topK: 1 });
      const r2 = await server.rpc.search({ image: second, topK: 1 });
      await expectStatus(confirmMatch(server.catalog, { searchId: r1.searchId, itemId: 'a', label: SAME }), status.NOT_FOUND, 'no longer kept');
      const ok = await confirmMatch(server.catalog, { searchId: r2.searchId, itemId: 'a', label: DIFFERENT });
      expect(ok.example?.label).toBe(DIFFERENT);
    } finally {
      await server.stop();
    }
  });

  test('with retention off Search returns no search id and ConfirmMatch answers FAILED_PRECONDITION', async () => {
    const server = await startTestServer({ confirmRetentionMs: 0 });
    try {
      await server.rpc.upsertItems([{ itemId: 'a', image: await patternImage(1), metadata: {} }]);
      const r = await server.rpc.search({ image: await patternImage(2), topK: 1 });
      expect(r.searchId).toBe('');
      await expectStatus(confirmMatch(server.catalog, { searchId: 'anything', itemId: 'a', label: SAME }), status.FAILED_PRECONDITION, 'keeps no query images');
    } finally {
      await server.stop();
    }
  });
});

describe('StartAdaptation', () => {
  test('with too few confirmed photos the adaptation keeps the serving model, and GetCatalogStats says why', async () => {
    const server = await startTestServer();
    try {
      await server.rpc.upsertItems([{ itemId: 'a', image: await patternImage(1), metadata: {} }]);
      expect(await addExamples(server.catalog, [{ itemId: 'a', image: await patternImage(2), label: SAME }])).toMatchObject({ added: 1 });
      const started = await startAdaptation(server.catalog, {});
      expect(started.adaptation).toMatchObject({ state: AdaptationState.ADAPTATION_STATE_RUNNING, trigger: 'request', examples: 1 });
      let adaptation = started.adaptation!;
      while (adaptation.state === AdaptationState.ADAPTATION_STATE_RUNNING) {
        await new Promise((r) => setTimeout(r, 20));
        adaptation = (await server.rpc.getCatalogStats()).adaptation!;
      }
      expect(adaptation).toMatchObject({ state: AdaptationState.ADAPTATION_STATE_KEPT, reason: expect.stringMatching(/^1 SAME examples; .* at least 20/), modelVersion: '' });
      expect(adaptation.finishedAtMs).toBeGreaterThanOrEqual(adaptation.startedAtMs);
      await expectStatus(startAdaptation(server.catalog, { budgetMinutes: Number.NaN }), status.INVALID_ARGUMENT, 'budget_minutes');
    } finally {
      await server.stop();
    }
  });

  test('with exampleAdapter none it answers FAILED_PRECONDITION', async () => {
    const server = await startTestServer({ exampleAdapter: 'none' });
    try {
      await expectStatus(startAdaptation(server.catalog, {}), status.FAILED_PRECONDITION, 'no example adapter is configured');
      expect((await server.rpc.getCatalogStats()).adaptation).toBeUndefined();
    } finally {
      await server.stop();
    }
  });
});

test('examples survive a restart and a model switch (re-embedded in the background with the catalog)', async () => {
  const dataDir = await makeTempDir();
  let server: TestServer | undefined;
  try {
    server = await startTestServer({ dataDir, modelManifest: V1 });
    await server.rpc.upsertItems(await Promise.all(Array.from({ length: 6 }, async (_, i) => ({ itemId: `m-${i}`, image: await patternImage(i), metadata: {} }))));
    const added = await addExamples(server.catalog, [
      { itemId: 'm-1', image: await patternImage(300), label: SAME },
      { itemId: 'm-1', image: await patternImage(301), label: DIFFERENT },
      { itemId: 'm-4', image: await patternImage(302), label: SAME },
    ]);
    expect(added.added).toBe(3);
    const v1 = (await server.rpc.getServiceInfo()).modelVersion;
    const twin = await nearDuplicate(await patternImage(302));
    const warm = (await server.rpc.search({ image: twin, topK: 1 })).hits[0].itemId;
    await server.stop();

    // Restart, same model: the examples are there and still act on search.
    server = await startTestServer({ dataDir, modelManifest: V1 });
    expect(await server.rpc.getCatalogStats()).toMatchObject({ sameExampleCount: 2, differentExampleCount: 1, itemCount: 6 });
    expect((await listExamples(server.catalog, { itemId: 'm-1' })).examples.map((e) => e.exampleId)).toEqual(
      added.outcomes.slice(0, 2).map((o) => o.exampleId),
    );
    expect((await server.rpc.search({ image: twin, topK: 1 })).hits[0].itemId).toBe(warm);
    await server.stop();

    // A new model: the examples are re-embedded with the items and bound to the new version.
    server = await startTestServer({ dataDir, modelManifest: V2 }, errorLog);
    await server.server.backgroundReembed;
    const stats = await server.rpc.getCatalogStats();
    expect(stats).toMatchObject({ modelVersion: 'tiny-twin-test-fixture-1', sameExampleCount: 2, differentExampleCount: 1, itemCount: 6 });
    const listed = [...(await listExamples(server.catalog, { itemId: 'm-1' })).examples, ...(await listExamples(server.catalog, { itemId: 'm-4' })).examples];
    expect(listed.map((e) => e.exampleId).sort()).toEqual(added.outcomes.map((o) => o.exampleId).sort());
    expect(new Set(listed.map((e) => e.modelVersion))).toEqual(new Set(['tiny-twin-test-fixture-1']));
    expect(v1).not.toBe('tiny-twin-test-fixture-1');
  } finally {
    await server?.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
});

describe('AddExamples under the image limits (like UpsertItems)', () => {
  test('it takes one of maxImageStreamsInProgress: beyond it RESOURCE_EXHAUSTED on the headers', async () => {
    const server = await startTestServer({ maxImageStreamsInProgress: 1 });
    try {
      await server.rpc.upsertItems([{ itemId: 'it-0', image: await patternImage(0), metadata: {} }]);
      // An upload stream holds the one slot while it is open.
      const upload = server.catalog.upsertItems(() => undefined);
      await new Promise((r) => setTimeout(r, 200));
      await expectStatus(addExamples(server.catalog, [{ itemId: 'it-0', image: await patternImage(1), label: SAME }]), status.RESOURCE_EXHAUSTED, 'image streams in progress');
      upload.end();
      await new Promise((r) => setTimeout(r, 200));
      expect(await addExamples(server.catalog, [{ itemId: 'it-0', image: await patternImage(1), label: SAME }])).toMatchObject({ added: 1, failed: 0 });
    } finally {
      await server.stop();
    }
  });

  test('each example gives its bytes back once committed: a stream far larger than the byte budget lands whole', async () => {
    // Noise does not compress: each PNG is about 480 KB, so the smallest budget (1 MiB) holds two.
    const noise = (seed: number): Promise<Buffer> =>
      sharp(randomBytes(400 * 400 * 3, seed), { raw: { width: 400, height: 400, channels: 3 } }).png({ compressionLevel: 0 }).toBuffer();
    const photos = await Promise.all(Array.from({ length: 12 }, (_, i) => noise(300 + i)));
    expect(Math.min(...photos.map((p) => p.length))).toBeGreaterThan(400_000);
    const server = await startTestServer({ maxImageBytesInFlight: 1024 * 1024 });
    try {
      await server.rpc.upsertItems([{ itemId: 'it-0', image: await patternImage(0), metadata: {} }]);
      const r = await addExamples(
        server.catalog,
        photos.map((image) => ({ itemId: 'it-0', image, label: SAME })),
      );
      expect(r).toMatchObject({ added: 12, failed: 0 });
      expect(server.server.imageAdmission.budget.inUse).toBe(0);
    } finally {
      await server.stop();
    }
  });
});
