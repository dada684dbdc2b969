/**
 * The parameters of one procedurally drawn wrist watch, a random generator for
 * them, and their description as catalog metadata.
 */
import type { ColorName } from './colors.js';
import { LIGHT_COLORS } from './colors.js';
import { chance, intRange, pick, range, type Rng } from '../simulate/random.js';

/** Outline of the case (and, mostly, of the dial). */
export const CASE_SHAPES = ['round', 'square', 'cushion', 'octagon', 'tonneau'] as const;
/** Outline of the case. */
export type CaseShape = (typeof CASE_SHAPES)[number];

/** Case metals / finishes. */
export const CASE_COLORS = ['silver', 'gold', 'rose-gold', 'black', 'gunmetal'] as const;
/** Case metal / finish. */
export type CaseColor = (typeof CASE_COLORS)[number];

/** Dial colours. */
export const DIAL_COLORS = [
  'black',
  'blue',
  'white',
  'brown',
  'green',
  'silver',
  'gold',
  'grey',
  'red',
  'cream',
] as const;
/** Dial colour. */
export type DialColor = (typeof DIAL_COLORS)[number];

/** Dial finishes. */
export const DIAL_TEXTURES = ['sunburst', 'matte', 'guilloche'] as const;
/** Dial finish. */
export type DialTexture = (typeof DIAL_TEXTURES)[number];

/** Strap materials. `metal` is a link bracelet, `nato` a striped fabric strap. */
export const STRAP_MATERIALS = ['leather', 'rubber', 'metal', 'nato'] as const;
/** Strap material. */
export type StrapMaterial = (typeof STRAP_MATERIALS)[number];

/** Colours of non-metal straps. */
export const STRAP_COLORS = [
  'black',
  'brown',
  'tan',
  'blue',
  'navy',
  'green',
  'olive',
  'red',
  'grey',
  'orange',
] as const;
/** Strap colour: a {@link STRAP_COLORS} entry, or a case metal for bracelets. */
export type StrapColor = (typeof STRAP_COLORS)[number] | CaseColor;

/** Colours of NATO stripes and contrast stitching. */
export const STRAP_ACCENT_COLORS = [...STRAP_COLORS, 'cream', 'yellow'] as const;
/** NATO stripe / stitching colour: a {@link STRAP_ACCENT_COLORS} entry, or a case metal. */
export type StrapAccentColor = (typeof STRAP_ACCENT_COLORS)[number] | CaseColor;

const CONTRAST_STITCH_COLORS: readonly StrapAccentColor[] = ['cream', 'yellow', 'orange', 'tan', 'grey'];

/** Strap widths, relative to the case. */
export const STRAP_WIDTHS = ['thin', 'medium', 'wide'] as const;
/** Strap width class. */
export type StrapWidth = (typeof STRAP_WIDTHS)[number];

/** Leather stitching. */
export const STITCHINGS = ['none', 'matching', 'contrast'] as const;
/** Leather stitching (always `none` for other materials). */
export type Stitching = (typeof STITCHINGS)[number];

/** Hour marker styles. */
export const MARKER_STYLES = ['index', 'roman', 'dots', 'none'] as const;
/** Hour marker style. */
export type MarkerStyle = (typeof MARKER_STYLES)[number];

/** Hand shapes. */
export const HAND_STYLES = ['baton', 'sword', 'dauphine'] as const;
/** Hand shape. */
export type HandStyle = (typeof HAND_STYLES)[number];

/** Colours of hour/minute hands and applied markers. */
export const HANDS_COLORS = ['silver', 'gold', 'white', 'black', 'blue'] as const;
/** Colour of the hour/minute hands and the applied markers. */
export type HandsColor = (typeof HANDS_COLORS)[number];

/** Colours of the seconds hand. */
export const SECONDS_COLORS = ['red', 'orange', 'yellow', 'silver', 'blue'] as const;
/** Colour of the seconds hand. */
export type SecondsColor = (typeof SECONDS_COLORS)[number];

/** Bezel styles. */
export const BEZEL_STYLES = ['none', 'plain', 'fluted', 'diver', 'tachymeter'] as const;
/** Bezel style. */
export type BezelStyle = (typeof BEZEL_STYLES)[number];

/** Colours of coloured (diver / tachymeter) bezel inserts. */
export const BEZEL_COLORS = ['black', 'blue', 'red', 'green', 'navy'] as const;
/** Bezel insert colour, or the case metal for metal bezels. */
export type BezelColor = (typeof BEZEL_COLORS)[number] | CaseColor;

/** Logo glyphs printed under 12 o'clock. */
export const LOGOS = ['crown', 'star', 'shield', 'wordmark', 'none'] as const;
/** Logo glyph. */
export type Logo = (typeof LOGOS)[number];

/** Time shown by the hands (product shots traditionally show about 10:10). */
export interface WatchTime {
  /** 0–11. */
  hours: number;
  /** 0–59. */
  minutes: number;
  /** 0–59. */
  seconds: number;
}

/**
 * Everything needed to draw one watch. Fields that do not apply (e.g. the
 * subdial colour of a watch without subdials) are canonicalised by
 * {@link randomWatchSpec} so that equal-looking watches have equal specs.
 */
export interface WatchSpec {
  caseShape: CaseShape;
  caseColor: CaseColor;
  /** Case size multiplier, about 0.9–1.08. */
  caseScale: number;
  dialColor: DialColor;
  dialTexture: DialTexture;
  strapMaterial: StrapMaterial;
  strapColor: StrapColor;
  /** NATO stripe / contrast stitching colour; equals `strapColor` when unused. */
  strapAccentColor: StrapAccentColor;
  strapWidth: StrapWidth;
  stitching: Stitching;
  markers: MarkerStyle;
  handStyle: HandStyle;
  handsColor: HandsColor;
  secondsColor: SecondsColor;
  /** Chronograph subdials (at 3 and 9, plus 6 without a date). */
  hasSubdials: boolean;
  /** Equals `dialColor` when `hasSubdials` is false. */
  subdialColor: DialColor;
  /** Date window (at 3 o'clock, or 6 with subdials). */
  hasDate: boolean;
  bezel: BezelStyle;
  /** Insert colour for `diver`/`tachymeter`, otherwise the case colour. */
  bezelColor: BezelColor;
  logo: Logo;
  time: WatchTime;
}

const BEZELS_BY_SHAPE: Readonly<Record<CaseShape, readonly BezelStyle[]>> = {
  round: ['none', 'plain', 'fluted', 'diver', 'diver', 'tachymeter'],
  cushion: ['none', 'plain', 'diver'],
  octagon: ['plain', 'plain', 'none'],
  square: ['none', 'plain'],
  tonneau: ['none', 'plain'],
};

/**
 * Draws a random, plausible watch (hands readable on the dial, bezel suited to
 * the case shape, bracelet in the case metal, ...).
 *
 * @param rng the random source; the same stream yields the same spec.
 */
export function randomWatchSpec(rng: Rng): WatchSpec {
  const caseShape = pick(rng, CASE_SHAPES);
  const caseColor = pick(rng, CASE_COLORS);
  const caseScale = Math.round(range(rng, 0.9, 1.08) * 100) / 100;
  const dialColor = pick(rng, DIAL_COLORS);
  const dialTexture = pick(rng, DIAL_TEXTURES);
  const strapMaterial = pick(rng, STRAP_MATERIALS);
  const strapWidth = pick(rng, STRAP_WIDTHS);

  let strapColor: StrapColor;
  let strapAccentColor: StrapAccentColor;
  let stitching: Stitching = 'none';
  if (strapMaterial === 'metal') {
    strapColor = caseColor;
    strapAccentColor = caseColor;
  } else {
    strapColor = pick(rng, STRAP_COLORS);
    strapAccentColor = strapColor;
    if (strapMaterial === 'nato') {
      strapAccentColor = pick(rng, STRAP_ACCENT_COLORS.filter((c) => c !== strapColor));
    } else if (strapMaterial === 'leather') {
      stitching = pick(rng, STITCHINGS);
      if (stitching === 'contrast') {
        strapAccentColor = pick(rng, CONTRAST_STITCH_COLORS.filter((c) => c !== strapColor));
      }
    }
  }

  const lightDial = LIGHT_COLORS.has(dialColor as ColorName);
  const handsChoices: readonly HandsColor[] = lightDial
    ? dialColor === 'gold'
      ? ['black', 'blue']
      : ['black', 'blue', 'gold']
    : ['silver', 'gold', 'white'];
  const handsColor = pick(rng, handsChoices);
  const secondsColor = pick(rng, SECONDS_COLORS);

  const markers = pick(rng, MARKER_STYLES);
  const handStyle = pick(rng, HAND_STYLES);
  const hasSubdials = chance(rng, 0.3);
  const subdialPick = pick(rng, DIAL_COLORS);
  const subdialColor: DialColor = hasSubdials ? subdialPick : dialColor;
  const hasDate = chance(rng, 0.45);

  const bezel = pick(rng, BEZELS_BY_SHAPE[caseShape]);
  const insert = pick(rng, BEZEL_COLORS);
  const bezelColor: BezelColor = bezel === 'diver' || bezel === 'tachymeter' ? insert : caseColor;
  const logo = pick(rng, LOGOS);
  const time: WatchTime = { hours: 10, minutes: intRange(rng, 8, 12), seconds: intRange(rng, 0, 59) };

  return {
    caseShape,
    caseColor,
    caseScale,
    dialColor,
    dialTexture,
    strapMaterial,
    strapColor,
    strapAccentColor,
    strapWidth,
    stitching,
    markers,
    handStyle,
    handsColor,
    secondsColor,
    hasSubdials,
    subdialColor,
    hasDate,
    bezel,
    bezelColor,
    logo,
    time,
  };
}

/**
 * Describes a watch as flat string metadata, suitable for catalog filters.
 *
 * Keys: `case_shape`, `case_color`, `dial_color`, `dial_texture`,
 * `strap_material`, `strap_color`, `strap_width`, `markers`, `hands_color`,
 * `bezel`, `subdials` (`yes`/`no`), `date_window` (`yes`/`no`).
 *
 * @param spec the watch.
 */
export function describeWatch(spec: WatchSpec): Record<string, string> {
  return {
    case_shape: spec.caseShape,
    case_color: spec.caseColor,
    dial_color: spec.dialColor,
    dial_texture: spec.dialTexture,
    strap_material: spec.strapMaterial,
    strap_color: spec.strapColor,
    strap_width: spec.strapWidth,
    markers: spec.markers,
    hands_color: spec.handsColor,
    bezel: spec.bezel,
    subdials: spec.hasSubdials ? 'yes' : 'no',
    date_window: spec.hasDate ? 'yes' : 'no',
  };
}

/**
 * A stable key identifying how a watch looks; two specs with the same key
 * render identically.
 *
 * @param spec the watch.
 */
export function watchSpecKey(spec: WatchSpec): string {
  return JSON.stringify(spec, Object.keys(spec).concat(['hours', 'minutes', 'seconds']).sort());
}
