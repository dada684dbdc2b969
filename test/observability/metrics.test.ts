/**
 * Prometheus metrics, end to end: the real server with its metrics HTTP server on a free port, real
 * calls of every kind (unary, client-streaming, bidirectional, a bad input), then GET /metrics.
 */
import * as net from 'node:net';
import { status } from '@grpc/grpc-js';
import { CompareStreamRequest } from '../../src/gen/twinlens/v1/twinlens.js';
import { BATCH_SIZE_BUCKETS, METRIC_NAMES, REQUEST_DURATION_BUCKETS } from '../../src/observability/index.js';
import { patternImage, randomBytes } from '../helpers/images.js';
import { expectStatus, startTestServer, type TestServer } from '../helpers/server.js';
import { httpRequest, parseMetrics, type Sample, samplesOf, valueOf } from './helpers.js';

const SEARCH = '/twinlens.v1.TwinlensService/Search';
const EMBED = '/twinlens.v1.TwinlensService/Embed';
const UPSERT = '/twinlens.v1.CatalogService/UpsertItems';
const COMPARE_STREAM = '/twinlens.v1.TwinlensService/CompareStream';
const ITEMS = ['m-1', 'm-2', 'm-3', 'm-4', 'm-5'];

let ts: TestServer;
let base: string;
let samples: Sample[];
let contentType: string | undefined;

/** Runs one CompareStream of a single pair to the end. */
function compareOnce(a: Buffer, b: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    const call = ts.compareStream();
    call.on('data', () => undefined);
    call.on('error', reject);
    call.on('end', () => resolve());
    call.write(
      CompareStreamRequest.fromPartial({
        clientId: 'p',
        a: { source: { $case: 'image', value: a } },
        b: { source: { $case: 'image', value: b } },
      }),
    );
    call.end();
  });
}

beforeAll(async () => {
  ts = await startTestServer({ metricsPort: 0 });
  expect(ts.server.metricsPort).toEqual(expect.any(Number));
  expect(ts.server.metricsPort).toBeGreaterThan(0);
  base = `http://127.0.0.1:${ts.server.metricsPort}`;

  const images = await Promise.all(ITEMS.map((_, i) => patternImage(700 + i)));
  const up = await ts.rpc.upsertItems(ITEMS.map((itemId, i) => ({ itemId, image: images[i] })));
  expect(up.failed).toBe(0);
  await ts.rpc.search({ image: images[0], topK: 3 });
  await ts.rpc.search({ image: images[1], topK: 3 });
  // Concurrent embeds, so the micro-batcher may put several in one run.
  await Promise.all(images.map((image) => ts.rpc.embed({ image })));
  await expectStatus(ts.rpc.search({ image: randomBytes(2048), topK: 3 }), status.INVALID_ARGUMENT);
  await compareOnce(images[0], images[1]);

  const res = await httpRequest(`${base}/metrics`);
  expect(res.status).toBe(200);
  contentType = res.headers['content-type'];
  samples = parseMetrics(res.body);
});

afterAll(async () => {
  await ts?.stop();
});

describe('GET /metrics', () => {
  test('answers in the Prometheus text format with its content type', () => {
    expect(contentType).toMatch(/^text\/plain; version=0\.0\.4; charset=utf-8$/);
  });

  test('counts calls by full method path and status code name, for every kind of call', () => {
    expect(valueOf(samples, METRIC_NAMES.requests, { method: SEARCH, code: 'OK' })).toBe(2);
    expect(valueOf(samples, METRIC_NAMES.requests, { method: SEARCH, code: 'INVALID_ARGUMENT' })).toBe(1);
    expect(valueOf(samples, METRIC_NAMES.requests, { method: EMBED, code: 'OK' })).toBe(ITEMS.length);
    expect(valueOf(samples, METRIC_NAMES.requests, { method: UPSERT, code: 'OK' })).toBe(1);
    expect(valueOf(samples, METRIC_NAMES.requests, { method: COMPARE_STREAM, code: 'OK' })).toBe(1);
  });

  test('observes call durations in a histogram with buckets from 1 ms to 10 s, by method and code', () => {
    const name = `${METRIC_NAMES.requestDuration}_bucket`;
    const buckets = samplesOf(samples, name, { method: SEARCH, code: 'OK' });
    expect(buckets.map((b) => b.labels.le)).toEqual([...REQUEST_DURATION_BUCKETS.map(String), '+Inf']);
    // Cumulative, ending at the count.
    for (let i = 1; i < buckets.length; i++) expect(buckets[i].value).toBeGreaterThanOrEqual(buckets[i - 1].value);
    expect(buckets[buckets.length - 1].value).toBe(2);
    expect(valueOf(samples, `${METRIC_NAMES.requestDuration}_count`, { method: SEARCH, code: 'INVALID_ARGUMENT' })).toBe(1);
    expect(valueOf(samples, `${METRIC_NAMES.requestDuration}_sum`, { method: SEARCH, code: 'OK' })).toBeGreaterThan(0);
  });

  test('reports the model queue depth (idle: 0)', () => {
    expect(valueOf(samples, METRIC_NAMES.queueDepth)).toBe(0);
  });

  test('observes every model run: batch sizes and durations', () => {
    const runs = valueOf(samples, `${METRIC_NAMES.batchSize}_count`);
    // At least one run per Search, the Compare pair, the upload and the embeds (fewer when batched).
    expect(runs).toBeGreaterThan(0);
    // Every image embedded once: 5 uploaded, 2 searched, 5 embedded, 2 compared (the bad one never decodes).
    expect(valueOf(samples, `${METRIC_NAMES.batchSize}_sum`)).toBe(ITEMS.length + 2 + ITEMS.length + 2);
    expect(samplesOf(samples, `${METRIC_NAMES.batchSize}_bucket`).map((b) => b.labels.le)).toEqual([
      ...BATCH_SIZE_BUCKETS.map(String),
      '+Inf',
    ]);
    expect(valueOf(samples, `${METRIC_NAMES.modelRun}_count`)).toBe(runs);
    expect(valueOf(samples, `${METRIC_NAMES.modelRun}_sum`)).toBeGreaterThan(0);
  });

  test('reports the catalog size and the index memory', async () => {
    expect(valueOf(samples, METRIC_NAMES.catalogItems)).toBe(ITEMS.length);
    expect(ts.server.engine.catalog.size).toBe(ITEMS.length);
    expect((await ts.rpc.getCatalogStats()).itemCount).toBe(ITEMS.length);
    expect(valueOf(samples, METRIC_NAMES.indexBytes)).toBe(ts.server.engine.catalog.indexBytes);
    expect(valueOf(samples, METRIC_NAMES.indexBytes)).toBeGreaterThan(0);
  });

  test("includes prom-client's process metrics: memory, CPU, event loop lag", () => {
    expect(valueOf(samples, 'process_resident_memory_bytes')).toBeGreaterThan(0);
    expect(valueOf(samples, 'nodejs_heap_size_used_bytes')).toBeGreaterThan(0);
    expect(samplesOf(samples, 'process_cpu_seconds_total')).toHaveLength(1);
    expect(samplesOf(samples, 'nodejs_eventloop_lag_seconds')).toHaveLength(1);
  });

  test('reads the gauges at each scrape', async () => {
    await ts.rpc.upsertItems([{ itemId: 'm-6', image: await patternImage(799) }]);
    const now = parseMetrics((await httpRequest(`${base}/metrics`)).body);
    expect(valueOf(now, METRIC_NAMES.catalogItems)).toBe(ITEMS.length + 1);
    expect(valueOf(now, METRIC_NAMES.requests, { method: UPSERT, code: 'OK' })).toBe(2);
    await ts.rpc.deleteItem({ itemId: 'm-6' });
  });
});

describe('the metrics HTTP server', () => {
  test('GET /healthz answers ok', async () => {
    const res = await httpRequest(`${base}/healthz`);
    expect({ status: res.status, body: res.body }).toEqual({ status: 200, body: 'ok\n' });
  });

  test('HEAD /metrics answers without a body', async () => {
    const res = await httpRequest(`${base}/metrics`, 'HEAD');
    expect({ status: res.status, body: res.body }).toEqual({ status: 200, body: '' });
  });

  test('an unknown path is 404 and another method 405', async () => {
    expect((await httpRequest(`${base}/nope`)).status).toBe(404);
    const post = await httpRequest(`${base}/metrics`, 'POST');
    expect({ status: post.status, allow: post.headers.allow }).toEqual({ status: 405, allow: 'GET, HEAD' });
  });
});

describe('metricsPort', () => {
  test('off by default: no port, nothing listening', async () => {
    const other = await startTestServer();
    try {
      expect(other.server.metricsPort).toBeNull();
    } finally {
      await other.stop();
    }
  });

  test('each server keeps its own registry, and close() stops its metrics server', async () => {
    const other = await startTestServer({ metricsPort: 0 });
    const port = other.server.metricsPort!;
    try {
      await other.rpc.getServiceInfo();
      const theirs = parseMetrics((await httpRequest(`http://127.0.0.1:${port}/metrics`)).body);
      expect(samplesOf(theirs, METRIC_NAMES.requests, { method: SEARCH })).toHaveLength(0);
      expect(valueOf(theirs, METRIC_NAMES.requests, { method: '/twinlens.v1.TwinlensService/GetServiceInfo', code: 'OK' })).toBe(1);
      expect(valueOf(theirs, METRIC_NAMES.catalogItems)).toBe(0);
    } finally {
      await other.stop();
    }
    await expect(httpRequest(`http://127.0.0.1:${port}/metrics`)).rejects.toThrow(/ECONNREFUSED/);
  });

  test('a metrics port already taken fails the start with the reason', async () => {
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', () => resolve()));
    const taken = (blocker.address() as net.AddressInfo).port;
    try {
      await expect(startTestServer({ metricsPort: taken })).rejects.toThrow(/EADDRINUSE/);
    } finally {
      await new Promise<void>((resolve) => blocker.close(() => resolve()));
    }
  });
});
