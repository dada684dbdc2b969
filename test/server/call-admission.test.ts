/**
 * Admission of Search, Compare and Embed on their request headers (maxImageCallsInProgress),
 * against the real server and model: calls beyond capacity are refused with RESOURCE_EXHAUSTED
 * before their message is read; every way a call can end gives its slot back exactly once; auth
 * refuses first. The model is held with a pass-through spy (the real model still runs) so calls
 * stay in progress for as long as a test needs.
 */
import { Metadata, type ServiceError, status } from '@grpc/grpc-js';
import type { ImageRef, SearchResponse } from '../../src/gen/twinlens/v1/twinlens.js';
import { patternImage, randomBytes } from '../helpers/images.js';
import { expectStatus, startTestServer, type TestServer } from '../helpers/server.js';
import { READ_TOKEN, type SecureClients, secureClients } from '../security/secure-clients.js';
import { until } from '../helpers/until.js';

/** Makes the model's next batches wait until the returned function is called; counts images that reach it. */
function holdModel(ts: TestServer): { images: () => number; release: () => void } {
  const embedder = ts.server.engine.embedder;
  const original = embedder.embedBatch.bind(embedder);
  let images = 0;
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  embedder.embedBatch = async (batch) => {
    images += batch.length;
    await gate;
    return original(batch);
  };
  return {
    images: () => images,
    release: () => {
      embedder.embedBatch = original;
      release();
    },
  };
}


const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const byImage = (value: Buffer): ImageRef => ({ source: { $case: 'image', value } });
const CAPACITY = 3;
const AT_CAPACITY = `server is at capacity (${CAPACITY} image calls in progress)`;

describe('call admission on request headers', () => {
  let ts: TestServer;
  let image: Buffer;
  beforeAll(async () => {
    // A small message limit: a refused call whose message is larger proves its message was never read.
    ts = await startTestServer({ maxImageCallsInProgress: CAPACITY, maxMessageBytes: 256 * 1024 });
    image = await patternImage(31);
    await ts.rpc.upsertItems([{ itemId: 'a', image }]);
  });
  afterAll(() => ts?.stop());
  afterEach(() => expect(ts.server.callAdmission.inProgress).toBe(0));

  test('calls beyond capacity get RESOURCE_EXHAUSTED on their headers, other methods pass', async () => {
    const model = holdModel(ts);
    const engine = ts.server.engine;
    const started = { search: jest.spyOn(engine, 'search'), compare: jest.spyOn(engine, 'compare'), embed: jest.spyOn(engine, 'embed') };
    const held = [
      ts.rpc.search({ image, topK: 1 }),
      ts.rpc.compare({ a: byImage(image), b: byImage(image) }),
      ts.rpc.embed({ image }),
    ];
    await until(() => ts.server.callAdmission.inProgress === CAPACITY);
    const refusedBefore = ts.server.callAdmission.refused;

    // Each image method is refused while the model still holds the admitted ones.
    await expectStatus(ts.rpc.search({ image, topK: 1 }), status.RESOURCE_EXHAUSTED, AT_CAPACITY, 'retry with back-off');
    await expectStatus(ts.rpc.compare({ a: byImage(image), b: byImage(image) }), status.RESOURCE_EXHAUSTED, AT_CAPACITY);
    await expectStatus(ts.rpc.embed({ image }), status.RESOURCE_EXHAUSTED, AT_CAPACITY);
    // 1 MB against a 256 KiB message limit: had the message been read, grpc-js would have said
    // "Received message larger than max" instead.
    await expectStatus(ts.rpc.search({ image: randomBytes(1024 * 1024) }), status.RESOURCE_EXHAUSTED, AT_CAPACITY);
    expect(ts.server.callAdmission.refused - refusedBefore).toBe(4);
    // No handler started for a refused call: only the three admitted ones reached the engine.
    expect([started.search, started.compare, started.embed].map((s) => s.mock.calls.length)).toEqual([1, 1, 1]);
    Object.values(started).forEach((s) => s.mockRestore());

    // Methods that are not counted pass while it is full.
    await expect(ts.rpc.getServiceInfo()).resolves.toMatchObject({ modelVersion: expect.any(String) });
    await expect(ts.rpc.getItem({ itemId: 'a' })).resolves.toMatchObject({ item: expect.objectContaining({ itemId: 'a' }) });

    model.release();
    const [search, compare, embed] = await Promise.all(held);
    expect((search as SearchResponse).hits[0].itemId).toBe('a');
    expect(compare).toMatchObject({ match: true });
    expect(embed).toMatchObject({ embedding: expect.any(Array) });
    // The same message over the limit, admitted now, is read and refused for its size.
    await expectStatus(ts.rpc.search({ image: randomBytes(1024 * 1024) }), status.RESOURCE_EXHAUSTED, 'larger than max');
  });

  test('slots come back after success, error, client cancel and deadline, each exactly once', async () => {
    const model = holdModel(ts);
    const blocker = ts.rpc.search({ image, topK: 1 }); // occupies the model
    await until(() => model.images() === 1);

    // Cancelled by the client while queued for the model.
    let cancel!: () => void;
    const cancelled = new Promise<ServiceError>((resolve) => {
      const c = ts.twinlens.search({ image, topK: 1, shortlistK: 0, filter: {} }, (e) => resolve(e!));
      cancel = () => c.cancel();
    });
    await until(() => ts.server.engine.embedder.queueDepth === 1);
    expect(ts.server.callAdmission.inProgress).toBe(2);
    cancel();
    expect((await cancelled).code).toBe(status.CANCELLED);
    await until(() => ts.server.callAdmission.inProgress === 1);

    // Deadline passes while queued: grpc-js sends DEADLINE_EXCEEDED from below the interceptors.
    const expired = await new Promise<ServiceError>((resolve) =>
      ts.twinlens.search({ image, topK: 1, shortlistK: 0, filter: {} }, new Metadata(), { deadline: Date.now() + 300 }, (e) =>
        resolve(e!),
      ),
    );
    expect(expired.code).toBe(status.DEADLINE_EXCEEDED);
    await until(() => ts.server.callAdmission.inProgress === 1);

    // An error status (bad image) while the model is held.
    await expectStatus(ts.rpc.embed({ image: randomBytes(4096) }), status.INVALID_ARGUMENT);
    expect(ts.server.callAdmission.inProgress).toBe(1);

    model.release();
    await blocker;
    // The cancelled and expired handlers finish late, after the model is released: their statuses
    // pass the interceptor again and must not give a second slot back.
    await sleep(300);
    expect(ts.server.callAdmission.inProgress).toBe(0);

    // Capacity is exactly what it was: CAPACITY held, the rest refused.
    const again = holdModel(ts);
    const outcomes = Array.from({ length: CAPACITY + 2 }, () =>
      ts.rpc.search({ image, topK: 1 }).then(
        () => 'OK',
        (e: ServiceError) => `${status[e.code]}`,
      ),
    );
    await until(() => ts.server.callAdmission.inProgress === CAPACITY);
    await sleep(100);
    again.release();
    const codes = await Promise.all(outcomes);
    expect(codes.filter((c) => c === 'OK')).toHaveLength(CAPACITY);
    expect(codes.filter((c) => c === 'RESOURCE_EXHAUSTED')).toHaveLength(2);
  });

  test('a burst of cancellations at capacity leaves no slot taken', async () => {
    const model = holdModel(ts);
    const calls = Array.from({ length: 20 }, () => {
      let c!: { cancel(): void };
      const done = new Promise<number>((resolve) => {
        c = ts.twinlens.search({ image, topK: 1, shortlistK: 0, filter: {} }, (e) => resolve(e ? e.code : status.OK));
      });
      return { cancel: () => c.cancel(), done };
    });
    await until(() => ts.server.callAdmission.inProgress === CAPACITY);
    calls.forEach((c) => c.cancel());
    const codes = await Promise.all(calls.map((c) => c.done));
    // Each call was either refused on its headers or cancelled.
    expect(codes.every((c) => c === status.CANCELLED || c === status.RESOURCE_EXHAUSTED)).toBe(true);
    await until(() => ts.server.callAdmission.inProgress === 0);
    model.release();
    await sleep(300);
    expect(ts.server.callAdmission.inProgress).toBe(0);
    await expect(ts.rpc.search({ image, topK: 1 })).resolves.toMatchObject({ hits: [expect.objectContaining({ itemId: 'a' })] });
  });
});

describe('call admission behind authentication', () => {
  let ts: TestServer;
  let reader: SecureClients;
  let anonymous: SecureClients;
  let image: Buffer;
  beforeAll(async () => {
    ts = await startTestServer({ readTokens: [READ_TOKEN], maxImageCallsInProgress: 1 });
    reader = secureClients(ts.address, { token: READ_TOKEN });
    anonymous = secureClients(ts.address);
    image = await patternImage(32);
  });
  afterAll(async () => {
    reader?.close();
    anonymous?.close();
    await ts?.stop();
  });

  test('an unauthenticated call is refused by auth (UNAUTHENTICATED) and takes no slot', async () => {
    // With a free slot, the anonymous call still takes none.
    await expectStatus(anonymous.rpc.embed({ image }), status.UNAUTHENTICATED, 'missing bearer token');
    expect(ts.server.callAdmission.inProgress).toBe(0);

    const model = holdModel(ts);
    const held = reader.rpc.embed({ image });
    await until(() => ts.server.callAdmission.inProgress === 1);
    // Full: the anonymous call hears UNAUTHENTICATED, not RESOURCE_EXHAUSTED; the reader hears RESOURCE_EXHAUSTED.
    await expectStatus(anonymous.rpc.search({ image, topK: 1 }), status.UNAUTHENTICATED, 'missing bearer token');
    await expectStatus(reader.rpc.search({ image, topK: 1 }), status.RESOURCE_EXHAUSTED, 'server is at capacity (1 image calls in progress)');
    expect(ts.server.callAdmission.refused).toBe(1);
    model.release();
    await expect(held).resolves.toMatchObject({ embedding: expect.any(Array) });
    await until(() => ts.server.callAdmission.inProgress === 0);
  });
});
