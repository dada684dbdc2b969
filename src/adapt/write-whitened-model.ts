import { createHash } from 'node:crypto';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { loadManifest, type ModelManifest, type Projection, projectionToBytes } from '../model/index.js';
import { AdaptError } from './adapt-error.js';

/** Name of the projection file inside a written model folder. */
export const PROJECTION_FILE = 'projection.f32';

/** Options of {@link writeWhitenedModel}. */
export interface WriteWhitenedModelOptions {
  /** Manifest of the raw model the projection was fitted on (it must have no projection itself). */
  baseManifestPath: string;
  /** The projection, e.g. from fitWhitening; inputDim must be the base's embeddingDim. */
  projection: Projection;
  /** Folder to write manifest.json, projection.f32, the network and README.md into (created). */
  outDir: string;
  /** Version of the new model; must differ from the base's (a new version triggers the re-embed). */
  version: string;
  /**
   * `copy` (default): the base ONNX file is copied into `outDir`, so the version stays exactly what
   * it was even when the base model is later upgraded in place or moved. `reference`: the manifest
   * names the base file by absolute path (no copy; the base file must then never change).
   */
  baseModelFile?: 'copy' | 'reference';
  /** Compare's threshold for the new model. Default: the base's (not recalibrated; see thresholdCalibration). */
  threshold?: number;
  /** How `threshold` was chosen. */
  thresholdCalibration?: string;
  /**
   * The configured model this version was learned over (recorded as `training.learnedOver`): a
   * restart with that model configured keeps serving this version instead of re-embedding back.
   */
  learnedOver?: string;
  /** Recorded in the manifest's `projection.provenance` (what it was fitted on, when, how long). */
  provenance?: Record<string, unknown>;
}

/**
 * Writes a model folder that serves `base`'s network followed by `projection`: manifest.json
 * (the base's fields, the new version, `projection` with the file's SHA-256, no pair head: a head
 * trained on the base's cosines does not carry over), projection.f32, the network (copied or
 * referenced), and a README.md saying how it was made. Loads the written manifest back to check it
 * and returns its path. Pointing the service's `modelManifest` at it rolls it in through the
 * background re-embed.
 */
export async function writeWhitenedModel(o: WriteWhitenedModelOptions): Promise<{ manifestPath: string; version: string }> {
  const base = await loadManifest(o.baseManifestPath);
  if (base.projection) {
    throw new AdaptError(`base model ${base.manifestPath} already has a projection; fit on and write from the raw model it was made from`);
  }
  if (o.projection.inputDim !== base.embeddingDim) {
    throw new AdaptError(`projection takes ${o.projection.inputDim} values, the base model gives ${base.embeddingDim}`);
  }
  if (!o.version || o.version === base.version) throw new AdaptError(`version must be set and differ from the base's '${base.version}'`);
  const outDir = path.resolve(o.outDir);
  await fs.mkdir(outDir, { recursive: true });

  const bytes = projectionToBytes(o.projection);
  await fs.writeFile(path.join(outDir, PROJECTION_FILE), bytes);
  let file: string;
  if ((o.baseModelFile ?? 'copy') === 'copy') {
    file = path.basename(base.modelPath);
    await fs.copyFile(base.modelPath, path.join(outDir, file), fs.constants.COPYFILE_FICLONE);
  } else {
    file = base.modelPath;
  }
  const { modelPath: _m, manifestPath: _p, ...baseFields } = base;
  const manifest: ModelManifest = {
    ...baseFields,
    name: `${base.name}+whitened`,
    version: o.version,
    file,
    embeddingDim: o.projection.outputDim,
    projection: {
      file: PROJECTION_FILE,
      inputDim: o.projection.inputDim,
      outputDim: o.projection.outputDim,
      sha256: createHash('sha256').update(bytes).digest('hex'),
      provenance: o.provenance,
    },
    threshold: o.threshold ?? base.threshold,
    thresholdCalibration:
      o.thresholdCalibration ?? `inherited from ${base.version} without recalibration: ${base.thresholdCalibration ?? 'unknown'}`,
    pairHead: null,
    // What a restart needs to recognise this as learned over the configured model (see learnedOver), and a refit its raw base.
    training: {
      method: 'within-item whitening (src/adapt fitWhitening)',
      baseManifest: base.manifestPath,
      baseVersion: base.version,
      ...(o.learnedOver ? { learnedOver: o.learnedOver } : {}),
    },
    source: `${base.name} (${base.version}) followed by a within-item whitening fitted on confirmed photos. Base: ${base.source ?? base.manifestPath}`,
  };
  const manifestPath = path.join(outDir, 'manifest.json');
  await fs.writeFile(manifestPath, `${JSON.stringify(manifest, null, 2)}\n`);
  await fs.writeFile(
    path.join(outDir, 'README.md'),
    `# ${manifest.name} (${o.version})\n\nMade by twinlens src/adapt (fitWhitening, writeWhitenedModel): the network of ${base.manifestPath} ` +
      `(${base.version}) followed by the within-item whitening in ${PROJECTION_FILE} (float32 mean [${o.projection.inputDim}] then matrix ` +
      `[${o.projection.inputDim} x ${o.projection.outputDim}], see ProjectionSpec in src/model/manifest.ts), fitted on confirmed photos. ` +
      `Fit: ${JSON.stringify(o.provenance ?? {})}\n`,
  );
  await loadManifest(manifestPath);
  return { manifestPath, version: o.version };
}
