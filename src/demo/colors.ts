/**
 * Named colours used by watch specs, and helpers to derive shades (internal).
 */

/** Every colour name a {@link WatchSpec} field may hold. */
export type ColorName =
  | 'black'
  | 'blue'
  | 'navy'
  | 'white'
  | 'cream'
  | 'brown'
  | 'tan'
  | 'green'
  | 'olive'
  | 'silver'
  | 'gold'
  | 'rose-gold'
  | 'gunmetal'
  | 'grey'
  | 'red'
  | 'orange'
  | 'yellow';

/** Base sRGB colour for each name (what a flat, evenly lit part looks like). */
export const PALETTE: Readonly<Record<ColorName, string>> = {
  black: '#1a1b1f',
  blue: '#1f4596',
  navy: '#1b2a4a',
  white: '#f1f0eb',
  cream: '#e9dfc4',
  brown: '#5c3a22',
  tan: '#a8703e',
  green: '#1f5a3c',
  olive: '#55603a',
  silver: '#b8bdc3',
  gold: '#cfa54a',
  'rose-gold': '#c98e76',
  gunmetal: '#55595f',
  grey: '#7c8087',
  red: '#a0202a',
  orange: '#e0661c',
  yellow: '#e3bd22',
};

/** Names whose base colour is light enough that dark ink reads best on them. */
export const LIGHT_COLORS: ReadonlySet<ColorName> = new Set<ColorName>([
  'white',
  'cream',
  'silver',
  'gold',
  'rose-gold',
  'yellow',
]);

/** Metallic finishes (rendered with specular gradients). */
export const METAL_COLORS: ReadonlySet<ColorName> = new Set<ColorName>([
  'silver',
  'gold',
  'rose-gold',
  'gunmetal',
]);

type Rgb = [number, number, number];

function parseHex(hex: string): Rgb {
  const v = parseInt(hex.slice(1), 16);
  return [(v >> 16) & 255, (v >> 8) & 255, v & 255];
}

function toHex([r, g, b]: Rgb): string {
  const c = (x: number) => Math.max(0, Math.min(255, Math.round(x))).toString(16).padStart(2, '0');
  return `#${c(r)}${c(g)}${c(b)}`;
}

/**
 * Mixes a colour towards white (`amount > 0`) or black (`amount < 0`).
 *
 * @param color a palette name or `#rrggbb`.
 * @param amount in `[-1, 1]`.
 */
export function shade(color: ColorName | string, amount: number): string {
  const rgb = parseHex(color.startsWith('#') ? color : PALETTE[color as ColorName]);
  const target = amount >= 0 ? 255 : 0;
  const t = Math.abs(amount);
  return toHex(rgb.map((c) => c + (target - c) * t) as Rgb);
}

/**
 * Caps a colour's channels (used to keep outer highlights below the
 * near-white threshold that the degradation cut-out treats as background).
 */
export function capLightness(hex: string, max: number): string {
  return toHex(parseHex(hex).map((c) => Math.min(c, max)) as Rgb);
}
