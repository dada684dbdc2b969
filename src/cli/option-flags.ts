import { type Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import {
  type FlagScope,
  type OptionName,
  type OptionSpec,
  optionEntries,
  optionsFromEnv,
  SERVE_DEFAULTS,
  type TwinlensOptions,
} from '../config/index.js';

/** The schema entries whose flag belongs on a command of `scope`. */
function entriesFor(scope: FlagScope): [OptionName, OptionSpec<unknown>][] {
  return optionEntries().filter(([, spec]) => scope === 'serve' || spec.flag.scope === 'model');
}

/** The flag's value from its text: the option's parse and check, failures as commander argument errors. */
function parserOf(name: string, spec: OptionSpec<unknown>): (text: string, previous: unknown) => unknown {
  const one = (text: string): unknown => {
    try {
      return spec.check(name, spec.parse(text, 'value'));
    } catch (e) {
      const message = (e as Error).message.replace(/^option \w+: |^value: /, '');
      // commander's own message for an InvalidArgumentError quotes the argument: not for a secret.
      if (spec.flag.secret) throw new CommanderError(1, 'twinlens.invalidSecretArgument', `option '${spec.flag.flags}': ${message}`);
      throw new InvalidArgumentError(message);
    }
  };
  return spec.flag.repeatable ? (text, previous) => [...((previous as unknown[] | undefined) ?? []), ...(one(text) as unknown[])] : one;
}

/** A default as help shows it. */
function defaultText(value: unknown): string {
  if (value === null) return 'off';
  if (value === '' || (Array.isArray(value) && value.length === 0)) return 'none';
  return Array.isArray(value) ? value.join(',') : String(value);
}

/** Help: the doc line, the default on this command (switches say it in their doc), the environment variable. */
function helpOf(spec: OptionSpec<unknown>, scope: FlagScope): string {
  const onServe = scope === 'serve' && spec.serveDefault !== undefined;
  const shown = onServe ? defaultText(spec.serveDefault) : (spec.defaultText?.replace(/`/g, '') ?? defaultText(spec.default));
  return `${spec.flag.help ?? spec.doc}${spec.kind === 'boolean' ? '' : ` (default: ${shown})`} [${spec.env}]`;
}

/**
 * Adds the option schema's flags to `cmd`: every option's on `serve`, the model's options (flag
 * scope `model`) on `eval` and `calibrate`. The flags carry no commander defaults (help shows them),
 * so {@link optionsFromFlags} can tell a flag given from one left out. Values are parsed and
 * range-checked as validateOptions would, so a bad flag fails naming itself.
 */
export function addOptionFlags(cmd: Command, scope: FlagScope): Command {
  for (const [name, spec] of entriesFor(scope)) {
    const option = new Option(spec.flag.flags, helpOf(spec, scope));
    if (spec.kind === 'enum') option.choices(spec.choices!);
    else if (spec.kind !== 'boolean') option.argParser(parserOf(name, spec));
    cmd.addOption(option);
    if (spec.flag.off) cmd.addOption(new Option(spec.flag.off, spec.flag.offHelp ?? `turn ${name} off`));
  }
  return cmd;
}

/**
 * The options whose flags (added by {@link addOptionFlags}) were given on the command line, and
 * only those: a flag left out never hides an environment value. An `off` flag (`--no-metrics`)
 * sets its option to null, whatever else was given.
 */
export function optionsFromFlags(cmd: Command): Partial<TwinlensOptions> {
  const given = (flags: string): { given: boolean; value: unknown } => {
    const key = new Option(flags).attributeName();
    return { given: cmd.getOptionValueSource(key) === 'cli', value: cmd.getOptionValue(key) };
  };
  const options: Record<string, unknown> = {};
  for (const [name, spec] of optionEntries()) {
    if (!cmd.options.some((o) => o.flags === spec.flag.flags)) continue;
    const flag = given(spec.flag.flags);
    if (flag.given) options[name] = flag.value;
    if (spec.flag.off && given(spec.flag.off).given) options[name] = null;
  }
  return options as Partial<TwinlensOptions>;
}

/** `obj` without its undefined fields, so spreading it never erases a value set earlier. */
function definedOnly<T extends object>(obj: T): Partial<T> {
  return Object.fromEntries(Object.entries(obj).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/**
 * The service options of a command with the schema's flags: on `serve` its own defaults
 * (SERVE_DEFAULTS: metrics on, demo seeded), then the `TWINLENS_*` environment, then the flags
 * actually given, each overriding the one before.
 */
export function serviceOptionsFrom(cmd: Command, scope: FlagScope, env: NodeJS.ProcessEnv = process.env): Partial<TwinlensOptions> {
  return {
    ...(scope === 'serve' ? SERVE_DEFAULTS : {}),
    ...definedOnly(optionsFromEnv(env)),
    ...optionsFromFlags(cmd),
  };
}
