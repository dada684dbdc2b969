/**
 * Helpers for the security tests: a throw-away PKI made with openssl, clients that carry TLS
 * credentials and bearer tokens (the CLI's own `connect()`), and `buf curl`. Child processes run
 * asynchronously: a synchronous one would block the event loop the in-process server needs.
 */
import { execFile } from 'node:child_process';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { makeGenericClientConstructor, type ChannelCredentials, type Interceptor } from '@grpc/grpc-js';
import { service as healthService } from 'grpc-health-check';
import { connect, type ConnectOptions } from '../../src/cli/client.js';
import { clientSecurityFrom } from '../../src/security/index.js';
import { type HealthClient, makeRpc, type Rpc } from '../helpers/server.js';

export const execFileAsync = promisify(execFile);
const OPENSSL = '/usr/bin/openssl';
export const BUF = path.join(__dirname, '..', '..', 'node_modules', '.bin', 'buf');

/** Tokens of the tests: long enough for validateOptions, distinct, and easy to spot in a message. */
export const READ_TOKEN = 'read-token-0123456789abcdef';
export const WRITE_TOKEN = 'write-token-fedcba9876543210';

/** The files of a test PKI. */
export interface TestPki {
  dir: string;
  /** The CA that signed the server and client certificates. */
  caCert: string;
  serverCert: string;
  serverKey: string;
  /** A client certificate signed by caCert. */
  clientCert: string;
  clientKey: string;
  /** A client certificate signed by an unrelated CA. */
  strangerCert: string;
  strangerKey: string;
}

const openssl = (dir: string, ...args: string[]): Promise<unknown> => execFileAsync(OPENSSL, args, { cwd: dir, timeout: 30_000 });

/** A self-signed P-256 CA in `dir`: NAME.crt and NAME.key. */
async function makeCa(dir: string, name: string): Promise<void> {
  await openssl(dir, 'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-keyout', `${name}.key`, '-out', `${name}.crt`, '-days', '2', '-subj', `/CN=${name}`,
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign');
}

/** A P-256 leaf NAME.crt/NAME.key signed by CA.crt, with the given X.509 v3 extensions. */
async function makeLeaf(dir: string, name: string, ca: string, cn: string, extensions: string): Promise<void> {
  await fs.writeFile(path.join(dir, `${name}.ext`), extensions);
  await openssl(dir, 'req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${cn}`);
  await openssl(dir, 'x509', '-req', '-in', `${name}.csr`, '-CA', `${ca}.crt`, '-CAkey', `${ca}.key`,
    '-set_serial', `0x${Date.now().toString(16)}${name.length}`, '-days', '2', '-out', `${name}.crt`, '-extfile', `${name}.ext`);
}

/**
 * A CA, a server certificate for 127.0.0.1 and localhost, a client certificate from the same CA,
 * and a client certificate from another CA, all in `dir`.
 */
export async function makeTestPki(dir: string): Promise<TestPki> {
  await makeCa(dir, 'ca');
  await makeCa(dir, 'stranger-ca');
  await makeLeaf(dir, 'server', 'ca', '127.0.0.1',
    'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1,DNS:localhost\n');
  const clientExt = 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\n';
  await makeLeaf(dir, 'client', 'ca', 'twinlens-test-client', clientExt);
  await makeLeaf(dir, 'stranger', 'stranger-ca', 'twinlens-test-stranger', clientExt);
  const p = (f: string): string => path.join(dir, f);
  return {
    dir,
    caCert: p('ca.crt'),
    serverCert: p('server.crt'),
    serverKey: p('server.key'),
    clientCert: p('client.crt'),
    clientKey: p('client.key'),
    strangerCert: p('stranger.crt'),
    strangerKey: p('stranger.key'),
  };
}

const HealthCtor = makeGenericClientConstructor(healthService, 'grpc.health.v1.Health') as unknown as new (
  address: string,
  creds: ChannelCredentials,
  options: { interceptors: Interceptor[] },
) => HealthClient;

/** Real clients of all three services with the given TLS settings and token. */
export interface SecureClients {
  rpc: Rpc;
  /** Opens a CompareStream (bidirectional) with these credentials. */
  compareStream: ReturnType<typeof connect>['twinlens']['compareStream'];
  close(): void;
}

/** Connects with `options` (TLS files, token), the way the CLI's search/index/compare do. */
export function secureClients(address: string, options: ConnectOptions = {}): SecureClients {
  const c = connect(address, options);
  const security = clientSecurityFrom(options);
  const health = new HealthCtor(address, security.credentials, { interceptors: security.interceptors });
  return {
    rpc: makeRpc(c.twinlens, c.catalog, health),
    compareStream: c.twinlens.compareStream.bind(c.twinlens),
    close() {
      c.close();
      health.close();
    },
  };
}

/** Runs `buf curl --protocol grpc ...args` and resolves its stdout. */
export async function bufCurl(...args: string[]): Promise<string> {
  const { stdout } = await execFileAsync(BUF, ['curl', '--protocol', 'grpc', ...args], { timeout: 60_000, maxBuffer: 16 * 1024 * 1024 });
  return stdout;
}
