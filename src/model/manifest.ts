import { createHash } from 'node:crypto';
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
  /** Output tensor names: the embedding, and the spatial feature map when the model has one. */
  outputs: { embedding: string; localFeatures?: string };
  /** Length of the stored embedding: the network's output, or `projection.outputDim` when there is a projection. */
  embeddingDim: number;
  /** A linear map applied to the network's embedding before L2 normalisation; absent or null for none. */
  projection?: ProjectionSpec | null;
  /**
   * Shape of one image's local feature map (output `outputs.localFeatures`, [N, C, H, W]); absent or
   * null for models without one. The pair head compares two such maps.
   */
  localFeatures?: LocalFeatureShape | null;
  /** `l2`: twinlens L2-normalises the output, so cosine similarity is a dot product. */
  normalize: 'l2';
  /** Compare's match threshold on its score, calibrated for this model. */
  threshold: number;
  /** How `threshold` was chosen, for people reading the manifest. */
  thresholdCalibration?: string;
  /** The learned pairwise rerank head, when the model has one; null when it does not. */
  pairHead: null | PairHeadSpec;
  /** Provenance and licence. */
  source?: string;
  /** Free-form training provenance (data, steps, time, losses, commit), for people reading the manifest. */
  training?: unknown;
}

/** Shape of one image's local feature map: channels x height x width. */
export interface LocalFeatureShape {
  channels: number;
  height: number;
  width: number;
}

/** The pair head: an ONNX network scoring (query, candidate) pairs of local feature maps. */
export interface PairHeadSpec {
  /** The head's ONNX file, relative to the manifest. */
  file: string;
  /**
   * Input names: `query` and `candidate` take float32 [N, C, H, W] local feature maps; the optional
   * `cosine` takes float32 [N], the pair's embedding cosine (the shortlist's score), for heads that
   * learn on top of it.
   */
  inputs: { query: string; candidate: string; cosine?: string };
  /** Output name: float32 [N] logits; probability = sigmoid(logit) that both show the same item. */
  output: string;
  /** Compare's match threshold on the PROBABILITY, in (0, 1). */
  threshold: number;
  /** How `threshold` was chosen. */
  thresholdCalibration?: string;
}

/**
 * A linear projection of the embedding (e.g. the within-item whitening that src/adapt fits on
 * confirmed photos). The embedder turns the network's output x (length `inputDim`) into
 * normalise((normalise(x) - mean) . matrix), length `outputDim`; every vector the service stores
 * or searches with is that.
 *
 * File format (`file`, relative to the manifest): little-endian float32, no header, exactly
 * (inputDim + inputDim * outputDim) * 4 bytes: first `mean` (inputDim values), then `matrix`
 * row-major with inputDim rows of outputDim values (row i holds input i's weights).
 */
export interface ProjectionSpec {
  /** The projection file, relative to the manifest. */
  file: string;
  /** Length of the network's embedding output. */
  inputDim: number;
  /** Length of the projected embedding; must equal the manifest's `embeddingDim`. */
  outputDim: number;
  /** Hex SHA-256 of the file; checked at load when present. */
  sha256?: string;
  /** How the projection was made, for people reading the manifest. */
  provenance?: unknown;
}

/** A manifest plus the directory it was read from, so relative files resolve. */
export interface LoadedManifest extends ModelManifest {
  /** Absolute path of the embedding network's ONNX file. */
  modelPath: string;
  manifestPath: string;
  /** Checked local feature shape; null when the model has none. */
  localFeatures: LocalFeatureShape | null;
  /** Checked pair head, with the absolute path of its ONNX file; null when the model has none. */
  pairHead: null | (PairHeadSpec & { path: string });
  /** Checked projection, with the absolute path of its file; null when the model has none. */
  projection: null | (ProjectionSpec & { path: string });
}

/** Values in one local feature map (C x H x W), or 0 when the model has none. */
export function localFeatureLength(m: Pick<LoadedManifest, 'localFeatures'>): number {
  return m.localFeatures ? m.localFeatures.channels * m.localFeatures.height * m.localFeatures.width : 0;
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
  const dir = path.dirname(abs);
  const localFeatures = checkLocalFeatures(abs, m);
  const pairHead = m.pairHead == null ? null : await checkPairHead(abs, dir, m.pairHead, localFeatures);
  const projection = m.projection == null ? null : await checkProjection(abs, dir, m.projection, m.embeddingDim);
  return { ...m, localFeatures, pairHead, projection, modelPath: path.resolve(dir, m.file), manifestPath: abs };
}

/** Bytes of a projection file with these dimensions (see {@link ProjectionSpec}). */
export function projectionFileBytes(inputDim: number, outputDim: number): number {
  return (inputDim + inputDim * outputDim) * 4;
}

/** The projection's dimensions agree with `embeddingDim`, and its file has their size (and hash, when given). */
async function checkProjection(abs: string, dir: string, p: ProjectionSpec, embeddingDim: number): Promise<ProjectionSpec & { path: string }> {
  if (typeof p !== 'object') fail(abs, 'projection must be an object or null');
  if (!isName(p.file)) fail(abs, 'projection.file must name the projection file');
  for (const k of ['inputDim', 'outputDim'] as const) {
    if (!isPositiveInt(p[k])) fail(abs, `projection.${k} must be a positive integer, received ${JSON.stringify(p[k])}`);
  }
  if (p.outputDim !== embeddingDim) fail(abs, `projection.outputDim is ${p.outputDim}, but embeddingDim is ${embeddingDim}; they must be equal`);
  const file = path.resolve(dir, p.file);
  const expected = projectionFileBytes(p.inputDim, p.outputDim);
  let size: number;
  try {
    size = (await fs.stat(file)).size;
  } catch {
    fail(abs, `projection.file '${p.file}' does not exist (${file})`);
  }
  if (size !== expected) {
    fail(abs, `projection.file '${p.file}' has ${size} bytes, expected ${expected} (float32 mean [${p.inputDim}] + matrix [${p.inputDim} x ${p.outputDim}])`);
  }
  if (p.sha256 !== undefined) {
    if (typeof p.sha256 !== 'string' || !/^[0-9a-f]{64}$/i.test(p.sha256)) fail(abs, 'projection.sha256, when set, must be 64 hex digits');
    const actual = createHash('sha256').update(await fs.readFile(file)).digest('hex');
    if (actual !== p.sha256.toLowerCase()) fail(abs, `projection.file '${p.file}' has SHA-256 ${actual}, the manifest says ${p.sha256}`);
  }
  return { ...p, path: file };
}

const isPositiveInt = (v: unknown): v is number => Number.isInteger(v) && (v as number) > 0;
const isName = (v: unknown): v is string => typeof v === 'string' && v.length > 0;

/** `outputs.localFeatures` and `localFeatures` come together or not at all. */
function checkLocalFeatures(abs: string, m: ModelManifest): LocalFeatureShape | null {
  const output = m.outputs.localFeatures;
  const shape = m.localFeatures;
  if (output == null && shape == null) return null;
  if (!isName(output)) fail(abs, 'localFeatures is set, so outputs.localFeatures must name the local feature output');
  if (shape == null || typeof shape !== 'object') {
    fail(abs, `outputs.localFeatures is '${output}', so localFeatures must give its shape { channels, height, width }`);
  }
  for (const k of ['channels', 'height', 'width'] as const) {
    if (!isPositiveInt(shape[k])) fail(abs, `localFeatures.${k} must be a positive integer, received ${JSON.stringify(shape[k])}`);
  }
  if (shape.channels * shape.height * shape.width > 1 << 20) fail(abs, 'localFeatures has more than 2^20 values per image');
  return { channels: shape.channels, height: shape.height, width: shape.width };
}

/** The pair head needs the local feature maps it compares, named inputs, and a probability threshold. */
async function checkPairHead(
  abs: string,
  dir: string,
  head: PairHeadSpec,
  localFeatures: LocalFeatureShape | null,
): Promise<PairHeadSpec & { path: string }> {
  if (typeof head !== 'object') fail(abs, 'pairHead must be an object or null');
  if (!localFeatures) fail(abs, 'pairHead is set, but the model has no local features (outputs.localFeatures, localFeatures) for it to compare');
  if (!isName(head.file)) fail(abs, 'pairHead.file must name the pair head ONNX file');
  if (!isName(head.inputs?.query) || !isName(head.inputs?.candidate)) {
    fail(abs, 'pairHead.inputs must name both inputs: { "query": ..., "candidate": ... }');
  }
  const { query, candidate, cosine } = head.inputs;
  if (cosine !== undefined && !isName(cosine)) fail(abs, 'pairHead.inputs.cosine, when set, must name the cosine input');
  if (new Set([query, candidate, ...(cosine ? [cosine] : [])]).size !== (cosine ? 3 : 2)) {
    fail(abs, 'pairHead.inputs must name different inputs');
  }
  if (!isName(head.output)) fail(abs, 'pairHead.output must name the logit output');
  if (typeof head.threshold !== 'number' || !(head.threshold > 0 && head.threshold < 1)) {
    fail(abs, `pairHead.threshold is a probability and must be in (0, 1), received ${JSON.stringify(head.threshold)}`);
  }
  const headPath = path.resolve(dir, head.file);
  try {
    await fs.access(headPath);
  } catch {
    fail(abs, `pairHead.file '${head.file}' does not exist (${headPath})`);
  }
  return { ...head, path: headPath };
}
