import * as fs from 'node:fs';
import * as path from 'node:path';
import { PACKAGE_ROOT } from '../../src/config/index.js';
import { patternImage } from '../helpers/images.js';
import { makeTempDir, startTestServer, type TestServer } from '../helpers/server.js';
import { silentLogger } from '../../src/observability/index.js';

const errorLog = { ...silentLogger, error: (m: string, e?: unknown) => console.error(m, e) };

// A model change at start: the bundled MobileNetV2 (1,792-d) catalog is re-embedded for the tiny
// test twin (3-d, with a pair head) in the background while the old model keeps serving. A query
// mixing versions would fail outright (the dimensions differ), so every call succeeding is the check.
const V1 = path.join(PACKAGE_ROOT, 'models', 'mobilenet_v2_140', 'manifest.json');
const V2 = path.join(PACKAGE_ROOT, 'test', 'fixtures', 'tiny-twin', 'manifest.json');

test('a new model re-embeds the catalog in the background, serving the old one until an atomic switch', async () => {
  const dataDir = await makeTempDir();
  const images = await Promise.all(Array.from({ length: 120 }, (_, i) => patternImage(i)));
  let server: TestServer | undefined;
  try {
    server = await startTestServer({ dataDir, modelManifest: V1 });
    const v1 = (await server.rpc.getServiceInfo()).modelVersion;
    const up = await server.rpc.upsertItems(images.map((image, i) => ({ itemId: `p-${i}`, image, metadata: { n: String(i % 3) } })));
    expect(up.upserted).toBe(120);
    await server.stop();

    server = await startTestServer({ dataDir, modelManifest: V2 }, errorLog);
    const { backgroundReembed } = server.server;
    expect(backgroundReembed).toBeDefined();
    let switched = false;
    void backgroundReembed!.then(() => (switched = true));
    const stats0 = await server.rpc.getCatalogStats();
    expect(stats0.modelVersion).toBe(v1);
    expect(stats0.reembedding).toMatchObject({ targetModelVersion: 'tiny-twin-test-fixture-1', total: 120 });
    // The old model answers while the re-embedding runs.
    const first = await server.rpc.search({ image: images[0], topK: 3 });
    const seen: string[] = [first.modelVersion];
    // Writes during the re-embedding: one upload, one delete; both must survive the switch.
    await server.rpc.upsertItems([{ itemId: 'late-1', image: await patternImage(100), metadata: {} }]);
    expect((await server.rpc.deleteItem({ itemId: 'p-5' })).deleted).toBe(true);
    // Searches all along: each succeeds, with one version, and versions only move forward.
    // (Concurrent calls may finish on either side of the switch; a batch started after one that
    // saw the new version must see only the new version.)
    let newSeen = false;
    while (!switched) {
      const results = await Promise.all([0, 1, 2].map((i) => server!.rpc.search({ image: images[i], topK: 3 })));
      for (const r of results) {
        expect(r.hits.length).toBe(3);
        expect([v1, 'tiny-twin-test-fixture-1']).toContain(r.modelVersion);
        if (newSeen) expect(r.modelVersion).toBe('tiny-twin-test-fixture-1');
        seen.push(r.modelVersion);
      }
      newSeen ||= results.some((r) => r.modelVersion === 'tiny-twin-test-fixture-1');
    }
    const after = await server.rpc.search({ image: images[7], topK: 1 });
    seen.push(after.modelVersion);
    expect(seen[0]).toBe(v1);
    expect(seen[seen.length - 1]).toBe('tiny-twin-test-fixture-1');
    const stats = await server.rpc.getCatalogStats();
    expect(stats).toMatchObject({ modelVersion: 'tiny-twin-test-fixture-1', embeddingDim: 3, itemCount: 120 });
    expect(stats.reembedding).toBeUndefined();
    expect((await server.rpc.getItem({ itemId: 'late-1' })).item?.modelVersion).toBe('tiny-twin-test-fixture-1');
    await expect(server.rpc.getItem({ itemId: 'p-5' })).rejects.toThrow(/not found|NOT_FOUND/i);
    await server.stop();

    // A restart with the new model serves it at once, nothing to re-embed.
    const active = JSON.parse(fs.readFileSync(path.join(dataDir, 'ACTIVE.json'), 'utf8'));
    expect(active).toMatchObject({ modelVersion: 'tiny-twin-test-fixture-1', folder: expect.stringMatching(/^versions\//) });
    server = await startTestServer({ dataDir, modelManifest: V2 });
    expect(server.server.backgroundReembed).toBeUndefined();
    expect(await server.rpc.getCatalogStats()).toMatchObject({ modelVersion: 'tiny-twin-test-fixture-1', itemCount: 120 });
  } finally {
    await server?.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
});

test('a shutdown during the background re-embedding stops it cleanly; the next start resumes and switches', async () => {
  const dataDir = await makeTempDir();
  // 200 items: decoding them alone takes far longer than the stop right after the start below.
  const images = await Promise.all(Array.from({ length: 200 }, (_, i) => patternImage(i)));
  let server: TestServer | undefined;
  try {
    server = await startTestServer({ dataDir, modelManifest: V1 });
    const v1 = (await server.rpc.getServiceInfo()).modelVersion;
    expect((await server.rpc.upsertItems(images.map((image, i) => ({ itemId: `s-${i}`, image, metadata: {} })))).upserted).toBe(200);
    await server.stop();

    // Stop as soon as the new model's re-embedding has begun, long before it can finish.
    server = await startTestServer({ dataDir, modelManifest: V2 }, errorLog);
    const { backgroundReembed } = server.server;
    expect(backgroundReembed).toBeDefined();
    await server.stop();
    await backgroundReembed; // settled by the stop, without throwing
    const active = JSON.parse(fs.readFileSync(path.join(dataDir, 'ACTIVE.json'), 'utf8'));
    expect(active.modelVersion).toBe(v1); // the old model is still the active one

    // The next start resumes the work and switches, with every item there.
    server = await startTestServer({ dataDir, modelManifest: V2 }, errorLog);
    await server.server.backgroundReembed;
    expect(await server.rpc.getCatalogStats()).toMatchObject({ modelVersion: 'tiny-twin-test-fixture-1', itemCount: 200 });
  } finally {
    await server?.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
});
