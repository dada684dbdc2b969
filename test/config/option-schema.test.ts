/** The option schema: its table, defaults, validation, environment variables and CLI flags. */
import { Command, CommanderError } from 'commander';
import { addOptionFlags, optionsFromFlags, serviceOptionsFrom } from '../../src/cli/option-flags.js';
import {
  DEFAULT_OPTIONS,
  OPTION_SCHEMA,
  type OptionName,
  optionEntries,
  optionsFromEnv,
  type TwinlensOptions,
  validateOptions,
} from '../../src/config/index.js';

/** The options `twinlens <command> ARGS` gets in environment `env`. */
function parse(args: string[], env: NodeJS.ProcessEnv = {}, scope: 'serve' | 'model' = 'serve'): Partial<TwinlensOptions> {
  const cmd = addOptionFlags(new Command(scope === 'serve' ? 'serve' : 'eval').exitOverride().configureOutput({ writeErr: () => {} }), scope);
  cmd.parse(args, { from: 'user' });
  return serviceOptionsFrom(cmd, scope, env);
}

describe('the table', () => {
  test('every option has its own TWINLENS_* variable, its own serve flag and a doc line', () => {
    const entries = optionEntries();
    expect(entries.length).toBe(Object.keys(DEFAULT_OPTIONS).length);
    for (const [name, spec] of entries) {
      expect(spec.env).toMatch(/^TWINLENS_[A-Z0-9_]+$/);
      expect(spec.flag.flags).toMatch(/^--[a-z][a-z0-9-]*( <[a-z]+>)?$/);
      expect(spec.doc.length).toBeGreaterThan(5);
      expect(['int', 'number', 'boolean', 'string', 'enum', 'list', 'port-or-off', 'string-or-null']).toContain(spec.kind);
      if (spec.kind === 'int' || spec.kind === 'number') expect(spec.min! <= (spec.default as number) && (spec.default as number) <= spec.max!).toBe(true);
      expect(name in DEFAULT_OPTIONS).toBe(true);
    }
    const envs = entries.map(([, s]) => s.env);
    expect(new Set(envs).size).toBe(envs.length);
    const flags = entries.flatMap(([, s]) => [s.flag.flags.split(' ')[0], ...(s.flag.off ? [s.flag.off] : [])]);
    expect(new Set(flags).size).toBe(flags.length);
  });

  test('the defaults are the service defaults the eval figures were measured with', () => {
    const { modelManifest, evidenceHead, ...rest } = DEFAULT_OPTIONS;
    expect(modelManifest).toMatch(/models[\\/]twinlens_generic_v1[\\/]manifest\.shortlist\.json$/);
    expect(evidenceHead).toMatch(/models[\\/]evidence_head[\\/]manifest\.json$/);
    expect(rest).toEqual({
      host: '127.0.0.1',
      port: 50051,
      dataDir: './data',
      executionProviders: ['cuda', 'cpu'],
      intraOpThreads: 0,
      ortSpinWait: false,
      maxBatchSize: 16,
      maxBatchWaitMs: 0,
      maxImageBytes: 20 * 1024 * 1024,
      maxImagePixels: 50_000_000,
      maxMessageBytes: 32 * 1024 * 1024,
      defaultTopK: 10,
      defaultShortlistK: 50,
      catalogViews: 16,
      catalogViewsInBackground: true,
      exampleScoring: 'fold',
      confirmRetentionMs: 600_000,
      confirmRetentionBytes: 64 * 1024 * 1024,
      exampleAdapter: 'whitening',
      adaptBaseManifest: expect.stringMatching(/models[\\/]mobilenet_v2_140[\\/]manifest\.json$/),
      adaptAfterExamples: 0,
      catalogViewWorkers: 2,
      queryMirror: true,
      queryCutout: false,
      queryCutoutModel: expect.stringMatching(/models[\\/]u2netp[\\/]u2netp\.onnx$/),
      textEvidence: true,
      textWeight: 0.2,
      textDepth: 20,
      textFields: ['name'],
      colorEvidence: true,
      colorWeight: 0.1,
      colorDepth: 20,
      usePairHead: false,
      compareStreamMaxInFlight: 8,
      maxImagesInProgress: 64,
      maxImageCallsInProgress: 128,
      maxImageBytesInFlight: 256 * 1024 * 1024,
      maxImageStreamsInProgress: 4,
      maxImageFrames: 256,
      decodeProcesses: 2,
      shutdownGraceMs: 10_000,
      metricsPort: null,
      metricsHost: null,
      logLevel: 'info',
      seedDemoCatalog: false,
      demoCatalogSize: 60,
      tlsCertFile: '',
      tlsKeyFile: '',
      tlsClientCaFile: '',
      readTokens: [],
      writeTokens: [],
      authTokenFile: '',
      authExemptServices: ['grpc.health.v1.Health', 'grpc.reflection.v1.ServerReflection', 'grpc.reflection.v1alpha.ServerReflection'],
      indexKind: 'auto',
      annMinItems: 50_000,
      indexQuantization: 'i8',
      hnswConnectivity: 16,
      hnswExpansionAdd: 128,
      hnswExpansionSearch: 128,
      indexSnapshotIntervalMs: 600_000,
      store: 'embedded',
      postgresUrl: '',
      postgresPoolSize: 8,
      postgresEfSearch: 100,
    });
    expect(validateOptions({})).toEqual(DEFAULT_OPTIONS);
  });
});

describe('validateOptions', () => {
  const ranged = optionEntries().filter(([, s]) => s.kind === 'int' || s.kind === 'number' || s.kind === 'port-or-off');

  test.each(ranged.map(([name, s]) => [name, s.min!, s.max!]))('%s: RangeError just outside %d..%d, naming the option and the value', (name, min, max) => {
    for (const bad of [min - 1, max + 1]) {
      expect(() => validateOptions({ [name]: bad })).toThrow(RangeError);
      expect(() => validateOptions({ [name]: bad })).toThrow(`option ${name}: expected ${min}..${max}, received ${bad}`);
    }
    expect(validateOptions({ [name]: max })[name as OptionName]).toBe(max);
  });

  test.each([
    ['a string for an integer', { port: '50051' }, TypeError, 'option port: expected an integer, received "50051"'],
    ['a fraction for an integer', { maxBatchSize: 2.5 }, TypeError, 'option maxBatchSize: expected an integer, received 2.5'],
    ['NaN for a number', { maxBatchWaitMs: NaN }, TypeError, 'option maxBatchWaitMs: expected a number, received NaN'],
    ['a string for a boolean', { queryMirror: 'yes' }, TypeError, 'option queryMirror: expected true or false, received "yes"'],
    ['an unknown choice', { indexKind: 'ivf' }, RangeError, 'option indexKind: expected one of auto, exact, hnsw, received "ivf"'],
    ['a number for a choice', { indexQuantization: 8 }, TypeError, 'option indexQuantization: expected one of f32, f16, i8, b1, received 8'],
    ['an empty provider list', { executionProviders: [] }, TypeError, 'option executionProviders: expected a non-empty list of execution providers'],
    ['an unknown provider', { executionProviders: ['cpu', 'tpu'] }, RangeError, 'option executionProviders: entry 1 is "tpu", expected one of cuda, cpu'],
    ['an empty host', { host: '' }, TypeError, 'option host: expected a non-empty string, received ""'],
    ['an unknown option', { prot: 6000 }, RangeError, 'option prot: not a twinlens option'],
    ['store=postgres without its URL', { store: 'postgres' }, RangeError, 'option postgresUrl: store=postgres needs the URL of its database'],
    [
      'store=postgres with background adaptation',
      { store: 'postgres', postgresUrl: 'postgresql://db/twinlens', adaptAfterExamples: 10 },
      RangeError,
      'option adaptAfterExamples: adaptation needs store=embedded',
    ],
  ])('refuses %s', (_what, partial, kind, message) => {
    expect(() => validateOptions(partial as Partial<TwinlensOptions>)).toThrow(kind);
    expect(() => validateOptions(partial as Partial<TwinlensOptions>)).toThrow(message);
  });

  test('undefined fields take the default; the result is frozen', () => {
    const o = validateOptions({ port: undefined, maxBatchSize: 4 });
    expect(o.port).toBe(50051);
    expect(o.maxBatchSize).toBe(4);
    expect(Object.isFrozen(o)).toBe(true);
  });
});

describe('optionsFromEnv', () => {
  test('every option is a key, undefined when its variable is unset', () => {
    const o = optionsFromEnv({});
    expect(Object.keys(o).sort()).toEqual(Object.keys(OPTION_SCHEMA).sort());
    expect(Object.values(o).every((v) => v === undefined)).toBe(true);
  });

  test('reads each kind: integers (with _), numbers, yes/no, lists, choices, off', () => {
    expect(
      optionsFromEnv({
        TWINLENS_PORT: ' 6000 ',
        TWINLENS_ANN_MIN_ITEMS: '1_000_000',
        TWINLENS_MAX_BATCH_WAIT_MS: '2.5',
        TWINLENS_QUERY_MIRROR: 'off',
        TWINLENS_USE_PAIR_HEAD: 'yes',
        TWINLENS_EXECUTION_PROVIDERS: 'cpu, cuda',
        TWINLENS_AUTH_EXEMPT_SERVICES: 'none',
        TWINLENS_INDEX_KIND: 'hnsw',
        TWINLENS_METRICS_PORT: 'off',
        TWINLENS_DATA_DIR: '/srv/twinlens',
      }),
    ).toMatchObject({
      port: 6000,
      annMinItems: 1_000_000,
      maxBatchWaitMs: 2.5,
      queryMirror: false,
      usePairHead: true,
      executionProviders: ['cpu', 'cuda'],
      authExemptServices: [],
      indexKind: 'hnsw',
      metricsPort: null,
      dataDir: '/srv/twinlens',
    });
  });

  test('options that had no variable before have one now', () => {
    expect(
      optionsFromEnv({
        TWINLENS_MAX_MESSAGE_BYTES: '1048576',
        TWINLENS_DEFAULT_TOP_K: '5',
        TWINLENS_DEFAULT_SHORTLIST_K: '20',
        TWINLENS_COMPARE_STREAM_MAX_IN_FLIGHT: '4',
        TWINLENS_MAX_IMAGE_FRAMES: '16',
        TWINLENS_SEED_DEMO_CATALOG: '0',
        TWINLENS_DEMO_CATALOG_SIZE: '12',
      }),
    ).toMatchObject({
      maxMessageBytes: 1048576,
      defaultTopK: 5,
      defaultShortlistK: 20,
      compareStreamMaxInFlight: 4,
      maxImageFrames: 16,
      seedDemoCatalog: false,
      demoCatalogSize: 12,
    });
  });

  test('text that is not a number throws a TypeError naming the variable and the option', () => {
    expect(() => optionsFromEnv({ TWINLENS_PORT: 'abc' })).toThrow(TypeError);
    expect(() => optionsFromEnv({ TWINLENS_PORT: 'abc' })).toThrow("TWINLENS_PORT (option port): expected an integer, received 'abc'");
    expect(() => optionsFromEnv({ TWINLENS_HNSW_EF: '' })).toThrow('TWINLENS_HNSW_EF (option hnswExpansionSearch)');
  });

  test('ranges are checked by validateOptions', () => {
    expect(() => validateOptions(optionsFromEnv({ TWINLENS_MAX_BATCH_SIZE: '0' }))).toThrow('option maxBatchSize: expected 1..1024, received 0');
  });
});

describe('CLI flags', () => {
  test('serve reads every kind of flag', () => {
    expect(
      parse([
        '--port', '0', '--data', '/tmp/d', '--max-batch-size', '1', '--max-batch-wait-ms', '1.5', '--providers', 'cpu',
        '--ann-min-items', '1_000', '--index-kind', 'exact', '--no-query-mirror', '--pair-head', '--no-demo', '--log-level', 'warn',
        '--auth-exempt', 'none', '--metrics-port', '0',
      ]),
    ).toEqual({
      port: 0,
      dataDir: '/tmp/d',
      maxBatchSize: 1,
      maxBatchWaitMs: 1.5,
      executionProviders: ['cpu'],
      annMinItems: 1000,
      indexKind: 'exact',
      queryMirror: false,
      usePairHead: true,
      seedDemoCatalog: false,
      logLevel: 'warn',
      authExemptServices: [],
      metricsPort: 0,
    });
  });

  test('serve defaults: metrics on at 9464 and the demo seeded; nothing else is filled in', () => {
    expect(parse([])).toEqual({ metricsPort: 9464, seedDemoCatalog: true });
  });

  test('a flag overrides its variable', () => {
    const env = { TWINLENS_PORT: '6000', TWINLENS_CATALOG_VIEWS: '4', TWINLENS_SEED_DEMO_CATALOG: '1', TWINLENS_READ_TOKENS: 'abcdefghijklmnop' };
    expect(parse(['--port', '7000', '--catalog-views', '0', '--no-demo', '--read-token', 'qrstuvwxyz012345'], env)).toMatchObject({
      port: 7000,
      catalogViews: 0,
      seedDemoCatalog: false,
      readTokens: ['qrstuvwxyz012345'],
    });
  });

  test('the variable stands when its flag is absent (flags carry no defaults that would hide it)', () => {
    const o = parse(['--host', '::1'], { TWINLENS_PORT: '6000', TWINLENS_QUERY_MIRROR: '0', TWINLENS_SEED_DEMO_CATALOG: 'false', TWINLENS_METRICS_PORT: 'off' });
    expect(o).toEqual({ host: '::1', port: 6000, queryMirror: false, seedDemoCatalog: false, metricsPort: null });
  });

  test.each([
    ['a port out of range', ['--port', '70000'], "option '--port <n>' argument '70000' is invalid. expected 0..65535, received 70000"],
    ['a word for a number', ['--max-batch-size', 'lots'], "option '--max-batch-size <n>' argument 'lots' is invalid. expected an integer, received 'lots'"],
    ['an unknown provider', ['--providers', 'cpu,tpu'], 'entry 1 is "tpu", expected one of cuda, cpu'],
    ['an unknown choice', ['--index-quantization', 'i4'], "Allowed choices are f32, f16, i8, b1"],
    ['a short token', ['--read-token', 'short'], 'entry 0 is not a usable bearer token'],
  ])('a bad flag fails naming itself: %s', (_what, args, message) => {
    expect(() => parse(args)).toThrow(CommanderError);
    expect(() => parse(args)).toThrow(message);
  });

  test('a refused token flag does not echo the token', () => {
    const secret = 'not a token but a secret';
    try {
      parse(['--write-token', secret]);
      throw new Error('accepted');
    } catch (e) {
      expect(e).toBeInstanceOf(CommanderError);
      expect((e as Error).message).toBe(
        "option '--write-token <token>': entry 0 is not a usable bearer token (expected 16+ characters of A-Z a-z 0-9 - . _ ~ + / and trailing =; value not shown)",
      );
      expect((e as Error).message).not.toContain(secret);
    }
  });

  test('eval and calibrate get the model options only', () => {
    const cmd = addOptionFlags(new Command('eval'), 'model');
    expect(cmd.options.map((o) => o.long)).toEqual(['--model', '--providers', '--catalog-views', '--no-query-mirror', '--query-cutout', '--query-cutout-model', '--no-text-evidence', '--text-weight', '--text-depth', '--text-fields', '--no-color-evidence', '--color-weight', '--color-depth', '--evidence-head', '--pair-head', '--example-scoring', '--example-adapter', '--adapt-base-model']);
    cmd.parse(['--providers', 'cpu', '--pair-head'], { from: 'user' });
    expect(optionsFromFlags(cmd)).toEqual({ executionProviders: ['cpu'], usePairHead: true });
    expect(parse([], {}, 'model')).toEqual({});
  });
});
