/**
 * The building blocks of the option schema (option-schema.ts): one `OptionSpec` per option says its
 * type, default, range or choices, environment variable, command-line flag and doc line, and knows
 * how to parse its text and check its value. Everything else (the TwinlensOptions type, the defaults,
 * validateOptions, optionsFromEnv, the CLI flags, the README table) is derived from the specs.
 */

/** How an option's value is written and checked. */
export type OptionKind = 'int' | 'number' | 'boolean' | 'string' | 'enum' | 'list' | 'port-or-off' | 'string-or-null';

/** Where an option's flag appears: `serve` only, or also the commands that load the model in-process (`eval`, `calibrate`). */
export type FlagScope = 'serve' | 'model';

/** An option's command-line flag (commander syntax). */
export interface FlagSpec {
  /** The flag, e.g. `--max-batch-size <n>`, `--pair-head` (sets true) or `--no-query-mirror` (sets false). */
  flags: string;
  /** `model`: also on `eval` and `calibrate`. Default `serve`. */
  scope?: FlagScope;
  /** Each use adds to the list instead of replacing it (`--read-token a --read-token b`). */
  repeatable?: boolean;
  /** A second flag that turns the option off (null), e.g. `--no-metrics`; it wins over the first. */
  off?: string;
  /** Help line of `off`. */
  offHelp?: string;
  /** Its values are secrets (tokens): an error about one never shows it, not even as the argument given. */
  secret?: boolean;
  /** Help line when the option's doc reads wrong for the flag (a `--no-...` flag). */
  help?: string;
}

/** One option of the schema. `V` is its value's type. */
export interface OptionSpec<V> {
  kind: OptionKind;
  /** The library default (validateOptions fills it). */
  default: V;
  /** What `twinlens serve` uses when neither flag nor variable is given, where it differs from `default`. */
  serveDefault?: V;
  /** How docs and help show the default where the value would mislead (a path under this machine's install). */
  defaultText?: string;
  /** Inclusive range of an `int`, `number` or `port-or-off`. */
  min?: number;
  max?: number;
  /** Allowed values of an `enum`, or of a `list`'s entries. */
  choices?: readonly string[];
  /** Its environment variable, `TWINLENS_*`. */
  env: `TWINLENS_${string}`;
  flag: FlagSpec;
  /** One line: what it does (help, README). */
  doc: string;
  /** false: left out of the README's compact table (tuning of a non-default setup; docs/configuration.md has it). */
  readme?: false;
  /** The value of the text of its variable or flag; throws TypeError naming `source` when the text is not of the kind. */
  parse(text: string, source: string): V;
  /**
   * `value` checked (TypeError for a wrong type, RangeError for a bad value; messages name the
   * option, what was expected and what was received), lists copied.
   */
  check(name: string, value: unknown): V;
}

/** What every builder takes. */
interface Common<V> {
  default: V;
  serveDefault?: V;
  defaultText?: string;
  env: `TWINLENS_${string}`;
  flag: FlagSpec;
  doc: string;
  readme?: false;
}

/** A value as a message shows it: numbers bare (NaN stays NaN), anything else as JSON. */
export function shown(value: unknown): string {
  return typeof value === 'number' || value === undefined ? String(value) : JSON.stringify(value);
}

/** A number from text; underscores may group digits (`1_000_000`), as on the CLI. */
function numberFrom(text: string, source: string, expected: string): number {
  const t = text.trim().replace(/_/g, '');
  const n = Number(t);
  if (t === '' || Number.isNaN(n)) throw new TypeError(`${source}: expected ${expected}, received '${text}'`);
  return n;
}

function checkRange(name: string, value: number, min: number, max: number): number {
  if (value < min || value > max) throw new RangeError(`option ${name}: expected ${min}..${max}, received ${value}`);
  return value;
}

function checkInteger(name: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value)) throw new TypeError(`option ${name}: expected an integer, received ${shown(value)}`);
  return checkRange(name, value, min, max);
}

/** An integer within min..max. */
export function intOption(o: Common<number> & { min: number; max: number }): OptionSpec<number> {
  return {
    kind: 'int',
    ...o,
    parse: (text, source) => numberFrom(text, source, 'an integer'),
    check: (name, value) => checkInteger(name, value, o.min, o.max),
  };
}

/** A finite number within min..max. */
export function numberOption(o: Common<number> & { min: number; max: number }): OptionSpec<number> {
  return {
    kind: 'number',
    ...o,
    parse: (text, source) => numberFrom(text, source, 'a number'),
    check(name, value) {
      if (typeof value !== 'number' || !Number.isFinite(value)) throw new TypeError(`option ${name}: expected a number, received ${shown(value)}`);
      return checkRange(name, value, o.min, o.max);
    },
  };
}

/** A yes/no option; its text: `0`, `false`, `off`, `no` are no, anything else yes. */
export function booleanOption(o: Common<boolean>): OptionSpec<boolean> {
  return {
    kind: 'boolean',
    ...o,
    parse: (text) => !['0', 'false', 'off', 'no'].includes(text.trim().toLowerCase()),
    check(name, value) {
      if (typeof value !== 'boolean') throw new TypeError(`option ${name}: expected true or false, received ${shown(value)}`);
      return value;
    },
  };
}

/** A string; `nonEmpty` refuses ''. `expected` names it in messages (default 'a string'). */
export function stringOption(o: Common<string> & { nonEmpty?: boolean; expected?: string }): OptionSpec<string> {
  const expected = o.expected ?? (o.nonEmpty ? 'a non-empty string' : 'a string');
  return {
    kind: 'string',
    ...o,
    parse: (text) => text,
    check(name, value) {
      if (typeof value !== 'string' || (o.nonEmpty && value.length === 0)) throw new TypeError(`option ${name}: expected ${expected}, received ${shown(value)}`);
      return value;
    },
  };
}

/** A non-empty string, or null (unset). */
export function stringOrNullOption(o: Common<string | null>): OptionSpec<string | null> {
  return {
    kind: 'string-or-null',
    ...o,
    parse: (text) => text,
    check(name, value) {
      if (value !== null && (typeof value !== 'string' || value.length === 0)) {
        throw new TypeError(`option ${name}: expected a non-empty string or null, received ${shown(value)}`);
      }
      return value;
    },
  };
}

/** A TCP port 0..65535 (0: any free one), or null: off (its text `off`). */
export function portOrOffOption(o: Common<number | null>): OptionSpec<number | null> {
  return {
    kind: 'port-or-off',
    ...o,
    min: 0,
    max: 65535,
    parse: (text, source) => (text.trim() === 'off' ? null : numberFrom(text, source, "a port or 'off'")),
    check: (name, value) => (value === null ? null : checkInteger(name, value, 0, 65535)),
  };
}

/** One of `choices`. */
export function enumOption<const C extends readonly string[]>(choices: C, o: Common<C[number]>): OptionSpec<C[number]> {
  return {
    kind: 'enum',
    ...o,
    choices,
    parse: (text) => text.trim() as C[number],
    check(name, value) {
      if (typeof value !== 'string') throw new TypeError(`option ${name}: expected one of ${choices.join(', ')}, received ${shown(value)}`);
      if (!choices.includes(value)) throw new RangeError(`option ${name}: expected one of ${choices.join(', ')}, received ${shown(value)}`);
      return value as C[number];
    },
  };
}

/**
 * A list of strings; its text is comma-separated (spaces around entries and empty entries are
 * dropped; `none` alone is the empty list). `entry` checks one entry and throws naming the option.
 */
export function listOption<T extends string>(
  o: Common<T[]> & {
    /** What the list holds, for messages: 'tokens'. */
    of: string;
    nonEmpty?: boolean;
    choices?: readonly T[];
    entry?: (name: string, value: string, index: number) => void;
  },
): OptionSpec<T[]> {
  return {
    kind: 'list',
    ...o,
    parse(text) {
      const list = text.split(',').map((s) => s.trim()).filter(Boolean);
      return (list.length === 1 && list[0] === 'none' ? [] : list) as T[];
    },
    check(name, value) {
      if (!Array.isArray(value) || (o.nonEmpty && value.length === 0)) {
        throw new TypeError(`option ${name}: expected a ${o.nonEmpty ? 'non-empty ' : ''}list of ${o.of}, received ${Array.isArray(value) ? '[]' : typeof value}`);
      }
      value.forEach((v: unknown, i) => {
        if (typeof v !== 'string') throw new TypeError(`option ${name}: entry ${i} is not a string`);
        if (o.choices && !o.choices.includes(v as T)) {
          throw new RangeError(`option ${name}: entry ${i} is ${shown(v)}, expected one of ${o.choices.join(', ')}`);
        }
        o.entry?.(name, v, i);
      });
      return [...(value as T[])];
    },
  };
}
