/**
 * The pieces behind bearer-token authentication: the constant-time token set, the metadata parser,
 * the token file, option validation and environment variables, the CLI flags, and what the server
 * says about its security at start (counts and warnings, never a token).
 */
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { Metadata } from '@grpc/grpc-js';
import { Command } from 'commander';
import { createTwinlensServer } from '../../src/server/index.js';
import { type Logger } from '../../src/observability/index.js';
import { addClientSecurityFlags, clientSecurityOptionsFrom } from '../../src/cli/security-flags.js';
import { addOptionFlags, optionsFromFlags } from '../../src/cli/option-flags.js';
import { DEFAULT_OPTIONS, optionsFromEnv, validateOptions } from '../../src/config/index.js';
import {
  createTokenSet,
  isLoopbackHost,
  isWellFormedToken,
  parseTokenFile,
  presentedTokenFrom,
  readTokenFile,
  SecurityConfigError,
  serverSecurityFrom,
} from '../../src/security/index.js';
import { makeTempDir } from '../helpers/server.js';
import { READ_TOKEN, WRITE_TOKEN } from './secure-clients.js';

describe('createTokenSet', () => {
  test('finds exactly its tokens; near misses, prefixes and the empty string are not in it', () => {
    const set = createTokenSet([READ_TOKEN, WRITE_TOKEN, READ_TOKEN]);
    expect(set.size).toBe(2);
    expect(set.has(READ_TOKEN)).toBe(true);
    expect(set.has(WRITE_TOKEN)).toBe(true);
    expect(set.has(READ_TOKEN.slice(0, -1))).toBe(false);
    expect(set.has(`${READ_TOKEN}x`)).toBe(false);
    expect(set.has(READ_TOKEN.toUpperCase())).toBe(false);
    expect(set.has('')).toBe(false);
  });

  test('an empty set has nothing', () => {
    expect(createTokenSet([]).has(READ_TOKEN)).toBe(false);
  });
});

describe('presentedTokenFrom', () => {
  const md = (...values: string[]): Metadata => {
    const m = new Metadata();
    for (const v of values) m.add('authorization', v);
    return m;
  };
  test.each([
    ['no authorization', md(), { kind: 'missing' }],
    ['Bearer <token>', md(`Bearer ${READ_TOKEN}`), { kind: 'bearer', token: READ_TOKEN }],
    ['bearer <token> (scheme in lower case)', md(`bearer ${READ_TOKEN}`), { kind: 'bearer', token: READ_TOKEN }],
    ['BEARER  <token> (two spaces)', md(`BEARER  ${READ_TOKEN}`), { kind: 'bearer', token: READ_TOKEN }],
    ['Basic <credentials>', md('Basic dXNlcjpwYXNz'), { kind: 'malformed' }],
    ['a bare token', md(READ_TOKEN), { kind: 'malformed' }],
    ['Bearer with nothing after it', md('Bearer'), { kind: 'malformed' }],
    ['two words after Bearer', md(`Bearer ${READ_TOKEN} ${WRITE_TOKEN}`), { kind: 'malformed' }],
    ['two authorization values', md(`Bearer ${READ_TOKEN}`, `Bearer ${WRITE_TOKEN}`), { kind: 'malformed' }],
  ])('%s', (_name, metadata, expected) => {
    expect(presentedTokenFrom(metadata)).toEqual(expected);
  });
});

describe('token shape', () => {
  test.each([
    ['16 characters of b64token', 'abcdefghijklmnop', true],
    ['with - . _ ~ + / and trailing =', 'a-b.c_d~e+f/g0123==', true],
    ['15 characters', 'abcdefghijklmno', false],
    ['a space', 'abcdefgh ijklmnopq', false],
    ['a comma', 'abcdefgh,ijklmnopq', false],
    ['a colon', 'abcdefgh:ijklmnopq', false],
    ['= in the middle', 'abcdefgh=ijklmnopq', false],
    ['not a string', 12345678901234567, false],
  ])('%s: %s', (_name, token, ok) => {
    expect(isWellFormedToken(token)).toBe(ok);
  });
});

describe('token file', () => {
  test('read: and write: lines, comments, blank lines and spaces', () => {
    const text = `# twinlens tokens\n\nread:${READ_TOKEN}\n  write : ${WRITE_TOKEN}  \r\nread:abcdefghijklmnop\n`;
    expect(parseTokenFile(text, 'authTokenFile', 'tokens.txt')).toEqual({ read: [READ_TOKEN, 'abcdefghijklmnop'], write: [WRITE_TOKEN] });
  });

  test.each([
    ['a line without a permission', `${READ_TOKEN}\n`, 'line 1'],
    ['an unknown permission', `\nadmin:${READ_TOKEN}\n`, 'line 2'],
    ['a short token', `read:${READ_TOKEN}\nwrite:short\n`, 'line 2'],
  ])('%s fails with the line number, not the content', (_name, text, where) => {
    let error: Error | undefined;
    try {
      parseTokenFile(text, 'authTokenFile', '/etc/twinlens/tokens');
    } catch (e) {
      error = e as Error;
    }
    expect(error).toBeInstanceOf(SecurityConfigError);
    expect(error!.message).toContain("option authTokenFile ('/etc/twinlens/tokens')");
    expect(error!.message).toContain(where);
    expect(error!.message).not.toContain(READ_TOKEN);
    expect(error!.message).not.toContain('short:');
  });

  test('a missing file names the option and the path', () => {
    expect(() => readTokenFile('/no/such/tokens.txt')).toThrow(/option authTokenFile \('\/no\/such\/tokens.txt'\): cannot read the token file/);
  });
});

describe('options', () => {
  test('defaults: no TLS, no tokens, health and reflection exempt, loopback', () => {
    const o = validateOptions({});
    expect(o).toMatchObject({ host: '127.0.0.1', tlsCertFile: '', tlsKeyFile: '', tlsClientCaFile: '', readTokens: [], writeTokens: [], authTokenFile: '' });
    expect(o.authExemptServices).toEqual(['grpc.health.v1.Health', 'grpc.reflection.v1.ServerReflection', 'grpc.reflection.v1alpha.ServerReflection']);
  });

  test('lists are copied, so changing the caller’s array or the defaults does not change the options', () => {
    const tokens = [READ_TOKEN];
    const o = validateOptions({ readTokens: tokens });
    tokens.push(WRITE_TOKEN);
    expect(o.readTokens).toEqual([READ_TOKEN]);
    expect(o.authExemptServices).not.toBe(DEFAULT_OPTIONS.authExemptServices);
  });

  test.each([
    ['a short read token', { readTokens: [READ_TOKEN, 'tooshort'] }, RangeError, /option readTokens: entry 1 is not a usable bearer token/],
    ['a write token with a space', { writeTokens: ['has a space in it!!'] }, RangeError, /option writeTokens: entry 0/],
    ['readTokens not a list', { readTokens: READ_TOKEN as unknown as string[] }, TypeError, /option readTokens: expected a list/],
    ['a service name with a slash', { authExemptServices: ['grpc.health.v1.Health/Check'] }, TypeError, /option authExemptServices/],
    ['a non-string TLS path', { tlsCertFile: 1 as unknown as string }, TypeError, /option tlsCertFile: expected a file path/],
  ])('refuses %s', (_name, options, type, message) => {
    expect(() => validateOptions(options)).toThrow(type);
    expect(() => validateOptions(options)).toThrow(message);
  });

  test('a refused token is not shown in the message', () => {
    const secret = 'secret with spaces 0123456789';
    expect(() => validateOptions({ readTokens: [secret] })).toThrow(/value not shown/);
    try {
      validateOptions({ readTokens: [secret] });
    } catch (e) {
      expect((e as Error).message).not.toContain(secret);
    }
  });

  test('environment variables: comma-separated token lists; an empty exempt list means none', () => {
    const o = optionsFromEnv({
      TWINLENS_READ_TOKENS: ` ${READ_TOKEN} , abcdefghijklmnop,`,
      TWINLENS_WRITE_TOKENS: WRITE_TOKEN,
      TWINLENS_AUTH_EXEMPT_SERVICES: '',
      TWINLENS_TLS_CERT: '/tls/server.crt',
      TWINLENS_TLS_KEY: '/tls/server.key',
      TWINLENS_TLS_CLIENT_CA: '/tls/ca.crt',
      TWINLENS_AUTH_TOKEN_FILE: '/tls/tokens',
    });
    expect(o).toMatchObject({
      readTokens: [READ_TOKEN, 'abcdefghijklmnop'],
      writeTokens: [WRITE_TOKEN],
      authExemptServices: [],
      tlsCertFile: '/tls/server.crt',
      tlsKeyFile: '/tls/server.key',
      tlsClientCaFile: '/tls/ca.crt',
      authTokenFile: '/tls/tokens',
    });
    expect(optionsFromEnv({}).readTokens).toBeUndefined();
  });
});

describe('CLI flags', () => {
  test('serve: repeated token flags, TLS files and --auth-exempt none; absent flags stay undefined', () => {
    const cmd = addOptionFlags(new Command('serve').exitOverride(), 'serve');
    cmd.parse(['--read-token', READ_TOKEN, '--read-token', 'abcdefghijklmnop', '--write-token', WRITE_TOKEN, '--tls-cert', 'c.pem', '--tls-key', 'k.pem', '--tls-client-ca', 'ca.pem', '--token-file', 't', '--auth-exempt', 'none'], { from: 'user' });
    expect(optionsFromFlags(cmd)).toEqual({
      readTokens: [READ_TOKEN, 'abcdefghijklmnop'],
      writeTokens: [WRITE_TOKEN],
      tlsCertFile: 'c.pem',
      tlsKeyFile: 'k.pem',
      tlsClientCaFile: 'ca.pem',
      authTokenFile: 't',
      authExemptServices: [],
    });
    const bare = addOptionFlags(new Command('serve').exitOverride(), 'serve');
    bare.parse([], { from: 'user' });
    expect(optionsFromFlags(bare)).toEqual({});
  });

  test('client: --token, else TWINLENS_TOKEN; --tls-ca and a client certificate', () => {
    const cmd = addClientSecurityFlags(new Command('search').exitOverride());
    cmd.parse(['--tls-ca', 'ca.pem', '--tls-cert', 'c.pem', '--tls-key', 'k.pem'], { from: 'user' });
    expect(clientSecurityOptionsFrom(cmd.opts(), { TWINLENS_TOKEN: READ_TOKEN })).toEqual({
      token: READ_TOKEN,
      tls: undefined,
      tlsCaFile: 'ca.pem',
      tlsCertFile: 'c.pem',
      tlsKeyFile: 'k.pem',
    });
    expect(clientSecurityOptionsFrom({ token: WRITE_TOKEN }, { TWINLENS_TOKEN: READ_TOKEN }).token).toBe(WRITE_TOKEN);
    expect(clientSecurityOptionsFrom({}, {}).token).toBeUndefined();
  });
});

describe('start-up messages', () => {
  test.each([
    ['127.0.0.1', true],
    ['127.1.2.3', true],
    ['localhost', true],
    ['::1', true],
    ['[::1]', true],
    ['::ffff:127.0.0.1', true],
    ['0.0.0.0', false],
    ['::', false],
    ['192.168.1.10', false],
    ['example.com', false],
  ])('isLoopbackHost(%s) is %s', (host, loopback) => {
    expect(isLoopbackHost(host)).toBe(loopback);
  });

  test('a non-loopback address without tokens warns that anyone can change the catalog', () => {
    const s = serverSecurityFrom({ host: '0.0.0.0' });
    expect(s.authEnabled).toBe(false);
    expect(s.warnings).toEqual([expect.stringContaining('binding 0.0.0.0, which other machines may reach, without bearer tokens')]);
    expect(serverSecurityFrom({ host: '127.0.0.1' }).warnings).toEqual([]);
  });

  test('tokens without TLS on a non-loopback address warn about cleartext', () => {
    expect(serverSecurityFrom({ host: '::', readTokens: [READ_TOKEN] }).warnings).toEqual([expect.stringContaining('without TLS')]);
  });

  test('the token file adds to the option tokens; the summary counts them and shows none', async () => {
    const dir = await makeTempDir('twinlens-tokens-');
    try {
      const file = path.join(dir, 'tokens');
      await fs.writeFile(file, `write:${WRITE_TOKEN}\nread:abcdefghijklmnop\n`);
      const s = serverSecurityFrom({ host: '127.0.0.1', readTokens: [READ_TOKEN], authTokenFile: file });
      expect(s.summary).toBe(
        'transport: plaintext; bearer tokens: 2 read, 1 write; no token needed for grpc.health.v1.Health, grpc.reflection.v1.ServerReflection, grpc.reflection.v1alpha.ServerReflection',
      );
      expect(s.summary).not.toContain(READ_TOKEN);
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });

  test('the server logs its security and the warnings, never a token', async () => {
    const lines: string[] = [];
    const log: Logger = { info: (m) => lines.push(m), error: (m) => lines.push(m) };
    const dataDir = await makeTempDir();
    // Bound to every interface for a moment, but with tokens, so the server is never open.
    const server = await createTwinlensServer(
      { host: '0.0.0.0', port: 0, dataDir, executionProviders: ['cpu'], seedDemoCatalog: false, catalogViews: 0, readTokens: [READ_TOKEN], writeTokens: [WRITE_TOKEN] },
      log,
    );
    try {
      expect(lines).toContain(`security: transport: plaintext; bearer tokens: 1 read, 1 write; no token needed for ${DEFAULT_OPTIONS.authExemptServices.join(', ')}`);
      expect(lines).toContainEqual(expect.stringMatching(/^WARNING: binding 0\.0\.0\.0 without TLS/));
      expect(lines.join('\n')).not.toContain(READ_TOKEN);
      expect(lines.join('\n')).not.toContain(WRITE_TOKEN);
    } finally {
      await server.close();
      await fs.rm(dataDir, { recursive: true, force: true });
    }
  });
});

