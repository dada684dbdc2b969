import { performance } from 'node:perf_hooks';
import { addExamples } from '../../src/cli/client.js';
import { EXAMPLE_ADAPT_BUDGET_MINUTES, ROLL_IN_STAGE } from '../../src/engine/index.js';
import { ExampleLabel } from '../../src/gen/twinlens/v1/twinlens.js';
import type { BenchImage } from './bench-images.js';
import { type BenchServerBase, startBenchServer } from './bench-server.js';
import { benchIngest, benchItemId } from './ingest.js';

/** The warm path's costs on one server: confirmed photos through AddExamples, then one adaptation to them. */
export interface WarmPathResult {
  /** Catalog items (one per demo watch) the photos confirm. */
  items: number;
  examples: number;
  /** AddExamples: one stream, first write to response (every example committed and searchable). */
  addExamplesMs: number;
  examplesPerSec: number;
  /** `adapted`: the learned model beat the serving one on held-out photos and rolled in; `kept`: see reason. */
  outcome: 'adapted' | 'kept';
  reason: string;
  /** Learning: embedding with the base network, fit, held-out measurement, writing the model. */
  learnMs: number;
  /** Roll-in: the background re-embed of the catalog and its examples for the learned version (0 when kept). */
  rollInMs: number;
  /** learnMs per 1,000 examples, in seconds: the part that grows with the examples (the roll-in grows with the catalog). */
  learnSecondsPer1000Examples: number;
}

/**
 * A fresh server (`base`, the defaults as served) with one catalog item per watch of `catalog`
 * (its first photo), refined; then `examples` streamed as SAME photos of their watch's item and
 * timed; then one adaptation (the server's exampleAdapter, as StartAdaptation runs it) timed,
 * learning and roll-in apart.
 */
export async function benchWarmPath(base: BenchServerBase, catalog: readonly BenchImage[], examples: readonly BenchImage[], log: (line: string) => void): Promise<WarmPathResult> {
  const s = await startBenchServer(base);
  try {
    const firsts = [...new Map(catalog.map((img) => [img.watchId, img])).values()];
    await benchIngest(s.clients.catalog, firsts, 'warm-item-');
    const itemOf = new Map(firsts.map((img, i) => [img.watchId, benchItemId('warm-item-', i)]));
    await s.server.engine.refiner?.idle();
    const requests = examples.map((img) => {
      const itemId = itemOf.get(img.watchId);
      if (!itemId) throw new Error(`warm path: no catalog item shows watch ${img.watchId}`);
      return { itemId, image: img.bytes, label: ExampleLabel.EXAMPLE_LABEL_SAME, metadata: {} };
    });
    log(`warm path: ${requests.length} confirmed photos of ${firsts.length} items through AddExamples, then one adaptation`);
    const t0 = performance.now();
    const added = await addExamples(s.clients.catalog, requests);
    const addExamplesMs = performance.now() - t0;
    if (added.failed > 0) throw new Error(`warm path: ${added.failed} of ${requests.length} examples failed, e.g. ${added.outcomes.find((o) => !o.ok)?.error?.message}`);
    let rollInAt: number | undefined;
    const t1 = performance.now();
    const outcome = await s.server.adaptFromExamples({
      budgetMs: EXAMPLE_ADAPT_BUDGET_MINUTES * 60_000,
      onProgress: (stage) => {
        if (stage === ROLL_IN_STAGE) rollInAt ??= performance.now();
      },
    });
    const end = performance.now();
    const learnMs = (rollInAt ?? end) - t1;
    const result: WarmPathResult = {
      items: firsts.length,
      examples: requests.length,
      addExamplesMs,
      examplesPerSec: (requests.length * 1000) / addExamplesMs,
      outcome: outcome.adapted ? 'adapted' : 'kept',
      reason: outcome.reason,
      learnMs,
      rollInMs: rollInAt === undefined ? 0 : end - rollInAt,
      learnSecondsPer1000Examples: learnMs / requests.length,
    };
    log(
      `  ${result.examplesPerSec.toFixed(1)} examples/s; adaptation ${result.outcome} (${result.reason}): ` +
        `learning ${(learnMs / 1000).toFixed(1)} s (${result.learnSecondsPer1000Examples.toFixed(0)} s per 1,000 examples), roll-in ${(result.rollInMs / 1000).toFixed(1)} s`,
    );
    return result;
  } finally {
    await s.stop();
  }
}
