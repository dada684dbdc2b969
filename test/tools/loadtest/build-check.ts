/** The child-process tests run the built server and tools (dist/): make sure they are there and not older than src/ and tools/. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CLI_ENTRY, DIST_DIR, PACKAGE_ROOT } from '../../../src/config/index.js';

/**
 * Throws unless `dist/src/cli/main.js` exists and every `src/**\/*.ts` and `tools/**\/*.ts` has its `dist/**\/*.js` at least as
 * new: a stale build would test yesterday's server. `make test` builds first; alone, run `make build`.
 */
export function assertServerBuilt(): void {
  if (!fs.existsSync(CLI_ENTRY)) {
    throw new Error('dist/src/cli/main.js is missing: these tests run the built server; run `make build` (or `npx tsc -p tsconfig.json`) first');
  }
  const stale: string[] = [];
  const walk = (dir: string): void => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(p);
      else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) {
        const js = path.join(DIST_DIR, path.relative(PACKAGE_ROOT, p)).replace(/\.ts$/, '.js');
        if (!fs.existsSync(js) || fs.statSync(js).mtimeMs + 1000 < fs.statSync(p).mtimeMs) stale.push(path.relative(PACKAGE_ROOT, p));
      }
    }
  };
  walk(path.join(PACKAGE_ROOT, 'src'));
  walk(path.join(PACKAGE_ROOT, 'tools'));
  if (stale.length) {
    throw new Error(`dist/ is older than ${stale.slice(0, 3).join(', ')}${stale.length > 3 ? ` and ${stale.length - 3} more` : ''}: run \`make build\` (or \`npx tsc -p tsconfig.json\`) first`);
  }
}
