import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import sharp from 'sharp';
import { CATALOG_VIEW_ASSETS } from '../../src/engine/index.js';
import { createPhotoSimulator, loadSimulationAssets, photosOf } from '../../src/simulate/index.js';
import { mulberry32, type Rng } from '../../src/simulate/random.js';

/** Options of {@link makePrintBenchmark}. */
export interface PrintBenchmarkOptions {
  /** Folder to write catalog.csv, queries.csv, catalog/ and photos/ into. */
  outDir: string;
  /** Brands: one shape, palette and brand word each. Default 60. */
  families?: number;
  /** Products per brand. Default 5. */
  perFamily?: number;
  /** Simulated photos per item. Default 1. */
  queriesPerItem?: number;
  seed?: number;
  onProgress?: (stage: 'catalog' | 'queries', done: number, total: number) => void;
}

/**
 * Writes a synthetic benchmark of generic packaged goods with printed text, in the shared csv format
 * (catalog.csv `item_id,top_category,image`, queries.csv `image,item_id,top_category`): training data
 * for a reranker that weighs embedding cosine, colour similarity and OCR text similarity, never a
 * measure of real photos.
 *
 * A family is a brand: one shape (box, can, bottle, pouch, jar), one palette and a large brand word;
 * its items differ by a product line (a pseudo-word, sometimes a size such as "250 g") and an accent
 * band colour or a small icon. Some families reuse another's palette (and sometimes its shape), so
 * that only the print tells them apart; about 15% print nothing (top_category `plain`) and differ by
 * accent and icon alone. Queries are simulated phone photos (src/simulate, drawn assets), seeds apart
 * from the catalog views'. Deterministic for a seed.
 */
export async function makePrintBenchmark(o: PrintBenchmarkOptions): Promise<{ catalogCsv: string; queriesCsv: string }> {
  const families = o.families ?? 60;
  const perFamily = o.perFamily ?? 5;
  const queriesPerItem = o.queriesPerItem ?? 1;
  const seed = o.seed ?? 1;
  await fs.mkdir(path.join(o.outDir, 'catalog'), { recursive: true });
  await fs.mkdir(path.join(o.outDir, 'photos'), { recursive: true });

  const items = designItems(families, perFamily, seed);
  const measure = textMeasurer();
  const catalogRows = ['item_id,top_category,image'];
  const images: Buffer[] = [];
  for (const [i, it] of items.entries()) {
    const png = await sharp(Buffer.from(await itemSvg(it, measure)))
      .flatten({ background: '#ffffff' })
      .png()
      .toBuffer();
    const file = `catalog/${it.itemId}.png`;
    await fs.writeFile(path.join(o.outDir, file), png);
    images.push(png);
    catalogRows.push(`${it.itemId},${it.family.plain ? 'plain' : 'packaged'},${file}`);
    if ((i + 1) % 20 === 0 || i + 1 === items.length) o.onProgress?.('catalog', i + 1, items.length);
  }

  const simulator = createPhotoSimulator(await loadSimulationAssets(CATALOG_VIEW_ASSETS));
  const queryRows = ['image,item_id,top_category'];
  const total = items.length * queriesPerItem;
  let k = 0;
  for (const [i, it] of items.entries()) {
    if (queriesPerItem <= 0) break;
    const seeds = Array.from({ length: queriesPerItem }, (_, q) => 7_000_003 * (seed + 1) + i * queriesPerItem + q);
    const photos = await photosOf(simulator, images[i], seeds);
    for (const [q, photo] of photos.entries()) {
      const file = `photos/${it.itemId}-q${q}.jpg`;
      await fs.writeFile(path.join(o.outDir, file), photo);
      queryRows.push(`${file},${it.itemId},${it.family.plain ? 'plain' : 'packaged'}`);
      k++;
      if (k % 20 === 0 || k === total) o.onProgress?.('queries', k, total);
    }
  }
  const catalogCsv = path.join(o.outDir, 'catalog.csv');
  const queriesCsv = path.join(o.outDir, 'queries.csv');
  await fs.writeFile(catalogCsv, catalogRows.join('\n') + '\n');
  await fs.writeFile(queriesCsv, queryRows.join('\n') + '\n');
  return { catalogCsv, queriesCsv };
}

// ---------------------------------------------------------------------------------------------
// Randomness and words

/** A generator for the pair (seed, key): independent streams per family. */
function streamRng(seed: number, key: number): Rng {
  let h = 0x9e3779b9;
  for (const x of [seed, key]) {
    h = Math.imul(h ^ (x >>> 0), 0x85ebca6b);
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35);
    h ^= h >>> 16;
  }
  return mulberry32(h);
}

const between = (rng: Rng, lo: number, hi: number) => lo + (hi - lo) * rng();
const pick = <T>(rng: Rng, xs: readonly T[]): T => xs[Math.floor(rng() * xs.length)] as T;
function shuffled<T>(rng: Rng, xs: readonly T[]): T[] {
  const a = [...xs];
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    [a[i], a[j]] = [a[j] as T, a[i] as T];
  }
  return a;
}

const ONSETS = ['b', 'c', 'd', 'f', 'g', 'k', 'l', 'm', 'n', 'p', 'r', 's', 't', 'v', 'z', 'br', 'cr', 'dr', 'fl', 'gr', 'kl', 'pl', 'pr', 'st', 'tr', 'sh', 'ch', 'j', 'h'];
const VOWELS = ['a', 'e', 'i', 'o', 'u', 'a', 'e', 'o', 'ai', 'ou', 'ea', 'io'];
const CODAS = ['', '', '', '', 'n', 'r', 'l', 's', 'x', 'm', 't', 'nd', 'rk'];

/** A pronounceable pseudo-word of 4 to `maxLength` (<= 9) letters, lower case, not in `used` (which it joins). */
function pseudoWord(rng: Rng, used: Set<string>, maxLength = 9): string {
  for (;;) {
    let w = '';
    const syllables = 2 + Math.floor(rng() * 2);
    for (let s = 0; s < syllables; s++) w += (s === 0 && rng() < 0.2 ? '' : pick(rng, ONSETS)) + pick(rng, VOWELS) + (s === syllables - 1 || rng() < 0.3 ? pick(rng, CODAS) : '');
    if (w.length < 4 || w.length > maxLength || used.has(w)) continue;
    used.add(w);
    return w;
  }
}

const capitalise = (w: string) => w.charAt(0).toUpperCase() + w.slice(1);

const SIZES = ['250 g', '500 g', '1 kg', '400 g', '150 g', '2 kg', '75 cl', '500 ml', '1 L', '330 ml', '200 ml', '750 ml', '12 x 33 cl', '6 x 25 cl', '4 x 125 g', '10 x 20 g'];

// ---------------------------------------------------------------------------------------------
// Colours

type Rgb = [number, number, number];

function hsl(h: number, s: number, l: number): Rgb {
  const k = (n: number) => (n + h / 30) % 12;
  const a = s * Math.min(l, 1 - l);
  const f = (n: number) => l - a * Math.max(-1, Math.min(k(n) - 3, Math.min(9 - k(n), 1)));
  return [Math.round(f(0) * 255), Math.round(f(8) * 255), Math.round(f(4) * 255)];
}
const hex = (c: Rgb) => '#' + c.map((v) => v.toString(16).padStart(2, '0')).join('');
function luminance(c: Rgb): number {
  const lin = (v: number) => {
    const x = v / 255;
    return x <= 0.03928 ? x / 12.92 : ((x + 0.055) / 1.055) ** 2.4;
  };
  return 0.2126 * lin(c[0]) + 0.7152 * lin(c[1]) + 0.0722 * lin(c[2]);
}
function contrast(a: Rgb, b: Rgb): number {
  const [x, y] = [luminance(a), luminance(b)].sort((p, q) => q - p) as [number, number];
  return (x + 0.05) / (y + 0.05);
}
/** The candidate most legible on `bg` (the first one with contrast >= 4.5, else the best). */
function inkOn(bg: Rgb, candidates: readonly Rgb[]): Rgb {
  const ok = candidates.find((c) => contrast(c, bg) >= 4.5);
  if (ok) return ok;
  return [...candidates, [20, 20, 20] as Rgb, [255, 255, 255] as Rgb].sort((a, b) => contrast(b, bg) - contrast(a, bg))[0] as Rgb;
}
const hueDistance = (a: number, b: number) => Math.min(Math.abs(a - b), 360 - Math.abs(a - b));

/** A family's colours: the body, the label it prints on, and the print's ink. */
interface Palette {
  hue: number;
  body: Rgb;
  /** Darker body colour: outline, lid, cap, box sides. */
  trim: Rgb;
  /** The label panel; null: print straight on the body. */
  label: Rgb | null;
  ink: Rgb;
}

function makePalette(rng: Rng): Palette {
  const hue = Math.floor(rng() * 360);
  const s = between(rng, 0.45, 0.85);
  const l = between(rng, 0.28, 0.55);
  const body = hsl(hue, s, l);
  const trim = hsl(hue, s, l * 0.6);
  const r = rng();
  // A light tinted label, a second hue's label, or print on the body.
  const label = r < 0.45 ? hsl((hue + between(rng, -30, 30) + 360) % 360, between(rng, 0.25, 0.6), between(rng, 0.88, 0.95)) : r < 0.7 ? hsl((hue + between(rng, 120, 240)) % 360, between(rng, 0.5, 0.8), between(rng, 0.55, 0.7)) : null;
  const bg = label ?? body;
  const ink = inkOn(bg, rng() < 0.5 ? [hsl(hue, s, 0.18), [255, 255, 255], [25, 25, 25]] : [[255, 255, 255], hsl(hue, s, 0.18), [25, 25, 25]]);
  return { hue, body, trim, label, ink };
}

/** Distinct accent colours (hue in degrees; null: achromatic), told apart at a glance. */
const ACCENTS: readonly [number | null, Rgb][] = [
  [4, [229, 57, 53]],
  [30, [251, 140, 0]],
  [52, [253, 216, 53]],
  [125, [46, 160, 50]],
  [174, [0, 137, 123]],
  [199, [41, 182, 246]],
  [228, [30, 64, 200]],
  [283, [123, 31, 162]],
  [330, [216, 27, 96]],
  [16, [121, 85, 72]],
  [null, [34, 34, 34]],
  [null, [158, 158, 158]],
];

/** Accent colours for a family's items: distinct ones, away from the body's hue, in a seeded order. */
function accents(rng: Rng, palette: Palette, n: number): Rgb[] {
  const usable = shuffled(
    rng,
    ACCENTS.filter(([h, c]) => (h === null || hueDistance(h, palette.hue) >= 35) && contrast(c, palette.body) >= 1.4).map(([, c]) => c),
  );
  // More items than colours: lighter, then darker variants of the same list.
  return Array.from({ length: n }, (_, i) => {
    const c = usable[i % usable.length] as Rgb;
    const round = Math.floor(i / usable.length) % 3;
    return round === 0 ? c : (c.map((v) => Math.round(round === 1 ? v + (255 - v) * 0.45 : v * 0.55)) as Rgb);
  });
}

// ---------------------------------------------------------------------------------------------
// Designs

const SIZE = 384;
const SHAPES = ['box', 'can', 'bottle', 'pouch', 'jar'] as const;
type Shape = (typeof SHAPES)[number];
const FONTS = ['DejaVu Sans', 'DejaVu Sans Condensed', 'DejaVu Serif'] as const;
const ICONS = ['circle', 'star', 'triangle', 'diamond', 'hexagon', 'drop', 'leaf', 'heart'] as const;
type Icon = (typeof ICONS)[number];
type Slot = 'band' | 'brand' | 'product' | 'size';
const ORDERS: readonly Slot[][] = [
  ['band', 'brand', 'product', 'size'],
  ['brand', 'band', 'product', 'size'],
  ['brand', 'product', 'size', 'band'],
];

interface Family {
  index: number;
  plain: boolean;
  shape: Shape;
  /** Product height as a fraction of the frame, and its width relative to the shape's usual. */
  heightFrac: number;
  widthFrac: number;
  palette: Palette;
  brand: string;
  brandFont: string;
  productFont: string;
  /** Brand target size, fraction of the image height. */
  brandFrac: number;
  productFrac: number;
  order: readonly Slot[];
  leftAligned: boolean;
  /** What changes between its items beside the product line. */
  varies: 'band' | 'icon' | 'both';
  /** Its items print a size line (most of them): the slot is kept on those that do not, so the print stays put. */
  withSize: boolean;
  /** Where the icon sits on the band, 0..1 across it. */
  iconAt: number;
}

interface Item {
  itemId: string;
  family: Family;
  product: string | null;
  size: string | null;
  accent: Rgb;
  icon: Icon;
}

function designItems(families: number, perFamily: number, seed: number): Item[] {
  const used = new Set<string>();
  const designed: Family[] = [];
  const items: Item[] = [];
  // Plain (no text) families spread evenly: ~15% of them, at a seeded phase.
  const phase = streamRng(seed, 0xffffffff)();
  for (let f = 0; f < families; f++) {
    const rng = streamRng(seed, f);
    const plain = Math.floor((f + 1) * 0.15 + phase) > Math.floor(f * 0.15 + phase);
    let shape = pick(rng, SHAPES);
    let palette = makePalette(rng);
    // About a fifth reuse an earlier family's palette (colour hard negatives), half of them its shape too.
    if (designed.length > 0 && rng() < 0.22) {
      const other = pick(rng, designed);
      palette = other.palette;
      if (rng() < 0.5) shape = other.shape;
    }
    const upper = rng() < 0.6;
    // Brand words are short (4-7 letters), so that they print large on narrow shapes too.
    const brandWord = pseudoWord(rng, used, 7);
    const upperProducts = !upper && rng() < 0.3;
    const brandFont = pick(rng, FONTS);
    const family: Family = {
      index: f,
      plain,
      shape,
      heightFrac: between(rng, 0.66, 0.78),
      widthFrac: between(rng, 0.94, 1.06),
      palette,
      brand: upper ? brandWord.toUpperCase() : capitalise(brandWord),
      brandFont,
      productFont: rng() < 0.5 ? brandFont : pick(rng, FONTS),
      brandFrac: between(rng, 0.11, 0.14),
      productFrac: between(rng, 0.065, 0.08),
      order: pick(rng, ORDERS),
      leftAligned: rng() < 0.25,
      varies: plain ? 'both' : pick(rng, ['band', 'icon', 'both'] as const),
      iconAt: pick(rng, [0.18, 0.82]),
      withSize: !plain && rng() < 0.6,
    };
    designed.push(family);
    const colours = accents(rng, palette, perFamily);
    const icons = shuffled(rng, ICONS);
    const familyIcon = icons[0] as Icon;
    for (let i = 0; i < perFamily; i++) {
      const word = plain ? null : pseudoWord(rng, used);
      const product = word === null ? null : upperProducts ? word.toUpperCase() : capitalise(word);
      items.push({
        itemId: `pk-${String(f).padStart(3, '0')}-${i}`,
        family,
        product,
        size: family.withSize && rng() < 0.8 ? pick(rng, SIZES) : null,
        accent: family.varies === 'icon' ? (colours[0] as Rgb) : (colours[i] as Rgb),
        icon: family.varies === 'band' ? familyIcon : (icons[i % icons.length] as Icon),
      });
    }
  }
  return items;
}

// ---------------------------------------------------------------------------------------------
// Drawing

interface Rect {
  x: number;
  y: number;
  w: number;
  h: number;
}

/** Width of `text` in `font` (bold) per pixel of font size, measured once by rendering it. */
function textMeasurer(): (text: string, font: string) => Promise<number> {
  const cache = new Map<string, number>();
  return async (text, font) => {
    const key = `${font}|${text}`;
    const hit = cache.get(key);
    if (hit !== undefined) return hit;
    const width = Math.ceil(text.length * 120) + 80;
    const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="200"><rect width="${width}" height="200" fill="#fff"/><text x="20" y="140" font-family="${font}" font-weight="bold" font-size="100" fill="#000">${text}</text></svg>`;
    const { info } = await sharp(Buffer.from(svg)).trim({ threshold: 10 }).toBuffer({ resolveWithObject: true });
    const perPx = info.width / 100;
    cache.set(key, perPx);
    return perPx;
  };
}

const f1 = (v: number) => v.toFixed(1);
const poly = (pts: [number, number][], fill: string, extra = '') => `<polygon points="${pts.map(([x, y]) => `${f1(x)},${f1(y)}`).join(' ')}" fill="${fill}"${extra}/>`;

function iconSvg(icon: Icon, cx: number, cy: number, r: number, fill: string): string {
  const regular = (n: number, r0: number, rot: number) =>
    Array.from({ length: n }, (_, i): [number, number] => [cx + r0 * Math.cos(rot + (2 * Math.PI * i) / n), cy + r0 * Math.sin(rot + (2 * Math.PI * i) / n)]);
  switch (icon) {
    case 'circle':
      return `<circle cx="${f1(cx)}" cy="${f1(cy)}" r="${f1(r * 0.85)}" fill="${fill}"/>`;
    case 'star': {
      const pts: [number, number][] = [];
      for (let i = 0; i < 10; i++) {
        const a = -Math.PI / 2 + (Math.PI * i) / 5;
        const rr = i % 2 === 0 ? r : r * 0.42;
        pts.push([cx + rr * Math.cos(a), cy + rr * Math.sin(a)]);
      }
      return poly(pts, fill);
    }
    case 'triangle':
      return poly(regular(3, r, -Math.PI / 2).map(([x, y]) => [x, y + r * 0.15]), fill);
    case 'diamond':
      return poly([[cx, cy - r], [cx + r * 0.7, cy], [cx, cy + r], [cx - r * 0.7, cy]], fill);
    case 'hexagon':
      return poly(regular(6, r * 0.9, 0), fill);
    case 'drop':
      return `<path d="M ${f1(cx)} ${f1(cy - r)} C ${f1(cx + r * 0.2)} ${f1(cy - r * 0.4)} ${f1(cx + r * 0.75)} ${f1(cy)} ${f1(cx + r * 0.75)} ${f1(cy + r * 0.3)} A ${f1(r * 0.75)} ${f1(r * 0.7)} 0 0 1 ${f1(cx - r * 0.75)} ${f1(cy + r * 0.3)} C ${f1(cx - r * 0.75)} ${f1(cy)} ${f1(cx - r * 0.2)} ${f1(cy - r * 0.4)} ${f1(cx)} ${f1(cy - r)} Z" fill="${fill}"/>`;
    case 'leaf':
      return `<path d="M ${f1(cx - r * 0.8)} ${f1(cy + r * 0.8)} Q ${f1(cx - r * 0.9)} ${f1(cy - r * 0.9)} ${f1(cx + r * 0.85)} ${f1(cy - r * 0.85)} Q ${f1(cx + r * 0.9)} ${f1(cy + r * 0.9)} ${f1(cx - r * 0.8)} ${f1(cy + r * 0.8)} Z" fill="${fill}"/>`;
    case 'heart':
      return `<path d="M ${f1(cx)} ${f1(cy + r * 0.85)} C ${f1(cx - r * 1.3)} ${f1(cy)} ${f1(cx - r * 0.8)} ${f1(cy - r * 1.05)} ${f1(cx)} ${f1(cy - r * 0.4)} C ${f1(cx + r * 0.8)} ${f1(cy - r * 1.05)} ${f1(cx + r * 1.3)} ${f1(cy)} ${f1(cx)} ${f1(cy + r * 0.85)} Z" fill="${fill}"/>`;
  }
}

/** The shape's outline and decoration, and the rectangle its label (print, band) goes on. */
function drawShape(fam: Family): { defs: string; under: string; over: string; label: Rect; bandSpan: [number, number] } {
  const S = SIZE;
  const { body, trim } = fam.palette;
  const B = hex(body);
  const T = hex(trim);
  const stroke = ` stroke="${T}" stroke-width="2"`;
  const H = S * fam.heightFrac;
  const shade = (id: string) =>
    `<linearGradient id="${id}" x1="0" x2="1" y1="0" y2="0"><stop offset="0" stop-color="#000" stop-opacity="0.22"/><stop offset="0.3" stop-color="#fff" stop-opacity="0.14"/><stop offset="0.55" stop-color="#fff" stop-opacity="0"/><stop offset="1" stop-color="#000" stop-opacity="0.26"/></linearGradient>`;
  switch (fam.shape) {
    case 'box': {
      const w = S * 0.58 * fam.widthFrac;
      const d = S * 0.07;
      const dy = d * 0.6;
      const h = H - dy;
      const x = (S - (w + d)) / 2;
      const y = (S - H) / 2 + dy;
      const under =
        poly([[x, y], [x + d, y - dy], [x + w + d, y - dy], [x + w, y]], hex(hsl(fam.palette.hue, 0.3, 0.8)), stroke) +
        poly([[x + w, y], [x + w + d, y - dy], [x + w + d, y + h - dy], [x + w, y + h]], T, stroke) +
        `<rect x="${f1(x)}" y="${f1(y)}" width="${f1(w)}" height="${f1(h)}" fill="${B}"${stroke}/>`;
      const inset = w * 0.06;
      return { defs: '', under, over: '', label: { x: x + inset, y: y + inset, w: w - 2 * inset, h: h - 2 * inset }, bandSpan: [x + 1, x + w - 1] };
    }
    case 'can': {
      const w = S * 0.52 * fam.widthFrac;
      const x = (S - w) / 2;
      const top = (S - H) / 2;
      const ry = w * 0.09;
      const rim = S * 0.03;
      const under =
        `<rect x="${f1(x)}" y="${f1(top + ry)}" width="${f1(w)}" height="${f1(H - 2 * ry)}" fill="${B}"${stroke}/>` +
        `<ellipse cx="${f1(S / 2)}" cy="${f1(top + H - ry)}" rx="${f1(w / 2)}" ry="${f1(ry)}" fill="${B}"${stroke}/>` +
        `<rect x="${f1(x + 1)}" y="${f1(top + ry)}" width="${f1(w - 2)}" height="${f1(H - 2 * ry)}" fill="${B}"/>` +
        `<rect x="${f1(x)}" y="${f1(top + ry)}" width="${f1(w)}" height="${f1(rim)}" fill="#b8b8b8"/>` +
        `<rect x="${f1(x)}" y="${f1(top + H - ry - rim)}" width="${f1(w)}" height="${f1(rim)}" fill="#a8a8a8"/>` +
        `<ellipse cx="${f1(S / 2)}" cy="${f1(top + ry)}" rx="${f1(w / 2)}" ry="${f1(ry)}" fill="#c8c8c8" stroke="#888" stroke-width="2"/>` +
        `<ellipse cx="${f1(S / 2)}" cy="${f1(top + ry)}" rx="${f1(w / 2 - 6)}" ry="${f1(ry - 3)}" fill="#dedede"/>`;
      const over = `<rect x="${f1(x)}" y="${f1(top + ry)}" width="${f1(w)}" height="${f1(H - 2 * ry)}" fill="url(#shade)"/>`;
      const inset = w * 0.05;
      return {
        defs: shade('shade'),
        under,
        over,
        label: { x: x + inset, y: top + ry + rim + S * 0.015, w: w - 2 * inset, h: H - 2 * ry - 2 * rim - S * 0.03 },
        bandSpan: [x, x + w],
      };
    }
    case 'bottle': {
      const w = S * 0.54 * fam.widthFrac;
      const x = (S - w) / 2;
      const top = (S - H) / 2;
      const capH = H * 0.08;
      const neckH = H * 0.1;
      const shoulderH = H * 0.12;
      const nw = w * 0.36;
      const nx = (S - nw) / 2;
      const bodyTop = top + capH + neckH + shoulderH;
      const bottom = top + H;
      const r = w * 0.08;
      const outline =
        `M ${f1(nx)} ${f1(top + capH)} L ${f1(nx)} ${f1(top + capH + neckH)} C ${f1(nx)} ${f1(bodyTop - shoulderH * 0.3)} ${f1(x)} ${f1(bodyTop - shoulderH * 0.5)} ${f1(x)} ${f1(bodyTop)} ` +
        `L ${f1(x)} ${f1(bottom - r)} Q ${f1(x)} ${f1(bottom)} ${f1(x + r)} ${f1(bottom)} L ${f1(x + w - r)} ${f1(bottom)} Q ${f1(x + w)} ${f1(bottom)} ${f1(x + w)} ${f1(bottom - r)} ` +
        `L ${f1(x + w)} ${f1(bodyTop)} C ${f1(x + w)} ${f1(bodyTop - shoulderH * 0.5)} ${f1(nx + nw)} ${f1(bodyTop - shoulderH * 0.3)} ${f1(nx + nw)} ${f1(top + capH + neckH)} L ${f1(nx + nw)} ${f1(top + capH)} Z`;
      const under =
        `<path d="${outline}" fill="${B}"${stroke}/>` +
        `<rect x="${f1(nx - nw * 0.06)}" y="${f1(top)}" width="${f1(nw * 1.12)}" height="${f1(capH)}" rx="3" fill="${T}" stroke="${T}" stroke-width="2"/>`;
      const over = `<path d="${outline}" fill="url(#shade)"/>`;
      const inset = w * 0.04;
      return {
        defs: shade('shade'),
        under,
        over,
        label: { x: x + inset, y: bodyTop + H * 0.03, w: w - 2 * inset, h: bottom - bodyTop - H * 0.07 },
        bandSpan: [x + inset, x + w - inset],
      };
    }
    case 'pouch': {
      const w = S * 0.6 * fam.widthFrac;
      const x = (S - w) / 2;
      const top = (S - H) / 2;
      const seal = S * 0.055;
      const flare = w * 0.04;
      const bottom = top + H;
      const outline = `M ${f1(x + flare)} ${f1(top)} L ${f1(x + w - flare)} ${f1(top)} L ${f1(x + w)} ${f1(bottom - S * 0.03)} Q ${f1(S / 2)} ${f1(bottom + S * 0.01)} ${f1(x)} ${f1(bottom - S * 0.03)} Z`;
      let teeth = '';
      for (let tx = x + flare + 6; tx < x + w - flare - 4; tx += 8) teeth += `<line x1="${f1(tx)}" y1="${f1(top + 3)}" x2="${f1(tx)}" y2="${f1(top + seal - 4)}" stroke="${T}" stroke-width="1.5" stroke-opacity="0.6"/>`;
      const under = `<path d="${outline}" fill="${B}"${stroke}/>` + `<rect x="${f1(x + flare + 1)}" y="${f1(top + 1)}" width="${f1(w - 2 * flare - 2)}" height="${f1(seal)}" fill="${T}" fill-opacity="0.35"/>` + teeth;
      const over = `<path d="${outline}" fill="url(#shade)" opacity="0.6"/>`;
      const inset = w * 0.07;
      return {
        defs: shade('shade'),
        under,
        over,
        label: { x: x + inset, y: top + seal + S * 0.02, w: w - 2 * inset, h: H - seal - S * 0.07 },
        bandSpan: [x + flare + w * 0.02, x + w - flare - w * 0.02],
      };
    }
    case 'jar': {
      const w = S * 0.64 * fam.widthFrac;
      const h = Math.min(H, S * 0.7);
      const x = (S - w) / 2;
      const top = (S - h) / 2;
      const lidH = h * 0.16;
      const lw = w * 0.9;
      const lx = (S - lw) / 2;
      const bodyTop = top + lidH;
      const under =
        `<rect x="${f1(x)}" y="${f1(bodyTop - 2)}" width="${f1(w)}" height="${f1(h - lidH + 2)}" rx="${f1(w * 0.1)}" fill="${B}"${stroke}/>` +
        `<rect x="${f1(lx)}" y="${f1(top)}" width="${f1(lw)}" height="${f1(lidH)}" rx="4" fill="${T}" stroke="${T}" stroke-width="2"/>` +
        Array.from({ length: 9 }, (_, i) => `<line x1="${f1(lx + (lw * (i + 1)) / 10)}" y1="${f1(top + 4)}" x2="${f1(lx + (lw * (i + 1)) / 10)}" y2="${f1(top + lidH - 4)}" stroke="#000" stroke-opacity="0.18" stroke-width="2"/>`).join('');
      const over = `<rect x="${f1(x)}" y="${f1(bodyTop)}" width="${f1(w)}" height="${f1(h - lidH)}" rx="${f1(w * 0.1)}" fill="url(#shade)"/>`;
      const inset = w * 0.05;
      return {
        defs: shade('shade'),
        under,
        over,
        label: { x: x + inset, y: bodyTop + h * 0.06, w: w - 2 * inset, h: h - lidH - h * 0.12 },
        bandSpan: [x + 1, x + w - 1],
      };
    }
  }
}

/** The item's SVG: shape, label panel, band with icon, and print laid out in the family's order. */
async function itemSvg(it: Item, measure: (text: string, font: string) => Promise<number>): Promise<string> {
  const fam = it.family;
  const S = SIZE;
  const shape = drawShape(fam);
  const L = shape.label;
  const pad = L.w * 0.06;
  const maxW = L.w - 2 * pad;
  const gap = S * 0.022;
  const bandH = S * (fam.plain ? 0.11 : 0.065);
  const bandSlot = bandH * 1.45;

  // Text lines at their target size, narrowed to the label's width.
  const lines: { slot: Slot; text: string; font: string; px: number }[] = [];
  const fit = async (slot: Slot, text: string, font: string, target: number) => {
    const perPx = await measure(text, font);
    lines.push({ slot, text, font, px: Math.min(target, maxW / perPx) });
  };
  if (!fam.plain) {
    await fit('brand', fam.brand, fam.brandFont, S * fam.brandFrac);
    if (it.product) await fit('product', it.product, fam.productFont, S * fam.productFrac);
    // No size on this item: the slot stays, empty, sized like a typical size line.
    if (fam.withSize) await fit('size', it.size ?? '500 g', fam.productFont, S * fam.productFrac * 0.85);
  }
  const lineH = (px: number) => px * 1.12;
  const slots = fam.order.filter((s) => s === 'band' || lines.some((l) => l.slot === s));
  const gaps = gap * (slots.length - 1);
  const textH = lines.reduce((s, l) => s + lineH(l.px), 0);
  const shrink = Math.min(1, (L.h - bandSlot - gaps) / Math.max(1, textH));
  if (shrink < 1) for (const l of lines) l.px *= shrink;
  const used = lines.reduce((s, l) => s + lineH(l.px), 0) + bandSlot + gaps;
  // Spare height spreads the stack out a little; the stack is centred on the label.
  const spread = Math.max(0, Math.min(gap * 1.5, (L.h - used) / (slots.length + 1)));
  let y = L.y + (L.h - used - spread * (slots.length - 1)) / 2;

  const parts: string[] = [shape.under];
  if (fam.palette.label) parts.push(`<rect x="${f1(L.x)}" y="${f1(L.y)}" width="${f1(L.w)}" height="${f1(L.h)}" rx="${f1(S * 0.02)}" fill="${hex(fam.palette.label)}"/>`);
  const print: string[] = [];
  const anchor = fam.leftAligned ? `x="${f1(L.x + pad)}" text-anchor="start"` : `x="${f1(L.x + L.w / 2)}" text-anchor="middle"`;
  for (const slot of slots) {
    if (slot === 'band') {
      const cy = y + bandSlot / 2;
      const [x0, x1] = shape.bandSpan;
      parts.push(`<rect x="${f1(x0)}" y="${f1(cy - bandH / 2)}" width="${f1(x1 - x0)}" height="${f1(bandH)}" fill="${hex(it.accent)}"/>`);
      const cx = x0 + (x1 - x0) * fam.iconAt;
      const r = bandSlot / 2;
      const badge = inkOn(it.accent, [[255, 255, 255], [25, 25, 25]]);
      parts.push(`<circle cx="${f1(cx)}" cy="${f1(cy)}" r="${f1(r)}" fill="${hex(badge)}" stroke="${hex(it.accent)}" stroke-width="2"/>`);
      parts.push(iconSvg(it.icon, cx, cy, r * 0.68, hex(it.accent)));
      y += bandSlot;
    } else {
      const l = lines.find((x) => x.slot === slot) as (typeof lines)[number];
      const baseline = y + l.px * 0.86;
      if (slot !== 'size' || it.size) print.push(`<text ${anchor} y="${f1(baseline)}" font-family="${l.font}" font-weight="bold" font-size="${f1(l.px)}" fill="${hex(fam.palette.ink)}">${l.text}</text>`);
      y += lineH(l.px);
    }
    y += gap + spread;
  }
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${S}" height="${S}" viewBox="0 0 ${S} ${S}">` +
    `<defs>${shape.defs}</defs><rect width="${S}" height="${S}" fill="#ffffff"/>` +
    parts.join('') +
    shape.over +
    print.join('') +
    `</svg>`
  );
}
