import { optionEntries } from './options.js';
import type { OptionSpec } from './option-spec.js';

/** Markers around the generated table in a markdown file (README.md's Configuration section). */
export const OPTIONS_TABLE_BEGIN = '<!-- options:begin -->';
export const OPTIONS_TABLE_END = '<!-- options:end -->';

/** A value as the table shows it. */
function valueText(value: unknown): string {
  if (value === null) return 'off';
  if (Array.isArray(value)) return value.length === 0 ? 'none' : value.join(',');
  if (value === '') return 'none';
  if (typeof value === 'boolean') return value ? 'on' : 'off';
  return String(value);
}

function code(text: string): string {
  return `\`${text}\``;
}

/** A whole number of MiB spelled out too: `20971520` (20 MiB). */
function withMiB(value: unknown, text: string): string {
  const mib = 1024 * 1024;
  return typeof value === 'number' && value >= mib && value % mib === 0 ? `${text} (${value / mib} MiB)` : text;
}

function defaultCell(spec: OptionSpec<unknown>): string {
  const library = spec.defaultText ?? withMiB(spec.default, code(valueText(spec.default)));
  return spec.serveDefault === undefined ? library : `${code(valueText(spec.serveDefault))} with \`serve\`, ${library} in the library`;
}

function flagCell(spec: OptionSpec<unknown>): string {
  const flags = [spec.flag.flags, ...(spec.flag.off ? [spec.flag.off] : [])].map(code).join(', ');
  return spec.flag.scope === 'model' ? `${flags} (also \`eval\`, \`calibrate\`)` : flags;
}

function row(cells: string[]): string {
  return `| ${cells.map((c) => c.replace(/\|/g, '\\|')).join(' | ')} |`;
}

/** `full`: option, flag, variable, default, doc (docs/configuration.md); `compact`: flag, variable, default (README.md). */
export type OptionsTableStyle = 'full' | 'compact';

/** The flag names alone, without their value placeholder: `--port`, `--metrics-port`, `--no-metrics`. */
function compactFlagCell(spec: OptionSpec<unknown>): string {
  return [spec.flag.flags, ...(spec.flag.off ? [spec.flag.off] : [])].map((f) => code(f.split(' ')[0])).join(', ');
}

function compactDefaultCell(spec: OptionSpec<unknown>): string {
  const value = spec.serveDefault === undefined ? spec.default : spec.serveDefault;
  const text = spec.defaultText && spec.serveDefault === undefined ? spec.defaultText : withMiB(value, code(valueText(value)));
  return text.length > 40 ? `${text.slice(0, 37)}...` : text;
}

/**
 * The configuration table of the option schema, in markdown. `full` (docs/configuration.md): option,
 * flag of `twinlens serve`, environment variable, default, doc; `compact` (README.md): flag, variable
 * and default (`serve`'s where it differs), without the options marked `readme: false`. Both files
 * hold it between the options markers
 * (`make docs` regenerates both).
 */
export function renderOptionsTable(style: OptionsTableStyle = 'full'): string {
  if (style === 'compact') {
    const lines = [row(['flag of `serve`', 'environment variable', 'default']), '| --- | --- | --- |'];
    for (const [, spec] of optionEntries()) if (spec.readme !== false) lines.push(row([compactFlagCell(spec), code(spec.env), compactDefaultCell(spec)]));
    return lines.join('\n');
  }
  const lines = [row(['option', 'flag', 'environment variable', 'default', 'what']), '| --- | --- | --- | --- | --- |'];
  for (const [name, spec] of optionEntries()) {
    lines.push(row([code(name), flagCell(spec), code(spec.env), defaultCell(spec), spec.doc]));
  }
  return lines.join('\n');
}

/** The text between the options markers of `markdown`, trimmed; undefined when it has no (well-ordered) markers. */
export function optionsTableBlock(markdown: string): string | undefined {
  const begin = markdown.indexOf(OPTIONS_TABLE_BEGIN);
  const end = markdown.indexOf(OPTIONS_TABLE_END);
  if (begin < 0 || end < begin) return undefined;
  return markdown.slice(begin + OPTIONS_TABLE_BEGIN.length, end).trim();
}

/** `markdown` with the text between its options markers replaced by `table`; throws when it has no markers. */
export function withOptionsTable(markdown: string, table: string = renderOptionsTable()): string {
  const begin = markdown.indexOf(OPTIONS_TABLE_BEGIN);
  const end = markdown.indexOf(OPTIONS_TABLE_END);
  if (begin < 0 || end < begin) throw new Error(`no '${OPTIONS_TABLE_BEGIN}' ... '${OPTIONS_TABLE_END}' markers to put the options table between`);
  return `${markdown.slice(0, begin + OPTIONS_TABLE_BEGIN.length)}\n\n${table}\n\n${markdown.slice(end)}`;
}
