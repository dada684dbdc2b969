/**
 * Smoke test of `twinlens-dev bench-scale-out` at a tiny size: a throwaway PostgreSQL cluster, the
 * embedded store and two store=postgres replicas, real model and gRPC. Checks the report's shape and
 * that recall is measured (exact search at this size recalls everything). No speed assertions.
 * Fails when PostgreSQL is missing (`make setup-postgres`).
 */
import { DEFAULT_OPTIONS } from '../../../src/config/index.js';
import { runScaleOutBench } from '../../../tools/index-bench/scale-out-bench.js';

test('runs end to end at 3,000 items and reports recall, index steps and Search through 1 and 2 replicas', async () => {
  const lines: string[] = [];
  const r = await runScaleOutBench({
    count: 3000,
    queries: 20,
    searches: 6,
    efSearch: 100,
    model: DEFAULT_OPTIONS.modelManifest,
    vectorIndex: true,
    log: (l) => lines.push(l),
  });
  expect(r).toMatchObject({ count: 3000, dim: 256 });
  // Below annMinItems the embedded store searches exactly.
  expect(r.index.embedded).toMatchObject({ kind: 'exact', recallAt10: 1, filteredRecallAt10: 1 });
  for (const step of [r.index.postgres, r.index.vector!]) {
    expect(step.recallAt10).toBeGreaterThan(0.9);
    expect(step.filteredRecallAt10).toBeGreaterThan(0.9);
    expect(step.p50Ms).toBeGreaterThan(0);
  }
  for (const s of [r.service.embedded, r.service.postgres1]) {
    expect(s.one.searches).toBe(6);
    expect(s.busy.searchesPerSec).toBeGreaterThan(0);
  }
  expect(r.service.postgres2.replicas).toHaveLength(2);
  expect(r.service.postgres2.searchesPerSec).toBeGreaterThan(0);
  expect(lines.some((l) => l.startsWith('postgres service, 2 replicas'))).toBe(true);
});
