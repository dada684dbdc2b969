/**
 * Paints the case, crown, pushers and bezel (internal).
 */
import { capLightness, shade, type ColorName } from './colors.js';
import { f, place, polyPath, rad, rayRadius, type Pt } from './geometry.js';
import { linearGradient, metalStops, radialGradient, type SvgDoc } from './svg-kit.js';
import type { WatchLayout } from './watch-layout.js';
import type { WatchSpec } from './watch-spec.js';

const OUTER_CAP = 226;

/** Paints crown and pushers (they stick out of the case, so go first). */
export function paintCrown(doc: SvgDoc, spec: WatchSpec, L: WatchLayout): void {
  const { cx, cy } = L;
  const edge = shade(spec.caseColor, -0.65);
  doc.def(linearGradient('g-crown', metalStops(spec.caseColor, OUTER_CAP), 0, 0, 0, 1));
  const rx = rayRadius(L.casePts, cx, cy, 0);
  const big = spec.bezel === 'diver';
  const h = big ? 62 : 50;
  const w = big ? 34 : 28;
  const x0 = cx + rx - 6;
  // Tube, then the knurled crown.
  doc.add(`<rect x="${f(x0)}" y="${f(cy - h * 0.28)}" width="14" height="${f(h * 0.56)}" fill="url(#g-crown)" stroke="${edge}" stroke-width="2.5"/>`);
  doc.add(`<rect x="${f(x0 + 10)}" y="${f(cy - h / 2)}" width="${w}" height="${h}" rx="7" fill="url(#g-crown)" stroke="${edge}" stroke-width="3"/>`);
  let grooves = '';
  for (let x = x0 + 16; x < x0 + 8 + w; x += 6) grooves += `M${f(x)} ${f(cy - h / 2 + 5)}V${f(cy + h / 2 - 5)}`;
  doc.add(`<path d="${grooves}" stroke="${shade(spec.caseColor, -0.45)}" stroke-width="2"/>`);
  if (big) {
    // Crown guards.
    for (const s of [-1, 1]) {
      const pts: Pt[] = [
        [-4, s * (h / 2 + 2)],
        [18, s * (h / 2 + 4)],
        [20, s * (h / 2 + 22)],
        [-4, s * (h / 2 + 30)],
      ];
      doc.add(`<path d="${polyPath(place(pts, cx + rx - 2, cy, 0))}" fill="url(#g-crown)" stroke="${edge}" stroke-width="2.5"/>`);
    }
  }
  if (spec.hasSubdials) {
    const squareish = spec.caseShape === 'square' || spec.caseShape === 'tonneau';
    for (const deg of squareish ? [-26, 26] : [-38, 38]) {
      const a = rad(deg);
      const r = rayRadius(L.casePts, cx, cy, a) - 6;
      const pts: Pt[] = [
        [0, -13],
        [34, -13],
        [34, 13],
        [0, 13],
      ];
      // Radial on rounded cases, horizontal on square-ish ones.
      const dir = squareish ? 0 : a;
      const p = place(pts, cx + r * Math.cos(a) - 8 * Math.cos(dir), cy + r * Math.sin(a), dir);
      doc.add(`<path d="${polyPath(p)}" fill="url(#g-crown)" stroke="${edge}" stroke-width="3"/>`);
    }
  }
}

/** Paints the case body and the bezel ring. */
export function paintCase(doc: SvgDoc, spec: WatchSpec, L: WatchLayout): void {
  const { cx, cy } = L;
  const metal = spec.caseColor;
  const edge = shade(metal, -0.65);
  doc.def(linearGradient('g-case', metalStops(metal, OUTER_CAP), 0, 0, 1, 1));
  doc.def(linearGradient('g-bezel', metalStops(metal, 245, 0.9), 1, 0, 0, 1));
  doc.add(`<path d="${polyPath(L.casePts)}" fill="url(#g-case)" stroke="${edge}" stroke-width="3.5"/>`);
  // A thin polished chamfer just inside the edge.
  doc.add(`<path d="${polyPath(shrink(L.casePts, cx, cy, 0.965))}" fill="none" stroke="${capLightness(shade(metal, 0.45), 240)}" stroke-opacity="0.55" stroke-width="4"/>`);

  const bezelPath = polyPath(L.bezelPts);
  const innerPath = polyPath(L.bezelInnerPts);
  switch (spec.bezel) {
    case 'none':
      break;
    case 'plain':
      doc.add(`<path d="${bezelPath}" fill="url(#g-bezel)" stroke="${edge}" stroke-width="2"/>`);
      if (spec.caseShape === 'octagon') paintScrews(doc, spec, L);
      break;
    case 'fluted': {
      doc.add(`<path d="${bezelPath}" fill="url(#g-bezel)" stroke="${edge}" stroke-width="2"/>`);
      let dark = '';
      let light = '';
      for (let i = 0; i < 72; i++) {
        const a = (i / 72) * Math.PI * 2;
        const r0 = rayRadius(L.bezelPts, cx, cy, a) - 2;
        const r1 = rayRadius(L.bezelInnerPts, cx, cy, a) + 2;
        const seg = `M${f(cx + r0 * Math.cos(a))} ${f(cy + r0 * Math.sin(a))}L${f(cx + r1 * Math.cos(a))} ${f(cy + r1 * Math.sin(a))}`;
        if (i % 2 === 0) dark += seg;
        else light += seg;
      }
      doc.add(`<path d="${dark}" stroke="${shade(metal, -0.5)}" stroke-width="4"/>`);
      doc.add(`<path d="${light}" stroke="${capLightness(shade(metal, 0.5), 245)}" stroke-width="3"/>`);
      break;
    }
    case 'diver':
    case 'tachymeter':
      paintInsert(doc, spec, L, bezelPath, innerPath);
      break;
  }
}

function shrink(pts: readonly Pt[], cx: number, cy: number, s: number): Pt[] {
  return pts.map(([x, y]) => [cx + (x - cx) * s, cy + (y - cy) * s] as Pt);
}

function paintScrews(doc: SvgDoc, spec: WatchSpec, L: WatchLayout): void {
  const { cx, cy } = L;
  let screws = '';
  let slots = '';
  for (let i = 0; i < 8; i++) {
    const a = Math.PI / 8 + (i * Math.PI) / 4;
    const r = (rayRadius(L.bezelPts, cx, cy, a) + rayRadius(L.bezelInnerPts, cx, cy, a)) / 2;
    const x = cx + r * Math.cos(a);
    const y = cy + r * Math.sin(a);
    screws += `<circle cx="${f(x)}" cy="${f(y)}" r="7.5"/>`;
    const s = a + 0.6;
    slots += `M${f(x - 6 * Math.cos(s))} ${f(y - 6 * Math.sin(s))}L${f(x + 6 * Math.cos(s))} ${f(y + 6 * Math.sin(s))}`;
  }
  doc.add(`<g fill="${capLightness(shade(spec.caseColor, 0.25), 235)}" stroke="${shade(spec.caseColor, -0.5)}" stroke-width="2">${screws}</g>`);
  doc.add(`<path d="${slots}" stroke="${shade(spec.caseColor, -0.6)}" stroke-width="2.5"/>`);
}

function paintInsert(doc: SvgDoc, spec: WatchSpec, L: WatchLayout, outer: string, inner: string): void {
  const { cx, cy } = L;
  const col = spec.bezelColor as ColorName;
  const R = rayRadius(L.bezelPts, cx, cy, -Math.PI / 2);
  doc.def(
    radialGradient('g-insert', [[0.7, shade(col, -0.25)], [0.86, shade(col, 0.12)], [1, shade(col, -0.35)]], cx, cy, R, cx - R * 0.2, cy - R * 0.25),
  );
  doc.add(`<path d="${outer}" fill="url(#g-bezel)" stroke="${shade(spec.caseColor, -0.65)}" stroke-width="2"/>`);
  const ring = polyPath(shrink(L.bezelPts, cx, cy, 0.97));
  doc.add(`<path d="${ring} ${inner}" fill-rule="evenodd" fill="url(#g-insert)"/>`);
  const ink = col === 'black' || col === 'navy' ? '#e6e6e2' : '#f0efe9';
  let thin = '';
  let thick = '';
  const ticks = spec.bezel === 'diver' ? 60 : 120;
  for (let i = 0; i < ticks; i++) {
    const a = -Math.PI / 2 + (i / ticks) * Math.PI * 2;
    const ro = rayRadius(L.bezelPts, cx, cy, a) * 0.945;
    const ri = rayRadius(L.bezelInnerPts, cx, cy, a);
    const span = ro - ri;
    let len: number;
    let major = false;
    if (spec.bezel === 'diver') {
      if (i === 0) continue;
      major = i % 5 === 0;
      len = major ? span * 0.55 : i < 15 ? span * 0.3 : 0;
    } else {
      major = i % 10 === 0;
      len = major ? span * 0.5 : i % 2 === 0 ? span * 0.28 : span * 0.16;
    }
    if (len <= 0) continue;
    const seg = `M${f(cx + ro * Math.cos(a))} ${f(cy + ro * Math.sin(a))}L${f(cx + (ro - len) * Math.cos(a))} ${f(cy + (ro - len) * Math.sin(a))}`;
    if (major) thick += seg;
    else thin += seg;
  }
  doc.add(`<path d="${thin}" stroke="${ink}" stroke-width="2.5"/>`);
  doc.add(`<path d="${thick}" stroke="${ink}" stroke-width="${spec.bezel === 'diver' ? 8 : 4}"/>`);
  if (spec.bezel === 'diver') {
    // Lume pip in a triangle at 12.
    const ro = rayRadius(L.bezelPts, cx, cy, -Math.PI / 2) * 0.94;
    const ri = rayRadius(L.bezelInnerPts, cx, cy, -Math.PI / 2) + 4;
    const hw = (ro - ri) * 0.55;
    doc.add(`<path d="M${f(cx - hw)} ${f(cy - ro)}L${f(cx + hw)} ${f(cy - ro)}L${f(cx)} ${f(cy - ri)}Z" fill="${ink}"/>`);
    doc.add(`<circle cx="${f(cx)}" cy="${f(cy - ro + hw * 0.55)}" r="${f(hw * 0.32)}" fill="#9fe0b0"/>`);
  }
}
