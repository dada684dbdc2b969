/**
 * Prints the configuration table of the option schema (src/config/option-schema.ts) as markdown, or,
 * with `--write FILE`, puts it between FILE's `<!-- options:begin -->` and `<!-- options:end -->`
 * markers: `node dist/tools/docs/options-table.js --write README.md`.
 */
import * as fs from 'node:fs';
import { renderOptionsTable, withOptionsTable } from '../../src/config/index.js';

function main(args: string[]): void {
  if (args.length === 0) {
    process.stdout.write(`${renderOptionsTable()}\n`);
    return;
  }
  if (args.length !== 2 || args[0] !== '--write') throw new Error('usage: options-table [--write FILE.md]');
  const file = args[1];
  const before = fs.readFileSync(file, 'utf8');
  const after = withOptionsTable(before);
  if (after !== before) fs.writeFileSync(file, after);
  console.log(`${file}: options table ${after === before ? 'already up to date' : 'written'}`);
}

try {
  main(process.argv.slice(2));
} catch (e) {
  console.error(`options-table: ${(e as Error).message}`);
  process.exit(1);
}
