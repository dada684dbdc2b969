/** The metrics and log options: defaults, validation, environment, the serve flags, and the pino Logger. */
import { Writable } from 'node:stream';
import { createPinoLogger, type LogFields } from '../../src/observability/index.js';
import { Command } from 'commander';
import { addOptionFlags, serviceOptionsFrom } from '../../src/cli/option-flags.js';
import { DEFAULT_OPTIONS, SERVE_DEFAULTS, type LogLevel, optionsFromEnv, validateOptions } from '../../src/config/index.js';

describe('metricsPort, metricsHost, logLevel', () => {
  test('default: no metrics, the gRPC host, info', () => {
    expect(DEFAULT_OPTIONS).toMatchObject({ metricsPort: null, metricsHost: null, logLevel: 'info' });
    expect(validateOptions({})).toMatchObject({ metricsPort: null, metricsHost: null, logLevel: 'info' });
  });

  test('accept a port 0..65535, a host and a pino level', () => {
    expect(validateOptions({ metricsPort: 0, metricsHost: '0.0.0.0', logLevel: 'warn' })).toMatchObject({
      metricsPort: 0,
      metricsHost: '0.0.0.0',
      logLevel: 'warn',
    });
  });

  test.each([
    ['a negative port', { metricsPort: -1 }, RangeError, 'option metricsPort: expected 0..65535, received -1'],
    ['a port above 65535', { metricsPort: 70000 }, RangeError, 'option metricsPort: expected 0..65535'],
    ['a fractional port', { metricsPort: 1.5 }, TypeError, 'option metricsPort: expected an integer, received 1.5'],
    ['a port that is not a number', { metricsPort: Number('abc') }, TypeError, 'option metricsPort: expected an integer'],
    ['an empty host', { metricsHost: '' }, TypeError, 'option metricsHost: expected a non-empty string or null'],
    ['an unknown level', { logLevel: 'loud' as LogLevel }, RangeError, 'option logLevel: expected one of fatal, error, warn, info'],
  ])('reject %s', (_name, partial, kind, message) => {
    expect(() => validateOptions(partial)).toThrow(kind);
    expect(() => validateOptions(partial)).toThrow(message);
  });

  test('come from TWINLENS_METRICS_PORT (off: none), TWINLENS_METRICS_HOST and TWINLENS_LOG_LEVEL', () => {
    expect(
      optionsFromEnv({ TWINLENS_METRICS_PORT: '9500', TWINLENS_METRICS_HOST: '::1', TWINLENS_LOG_LEVEL: 'debug' }),
    ).toMatchObject({ metricsPort: 9500, metricsHost: '::1', logLevel: 'debug' });
    expect(optionsFromEnv({ TWINLENS_METRICS_PORT: 'off' }).metricsPort).toBeNull();
    expect(optionsFromEnv({})).toMatchObject({ metricsPort: undefined, metricsHost: undefined, logLevel: undefined });
  });
});

describe('serve flags', () => {
  /** The options `twinlens serve ARGS` gets in environment `env`. */
  function serve(args: string[], env: NodeJS.ProcessEnv = {}): ReturnType<typeof serviceOptionsFrom> {
    const cmd = addOptionFlags(new Command('serve').exitOverride(), 'serve');
    cmd.parse(args, { from: 'user' });
    return serviceOptionsFrom(cmd, 'serve', env);
  }

  test('metrics on at 9464 unless a flag or the environment says otherwise', () => {
    expect(SERVE_DEFAULTS.metricsPort).toBe(9464);
    expect(serve([]).metricsPort).toBe(9464);
    expect(serve([], { TWINLENS_METRICS_PORT: '9500' }).metricsPort).toBe(9500);
    expect(serve([], { TWINLENS_METRICS_PORT: 'off' }).metricsPort).toBeNull();
    expect(serve(['--metrics-port', '9600'], { TWINLENS_METRICS_PORT: '9500' }).metricsPort).toBe(9600);
  });

  test('--no-metrics turns them off whatever else is set', () => {
    expect(serve(['--no-metrics', '--metrics-port', '9600'], { TWINLENS_METRICS_PORT: '9500' }).metricsPort).toBeNull();
    expect(serve(['--metrics-port', '9600', '--no-metrics']).metricsPort).toBeNull();
  });

  test('--metrics-host and --log-level are passed only when given', () => {
    expect(serve(['--metrics-host', '0.0.0.0', '--log-level', 'error'])).toMatchObject({ metricsPort: 9464, metricsHost: '0.0.0.0', logLevel: 'error' });
    const bare = serve([]);
    expect(bare.metricsHost).toBeUndefined();
    expect(bare.logLevel).toBeUndefined();
  });
});

describe('createPinoLogger', () => {
  function capture(level?: LogLevel): { log: ReturnType<typeof createPinoLogger>; lines: () => LogFields[] } {
    const chunks: string[] = [];
    const destination = new Writable({
      write(chunk: Buffer, _enc, done) {
        chunks.push(chunk.toString());
        done();
      },
    });
    return {
      log: createPinoLogger({ level, destination }),
      lines: () =>
        chunks
          .join('')
          .split('\n')
          .filter(Boolean)
          .map((l) => JSON.parse(l) as LogFields),
    };
  }

  test('writes one JSON line per message, with the fields, and works unbound', () => {
    const { log, lines } = capture();
    const info = log.info;
    info('hello', { a: 1 });
    log.info('plain');
    expect(lines()).toEqual([
      expect.objectContaining({ level: 'info', name: 'twinlens', msg: 'hello', a: 1 }),
      expect.objectContaining({ level: 'info', msg: 'plain' }),
    ]);
  });

  test('serialises an Error under err with its stack, anything else under error', () => {
    const { log, lines } = capture();
    log.error('failed', new RangeError('boom'), { requestId: 'r1' });
    log.error('odd', 'a string');
    expect(lines()).toEqual([
      expect.objectContaining({
        level: 'error',
        msg: 'failed',
        requestId: 'r1',
        err: expect.objectContaining({ type: 'RangeError', message: 'boom', stack: expect.stringContaining('RangeError: boom') }),
      }),
      expect.objectContaining({ level: 'error', msg: 'odd', error: 'a string' }),
    ]);
  });

  test('drops lines below its level', () => {
    const { log, lines } = capture('error');
    log.info('dropped');
    log.error('kept');
    expect(lines().map((l) => l.msg)).toEqual(['kept']);
  });

  test('rejects an unknown level', () => {
    expect(() => createPinoLogger({ level: 'loud' as LogLevel })).toThrow(RangeError);
  });
});
