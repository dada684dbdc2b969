import { status } from '@grpc/grpc-js';
import sharp from 'sharp';
import { ExampleLabel } from '../../src/gen/twinlens/v1/twinlens.js';
import { patternImage, randomBytes } from '../helpers/images.js';
import { addExamples, confirmMatch, deleteExample, listExamples } from '../helpers/examples.js';
import { expectStatus, type TestServer } from '../helpers/server.js';

const SAME = ExampleLabel.EXAMPLE_LABEL_SAME;
const DIFFERENT = ExampleLabel.EXAMPLE_LABEL_DIFFERENT;

/**
 * The examples API on a server whose catalog holds items it-0 .. it-3 and no examples, the same
 * on both stores: a bad example gets its own error while the rest land (INVALID_ARGUMENT for a bad
 * image or label, NOT_FOUND for an unknown item); counts in GetCatalogStats; ListExamples paging;
 * DeleteExample; deleting the item deletes its examples. Leaves it-0 deleted.
 */
export async function exampleLifecycle(server: TestServer): Promise<void> {
  const r = await addExamples(server.catalog, [
    { itemId: 'it-0', image: await patternImage(100), label: SAME, metadata: { by: 'alice' } },
    { itemId: 'it-0', image: randomBytes(), label: SAME },
    { itemId: 'no-such-item', image: await patternImage(101), label: SAME },
    { itemId: 'it-0', image: await patternImage(102), label: ExampleLabel.EXAMPLE_LABEL_UNSPECIFIED },
    { itemId: 'it-0', image: await patternImage(103), label: DIFFERENT },
    { itemId: 'it-0', image: await patternImage(104), label: SAME },
  ]);
  expect(r.outcomes.map((o) => [o.ok, o.error?.code ?? 0])).toEqual([
    [true, 0],
    [false, status.INVALID_ARGUMENT],
    [false, status.NOT_FOUND],
    [false, status.INVALID_ARGUMENT],
    [true, 0],
    [true, 0],
  ]);
  expect(r.outcomes[3].error?.message).toContain('label');
  expect({ added: r.added, failed: r.failed }).toEqual({ added: 3, failed: 3 });
  const stats = await server.rpc.getCatalogStats();
  expect({ same: stats.sameExampleCount, different: stats.differentExampleCount, items: stats.itemCount }).toEqual({ same: 2, different: 1, items: 4 });
  // Examples are not items: ListItems does not page them.
  expect((await server.rpc.listItems({ pageSize: 100 })).items.map((i) => i.itemId)).toEqual(['it-0', 'it-1', 'it-2', 'it-3']);

  const page1 = await listExamples(server.catalog, { itemId: 'it-0', pageSize: 2 });
  expect(page1.examples).toHaveLength(2);
  expect(page1.totalCount).toBe(3);
  expect(page1.nextPageToken).not.toBe('');
  const page2 = await listExamples(server.catalog, { itemId: 'it-0', pageSize: 2, pageToken: page1.nextPageToken });
  expect(page2.examples).toHaveLength(1);
  expect(page2.nextPageToken).toBe('');
  const all = [...page1.examples, ...page2.examples];
  expect(all.map((e) => e.exampleId)).toEqual(r.outcomes.filter((o) => o.ok).map((o) => o.exampleId));
  expect(all.map((e) => e.label)).toEqual([SAME, DIFFERENT, SAME]);
  expect(all[0]).toMatchObject({ itemId: 'it-0', metadata: { by: 'alice' }, modelVersion: stats.modelVersion });
  expect(all[0].imageBytes).toBeGreaterThan(0);
  expect((await listExamples(server.catalog, { itemId: 'it-1' })).examples).toEqual([]);
  await expectStatus(listExamples(server.catalog, { itemId: 'no-such-item' }), status.NOT_FOUND, 'no-such-item');

  expect((await deleteExample(server.catalog, all[1].exampleId)).deleted).toBe(true);
  expect((await deleteExample(server.catalog, all[1].exampleId)).deleted).toBe(false);
  await expectStatus(deleteExample(server.catalog, 'not an id!'), status.INVALID_ARGUMENT, 'example_id');
  expect((await listExamples(server.catalog, { itemId: 'it-0' })).examples.map((e) => e.exampleId)).toEqual([all[0].exampleId, all[2].exampleId]);
  const after = await server.rpc.getCatalogStats();
  expect({ same: after.sameExampleCount, different: after.differentExampleCount }).toEqual({ same: 2, different: 0 });

  // Deleting the item deletes its examples (the rows, not only the listing).
  expect((await server.rpc.deleteItem({ itemId: 'it-0' })).deleted).toBe(true);
  expect(await server.rpc.getCatalogStats()).toMatchObject({ sameExampleCount: 0, differentExampleCount: 0, itemCount: 3 });
  expect((await deleteExample(server.catalog, all[0].exampleId)).deleted).toBe(false);
  const photo = await patternImage(100);
  expect((await server.rpc.search({ image: photo, topK: 10 })).hits.map((h) => h.itemId)).not.toContain('it-0');
}

/** The same picture, slightly brighter and re-encoded at a lower quality: a near-duplicate photo. */
export async function nearDuplicate(image: Buffer): Promise<Buffer> {
  return sharp(image).modulate({ brightness: 1.04 }).jpeg({ quality: 75 }).toBuffer();
}

/**
 * ConfirmMatch on a server with items c-0 .. c-7: the photo of a Search, confirmed as SAME for the
 * item it was least like, brings that item first for a near-duplicate of the photo (through the
 * example itself as a view with best-view scoring, through the item's folded vector with fold);
 * an unknown item gets NOT_FOUND.
 */
export async function confirmedPhotoWins(server: TestServer, exampleScoring: 'fold' | 'best-view'): Promise<void> {
  const photo = await patternImage(500);
  const twin = await nearDuplicate(photo);
  const before = await server.rpc.search({ image: photo, topK: 8 });
  expect(before.searchId).not.toBe('');
  // The item to confirm is the one the photo is least like: before confirming it is far from first.
  const target = before.hits[before.hits.length - 1].itemId;
  expect((await server.rpc.search({ image: twin, topK: 1 })).hits[0].itemId).not.toBe(target);

  const confirmed = await confirmMatch(server.catalog, { searchId: before.searchId, itemId: target, label: SAME });
  expect(confirmed.example).toMatchObject({ itemId: target, label: SAME, modelVersion: before.modelVersion });
  const hit = (await server.rpc.search({ image: twin, topK: 1 })).hits[0];
  expect({ itemId: hit.itemId, view: hit.view ?? '' }).toEqual({ itemId: target, view: exampleScoring === 'best-view' ? `@same.${confirmed.example!.exampleId}` : '' });
  await expectStatus(confirmMatch(server.catalog, { searchId: before.searchId, itemId: 'no-such-item', label: SAME }), status.NOT_FOUND, 'no-such-item');
}
