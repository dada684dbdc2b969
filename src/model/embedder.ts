import * as ort from 'onnxruntime-node';
import type { ExecutionProviderName } from '../config/index.js';
import type { DecodedImage } from '../imaging/index.js';
import { createProviderSession } from './create-session.js';
import { type LoadedManifest, type LocalFeatureShape, localFeatureLength, type ModelInputSpec } from './manifest.js';
import { createMicroBatcher, type MicroBatcher } from './micro-batcher.js';
import { applyProjectionToRows, type Projection, readProjection } from './projection.js';

/** What the twin's network gives for one image. */
export interface TwinFeatures {
  /** L2-normalised embedding (the shortlist's vector). */
  embedding: Float32Array;
  /** Local feature map, C x H x W row-major, for the pair head; null when the model has none. */
  local: Float32Array | null;
}

/**
 * The twin's embedding network: one image in, one L2-normalised vector out, plus the spatial
 * feature map when the model has one (`localShape` not null).
 */
export interface Embedder {
  readonly dim: number;
  /** Shape of the local feature map each image gets; null when the model has none. */
  readonly localShape: LocalFeatureShape | null;
  readonly modelName: string;
  readonly modelVersion: string;
  /** The provider the network runs on. */
  readonly provider: ExecutionProviderName;
  readonly providerFallbackReason: string;
  /** Embeds one image; concurrent calls may be batched together. An aborted `signal` drops it from the queue. */
  embed(image: DecodedImage, signal?: AbortSignal): Promise<TwinFeatures>;
  /** Embeds several images in one ONNX Runtime run (no queueing). */
  embedBatch(images: DecodedImage[]): Promise<TwinFeatures[]>;
  /** Items waiting for the model. */
  readonly queueDepth: number;
  close(): Promise<void>;
}

export interface OnnxEmbedderOptions {
  providers: ExecutionProviderName[];
  intraOpThreads: number;
  /** Idle intra-op threads spin instead of sleeping (CreateSessionOptions.spinWait). Default false. */
  spinWait?: boolean;
  /** 1 turns micro-batching off: every call runs alone, concurrently. */
  maxBatchSize: number;
  maxBatchWaitMs: number;
  log?: (message: string) => void;
  /** Called after each ONNX Runtime run with its batch size and duration in seconds (metrics). Default none. */
  onBatch?: (batchSize: number, seconds: number) => void;
}

/** Writes `images` into one NCHW float tensor, normalised as the manifest says. */
export function tensorFromImages(images: DecodedImage[], input: ModelInputSpec): Float32Array {
  const { size, scale, mean, std } = input;
  const plane = size * size;
  const out = new Float32Array(images.length * 3 * plane);
  images.forEach((img, n) => {
    if (img.size !== size) throw new Error(`image is ${img.size}px, the model wants ${size}px`);
    const base = n * 3 * plane;
    const rgb = img.rgb;
    for (let c = 0; c < 3; c++) {
      const a = scale / std[c];
      const b = -mean[c] / std[c];
      const o = base + c * plane;
      for (let p = 0, q = c; p < plane; p++, q += 3) out[o + p] = rgb[q] * a + b;
    }
  });
  return out;
}

/** Scales `v` to unit length in place and returns it. */
export function l2Normalize(v: Float32Array): Float32Array {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i] * v[i];
  const inv = s > 0 ? 1 / Math.sqrt(s) : 0;
  for (let i = 0; i < v.length; i++) v[i] *= inv;
  return v;
}

/**
 * The production embedder: the manifest's ONNX network on ONNX Runtime, with micro-batching, and
 * the manifest's projection (when it has one) applied to the network's output before normalising.
 */
export class OnnxEmbedder implements Embedder {
  readonly dim: number;
  readonly localShape: LocalFeatureShape | null;
  readonly modelName: string;
  readonly modelVersion: string;
  readonly provider: ExecutionProviderName;
  readonly providerFallbackReason: string;
  private readonly batcher?: MicroBatcher<DecodedImage, TwinFeatures>;
  private readonly onBatch?: (batchSize: number, seconds: number) => void;

  private constructor(
    private readonly session: ort.InferenceSession,
    private readonly manifest: LoadedManifest,
    provider: ExecutionProviderName,
    fallbackReason: string,
    options: OnnxEmbedderOptions,
    private readonly projection: Projection | null,
  ) {
    this.dim = manifest.embeddingDim;
    this.localShape = manifest.localFeatures;
    this.modelName = manifest.name;
    this.modelVersion = manifest.version;
    this.provider = provider;
    this.providerFallbackReason = fallbackReason;
    this.onBatch = options.onBatch;
    if (options.maxBatchSize > 1) {
      this.batcher = createMicroBatcher((items) => this.embedBatch(items), {
        maxBatchSize: options.maxBatchSize,
        maxWaitMs: options.maxBatchWaitMs,
      });
    }
  }

  /** Loads the network on the first provider that works. */
  static async create(manifest: LoadedManifest, options: OnnxEmbedderOptions): Promise<OnnxEmbedder> {
    const { session, provider, fallbackReason } = await createProviderSession(manifest.modelPath, {
      providers: options.providers,
      intraOpThreads: options.intraOpThreads,
      spinWait: options.spinWait,
      log: options.log,
    });
    const projection = manifest.projection ? await readProjection(manifest.projection) : null;
    return new OnnxEmbedder(session, manifest, provider, fallbackReason, options, projection);
  }

  get queueDepth(): number {
    return this.batcher?.queueDepth ?? 0;
  }

  embed(image: DecodedImage, signal?: AbortSignal): Promise<TwinFeatures> {
    if (this.batcher) return this.batcher.submit(image, signal);
    signal?.throwIfAborted();
    return this.embedBatch([image]).then((v) => v[0]);
  }

  async embedBatch(images: DecodedImage[]): Promise<TwinFeatures[]> {
    if (images.length === 0) return [];
    const { input, outputs } = this.manifest;
    const networkDim = this.projection?.inputDim ?? this.manifest.embeddingDim;
    const data = tensorFromImages(images, input);
    const tensor = new ort.Tensor('float32', data, [images.length, 3, input.size, input.size]);
    const started = performance.now();
    const result = await this.session.run({ [input.name]: tensor });
    this.onBatch?.(images.length, (performance.now() - started) / 1000);
    const out = result[outputs.embedding];
    if (!out) throw new Error(`model has no output '${outputs.embedding}'`);
    const flat = out.data as Float32Array;
    if (flat.length !== images.length * networkDim) {
      throw new Error(`model output has ${flat.length} values, expected ${images.length} x ${networkDim}`);
    }
    const locals = this.localsOf(result, images.length);
    const per = localFeatureLength(this.manifest);
    const raw = images.map((_, i) => flat.subarray(i * networkDim, (i + 1) * networkDim));
    const embeddings = this.projection ? applyProjectionToRows(this.projection, raw) : raw.map((r) => r.slice());
    return images.map((_, i) => ({
      embedding: l2Normalize(embeddings[i]),
      local: locals ? locals.slice(i * per, (i + 1) * per) : null,
    }));
  }

  /** The batch's local feature maps, checked against the manifest's shape; null when the model has none. */
  private localsOf(result: ort.InferenceSession.OnnxValueMapType, n: number): Float32Array | null {
    const name = this.manifest.outputs.localFeatures;
    if (!this.localShape || !name) return null;
    const out = result[name];
    if (!out) throw new Error(`model has no output '${name}'`);
    const per = localFeatureLength(this.manifest);
    const data = out.data as Float32Array;
    if (data.length !== n * per) {
      const { channels, height, width } = this.localShape;
      throw new Error(`model output '${name}' has ${data.length} values, expected ${n} x ${channels} x ${height} x ${width}`);
    }
    return data;
  }

  async close(): Promise<void> {
    await this.session.release();
  }
}
