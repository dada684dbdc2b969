import * as fs from 'node:fs/promises';
import type { TwinlensEngine } from '../engine/index.js';
import { createRng, degradeImage, generateDemoCatalog, pick } from '../demo/index.js';
import { type PairScores, type VerificationMetrics, verificationMetrics } from './verification.js';

export interface CalibrateOptions {
  /** Generated items; each gives one positive pair and `negativesPerItem` negatives. Default 80. */
  items?: number;
  /** Negatives per item. Default 5. */
  negativesPerItem?: number;
  /** Seed of the generated items, apart from the demo catalog's 7 so the demo is not calibrated on. Default 20260. */
  seed?: number;
  onProgress?: (done: number, total: number) => void;
}

export interface CalibrationResult extends VerificationMetrics {
  positives: number;
  negatives: number;
  /** One line for the manifest's thresholdCalibration field. */
  description: string;
}

/**
 * Calibrates Compare's threshold on generated pairs, never on benchmark photos: a catalog item
 * (a clean render, stored as the service stores it) against a simulated phone photo of the same
 * watch (positive) or of another (negative): the threshold of "is this photo that catalog item?".
 * The threshold is the equal-error point; AUC and TAR at 1% FAR are reported beside it.
 */
export async function calibrateThreshold(engine: TwinlensEngine, options: CalibrateOptions = {}): Promise<CalibrationResult> {
  const items = options.items ?? 80;
  const negativesPerItem = options.negativesPerItem ?? 5;
  const seed = options.seed ?? 20260;
  const catalog = await generateDemoCatalog({ count: items, seed });
  const rng = createRng(seed + 1);
  const clean: Float32Array[] = [];
  const photo: Float32Array[] = [];
  for (const [i, item] of catalog.entries()) {
    const degraded = await degradeImage(item.image, {}, createRng(seed * 31 + i));
    // Each side as the service makes it: the catalog image as stored (with its simulated views when
    // catalogViews is on), the photo as a query (with its mirror when queryMirror is on).
    const [fa, fb] = await Promise.all([engine.embedCatalogImage(item.image), engine.embedQuery(degraded)]);
    clean.push(fa.embedding);
    photo.push(fb.embedding);
    options.onProgress?.(i + 1, items);
  }
  const dot = (x: Float32Array, y: Float32Array): number => x.reduce((s, v, k) => s + v * y[k], 0);
  const scores: PairScores = { positives: [], negatives: [] };
  const indices = catalog.map((_, i) => i);
  for (let i = 0; i < items; i++) {
    scores.positives.push(dot(photo[i], clean[i]));
    for (let n = 0; n < negativesPerItem; n++) {
      const j = pick(rng, indices.filter((k) => k !== i));
      scores.negatives.push(dot(photo[i], clean[j]));
    }
  }
  const m = verificationMetrics(scores);
  const description =
    `equal-error threshold on ${scores.positives.length} positive / ${scores.negatives.length} negative generated pairs ` +
    `(catalog item as stored vs simulated photo as queried, seed ${seed}): EER ${m.eer.toFixed(3)}, ROC AUC ${m.rocAuc.toFixed(3)}, ` +
    `TAR ${m.tarAtFar1.toFixed(3)} at 1% FAR (threshold ${m.far1Threshold.toFixed(4)})`;
  return { ...m, positives: scores.positives.length, negatives: scores.negatives.length, description };
}

/** Writes a calibrated threshold into a manifest file, keeping everything else. */
export async function writeThreshold(manifestPath: string, result: CalibrationResult): Promise<void> {
  const manifest = JSON.parse(await fs.readFile(manifestPath, 'utf8'));
  manifest.threshold = Number(result.eerThreshold.toFixed(4));
  manifest.thresholdCalibration = result.description;
  await fs.writeFile(manifestPath, `${JSON.stringify(manifest, null, 2)}\n`);
}
