/** The child-process tests run the built server (dist/): make sure it is there and not older than src/. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { PACKAGE_ROOT } from '../../src/config/index.js';

/**
 * Throws unless `dist/cli/main.js` exists and every `src/**\/*.ts` has a `dist/**\/*.js` at least as
 * new: a stale build would test yesterday's server. `make test` builds first; alone, run `make build`.
 */
export function assertServerBuilt(): void {
  const src = path.join(PACKAGE_ROOT, 'src');
  const dist = path.join(PACKAGE_ROOT, 'dist');
  if (!fs.existsSync(path.join(dist, 'cli', 'main.js'))) {
    throw new Error('dist/cli/main.js is missing: these tests run the built server; run `make build` (or `npx tsc -p tsconfig.json`) first');
  }
  const stale: string[] = [];
  const walk = (dir: string): void => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(p);
      else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) {
        const js = path.join(dist, path.relative(src, p)).replace(/\.ts$/, '.js');
        if (!fs.existsSync(js) || fs.statSync(js).mtimeMs + 1000 < fs.statSync(p).mtimeMs) stale.push(path.relative(PACKAGE_ROOT, p));
      }
    }
  };
  walk(src);
  if (stale.length) {
    throw new Error(`dist/ is older than ${stale.slice(0, 3).join(', ')}${stale.length > 3 ? ` and ${stale.length - 3} more` : ''}: run \`make build\` (or \`npx tsc -p tsconfig.json\`) first`);
  }
}
