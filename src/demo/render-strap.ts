/**
 * Paints straps and bracelets, buckles and lugs (internal).
 */
import { capLightness, shade, type ColorName } from './colors.js';
import { f } from './geometry.js';
import { linearGradient, metalStops, type SvgDoc } from './svg-kit.js';
import type { WatchLayout } from './watch-layout.js';
import type { WatchSpec } from './watch-spec.js';

/** Brightest channel allowed on parts touching the white background. */
const OUTER_CAP = 226;

function strapPath(cx: number, yS: number, yE: number, w0: number, w1: number, tip: 'square' | 'round'): string {
  const l0 = cx - w0 / 2;
  const r0 = cx + w0 / 2;
  const l1 = cx - w1 / 2;
  const r1 = cx + w1 / 2;
  if (tip === 'square') return `M${f(l0)} ${f(yS)}L${f(l1)} ${f(yE)}L${f(r1)} ${f(yE)}L${f(r0)} ${f(yS)}Z`;
  const dir = Math.sign(yE - yS);
  const yT = yE - dir * w1 * 0.55;
  const yC = yE - dir * w1 * 0.08;
  return (
    `M${f(l0)} ${f(yS)}L${f(l1)} ${f(yT)}C${f(l1)} ${f(yC)} ${f(cx - w1 * 0.28)} ${f(yE)} ${f(cx)} ${f(yE)}` +
    `C${f(cx + w1 * 0.28)} ${f(yE)} ${f(r1)} ${f(yC)} ${f(r1)} ${f(yT)}L${f(r0)} ${f(yS)}Z`
  );
}

function outlineColor(color: ColorName | string): string {
  return shade(color, -0.65);
}

/** Paints the strap (or bracelet) with its buckle, behind the case. */
export function paintStrap(doc: SvgDoc, spec: WatchSpec, L: WatchLayout): void {
  if (spec.strapMaterial === 'metal') {
    paintBracelet(doc, spec, L);
    return;
  }
  const { cx, cy, strapW0: w0, strapW1: w1, topY, bottomY } = L;
  const color = spec.strapColor as ColorName;
  const caseTop = cy - L.caseB - L.lugLen;
  const caseBottom = cy + L.caseB + L.lugLen;
  const edge = outlineColor(color);
  const c = (a: number) => capLightness(shade(color, a), OUTER_CAP);

  const leatherStops = [
    [0, c(-0.5)],
    [0.09, c(-0.12)],
    [0.38, c(0.12)],
    [0.66, c(0.02)],
    [0.9, c(-0.15)],
    [1, c(-0.5)],
  ] as const;
  const rubberStops = [
    [0, c(-0.55)],
    [0.14, c(-0.08)],
    [0.32, c(0.28)],
    [0.45, c(0.02)],
    [0.86, c(-0.12)],
    [1, c(-0.55)],
  ] as const;
  doc.def(linearGradient('g-strap', spec.strapMaterial === 'rubber' ? rubberStops : leatherStops));
  doc.def(linearGradient('g-strap-shade', [[0, '#000', 0.45], [0.14, '#000', 0], [0.86, '#000', 0], [1, '#000', 0.45]]));
  doc.def(
    `<linearGradient id="g-ao-top" gradientUnits="userSpaceOnUse" x1="0" y1="${f(caseTop - 90)}" x2="0" y2="${f(caseTop + 10)}">` +
      `<stop offset="0" stop-color="#000" stop-opacity="0"/><stop offset="1" stop-color="#000" stop-opacity="0.45"/></linearGradient>`,
  );
  doc.def(
    `<linearGradient id="g-ao-bottom" gradientUnits="userSpaceOnUse" x1="0" y1="${f(caseBottom + 90)}" x2="0" y2="${f(caseBottom - 10)}">` +
      `<stop offset="0" stop-color="#000" stop-opacity="0"/><stop offset="1" stop-color="#000" stop-opacity="0.45"/></linearGradient>`,
  );
  doc.def(linearGradient('g-buckle', metalStops(spec.caseColor, OUTER_CAP)));

  const buckleEnd = topY + 58; // the strap end hidden inside the buckle
  const nato = spec.strapMaterial === 'nato';
  const stroke = `stroke="${edge}" stroke-width="3"`;

  // Buckle interior (seen through the frame) goes behind the strap.
  const bw = (nato ? w0 : w1) / 2 + 17;
  doc.add(`<rect x="${f(cx - bw)}" y="${f(topY)}" width="${f(2 * bw)}" height="72" rx="20" fill="${c(-0.6)}"/>`);

  if (nato) {
    const p = strapPath(cx, buckleEnd, bottomY, w0, w0, 'round');
    doc.add(`<path d="${p}" fill="${c(0)}" ${stroke}/>`);
    const stripe = capLightness(shade(spec.strapAccentColor as ColorName, 0), OUTER_CAP);
    const yT = bottomY - w0 * 0.55;
    for (const s of [-1, 1]) {
      const x = cx + s * w0 * 0.17 - w0 * 0.05;
      doc.add(`<rect x="${f(x)}" y="${f(buckleEnd)}" width="${f(w0 * 0.1)}" height="${f(yT - buckleEnd)}" fill="${stripe}"/>`);
    }
    let weave = '';
    for (let y = buckleEnd + 4; y < yT; y += 7) weave += `M${f(cx - w0 / 2 + 2)} ${f(y)}h${f(w0 - 4)}`;
    doc.add(`<path d="${weave}" stroke="#000" stroke-opacity="0.1" stroke-width="2"/>`);
    doc.add(`<path d="${p}" fill="url(#g-strap-shade)"/>`);
    doc.add(`<path d="${p}" fill="url(#g-ao-top)"/><path d="${p}" fill="url(#g-ao-bottom)"/>`);
    paintHoles(doc, cx, bottomY - w0 * 0.75, 4, 34, c(-0.75), c(0.2));
    for (const y of [bottomY - 250, bottomY - 205]) {
      doc.add(
        `<rect x="${f(cx - w0 / 2 - 7)}" y="${f(y)}" width="${f(w0 + 14)}" height="16" rx="6" fill="url(#g-buckle)" stroke="${outlineColor(spec.caseColor)}" stroke-width="2.5"/>`,
      );
    }
  } else {
    const widthAt = (t: number) => w0 + (w1 - w0) * t;
    const top = strapPath(cx, cy, buckleEnd, w0, w1, 'square');
    const bottom = strapPath(cx, cy, bottomY, w0, w1, 'round');
    for (const p of [top, bottom]) {
      doc.add(`<path d="${p}" fill="url(#g-strap)" ${stroke}/>`);
    }
    doc.add(`<path d="${top}" fill="url(#g-ao-top)"/><path d="${bottom}" fill="url(#g-ao-bottom)"/>`);
    if (spec.strapMaterial === 'leather' && spec.stitching !== 'none') {
      const thread =
        spec.stitching === 'contrast'
          ? capLightness(shade(spec.strapAccentColor as ColorName, 0.1), 215)
          : capLightness(shade(color, 0.3), 215);
      const i = 11;
      const dash = `fill="none" stroke="${thread}" stroke-width="3" stroke-dasharray="11 7"`;
      doc.add(`<path d="${strapPath(cx, cy, buckleEnd - 20, w0 - 2 * i, w1 - 2 * i, 'square')}" ${dash}/>`);
      doc.add(`<path d="${strapPath(cx, cy, bottomY - i, w0 - 2 * i, w1 - 2 * i, 'round')}" ${dash}/>`);
    }
    if (spec.strapMaterial === 'rubber') {
      let ribs = '';
      for (const [y0, dir] of [[caseTop, -1], [caseBottom, 1]] as const) {
        for (let k = 1; k <= 4; k++) {
          const y = y0 + dir * k * 16;
          const w = widthAt(Math.abs(y - cy) / Math.abs(bottomY - cy)) * 0.7;
          ribs += `M${f(cx - w / 2)} ${f(y)}h${f(w)}`;
        }
      }
      doc.add(`<path d="${ribs}" stroke="${c(-0.45)}" stroke-width="5" stroke-linecap="round"/>`);
    }
    paintHoles(doc, cx, bottomY - w1 * 0.9, 5, 32, c(-0.8), c(0.18));
    // Keeper loop on the buckle side.
    const ky = buckleEnd + 36;
    const kw = widthAt(Math.abs(ky - cy) / Math.abs(bottomY - cy)) + 8;
    doc.add(`<rect x="${f(cx - kw / 2)}" y="${f(ky)}" width="${f(kw)}" height="20" rx="5" fill="url(#g-strap)" ${stroke}/>`);
    doc.add(`<rect x="${f(cx - kw / 2)}" y="${f(ky)}" width="${f(kw)}" height="20" rx="5" fill="#000" fill-opacity="0.18"/>`);
  }

  // Buckle frame (even-odd ring) and prong.
  const inner = bw - 13;
  const frame =
    `M${f(cx - bw)} ${f(topY + 20)}Q${f(cx - bw)} ${f(topY)} ${f(cx - bw + 20)} ${f(topY)}H${f(cx + bw - 20)}` +
    `Q${f(cx + bw)} ${f(topY)} ${f(cx + bw)} ${f(topY + 20)}V${f(topY + 72)}H${f(cx - bw)}Z` +
    `M${f(cx - inner)} ${f(topY + 13)}V${f(topY + 58)}H${f(cx + inner)}V${f(topY + 13)}Z`;
  doc.add(`<path d="${frame}" fill-rule="evenodd" fill="url(#g-buckle)" stroke="${outlineColor(spec.caseColor)}" stroke-width="2.5"/>`);
  doc.add(
    `<rect x="${f(cx - 5)}" y="${f(topY + 6)}" width="10" height="70" rx="4" fill="url(#g-buckle)" stroke="${outlineColor(spec.caseColor)}" stroke-width="2"/>`,
  );
}

function paintHoles(doc: SvgDoc, cx: number, yStart: number, n: number, step: number, dark: string, rim: string): void {
  let holes = '';
  let rims = '';
  for (let k = 0; k < n; k++) {
    const y = yStart - k * step;
    holes += `<ellipse cx="${f(cx)}" cy="${f(y)}" rx="7" ry="6.5"/>`;
    rims += `M${f(cx - 7)} ${f(y + 2)}A7 6.5 0 0 0 ${f(cx + 7)} ${f(y + 2)}`;
  }
  doc.add(`<g fill="${dark}">${holes}</g>`);
  doc.add(`<path d="${rims}" fill="none" stroke="${rim}" stroke-width="2"/>`);
}

function paintBracelet(doc: SvgDoc, spec: WatchSpec, L: WatchLayout): void {
  const { cx, cy, strapW0: w0, strapW1: w1, topY, bottomY } = L;
  const color = spec.strapColor as ColorName;
  const c = (a: number) => capLightness(shade(color, a), OUTER_CAP);
  doc.def(linearGradient('g-link-brushed', [[0, c(-0.35)], [0.3, c(0.05)], [0.7, c(0.18)], [1, c(-0.3)]]));
  doc.def(linearGradient('g-link-polished', [[0, c(0.45)], [0.35, c(0.12)], [0.75, c(-0.2)], [1, c(-0.45)]], 0, 0, 0.15, 1));
  doc.def(linearGradient('g-bracelet-shade', [[0, '#000', 0.35], [0.2, '#000', 0], [0.8, '#000', 0], [1, '#000', 0.35]]));
  const rowH = 40;
  const gap = 3;
  const span = (yEnd: number) => {
    const dir = Math.sign(yEnd - cy);
    const start = cy + dir * (L.caseB * 0.7);
    const rows = Math.floor(Math.abs(yEnd - start) / rowH);
    // Dark backing shows between the links.
    const back = strapPath(cx, cy, start + dir * rows * rowH, w0, w0 + (w1 - w0) * 0.95, 'square');
    doc.add(`<path d="${back}" fill="${shade(color, -0.7)}" stroke="${outlineColor(color)}" stroke-width="3"/>`);
    let brushed = '';
    let polished = '';
    for (let r = 0; r < rows; r++) {
      const y0 = start + dir * r * rowH;
      const y1 = y0 + dir * (rowH - gap);
      const t = (r + 0.5) / rows;
      const w = w0 + (w1 - w0) * t - 4;
      const top = Math.min(y0, y1);
      const outerW = w * 0.3;
      const centreW = w - 2 * outerW - 2 * gap;
      const xL = cx - w / 2;
      brushed += `<rect x="${f(xL)}" y="${f(top)}" width="${f(outerW)}" height="${f(rowH - gap)}" rx="4"/>`;
      brushed += `<rect x="${f(cx + w / 2 - outerW)}" y="${f(top)}" width="${f(outerW)}" height="${f(rowH - gap)}" rx="4"/>`;
      polished += `<rect x="${f(cx - centreW / 2)}" y="${f(top)}" width="${f(centreW)}" height="${f(rowH - gap)}" rx="7"/>`;
    }
    doc.add(`<g fill="url(#g-link-brushed)">${brushed}</g>`);
    doc.add(`<g fill="url(#g-link-polished)">${polished}</g>`);
    doc.add(`<path d="${back}" fill="url(#g-bracelet-shade)"/>`);
  };
  span(topY);
  span(bottomY);
}

/** Paints the four lugs that hold the strap (behind the case, over the strap). */
export function paintLugs(doc: SvgDoc, spec: WatchSpec, L: WatchLayout): void {
  const { cx, cy, caseB, lugLen, strapW0 } = L;
  doc.def(linearGradient('g-lug', metalStops(spec.caseColor, OUTER_CAP), 0, 0, 1, 0.2));
  const lugW = Math.max(22, L.caseA * 0.13);
  const edge = outlineColor(spec.caseColor);
  let rects = '';
  for (const sx of [-1, 1]) {
    const x = cx + sx * (strapW0 / 2 + 2 + lugW / 2) - lugW / 2;
    for (const sy of [-1, 1]) {
      const yOuter = cy + sy * (caseB + lugLen);
      const yInner = cy + sy * caseB * 0.6;
      rects += `<rect x="${f(x)}" y="${f(Math.min(yOuter, yInner))}" width="${f(lugW)}" height="${f(Math.abs(yOuter - yInner))}" rx="9"/>`;
    }
  }
  doc.add(`<g fill="url(#g-lug)" stroke="${edge}" stroke-width="3">${rects}</g>`);
}
