/**
 * The warm path's learner as the service runs it: an {@link ExampleAdapter} that fits the
 * within-item whitening (fit-whitening.ts) on the catalog's confirmed SAME photos and writes it as
 * a new model version (write-whitened-model.ts). It earns its place first: a fifth of the photos is
 * held out, the whitening fitted on the rest, and the new version is written only when it finds the
 * held-out photos' items first more often than the serving model does (both with the other photos
 * folded into their items, as Search does). Compare's threshold is recalibrated on the same held-out
 * pairs. Rolling the written version in (the background re-embed) is the composition root's step.
 */
import * as path from 'node:path';
import type { AdaptOptions, AdaptOutcome, ExampleAdapter, TwinlensEngine } from '../engine/index.js';
import { applyProjection, l2Normalize, loadManifest, OnnxEmbedder, type LoadedManifest } from '../model/index.js';
import { verificationMetrics, type PairScores } from '../eval/verification.js';
import { fitWhitening, whiteningGroupsOf, type Whitening } from './fit-whitening.js';
import { writeWhitenedModel } from './write-whitened-model.js';
import { average, holdout, holdoutSplit, storedVectorsOf, vectorsOf, type ExampleAdapterBaseOptions, type ItemVectors, EXAMPLE_ADAPTER_DEFAULTS } from './holdout.js';

/** Options of {@link createWhiteningAdapter}; defaults in {@link WHITENING_ADAPTER_DEFAULTS}. */
export interface WhiteningAdapterOptions extends ExampleAdapterBaseOptions {
  /**
   * Manifest of the network whose raw vectors the whitening is fitted on (no projection of its own,
   * same input size as the serving model). The configured model's by default.
   */
  baseManifest: string;
}

export const WHITENING_ADAPTER_DEFAULTS = EXAMPLE_ADAPTER_DEFAULTS;

/** The adapter's measurement on the held-out photos. */
export interface HoldoutFigures {
  photos: number;
  items: number;
  /** Recall@1 among the items with examples: the serving model, and the whitening fitted without the held-out photos. */
  servingRecall1: number;
  whitenedRecall1: number;
}

/** Within-item whitening as an ExampleAdapter (see the file comment). */
export function createWhiteningAdapter(options: WhiteningAdapterOptions): ExampleAdapter {
  const o = { ...WHITENING_ADAPTER_DEFAULTS, ...options };
  return {
    name: 'whitening',
    async adapt(engine: TwinlensEngine, run: AdaptOptions): Promise<AdaptOutcome> {
      const started = Date.now();
      const log = run.log ?? (() => undefined);
      const progress = run.onProgress ?? (() => undefined);
      const overBudget = (): boolean => Date.now() - started > run.budgetMs;
      const catalog = engine.catalog;
      const same = catalog.examples().filter((e) => e.label === 'same' && catalog.has(e.itemId));
      if (same.length < o.minExamples) {
        return { adapted: false, reason: `${same.length} SAME examples; the whitening adapter needs at least ${o.minExamples}` };
      }
      const base = await rawBase(o.baseManifest);
      if (base.input.size !== engine.inputSize) {
        return { adapted: false, reason: `base model ${base.manifestPath} takes ${base.input.size}px images, the serving model ${engine.inputSize}px` };
      }
      const baseEmbedder = await OnnxEmbedder.create(base, { providers: o.providers, intraOpThreads: o.intraOpThreads, maxBatchSize: 1, maxBatchWaitMs: 0 });
      try {
        log('adapting to confirmed examples: embedding them with the base model', { examples: same.length, base: base.version });
        const raw = await vectorsOf(engine, baseEmbedder, same, o.batch, progress, run.signal);
        if (overBudget()) return { adapted: false, reason: `budget of ${run.budgetMs} ms spent embedding ${same.length} examples` };
        // The serving model's own vectors, for the comparison: the base's when it serves, else as stored.
        progress('fitting and measuring on held-out photos', 0, 0);
        const serving = engine.modelVersion === base.version ? raw : storedVectorsOf(engine, same);
        const heldOut = holdoutSplit(o.holdoutEvery);
        const trial = fitWhitening(whiteningGroupsOf(evidenceOf(raw, (id) => !heldOut(id))));
        const asServed = (v: Float32Array) => v;
        const project = (w: Whitening) => (v: Float32Array) => l2Normalize(applyProjection(w, v));
        const servingHoldout = holdout(serving, heldOut, asServed);
        const whitenedHoldout = holdout(raw, heldOut, project(trial));
        const figures: HoldoutFigures = {
          photos: whitenedHoldout.photos,
          items: raw.length,
          servingRecall1: servingHoldout.recall1,
          whitenedRecall1: whitenedHoldout.recall1,
        };
        const measured =
          `held-out ${figures.photos} of ${same.length} photos (${figures.items} items): Recall@1 ${figures.whitenedRecall1.toFixed(3)} ` +
          `whitened vs ${figures.servingRecall1.toFixed(3)} serving (${engine.modelVersion})`;
        log('adaptation measured on held-out photos', { ...figures });
        if (figures.photos === 0) return { adapted: false, reason: `no photo was held out of ${same.length}; add more examples` };
        if (!(figures.whitenedRecall1 > figures.servingRecall1)) return { adapted: false, reason: `the whitening does not beat the serving model: ${measured}` };
        if (overBudget()) return { adapted: false, reason: `budget of ${run.budgetMs} ms spent before the final fit (${measured})` };

        progress('writing the model', 0, 0);
        const whitening = fitWhitening(whiteningGroupsOf(evidenceOf(raw, () => true)));
        const calibration = verificationMetrics(whitenedHoldout.pairs);
        const version = `${o.learnedOver}+whitened-${same.length}ex-${Date.now().toString(36)}`;
        const { manifestPath } = await writeWhitenedModel({
          baseManifestPath: base.manifestPath,
          projection: whitening,
          outDir: path.join(o.modelsDir, version.replace(/[^A-Za-z0-9._+-]/g, '_')),
          version,
          learnedOver: o.learnedOver,
          threshold: Number(calibration.eerThreshold.toFixed(4)),
          thresholdCalibration:
            `equal-error threshold on ${whitenedHoldout.pairs.positives.length} positive / ${whitenedHoldout.pairs.negatives.length} negative ` +
            `held-out confirmed-photo pairs (photo vs its item, and vs every other item with examples, fitted without them): ` +
            `EER ${calibration.eer.toFixed(3)}, ROC AUC ${calibration.rocAuc.toFixed(3)}`,
          provenance: { examples: same.length, items: whitening.items, members: whitening.members, ridge: whitening.ridge, holdout: figures, seconds: (Date.now() - started) / 1000 },
        });
        log('adaptation wrote a whitened model', { version, manifestPath, ms: Date.now() - started });
        return { adapted: true, reason: measured, modelVersion: version, manifestPath };
      } finally {
        await baseEmbedder.close();
      }
    },
  };
}

/** The manifest, or the raw network it was whitened from (a learned model is refitted from its base). */
async function rawBase(manifestPath: string): Promise<LoadedManifest> {
  const m = await loadManifest(manifestPath);
  if (!m.projection) return m;
  const from = (m.training as { baseManifest?: unknown } | undefined)?.baseManifest;
  if (typeof from !== 'string') throw new Error(`model ${m.manifestPath} has a projection and names no baseManifest to refit from`);
  return rawBase(from);
}

/** Fitting evidence: the photos `use` keeps, and the catalog vector (clean + views averaged) with each view. */
function evidenceOf(items: ItemVectors[], use: (key: string) => boolean) {
  return items.map((it) => ({
    itemId: it.itemId,
    confirmed: it.photos.filter((p) => use(p.key)).map((p) => p.vector),
    catalog: [average(it.catalog), ...it.catalog.slice(1)],
  }));
}
