/**
 * Colour evidence for Search (issue 12, option colorEvidence): what colours the product shows. A
 * query photo's middle (its central half, where a photographed product usually is) and each
 * shortlisted item's catalog image are summarised as hue x saturation x value histograms of their
 * non-white pixels; the top `depth` hits are measured by the histograms' Bhattacharyya coefficient
 * (1: the same colours), which the engine weighs with the evidence head, or adds `weight` x it (the
 * fixed weights). The embedding sees shape and texture through a photo's
 * background and light; this asks the plainer question "is it the same colours", which separates
 * a yellow apple from a green one.
 *
 * Measured (docs/benchmarks.md): on grocery-dev Recall@5 0.476 -> 0.571 after the text evidence,
 * Recall@1 0.277 -> 0.274; on generated watches Recall@1 0.170 -> 0.198. Catalog histograms are computed from the item's image when a Search first
 * shortlists it (about 2 ms) and kept in memory.
 */
import sharp from 'sharp';
import { InvalidImageError } from '../errors/index.js';
import { KeyedMemo } from '../evidence/keyed-memo.js';
import { asBuffer } from '../imaging/as-buffer.js';

/** Options of {@link ColorEvidence}; defaults of the service in src/config/option-schema.ts. */
export interface ColorEvidenceOptions {
  /** Added to a hit's score when the colours agree fully. */
  weight: number;
  /** How many of the top hits are re-scored. */
  depth: number;
  /** Largest decoded image accepted, in pixels (the decoder's limit). */
  maxImagePixels: number;
}

/** What the evidence needs of the catalog (either store): an item's main image. */
export interface ColorCatalog {
  get(itemId: string): Promise<{ imageSha256: string }>;
  imageOf(itemId: string): Promise<Uint8Array>;
}

/** Side of the square the histograms are taken over. */
const SIDE = 64;
const HUE_BINS = 12;
const SAT_BINS = 3;
const VAL_BINS = 3;
/** Pixels less saturated than this count in the grey bins, by value only. */
const GREY_SATURATION = 0.15;
const GREY_BINS = 4;
/** A pixel whose channels are all above this (of 255) is the white around a product: not counted. */
const WHITE = 230;
/** Histograms kept in memory (112 floats each); older ones are computed again. */
const MEMORY_ENTRIES = 100_000;
export const HISTOGRAM_LENGTH = HUE_BINS * SAT_BINS * VAL_BINS + GREY_BINS;

/**
 * The colour histogram of interleaved RGB pixels, L1-normalised, with its square root taken (so the
 * Bhattacharyya coefficient of two is their dot product). Near-white pixels are left out; an image
 * with (almost) nothing else counts every pixel.
 */
export function colorHistogram(rgb: Uint8Array): Float32Array {
  const n = rgb.length / 3;
  const counted = (skipWhite: boolean): Float32Array => {
    const h = new Float32Array(HISTOGRAM_LENGTH);
    for (let i = 0; i < n; i++) {
      const r = rgb[3 * i];
      const g = rgb[3 * i + 1];
      const b = rgb[3 * i + 2];
      if (skipWhite && r > WHITE && g > WHITE && b > WHITE) continue;
      const max = Math.max(r, g, b);
      const min = Math.min(r, g, b);
      const v = max / 255;
      const s = max > 0 ? (max - min) / max : 0;
      if (s < GREY_SATURATION) {
        h[HUE_BINS * SAT_BINS * VAL_BINS + Math.min(GREY_BINS - 1, Math.floor(v * GREY_BINS))]++;
        continue;
      }
      const d = max - min;
      let hue = max === r ? ((g - b) / d) % 6 : max === g ? (b - r) / d + 2 : (r - g) / d + 4;
      if (hue < 0) hue += 6;
      const hi = Math.min(HUE_BINS - 1, Math.floor((hue / 6) * HUE_BINS));
      const si = Math.min(SAT_BINS - 1, Math.floor(((s - GREY_SATURATION) / (1 - GREY_SATURATION)) * SAT_BINS));
      const vi = Math.min(VAL_BINS - 1, Math.floor(v * VAL_BINS));
      h[(hi * SAT_BINS + si) * VAL_BINS + vi]++;
    }
    return h;
  };
  let h = counted(true);
  let total = h.reduce((a, x) => a + x, 0);
  if (total < 10) {
    h = counted(false);
    total = n;
  }
  for (let i = 0; i < h.length; i++) h[i] = Math.sqrt(h[i] / total);
  return h;
}

/** The Bhattacharyya coefficient of two {@link colorHistogram}s: 0 (no colour shared) .. 1 (the same). */
export function colorSimilarity(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

export class ColorEvidence {
  readonly weight: number;
  readonly depth: number;
  private readonly histograms = new KeyedMemo<Float32Array>(MEMORY_ENTRIES);

  constructor(private readonly o: ColorEvidenceOptions) {
    this.weight = o.weight;
    this.depth = o.depth;
  }

  /** A query photo's histogram: its central half (a quarter of the area), EXIF orientation applied. */
  async queryHistogram(bytes: Uint8Array): Promise<Float32Array> {
    const input = asBuffer(bytes);
    try {
      const options: sharp.SharpOptions = { limitInputPixels: this.o.maxImagePixels, failOn: 'warning', pages: 1 };
      // Bounded first (cheap for large JPEGs: sharp shrinks on load), then cropped to the middle.
      const { data, info } = await sharp(input, options)
        .rotate()
        .flatten({ background: '#ffffff' })
        .toColourspace('srgb')
        .resize(4 * SIDE, 4 * SIDE, { fit: 'inside' })
        .removeAlpha()
        .raw()
        .toBuffer({ resolveWithObject: true });
      const { width: w, height: h } = info;
      const middle = await sharp(data, { raw: { width: w, height: h, channels: 3 } })
        .extract({ left: Math.floor(w / 4), top: Math.floor(h / 4), width: Math.max(1, Math.round(w / 2)), height: Math.max(1, Math.round(h / 2)) })
        .resize(SIDE, SIDE, { fit: 'fill' })
        .raw()
        .toBuffer();
      return colorHistogram(middle);
    } catch (e) {
      throw new InvalidImageError(`image could not be decoded for its colours: ${(e as Error).message.split('\n')[0]}`, { cause: e });
    }
  }

  /** A catalog item's image's histogram: from memory, or computed now and kept. */
  imageHistogram(sha256: string, load: () => Promise<Uint8Array>): Promise<Float32Array> {
    return this.histograms.get(sha256, async () => this.catalogHistogram(await load()));
  }

  /** The histogram of an image as a catalog image (the whole image, fitted on white), not kept (Compare's other image). */
  async catalogHistogram(bytes: Uint8Array): Promise<Float32Array> {
    const input = asBuffer(bytes);
    const rgb = await sharp(input, { limitInputPixels: this.o.maxImagePixels, pages: 1 })
      .rotate()
      .flatten({ background: '#ffffff' })
      .toColourspace('srgb')
      .resize(SIDE, SIDE, { fit: 'contain', background: '#ffffff' })
      .removeAlpha()
      .raw()
      .toBuffer();
    return colorHistogram(rgb);
  }

  /**
   * {@link colorSimilarity} of the query's histogram and each item's catalog image, in order. An item
   * whose image cannot be read (deleted since it was shortlisted) scores 0.
   */
  similarities(itemIds: readonly string[], query: Float32Array, catalog: ColorCatalog): Promise<number[]> {
    return Promise.all(
      itemIds.map(async (id) => {
        try {
          const info = await catalog.get(id);
          return colorSimilarity(query, await this.imageHistogram(info.imageSha256, () => catalog.imageOf(id)));
        } catch {
          return 0;
        }
      }),
    );
  }
}
