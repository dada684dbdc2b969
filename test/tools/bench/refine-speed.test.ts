/**
 * Smoke test of `twinlens-dev bench-refine`: two generated watches refined with the service's catalog
 * views in a fresh engine per run, idle ONNX Runtime threads sleeping and spinning, in alternating
 * order. Checks the report's shape and that refinement really ran; nothing here asserts on speed.
 */
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { writeDemoSamples } from '../../../src/demo/write-samples.js';
import { measureRefineSpeed } from '../../../tools/bench/refine-speed.js';

test('one row per (round, setting), alternating order, every figure measured', async () => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'twinlens-refine-speed-'));
  try {
    const files = await writeDemoSamples(dir, 2);
    await fs.writeFile(path.join(dir, 'catalog.csv'), ['item_id,top_category,image', ...files.map((f) => `${f.itemId},watch,${f.clean}`)].join('\n') + '\n');
    await fs.writeFile(path.join(dir, 'queries.csv'), ['image,item_id,top_category', ...files.map((f) => `${f.degraded},${f.itemId},watch`)].join('\n') + '\n');
    const rows = await measureRefineSpeed({ catalogCsv: path.join(dir, 'catalog.csv'), queriesCsv: path.join(dir, 'queries.csv'), items: 2, rounds: 2, calls: 3 });
    expect(rows.map((r) => [r.round, r.spinWait])).toEqual([
      [0, false],
      [0, true],
      [1, true],
      [1, false],
    ]);
    for (const r of rows) {
      expect(r.refinedRows).toBe(2);
      for (const v of [r.indexSeconds, r.refineSeconds, r.embedP50Ms.c1, r.embedP50Ms.c8, r.embedPerSecond.c1, r.embedPerSecond.c8]) {
        expect(Number.isFinite(v) && v > 0).toBe(true);
      }
    }
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
});
