/**
 * Geometry of a watch drawing in a 1000×1000 user space (internal).
 */
import { outline, rayRadius, type OutlineKind, type Pt } from './geometry.js';
import type { CaseShape, WatchSpec } from './watch-spec.js';

/** Side of the square SVG user space every watch is drawn in. */
export const VIEW = 1000;

/** Positions and outlines shared by the case, strap and dial painters. */
export interface WatchLayout {
  cx: number;
  cy: number;
  /** Case half-width / half-height. */
  caseA: number;
  caseB: number;
  casePts: Pt[];
  /** Outer edge of a coloured / metal bezel (equal to the dial when none). */
  bezelPts: Pt[];
  /** Inner edge of the bezel insert. */
  bezelInnerPts: Pt[];
  dialKind: OutlineKind;
  dialPts: Pt[];
  dialA: number;
  dialB: number;
  /** Smallest dial radius: the scale for markers, hands, subdials. */
  dialR: number;
  /** Strap width where it leaves the case, and at its ends. */
  strapW0: number;
  strapW1: number;
  /** How far the lugs stick out beyond the case top/bottom. */
  lugLen: number;
  /** Top and bottom y of the whole object (strap ends). */
  topY: number;
  bottomY: number;
}

const CASE_KIND: Readonly<Record<CaseShape, OutlineKind>> = {
  round: 'ellipse',
  square: 'rounded-square',
  cushion: 'cushion',
  octagon: 'octagon',
  tonneau: 'tonneau',
};

const DIAL_KIND: Readonly<Record<CaseShape, OutlineKind>> = {
  round: 'ellipse',
  square: 'rounded-square',
  cushion: 'ellipse',
  octagon: 'ellipse',
  tonneau: 'tonneau',
};

const CASE_SIZE: Readonly<Record<CaseShape, readonly [number, number]>> = {
  round: [245, 245],
  square: [215, 215],
  cushion: [236, 236],
  octagon: [240, 240],
  tonneau: [200, 262],
};

const STRAP_RATIO = { thin: 0.36, medium: 0.46, wide: 0.56 } as const;

/** Computes the layout of a watch. */
export function layoutWatch(spec: WatchSpec): WatchLayout {
  const cx = VIEW / 2;
  const cy = VIEW / 2;
  const [a0, b0] = CASE_SIZE[spec.caseShape];
  const caseA = a0 * spec.caseScale;
  const caseB = b0 * spec.caseScale;
  const casePts = outline(CASE_KIND[spec.caseShape], cx, cy, caseA, caseB);

  const coloured = spec.bezel === 'diver' || spec.bezel === 'tachymeter';
  const bezelScale = spec.bezel === 'none' ? 0.9 : 0.92;
  const bezelInner = coloured ? 0.76 : spec.bezel === 'none' ? 0.9 : 0.82;
  const dialScale = coloured ? 0.75 : spec.bezel === 'none' ? 0.9 : 0.8;

  const dialKind = DIAL_KIND[spec.caseShape];
  let dialA = caseA * dialScale;
  let dialB = caseB * dialScale;
  if (dialKind === 'ellipse' && CASE_KIND[spec.caseShape] !== 'ellipse') {
    // A round dial in a polygonal case: fit inside the case's inradius.
    let inner = Infinity;
    for (let i = 0; i < 72; i++) inner = Math.min(inner, rayRadius(casePts, cx, cy, (i / 72) * Math.PI * 2));
    dialA = dialB = inner * dialScale;
  }
  const scaled = (s: number) =>
    dialKind === 'ellipse' && CASE_KIND[spec.caseShape] !== 'ellipse'
      ? outline('ellipse', cx, cy, (dialA / dialScale) * s, (dialB / dialScale) * s)
      : outline(CASE_KIND[spec.caseShape], cx, cy, caseA * s, caseB * s);
  const bezelPts = spec.caseShape === 'octagon' && spec.bezel !== 'none'
    ? outline('octagon', cx, cy, caseA * bezelScale, caseB * bezelScale)
    : scaled(bezelScale);
  const bezelInnerPts = scaled(bezelInner);
  const dialPts = outline(dialKind, cx, cy, dialA, dialB);
  const dialR = Math.min(dialA, dialB) * (dialKind === 'tonneau' ? 0.92 : 1);

  const strapW0 = 2 * caseA * STRAP_RATIO[spec.strapWidth] * (spec.caseShape === 'tonneau' ? 1.12 : 1);
  const tapers = spec.strapMaterial !== 'nato';
  const strapW1 = tapers ? strapW0 * 0.84 : strapW0;
  const lugLen = spec.caseShape === 'square' || spec.caseShape === 'tonneau' ? caseB * 0.1 : caseB * 0.2;
  const metal = spec.strapMaterial === 'metal';
  return {
    cx,
    cy,
    caseA,
    caseB,
    casePts,
    bezelPts,
    bezelInnerPts,
    dialKind,
    dialPts,
    dialA,
    dialB,
    dialR,
    strapW0,
    strapW1,
    lugLen,
    topY: metal ? 50 : 45,
    bottomY: metal ? 950 : 955,
  };
}
