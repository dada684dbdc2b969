/**
 * Confirmed examples (the warm path) on store=postgres, with the real server over a throwaway
 * PostgreSQL 15 + pgvector cluster: the same examples API as the embedded store (examples.test.ts),
 * SAME examples scored fold or best-view, DIFFERENT ones never, the catalog bound to one scoring, and
 * examples re-embedded as queries are (folds redone) when the catalog switches model. Two replicas
 * over one database: replicas.postgres.test.ts.
 * Fails when PostgreSQL is missing.
 */
import * as path from 'node:path';
import { status } from '@grpc/grpc-js';
import pg from 'pg';
import { PACKAGE_ROOT } from '../../src/config/index.js';
import { ExampleLabel } from '../../src/gen/twinlens/v1/twinlens.js';
import { patternImage } from '../helpers/images.js';
import { startPostgres, type PostgresCluster } from '../helpers/postgres.js';
import { dot, expectStatus, startTestServer, type TestServer } from '../helpers/server.js';
import { addExamples, listExamples, deleteExample, startAdaptation } from '../helpers/examples.js';
import { confirmedPhotoWins, exampleLifecycle } from './examples-api.js';

const V2 = path.join(PACKAGE_ROOT, 'test', 'fixtures', 'tiny-twin', 'manifest.json');
const V2_VERSION = 'tiny-twin-test-fixture-1';
const SAME = ExampleLabel.EXAMPLE_LABEL_SAME;
const DIFFERENT = ExampleLabel.EXAMPLE_LABEL_DIFFERENT;



let cluster: PostgresCluster;
const servers: TestServer[] = [];

beforeAll(async () => {
  cluster = await startPostgres();
});

afterAll(async () => {
  for (const s of servers) await s.stop();
  await cluster?.destroy();
});

async function serve(url: string, more: Parameters<typeof startTestServer>[0] = {}): Promise<TestServer> {
  const s = await startTestServer({ store: 'postgres', postgresUrl: url, ...more });
  servers.push(s);
  return s;
}

/** The unit vector along `v`. */
function unit(v: ArrayLike<number>): number[] {
  const n = Math.hypot(...Array.from(v));
  return Array.from(v, (x) => x / n);
}

/** The fold of a catalog vector and example vectors, as the embedded catalog computes it. */
function fold(catalogVector: ArrayLike<number>, ...examples: ArrayLike<number>[]): number[] {
  return unit(Array.from(catalogVector, (x, i) => x + examples.reduce((sum, e) => sum + e[i], 0)));
}

function expectVectorClose(actual: ArrayLike<number>, expected: ArrayLike<number>): void {
  expect(actual.length).toBe(expected.length);
  expect(dot(actual, expected)).toBeGreaterThan(0.99999);
}

describe.each(['fold', 'best-view'] as const)('confirmed examples on PostgreSQL, exampleScoring %s', (exampleScoring) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await serve(await cluster.createDatabase(`examples_${exampleScoring.replace('-', '_')}`), { exampleScoring });
    const up = await server.rpc.upsertItems(
      await Promise.all([0, 1, 2, 3].map(async (i) => ({ itemId: `it-${i}`, image: await patternImage(i), metadata: { shelf: i % 2 ? 'odd' : 'even' } }))),
    );
    expect(up.upserted).toBe(4);
  });

  test('a bad example gets its own error while the rest land; counts, paging and delete; the item takes its examples with it', () =>
    exampleLifecycle(server));

  test('a DIFFERENT example changes no Search result; a SAME one counts at once, under a filter on its item too', async () => {
    const photo = await patternImage(600);
    const before = await server.rpc.search({ image: photo, topK: 3 });
    const target = before.hits[before.hits.length - 1].itemId;
    expect(before.hits[0].itemId).not.toBe(target);

    const different = await addExamples(server.catalog, [{ itemId: target, image: photo, label: DIFFERENT }]);
    expect(different).toMatchObject({ added: 1, failed: 0 });
    const withDifferent = await server.rpc.search({ image: photo, topK: 3 });
    expect(withDifferent.hits.map((h) => [h.itemId, h.view])).toEqual(before.hits.map((h) => [h.itemId, h.view]));
    withDifferent.hits.forEach((h, i) => expect(h.score).toBeCloseTo(before.hits[i].score, 5));

    const catalogVector = (await server.rpc.getItem({ itemId: target, includeEmbedding: true })).embedding;
    const same = await addExamples(server.catalog, [{ itemId: target, image: photo, label: SAME }]);
    expect(same).toMatchObject({ added: 1, failed: 0 });
    const view = exampleScoring === 'best-view' ? `@same.${same.outcomes[0].exampleId}` : '';
    const hit = (await server.rpc.search({ image: photo, topK: 1 })).hits[0];
    expect({ itemId: hit.itemId, view: hit.view ?? '' }).toEqual({ itemId: target, view });
    const photoVector = (await server.rpc.embed({ image: photo })).embedding;
    if (exampleScoring === 'best-view') expect(hit.score).toBeGreaterThan(0.99);
    else {
      // The item's vector is the fold of its catalog vector and the photo's, as on the embedded store.
      const folded = fold(catalogVector, photoVector);
      expectVectorClose((await server.rpc.getItem({ itemId: target, includeEmbedding: true })).embedding, folded);
      expect(hit.score).toBeCloseTo(dot(photoVector, folded), 4);
    }
    // The example carries its item's metadata in Search: filters and hits see the item.
    const shelf = Number(target.slice(3)) % 2 ? 'odd' : 'even';
    const filtered = (await server.rpc.search({ image: photo, topK: 1, filter: { shelf } })).hits[0];
    expect({ itemId: filtered.itemId, view: filtered.view ?? '', metadata: filtered.metadata }).toEqual({ itemId: target, view, metadata: { shelf } });
    const other = (await server.rpc.search({ image: photo, topK: 5, filter: { shelf: shelf === 'odd' ? 'even' : 'odd' } })).hits;
    expect(other.map((h) => h.itemId)).not.toContain(target);
    expect(other.length).toBeGreaterThan(0);

    // Deleting the example gives the item its catalog vector back.
    expect((await deleteExample(server.catalog, same.outcomes[0].exampleId)).deleted).toBe(true);
    expectVectorClose((await server.rpc.getItem({ itemId: target, includeEmbedding: true })).embedding, catalogVector);
    const afterDelete = await server.rpc.search({ image: photo, topK: 3 });
    expect(afterDelete.hits.map((h) => [h.itemId, h.view])).toEqual(before.hits.map((h) => [h.itemId, h.view]));
  });

  test('a replaced catalog image keeps its SAME examples in the search', async () => {
    const item = 'it-1';
    const photo = await patternImage(610);
    const added = await addExamples(server.catalog, [{ itemId: item, image: photo, label: SAME }]);
    expect(added).toMatchObject({ added: 1, failed: 0 });
    const replacement = await patternImage(611);
    expect((await server.rpc.upsertItems([{ itemId: item, image: replacement, metadata: { shelf: 'odd' } }])).outcomes[0]).toMatchObject({ ok: true });
    const stored = (await server.rpc.getItem({ itemId: item, includeEmbedding: true })).embedding;
    const replacementVector = (await server.rpc.embed({ image: replacement })).embedding;
    const photoVector = (await server.rpc.embed({ image: photo })).embedding;
    expectVectorClose(stored, exampleScoring === 'fold' ? fold(replacementVector, photoVector) : replacementVector);
    expect((await server.rpc.search({ image: photo, topK: 1 })).hits[0].itemId).toBe(item);
  });

  test('StartAdaptation stays refused: the whitening adapter reads the embedded catalog', async () => {
    await expectStatus(startAdaptation(server.catalog), status.FAILED_PRECONDITION, 'embedded');
  });
});

test.each(['fold', 'best-view'] as const)('ConfirmMatch with exampleScoring %s: a query photo confirmed as SAME brings its item first for a near-duplicate of it', async (exampleScoring) => {
  const server = await serve(await cluster.createDatabase(`confirm_${exampleScoring.replace('-', '_')}`), { exampleScoring });
  await server.rpc.upsertItems(await Promise.all(Array.from({ length: 8 }, async (_, i) => ({ itemId: `c-${i}`, image: await patternImage(i), metadata: {} }))));
  await confirmedPhotoWins(server, exampleScoring);
});

test.each(['fold', 'best-view'] as const)('exampleScoring %s: a model switch re-embeds examples the way examples are embedded (as a query, with its mirror), not as catalog images', async (exampleScoring) => {
  const url = await cluster.createDatabase(`switch_examples_${exampleScoring.replace('-', '_')}`);
  // A catalog image is averaged with 2 simulated views (crops, lighting); an example photo is
  // embedded as a query is (with its mirror), never with simulated views.
  const old = await serve(url, { queryMirror: true, catalogViews: 2, exampleScoring });
  await old.rpc.upsertItems(await Promise.all([0, 1, 2].map(async (i) => ({ itemId: `s-${i}`, image: await patternImage(i), metadata: {} }))));
  const photo = await patternImage(700);
  const added = await addExamples(old.catalog, [
    { itemId: 's-1', image: photo, label: SAME },
    { itemId: 's-2', image: await patternImage(701), label: DIFFERENT },
  ]);
  expect(added).toMatchObject({ added: 2, failed: 0 });
  await old.stop();

  const next = await serve(url, { queryMirror: true, catalogViews: 2, modelManifest: V2, exampleScoring });
  expect(await next.rpc.getCatalogStats()).toMatchObject({ modelVersion: V2_VERSION, sameExampleCount: 1, differentExampleCount: 1, itemCount: 3 });
  const listed = [...(await listExamples(next.catalog, { itemId: 's-1' })).examples, ...(await listExamples(next.catalog, { itemId: 's-2' })).examples];
  expect(listed.map((e) => e.exampleId)).toEqual(added.outcomes.map((o) => o.exampleId));
  expect(listed.map((e) => e.modelVersion)).toEqual([V2_VERSION, V2_VERSION]);

  const engine = next.server.engine;
  const asQuery = (await engine.embedQuery(photo)).embedding;
  const asCatalogImage = (await engine.embedCatalogImage(photo)).embedding;
  // The two ways differ for this photo, so the check below can tell them apart.
  expect(dot(asQuery, asCatalogImage)).toBeLessThan(0.9999);
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const rows = (await client.query<{ e: string; v: string }>(`select embedding::text as e, model_version as v from twinlens_rows where view = $1`, [`@same.${added.outcomes[0].exampleId}`])).rows;
    expect(rows).toHaveLength(1);
    expect(rows[0].v).toBe(V2_VERSION);
    const stored = Float32Array.from(JSON.parse(rows[0].e) as number[]);
    expect(dot(stored, asQuery)).toBeGreaterThan(0.99999);
  } finally {
    await client.end();
  }
  // And it acts on Search under the new model: as a view, or folded into its item's new vector.
  if (exampleScoring === 'best-view') {
    expect((await next.rpc.search({ image: photo, topK: 1 })).hits[0]).toMatchObject({ itemId: 's-1', view: `@same.${added.outcomes[0].exampleId}` });
  } else {
    const catalogVector = (await engine.embedCatalogImage(await patternImage(1))).embedding;
    const stored = (await next.rpc.getItem({ itemId: 's-1', includeEmbedding: true })).embedding;
    expectVectorClose(stored, fold(catalogVector, asQuery));
    expect(dot(stored, catalogVector)).toBeLessThan(0.9999);
    // An item without SAME examples keeps its catalog vector.
    expectVectorClose((await next.rpc.getItem({ itemId: 's-2', includeEmbedding: true })).embedding, (await engine.embedCatalogImage(await patternImage(2))).embedding);
  }
});

test('the catalog is bound to one example scoring: a replica configured the other way is refused while SAME examples exist', async () => {
  const url = await cluster.createDatabase('scoring_binding');
  const first = await serve(url, { exampleScoring: 'fold' });
  await first.rpc.upsertItems([{ itemId: 'b-0', image: await patternImage(0), metadata: {} }]);
  // No SAME example yet: a replica may still change it (here: to best-view and back).
  const other = await serve(url, { exampleScoring: 'best-view' });
  await other.stop();
  // The first replica, configured fold, now finds the catalog bound to best-view: NOT_SERVING, UNAVAILABLE.
  const refused = await addExamples(first.catalog, [{ itemId: 'b-0', image: await patternImage(1), label: SAME }]);
  expect(refused.outcomes[0]).toMatchObject({ ok: false, error: { codeName: 'UNAVAILABLE' } });
  expect(refused.outcomes[0].error!.message).toContain('exampleScoring');
  await first.stop();
  const again = await serve(url, { exampleScoring: 'fold' });
  expect(await addExamples(again.catalog, [{ itemId: 'b-0', image: await patternImage(1), label: SAME }])).toMatchObject({ added: 1 });
  await expect(startTestServer({ store: 'postgres', postgresUrl: url, exampleScoring: 'best-view' })).rejects.toThrow(
    /scores confirmed examples fold .*exampleScoring=best-view/,
  );
});

test('exampleScoring fold: examples of one item written at once through two replicas all end up in its fold', async () => {
  const url = await cluster.createDatabase('fold_concurrent');
  const [a, b] = [await serve(url, { exampleScoring: 'fold' }), await serve(url, { exampleScoring: 'fold' })];
  await a.rpc.upsertItems([{ itemId: 'f-0', image: await patternImage(0), metadata: {} }]);
  const catalogVector = (await a.rpc.getItem({ itemId: 'f-0', includeEmbedding: true })).embedding;
  const photos = await Promise.all(Array.from({ length: 8 }, (_, i) => patternImage(800 + i)));
  const results = await Promise.all(photos.map((image, i) => addExamples((i % 2 ? b : a).catalog, [{ itemId: 'f-0', image, label: SAME }])));
  expect(results.map((r) => r.added)).toEqual(photos.map(() => 1));
  const vectors = await Promise.all(photos.map(async (image) => (await a.rpc.embed({ image })).embedding));
  expectVectorClose((await b.rpc.getItem({ itemId: 'f-0', includeEmbedding: true })).embedding, fold(catalogVector, ...vectors));
  // Deleted at once through both: the item gets its catalog vector back.
  const deleted = await Promise.all(results.map((r, i) => deleteExample((i % 2 ? a : b).catalog, r.outcomes[0].exampleId)));
  expect(deleted.every((d) => d.deleted)).toBe(true);
  expectVectorClose((await a.rpc.getItem({ itemId: 'f-0', includeEmbedding: true })).embedding, catalogVector);
});
