/**
 * TLS and mutual TLS end to end, with a throw-away PKI that openssl makes for the run: a CA, a
 * server certificate for 127.0.0.1 and localhost, a client certificate from the same CA and one
 * from a stranger CA. Real servers, real grpc-js clients (the CLI's `connect()`) and `buf curl`.
 */
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { status } from '@grpc/grpc-js';
import { createTwinlensServer } from '../../src/server/index.js';
import { silentLogger } from '../../src/observability/index.js';
import { validateOptions } from '../../src/config/index.js';
import { SecurityConfigError, serverCredentialsFrom } from '../../src/security/index.js';
import { patternImage } from '../helpers/images.js';
import { expectStatus, startTestServer, type TestServer } from '../helpers/server.js';
import { bufCurl, makeTestPki, READ_TOKEN, secureClients, type TestPki, WRITE_TOKEN } from './secure-clients.js';
import { loadManifest } from '../../src/model/index.js';
import { DEFAULT_OPTIONS } from '../../src/config/index.js';

let DEFAULT_DIM = 0;
beforeAll(async () => {
  DEFAULT_DIM = (await loadManifest(DEFAULT_OPTIONS.modelManifest)).embeddingDim;
});

let pki: TestPki;

beforeAll(async () => {
  pki = await makeTestPki(await fs.mkdtemp(path.join(os.tmpdir(), 'twinlens-pki-')));
});

afterAll(async () => {
  if (pki) await fs.rm(pki.dir, { recursive: true, force: true });
});

/** Runs `body` with clients made from `options`, closing them afterwards. */
async function withClients<T>(address: string, options: Parameters<typeof secureClients>[1], body: (c: ReturnType<typeof secureClients>) => Promise<T>): Promise<T> {
  const c = secureClients(address, options);
  try {
    return await body(c);
  } finally {
    c.close();
  }
}

describe('TLS (tlsCertFile + tlsKeyFile) with tokens', () => {
  let ts: TestServer;

  beforeAll(async () => {
    ts = await startTestServer({
      tlsCertFile: pki.serverCert,
      tlsKeyFile: pki.serverKey,
      readTokens: [READ_TOKEN],
      writeTokens: [WRITE_TOKEN],
    });
  });

  afterAll(async () => {
    await ts?.stop();
  });

  test('a client trusting the CA reads with the read token, at 127.0.0.1 and at localhost', async () => {
    for (const address of [ts.address, `localhost:${ts.server.port}`]) {
      await withClients(address, { tlsCaFile: pki.caCert, token: READ_TOKEN }, async (c) => {
        expect((await c.rpc.getServiceInfo()).executionProvider).toBe('cpu');
        expect(await c.rpc.healthCheck('')).toBe('SERVING');
      });
    }
  });

  test('the write token uploads over TLS; without a token the upload is UNAUTHENTICATED', async () => {
    const image = await patternImage(950);
    await withClients(ts.address, { tlsCaFile: pki.caCert, token: WRITE_TOKEN }, async (c) => {
      expect((await c.rpc.upsertItems([{ itemId: 'tls-1', image }])).upserted).toBe(1);
      expect((await c.rpc.search({ image, topK: 1 })).hits[0].itemId).toBe('tls-1');
    });
    await withClients(ts.address, { tlsCaFile: pki.caCert }, async (c) => {
      await expectStatus(c.rpc.upsertItems([{ itemId: 'tls-2', image }]), status.UNAUTHENTICATED, 'missing bearer token');
    });
  });

  test('a plaintext client cannot call (UNAVAILABLE), not even the exempt health service', async () => {
    await withClients(ts.address, { token: READ_TOKEN }, async (c) => {
      await expectStatus(c.rpc.getServiceInfo(), status.UNAVAILABLE);
      await expectStatus(c.rpc.healthCheck(''), status.UNAVAILABLE);
    });
  });

  test("a TLS client trusting only the system's CAs rejects the server (UNAVAILABLE)", async () => {
    await withClients(ts.address, { tls: true, token: READ_TOKEN }, async (c) => {
      await expectStatus(c.rpc.getServiceInfo(), status.UNAVAILABLE, /unable to verify|self-signed/);
    });
  });

  test('buf curl --cacert lists the services over https and calls with a bearer header', async () => {
    const url = `https://${ts.address}`;
    const services = await bufCurl('--cacert', pki.caCert, '--list-services', url);
    expect(services).toContain('twinlens.v1.CatalogService');
    const out = JSON.parse(
      await bufCurl('--cacert', pki.caCert, '-H', `Authorization: Bearer ${READ_TOKEN}`, '-d', '{}', `${url}/twinlens.v1.CatalogService/GetCatalogStats`),
    );
    expect(out.embeddingDim).toBe(DEFAULT_DIM);
  });
});

describe('mutual TLS (tlsClientCaFile)', () => {
  let ts: TestServer;

  beforeAll(async () => {
    ts = await startTestServer({ tlsCertFile: pki.serverCert, tlsKeyFile: pki.serverKey, tlsClientCaFile: pki.caCert });
  });

  afterAll(async () => {
    await ts?.stop();
  });

  test('a client with a certificate signed by the client CA works', async () => {
    await withClients(ts.address, { tlsCaFile: pki.caCert, tlsCertFile: pki.clientCert, tlsKeyFile: pki.clientKey }, async (c) => {
      expect((await c.rpc.getServiceInfo()).executionProvider).toBe('cpu');
      expect((await c.rpc.upsertItems([{ itemId: 'mtls-1', image: await patternImage(960) }])).upserted).toBe(1);
    });
  });

  test('a client without a certificate is refused (UNAVAILABLE)', async () => {
    await withClients(ts.address, { tlsCaFile: pki.caCert }, async (c) => {
      await expectStatus(c.rpc.getServiceInfo(), status.UNAVAILABLE, 'certificate required');
    });
  });

  test('a client with a certificate from another CA is refused (UNAVAILABLE)', async () => {
    await withClients(ts.address, { tlsCaFile: pki.caCert, tlsCertFile: pki.strangerCert, tlsKeyFile: pki.strangerKey }, async (c) => {
      await expectStatus(c.rpc.getServiceInfo(), status.UNAVAILABLE);
    });
  });

  test('buf curl with --cert/--key lists the services; without them it fails', async () => {
    const url = `https://${ts.address}`;
    expect(await bufCurl('--cacert', pki.caCert, '--cert', pki.clientCert, '--key', pki.clientKey, '--list-services', url)).toContain(
      'twinlens.v1.TwinlensService',
    );
    await expect(bufCurl('--cacert', pki.caCert, '--list-services', url)).rejects.toBeDefined();
  });
});

describe('unusable TLS settings fail at start, naming the option and the file', () => {
  test.each([
    ['a missing certificate file', () => ({ tlsCertFile: path.join(pki.dir, 'nope.crt'), tlsKeyFile: pki.serverKey }), 'tlsCertFile', 'nope.crt'],
    ['a missing key file', () => ({ tlsCertFile: pki.serverCert, tlsKeyFile: path.join(pki.dir, 'nope.key') }), 'tlsKeyFile', 'nope.key'],
    ['a key that is not the certificate’s', () => ({ tlsCertFile: pki.serverCert, tlsKeyFile: pki.clientKey }), 'tlsKeyFile', 'client.key'],
    ['a key file given as the certificate', () => ({ tlsCertFile: pki.serverKey, tlsKeyFile: pki.serverKey }), 'tlsCertFile', 'server.key'],
    [
      'a client CA file that holds no certificate',
      () => ({ tlsCertFile: pki.serverCert, tlsKeyFile: pki.serverKey, tlsClientCaFile: pki.clientKey }),
      'tlsClientCaFile',
      'client.key',
    ],
  ])('%s', (_name, options, option, file) => {
    let error: unknown;
    try {
      serverCredentialsFrom(options());
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(SecurityConfigError);
    expect(error).toMatchObject({ option, message: expect.stringContaining(`option ${option}`) });
    expect((error as Error).message).toContain(file);
  });

  test('createTwinlensServer rejects before loading the model', async () => {
    // The model does not exist either: the TLS error shows the certificate was read first.
    const modelManifest = path.join(pki.dir, 'no-such-model', 'manifest.json');
    await expect(
      createTwinlensServer({ port: 0, executionProviders: ['cpu'], modelManifest, tlsCertFile: path.join(pki.dir, 'nope.crt'), tlsKeyFile: pki.serverKey }, silentLogger),
    ).rejects.toThrow(/option tlsCertFile \('.*nope\.crt'\): cannot read/);
  });

  test.each([
    ['a certificate without a key', { tlsCertFile: 'server.crt' }, /tlsCertFile and tlsKeyFile: set both/],
    ['a key without a certificate', { tlsKeyFile: 'server.key' }, /tlsCertFile and tlsKeyFile: set both/],
    ['a client CA without a server certificate', { tlsClientCaFile: 'ca.crt' }, /tlsClientCaFile: mutual TLS needs the server certificate/],
  ])('validateOptions refuses %s', (_name, options, message) => {
    expect(() => validateOptions(options)).toThrow(message);
  });
});
