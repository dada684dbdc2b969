import { runCrashTest } from '../../tools/crash-test/crash-test.js';
import { assertServerBuilt } from './loadtest/build-check.js';

// CI size of `make crash-test` (20 rounds over 100,000 items): child processes ingest precomputed
// vectors through Catalog.upsert and are killed with SIGKILL at random points.
test('kill -9 during a bulk ingest loses no acknowledged item and never loads a torn graph', async () => {
  assertServerBuilt();
  const lines: string[] = [];
  const report = await runCrashTest({
    items: 8000,
    rounds: 4,
    batch: 128,
    dim: 64,
    maxRunMs: 1500,
    annMinItems: 1500,
    snapshotIntervalMs: 200,
    seed: 3,
    log: (l) => lines.push(l),
  });
  expect({ passed: report.passed, lines }).toMatchObject({ passed: true });
  expect(report.items).toBe(8000);
  expect(report.finalCount).toBe(8000);
  expect(report.finalMissing).toBe(0);
  expect(report.snapshotsRejected).toBe(0);
  // The last two opens follow clean ends, so their snapshots must load.
  expect(report.rounds[report.rounds.length - 1].restore).toMatchObject({ loaded: true });
});
