/**
 * No token in any log line, grpc-js's own included: an authorization value with a character
 * grpc-js refuses in metadata (a tab after `Bearer`, a non-ASCII character) used to be printed
 * whole to stderr by grpc-js, and the client was told "missing bearer token". The server runs as
 * a child process, its stdout and stderr go to one file, and the test greps it for the token.
 */
import * as fs from 'node:fs';
import * as http2 from 'node:http2';
import * as os from 'node:os';
import * as path from 'node:path';
import { status } from '@grpc/grpc-js';
import { redactGrpcJsMessage } from '../../src/security/index.js';
import { type ServerProcess, startServerProcess } from '../../tools/loadtest/index.js';
import { assertServerBuilt } from '../tools/loadtest/build-check.js';

const TOKEN = 'SecretTokenValue-0123456789abcdef';
const PATH = '/twinlens.v1.TwinlensService/GetServiceInfo';

/** One call with a hand-made authorization header over raw HTTP/2 (grpc-js's client refuses such values). */
function callWithAuthorization(address: string, authorization: string): Promise<{ code: number; details: string }> {
  return new Promise((resolve, reject) => {
    const session = http2.connect(`http://${address}`);
    session.on('error', reject);
    const req = session.request({ ':method': 'POST', ':path': PATH, 'content-type': 'application/grpc', te: 'trailers', authorization });
    let headers: http2.IncomingHttpHeaders = {};
    req.on('response', (h) => (headers = h));
    req.on('trailers', (t) => (headers = { ...headers, ...t }));
    req.on('data', () => undefined);
    req.on('error', reject);
    req.on('close', () => {
      session.close();
      resolve({ code: Number(headers['grpc-status']), details: decodeURIComponent(String(headers['grpc-message'] ?? '')) });
    });
    // An empty GetServiceInfoRequest: a 5-byte gRPC frame of length 0.
    req.end(Buffer.alloc(5));
  });
}

describe('a malformed authorization header', () => {
  let dir: string;
  let server: ServerProcess;
  beforeAll(async () => {
    assertServerBuilt();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'twinlens-grpc-log-'));
    server = await startServerProcess({ dataDir: path.join(dir, 'data'), env: { TWINLENS_READ_TOKENS: TOKEN } });
  });
  afterAll(async () => {
    await server?.stop();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  test.each([
    ['a tab after Bearer', `Bearer\t${TOKEN}`],
    ['a non-ASCII character in the token', `Bearer ${TOKEN}\u00e9`],
  ])('with %s: UNAUTHENTICATED saying what is wrong, and no trace of the token in stdout or stderr', async (_name, authorization) => {
    const r = await callWithAuthorization(server.address, authorization);
    expect(r.code).toBe(status.UNAUTHENTICATED);
    expect(r.details).toContain('authorization header contains characters not allowed in metadata (value not shown)');
    expect(r.details).not.toContain(TOKEN);
    // The server logs synchronously; give the line a moment to reach the file all the same.
    await new Promise((res) => setTimeout(res, 200));
    const output = fs.readFileSync(server.logFile, 'utf8');
    expect(output).toContain('grpc-js dropped request metadata entry authorization (value not shown)');
    expect(output).not.toContain(TOKEN);
    expect(output).not.toContain(TOKEN.slice(0, 12));
  });

  test('the well-formed token still works', async () => {
    const r = await callWithAuthorization(server.address, `Bearer ${TOKEN}`);
    expect(r.code).toBe(status.OK);
  });
});

describe('redactGrpcJsMessage', () => {
  test('drops the value of a dropped metadata entry, including the copy in the reason', () => {
    const message = `Failed to add metadata entry authorization: Bearer\t${TOKEN}. Metadata string value "Bearer\t${TOKEN}" contains illegal characters. For more information see https://github.com/grpc/grpc-node/issues/1173`;
    expect(redactGrpcJsMessage(message)).toEqual({
      text: 'grpc-js dropped request metadata entry authorization (value not shown): contains illegal characters',
      droppedKey: 'authorization',
    });
  });

  test('removes bearer tokens from any other line (a header trace)', () => {
    const { text } = redactGrpcJsMessage(`Request to /x received headers {"authorization":["Bearer ${TOKEN}"]}`);
    expect(text).not.toContain(TOKEN);
    expect(text).toContain('Bearer [redacted]');
  });
});
