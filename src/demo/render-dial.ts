/**
 * Paints the dial: texture, markers, subdials, date, logo, hands, crystal (internal).
 */
import { LIGHT_COLORS, METAL_COLORS, capLightness, shade, type ColorName } from './colors.js';
import { f, place, polyPath, rayRadius, type Pt } from './geometry.js';
import { linearGradient, metalStops, radialGradient, type SvgDoc } from './svg-kit.js';
import type { WatchLayout } from './watch-layout.js';
import type { WatchSpec } from './watch-spec.js';

const HANDS_HEX: Readonly<Record<string, string>> = {
  white: '#f2f2ee',
  black: '#17171a',
  blue: '#2140a8',
};

/** Dark ink on light dials, light ink on dark ones. */
function inkOn(color: ColorName): string {
  return LIGHT_COLORS.has(color) ? '#1c1c20' : '#ebebe6';
}

/** Paints the whole dial side, from dial plate to crystal reflection. */
export function paintDial(doc: SvgDoc, spec: WatchSpec, L: WatchLayout): void {
  const { cx, cy, dialR } = L;
  const dial = spec.dialColor as ColorName;
  const dialPath = polyPath(L.dialPts);
  const maxR = Math.max(L.dialA, L.dialB);
  doc.def(`<clipPath id="clip-dial"><path d="${dialPath}"/></clipPath>`);

  // Plate.
  const stops =
    spec.dialTexture === 'matte'
      ? ([[0, shade(dial, 0.06)], [0.75, shade(dial, 0)], [1, shade(dial, -0.2)]] as const)
      : ([[0, shade(dial, 0.22)], [0.55, shade(dial, 0.02)], [1, shade(dial, -0.32)]] as const);
  doc.def(radialGradient('g-dial', stops, cx, cy, maxR * 1.02, cx - maxR * 0.12, cy - maxR * 0.18));
  doc.add(`<path d="${dialPath}" fill="url(#g-dial)"/>`);
  if (spec.dialTexture === 'sunburst') {
    let light = '';
    let dark = '';
    const n = 48;
    for (let i = 0; i < n; i++) {
      const a0 = (i / n) * Math.PI * 2;
      const a1 = ((i + 0.5) / n) * Math.PI * 2;
      const wedge = `M${cx} ${cy}L${f(cx + maxR * 1.2 * Math.cos(a0))} ${f(cy + maxR * 1.2 * Math.sin(a0))}L${f(cx + maxR * 1.2 * Math.cos(a1))} ${f(cy + maxR * 1.2 * Math.sin(a1))}Z`;
      if (i % 2 === 0) light += wedge;
      else dark += wedge;
    }
    doc.add(
      `<g clip-path="url(#clip-dial)"><path d="${light}" fill="#fff" fill-opacity="0.06"/><path d="${dark}" fill="#000" fill-opacity="0.06"/></g>`,
    );
  } else if (spec.dialTexture === 'guilloche') {
    let rings = '';
    for (let r = 6; r < maxR * 1.2; r += 9) rings += `<circle cx="${cx}" cy="${cy}" r="${r}"/>`;
    doc.add(
      `<g clip-path="url(#clip-dial)" fill="none" stroke="${shade(dial, LIGHT_COLORS.has(dial) ? -0.12 : 0.12)}" stroke-width="3">${rings}</g>`,
    );
  }
  // Rehaut (inner flange shadow).
  doc.add(`<path d="${dialPath}" fill="none" stroke="${shade(dial, -0.55)}" stroke-width="5"/>`);

  const ink = inkOn(dial);
  const handsFill = paintHandsGradient(doc, spec);
  const skip = skippedHours(spec);

  if (spec.markers === 'index' || spec.markers === 'roman') paintMinuteTrack(doc, L, ink, skip);
  paintMarkers(doc, spec, L, handsFill, ink, skip);
  if (spec.hasSubdials) paintSubdials(doc, spec, L);
  if (spec.hasDate) paintDate(doc, spec, L, handsFill);
  paintLogo(doc, spec, L, ink, handsFill);
  paintHands(doc, spec, L, handsFill);

  // Crystal reflection.
  doc.def(linearGradient('g-glass', [[0, '#fff', 0.28], [0.55, '#fff', 0.04], [1, '#fff', 0]], 0, 0, 0.7, 1));
  doc.add(
    `<g clip-path="url(#clip-dial)"><ellipse cx="${f(cx - dialR * 0.3)}" cy="${f(cy - dialR * 0.55)}" rx="${f(maxR * 1.1)}" ry="${f(maxR * 0.72)}" transform="rotate(-28 ${f(cx - dialR * 0.3)} ${f(cy - dialR * 0.55)})" fill="url(#g-glass)"/></g>`,
  );
}

function paintHandsGradient(doc: SvgDoc, spec: WatchSpec): string {
  const c = spec.handsColor;
  if (METAL_COLORS.has(c)) {
    doc.def(linearGradient('g-hands', metalStops(c, 250), 0, 0, 1, 1));
    return 'url(#g-hands)';
  }
  const hex = HANDS_HEX[c] ?? '#888888';
  doc.def(linearGradient('g-hands', [[0, shade(hex, 0.25)], [0.5, hex], [1, shade(hex, -0.25)]], 0, 0, 1, 1));
  return 'url(#g-hands)';
}

/** Hours (1–12) whose markers are hidden by subdials or the date window. */
function skippedHours(spec: WatchSpec): Set<number> {
  const skip = new Set<number>();
  if (spec.hasSubdials) {
    skip.add(3);
    skip.add(9);
    skip.add(6);
  } else if (spec.hasDate) skip.add(3);
  return skip;
}

function hourAngle(h: number): number {
  return ((h % 12) / 12) * Math.PI * 2 - Math.PI / 2;
}

function paintMinuteTrack(doc: SvgDoc, L: WatchLayout, ink: string, skip: Set<number>): void {
  const { cx, cy } = L;
  let minor = '';
  for (let i = 0; i < 60; i++) {
    if (i % 5 === 0 && skip.has(i / 5 === 0 ? 12 : i / 5)) continue;
    const a = (i / 60) * Math.PI * 2 - Math.PI / 2;
    const r = rayRadius(L.dialPts, cx, cy, a);
    const len = i % 5 === 0 ? L.dialR * 0.06 : L.dialR * 0.035;
    const ro = r - L.dialR * 0.025;
    minor += `M${f(cx + ro * Math.cos(a))} ${f(cy + ro * Math.sin(a))}L${f(cx + (ro - len) * Math.cos(a))} ${f(cy + (ro - len) * Math.sin(a))}`;
  }
  doc.add(`<path d="${minor}" stroke="${ink}" stroke-opacity="0.85" stroke-width="2.5"/>`);
}

const ROMAN = ['XII', 'I', 'II', 'III', 'IIII', 'V', 'VI', 'VII', 'VIII', 'IX', 'X', 'XI'];

/** Stroke path of a roman numeral of height `h`, centred on the origin. */
function romanPath(text: string, h: number): string {
  const widths: Record<string, number> = { I: 0.16, V: 0.58, X: 0.58 };
  const gap = 0.12;
  let total = -gap;
  for (const ch of text) total += (widths[ch] ?? 0) + gap;
  let x = -total / 2;
  const y0 = -0.5;
  const y1 = 0.5;
  let d = '';
  const m = (px: number, py: number) => `M${f(px * h)} ${f(py * h)}`;
  const l = (px: number, py: number) => `L${f(px * h)} ${f(py * h)}`;
  for (const ch of text) {
    const w = widths[ch] ?? 0;
    if (ch === 'I') d += m(x + w / 2, y0) + l(x + w / 2, y1);
    else if (ch === 'V') d += m(x, y0) + l(x + w / 2, y1) + l(x + w, y0);
    else if (ch === 'X') d += m(x, y0) + l(x + w, y1) + m(x + w, y0) + l(x, y1);
    x += w + gap;
  }
  // Serif bars over the whole numeral.
  d += m(-total / 2 - 0.06, y0) + l(total / 2 + 0.06, y0) + m(-total / 2 - 0.06, y1) + l(total / 2 + 0.06, y1);
  return d;
}

function paintMarkers(doc: SvgDoc, spec: WatchSpec, L: WatchLayout, fill: string, ink: string, skip: Set<number>): void {
  const { cx, cy, dialR } = L;
  const edge = spec.handsColor === 'black' ? '#555555' : spec.handsColor === 'white' ? '#8a8a8a' : shade(spec.handsColor, -0.5);
  if (spec.markers === 'none') return;
  let applied = '';
  let lume = '';
  let roman = '';
  for (let h = 1; h <= 12; h++) {
    if (skip.has(h)) continue;
    const a = hourAngle(h);
    const r = rayRadius(L.dialPts, cx, cy, a);
    if (spec.markers === 'index') {
      const ro = r - dialR * 0.11;
      const len = dialR * (h % 3 === 0 ? 0.2 : 0.15);
      const w = dialR * 0.05;
      const offsets = h === 12 ? [-w * 0.75, w * 0.75] : [0];
      for (const o of offsets) {
        const pts: Pt[] = [
          [-len, o - w / 2],
          [0, o - w / 2],
          [0, o + w / 2],
          [-len, o + w / 2],
        ];
        applied += `<path d="${polyPath(place(pts, cx + ro * Math.cos(a), cy + ro * Math.sin(a), a))}"/>`;
        const lw = w * 0.4;
        const lp: Pt[] = [
          [-len * 0.85, o - lw / 2],
          [-len * 0.12, o - lw / 2],
          [-len * 0.12, o + lw / 2],
          [-len * 0.85, o + lw / 2],
        ];
        lume += `<path d="${polyPath(place(lp, cx + ro * Math.cos(a), cy + ro * Math.sin(a), a))}"/>`;
      }
    } else if (spec.markers === 'dots') {
      const rr = dialR * (h % 3 === 0 ? 0.062 : 0.045);
      const rc = r - dialR * 0.16;
      const x = cx + rc * Math.cos(a);
      const y = cy + rc * Math.sin(a);
      if (h === 12) {
        const pts: Pt[] = [
          [rr * 1.6, 0],
          [-rr * 1.3, -rr * 1.5],
          [-rr * 1.3, rr * 1.5],
        ];
        applied += `<path d="${polyPath(place(pts, x, y, a))}"/>`;
      } else applied += `<circle cx="${f(x)}" cy="${f(y)}" r="${f(rr)}"/>`;
    } else {
      const rc = r - dialR * 0.2;
      const x = cx + rc * Math.cos(a);
      const y = cy + rc * Math.sin(a);
      const deg = (a * 180) / Math.PI + 90;
      roman += `<path transform="translate(${f(x)} ${f(y)}) rotate(${f(deg)})" d="${romanPath(ROMAN[h % 12] as string, dialR * 0.15)}"/>`;
    }
  }
  if (applied) {
    const lumeDots = spec.markers === 'dots';
    doc.add(`<g fill="${lumeDots ? '#f1ead2' : fill}" stroke="${lumeDots ? ink : edge}" stroke-width="2.5">${applied}</g>`);
    if (lume && (spec.handsColor === 'silver' || spec.handsColor === 'gold')) doc.add(`<g fill="#efe8cf">${lume}</g>`);
  }
  if (roman) {
    const col = spec.handsColor === 'gold' ? shade('gold', -0.15) : ink;
    doc.add(`<g fill="none" stroke="${col}" stroke-width="${f(dialR * 0.022)}" stroke-linecap="square">${roman}</g>`);
  }
}

function paintSubdials(doc: SvgDoc, spec: WatchSpec, L: WatchLayout): void {
  const { cx, cy, dialR } = L;
  const col = spec.subdialColor as ColorName;
  const ink = inkOn(col);
  const r = dialR * 0.22;
  const d = Math.min(L.dialA, dialR) * 0.48;
  const centres: Pt[] = [
    [cx - d, cy],
    [cx + d, cy],
  ];
  if (!spec.hasDate) centres.push([cx, cy + dialR * 0.48]);
  const rim = shade(spec.handsColor === 'black' ? 'grey' : spec.handsColor, -0.1);
  centres.forEach(([x, y], i) => {
    doc.def(radialGradient(`g-sub${i}`, [[0, shade(col, 0.15)], [1, shade(col, -0.2)]], x, y, r));
    let rings = '';
    for (let k = 1; k <= 4; k++) rings += `<circle cx="${f(x)}" cy="${f(y)}" r="${f((r * k) / 4.6)}"/>`;
    let ticks = '';
    for (let t = 0; t < 12; t++) {
      const a = (t / 12) * Math.PI * 2;
      const len = t % 3 === 0 ? r * 0.25 : r * 0.14;
      ticks += `M${f(x + r * 0.92 * Math.cos(a))} ${f(y + r * 0.92 * Math.sin(a))}L${f(x + (r * 0.92 - len) * Math.cos(a))} ${f(y + (r * 0.92 - len) * Math.sin(a))}`;
    }
    const ha = ((spec.time.seconds * 7 + i * 130) % 360) * (Math.PI / 180);
    doc.add(
      `<circle cx="${f(x)}" cy="${f(y)}" r="${f(r)}" fill="url(#g-sub${i})" stroke="${rim}" stroke-width="3"/>` +
        `<g fill="none" stroke="${shade(col, LIGHT_COLORS.has(col) ? -0.1 : 0.1)}" stroke-width="2">${rings}</g>` +
        `<path d="${ticks}" stroke="${ink}" stroke-width="2.5"/>` +
        `<path d="M${f(x)} ${f(y)}L${f(x + r * 0.8 * Math.cos(ha))} ${f(y + r * 0.8 * Math.sin(ha))}" stroke="${ink}" stroke-width="3.5" stroke-linecap="round"/>` +
        `<circle cx="${f(x)}" cy="${f(y)}" r="4" fill="${ink}"/>`,
    );
  });
}

const SEGMENTS: Readonly<Record<string, string>> = {
  '0': 'abcdef',
  '1': 'bc',
  '2': 'abged',
  '3': 'abgcd',
  '4': 'fgbc',
  '5': 'afgcd',
  '6': 'afgedc',
  '7': 'abc',
  '8': 'abcdefg',
  '9': 'abcdfg',
};

function digitPath(digit: string, x: number, y: number, w: number, h: number): string {
  const seg: Record<string, [number, number, number, number]> = {
    a: [0, 0, 1, 0],
    b: [1, 0, 1, 0.5],
    c: [1, 0.5, 1, 1],
    d: [0, 1, 1, 1],
    e: [0, 0.5, 0, 1],
    f: [0, 0, 0, 0.5],
    g: [0, 0.5, 1, 0.5],
  };
  let d = '';
  for (const s of SEGMENTS[digit] ?? '') {
    const [x0, y0, x1, y1] = seg[s] as [number, number, number, number];
    d += `M${f(x + x0 * w)} ${f(y + y0 * h)}L${f(x + x1 * w)} ${f(y + y1 * h)}`;
  }
  return d;
}

function paintDate(doc: SvgDoc, spec: WatchSpec, L: WatchLayout, frame: string): void {
  const { cx, cy, dialR } = L;
  const w = dialR * 0.2;
  const h = dialR * 0.14;
  const [x, y] = spec.hasSubdials ? [cx, cy + dialR * 0.56] : [cx + Math.min(L.dialA, dialR) * 0.66, cy];
  const day = String(((spec.time.minutes * 7 + spec.time.seconds) % 31) + 1).padStart(2, '0');
  const dw = w * 0.24;
  const dh = h * 0.6;
  const path = digitPath(day[0] as string, x - dw - w * 0.06, y - dh / 2, dw, dh) + digitPath(day[1] as string, x + w * 0.06, y - dh / 2, dw, dh);
  doc.add(
    `<rect x="${f(x - w / 2)}" y="${f(y - h / 2)}" width="${f(w)}" height="${f(h)}" rx="2" fill="#f3f1ea" stroke="${frame}" stroke-width="4"/>` +
      `<path d="${path}" stroke="#1d1d1d" stroke-width="${f(h * 0.1)}" stroke-linecap="round"/>`,
  );
}

function paintLogo(doc: SvgDoc, spec: WatchSpec, L: WatchLayout, ink: string, fill: string): void {
  const { cx, cy, dialR } = L;
  const s = dialR * 0.09;
  const y = cy - dialR * 0.5;
  switch (spec.logo) {
    case 'crown':
      doc.add(
        `<path d="M${f(cx - s)} ${f(y + s * 0.5)}L${f(cx - s)} ${f(y - s * 0.5)}L${f(cx - s * 0.5)} ${f(y)}L${f(cx)} ${f(y - s * 0.7)}L${f(cx + s * 0.5)} ${f(y)}L${f(cx + s)} ${f(y - s * 0.5)}L${f(cx + s)} ${f(y + s * 0.5)}Z" fill="${fill}" stroke="${ink}" stroke-width="1.5"/>`,
      );
      break;
    case 'star': {
      const pts: Pt[] = [];
      for (let i = 0; i < 10; i++) {
        const a = -Math.PI / 2 + (i * Math.PI) / 5;
        const r = i % 2 === 0 ? s * 0.85 : s * 0.36;
        pts.push([cx + r * Math.cos(a), y + r * Math.sin(a)]);
      }
      doc.add(`<path d="${polyPath(pts)}" fill="${fill}" stroke="${ink}" stroke-width="1.5"/>`);
      break;
    }
    case 'shield':
      doc.add(
        `<path d="M${f(cx - s * 0.7)} ${f(y - s * 0.7)}H${f(cx + s * 0.7)}V${f(y)}Q${f(cx + s * 0.7)} ${f(y + s * 0.6)} ${f(cx)} ${f(y + s * 0.85)}Q${f(cx - s * 0.7)} ${f(y + s * 0.6)} ${f(cx - s * 0.7)} ${f(y)}Z" fill="${fill}" stroke="${ink}" stroke-width="1.5"/>`,
      );
      break;
    case 'wordmark':
    case 'none':
      break;
  }
  if (spec.logo === 'none') return;
  // Fake lettering: a brand line under the logo and a small line above 6.
  paintLettering(doc, cx, cy - dialR * 0.33, dialR * 0.055, 7, ink, spec.time.seconds);
  if (!spec.hasSubdials) paintLettering(doc, cx, cy + dialR * (spec.markers === 'none' ? 0.42 : 0.34), dialR * 0.035, 9, ink, spec.time.minutes);
}

function paintLettering(doc: SvgDoc, cx: number, cy: number, h: number, n: number, ink: string, seed: number): void {
  const widths: number[] = [];
  for (let i = 0; i < n; i++) widths.push(0.45 + (((seed + 1) * (i + 3) * 37) % 7) / 14);
  const gap = 0.22;
  const total = widths.reduce((a, b) => a + b, 0) + gap * (n - 1);
  let x = cx - (total * h) / 2;
  let d = '';
  for (const w of widths) {
    d += `M${f(x)} ${f(cy - h / 2)}h${f(w * h)}v${f(h)}h${f(-w * h)}Z`;
    x += (w + gap) * h;
  }
  doc.add(`<path d="${d}" fill="${ink}" fill-opacity="0.85"/>`);
}

function handShape(style: WatchSpec['handStyle'], len: number, w: number): Pt[] {
  switch (style) {
    case 'baton':
      return [
        [-len * 0.14, -w / 2],
        [len, -w / 2],
        [len, w / 2],
        [-len * 0.14, w / 2],
      ];
    case 'sword':
      return [
        [-len * 0.14, -w * 0.35],
        [len * 0.2, -w * 0.62],
        [len * 0.84, -w * 0.5],
        [len, 0],
        [len * 0.84, w * 0.5],
        [len * 0.2, w * 0.62],
        [-len * 0.14, w * 0.35],
      ];
    case 'dauphine':
      return [
        [-len * 0.1, -w * 0.28],
        [len * 0.12, -w * 0.7],
        [len, 0],
        [len * 0.12, w * 0.7],
        [-len * 0.1, w * 0.28],
      ];
  }
}

function paintHands(doc: SvgDoc, spec: WatchSpec, L: WatchLayout, fill: string): void {
  const { cx, cy, dialR } = L;
  const { hours, minutes, seconds } = spec.time;
  const hourA = (((hours % 12) + minutes / 60) / 12) * Math.PI * 2 - Math.PI / 2;
  const minA = ((minutes + seconds / 60) / 60) * Math.PI * 2 - Math.PI / 2;
  const secA = (seconds / 60) * Math.PI * 2 - Math.PI / 2;
  const hourPts = place(handShape(spec.handStyle, dialR * 0.56, dialR * 0.085), cx, cy, hourA);
  const minPts = place(handShape(spec.handStyle, dialR * 0.84, dialR * 0.065), cx, cy, minA);
  const secLocal: Pt[] = [
    [-dialR * 0.22, -2.5],
    [dialR * 0.9, -1.5],
    [dialR * 0.9, 1.5],
    [-dialR * 0.22, 2.5],
  ];
  const secPts = place(secLocal, cx, cy, secA);
  const shadowOf = (pts: Pt[]) => polyPath(pts.map(([x, y]) => [x + 5, y + 8] as Pt));
  doc.add(
    `<g fill="#000" fill-opacity="0.28">` +
      `<path d="${shadowOf(hourPts)}"/><path d="${shadowOf(minPts)}"/><path d="${shadowOf(secPts)}"/></g>`,
  );
  const edge = spec.handsColor === 'black' ? '#000000' : shade(spec.handsColor === 'white' ? '#9a9a9a' : spec.handsColor, -0.55);
  const lume = spec.handStyle !== 'dauphine' && spec.handsColor !== 'white' && spec.markers !== 'roman';
  for (const [pts, len, w, a] of [
    [hourPts, dialR * 0.56, dialR * 0.085, hourA],
    [minPts, dialR * 0.84, dialR * 0.065, minA],
  ] as const) {
    doc.add(`<path d="${polyPath(pts)}" fill="${fill}" stroke="${edge}" stroke-width="2"/>`);
    if (spec.handStyle === 'dauphine') {
      // Two-facet look: darken one half.
      const half = handShape('dauphine', len, w).filter(([, y]) => y >= 0);
      half.unshift([-len * 0.1, 0]);
      doc.add(`<path d="${polyPath(place(half, cx, cy, a))}" fill="#000" fill-opacity="0.22"/>`);
    } else if (lume) {
      const lp: Pt[] = [
        [len * 0.25, -w * 0.22],
        [len * 0.82, -w * 0.18],
        [len * 0.82, w * 0.18],
        [len * 0.25, w * 0.22],
      ];
      doc.add(`<path d="${polyPath(place(lp, cx, cy, a))}" fill="#eee7cc"/>`);
    }
  }
  const sec = capLightness(shade(spec.secondsColor, 0), 250);
  doc.add(`<path d="${polyPath(secPts)}" fill="${sec}"/>`);
  doc.add(`<circle cx="${f(cx - dialR * 0.17 * Math.cos(secA))}" cy="${f(cy - dialR * 0.17 * Math.sin(secA))}" r="${f(dialR * 0.035)}" fill="${sec}"/>`);
  doc.add(`<circle cx="${cx}" cy="${cy}" r="${f(dialR * 0.05)}" fill="${fill}" stroke="${edge}" stroke-width="2"/>`);
  doc.add(`<circle cx="${cx}" cy="${cy}" r="${f(dialR * 0.022)}" fill="${sec}"/>`);
}
