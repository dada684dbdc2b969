import { OPTION_SCHEMA } from './option-schema.js';
import type { OptionSpec } from './option-spec.js';

export { EXECUTION_PROVIDERS, type ExecutionProviderName, LOG_LEVELS, type LogLevel, OPTION_SCHEMA } from './option-schema.js';

/** The option schema's entries. */
type Schema = typeof OPTION_SCHEMA;

/**
 * Everything a twinlens service can be configured with, one field per OPTION_SCHEMA entry (see the
 * entry for its type, default, range, environment variable, flag and why). `validateOptions` fills
 * the defaults; the CLI flags and environment variables (`optionsFromEnv`) feed it.
 */
export type TwinlensOptions = { [K in keyof Schema]: Schema[K] extends OptionSpec<infer V> ? V : never };

/** Names of all options, in schema order. */
export type OptionName = keyof TwinlensOptions;

/** The schema's entries as [name, spec] pairs, in schema order. */
export function optionEntries(): [OptionName, OptionSpec<unknown>][] {
  return Object.entries(OPTION_SCHEMA) as [OptionName, OptionSpec<unknown>][];
}

/** The defaults, from the schema. */
export const DEFAULT_OPTIONS: Readonly<TwinlensOptions> = Object.freeze(
  Object.fromEntries(optionEntries().map(([name, spec]) => [name, spec.default])) as TwinlensOptions,
);

/**
 * What `twinlens serve` uses where it differs from DEFAULT_OPTIONS (metrics on, the demo catalog
 * seeded) and neither a flag nor an environment variable says otherwise.
 */
export const SERVE_DEFAULTS: Readonly<Partial<TwinlensOptions>> = Object.freeze(
  Object.fromEntries(optionEntries().flatMap(([name, spec]) => (spec.serveDefault === undefined ? [] : [[name, spec.serveDefault]]))),
);

/** Checks that need more than one option: the TLS files come in pairs. */
function checkCombinations(o: TwinlensOptions): void {
  if (o.store === 'postgres' && !o.postgresUrl) {
    throw new RangeError('option postgresUrl: store=postgres needs the URL of its database');
  }
  if (o.store === 'postgres' && o.adaptAfterExamples > 0) {
    throw new RangeError('option adaptAfterExamples: adaptation needs store=embedded (the whitening adapter reads the embedded catalog); set it to 0 with store=postgres');
  }
  if (Boolean(o.tlsCertFile) !== Boolean(o.tlsKeyFile)) {
    throw new RangeError('options tlsCertFile and tlsKeyFile: set both (TLS) or neither (plaintext)');
  }
  if (o.tlsClientCaFile && !o.tlsCertFile) {
    throw new RangeError('option tlsClientCaFile: mutual TLS needs the server certificate too (tlsCertFile, tlsKeyFile)');
  }
}

/**
 * Fills defaults, checks every option against its schema entry (TypeError for a wrong type,
 * RangeError for a bad value or an unknown option; messages name the option, what was expected and
 * what was received, never a token), copies lists, and returns a fully populated, frozen object.
 * Undefined fields take their default.
 */
export function validateOptions(partial: Partial<TwinlensOptions> = {}): Readonly<TwinlensOptions> {
  const o: Record<string, unknown> = { ...DEFAULT_OPTIONS };
  for (const [name, value] of Object.entries(partial)) {
    if (!Object.hasOwn(OPTION_SCHEMA, name)) throw new RangeError(`option ${name}: not a twinlens option`);
    if (value !== undefined) o[name] = value;
  }
  for (const [name, spec] of optionEntries()) o[name] = spec.check(name, o[name]);
  checkCombinations(o as TwinlensOptions);
  return Object.freeze(o as TwinlensOptions);
}

/**
 * Options from their `TWINLENS_*` environment variables (each schema entry names its own), e.g.
 * `TWINLENS_PORT=6000`, `TWINLENS_EXECUTION_PROVIDERS=cpu`, `TWINLENS_QUERY_MIRROR=0`,
 * `TWINLENS_METRICS_PORT=off`; lists are comma-separated. Every option is a key; unset variables
 * leave it undefined. Text that is not of the option's kind (`TWINLENS_PORT=abc`) throws a
 * TypeError naming the variable; ranges are checked by validateOptions.
 */
export function optionsFromEnv(env: NodeJS.ProcessEnv = process.env): Partial<TwinlensOptions> {
  return Object.fromEntries(
    optionEntries().map(([name, spec]) => {
      const text = env[spec.env];
      return [name, text === undefined ? undefined : spec.parse(text, `${spec.env} (option ${name})`)];
    }),
  ) as Partial<TwinlensOptions>;
}
