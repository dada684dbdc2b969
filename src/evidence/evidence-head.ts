/**
 * The evidence head (issue 12's "pair head v2"): one small learned model that weighs a Search hit's
 * evidence (the embedding cosine, the colour and the text similarity, whether the photo showed
 * print) into the probability that the hit is the photo's item, in place of fixed weights. Trained
 * by models/evidence_head/train.py on simulated photos of generated items (never benchmark photos),
 * exported to ONNX, described by its own small manifest (models/evidence_head/manifest.json).
 *
 * The cosine it learned on is the one its embedding model gives: the head applies only while that
 * model version serves (`embedderVersion`); a version learned from confirmed photos ranks by the
 * fixed weights instead.
 */
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import * as ort from 'onnxruntime-node';
import type { ExecutionProviderName } from '../config/index.js';
import { createProviderSession } from '../model/create-session.js';
import { sigmoid } from '../model/pair-head.js';
import { readVerifiedFile } from '../model/verify-file.js';

/** The evidence of one (query photo, catalog item) pair, as the head reads it. */
export interface PairEvidence {
  /** Embedding cosine (the shortlist's score). */
  cosine: number;
  /** Colour similarity, 0..1 (src/color); 0 when not measured. */
  color: number;
  /** Share of the photo's print found in the item's text, 0..1 (src/text); 0 when the photo shows none. */
  text: number;
  /** Whether the photo showed readable print at all. */
  queryHasText: boolean;
}

/** Feature names a head's manifest may list, and how each is read from a pair's evidence. */
export const EVIDENCE_FEATURES = {
  cosine: (e: PairEvidence) => e.cosine,
  color: (e: PairEvidence) => e.color,
  text: (e: PairEvidence) => e.text,
  query_has_text: (e: PairEvidence) => (e.queryHasText ? 1 : 0),
} as const;
export type EvidenceFeature = keyof typeof EVIDENCE_FEATURES;

/** models/evidence_head/manifest.json. */
export interface EvidenceHeadManifest {
  name: string;
  version: string;
  /** The ONNX file, relative to the manifest: float32 input [N, features.length] -> float32 output [N] logits. */
  file: string;
  /** Hex sha256 of `file`, checked at load. */
  sha256: string;
  input: string;
  output: string;
  /** The input's columns, in order. */
  features: EvidenceFeature[];
  /** The embedding model version (manifest `version`) whose cosines the head learned on. */
  embedderVersion: string;
  /** Compare's match threshold on the head's probability, in (0, 1). */
  threshold: number;
  /** How `threshold` was chosen. */
  thresholdCalibration?: string;
  training?: unknown;
}

/** Thrown when the head's manifest or ONNX file is missing, malformed or altered; the message names the file. */
export class EvidenceHeadFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EvidenceHeadFileError';
  }
}

/** Scores pairs by their evidence: the probability that each pair shows one item. */
export interface EvidenceHead {
  readonly version: string;
  readonly embedderVersion: string;
  readonly features: readonly EvidenceFeature[];
  /** Compare's match threshold on the probability. */
  readonly threshold: number;
  score(pairs: readonly PairEvidence[]): Promise<Float64Array>;
  close(): Promise<void>;
}

export interface EvidenceHeadOptions {
  providers: ExecutionProviderName[];
  /** The head is a few hundred multiply-adds a pair: one thread. */
  intraOpThreads?: number;
  log?: (message: string) => void;
}

export class OnnxEvidenceHead implements EvidenceHead {
  private constructor(
    private readonly session: ort.InferenceSession,
    private readonly m: EvidenceHeadManifest,
  ) {}

  get version(): string {
    return this.m.version;
  }
  get embedderVersion(): string {
    return this.m.embedderVersion;
  }
  get features(): readonly EvidenceFeature[] {
    return this.m.features;
  }
  get threshold(): number {
    return this.m.threshold;
  }

  /** Reads and checks the manifest, verifies the ONNX file's sha256, and opens it. */
  static async create(manifestPath: string, options: EvidenceHeadOptions): Promise<OnnxEvidenceHead> {
    const m = await readEvidenceHeadManifest(manifestPath);
    const file = path.resolve(path.dirname(manifestPath), m.file);
    readVerifiedFile(file, m.sha256, 'evidence head', (message) => new EvidenceHeadFileError(message));
    const { session } = await createProviderSession(file, {
      providers: options.providers,
      intraOpThreads: options.intraOpThreads ?? 1,
      log: options.log,
    });
    if (!session.inputNames.includes(m.input) || !session.outputNames.includes(m.output)) {
      await session.release();
      throw new EvidenceHeadFileError(`evidence head ${file} has inputs ${session.inputNames.join(', ')} and outputs ${session.outputNames.join(', ')}; the manifest names '${m.input}' -> '${m.output}'`);
    }
    return new OnnxEvidenceHead(session, m);
  }

  async score(pairs: readonly PairEvidence[]): Promise<Float64Array> {
    if (pairs.length === 0) return new Float64Array(0);
    const width = this.m.features.length;
    const data = new Float32Array(pairs.length * width);
    pairs.forEach((p, i) => this.m.features.forEach((f, j) => (data[i * width + j] = EVIDENCE_FEATURES[f](p))));
    const out = await this.session.run({ [this.m.input]: new ort.Tensor('float32', data, [pairs.length, width]) });
    const logits = out[this.m.output].data as Float32Array;
    if (logits.length !== pairs.length) throw new Error(`evidence head output '${this.m.output}' has ${logits.length} values, expected ${pairs.length}`);
    return Float64Array.from(logits, sigmoid);
  }

  async close(): Promise<void> {
    await this.session.release();
  }
}

/** Reads an evidence head's manifest; every field the service relies on is checked here. */
export async function readEvidenceHeadManifest(manifestPath: string): Promise<EvidenceHeadManifest> {
  const fail = (what: string): never => {
    throw new EvidenceHeadFileError(`evidence head manifest ${manifestPath}: ${what}`);
  };
  let m: EvidenceHeadManifest;
  try {
    m = JSON.parse(await fs.readFile(manifestPath, 'utf8')) as EvidenceHeadManifest;
  } catch (e) {
    return fail(`cannot be read as JSON (${(e as Error).message})`);
  }
  for (const k of ['name', 'version', 'file', 'input', 'output', 'embedderVersion'] as const) {
    if (typeof m[k] !== 'string' || m[k].length === 0) fail(`${k} must be a non-empty string`);
  }
  if (typeof m.threshold !== 'number' || !(m.threshold > 0 && m.threshold < 1)) fail(`threshold is a probability and must be in (0, 1), received ${JSON.stringify(m.threshold)}`);
  if (typeof m.sha256 !== 'string' || !/^[0-9a-f]{64}$/i.test(m.sha256)) fail('sha256 must be 64 hex digits');
  if (!Array.isArray(m.features) || m.features.length === 0) fail('features must list the input columns');
  const unknown = m.features.filter((f) => !(f in EVIDENCE_FEATURES));
  if (unknown.length > 0) fail(`features ${unknown.join(', ')} are not known (known: ${Object.keys(EVIDENCE_FEATURES).join(', ')})`);
  return m;
}
