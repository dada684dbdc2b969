/**
 * grpc.health.v1 and server reflection, end to end. Reflection is exercised with a real
 * reflection client, `buf curl` (Go: it resolves every type the server describes, map entries
 * included, so a broken descriptor fails here), run asynchronously: a synchronous child process
 * would block this process's event loop, which is also the server's, and deadlock.
 */
import { execFile } from 'node:child_process';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { status } from '@grpc/grpc-js';
import { patternImage } from '../helpers/images.js';
import { call, expectStatus, startTestServer, type TestServer } from '../helpers/server.js';
import { loadManifest } from '../../src/model/index.js';
import { DEFAULT_OPTIONS } from '../../src/config/index.js';

let DEFAULT_DIM = 0;
beforeAll(async () => {
  DEFAULT_DIM = (await loadManifest(DEFAULT_OPTIONS.modelManifest)).embeddingDim;
});

const execFileAsync = promisify(execFile);
const BUF = path.join(__dirname, '..', '..', 'node_modules', '.bin', 'buf');

let ts: TestServer;
let image: Buffer;

beforeAll(async () => {
  ts = await startTestServer();
  image = await patternImage(700);
  const res = await ts.rpc.upsertItems([
    { itemId: 'refl-1', image, metadata: { brand: 'acme', color: 'red' } },
    { itemId: 'refl-2', image: await patternImage(701), metadata: { brand: 'globex' } },
  ]);
  expect(res.failed).toBe(0);
});

afterAll(async () => {
  await ts?.stop();
});

describe('grpc.health.v1.Health', () => {
  test.each(['', 'twinlens.v1.TwinlensService', 'twinlens.v1.CatalogService'])('Check(%j) is SERVING', async (service) => {
    expect(await ts.rpc.healthCheck(service)).toBe('SERVING');
  });

  test('Check of an unknown service is NOT_FOUND', async () => {
    await expectStatus(call(ts.health.Check.bind(ts.health), { service: 'no.such.Service' }), status.NOT_FOUND);
  });
});

/** Runs `buf curl --protocol grpc --http2-prior-knowledge ...args` against the server. */
async function bufCurl(...args: string[]): Promise<string> {
  const { stdout } = await execFileAsync(BUF, ['curl', '--protocol', 'grpc', '--http2-prior-knowledge', ...args], {
    timeout: 60_000,
    maxBuffer: 16 * 1024 * 1024,
  });
  return stdout;
}

const url = (method = ''): string => `http://${ts.address}${method ? `/${method}` : ''}`;

describe('server reflection (buf curl)', () => {
  test('--list-services lists both twinlens services and health', async () => {
    const services = (await bufCurl('--list-services', url())).split('\n').map((s) => s.trim()).filter(Boolean);
    expect(services).toEqual(
      expect.arrayContaining(['twinlens.v1.TwinlensService', 'twinlens.v1.CatalogService', 'grpc.health.v1.Health']),
    );
  });

  test('--list-methods lists the five methods of TwinlensService', async () => {
    const methods = (await bufCurl('--list-methods', url())).split('\n').map((s) => s.trim());
    expect(methods.filter((m) => m.startsWith('twinlens.v1.TwinlensService/')).sort()).toEqual(
      ['Compare', 'CompareStream', 'Embed', 'GetServiceInfo', 'Search'].map((m) => `twinlens.v1.TwinlensService/${m}`),
    );
  });

  test('invokes CatalogService/GetCatalogStats with -d {}', async () => {
    const out = JSON.parse(await bufCurl('-d', '{}', url('twinlens.v1.CatalogService/GetCatalogStats')));
    // protojson: 64-bit integers are strings.
    expect(out).toMatchObject({ itemCount: '2', embeddingDim: DEFAULT_DIM, indexKind: 'exact', dataDir: ts.dataDir });
  });

  test('invokes CatalogService/ListItems, whose items carry a map field', async () => {
    const out = JSON.parse(await bufCurl('-d', '{"pageSize": 10}', url('twinlens.v1.CatalogService/ListItems')));
    expect(out.items.map((i: { itemId: string; metadata: Record<string, string> }) => [i.itemId, i.metadata])).toEqual([
      ['refl-1', { brand: 'acme', color: 'red' }],
      ['refl-2', { brand: 'globex' }],
    ]);
    expect(out.totalCount).toBe('2');
  });

  test('invokes TwinlensService/Search with a base64 image and a map filter', async () => {
    const body = JSON.stringify({ image: image.toString('base64'), topK: 5, filter: { brand: 'acme' } });
    const out = JSON.parse(await bufCurl('-d', body, url('twinlens.v1.TwinlensService/Search')));
    expect(out.hits).toHaveLength(1);
    expect(out.hits[0]).toMatchObject({ itemId: 'refl-1', metadata: { brand: 'acme', color: 'red' } });
    expect(out.hits[0].score).toBeGreaterThan(0.999);
    expect(out.rankedBy).toBe('RANKING_STAGE_EMBEDDING');
    expect(out.candidatesScanned).toBe(1);
  });

  test('invokes TwinlensService/GetServiceInfo', async () => {
    const out = JSON.parse(await bufCurl('-d', '{}', url('twinlens.v1.TwinlensService/GetServiceInfo')));
    expect(out).toMatchObject({ executionProvider: 'cpu', embeddingDim: DEFAULT_DIM, requestedProviders: ['cpu'] });
  });

  test('invokes grpc.health.v1.Health/Check', async () => {
    const out = JSON.parse(await bufCurl('-d', '{"service": "twinlens.v1.CatalogService"}', url('grpc.health.v1.Health/Check')));
    expect(out).toEqual({ status: 'SERVING' });
  });
});
