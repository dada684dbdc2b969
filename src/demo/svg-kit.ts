/**
 * Minimal SVG document builder and gradient helpers (internal).
 */
import { capLightness, shade, type ColorName } from './colors.js';

/** A gradient stop: offset in `[0, 1]`, colour, optional opacity. */
export type Stop = readonly [number, string, number?];

/** Collects `<defs>` and body elements, then serialises a square SVG. */
export class SvgDoc {
  private readonly defs: string[] = [];
  private readonly body: string[] = [];

  /** Appends drawable markup. */
  add(markup: string): void {
    this.body.push(markup);
  }

  /** Appends a definition (gradient, clip path). */
  def(markup: string): void {
    this.defs.push(markup);
  }

  /**
   * Serialises the document.
   *
   * @param viewBox user-space size (square).
   * @param sizePx output width and height in pixels.
   */
  toString(viewBox: number, sizePx: number): string {
    return (
      `<svg xmlns="http://www.w3.org/2000/svg" width="${sizePx}" height="${sizePx}" viewBox="0 0 ${viewBox} ${viewBox}">` +
      `<defs>${this.defs.join('')}</defs>${this.body.join('')}</svg>`
    );
  }
}

function stopsMarkup(stops: readonly Stop[]): string {
  return stops
    .map(([o, c, a]) => `<stop offset="${o}" stop-color="${c}"${a === undefined ? '' : ` stop-opacity="${a}"`}/>`)
    .join('');
}

/** A bounding-box-relative linear gradient from `(x1, y1)` to `(x2, y2)`. */
export function linearGradient(id: string, stops: readonly Stop[], x1 = 0, y1 = 0, x2 = 1, y2 = 0): string {
  return `<linearGradient id="${id}" x1="${x1}" y1="${y1}" x2="${x2}" y2="${y2}">${stopsMarkup(stops)}</linearGradient>`;
}

/** A radial gradient in user space, centred on `(cx, cy)`, focus `(fx, fy)`. */
export function radialGradient(
  id: string,
  stops: readonly Stop[],
  cx: number,
  cy: number,
  r: number,
  fx = cx,
  fy = cy,
): string {
  return `<radialGradient id="${id}" gradientUnits="userSpaceOnUse" cx="${cx}" cy="${cy}" r="${r}" fx="${fx}" fy="${fy}">${stopsMarkup(stops)}</radialGradient>`;
}

/**
 * Stops imitating a polished metal surface: alternating bright and dark bands.
 *
 * @param color base colour.
 * @param cap maximum channel value for the bright bands (keeps outer parts off pure white).
 * @param contrast 0–1, how strong the bands are.
 */
export function metalStops(color: ColorName | string, cap = 255, contrast = 1): Stop[] {
  const c = (amount: number) => capLightness(shade(color, amount * contrast), cap);
  return [
    [0, c(0.5)],
    [0.18, c(0.15)],
    [0.42, c(-0.4)],
    [0.58, c(0.3)],
    [0.78, c(-0.05)],
    [1, c(-0.35)],
  ];
}
