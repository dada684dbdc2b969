/** `twinlens-dev bench-rerank` runs on a real pair head (the tiny test fixture) and reports every shortlist size; figures, not limits. */
import * as path from 'node:path';
import { measureRerankLatency } from '../../../tools/bench/rerank-latency.js';

test('reports p50/p95/mean per shortlist size', async () => {
  const r = await measureRerankLatency({
    manifest: path.join(__dirname, '..', '..', 'fixtures', 'tiny-twin', 'manifest.json'),
    shortlists: [1, 7],
    runs: 3,
  });
  expect(r.localShape).toBe('3x7x7');
  expect(r.results.map((x) => x.shortlist)).toEqual([1, 7]);
  for (const x of r.results) {
    expect(x.p50Ms).toBeGreaterThan(0);
    expect(x.p95Ms).toBeGreaterThanOrEqual(x.p50Ms);
    expect(x.unpackMeanMs).toBeLessThanOrEqual(x.meanMs);
  }
});

test('a model without a pair head is refused with its path', async () => {
  await expect(
    measureRerankLatency({ manifest: path.join(__dirname, '..', '..', '..', 'models', 'mobilenet_v2_140', 'manifest.json'), runs: 1 }),
  ).rejects.toThrow(/mobilenet_v2_140.manifest.json has no pair head to time/);
});
