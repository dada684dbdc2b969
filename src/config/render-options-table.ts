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

/**
 * The configuration table of the option schema, in markdown: option, flag of `twinlens serve`,
 * environment variable, default, doc. README.md holds it between the options markers
 * (`node dist/tools/docs/options-table.js --write README.md` regenerates it).
 */
export function renderOptionsTable(): string {
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
