/**
 * Renders a {@link WatchSpec} as a front-view product shot on pure white.
 */
import sharp from 'sharp';
import { RENDER_DEFAULTS } from './defaults.js';
import { paintCase, paintCrown } from './render-case.js';
import { paintDial } from './render-dial.js';
import { paintLugs, paintStrap } from './render-strap.js';
import { SvgDoc } from './svg-kit.js';
import { VIEW, layoutWatch } from './watch-layout.js';
import type { WatchSpec } from './watch-spec.js';

/** Options of {@link renderWatch}; defaults in {@link RENDER_DEFAULTS}. */
export interface RenderWatchOptions {
  /** Output width and height in pixels. Default 512. */
  sizePx?: number;
  /** Output encoding. Default `'jpeg'`. */
  format?: 'jpeg' | 'png';
  /** JPEG quality 1–100. Default 90. */
  quality?: number;
}

/**
 * Builds the SVG markup of a watch (the strap runs from top to bottom, crown
 * at 3 o'clock, background pure white).
 *
 * @param spec the watch.
 * @param sizePx width and height of the rasterised image.
 */
export function watchSvg(spec: WatchSpec, sizePx: number = RENDER_DEFAULTS.sizePx): string {
  const doc = new SvgDoc();
  const L = layoutWatch(spec);
  doc.add(`<rect width="${VIEW}" height="${VIEW}" fill="#ffffff"/>`);
  paintStrap(doc, spec, L);
  paintLugs(doc, spec, L);
  paintCrown(doc, spec, L);
  paintCase(doc, spec, L);
  paintDial(doc, spec, L);
  return doc.toString(VIEW, sizePx);
}

/**
 * Rasterises a watch with sharp (librsvg): a square image, watch centred on
 * `#ffffff`. Output is deterministic for a given spec and options.
 *
 * @param spec the watch.
 * @param options size and encoding; see {@link RENDER_DEFAULTS}.
 * @returns the encoded JPEG or PNG.
 */
export async function renderWatch(spec: WatchSpec, options: RenderWatchOptions = {}): Promise<Buffer> {
  const sizePx = options.sizePx ?? RENDER_DEFAULTS.sizePx;
  const format = options.format ?? RENDER_DEFAULTS.format;
  const quality = options.quality ?? RENDER_DEFAULTS.quality;
  if (!Number.isInteger(sizePx) || sizePx < 16 || sizePx > 4096) {
    throw new RangeError(`renderWatch: sizePx must be an integer in [16, 4096], got ${sizePx}`);
  }
  const img = sharp(Buffer.from(watchSvg(spec, sizePx))).flatten({ background: '#ffffff' });
  return format === 'png' ? img.png().toBuffer() : img.jpeg({ quality }).toBuffer();
}
