import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import {
  CATALOG_DEFAULTS,
  DEGRADE_DEFAULTS,
  DEMO_BRANDS,
  createRng,
  degradeImage,
  describeWatch,
  generateDemoCatalog,
  planDemoCatalog,
  randomWatchSpec,
  renderWatch,
  resolveDegradeParams,
  watchSpecKey,
  writeDemoSamples,
  type DemoCatalogItem,
  type WatchSpec,
} from '../../src/demo/index.js';

interface Raw {
  data: Buffer;
  width: number;
  height: number;
}

async function decode(image: Buffer): Promise<Raw> {
  const { data, info } = await sharp(image).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  expect(info.channels).toBe(3);
  return { data, width: info.width, height: info.height };
}

/** Mean RGB over a `size`×`size` box whose top-left corner is (x, y). */
function boxMean(img: Raw, x: number, y: number, size: number): [number, number, number] {
  const sum = [0, 0, 0];
  for (let yy = y; yy < y + size; yy++) {
    for (let xx = x; xx < x + size; xx++) {
      for (let c = 0; c < 3; c++) sum[c] = (sum[c] as number) + (img.data[(yy * img.width + xx) * 3 + c] as number);
    }
  }
  return sum.map((s) => s / (size * size)) as [number, number, number];
}

function cornerBoxes(img: Raw, size: number): Array<[number, number, number]> {
  const r = img.width - size;
  const b = img.height - size;
  return [boxMean(img, 0, 0, size), boxMean(img, r, 0, size), boxMean(img, 0, b, size), boxMean(img, r, b, size)];
}

function meanBrightness(img: Raw): number {
  let s = 0;
  for (const v of img.data) s += v;
  return s / img.data.length;
}

const METADATA_KEYS = [
  'name',
  'category',
  'brand',
  'price',
  'case_shape',
  'case_color',
  'dial_color',
  'dial_texture',
  'strap_material',
  'strap_color',
  'strap_width',
  'markers',
  'hands_color',
  'bezel',
  'subdials',
  'date_window',
];

/** A plain watch whose dial is visible just below the centre. */
function plainSpec(overrides: Partial<WatchSpec> = {}): WatchSpec {
  const base: WatchSpec = {
    caseShape: 'round',
    caseColor: 'silver',
    caseScale: 1,
    dialColor: 'red',
    dialTexture: 'matte',
    strapMaterial: 'leather',
    strapColor: 'brown',
    strapAccentColor: 'brown',
    strapWidth: 'medium',
    stitching: 'none',
    markers: 'none',
    handStyle: 'baton',
    handsColor: 'silver',
    secondsColor: 'yellow',
    hasSubdials: false,
    subdialColor: 'red',
    hasDate: false,
    bezel: 'plain',
    bezelColor: 'silver',
    logo: 'none',
    time: { hours: 10, minutes: 10, seconds: 15 },
  };
  return { ...base, ...overrides };
}

describe('createRng', () => {
  it('is deterministic per seed and uniform in [0, 1)', () => {
    const a = createRng(42);
    const b = createRng(42);
    const c = createRng(43);
    const xs = Array.from({ length: 10_000 }, () => a());
    expect(Array.from({ length: 10_000 }, () => b())).toEqual(xs);
    expect(Array.from({ length: 10 }, () => c())).not.toEqual(xs.slice(0, 10));
    expect(Math.min(...xs)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...xs)).toBeLessThan(1);
    const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
    expect(Math.abs(mean - 0.5)).toBeLessThan(0.02);
  });

  it('gives different streams for different non-integer seeds', () => {
    expect(createRng(0.1)()).not.toBe(createRng(0.2)());
  });
});

describe('randomWatchSpec', () => {
  it('is deterministic and canonicalises unused fields', () => {
    const r1 = createRng(5);
    const r2 = createRng(5);
    for (let i = 0; i < 200; i++) {
      const spec = randomWatchSpec(r1);
      expect(randomWatchSpec(r2)).toEqual(spec);
      if (!spec.hasSubdials) expect(spec.subdialColor).toBe(spec.dialColor);
      if (spec.strapMaterial === 'metal') expect(spec.strapColor).toBe(spec.caseColor);
      if (spec.strapMaterial !== 'leather') expect(spec.stitching).toBe('none');
      if (spec.bezel !== 'diver' && spec.bezel !== 'tachymeter') expect(spec.bezelColor).toBe(spec.caseColor);
      if (['white', 'cream', 'silver', 'gold'].includes(spec.dialColor)) {
        expect(['white', 'silver']).not.toContain(spec.handsColor);
      }
    }
  });

  it('is described with string metadata for filters', () => {
    const spec = plainSpec({ dialColor: 'blue', strapWidth: 'thin', hasDate: true });
    const d = describeWatch(spec);
    expect(d).toMatchObject({
      case_shape: 'round',
      dial_color: 'blue',
      strap_color: 'brown',
      strap_width: 'thin',
      strap_material: 'leather',
      markers: 'none',
      subdials: 'no',
      date_window: 'yes',
    });
    for (const v of Object.values(d)) expect(typeof v).toBe('string');
  });
});

describe('renderWatch', () => {
  const spec = randomWatchSpec(createRng(11));

  it('renders a 512 px JPEG by default, byte-identical for the same spec', async () => {
    const a = await renderWatch(spec);
    const b = await renderWatch(structuredClone(spec));
    expect(a.equals(b)).toBe(true);
    const meta = await sharp(a).metadata();
    expect(meta.format).toBe('jpeg');
    expect([meta.width, meta.height]).toEqual([512, 512]);
  });

  it('honours sizePx and format', async () => {
    const png = await renderWatch(spec, { sizePx: 200, format: 'png' });
    const meta = await sharp(png).metadata();
    expect(meta.format).toBe('png');
    expect([meta.width, meta.height]).toEqual([200, 200]);
    await expect(renderWatch(spec, { sizePx: 3 })).rejects.toThrow(RangeError);
  });

  it('puts the watch on a white background, strap running up and down', async () => {
    for (let i = 0; i < 10; i++) {
      const img = await decode(await renderWatch(randomWatchSpec(createRng(100 + i)), { sizePx: 256 }));
      for (const corner of cornerBoxes(img, 12)) {
        for (const c of corner) expect(c).toBeGreaterThanOrEqual(250);
      }
      // Something non-white at the centre, near the top and near the bottom (the strap).
      for (const y of [128, 30, 226]) {
        const m = boxMean(img, 124, y - 4, 8);
        expect(Math.min(...m)).toBeLessThan(235);
      }
      // Pure white at the far left and right at mid-height (the watch is centred).
      for (const x of [0, 248]) expect(Math.min(...boxMean(img, x, 124, 8))).toBeGreaterThanOrEqual(250);
    }
  });

  it('shows the dial colour', async () => {
    const red = await decode(await renderWatch(plainSpec({ dialColor: 'red' }), { sizePx: 256 }));
    const blue = await decode(await renderWatch(plainSpec({ dialColor: 'blue' }), { sizePx: 256 }));
    const [rr, rg, rb] = boxMean(red, 124, 150, 8);
    const [br, bg, bb] = boxMean(blue, 124, 150, 8);
    expect(rr).toBeGreaterThan(rg + 50);
    expect(rr).toBeGreaterThan(rb + 50);
    expect(bb).toBeGreaterThan(br + 50);
    expect(bb).toBeGreaterThan(bg + 30);
  });
});

describe('generateDemoCatalog', () => {
  let items: DemoCatalogItem[];
  beforeAll(async () => {
    items = await generateDemoCatalog({ count: 16, sizePx: 256 });
  });

  it('numbers items and fills the metadata', () => {
    expect(items.map((i) => i.itemId)).toEqual(Array.from({ length: 16 }, (_, i) => `watch-${String(i + 1).padStart(4, '0')}`));
    for (const item of items) {
      for (const key of METADATA_KEYS) expect(typeof item.metadata[key]).toBe('string');
      expect(item.metadata.category).toBe('watch');
      expect(DEMO_BRANDS).toContain(item.metadata.brand);
      expect(item.metadata.price).toMatch(/^\d+$/);
      expect(Number(item.metadata.price)).toBeGreaterThan(0);
      expect(item.metadata).toMatchObject(describeWatch(item.spec));
      const name = item.metadata.name as string;
      expect(name.toLowerCase()).toContain(item.spec.caseShape);
      expect(name).toContain(`${item.spec.dialColor.replace('-', ' ')} dial`);
      expect(name).toContain(item.spec.strapWidth);
    }
  });

  it('has distinct specs that look distinct', async () => {
    expect(new Set(items.map((i) => watchSpecKey(i.spec))).size).toBe(items.length);
    // Case shapes take turns: 16 items over 5 shapes leaves no shape more than 1 ahead.
    const shapes = new Map<string, number>();
    for (const i of items) shapes.set(i.spec.caseShape, (shapes.get(i.spec.caseShape) ?? 0) + 1);
    expect(Math.max(...shapes.values()) - Math.min(...shapes.values())).toBeLessThanOrEqual(1);
    const thumbs = await Promise.all(
      items.map((i) => sharp(i.image).resize(24, 24, { fit: 'fill' }).removeAlpha().raw().toBuffer()),
    );
    for (let a = 0; a < thumbs.length; a++) {
      for (let b = a + 1; b < thumbs.length; b++) {
        let diff = 0;
        const ta = thumbs[a] as Buffer;
        const tb = thumbs[b] as Buffer;
        for (let k = 0; k < ta.length; k++) diff += Math.abs((ta[k] as number) - (tb[k] as number));
        expect(diff / ta.length).toBeGreaterThan(4);
      }
    }
  });

  it('is deterministic per seed', async () => {
    const again = await generateDemoCatalog({ count: 4, sizePx: 256 });
    for (const [i, item] of again.entries()) {
      expect(item.image.equals((items[i] as DemoCatalogItem).image)).toBe(true);
      expect(item.metadata).toEqual((items[i] as DemoCatalogItem).metadata);
    }
    const other = planDemoCatalog({ count: 4, seed: 8 });
    expect(other.map((e) => watchSpecKey(e.spec))).not.toEqual(items.slice(0, 4).map((e) => watchSpecKey(e.spec)));
  });

  it('plans 60 distinct items by default and scales to large counts', () => {
    const plan = planDemoCatalog();
    expect(plan).toHaveLength(CATALOG_DEFAULTS.count);
    expect(new Set(plan.map((e) => watchSpecKey(e.spec))).size).toBe(plan.length);
    const big = planDemoCatalog({ count: 2000 });
    expect(new Set(big.map((e) => watchSpecKey(e.spec))).size).toBe(2000);
  });
});

describe('degradeImage', () => {
  let clean: Buffer;
  let cleanRaw: Raw;
  beforeAll(async () => {
    clean = await renderWatch(randomWatchSpec(createRng(3)));
    cleanRaw = await decode(clean);
  });

  it('produces a darker 640x480 JPEG photo with a non-white background', async () => {
    for (let seed = 0; seed < 6; seed++) {
      const out = await degradeImage(clean, {}, createRng(seed));
      expect((await sharp(out).metadata()).format).toBe('jpeg');
      const img = await decode(out);
      expect([img.width, img.height]).toEqual([640, 480]);
      for (const corner of cornerBoxes(img, 16)) expect(Math.max(...corner)).toBeLessThan(235);
      expect(meanBrightness(img)).toBeLessThan(meanBrightness(cleanRaw) - 40);
    }
  });

  it('covers every background kind', async () => {
    for (const background of DEGRADE_DEFAULTS.background) {
      const img = await decode(await degradeImage(clean, { background, width: 320, height: 240 }, createRng(1)));
      expect([img.width, img.height]).toEqual([320, 240]);
      for (const corner of cornerBoxes(img, 8)) expect(Math.max(...corner)).toBeLessThan(235);
    }
  });

  it('is deterministic, with or without an rng', async () => {
    const a = await degradeImage(clean, {}, createRng(9));
    const b = await degradeImage(clean, {}, createRng(9));
    const c = await degradeImage(clean, {}, createRng(10));
    expect(a.equals(b)).toBe(true);
    expect(a.equals(c)).toBe(false);
    expect((await degradeImage(clean)).equals(await degradeImage(clean))).toBe(true);
  });

  it('keeps the product recognisable: the dial colour survives a mild degradation', async () => {
    const red = await renderWatch(plainSpec({ dialColor: 'red' }));
    const mild = {
      rotationDeg: 0,
      objectScale: 0.9,
      placementJitter: 0,
      brightness: 0.8,
      colorCast: 0,
      vignette: 0,
      lightGradient: 0,
      noise: 0,
      background: 'dark-table' as const,
    };
    const img = await decode(await degradeImage(red, mild, createRng(2)));
    // The dial sits around the centre of the frame, the hands point up.
    const [r, g, b] = boxMean(img, 316, 270, 8);
    expect(r).toBeGreaterThan(g + 30);
    expect(r).toBeGreaterThan(b + 30);
  });

  it('resolves knobs: pinned values are used, ranges are respected', () => {
    const rng = createRng(4);
    for (let i = 0; i < 100; i++) {
      const p = resolveDegradeParams({ brightness: 0.5, jpegQuality: 55 }, rng);
      expect(p.brightness).toBe(0.5);
      expect(p.jpegQuality).toBe(55);
      expect(Math.abs(p.rotationDeg)).toBeLessThanOrEqual(20);
      expect(p.objectScale).toBeGreaterThanOrEqual(0.5);
      expect(p.objectScale).toBeLessThanOrEqual(0.9);
      expect(DEGRADE_DEFAULTS.background).toContain(p.background);
    }
    expect(() => resolveDegradeParams({ background: [] }, rng)).toThrow(RangeError);
  });

  it('accepts images without a white background', async () => {
    const flat = await sharp({ create: { width: 300, height: 200, channels: 3, background: '#3060a0' } }).png().toBuffer();
    const img = await decode(await degradeImage(flat, { width: 160, height: 120 }, createRng(1)));
    expect([img.width, img.height]).toEqual([160, 120]);
  });
});

describe('writeDemoSamples', () => {
  it('writes clean and degraded JPEGs', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'twinlens-demo-'));
    try {
      const files = await writeDemoSamples(dir, 2);
      expect(files.map((f) => f.itemId)).toEqual(['watch-0001', 'watch-0002']);
      for (const f of files) {
        expect((await sharp(await readFile(f.clean)).metadata()).width).toBe(512);
        expect((await sharp(await readFile(f.degraded)).metadata()).width).toBe(640);
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
