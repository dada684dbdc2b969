import * as fs from 'node:fs';
import * as path from 'node:path';

/** The nearest folder at or above `start` that holds a package.json. */
function findPackageRoot(start: string): string {
  for (let dir = start; ; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, 'package.json'))) return dir;
    if (path.dirname(dir) === dir) throw new Error(`no package.json above ${start}`);
  }
}

/**
 * The repository (or installed package) root, where `models/` and `proto/` live. Found by walking
 * up from this module, so it is the same from `src/config` (ts-jest) and `dist/src/config` (built).
 */
export const PACKAGE_ROOT = findPackageRoot(__dirname);

/** Where `tsc -p tsconfig.json` writes the build: `dist/src` for the product, and the measurement tools beside it. */
export const DIST_DIR = path.join(PACKAGE_ROOT, 'dist');

/** The built `twinlens` CLI (child-process tests and tools start the server through it). */
export const CLI_ENTRY = path.join(DIST_DIR, 'src', 'cli', 'main.js');

/** twinlens's own version, from package.json. */
export const PACKAGE_VERSION: string = JSON.parse(fs.readFileSync(path.join(PACKAGE_ROOT, 'package.json'), 'utf8')).version;
