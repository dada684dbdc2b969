/**
 * Overload, deadlines, cancellation and graceful shutdown, against the real server and model.
 * Work counts come from a pass-through spy on the embedder's batch runs (the real model still runs).
 */
import { Metadata, status, type ServiceError } from '@grpc/grpc-js';
import { createTwinlensServer } from '../../src/server/index.js';
import { silentLogger } from '../../src/observability/index.js';
import type { SearchResponse } from '../../src/gen/twinlens/v1/twinlens.js';
import { patternImage } from '../helpers/images.js';
import { makeTempDir, startTestServer, type TestServer, upsertItems } from '../helpers/server.js';
import { until } from '../helpers/until.js';

/**
 * Counts images that reach the model, without changing what the model does; `hold()` makes the
 * next batch wait (still running the real model afterwards) so requests queue behind it.
 */
function spyOnModel(ts: TestServer): { images: () => number; hold: () => () => void } {
  const embedder = ts.server.engine.embedder;
  const original = embedder.embedBatch.bind(embedder);
  let images = 0;
  let gate: Promise<void> | undefined;
  embedder.embedBatch = async (batch) => {
    images += batch.length;
    if (gate) await gate;
    return original(batch);
  };
  return {
    images: () => images,
    hold: () => {
      let release!: () => void;
      gate = new Promise((r) => (release = r));
      return () => {
        gate = undefined;
        release();
      };
    },
  };
}


function searchWithDeadline(ts: TestServer, image: Buffer, deadlineMs: number): Promise<SearchResponse> {
  return new Promise((resolve, reject) =>
    ts.twinlens.search({ image, topK: 3, shortlistK: 0, filter: {} }, new Metadata(), { deadline: Date.now() + deadlineMs }, (e, r) =>
      e ? reject(e) : resolve(r),
    ),
  );
}

describe('overload', () => {
  let ts: TestServer;
  beforeAll(async () => {
    ts = await startTestServer({ maxImagesInProgress: 4 });
    await ts.rpc.upsertItems([{ itemId: 'a', image: await patternImage(1) }]);
  });
  afterAll(() => ts?.stop());

  test('a burst far above capacity gets RESOURCE_EXHAUSTED at once while admitted work completes', async () => {
    const image = await patternImage(7);
    // The model is held until every call beyond capacity has been answered, so exactly 4 are
    // admitted however fast this machine is, and no refusal can have waited for the model.
    const spy = spyOnModel(ts);
    const release = spy.hold();
    let answered = 0;
    const calls = Array.from({ length: 120 }, () =>
      ts.rpc
        .search({ image, topK: 1 })
        .then(
          (r) => ({ ok: true as const, top: r.hits[0]?.itemId }),
          (e: ServiceError) => ({ ok: false as const, code: e.code, details: e.details }),
        )
        .finally(() => answered++),
    );
    await until(() => answered === 116, 60_000).finally(release);
    const outcomes = await Promise.all(calls);
    const refused = outcomes.filter((o) => !o.ok);
    const served = outcomes.filter((o) => o.ok);
    // Every answer is either a result or a clear overload refusal: nothing else goes wrong.
    for (const o of refused) {
      expect(o).toMatchObject({ code: status.RESOURCE_EXHAUSTED, details: expect.stringContaining('server is at capacity (4 images in progress)') });
    }
    expect(refused.length).toBe(116);
    expect(served.length).toBe(4);
    expect(served.every((o) => o.top === 'a')).toBe(true);
    expect(ts.server.engine.gate.inUse).toBe(0);
    // The server keeps serving.
    await expect(ts.rpc.search({ image, topK: 1 })).resolves.toMatchObject({ hits: [expect.objectContaining({ itemId: 'a' })] });
  });

  test('streamed items wait for capacity instead of failing', async () => {
    const images = await Promise.all(Array.from({ length: 12 }, (_, i) => patternImage(100 + i)));
    const res = await upsertItems(ts.catalog, images.map((image, i) => ({ itemId: `s${i}`, image })));
    expect(res.failed).toBe(0);
    expect(res.upserted).toBe(12);
  });
});

describe('deadlines and cancellation', () => {
  let ts: TestServer;
  beforeAll(async () => {
    ts = await startTestServer();
    await ts.rpc.upsertItems([{ itemId: 'a', image: await patternImage(1) }]);
  });
  afterAll(() => ts?.stop());

  test('requests whose deadline passes while queued are dropped before the model: DEADLINE_EXCEEDED', async () => {
    const spy = spyOnModel(ts);
    const image = await patternImage(9, 'jpeg', 640);
    const release = spy.hold();
    const blocker = ts.rpc.search({ image, topK: 1 }); // occupies the model
    try {
      await until(() => spy.images() === 1);
      // The deadline leaves a loaded machine time to decode all ten; however many are queued when
      // it passes, none may reach the model.
      const queued = Array.from({ length: 10 }, () => searchWithDeadline(ts, image, 2000).catch((e: ServiceError) => e));
      let mostQueued = 0;
      const watch = setInterval(() => (mostQueued = Math.max(mostQueued, ts.server.engine.embedder.queueDepth)), 5);
      const results = await Promise.all(queued); // the deadlines pass while the model is held
      clearInterval(watch);
      // The client times out on its own clock; wait for the server's side to drop the queued work.
      await until(() => ts.server.engine.embedder.queueDepth === 0, 5000);
      for (const r of results) expect((r as ServiceError).code).toBe(status.DEADLINE_EXCEEDED);
      expect(mostQueued).toBeGreaterThan(0);
    } finally {
      release();
    }
    await blocker;
    await new Promise((r) => setTimeout(r, 100));
    expect(spy.images()).toBe(1); // none of the expired ten reached the model
    expect(ts.server.engine.embedder.queueDepth).toBe(0);
    expect(ts.server.engine.gate.inUse).toBe(0);
  });

  test('a cancelled request is dropped before the model and the client sees CANCELLED', async () => {
    const spy = spyOnModel(ts);
    const image = await patternImage(11, 'jpeg', 640);
    const release = spy.hold();
    const blocker = ts.rpc.search({ image, topK: 1 });
    try {
      await until(() => spy.images() === 1);
      let cancel!: () => void;
      const cancelled = new Promise<ServiceError>((resolve) => {
        const call = ts.twinlens.search({ image, topK: 1, shortlistK: 0, filter: {} }, (e) => resolve(e!));
        cancel = () => call.cancel();
      });
      await until(() => ts.server.engine.embedder.queueDepth === 1);
      cancel();
      expect((await cancelled).code).toBe(status.CANCELLED);
      await until(() => ts.server.engine.embedder.queueDepth === 0);
    } finally {
      release();
    }
    await blocker;
    await new Promise((r) => setTimeout(r, 100));
    expect(spy.images()).toBe(1);
    expect(ts.server.engine.gate.inUse).toBe(0);
  });
});

describe('graceful shutdown', () => {
  test('running uploads finish and persist, new calls are refused, close resolves', async () => {
    const dataDir = await makeTempDir();
    const ts = await startTestServer({ dataDir });
    const images = await Promise.all(Array.from({ length: 24 }, (_, i) => patternImage(200 + i)));
    const upload = upsertItems(ts.catalog, images.map((image, i) => ({ itemId: `g${i}`, image })));
    // Close once the upload is under way (a fixed wait can pass before a loaded machine connects).
    await until(() => ts.server.engine.catalog.size > 0, 60_000);
    const closing = ts.server.close();
    const res = await upload;
    expect(res.upserted).toBe(24);
    await closing;
    await expect(ts.rpc.getCatalogStats()).rejects.toMatchObject({ code: status.UNAVAILABLE });
    await ts.stop();

    const again = await createTwinlensServer({ host: '127.0.0.1', port: 0, dataDir, executionProviders: ['cpu'], catalogViews: 0 }, silentLogger);
    try {
      expect(again.engine.catalog.size).toBe(24);
    } finally {
      await again.close();
    }
  });
});
