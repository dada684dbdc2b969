/**
 * Hardening at the edge, through the real server: request maps are prototype-free and refuse the
 * reserved keys (`__proto__`, `constructor`, `prototype`) with INVALID_ARGUMENT; calls that end
 * before their request message arrives are logged and counted with their real status, never
 * UNIMPLEMENTED; the image memory budget is a metric.
 */
import * as http2 from 'node:http2';
import { Metadata, type ServiceError, status } from '@grpc/grpc-js';
import { SearchRequest, type SearchResponse, type UpsertItemsResponse } from '../../src/gen/twinlens/v1/twinlens.js';
import { METRIC_NAMES } from '../../src/observability/index.js';
import { stringMapFrom } from '../../src/server/prototype-free-maps.js';
import { patternImage } from '../helpers/images.js';
import { expectStatus, startTestServer, type TestServer } from '../helpers/server.js';
import { httpRequest, memoryLog, type MemoryLog, parseMetrics, samplesOf } from '../observability/helpers.js';

const SEARCH = '/twinlens.v1.TwinlensService/Search';

let ts: TestServer;
let log: MemoryLog;
let image: Buffer;

/** A map with an own `__proto__` key (an object literal would set the prototype instead). */
function mapWith(key: string, value: string): Record<string, string> {
  return JSON.parse(JSON.stringify({ [`KEY`]: value }).replace('KEY', key)) as Record<string, string>;
}

/** Search with the message as given: fromPartial would drop an own `__proto__` key before it is encoded. */
function rawSearch(filter: Record<string, string>): Promise<SearchResponse> {
  const req: SearchRequest = { image, topK: 5, shortlistK: 0, filter };
  return new Promise((resolve, reject) => ts.twinlens.search(req, (e, r) => (e ? reject(e) : resolve(r))));
}

/** UpsertItems of one item with the metadata as given. */
function rawUpsert(itemId: string, metadata: Record<string, string>): Promise<UpsertItemsResponse> {
  return new Promise((resolve, reject) => {
    const call = ts.catalog.upsertItems((e, r) => (e ? reject(e) : resolve(r)));
    call.write({ itemId, image, metadata, view: undefined });
    call.end();
  });
}

async function metrics(): Promise<ReturnType<typeof parseMetrics>> {
  return parseMetrics((await httpRequest(`http://127.0.0.1:${ts.server.metricsPort}/metrics`)).body);
}

beforeAll(async () => {
  log = memoryLog();
  ts = await startTestServer({ metricsPort: 0 }, log.logger);
  image = await patternImage(320);
  const up = await ts.rpc.upsertItems([
    { itemId: 'a', image, metadata: { shelf: 'x' } },
    { itemId: 'b', image, metadata: { shelf: 'y' } },
  ]);
  expect(up.failed).toBe(0);
});

afterAll(async () => {
  await ts?.stop();
});

describe('request maps are prototype-free', () => {
  test('a map field decodes into an object without a prototype, __proto__ as an own key', () => {
    const bytes = SearchRequest.encode({ image: Buffer.alloc(0), topK: 0, shortlistK: 0, filter: mapWith('__proto__', 'x') }).finish();
    const map = stringMapFrom(bytes, 4);
    expect(Object.getPrototypeOf(map)).toBeNull();
    expect(Object.keys(map)).toEqual(['__proto__']);
    expect(map['__proto__']).toBe('x');
  });

  test.each(['__proto__', 'constructor', 'prototype'])('a Search filter key %s is refused with INVALID_ARGUMENT (it matched every item before)', async (key) => {
    await expectStatus(rawSearch(mapWith(key, 'x')), status.INVALID_ARGUMENT, 'filter', `'${key}' is reserved`);
  });

  test.each(['__proto__', 'constructor', 'prototype'])('a metadata key %s fails its item with INVALID_ARGUMENT (it was acknowledged and dropped before)', async (key) => {
    const r = await rawUpsert(`reserved-${key.replace(/_/g, '')}`, mapWith(key, 'x'));
    expect(r.failed).toBe(1);
    expect(r.outcomes[0].error).toMatchObject({ code: status.INVALID_ARGUMENT, message: expect.stringContaining(`'${key}' is reserved`) });
  });

  test('ordinary filters still match exactly', async () => {
    const r = await rawSearch(mapWith('shelf', 'y'));
    expect(r.hits.map((h) => h.itemId)).toEqual(['b']);
    expect(r.hits[0].metadata).toEqual({ shelf: 'y' });
  });
});

describe('calls that end before their request message arrives', () => {
  test('Searches with a 1 ms deadline are logged and counted as DEADLINE_EXCEEDED, never UNIMPLEMENTED', async () => {
    const before = log.requests().length;
    const calls = 60;
    const results = await Promise.all(
      Array.from({ length: calls }, () =>
        new Promise<ServiceError | null>((resolve) =>
          ts.twinlens.search(SearchRequest.fromPartial({ image }), new Metadata(), { deadline: Date.now() + 1 }, (e) => resolve(e)),
        ),
      ),
    );
    expect(results.every((e) => e?.code === status.DEADLINE_EXCEEDED)).toBe(true);
    // Let the server finish every call it saw (some never left the client), then read once settled.
    let lines: Record<string, unknown>[] = [];
    for (let stable = 0, last = -1; stable < 5; ) {
      await new Promise((r) => setTimeout(r, 100));
      lines = log.requests().slice(before).filter((l) => l.method === SEARCH);
      stable = lines.length === last ? stable + 1 : 0;
      last = lines.length;
    }
    expect(lines.length).toBeGreaterThan(0);
    expect(lines.map((l) => l.codeName).filter((c) => c !== 'DEADLINE_EXCEEDED')).toEqual([]);
    const samples = await metrics();
    expect(samplesOf(samples, METRIC_NAMES.requests, { method: SEARCH, code: 'UNIMPLEMENTED' })).toEqual([]);
  });

  test('a client that half-closes and resets before sending its message is logged CANCELLED, not UNIMPLEMENTED', async () => {
    const before = log.requests().length;
    const session = http2.connect(`http://${ts.address}`);
    try {
      for (let i = 0; i < 5; i++) {
        const req = session.request({ ':method': 'POST', ':path': SEARCH, 'content-type': 'application/grpc', te: 'trailers' });
        req.on('error', () => undefined);
        req.end();
        req.close(http2.constants.NGHTTP2_CANCEL);
      }
      let lines: Record<string, unknown>[] = [];
      for (let i = 0; i < 50 && lines.length < 5; i++) {
        await new Promise((r) => setTimeout(r, 50));
        lines = log.requests().slice(before).filter((l) => l.method === SEARCH);
      }
      // A reset may reach the server before it set the call up (then there is no line at all).
      expect(lines.length).toBeGreaterThan(0);
      expect(lines.map((l) => l.codeName).filter((c) => c !== 'CANCELLED')).toEqual([]);
    } finally {
      session.close();
    }
  });
});

test('the image memory budget and its use are metrics', async () => {
  const samples = await metrics();
  expect(samplesOf(samples, METRIC_NAMES.imageBytesBudget)[0]?.value).toBe(ts.server.options.maxImageBytesInFlight);
  // Nothing is in flight between calls: every charged message was given back.
  expect(samplesOf(samples, METRIC_NAMES.imageBytesInFlight)[0]?.value).toBe(0);
});
