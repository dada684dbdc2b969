import { status } from '@grpc/grpc-js';
import { patternImage } from '../helpers/images.js';
import { expectStatus, makeTempDir, startTestServer, type TestServer } from '../helpers/server.js';

// Several views per catalog item over gRPC: UpsertItems with `view`, Search hits name the best
// view and list each item once, DeleteItem removes one view or the item with all its views, and
// views survive a restart.
describe('views per catalog item', () => {
  let server: TestServer;
  let dataDir: string;
  const images: Buffer[] = [];

  beforeAll(async () => {
    dataDir = await makeTempDir();
    for (let i = 0; i < 12; i++) images.push(await patternImage(i * 7 + 1));
    server = await startTestServer({ dataDir });
  });
  afterAll(async () => {
    await server?.stop();
  });

  test('a hit is the item, scored by its best view', async () => {
    const up = await server.rpc.upsertItems([
      ...Array.from({ length: 10 }, (_, i) => ({ itemId: `w-${i}`, image: images[i], metadata: { n: String(i) } })),
      { itemId: 'w-0', view: 'angle', image: images[10], metadata: { n: '0' } },
      { itemId: 'w-0', view: 'back', image: images[11], metadata: { n: '0' } },
    ]);
    expect(up.upserted).toBe(12);
    const byAngle = await server.rpc.search({ image: images[10], topK: 5 });
    expect(byAngle.hits[0]).toMatchObject({ itemId: 'w-0', view: 'angle' });
    expect(byAngle.hits[0].score).toBeGreaterThan(0.99);
    expect(byAngle.hits.filter((h) => h.itemId === 'w-0')).toHaveLength(1);
    const byMain = await server.rpc.search({ image: images[0], topK: 3 });
    expect(byMain.hits[0].itemId).toBe('w-0');
    expect(byMain.hits[0].view ?? '').toBe('');
    const list = await server.rpc.listItems({ pageSize: 100 });
    expect(list.items.map((i) => i.itemId).sort()).toEqual(Array.from({ length: 10 }, (_, i) => `w-${i}`).sort());
    expect((await server.rpc.getCatalogStats()).itemCount).toBe(10);
  });

  test('bad view names are refused with the field named', async () => {
    const r = await server.rpc.upsertItems([{ itemId: 'w-1', view: 'no spaces', image: images[1], metadata: {} }]);
    expect(r.outcomes[0]).toMatchObject({ ok: false, error: { codeName: 'INVALID_ARGUMENT', message: expect.stringContaining('view') } });
    await expectStatus(server.rpc.deleteItem({ itemId: 'w-1', view: 'a#b' }), status.INVALID_ARGUMENT, 'view');
    const orphan = await server.rpc.upsertItems([{ itemId: 'nobody', view: 'angle', image: images[1], metadata: {} }]);
    expect(orphan.outcomes[0]).toMatchObject({ ok: false, error: { codeName: 'INVALID_ARGUMENT', message: expect.stringContaining('no main image yet') } });
  });

  test('views survive a restart; deleting a view keeps the item, deleting the item drops its views', async () => {
    await server.stop();
    server = await startTestServer({ dataDir });
    expect((await server.rpc.search({ image: images[11], topK: 1 })).hits[0]).toMatchObject({ itemId: 'w-0', view: 'back' });
    expect((await server.rpc.deleteItem({ itemId: 'w-0', view: 'back' })).deleted).toBe(true);
    expect((await server.rpc.deleteItem({ itemId: 'w-0', view: 'back' })).deleted).toBe(false);
    const afterView = await server.rpc.search({ image: images[11], topK: 10 });
    expect(afterView.hits.find((h) => h.itemId === 'w-0')?.view ?? '').not.toBe('back');
    expect((await server.rpc.deleteItem({ itemId: 'w-0' })).deleted).toBe(true);
    const gone = await server.rpc.search({ image: images[10], topK: 10 });
    expect(gone.hits.map((h) => h.itemId)).not.toContain('w-0');
    await server.stop();
    server = await startTestServer({ dataDir });
    expect((await server.rpc.search({ image: images[10], topK: 10 })).hits.map((h) => h.itemId)).not.toContain('w-0');
    expect((await server.rpc.getCatalogStats()).itemCount).toBe(9);
  });
});
