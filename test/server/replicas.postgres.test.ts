/**
 * Several twinlens replicas over one PostgreSQL catalog (store=postgres), all real: two in-process
 * servers and one `twinlens serve` child process on a throwaway PostgreSQL 15 + pgvector cluster.
 * Read-your-writes across replicas, Health while the database is down and after it is back, and
 * kill -9 of a replica during uploads. Fails (never skips) when PostgreSQL is missing.
 */
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { credentials, status } from '@grpc/grpc-js';
import {
  AddExamplesRequest,
  type AddExamplesResponse,
  CatalogServiceClient,
  DeleteExampleRequest,
  ExampleLabel,
  ListExamplesRequest,
  type ListExamplesResponse,
} from '../../src/gen/twinlens/v1/twinlens.js';
import { patternImage } from '../helpers/images.js';
import { startPostgres, type PostgresCluster } from '../helpers/postgres.js';
import { call, dot, expectStatus, makeTempDir, startTestServer, type TestServer, upsertItems } from '../helpers/server.js';
import { eventually } from '../helpers/until.js';
import { startServerProcess } from '../../tools/loadtest/server-process.js';

let pg: PostgresCluster;
let url: string;
let a: TestServer;
let b: TestServer;

beforeAll(async () => {
  pg = await startPostgres();
  url = await pg.createDatabase('replicas');
  // Started together: both create the schema and bind the model at once (an advisory lock orders them).
  [a, b] = await Promise.all([startTestServer({ store: 'postgres', postgresUrl: url }), startTestServer({ store: 'postgres', postgresUrl: url })]);
});

afterAll(async () => {
  await a?.stop();
  await b?.stop();
  await pg?.destroy();
});


describe('two replicas on one database', () => {
  test('an item upserted through one is found through the other as soon as its upsert is acknowledged', async () => {
    for (let i = 0; i < 5; i++) {
      const itemId = `ryw-${i}`;
      const image = await patternImage(200 + i);
      const res = await a.rpc.upsertItems([{ itemId, image, metadata: { round: String(i) } }]);
      expect(res).toMatchObject({ upserted: 1, failed: 0 });
      // No wait and no retry: B reads the database for every call.
      expect((await b.rpc.getItem({ itemId })).item).toMatchObject({ itemId, metadata: { round: String(i) } });
      const hits = (await b.rpc.search({ image, topK: 1 })).hits;
      expect(hits[0]).toMatchObject({ itemId });
      expect(hits[0].score).toBeGreaterThan(0.99);
      expect((await b.rpc.search({ image, topK: 1, filter: { round: String(i) } })).hits.map((h) => h.itemId)).toEqual([itemId]);
    }
    const listed = (await b.rpc.listItems({ pageSize: 100 })).items.map((it) => it.itemId);
    expect(listed).toEqual(expect.arrayContaining(['ryw-0', 'ryw-4']));
  });

  test('a delete through one replica is seen by the other at once: gone from GetItem and Search', async () => {
    const image = await patternImage(230);
    await b.rpc.upsertItems([{ itemId: 'ryw-gone', image }]);
    expect((await a.rpc.search({ image, topK: 1 })).hits[0].itemId).toBe('ryw-gone');
    expect(await b.rpc.deleteItem({ itemId: 'ryw-gone' })).toEqual({ deleted: true });
    await expectStatus(a.rpc.getItem({ itemId: 'ryw-gone' }), status.NOT_FOUND);
    expect((await a.rpc.search({ image, topK: 5 })).hits.map((h) => h.itemId)).not.toContain('ryw-gone');
  });

  test('views and the image bytes written through one replica are served by the other', async () => {
    const main = await patternImage(240);
    const back = await patternImage(241);
    const res = await a.rpc.upsertItems([
      { itemId: 'ryw-views', image: main, metadata: { kind: 'viewed' } },
      { itemId: 'ryw-views', view: 'back', image: back, metadata: { kind: 'viewed' } },
    ]);
    expect(res).toMatchObject({ upserted: 2, failed: 0 });
    const hit = (await b.rpc.search({ image: back, topK: 1 })).hits[0];
    expect(hit).toMatchObject({ itemId: 'ryw-views', view: 'back' });
    const got = await b.rpc.getItem({ itemId: 'ryw-views', includeImage: true });
    expect(Buffer.from(got.image).equals(main)).toBe(true);
  });

  test('an example added through one replica is listed, counted and searched through the other once acknowledged', async () => {
    await a.rpc.upsertItems(await Promise.all([0, 1, 2, 3].map(async (i) => ({ itemId: `rex-${i}`, image: await patternImage(260 + i) }))));
    const photo = await patternImage(270);
    // The item to confirm: the one of these the photo is least like (else the check proves little).
    const scoreOf = async (r: TestServer, itemId: string) => (await r.rpc.search({ image: photo, topK: 100 })).hits.find((h) => h.itemId === itemId)!.score;
    const target = (await b.rpc.search({ image: photo, topK: 100 })).hits.filter((h) => h.itemId.startsWith('rex-')).pop()!.itemId;
    const before = await scoreOf(b, target);
    const embeddingBefore = (await b.rpc.getItem({ itemId: target, includeEmbedding: true })).embedding;
    const added = await new Promise<AddExamplesResponse>((resolve, reject) => {
      const stream = a.catalog.addExamples((e, r) => (e ? reject(e) : resolve(r)));
      stream.write(AddExamplesRequest.fromPartial({ itemId: target, image: photo, label: ExampleLabel.EXAMPLE_LABEL_SAME }));
      stream.end();
    });
    expect(added).toMatchObject({ added: 1, failed: 0 });
    const exampleId = added.outcomes[0].exampleId;
    // No wait and no retry: B reads the database for every call.
    const listed = await call<ListExamplesRequest, ListExamplesResponse>(b.catalog.listExamples.bind(b.catalog), ListExamplesRequest.fromPartial({ itemId: target }));
    expect(listed.examples.map((e) => e.exampleId)).toEqual([exampleId]);
    expect((await b.rpc.getCatalogStats()).sameExampleCount).toBeGreaterThanOrEqual(1);
    // The default scoring (fold): B searches the item by its vector folded with the photo's.
    const photoVector = (await b.rpc.embed({ image: photo })).embedding;
    const folded = (await b.rpc.getItem({ itemId: target, includeEmbedding: true })).embedding;
    expect(dot(folded, photoVector)).toBeGreaterThan(dot(embeddingBefore, photoVector) + 0.01);
    expect(await scoreOf(b, target)).toBeGreaterThan(before + 0.01);
    // Deleted through B, gone from A's searches.
    expect(await call(b.catalog.deleteExample.bind(b.catalog), DeleteExampleRequest.fromPartial({ exampleId }))).toEqual({ deleted: true });
    expect(await scoreOf(a, target)).toBeCloseTo(before, 4);
  });
});

describe('when the database goes away', () => {
  test('Health turns NOT_SERVING and calls fail UNAVAILABLE; both recover by themselves when it is back', async () => {
    const image = await patternImage(250);
    await a.rpc.upsertItems([{ itemId: 'before-outage', image }]);
    expect(await a.rpc.healthCheck()).toBe('SERVING');
    await pg.stop('fast');
    try {
      await eventually(async () => (await a.rpc.healthCheck()) === 'NOT_SERVING');
      await eventually(async () => (await b.rpc.healthCheck('twinlens.v1.TwinlensService')) === 'NOT_SERVING');
      await expectStatus(a.rpc.getItem({ itemId: 'before-outage' }), status.UNAVAILABLE, 'catalog database');
      await expectStatus(b.rpc.search({ image, topK: 1 }), status.UNAVAILABLE, 'catalog database');
      const up = await a.rpc.upsertItems([{ itemId: 'during-outage', image }]);
      expect(up.outcomes[0]).toMatchObject({ ok: false, error: { codeName: 'UNAVAILABLE' } });
    } finally {
      await pg.start();
    }
    await eventually(async () => (await a.rpc.healthCheck()) === 'SERVING');
    await eventually(async () => (await b.rpc.healthCheck()) === 'SERVING');
    // Connections the restart broke are replaced: calls work again without a restart of twinlens.
    await eventually(async () => (await a.rpc.getItem({ itemId: 'before-outage' })).item?.itemId === 'before-outage');
    expect((await b.rpc.search({ image, topK: 1 })).hits[0].itemId).toBe('before-outage');
    await expectStatus(b.rpc.getItem({ itemId: 'during-outage' }), status.NOT_FOUND);
  });
});

describe('restarting PostgreSQL under load', () => {
  test('uploads meanwhile fail UNAVAILABLE (never INTERNAL) and every acknowledged item is there after', async () => {
    const images = await Promise.all(Array.from({ length: 3 }, (_, i) => patternImage(400 + i)));
    const acknowledged: string[] = [];
    const failures: string[] = [];
    let n = 0;
    let stop = false;
    const load = (ts: TestServer) =>
      (async () => {
        while (!stop) {
          const res = await upsertItems(ts.catalog, images.map((image) => ({ itemId: `restart-${n++}`, image })));
          for (const o of res.outcomes) {
            if (o.ok) acknowledged.push(o.itemId);
            else failures.push(o.error?.codeName ?? 'none');
          }
        }
      })();
    const loads = [load(a), load(b)];
    try {
      await eventually(async () => acknowledged.length >= 6);
      await pg.stop('fast');
      await eventually(async () => failures.length >= 2);
      await pg.start();
      const before = acknowledged.length;
      await eventually(async () => acknowledged.length >= before + 6);
    } finally {
      stop = true;
      await pg.start().catch(() => undefined); // already running unless a wait above failed
      await Promise.all(loads);
    }
    expect(failures.length).toBeGreaterThanOrEqual(2);
    expect(new Set(failures)).toEqual(new Set(['UNAVAILABLE']));
    for (const itemId of acknowledged) expect((await b.rpc.getItem({ itemId })).item?.itemId).toBe(itemId);
  });
});

describe('kill -9 of a replica', () => {
  test('loses no item whose upsert it acknowledged', async () => {
    const dataDir = await makeTempDir();
    const child = await startServerProcess({
      dataDir,
      env: { TWINLENS_STORE: 'postgres', TWINLENS_POSTGRES_URL: url, TWINLENS_QUERY_MIRROR: '0' },
      logFile: path.join(dataDir, '..', `${path.basename(dataDir)}.log`),
    });
    const client = new CatalogServiceClient(child.address, credentials.createInsecure());
    const acknowledged: string[] = [];
    const images = await Promise.all(Array.from({ length: 4 }, (_, i) => patternImage(300 + i)));
    let n = 0;
    let killed = false;
    const uploads = (async () => {
      while (!killed) {
        const batch = images.map((image) => ({ itemId: `k9-${n++}`, image }));
        try {
          const res = await upsertItems(client, batch);
          for (const o of res.outcomes) if (o.ok) acknowledged.push(o.itemId);
        } catch {
          // The replica died mid-call: nothing of this call was acknowledged.
        }
      }
    })();
    try {
      await eventually(async () => acknowledged.length >= 12, 60_000);
      const exit = child.stop('SIGKILL');
      killed = true;
      expect((await exit).signal).toBe('SIGKILL');
      await uploads;
    } finally {
      client.close();
      if (!child.exit()) await child.stop('SIGKILL');
      await fs.rm(dataDir, { recursive: true, force: true });
      await fs.rm(path.join(dataDir, '..', `${path.basename(dataDir)}.log`), { force: true });
    }
    expect(acknowledged.length).toBeGreaterThanOrEqual(12);
    for (const itemId of acknowledged) expect((await a.rpc.getItem({ itemId })).item?.itemId).toBe(itemId);
  });
});
