import * as fs from 'node:fs/promises';
import * as path from 'node:path';

/** How the model wants its input image. */
export interface ModelInputSpec {
  /** Input tensor name. */
  name: string;
  /** Side of the square input, in pixels. */
  size: number;
  /** Tensor layout; twinlens feeds NCHW. */
  layout: 'NCHW';
  channels: 'RGB';
  /** Pixel value x is fed as ((x * scale) - mean[c]) / std[c]. */
  scale: number;
  mean: [number, number, number];
  std: [number, number, number];
  /** How the image is fitted to the square: `fill` squashes it. */
  resize: 'fill';
}

/** `models/NAME/manifest.json`: what a model is and how to run it. */
export interface ModelManifest {
  name: string;
  /** Recorded with every catalog vector; a change means the catalog must be re-embedded. */
  version: string;
  /** The embedding network, relative to the manifest. */
  file: string;
  input: ModelInputSpec;
  outputs: { embedding: string };
  embeddingDim: number;
  /** `l2`: twinlens L2-normalises the output, so cosine similarity is a dot product. */
  normalize: 'l2';
  /** Compare's match threshold on its score, calibrated for this model. */
  threshold: number;
  /** How `threshold` was chosen, for people reading the manifest. */
  thresholdCalibration?: string;
  /** The learned pairwise rerank head, when the model has one; null when it does not. */
  pairHead: null | { file: string };
  /** Provenance and licence. */
  source?: string;
}

/** A manifest plus the directory it was read from, so relative files resolve. */
export interface LoadedManifest extends ModelManifest {
  /** Absolute path of the embedding network's ONNX file. */
  modelPath: string;
  manifestPath: string;
}

function fail(manifestPath: string, message: string): never {
  throw new Error(`model manifest ${manifestPath}: ${message}`);
}

/** Reads and checks a manifest; every field the service relies on is validated here, once. */
export async function loadManifest(manifestPath: string): Promise<LoadedManifest> {
  const abs = path.resolve(manifestPath);
  let raw: unknown;
  try {
    raw = JSON.parse(await fs.readFile(abs, 'utf8'));
  } catch (e) {
    fail(abs, `cannot be read as JSON (${(e as Error).message})`);
  }
  const m = raw as ModelManifest;
  if (typeof m.name !== 'string' || !m.name) fail(abs, 'name must be a non-empty string');
  if (typeof m.version !== 'string' || !m.version) fail(abs, 'version must be a non-empty string');
  if (typeof m.file !== 'string' || !m.file) fail(abs, 'file must name the ONNX file');
  if (!m.input || !Number.isInteger(m.input.size) || m.input.size < 8) fail(abs, 'input.size must be an integer >= 8');
  if (m.input.layout !== 'NCHW') fail(abs, `input.layout '${m.input.layout}' is not supported (NCHW only)`);
  if (!m.outputs?.embedding) fail(abs, 'outputs.embedding must name the embedding output');
  if (!Number.isInteger(m.embeddingDim) || m.embeddingDim < 1) fail(abs, 'embeddingDim must be a positive integer');
  if (typeof m.threshold !== 'number' || !Number.isFinite(m.threshold)) fail(abs, 'threshold must be a number');
  if (m.pairHead) {
    // The rerank stage's interface exists (search/rerank.ts) but no trained head ships yet.
    fail(abs, 'pairHead is set, but this release has no pair-head runtime yet');
  }
  return { ...m, pairHead: null, modelPath: path.resolve(path.dirname(abs), m.file), manifestPath: abs };
}
