import * as ort from 'onnxruntime-node';
import type { ExecutionProviderName } from '../config/index.js';
import { createProviderSession } from './create-session.js';
import { type LoadedManifest, type LocalFeatureShape, localFeatureLength, type PairHeadSpec } from './manifest.js';

/**
 * The twin's learned pairwise head: looks at two local feature maps at once and gives the
 * probability that both images show the same item.
 */
export interface PairHead {
  /** Compare's match threshold on the probability (the manifest's `pairHead.threshold`). */
  readonly threshold: number;
  readonly localShape: LocalFeatureShape;
  /**
   * Probability for one query's local map against each candidate's (the rerank of a shortlist).
   * `cosines[i]` is the pair's embedding cosine, fed to heads that take it (manifest `inputs.cosine`).
   */
  scoreCandidates(query: Float32Array, candidates: Float32Array[], cosines: Float32Array): Promise<Float64Array>;
  /** Probability for each pair (queries[i], candidates[i]) with embedding cosine cosines[i]. */
  scorePairs(queries: Float32Array[], candidates: Float32Array[], cosines: Float32Array): Promise<Float64Array>;
  close(): Promise<void>;
}

export interface OnnxPairHeadOptions {
  providers: ExecutionProviderName[];
  intraOpThreads: number;
  /** Idle intra-op threads spin instead of sleeping (CreateSessionOptions.spinWait). Default false. */
  spinWait?: boolean;
  /**
   * Most pairs in one ONNX Runtime run; longer lists run in chunks. Default 64: a 50-item shortlist
   * is one run, and one run's inputs stay at 2 x 64 x C x H x W floats (6.4 MB for 128 x 7 x 7).
   */
  maxPairsPerRun?: number;
  log?: (message: string) => void;
}

/** The logistic function, stable for large |x|. */
export function sigmoid(x: number): number {
  return x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x));
}

/** The production pair head: the manifest's `pair_head.onnx` on ONNX Runtime. */
export class OnnxPairHead implements PairHead {
  readonly threshold: number;
  readonly localShape: LocalFeatureShape;
  private readonly length: number;
  private readonly maxPairs: number;

  private constructor(
    private readonly session: ort.InferenceSession,
    private readonly spec: PairHeadSpec,
    localShape: LocalFeatureShape,
    maxPairs: number,
  ) {
    this.threshold = spec.threshold;
    this.localShape = localShape;
    this.length = localFeatureLength({ localFeatures: localShape });
    this.maxPairs = maxPairs;
  }

  /** Loads the manifest's pair head; null when the model has none. */
  static async create(manifest: LoadedManifest, options: OnnxPairHeadOptions): Promise<OnnxPairHead | null> {
    if (!manifest.pairHead || !manifest.localFeatures) return null;
    const maxPairs = options.maxPairsPerRun ?? 64;
    if (!Number.isInteger(maxPairs) || maxPairs < 1) throw new RangeError(`maxPairsPerRun: expected a positive integer, received ${maxPairs}`);
    const { session } = await createProviderSession(manifest.pairHead.path, {
      providers: options.providers,
      intraOpThreads: options.intraOpThreads,
      spinWait: options.spinWait,
      log: options.log,
    });
    const { query, candidate, cosine } = manifest.pairHead.inputs;
    for (const name of [query, candidate, ...(cosine ? [cosine] : [])]) {
      if (!session.inputNames.includes(name)) {
        await session.release();
        throw new Error(`pair head ${manifest.pairHead.path} has no input '${name}' (it has ${session.inputNames.join(', ')})`);
      }
    }
    if (!session.outputNames.includes(manifest.pairHead.output)) {
      await session.release();
      throw new Error(`pair head ${manifest.pairHead.path} has no output '${manifest.pairHead.output}'`);
    }
    return new OnnxPairHead(session, manifest.pairHead, manifest.localFeatures, maxPairs);
  }

  scoreCandidates(query: Float32Array, candidates: Float32Array[], cosines: Float32Array): Promise<Float64Array> {
    return this.scorePairs(candidates.map(() => query), candidates, cosines);
  }

  async scorePairs(queries: Float32Array[], candidates: Float32Array[], cosines: Float32Array): Promise<Float64Array> {
    if (queries.length !== candidates.length || cosines.length !== queries.length) {
      throw new RangeError(`pair head: ${queries.length} queries, ${candidates.length} candidates and ${cosines.length} cosines`);
    }
    const out = new Float64Array(queries.length);
    for (let start = 0; start < queries.length; start += this.maxPairs) {
      const end = Math.min(queries.length, start + this.maxPairs);
      out.set(await this.run(queries.slice(start, end), candidates.slice(start, end), cosines.subarray(start, end)), start);
    }
    return out;
  }

  /** One ONNX Runtime run; probabilities in double precision, so confident pairs (logits up to ~36) still order apart. */
  private async run(queries: Float32Array[], candidates: Float32Array[], cosines: Float32Array): Promise<Float64Array> {
    const n = queries.length;
    const { channels, height, width } = this.localShape;
    const pack = (maps: Float32Array[], side: string): ort.Tensor => {
      const data = new Float32Array(n * this.length);
      maps.forEach((m, i) => {
        if (m.length !== this.length) throw new RangeError(`pair head: ${side} map ${i} has ${m.length} values, expected ${this.length}`);
        data.set(m, i * this.length);
      });
      return new ort.Tensor('float32', data, [n, channels, height, width]);
    };
    const feeds: Record<string, ort.Tensor> = {
      [this.spec.inputs.query]: pack(queries, 'query'),
      [this.spec.inputs.candidate]: pack(candidates, 'candidate'),
    };
    if (this.spec.inputs.cosine) feeds[this.spec.inputs.cosine] = new ort.Tensor('float32', Float32Array.from(cosines), [n]);
    const result = await this.session.run(feeds);
    const logits = result[this.spec.output].data as Float32Array;
    if (logits.length !== n) throw new Error(`pair head output '${this.spec.output}' has ${logits.length} values, expected ${n}`);
    return Float64Array.from(logits, sigmoid);
  }

  async close(): Promise<void> {
    await this.session.release();
  }
}
