/**
 * The warm path's learner end to end through the real server: vectors from Embed (raw model) ->
 * fitWhitening -> writeWhitenedModel -> a restart with the new manifest re-embeds the catalog in the
 * background and then serves projected vectors on every path (Embed, Search's catalog rows).
 */
import * as path from 'node:path';
import { fitWhitening, writeWhitenedModel } from '../../src/adapt/index.js';
import { PACKAGE_ROOT } from '../../src/config/index.js';
import { applyProjection, l2Normalize } from '../../src/model/index.js';
import { patternImage } from '../helpers/images.js';
import { makeTempDir, startTestServer, type TestServer } from '../helpers/server.js';

const TINY = path.join(PACKAGE_ROOT, 'test', 'fixtures', 'tiny-twin', 'manifest.json');

test('a whitened model rolls in through the background re-embed and projects Embed and catalog vectors', async () => {
  const dataDir = await makeTempDir();
  const images = await Promise.all(Array.from({ length: 6 }, (_, i) => patternImage(i)));
  let server: TestServer | undefined;
  try {
    server = await startTestServer({ dataDir, modelManifest: TINY });
    await server.rpc.upsertItems(images.map((image, i) => ({ itemId: `p-${i}`, image })));
    const raw = await Promise.all(images.map(async (image) => Float32Array.from((await server!.rpc.embed({ image })).embedding)));
    const whitening = fitWhitening([
      { itemId: 'a', members: raw.slice(0, 3) },
      { itemId: 'b', members: raw.slice(3) },
    ]);
    const { manifestPath, version } = await writeWhitenedModel({
      baseManifestPath: TINY,
      projection: whitening,
      outDir: path.join(dataDir, 'models', 'whitened-1'),
      version: 'tiny-whitened-1',
    });
    await server.stop();

    server = await startTestServer({ dataDir, modelManifest: manifestPath });
    const { backgroundReembed } = server.server;
    expect(backgroundReembed).toBeDefined();
    await backgroundReembed;
    expect(await server.rpc.getCatalogStats()).toMatchObject({ modelVersion: version, embeddingDim: 3, itemCount: 6 });

    for (const i of [0, 4]) {
      const e = await server.rpc.embed({ image: images[i] });
      expect(e.modelVersion).toBe(version);
      const expected = Array.from(l2Normalize(applyProjection(whitening, raw[i])));
      expect(e.embedding).toEqual(expected.map((v) => expect.closeTo(v, 4)));
      // The catalog row was re-embedded through the projection too: the same image scores cosine 1.
      const hit = (await server.rpc.search({ image: images[i], topK: 1 })).hits[0];
      expect(hit.itemId).toBe(`p-${i}`);
      expect(hit.coarseScore).toBeCloseTo(1, 4);
    }
  } finally {
    await server?.stop();
  }
});
