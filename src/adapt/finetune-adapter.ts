/**
 * The warm path's second learner: an {@link ExampleAdapter} that fine-tunes the twin and trains its
 * pair head on the catalog's confirmed photos (models/training/train.py, Debian's PyTorch). Each
 * confirmed item becomes a class whose clean view is its catalog image and whose "simulated" views
 * are its confirmed photos; the top blocks are fine-tuned from the pretrained backbone with the
 * settings measured in docs/warm-path.md.
 *
 * It earns its place as the whitening adapter does: a fifth of the photos never reaches the trainer,
 * and the trained version is written only when it finds those photos' items first more often than
 * the serving model. The pair head must earn its own place on the same photos: it reranks each
 * photo's shortlist (Search's path: the folded cosine shortlists, the head reorders), and the
 * manifest keeps it on only when that beats the cosine order; the decision is logged and recorded in
 * the manifest (`training.pairHeadDecision`, shown by GetServiceInfo). The version written is the
 * one measured: trained without the held-out fifth.
 */
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import type { AdaptOptions, AdaptOutcome, ExampleAdapter, TwinlensEngine } from '../engine/index.js';
import { dot } from '../engine/engine.js';
import { loadManifest, OnnxEmbedder, OnnxPairHead, type PairHead } from '../model/index.js';
import type { ExampleInfo } from '../store/index.js';
import { writeViewSet } from '../simulate/write-view-set.js';
import { verificationMetrics, type PairScores } from '../eval/verification.js';
import { PRETRAINED_BACKBONE_MANIFEST } from './adapt-model.js';
import { checkTrainingPython } from './check-python.js';
import { ADAPT_DEFAULTS } from './defaults.js';
import { foldedGallery, heldOutPhotos, holdout, holdoutSplit, photoKey, storedVectorsOf, vectorsOf, type ExampleAdapterBaseOptions, type ItemVectors, EXAMPLE_ADAPTER_DEFAULTS } from './holdout.js';
import { runTrainer } from './run-trainer.js';

/** Options of {@link createFinetuneAdapter}; defaults in {@link FINETUNE_ADAPTER_DEFAULTS}. */
export interface FinetuneAdapterOptions extends ExampleAdapterBaseOptions {
  /** Shortlist the pair head reranks in the held-out check (Search's default shortlist). Default 20. */
  shortlist?: number;
  /**
   * Fewest training steps: the trainer's epochs (6) are raised for small example sets so that they
   * get at least this many steps. Default 60.
   */
  minSteps?: number;
  /** Share of the remaining budget the trainer gets; the rest measures and writes. Default 0.6. */
  trainShare?: number;
  /** The trainer's arguments besides its inputs, outputs and budget. Default: the measured settings. */
  trainerArgs?: readonly string[];
  /** The network training starts from. Default: the bundled pretrained backbone. */
  initManifest?: string;
  python?: string;
  trainScript?: string;
}

export const FINETUNE_ADAPTER_DEFAULTS = Object.freeze({
  ...EXAMPLE_ADAPTER_DEFAULTS,
  shortlist: 20,
  minSteps: 60,
  trainShare: 0.6,
  /**
   * docs/warm-path.md "Fine-tuning the twin on confirmed pairs": blocks 16 and up fine-tuned, 3 photos
   * per item per batch, a low top learning rate. `--holdout 0.15` is the trainer's own split (its
   * threshold calibration), drawn from the photos this adapter did not hold out.
   */
  trainerArgs: Object.freeze(['--no-freeze-top', '--first-block', '16', '--catalog-per-batch', '32', '--views-per-item', '3', '--items-per-batch', '24', '--lr-top', '5e-5']),
});

/** The adapter's measurement on the held-out photos. */
export interface FinetuneHoldoutFigures {
  photos: number;
  items: number;
  /** Recall@1 among the items with examples: the serving model, the trained twin's cosine, and its pair head reranking that. */
  servingRecall1: number;
  cosineRecall1: number;
  /** null when the trainer wrote no pair head. */
  pairHeadRecall1: number | null;
}

/** Fine-tuning on confirmed photos as an ExampleAdapter (see the file comment). */
export function createFinetuneAdapter(options: FinetuneAdapterOptions): ExampleAdapter {
  const o = { ...FINETUNE_ADAPTER_DEFAULTS, python: ADAPT_DEFAULTS.python, trainScript: ADAPT_DEFAULTS.trainScript, initManifest: PRETRAINED_BACKBONE_MANIFEST, ...options };
  return {
    name: 'finetune',
    async adapt(engine: TwinlensEngine, run: AdaptOptions): Promise<AdaptOutcome> {
      const started = Date.now();
      const log = run.log ?? (() => undefined);
      const progress = run.onProgress ?? (() => undefined);
      const left = (): number => run.budgetMs - (Date.now() - started);
      const catalog = engine.catalog;
      const same = catalog.examples().filter((e) => e.label === 'same' && catalog.has(e.itemId));
      if (same.length < o.minExamples) {
        return { adapted: false, reason: `${same.length} SAME examples; the finetune adapter needs at least ${o.minExamples}` };
      }
      const init = await loadManifest(o.initManifest);
      if (init.input.size !== engine.inputSize) {
        return { adapted: false, reason: `the trainer's start ${init.manifestPath} takes ${init.input.size}px images, the serving model ${engine.inputSize}px` };
      }
      await checkTrainingPython(o.python);
      const heldOut = holdoutSplit(o.holdoutEvery);
      const training = same.filter((e) => !heldOut(photoKey(e)));
      const version = `${o.learnedOver}+finetuned-${same.length}ex-${Date.now().toString(36)}`;
      const outDir = path.join(o.modelsDir, version.replace(/[^A-Za-z0-9._+-]/g, '_'));
      const viewsDir = `${outDir}.views`;
      let keep = false;
      try {
        const holdoutFraction = trainerHoldout(training);
        if (holdoutFraction === null) {
          return { adapted: false, reason: `fewer than 2 items have 2 or more confirmed photos outside the held-out fifth; the finetune adapter needs them to train and validate` };
        }
        const items = await writeExampleViews(engine, training, viewsDir, progress, run.signal);
        const trainMinutes = Math.max(0.5, (left() * o.trainShare) / 60_000);
        log('adapting to confirmed examples: fine-tuning the twin', { examples: same.length, training: training.length, items, trainMinutes: Number(trainMinutes.toFixed(2)) });
        await runTrainer({
          python: o.python,
          script: o.trainScript,
          args: [
            ...['--views', viewsDir, '--init', init.manifestPath, '--out', outDir, '--version', version, '--budget-minutes', trainMinutes.toFixed(2)],
            ...['--max-epochs', epochsFor(training.length, o.minSteps).toFixed(2), '--holdout', holdoutFraction.toFixed(3), ...o.trainerArgs],
          ],
          stderrTailLines: ADAPT_DEFAULTS.stderrTailLines,
          signal: run.signal,
          onEvent: (e) => progress(`training (${e.stage})`, e.done, e.total),
        });
        await fs.rm(viewsDir, { recursive: true, force: true });
        if (left() <= 0) return { adapted: false, reason: `budget of ${run.budgetMs} ms spent training on ${training.length} photos` };

        progress('fitting and measuring on held-out photos', 0, 0);
        const trained = await loadManifest(path.join(outDir, 'manifest.json'));
        const embedder = await OnnxEmbedder.create(trained, { providers: o.providers, intraOpThreads: o.intraOpThreads, maxBatchSize: 1, maxBatchWaitMs: 0 });
        const head = await OnnxPairHead.create(trained, { providers: o.providers, intraOpThreads: o.intraOpThreads });
        try {
          const fresh = await vectorsOf(engine, embedder, same, o.batch, progress, run.signal);
          const cosine = holdout(fresh, heldOut);
          const serving = holdout(storedVectorsOf(engine, same), heldOut);
          const reranked = head ? await headHoldout(fresh, heldOut, head, o.shortlist) : null;
          const figures: FinetuneHoldoutFigures = {
            photos: cosine.photos,
            items: fresh.length,
            servingRecall1: serving.recall1,
            cosineRecall1: cosine.recall1,
            pairHeadRecall1: reranked?.recall1 ?? null,
          };
          log('adaptation measured on held-out photos', { ...figures });
          const headOn = reranked !== null && reranked.recall1 > cosine.recall1;
          const best = headOn ? reranked.recall1 : cosine.recall1;
          const measured =
            `held-out ${figures.photos} of ${same.length} photos (${figures.items} items): Recall@1 ${cosine.recall1.toFixed(3)} fine-tuned cosine` +
            (reranked ? `, ${reranked.recall1.toFixed(3)} its pair head` : '') +
            ` vs ${serving.recall1.toFixed(3)} serving (${engine.modelVersion})`;
          if (figures.photos === 0) return { adapted: false, reason: `no photo was held out of ${same.length}; add more examples` };
          if (!(best > serving.recall1)) return { adapted: false, reason: `the fine-tuned twin does not beat the serving model: ${measured}` };
          const pairHeadDecision = !reranked
            ? 'off: the trainer wrote no pair head'
            : headOn
              ? `on: it reranks held-out confirmed photos to Recall@1 ${reranked.recall1.toFixed(3)}, the cosine order ${cosine.recall1.toFixed(3)}`
              : `off: it reranks held-out confirmed photos to Recall@1 ${reranked.recall1.toFixed(3)}, no better than the cosine order ${cosine.recall1.toFixed(3)}`;
          log(`the learned version's pair head is ${pairHeadDecision}`);
          progress('writing the model', 0, 0);
          await finishManifest(path.join(outDir, 'manifest.json'), {
            learnedOver: o.learnedOver,
            cosine: cosine.pairs,
            pairHead: headOn ? reranked.pairs : null,
            pairHeadDecision,
            provenance: { examples: same.length, trainedOn: training.length, holdout: figures, seconds: (Date.now() - started) / 1000 },
          });
          keep = true;
          log('adaptation wrote a fine-tuned model', { version, outDir, ms: Date.now() - started });
          return { adapted: true, reason: `${measured}; pair head ${pairHeadDecision}`, modelVersion: version, manifestPath: path.join(outDir, 'manifest.json') };
        } finally {
          await embedder.close();
          await head?.close();
        }
      } finally {
        await fs.rm(viewsDir, { recursive: true, force: true });
        if (!keep) await fs.rm(outDir, { recursive: true, force: true });
      }
    },
  };
}

/**
 * The trainer's view set made of confirmed photos (models/training/ format, see src/simulate/view-set.ts):
 * per item with photos, its catalog image as the clean view and each photo as a view, all through the
 * service's decoder. Resolves with the number of items written.
 */
async function writeExampleViews(
  engine: TwinlensEngine,
  examples: readonly ExampleInfo[],
  outDir: string,
  progress: NonNullable<AdaptOptions['onProgress']>,
  signal?: AbortSignal,
): Promise<number> {
  const byItem = new Map<string, ExampleInfo[]>();
  for (const e of examples) {
    const photos = byItem.get(e.itemId);
    if (photos) photos.push(e);
    else byItem.set(e.itemId, [e]);
  }
  const items = [...byItem.keys()].map((itemId) => ({ itemId, imagePath: `catalog item ${itemId}`, metadata: engine.catalog.get(itemId).metadata }));
  const decode = async (sha: string) => engine.decoder.decode(await engine.catalog.imageBySha(sha));
  await writeViewSet({
    items,
    viewsPerItem: Math.max(0, ...[...byItem.values()].map((photos) => photos.length)),
    outDir,
    seed: 0,
    concurrency: 1,
    simulatorDescription: 'none: confirmed photos (SAME examples) as the views of their items',
    render: async (it) => {
      signal?.throwIfAborted();
      const images = [await decode(engine.catalog.get(it.itemId).imageSha256)];
      for (const e of byItem.get(it.itemId)!) images.push(await decode(e.imageSha256));
      return { size: images[0].size, rgb: images.map((d) => d.rgb) };
    },
    onProgress: (done, total) => progress('writing training views', done, total),
  });
  return items.length;
}

/**
 * Search's two stages on the held-out photos: the folded cosine shortlists `shortlist` items, the pair
 * head reorders them (query's local map against the catalog image's, with the shortlist cosine, ties
 * in cosine order). Recall@1 of that order, and the head's probabilities for calibration (positives:
 * the photo's own item, scored even when the shortlist missed it; negatives: the rest of the shortlist).
 */
async function headHoldout(items: readonly ItemVectors[], heldOut: (key: string) => boolean, head: PairHead, shortlist: number) {
  const gallery = foldedGallery(items, heldOut, (v) => v);
  const pairs: PairScores = { positives: [], negatives: [] };
  const photos = heldOutPhotos(items, heldOut);
  let hits = 0;
  for (const { own, photo } of photos) {
    const cosines = gallery.map((g) => dot(photo.vector, g));
    const order = cosines.map((_, j) => j).sort((a, b) => cosines[b] - cosines[a] || a - b);
    const top = order.slice(0, shortlist);
    const scored = top.includes(own) ? top : [...top, own];
    const p = await head.scoreCandidates(
      localOf(photo.local, 'a confirmed photo'),
      scored.map((j) => localOf(items[j].catalogLocal, `item ${items[j].itemId}`)),
      Float32Array.from(scored, (j) => cosines[j]),
    );
    scored.forEach((j, k) => (j === own ? pairs.positives : pairs.negatives).push(p[k]));
    const ranked = top.map((j, k) => ({ j, k })).sort((x, y) => p[y.k] - p[x.k] || x.k - y.k);
    if (ranked[0]?.j === own) hits++;
  }
  return { photos: photos.length, recall1: photos.length ? hits / photos.length : 0, pairs };
}

/**
 * The trainer's epochs for `photos` training photos: its default 6, or more when 6 epochs would be
 * fewer than `minSteps` steps (train.py: an epoch is its training views, 85% of them after its own
 * hold-out, over 24 items x 3 views per step).
 */
export function epochsFor(photos: number, minSteps: number): number {
  const epochSteps = Math.max(1, Math.floor((photos * 0.85) / (24 * 3)));
  return Math.max(6, minSteps / epochSteps);
}

/**
 * The trainer's own hold-out fraction (its validation and first calibration) for these training
 * photos: its default 0.15, raised for few photos per item so that a typical item still gives one
 * (train.py holds out round(n x fraction) of an item's n views, none of an item with one); null when
 * fewer than 2 items have 2 or more photos, where the trainer could hold out nothing.
 */
export function trainerHoldout(photos: readonly Pick<ExampleInfo, 'itemId'>[]): number | null {
  const counts = new Map<string, number>();
  for (const p of photos) counts.set(p.itemId, (counts.get(p.itemId) ?? 0) + 1);
  const several = [...counts.values()].filter((n) => n >= 2).sort((a, b) => a - b);
  if (several.length < 2) return null;
  const median = several[Math.floor(several.length / 2)];
  return Math.min(0.5, Math.max(0.15, 0.6 / median));
}

function localOf(local: Float32Array | null | undefined, what: string): Float32Array {
  if (!local) throw new Error(`the fine-tuned model gave no local feature map for ${what}`);
  return local;
}

/**
 * Turns the trainer's manifest into a learned version: learned over the configured model, Compare's
 * thresholds recalibrated to the equal-error point of the held-out pairs, and the pair head switched
 * off (`pairHead: null`, its file left beside it) unless it won.
 */
async function finishManifest(
  manifestPath: string,
  o: { learnedOver: string; cosine: PairScores; pairHead: PairScores | null; pairHeadDecision: string; provenance: Record<string, unknown> },
): Promise<void> {
  const manifest = JSON.parse(await fs.readFile(manifestPath, 'utf8')) as Record<string, unknown> & { pairHead: Record<string, unknown> | null; training?: Record<string, unknown> };
  const calibration = (scores: PairScores, what: string) => {
    const m = verificationMetrics(scores);
    return {
      threshold: Number(m.eerThreshold.toFixed(4)),
      thresholdCalibration:
        `equal-error threshold on ${scores.positives.length} positive / ${scores.negatives.length} negative held-out confirmed-photo pairs ` +
        `(${what}, trained without them): EER ${m.eer.toFixed(3)}, ROC AUC ${m.rocAuc.toFixed(3)}`,
    };
  };
  Object.assign(manifest, calibration(o.cosine, 'photo vs its item and every other item with examples, folded cosine'));
  manifest.pairHead =
    o.pairHead && manifest.pairHead ? { ...manifest.pairHead, ...calibration(o.pairHead, "photo vs its item and its shortlist's other items, pair-head probability") } : null;
  manifest.training = { ...manifest.training, learnedOver: o.learnedOver, pairHeadDecision: o.pairHeadDecision, examples: o.provenance };
  const tmp = `${manifestPath}.tmp`;
  await fs.writeFile(tmp, JSON.stringify(manifest, null, 2) + '\n');
  await fs.rename(tmp, manifestPath);
}
