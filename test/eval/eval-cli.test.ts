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

/** Three patterned items and a darker photo of each, as catalog.csv and queries.csv in `dir`. */
async function writeBenchmark(dir: string): Promise<void> {
  for (let i = 0; i < 3; i++) {
    await fs.writeFile(path.join(dir, `item-${i}.jpg`), await patternImage(i));
    await fs.writeFile(path.join(dir, `photo-${i}.jpg`), await sharp(await patternImage(i)).modulate({ brightness: 0.8 }).jpeg().toBuffer());
  }
  await fs.writeFile(path.join(dir, 'catalog.csv'), `item_id,name,top_category,image\n${[0, 1, 2].map((i) => `${i},Item ${i},Packages,item-${i}.jpg`).join('\n')}\n`);
  await fs.writeFile(path.join(dir, 'queries.csv'), `image,item_id,top_category\n${[0, 1, 2].map((i) => `photo-${i}.jpg,${i},Packages`).join('\n')}\n`);
}

test('prints its JSON report after refining the catalog views in the background', async () => {
  assertServerBuilt();
  const dir = await makeTempDir('twinlens-eval-cli-');
  try {
    await writeBenchmark(dir);
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

test("--evidence-file writes each query's evidence: every measured hit, its item marked right", async () => {
  assertServerBuilt();
  const dir = await makeTempDir('twinlens-eval-cli-');
  try {
    await writeBenchmark(dir);
    const file = path.join(dir, 'evidence.jsonl');
    await promisify(execFile)(
      process.execPath,
      [CLI_ENTRY, 'eval', '--catalog', path.join(dir, 'catalog.csv'), '--queries', path.join(dir, 'queries.csv'), '--model', MANIFEST, '--catalog-views', '0', '--no-text-evidence', '--no-verification', '--no-report', '--evidence-file', file],
      { timeout: 120_000 },
    );
    const lines = (await fs.readFile(file, 'utf8')).trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.map((l) => l.item_id).sort()).toEqual(['0', '1', '2']);
    for (const l of lines) {
      expect(l.hits).toHaveLength(3); // the whole catalog is within the colour stage's depth
      expect(l.hits.filter((h: { right: boolean; item_id: string }) => h.right).map((h: { item_id: string }) => h.item_id)).toEqual([l.item_id]);
      for (const h of l.hits) {
        expect(h).toEqual({ item_id: expect.any(String), right: expect.any(Boolean), cosine: expect.any(Number), color: expect.any(Number), text: 0, queryHasText: false });
        expect(h.color).toBeGreaterThanOrEqual(0);
        expect(h.color).toBeLessThanOrEqual(1 + 1e-6);
      }
    }
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
});
