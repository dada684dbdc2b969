/**
 * Catalog adaptation: simulates phone photos of the user's own catalog images, fine-tunes the twin
 * and the pair head on them (models/training/train.py), and writes a new model version that the
 * service picks up by re-embedding its catalog at start-up.
 */
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadManifest } from '../model/index.js';
import { genericClipartItems, simulateCatalog, sourceItems, type SimulationAssetOptions } from '../simulate/index.js';
import { AdaptError } from './adapt-error.js';
import { checkTrainingPython } from './check-python.js';
import { PACKAGE_ROOT } from '../config/package-root.js';
import { ADAPT_DEFAULTS } from './defaults.js';
import { EtaEstimator, type AdaptProgress } from './progress.js';
import { runTrainer } from './run-trainer.js';

/** Options of {@link adaptModel}; defaults in {@link ADAPT_DEFAULTS}. */
export interface AdaptModelOptions {
  /** catalog.csv (benchmark format) or a folder of catalog images. */
  catalog: string;
  /** Manifest of the model to start from. Default: the service's default model. */
  baseManifest?: string;
  /** Output model folder (manifest.json, embedder.onnx, pair_head.onnx). */
  outDir: string;
  /** Version string of the new model. Default: `<base version>+adapted-<UTC timestamp>`. */
  version?: string;
  /** Budget of the whole run in minutes (simulation + training + export). */
  budgetMinutes?: number;
  /** Simulated views per item. Default: as many as fit `simulationShare` of the budget, within bounds. */
  viewsPerItem?: number;
  seed?: number;
  /** A few training steps only (CI smoke test). */
  smoke?: boolean;
  python?: string;
  trainScript?: string;
  /** Keep the simulated views here (default: a temporary folder, removed afterwards). */
  viewsDir?: string;
  /** Simulation worker threads (default: one per core). */
  workers?: number;
  /** Where backgrounds and clip-art come from (default: ASSET_DEFAULTS in src/simulate). */
  assets?: SimulationAssetOptions;
  /** Generic clip-art items trained on as extra classes besides the catalog's (default 0). */
  genericItems?: number;
  /** Extra arguments for train.py. */
  trainerArgs?: string[];
  onProgress?: (p: AdaptProgress) => void;
  signal?: AbortSignal;
}

/** What {@link adaptModel} produced. */
export interface AdaptResult {
  manifestPath: string;
  version: string;
  items: number;
  viewsPerItem: number;
  views: number;
  seconds: { simulate: number; train: number; total: number };
  /** The trainer's last progress event (its 'done' line). */
  trainer: Record<string, unknown> | null;
}

/** The converted ImageNet MobileNetV2-1.4 that every twin is trained from. */
export const PRETRAINED_BACKBONE_MANIFEST = path.join(PACKAGE_ROOT, 'models', 'mobilenet_v2_140', 'manifest.json');

function timestamp(d = new Date()): string {
  return d.toISOString().replace(/[-:]/g, '').replace(/\..*$/, '').replace('T', '-');
}

/** Where train.py should start from: the pretrained backbone, or a trained twin's checkpoint. */
async function trainerStart(baseManifestPath: string): Promise<string[]> {
  const base = await loadManifest(baseManifestPath);
  // A model written by train.py carries its `training` provenance; anything else is a converted backbone.
  const trained = base.pairHead !== null || (base as { training?: unknown }).training !== undefined;
  if (!trained) return ['--init', base.manifestPath];
  const checkpoint = path.join(path.dirname(base.manifestPath), 'checkpoint.pt');
  try {
    await fs.access(checkpoint);
  } catch {
    throw new AdaptError(`base model ${base.manifestPath} is a trained twin without checkpoint.pt beside it`, {
      hint: 'Adapt from the pretrained backbone (--model models/mobilenet_v2_140/manifest.json) or a model folder written by train.py.',
    });
  }
  return ['--init', PRETRAINED_BACKBONE_MANIFEST, '--checkpoint', checkpoint];
}

/**
 * Adapts a model to a catalog: simulate views, train, export. Resolves with the new manifest.
 * Throws {@link AdaptError} when python/torch is missing or training fails.
 */
export async function adaptModel(o: AdaptModelOptions): Promise<AdaptResult> {
  const started = Date.now();
  const budgetS = (o.budgetMinutes ?? ADAPT_DEFAULTS.budgetMinutes) * 60;
  if (!(budgetS > 0)) throw new RangeError(`adaptModel: budgetMinutes must be > 0, got ${o.budgetMinutes}`);
  const python = o.python ?? ADAPT_DEFAULTS.python;
  const script = o.trainScript ?? ADAPT_DEFAULTS.trainScript;
  const eta = new EtaEstimator(started, budgetS, ADAPT_DEFAULTS.finishSeconds);
  const report = (stage: string, done: number, total: number, etaS: number | null, detail: Record<string, unknown> = {}) =>
    o.onProgress?.({ stage, done, total, elapsedS: (Date.now() - started) / 1000, etaS, detail });

  report('check', 0, 1, null);
  const versions = await checkTrainingPython(python);
  // Adaptation starts from the pretrained backbone unless told otherwise: that is what its figures were
  // measured with (the served default, the generic twin, ships no checkpoint to fine-tune from).
  const baseManifest = path.resolve(o.baseManifest ?? PRETRAINED_BACKBONE_MANIFEST);
  const start = await trainerStart(baseManifest);
  const base = await loadManifest(baseManifest);
  const items = await sourceItems(o.catalog);
  if (items.length < 2) throw new AdaptError(`catalog ${o.catalog} has ${items.length} item(s); adaptation needs at least 2`);
  items.push(...(await genericClipartItems(o.genericItems ?? 0, o.assets)));
  report('check', 1, 1, null, { ...versions, items: items.length });

  const viewsPerItem =
    o.viewsPerItem ??
    Math.max(
      ADAPT_DEFAULTS.minViewsPerItem,
      Math.min(ADAPT_DEFAULTS.maxViewsPerItem, Math.floor((budgetS * ADAPT_DEFAULTS.simulationShare * ADAPT_DEFAULTS.assumedViewsPerSecond) / items.length) - 1),
    );
  const ownViews = !o.viewsDir;
  const viewsDir = o.viewsDir ?? (await fs.mkdtemp(path.join(os.tmpdir(), 'twinlens-adapt-views-')));
  try {
    const sim = await simulateCatalog({
      items,
      viewsPerItem,
      outDir: viewsDir,
      seed: o.seed ?? ADAPT_DEFAULTS.seed,
      size: base.input.size,
      workers: o.workers,
      assets: o.assets,
      onProgress: (done, total) => {
        // What follows simulation: at most the rest of the budget.
        const later = Math.max(0, budgetS - (Date.now() - started) / 1000) * 0.9;
        report('simulate', done, total, eta.update('simulate', done, total, later));
      },
    });
    if (o.signal?.aborted) throw new AdaptError('adaptation cancelled');
    const simulateS = sim.seconds;
    const trainBudgetMin = Math.max(1, (budgetS - (Date.now() - started) / 1000) / 60);
    const version = o.version ?? `${base.version}+adapted-${timestamp()}`;
    const outDir = path.resolve(o.outDir);
    await fs.mkdir(outDir, { recursive: true });
    const trainStarted = Date.now();
    const last = await runTrainer({
      python,
      script,
      args: [
        '--views', viewsDir,
        ...start,
        '--out', outDir,
        '--version', version,
        '--budget-minutes', trainBudgetMin.toFixed(2),
        ...(o.smoke ? ['--smoke'] : []),
        ...(o.trainerArgs ?? []),
      ],
      stderrTailLines: ADAPT_DEFAULTS.stderrTailLines,
      signal: o.signal,
      onEvent: (e) => {
        const { stage, done, total, ...detail } = e;
        const later = stage === 'train' || stage === 'cache' || stage === 'load' || stage === 'validate' ? ADAPT_DEFAULTS.finishSeconds : 0;
        report(stage, done, total, eta.update(stage, done, total, later), detail);
      },
    });
    const manifestPath = path.join(outDir, 'manifest.json');
    const written = await loadManifest(manifestPath).catch((e: unknown) => {
      throw new AdaptError(`the trainer finished but ${manifestPath} is not a loadable model: ${e instanceof Error ? e.message : String(e)}`);
    });
    const trainS = (Date.now() - trainStarted) / 1000;
    return {
      manifestPath,
      version: written.version,
      items: items.length,
      viewsPerItem,
      views: sim.index.count,
      seconds: { simulate: simulateS, train: trainS, total: (Date.now() - started) / 1000 },
      trainer: last,
    };
  } finally {
    if (ownViews) await fs.rm(viewsDir, { recursive: true, force: true });
  }
}
