/**
 * `twinlens eval` as a user runs it: the built CLI in its own process. Catalog views are refined in
 * the background (the default); the eval waits for them with nothing else keeping the process alive,
 * which once let it exit with status 0 and no report (an unref'd timer in the refiner's wait).
 */
import { execFile } from 'node:child_process';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { promisify } from 'node:util';
import sharp from 'sharp';
import { CLI_ENTRY } from '../../src/config/index.js';
import { patternImage } from '../helpers/images.js';
import { makeTempDir } from '../helpers/server.js';
import { assertServerBuilt } from '../tools/loadtest/build-check.js';

const MANIFEST = path.join(__dirname, '..', 'fixtures', 'tiny-twin', 'manifest.json');

test('prints its JSON report after refining the catalog views in the background', async () => {
  assertServerBuilt();
  const dir = await makeTempDir('twinlens-eval-cli-');
  try {
    for (let i = 0; i < 3; i++) {
      await fs.writeFile(path.join(dir, `item-${i}.jpg`), await patternImage(i));
      await fs.writeFile(path.join(dir, `photo-${i}.jpg`), await sharp(await patternImage(i)).modulate({ brightness: 0.8 }).jpeg().toBuffer());
    }
    await fs.writeFile(path.join(dir, 'catalog.csv'), `item_id,name,top_category,image\n${[0, 1, 2].map((i) => `${i},Item ${i},Packages,item-${i}.jpg`).join('\n')}\n`);
    await fs.writeFile(path.join(dir, 'queries.csv'), `image,item_id,top_category\n${[0, 1, 2].map((i) => `photo-${i}.jpg,${i},Packages`).join('\n')}\n`);
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [CLI_ENTRY, 'eval', '--catalog', path.join(dir, 'catalog.csv'), '--queries', path.join(dir, 'queries.csv'), '--model', MANIFEST, '--catalog-views', '2', '--no-verification', '--json'],
      { timeout: 120_000 },
    );
    const report = JSON.parse(stdout) as { n: number; overall: { recall_at_1: number } };
    expect(report.n).toBe(3);
    expect(report.overall.recall_at_1).toBeGreaterThanOrEqual(0);
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
});
