/**
 * Bearer-token authentication end to end: the real server started with a read and a write token,
 * called by real clients (the CLI's `connect()`) with no token, a read token, a write token and
 * wrong ones, over unary, client-streaming (UpsertItems) and bidirectional (CompareStream) calls.
 */
import { type ClientDuplexStream, Metadata, status } from '@grpc/grpc-js';
import type { CompareStreamRequest, CompareStreamResponse, ImageRef } from '../../src/gen/twinlens/v1/twinlens.js';
import { GetServiceInfoRequest, SearchRequest } from '../../src/gen/twinlens/v1/twinlens.js';
import { patternImage, randomBytes } from '../helpers/images.js';
import { expectStatus, startTestServer, type TestServer } from '../helpers/server.js';
import { bufCurl, READ_TOKEN, type SecureClients, secureClients, WRITE_TOKEN } from './secure-clients.js';

let ts: TestServer;
let anonymous: SecureClients;
let reader: SecureClients;
let writer: SecureClients;
let image: Buffer;
let other: Buffer;

const byImage = (value: Buffer): ImageRef => ({ source: { $case: 'image', value } });
const byId = (value: string): ImageRef => ({ source: { $case: 'itemId', value } });

beforeAll(async () => {
  ts = await startTestServer({ readTokens: [READ_TOKEN], writeTokens: [WRITE_TOKEN] });
  anonymous = secureClients(ts.address);
  reader = secureClients(ts.address, { token: READ_TOKEN });
  writer = secureClients(ts.address, { token: WRITE_TOKEN });
  image = await patternImage(900);
  other = await patternImage(901);
  const res = await writer.rpc.upsertItems([
    { itemId: 'auth-1', image, metadata: { brand: 'acme' } },
    { itemId: 'auth-2', image: other, metadata: { brand: 'globex' } },
  ]);
  expect(res.failed).toBe(0);
});

afterAll(async () => {
  for (const c of [anonymous, reader, writer]) c?.close();
  await ts?.stop();
});

/** Sends `requests` on a CompareStream and resolves every response, or rejects with the stream's error. */
function compareStream(open: () => ClientDuplexStream<CompareStreamRequest, CompareStreamResponse>, requests: CompareStreamRequest[]): Promise<CompareStreamResponse[]> {
  return new Promise((resolve, reject) => {
    const call = open();
    const responses: CompareStreamResponse[] = [];
    call.on('data', (r: CompareStreamResponse) => responses.push(r));
    call.on('error', reject);
    call.on('end', () => resolve(responses));
    for (const r of requests) call.write(r);
    call.end();
  });
}

/** The number of catalog items, asked with the write token. */
async function itemCount(): Promise<number> {
  return Number((await writer.rpc.getCatalogStats()).itemCount);
}

describe('without a token', () => {
  test('a write (UpsertItems, client-streaming) is UNAUTHENTICATED and writes nothing', async () => {
    const before = await itemCount();
    await expectStatus(anonymous.rpc.upsertItems([{ itemId: 'anon-1', image }]), status.UNAUTHENTICATED, 'missing bearer token');
    expect(await itemCount()).toBe(before);
    await expectStatus(writer.rpc.getItem({ itemId: 'anon-1' }), status.NOT_FOUND);
  });

  test('DeleteItem is UNAUTHENTICATED and the item stays', async () => {
    await expectStatus(anonymous.rpc.deleteItem({ itemId: 'auth-1' }), status.UNAUTHENTICATED, 'missing bearer token');
    expect((await writer.rpc.getItem({ itemId: 'auth-1' })).item!.itemId).toBe('auth-1');
  });

  test.each([
    ['Search', () => anonymous.rpc.search({ image, topK: 1 })],
    ['Compare', () => anonymous.rpc.compare({ a: byImage(image), b: byId('auth-2') })],
    ['Embed', () => anonymous.rpc.embed({ image })],
    ['GetServiceInfo', () => anonymous.rpc.getServiceInfo()],
    ['GetItem', () => anonymous.rpc.getItem({ itemId: 'auth-1' })],
    ['ListItems', () => anonymous.rpc.listItems({ pageSize: 10 })],
    ['GetCatalogStats', () => anonymous.rpc.getCatalogStats()],
  ])('a read (%s) is UNAUTHENTICATED', async (_name, invoke) => {
    await expectStatus(invoke(), status.UNAUTHENTICATED, 'missing bearer token');
  });

  test('CompareStream (bidirectional) is UNAUTHENTICATED', async () => {
    await expectStatus(
      compareStream(anonymous.compareStream, [{ clientId: 'p', a: byImage(image), b: byId('auth-2') }]),
      status.UNAUTHENTICATED,
      'missing bearer token',
    );
  });

  test('the refusal comes before the handler: an undecodable image still gets UNAUTHENTICATED, not INVALID_ARGUMENT', async () => {
    await expectStatus(anonymous.rpc.search({ image: randomBytes(4096) }), status.UNAUTHENTICATED);
    // A handler would have answered OK with a per-item error for this upload.
    await expectStatus(anonymous.rpc.upsertItems([{ itemId: 'anon-bad', image: randomBytes(4096) }]), status.UNAUTHENTICATED);
  });

  test('a 2 MB upload stream is refused without being read into the catalog', async () => {
    const big = randomBytes(2 * 1024 * 1024, 3);
    const items = Array.from({ length: 8 }, (_, i) => ({ itemId: `anon-big-${i}`, image: big }));
    await expectStatus(anonymous.rpc.upsertItems(items), status.UNAUTHENTICATED);
    await expectStatus(writer.rpc.getItem({ itemId: 'anon-big-0' }), status.NOT_FOUND);
  });

  test('health Check needs no token (exempt by default)', async () => {
    expect(await anonymous.rpc.healthCheck('')).toBe('SERVING');
    expect(await anonymous.rpc.healthCheck('twinlens.v1.CatalogService')).toBe('SERVING');
  });

  test('reflection needs no token: buf curl --list-services', async () => {
    const services = (await bufCurl('--http2-prior-knowledge', '--list-services', `http://${ts.address}`)).split('\n').map((s) => s.trim());
    expect(services).toEqual(expect.arrayContaining(['twinlens.v1.TwinlensService', 'twinlens.v1.CatalogService', 'grpc.health.v1.Health']));
  });
});

describe('with the read token', () => {
  test.each([
    ['Search', async () => expect((await reader.rpc.search({ image, topK: 1 })).hits[0].itemId).toBe('auth-1')],
    ['Compare', async () => expect((await reader.rpc.compare({ a: byImage(image), b: byId('auth-1') })).score).toBeGreaterThan(0.99)],
    ['Embed', async () => expect((await reader.rpc.embed({ image })).embedding.length).toBeGreaterThan(0)],
    ['GetServiceInfo', async () => expect((await reader.rpc.getServiceInfo()).executionProvider).toBe('cpu')],
    ['GetItem', async () => expect((await reader.rpc.getItem({ itemId: 'auth-2' })).item!.metadata).toEqual({ brand: 'globex' })],
    ['ListItems', async () => expect((await reader.rpc.listItems({ pageSize: 10 })).items.map((i) => i.itemId)).toEqual(['auth-1', 'auth-2'])],
    ['GetCatalogStats', async () => expect(Number((await reader.rpc.getCatalogStats()).itemCount)).toBeGreaterThanOrEqual(2)],
  ])('%s works', async (_name, check) => {
    await check();
  });

  test('CompareStream works', async () => {
    const [r] = await compareStream(reader.compareStream, [{ clientId: 'p1', a: byImage(image), b: byId('auth-1') }]);
    expect(r.clientId).toBe('p1');
    expect(r.outcome?.$case).toBe('result');
  });

  test('UpsertItems is PERMISSION_DENIED and nothing is written', async () => {
    const before = await itemCount();
    await expectStatus(
      reader.rpc.upsertItems([{ itemId: 'reader-1', image: other }, { itemId: 'auth-1', image: other, metadata: { brand: 'changed' } }]),
      status.PERMISSION_DENIED,
      'this token may read but not write',
    );
    expect(await itemCount()).toBe(before);
    await expectStatus(writer.rpc.getItem({ itemId: 'reader-1' }), status.NOT_FOUND);
    expect((await writer.rpc.getItem({ itemId: 'auth-1' })).item!.metadata).toEqual({ brand: 'acme' });
  });

  test('DeleteItem is PERMISSION_DENIED and the item stays', async () => {
    await expectStatus(reader.rpc.deleteItem({ itemId: 'auth-2' }), status.PERMISSION_DENIED, 'this token may read but not write');
    expect((await writer.rpc.getItem({ itemId: 'auth-2' })).item!.itemId).toBe('auth-2');
  });

  test('the refusal comes before the handler: an undecodable upload gets PERMISSION_DENIED', async () => {
    await expectStatus(reader.rpc.upsertItems([{ itemId: 'reader-bad', image: randomBytes(4096) }]), status.PERMISSION_DENIED);
  });
});

describe('with the write token', () => {
  test('reads work', async () => {
    expect((await writer.rpc.search({ image: other, topK: 1 })).hits[0].itemId).toBe('auth-2');
    expect((await writer.rpc.compare({ a: byId('auth-1'), b: byId('auth-2') })).score).toBeLessThan(0.999);
    const [r] = await compareStream(writer.compareStream, [{ clientId: 'w', a: byId('auth-1'), b: byId('auth-1') }]);
    expect(r.outcome?.$case).toBe('result');
  });

  test('UpsertItems and DeleteItem work', async () => {
    const before = await itemCount();
    expect((await writer.rpc.upsertItems([{ itemId: 'writer-1', image: await patternImage(902) }])).upserted).toBe(1);
    expect(await itemCount()).toBe(before + 1);
    expect((await writer.rpc.deleteItem({ itemId: 'writer-1' })).deleted).toBe(true);
    expect(await itemCount()).toBe(before);
  });
});

describe('bad credentials', () => {
  test('an unknown token is UNAUTHENTICATED and the message does not repeat it', async () => {
    const wrongToken = 'not-a-real-token-0123456789-secret';
    const wrong = secureClients(ts.address, { token: wrongToken });
    try {
      for (const call of [() => wrong.rpc.getServiceInfo(), () => wrong.rpc.upsertItems([{ itemId: 'x-1', image }])]) {
        const e = await expectStatus(call(), status.UNAUTHENTICATED, 'invalid bearer token');
        expect(e.details).not.toContain(wrongToken);
        expect(e.message).not.toContain(wrongToken);
        expect(JSON.stringify(e.metadata.getMap())).not.toContain(wrongToken);
      }
    } finally {
      wrong.close();
    }
  });

  test('a token that differs from the write token in its last character is refused', async () => {
    const near = secureClients(ts.address, { token: `${WRITE_TOKEN.slice(0, -1)}1` });
    try {
      await expectStatus(near.rpc.getCatalogStats(), status.UNAUTHENTICATED, 'invalid bearer token');
    } finally {
      near.close();
    }
  });

  /** GetServiceInfo with hand-made `authorization` values. */
  function serviceInfoWith(...values: string[]): Promise<unknown> {
    const metadata = new Metadata();
    for (const v of values) metadata.add('authorization', v);
    return new Promise((resolve, reject) =>
      ts.twinlens.getServiceInfo(GetServiceInfoRequest.fromPartial({}), metadata, (e, r) => (e ? reject(e) : resolve(r))),
    );
  }

  test.each([
    ['another scheme', [`Basic ${READ_TOKEN}`]],
    ['the token without a scheme', [READ_TOKEN]],
    ['the scheme without a token', ['Bearer']],
    ['a token with a space in it', [`Bearer ${READ_TOKEN} extra`]],
  ])('%s is UNAUTHENTICATED (malformed) and not echoed', async (_name, values) => {
    const e = await expectStatus(serviceInfoWith(...values), status.UNAUTHENTICATED, 'invalid bearer token');
    expect(e.details).not.toContain(READ_TOKEN);
  });

  test('the scheme is case-insensitive (RFC 7235)', async () => {
    await expect(serviceInfoWith(`bearer ${READ_TOKEN}`)).resolves.toMatchObject({ executionProvider: 'cpu' });
  });

  test('a refused call does not disturb the connection: the next call on it succeeds', async () => {
    const metadata = new Metadata();
    const refused = new Promise((resolve, reject) =>
      ts.twinlens.search(SearchRequest.fromPartial({ image }), metadata, (e, r) => (e ? reject(e) : resolve(r))),
    );
    await expectStatus(refused, status.UNAUTHENTICATED);
    await expect(serviceInfoWith(`Bearer ${READ_TOKEN}`)).resolves.toBeDefined();
  });
});

describe('buf curl with a token', () => {
  test('-H "Authorization: Bearer <read token>" calls GetCatalogStats; without it the call fails', async () => {
    const url = `http://${ts.address}/twinlens.v1.CatalogService/GetCatalogStats`;
    const out = JSON.parse(await bufCurl('--http2-prior-knowledge', '-H', `Authorization: Bearer ${READ_TOKEN}`, '-d', '{}', url));
    expect(Number(out.itemCount)).toBeGreaterThanOrEqual(2);
    await expect(bufCurl('--http2-prior-knowledge', '-d', '{}', url)).rejects.toMatchObject({
      stderr: expect.stringMatching(/unauthenticated|not authenticated/i),
    });
  });
});

describe('authExemptServices: []', () => {
  let strict: TestServer;
  let strictReader: SecureClients;
  let strictAnonymous: SecureClients;

  beforeAll(async () => {
    strict = await startTestServer({ readTokens: [READ_TOKEN], authExemptServices: [] });
    strictReader = secureClients(strict.address, { token: READ_TOKEN });
    strictAnonymous = secureClients(strict.address);
  });

  afterAll(async () => {
    strictReader?.close();
    strictAnonymous?.close();
    await strict?.stop();
  });

  test('health Check needs a token', async () => {
    await expectStatus(strictAnonymous.rpc.healthCheck(''), status.UNAUTHENTICATED, 'missing bearer token');
    expect(await strictReader.rpc.healthCheck('')).toBe('SERVING');
  });

  test('reflection needs a token', async () => {
    const url = `http://${strict.address}`;
    await expect(bufCurl('--http2-prior-knowledge', '--list-services', url)).rejects.toMatchObject({
      stderr: expect.stringMatching(/unauthenticated|not authenticated/i),
    });
    const services = await bufCurl('--http2-prior-knowledge', '--reflect-header', `Authorization: Bearer ${READ_TOKEN}`, '--list-services', url);
    expect(services).toContain('twinlens.v1.TwinlensService');
  });

  test('with only read tokens configured, nobody can write', async () => {
    await expectStatus(strictReader.rpc.upsertItems([{ itemId: 'strict-1', image }]), status.PERMISSION_DENIED);
  });
});
