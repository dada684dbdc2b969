/**
 * Prints the configuration table of the option schema (src/config/option-schema.ts) as markdown, or,
 * with `--write FILE`, puts it between FILE's `<!-- options:begin -->` and `<!-- options:end -->`
 * markers: `node dist/tools/docs/options-table.js --write docs/configuration.md` (full table) and
 * `... --write README.md --style compact` (`make docs` runs both).
 */
import * as fs from 'node:fs';
import { type OptionsTableStyle, renderOptionsTable, withOptionsTable } from '../../src/config/index.js';

function main(args: string[]): void {
  const styleAt = args.indexOf('--style');
  const style = (styleAt >= 0 ? args.splice(styleAt, 2)[1] : 'full') as OptionsTableStyle;
  if (style !== 'full' && style !== 'compact') throw new Error(`--style: expected full or compact, received '${style}'`);
  if (args.length === 0) {
    process.stdout.write(`${renderOptionsTable(style)}\n`);
    return;
  }
  if (args.length !== 2 || args[0] !== '--write') throw new Error('usage: options-table [--write FILE.md] [--style full|compact]');
  const file = args[1];
  const before = fs.readFileSync(file, 'utf8');
  const after = withOptionsTable(before, renderOptionsTable(style));
  if (after !== before) fs.writeFileSync(file, after);
  console.log(`${file}: options table ${after === before ? 'already up to date' : 'written'}`);
}

try {
  main(process.argv.slice(2));
} catch (e) {
  console.error(`options-table: ${(e as Error).message}`);
  process.exit(1);
}
