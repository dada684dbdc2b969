/** README.md's configuration table is the option schema's rendering (tools/docs/options-table.ts writes it). */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { OPTIONS_TABLE_BEGIN, OPTIONS_TABLE_END, optionsTableBlock, renderOptionsTable, withOptionsTable } from '../../src/config/index.js';
import { optionEntries } from '../../src/config/index.js';

const ROOT = path.join(__dirname, '..', '..');

test.each([
  ['README.md', 'compact'],
  ['docs/configuration.md', 'full'],
] as const)("%s's options block is the schema's %s table", (file, style) => {
  const block = optionsTableBlock(fs.readFileSync(path.join(ROOT, file), 'utf8'));
  if (block === undefined) {
    throw new Error(
      `${file} has no '${OPTIONS_TABLE_BEGIN}' ... '${OPTIONS_TABLE_END}' markers: put them in its configuration section, then run \`make docs\``,
    );
  }
  if (block !== renderOptionsTable(style)) {
    throw new Error(`${file}'s options table differs from the option schema: run \`make docs\``);
  }
});

test('the compact table has one row per option but those marked readme: false, with its flag, variable and default', () => {
  const lines = renderOptionsTable('compact').split('\n');
  const hidden = optionEntries().filter(([, spec]) => spec.readme === false);
  // Tuning knobs stay in docs/configuration.md only, so the README stays short.
  expect(hidden.map(([name]) => name)).toEqual([
    'catalogViewWorkers',
    'textWeight',
    'textDepth',
    'textFields',
    'colorWeight',
    'colorDepth',
    'maxImageCallsInProgress',
    'maxImageStreamsInProgress',
    'metricsHost',
    'demoCatalogSize',
    'confirmRetentionBytes',
    'hnswConnectivity',
    'hnswExpansionAdd',
    'hnswExpansionSearch',
    'indexSnapshotIntervalMs',
    'postgresPoolSize',
    'postgresEfSearch',
  ]);
  expect(lines.length).toBe(2 + optionEntries().length - hidden.length);
  expect(lines).toContain('| `--port` | `TWINLENS_PORT` | `50051` |');
  expect(lines.some((l) => l.includes('TWINLENS_POSTGRES_POOL_SIZE'))).toBe(false);
  // The full table (docs/configuration.md) has every option.
  expect(renderOptionsTable('full')).toContain('TWINLENS_POSTGRES_POOL_SIZE');
});

test('the table has one row per option, with its flag, variable and default', () => {
  const lines = renderOptionsTable().split('\n');
  expect(lines.length).toBe(2 + optionEntries().length);
  expect(lines).toContain('| `port` | `--port <n>` | `TWINLENS_PORT` | `50051` | gRPC port (0: any free one) |');
  expect(lines.find((l) => l.startsWith('| `metricsPort` '))).toContain('`--metrics-port <n>`, `--no-metrics`');
  expect(lines.find((l) => l.startsWith('| `maxImageBytes` '))).toContain('`20971520` (20 MiB)');
});

test('withOptionsTable replaces only the text between the markers, and refuses a file without them', () => {
  const md = `# x\n\n${OPTIONS_TABLE_BEGIN}\nold\n${OPTIONS_TABLE_END}\n\nafter\n`;
  expect(withOptionsTable(md, '| t |')).toBe(`# x\n\n${OPTIONS_TABLE_BEGIN}\n\n| t |\n\n${OPTIONS_TABLE_END}\n\nafter\n`);
  expect(optionsTableBlock(withOptionsTable(md))).toBe(renderOptionsTable());
  expect(() => withOptionsTable('# no markers\n')).toThrow(/no '<!-- options:begin -->' \.\.\. '<!-- options:end -->' markers/);
});
