/**
 * The request log, end to end: the real server logging to an in-memory pino stream, real calls of
 * every kind; one JSON line per call with its id, method, code, duration and peer, the id echoed
 * to the client, and nothing of the request body or its credentials in the log.
 */
import { type ClientUnaryCall, Metadata, type ServiceError, status } from '@grpc/grpc-js';
import { CompareStreamRequest, SearchRequest, type SearchResponse } from '../../src/gen/twinlens/v1/twinlens.js';
import { REQUEST_ID_KEY } from '../../src/observability/index.js';
import { patternImage, randomBytes } from '../helpers/images.js';
import { expectStatus, startTestServer, type TestServer } from '../helpers/server.js';
import { httpRequest, memoryLog, type MemoryLog, parseMetrics, until, valueOf } from './helpers.js';

const SEARCH = '/twinlens.v1.TwinlensService/Search';

let ts: TestServer;
let log: MemoryLog;
let image: Buffer;

/** Search with request metadata; resolves the response or error with the response headers and trailers. */
function searchWith(
  request: Partial<SearchRequest>,
  metadata: Metadata,
): Promise<{ response?: SearchResponse; error?: ServiceError; headers?: Metadata }> {
  return new Promise((resolve) => {
    let headers: Metadata | undefined;
    const call: ClientUnaryCall = ts.twinlens.search(SearchRequest.fromPartial(request), metadata, (error, response) =>
      resolve(error ? { error, headers } : { response, headers }),
    );
    call.on('metadata', (m: Metadata) => (headers = m));
  });
}

/** The request lines of `method` written since `before` lines. */
function newRequestLines(before: number, method?: string): Record<string, unknown>[] {
  return log
    .requests()
    .slice(before)
    .filter((l) => method === undefined || l.method === method);
}

beforeAll(async () => {
  log = memoryLog();
  ts = await startTestServer({}, log.logger);
  image = await patternImage(640);
  const up = await ts.rpc.upsertItems([{ itemId: 'log-1', image }]);
  expect(up.failed).toBe(0);
});

afterAll(async () => {
  await ts?.stop();
});

describe('start-up lines', () => {
  test('are structured JSON: the model and its provider, then the address and catalog size', () => {
    const lines = log.lines();
    expect(lines.find((l) => l.msg === 'model loaded')).toMatchObject({
      level: 'info',
      name: 'twinlens',
      model: expect.any(String),
      version: expect.any(String),
      provider: 'cpu',
    });
    expect(lines.find((l) => l.msg === 'serving')).toMatchObject({
      address: ts.address,
      catalogItems: 0,
      dataDir: ts.dataDir,
      metrics: null,
    });
  });
});

describe('one line per request', () => {
  test('a unary call: id, full method, code number and name, duration, peer', async () => {
    const before = log.requests().length;
    await ts.rpc.search({ image, topK: 1 });
    await until(() => newRequestLines(before).length > 0);
    const lines = newRequestLines(before);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toEqual({
      level: 'info',
      time: expect.any(Number),
      pid: process.pid,
      hostname: expect.any(String),
      name: 'twinlens',
      msg: 'request',
      requestId: expect.stringMatching(/^[A-Za-z0-9_-]{12}$/),
      method: SEARCH,
      code: 0,
      codeName: 'OK',
      durationMs: expect.any(Number),
      peer: expect.stringMatching(/^127\.0\.0\.1:\d+$/),
    });
    expect(lines[0].durationMs).toBeGreaterThan(0);
  });

  test('a client-provided x-request-id is logged and echoed in the response headers', async () => {
    const before = log.requests().length;
    const md = new Metadata();
    md.set(REQUEST_ID_KEY, 'client-req-42');
    const { response, headers } = await searchWith({ image, topK: 1 }, md);
    expect(response?.hits[0].itemId).toBe('log-1');
    expect(headers?.get(REQUEST_ID_KEY)).toEqual(['client-req-42']);
    await until(() => newRequestLines(before).length > 0);
    expect(newRequestLines(before)).toEqual([expect.objectContaining({ requestId: 'client-req-42', method: SEARCH, codeName: 'OK' })]);
  });

  test('a generated id is echoed too, and matches the line', async () => {
    const before = log.requests().length;
    const { headers } = await searchWith({ image, topK: 1 }, new Metadata());
    const echoed = headers?.get(REQUEST_ID_KEY)[0];
    expect(echoed).toMatch(/^[A-Za-z0-9_-]{12}$/);
    await until(() => newRequestLines(before).length > 0);
    expect(newRequestLines(before)[0].requestId).toBe(echoed);
  });

  test('a malformed client id is replaced rather than logged', async () => {
    const before = log.requests().length;
    const md = new Metadata();
    md.set(REQUEST_ID_KEY, 'has spaces and "quotes"');
    const { headers } = await searchWith({ image, topK: 1 }, md);
    const echoed = headers?.get(REQUEST_ID_KEY)[0];
    expect(echoed).toMatch(/^[A-Za-z0-9_-]{12}$/);
    await until(() => newRequestLines(before).length > 0);
    expect(newRequestLines(before)[0].requestId).toBe(echoed);
    expect(log.text()).not.toContain('has spaces');
  });

  test('an error: the code, its name and the status details; the id comes back in the trailers', async () => {
    const before = log.requests().length;
    const md = new Metadata();
    md.set(REQUEST_ID_KEY, 'bad-input-1');
    const { error } = await searchWith({ image: randomBytes(1024), topK: 1 }, md);
    expect(error?.code).toBe(status.INVALID_ARGUMENT);
    expect(error?.metadata.get(REQUEST_ID_KEY)).toEqual(['bad-input-1']);
    await until(() => newRequestLines(before).length > 0);
    expect(newRequestLines(before)).toEqual([
      expect.objectContaining({
        level: 'info',
        requestId: 'bad-input-1',
        method: SEARCH,
        code: status.INVALID_ARGUMENT,
        codeName: 'INVALID_ARGUMENT',
        details: error?.details,
      }),
    ]);
  });

  test('a client-streaming upload of several items is one line', async () => {
    const before = log.requests().length;
    await ts.rpc.upsertItems([
      { itemId: 'log-2', image: await patternImage(641) },
      { itemId: 'log-3', image: await patternImage(642) },
    ]);
    await until(() => newRequestLines(before).length > 0);
    expect(newRequestLines(before)).toEqual([
      expect.objectContaining({ method: '/twinlens.v1.CatalogService/UpsertItems', codeName: 'OK' }),
    ]);
  });

  test('a bidirectional stream of several pairs is one line', async () => {
    const before = log.requests().length;
    await new Promise<void>((resolve, reject) => {
      const call = ts.compareStream();
      call.on('data', () => undefined);
      call.on('error', reject);
      call.on('end', () => resolve());
      for (const clientId of ['p1', 'p2', 'p3']) {
        call.write(
          CompareStreamRequest.fromPartial({
            clientId,
            a: { source: { $case: 'itemId', value: 'log-1' } },
            b: { source: { $case: 'image', value: image } },
          }),
        );
      }
      call.end();
    });
    await until(() => newRequestLines(before).length > 0);
    expect(newRequestLines(before)).toEqual([
      expect.objectContaining({ method: '/twinlens.v1.TwinlensService/CompareStream', codeName: 'OK' }),
    ]);
  });

  test('a call the client cancels while it runs is one CANCELLED line', async () => {
    // Hold the model until the client has cancelled, so the call is surely running then.
    const embedder = ts.server.engine.embedder;
    const original = embedder.embedBatch;
    let reached!: () => void;
    const atModel = new Promise<void>((r) => (reached = r));
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    embedder.embedBatch = async (batch) => {
      reached();
      await gate;
      return original.call(embedder, batch);
    };
    try {
      const before = log.requests().length;
      const call = ts.twinlens.search(SearchRequest.fromPartial({ image, topK: 1 }), () => undefined);
      await atModel;
      call.cancel();
      await until(() => newRequestLines(before).length > 0);
      expect(newRequestLines(before)).toEqual([
        expect.objectContaining({ method: SEARCH, code: status.CANCELLED, codeName: 'CANCELLED', statusObserved: false }),
      ]);
    } finally {
      embedder.embedBatch = original;
      release();
    }
  });

  test('no image bytes and no credentials reach the log', async () => {
    const secret = 'Bearer s3cret-token-value-0123456789';
    const md = new Metadata();
    md.set('authorization', secret);
    await searchWith({ image, topK: 1 }, md);
    await ts.rpc.embed({ image });
    await expectStatus(ts.rpc.embed({ image: randomBytes(1024) }), status.INVALID_ARGUMENT);
    const text = log.text();
    expect(text).not.toContain('s3cret-token');
    for (const bytes of [image, randomBytes(1024)]) {
      expect(text).not.toContain(bytes.subarray(0, 48).toString('base64'));
      expect(text).not.toContain(bytes.subarray(0, 32).toString('hex'));
      expect(text).not.toContain(bytes.subarray(0, 32).toString('latin1'));
    }
  });
});

describe('with authentication on (observability outside the auth interceptor)', () => {
  const token = 'obs-test-read-token-0123456789';
  let authed: TestServer;
  let authLog: MemoryLog;

  beforeAll(async () => {
    authLog = memoryLog();
    authed = await startTestServer({ readTokens: [token], metricsPort: 0 }, authLog.logger);
  });

  afterAll(async () => {
    await authed?.stop();
  });

  test('a call auth refuses is one line and one count, with its real code (observability sits outside auth)', async () => {
    await expectStatus(authed.rpc.getServiceInfo(), status.UNAUTHENTICATED);
    await until(() => authLog.requests().length > 0);
    expect(authLog.requests()).toEqual([
      expect.objectContaining({
        method: '/twinlens.v1.TwinlensService/GetServiceInfo',
        code: status.UNAUTHENTICATED,
        codeName: 'UNAUTHENTICATED',
        details: expect.stringContaining('missing bearer token'),
      }),
    ]);
    const samples = parseMetrics((await httpRequest(`http://127.0.0.1:${authed.server.metricsPort}/metrics`)).body);
    expect(
      valueOf(samples, 'twinlens_grpc_requests_total', { method: '/twinlens.v1.TwinlensService/GetServiceInfo', code: 'UNAUTHENTICATED' }),
    ).toBe(1);
  });

  test('an admitted call is logged with its real code, and its token is not logged', async () => {
    const before = authLog.requests().length;
    const md = new Metadata();
    md.set('authorization', `Bearer ${token}`);
    const info = await new Promise<unknown>((resolve, reject) =>
      authed.twinlens.getServiceInfo({}, md, (e, r) => (e ? reject(e) : resolve(r))),
    );
    expect(info).toBeDefined();
    await until(() => authLog.requests().length > before);
    expect(authLog.requests().slice(before)).toEqual([
      expect.objectContaining({ method: '/twinlens.v1.TwinlensService/GetServiceInfo', code: 0, codeName: 'OK' }),
    ]);
    expect(authLog.text()).not.toContain(token);
  });
});
