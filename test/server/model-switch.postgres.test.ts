/**
 * A model switch on store=postgres, with real servers on a throwaway PostgreSQL + pgvector cluster:
 * two replicas started with a new model (the tiny 3-d test twin) re-embed the catalog once between
 * them (a session advisory lock) while a replica of the old model (the default 256-d twin) keeps
 * serving and taking writes; then the catalog switches in one transaction and the old replica answers
 * UNAVAILABLE and NOT_SERVING instead of mixing versions. Fails when PostgreSQL is missing.
 */
import * as path from 'node:path';
import { status, type ServiceError } from '@grpc/grpc-js';
import { PACKAGE_ROOT } from '../../src/config/index.js';
import { type Logger, silentLogger } from '../../src/observability/index.js';
import { patternImage } from '../helpers/images.js';
import { startPostgres, type PostgresCluster } from '../helpers/postgres.js';
import { expectStatus, startTestServer, type TestServer } from '../helpers/server.js';
import { eventually } from '../helpers/until.js';

const V2 = path.join(PACKAGE_ROOT, 'test', 'fixtures', 'tiny-twin', 'manifest.json');
const V2_VERSION = 'tiny-twin-test-fixture-1';

let pg: PostgresCluster;
const servers: TestServer[] = [];

beforeAll(async () => {
  pg = await startPostgres();
});

afterAll(async () => {
  for (const s of servers) await s.stop();
  await pg?.destroy();
});


const capture = (lines: string[]): Logger => ({ ...silentLogger, info: (m: string) => lines.push(m) });

test('two new-model replicas re-embed the catalog once while the old one serves; then the old one steps aside', async () => {
  const url = await pg.createDatabase('switch');
  const old = await startTestServer({ store: 'postgres', postgresUrl: url });
  servers.push(old);
  const v1 = (await old.rpc.getServiceInfo()).modelVersion;
  // Enough rows that the re-embedding takes bulk passes before its final, write-blocking step.
  const images = await Promise.all(Array.from({ length: 200 }, (_, i) => patternImage(i)));
  const up = await old.rpc.upsertItems(images.map((image, i) => ({ itemId: `p-${i}`, image, metadata: { n: String(i % 3) } })));
  expect(up.upserted).toBe(200);
  const lateImages = await Promise.all(Array.from({ length: 100 }, (_, i) => patternImage(500 + i)));

  const logs: string[][] = [[], []];
  let started = false;
  const starting = Promise.all(logs.map((l) => startTestServer({ store: 'postgres', postgresUrl: url, modelManifest: V2 }, capture(l)))).finally(
    () => (started = true),
  );
  // The old replica meanwhile: Search answers with its own version or UNAVAILABLE, never anything
  // else; every upload it acknowledges must reach the new catalog.
  const searches: string[] = [];
  const acknowledged: string[] = [];
  const refused: string[] = [];
  const searching = (async () => {
    for (let n = 0; !started; n++) {
      try {
        const r = await old.rpc.search({ image: images[n % images.length], topK: 3 });
        expect(r.modelVersion).toBe(v1);
        expect(r.hits).toHaveLength(3);
        searches.push('ok');
      } catch (e) {
        searches.push(status[(e as ServiceError).code]);
      }
    }
  })();
  const writing = (async () => {
    for (let n = 0; !started && n < lateImages.length; n++) {
      const res = await old.rpc.upsertItems([{ itemId: `late-${n}`, image: lateImages[n] }]);
      if (res.outcomes[0].ok) acknowledged.push(`late-${n}`);
      else refused.push(res.outcomes[0].error!.codeName);
    }
  })();
  const [b, c] = await starting;
  await Promise.all([searching, writing]);
  servers.push(b, c);

  expect(searches[0]).toBe("ok");
  expect(new Set(searches.filter((s) => s !== 'ok'))).toEqual(new Set(searches.some((s) => s !== 'ok') ? ['UNAVAILABLE'] : []));
  expect(new Set(refused)).toEqual(new Set(refused.length ? ['UNAVAILABLE'] : []));
  expect(acknowledged.length).toBeGreaterThan(0);
  // One replica re-embedded (in bulk passes, then the final step); the other waited for it.
  const reembedders = logs.filter((l) => l.some((m) => m.startsWith('re-embedding the catalog')));
  expect(reembedders).toHaveLength(1);
  expect(reembedders[0].some((m) => /^re-embedded \d+\/\d+$/.test(m))).toBe(true);
  expect(logs.find((l) => l !== reembedders[0])!.some((m) => m.startsWith('another replica is re-embedding'))).toBe(true);

  // The new replicas serve the new model over every item, those written during the switch included.
  expect(await b.rpc.getCatalogStats()).toMatchObject({ modelVersion: V2_VERSION, embeddingDim: 3, itemCount: 200 + acknowledged.length });
  for (const itemId of acknowledged) expect((await c.rpc.getItem({ itemId, includeEmbedding: true })).embedding).toHaveLength(3);
  const hits = await c.rpc.search({ image: images[3], topK: 3 });
  expect(hits).toMatchObject({ modelVersion: V2_VERSION });
  expect(hits.hits).toHaveLength(3);

  // The old replica steps aside rather than mix versions.
  await eventually(async () => (await old.rpc.healthCheck()) === 'NOT_SERVING');
  await expectStatus(old.rpc.search({ image: images[0], topK: 3 }), status.UNAVAILABLE, `switched to model ${V2_VERSION}`);
  await expectStatus(old.rpc.compare({ a: { source: { $case: 'itemId', value: 'p-1' } }, b: { source: { $case: 'itemId', value: 'p-2' } } }), status.UNAVAILABLE, 'restart it with the new model');
  const late = await old.rpc.upsertItems([{ itemId: 'too-late', image: await patternImage(999) }]);
  expect(late.outcomes[0]).toMatchObject({ ok: false, error: { codeName: 'UNAVAILABLE' } });
  await expectStatus(c.rpc.getItem({ itemId: 'too-late' }), status.NOT_FOUND);

  // A replica of the new model started later finds the switch done and serves at once.
  const d = await startTestServer({ store: 'postgres', postgresUrl: url, modelManifest: V2 });
  servers.push(d);
  expect((await d.rpc.search({ image: images[5], topK: 1 })).modelVersion).toBe(V2_VERSION);
});
