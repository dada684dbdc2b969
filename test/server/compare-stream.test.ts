/**
 * CompareStream end to end: one response per request whatever happens to the pair, errors as
 * per-pair outcomes that do not end the stream, and back-pressure when the client stops reading.
 */
import { status } from '@grpc/grpc-js';
import type { CompareStreamRequest, CompareStreamResponse, ImageRef } from '../../src/gen/twinlens/v1/twinlens.js';
import { patternImage, randomBytes } from '../helpers/images.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { until } from '../helpers/until.js';

const ITEMS = ['cs-0', 'cs-1', 'cs-2', 'cs-3', 'cs-4', 'cs-5'];

let ts: TestServer;
/** The image each catalog item was made from, by item id. */
const images = new Map<string, Buffer>();

const byImage = (value: Buffer): ImageRef => ({ source: { $case: 'image', value } });
const byId = (value: string): ImageRef => ({ source: { $case: 'itemId', value } });

beforeAll(async () => {
  ts = await startTestServer();
  for (const [i, itemId] of ITEMS.entries()) images.set(itemId, await patternImage(500 + i));
  const res = await ts.rpc.upsertItems(ITEMS.map((itemId) => ({ itemId, image: images.get(itemId) })));
  expect(res.failed).toBe(0);
});

afterAll(async () => {
  await ts?.stop();
});

/**
 * Writes every request (honouring back-pressure), ends, and collects every response. Fails, rather
 * than hanging until jest's timeout, when the stream has not ended within `timeoutMs`.
 */
function runStream(requests: CompareStreamRequest[], timeoutMs = 60_000): Promise<CompareStreamResponse[]> {
  return new Promise((resolve, reject) => {
    const responses: CompareStreamResponse[] = [];
    const call = ts.compareStream();
    const timer = setTimeout(() => {
      call.cancel();
      reject(new Error(`the stream did not end within ${timeoutMs} ms: ${responses.length} of ${requests.length} responses`));
    }, timeoutMs);
    call.on('data', (r: CompareStreamResponse) => responses.push(r));
    call.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    call.on('end', () => {
      clearTimeout(timer);
      resolve(responses);
    });
    (async () => {
      for (const r of requests) {
        if (!call.write(r)) await new Promise<void>((ok) => call.once('drain', () => ok()));
      }
      call.end();
    })().catch(reject);
  });
}

interface Expected {
  /** Both sides show the same picture (score ~1), or two different ones. */
  same?: boolean;
  /** The pair is bad: this status code and message substring. */
  error?: { code: number; message: string };
}

test('120 mixed pairs with bad ones in between: one response each, ids echoed, errors per pair, stream to the end', async () => {
  const requests: CompareStreamRequest[] = [];
  const expected = new Map<string, Expected>();
  const bad: Record<number, { a: ImageRef | undefined; b: ImageRef | undefined; error: Expected['error'] }> = {
    7: { a: byImage(randomBytes(2048)), b: byId('cs-1'), error: { code: status.INVALID_ARGUMENT, message: 'image could not be read' } },
    23: { a: byId('cs-2'), b: byId('no-such-item'), error: { code: status.NOT_FOUND, message: "'no-such-item' does not exist" } },
    51: { a: byImage(images.get('cs-0')!), b: undefined, error: { code: status.INVALID_ARGUMENT, message: 'b: missing' } },
    64: { a: byId('not valid!'), b: byId('cs-3'), error: { code: status.INVALID_ARGUMENT, message: 'not a valid item id' } },
    88: { a: byImage(Buffer.alloc(0)), b: byId('cs-3'), error: { code: status.INVALID_ARGUMENT, message: 'a: set either image' } },
    101: { a: byId('cs-4'), b: byImage(randomBytes(500, 7)), error: { code: status.INVALID_ARGUMENT, message: 'image could not be read' } },
  };
  for (let i = 0; i < 120; i++) {
    const clientId = `pair-${i}`;
    if (bad[i]) {
      requests.push({ clientId, a: bad[i].a, b: bad[i].b });
      expected.set(clientId, { error: bad[i].error });
      continue;
    }
    const x = ITEMS[i % ITEMS.length];
    // Every third pair compares two different items; the others compare a picture with itself.
    const y = i % 3 === 0 ? ITEMS[(i + 1) % ITEMS.length] : x;
    // Cycle through the four kinds of pair: id/id, image/id, id/image, image/image.
    const kind = i % 4;
    const a = kind === 1 || kind === 3 ? byImage(images.get(x)!) : byId(x);
    const b = kind === 2 || kind === 3 ? byImage(images.get(y)!) : byId(y);
    requests.push({ clientId, a, b });
    expected.set(clientId, { same: x === y });
  }

  const responses = await runStream(requests);

  expect(responses).toHaveLength(requests.length);
  const ids = responses.map((r) => r.clientId);
  expect(new Set(ids).size).toBe(ids.length);
  expect([...ids].sort()).toEqual(requests.map((r) => r.clientId).sort());

  let errors = 0;
  for (const r of responses) {
    const e = expected.get(r.clientId)!;
    if (e.error) {
      errors++;
      expect(r.outcome?.$case).toBe('error');
      if (r.outcome?.$case !== 'error') continue;
      expect(r.outcome.value.code).toBe(e.error.code);
      expect(r.outcome.value.codeName).toBe(status[e.error.code]);
      expect(r.outcome.value.message).toContain(e.error.message);
    } else {
      expect(r.outcome?.$case).toBe('result');
      if (r.outcome?.$case !== 'result') continue;
      const { score, match, threshold } = r.outcome.value;
      if (e.same) {
        expect(score).toBeGreaterThan(0.999);
        expect(match).toBe(true);
      } else {
        expect(score).toBeLessThan(0.99);
        expect(match).toBe(score >= threshold);
      }
    }
  }
  expect(errors).toBe(Object.keys(bad).length);

  // The server is fine afterwards.
  expect(await ts.rpc.healthCheck()).toBe('SERVING');
  expect((await ts.rpc.search({ image: images.get('cs-2'), topK: 1 })).hits[0].itemId).toBe('cs-2');
});

test('pairs still being worked on when the client half-closes are all answered before the stream ends', async () => {
  // Regression: the handler iterated the call with a plain `for await`, which destroys the duplex
  // when its read side ends; pairs still embedding then could never be written, and the stream
  // never ended. Image pairs take a model run, so all of them are in flight at the half-close.
  const requests = ITEMS.map((itemId, i) => ({ clientId: `late-${i}`, a: byImage(images.get(itemId)!), b: byImage(images.get(itemId)!) }));
  const responses = await runStream(requests, 20_000);
  expect(responses.map((r) => r.clientId).sort()).toEqual(requests.map((r) => r.clientId).sort());
  expect(responses.every((r) => r.outcome?.$case === 'result' && r.outcome.value.score > 0.999)).toBe(true);
});

test('an empty stream ends cleanly with no responses', async () => {
  expect(await runStream([])).toEqual([]);
});

/** Waits until `read()` has returned the same value for `stableMs`, at most `maxMs`; returns it. */
async function settle(read: () => number, stableMs = 1000, maxMs = 15000): Promise<number> {
  const start = Date.now();
  let value = read();
  let since = Date.now();
  while (Date.now() - start < maxMs) {
    await new Promise((r) => setTimeout(r, 100));
    const now = read();
    if (now !== value) {
      value = now;
      since = Date.now();
    } else if (Date.now() - since >= stableMs) {
      return value;
    }
  }
  return value;
}

test('flow control: a client that stops reading stops the server; resuming gets all 300 responses', async () => {
  const N = 300;
  // Long client ids make each response ~4 KiB: 300 of them (1.2 MB) are far more than HTTP/2's
  // 64 KiB stream window plus the socket and stream buffers, so a server that kept working while
  // the client does not read would have to buffer them without bound.
  const pad = 'p'.repeat(4000);
  // Count the pairs the server actually works on (a pass-through spy on the real engine).
  const compare = jest.spyOn(ts.server.engine, 'compare');
  try {
    const call = ts.compareStream();
    const received: CompareStreamResponse[] = [];
    let error: unknown;
    let ended = false;
    call.on('data', (r: CompareStreamResponse) => received.push(r));
    call.on('error', (e) => (error = e));
    call.on('end', () => (ended = true));
    call.pause();
    let writesDone = 0;
    for (let i = 0; i < N; i++) {
      // Item ids only: cheap pairs, so the server is limited by the client, not by the model.
      call.write({ clientId: `${i}:${pad}`, a: byId(ITEMS[i % 6]), b: byId(ITEMS[(i + 2) % 6]) }, () => writesDone++);
    }
    call.end();

    // The server starts on the pairs (however long a loaded machine takes), then stalls.
    await until(() => compare.mock.calls.length > 0, 30_000);
    const workedWhilePaused = await settle(() => compare.mock.calls.length);
    const writesWhilePaused = writesDone;
    // eslint-disable-next-line no-console
    console.log(
      `flow control: while the client was paused the server worked on ${workedWhilePaused}/${N} pairs ` +
        `and the client transport took ${writesWhilePaused}/${N} requests; ${received.length} responses were delivered`,
    );
    expect(workedWhilePaused).toBeGreaterThan(0);
    expect(workedWhilePaused).toBeLessThan(N / 2);
    expect(received).toHaveLength(0);
    expect(error).toBeUndefined();
    expect(ended).toBe(false);
    // Still stalled a moment later: the server is waiting, not slow.
    await new Promise((r) => setTimeout(r, 500));
    expect(compare.mock.calls.length).toBe(workedWhilePaused);

    call.resume();
    await new Promise<void>((resolve, reject) => {
      if (ended) resolve();
      call.on('end', () => resolve());
      call.on('error', reject);
    });
    expect(error).toBeUndefined();
    expect(received).toHaveLength(N);
    expect(new Set(received.map((r) => r.clientId.split(':')[0])).size).toBe(N);
    expect(received.every((r) => r.outcome?.$case === 'result')).toBe(true);
    expect(compare.mock.calls.length).toBe(N);
    expect(writesDone).toBe(N);
  } finally {
    compare.mockRestore();
  }
});

test('a client that cancels mid-stream leaves the server healthy', async () => {
  const call = ts.compareStream();
  const errors: { code?: number }[] = [];
  call.on('error', (e: { code?: number }) => errors.push(e));
  call.on('data', () => undefined);
  for (let i = 0; i < 40; i++) call.write({ clientId: `c${i}`, a: byImage(images.get('cs-1')!), b: byId('cs-1') });
  await new Promise((r) => setTimeout(r, 50));
  call.cancel();
  await new Promise((r) => setTimeout(r, 300));
  expect(errors.map((e) => e.code)).toEqual([status.CANCELLED]);
  expect(await ts.rpc.healthCheck()).toBe('SERVING');
  const responses = await runStream([{ clientId: 'after', a: byId('cs-1'), b: byId('cs-1') }]);
  expect(responses).toHaveLength(1);
  expect(responses[0].clientId).toBe('after');
});
