import { mkdtemp, readFile, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { createSharpDecoder } from '../../src/imaging/index.js';
import {
  createPhotoSimulator,
  genericClipartItems,
  loadSimulationAssets,
  shuffledClipartFiles,
  placeMain,
  prepareProduct,
  resolvePhotoOptions,
  type SimulationAssets,
  writeViewSet,
} from '../../src/simulate/index.js';

const decoder = createSharpDecoder({ size: 224, maxImageBytes: 20 << 20, maxImagePixels: 50_000_000 });

/** A red disc of radius r centred in a w x h white image, with a white dot at its centre (a hole that is not connected to the border). */
async function discOnWhite(w: number, h: number, r: number): Promise<Buffer> {
  const px = Buffer.alloc(w * h * 3, 255);
  const cx = w / 2;
  const cy = h / 2;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const d = Math.hypot(x + 0.5 - cx, y + 0.5 - cy);
      if (d <= r && d > 3) px.set([220, 30, 30], (y * w + x) * 3);
    }
  }
  return sharp(px, { raw: { width: w, height: h, channels: 3 } }).png().toBuffer();
}

/** A product shot: a dark blue rectangle with a yellow stripe, on white. */
async function boxOnWhite(): Promise<Buffer> {
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="300" height="400"><rect width="300" height="400" fill="#fff"/>
    <rect x="70" y="50" width="160" height="300" fill="#1a2a80"/><rect x="70" y="180" width="160" height="40" fill="#f0d020"/></svg>`;
  return sharp(Buffer.from(svg)).jpeg({ quality: 95 }).toBuffer();
}

let dir: string;
let assets: SimulationAssets;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'twinlens-simulate-'));
  // A clip-art folder and a background folder of our own, so the test does not depend on Debian packages.
  await mkdir(join(dir, 'clipart'));
  await mkdir(join(dir, 'bg'));
  for (let k = 0; k < 3; k++) {
    const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="80" height="60"><ellipse cx="40" cy="30" rx="38" ry="${20 + k * 4}" fill="#${['3a3', 'a33', '33a'][k]}"/></svg>`;
    await sharp(Buffer.from(svg)).png().toFile(join(dir, 'clipart', `obj${k}.png`));
  }
  await sharp({ create: { width: 400, height: 300, channels: 3, background: { r: 10, g: 200, b: 90 } } })
    .png()
    .toFile(join(dir, 'bg', 'green.png'));
  assets = await loadSimulationAssets({ backgroundDirs: [join(dir, 'bg')], clipartDir: join(dir, 'clipart') });
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('cut-out', () => {
  it('makes the border-connected white transparent, keeps the product and its enclosed white, crops to it', async () => {
    const p = await prepareProduct(await discOnWhite(200, 160, 50), { maxSide: 400, whiteThreshold: 235 });
    const s = p.sprite;
    // Cropped to the disc (diameter 100, soft edge may add a pixel on each side).
    expect(s.width).toBeGreaterThanOrEqual(99);
    expect(s.width).toBeLessThanOrEqual(102);
    expect(s.height).toBeGreaterThanOrEqual(99);
    expect(s.height).toBeLessThanOrEqual(102);
    const alpha = (x: number, y: number) => s.data[(y * s.width + x) * 4 + 3];
    const c = Math.floor(s.width / 2);
    expect(alpha(0, 0)).toBe(0); // corner of the box: outside the disc
    expect(alpha(c, c)).toBe(255); // white hole not connected to the border stays product
    expect(alpha(c + 25, c)).toBe(255); // red ring
    // Coverage mass ~ the disc area (pi * 50^2).
    let mass = 0;
    for (let i = 3; i < s.data.length; i += 4) mass += (s.data[i] as number) / 255;
    expect(mass / (Math.PI * 50 * 50)).toBeGreaterThan(0.95);
    expect(mass / (Math.PI * 50 * 50)).toBeLessThan(1.05);
    expect(p.backgroundFraction).toBeGreaterThan(0.7);
  });

  it('with maxEdgeStep, stops at a faint outline: a near-white product touching the background stays whole', async () => {
    // Background 255; a 60x60 product of level 248 (near-white by the threshold) in the middle.
    const w = 120;
    const px = Buffer.alloc(w * w * 3, 255);
    for (let y = 30; y < 90; y++) for (let x = 30; x < 90; x++) px.fill(248, (y * w + x) * 3, (y * w + x) * 3 + 3);
    const png = await sharp(px, { raw: { width: w, height: w, channels: 3 } }).png().toBuffer();
    const kept = await prepareProduct(png, { maxSide: 400, whiteThreshold: 245, maxEdgeStep: 3 });
    // The square less the 2 rings of light rim that are peeled to avoid halos.
    expect([kept.sprite.width, kept.sprite.height]).toEqual([56, 56]);
    expect(kept.sprite.data[(28 * 56 + 28) * 4 + 3]).toBe(255);
    const eaten = await prepareProduct(png, { maxSide: 400, whiteThreshold: 245 });
    // Without the edge rule the fill takes the product too; nothing is left, so the whole image is kept.
    expect([eaten.sprite.width, eaten.sprite.height]).toEqual([120, 120]);
  });

  it('peels a light rim left by the edge rule, so a dark product gets no white halo', async () => {
    const w = 160;
    const px = Buffer.alloc(w * w * 3, 255);
    for (let y = 0; y < w; y++) {
      for (let x = 0; x < w; x++) {
        const d = Math.hypot(x + 0.5 - 80, y + 0.5 - 80);
        if (d <= 40) px.fill(50, (y * w + x) * 3, (y * w + x) * 3 + 3);
        else if (d <= 42) px.fill(236, (y * w + x) * 3, (y * w + x) * 3 + 3); // a light anti-aliasing rim
      }
    }
    const png = await sharp(px, { raw: { width: w, height: w, channels: 3 } }).png().toBuffer();
    const p = await prepareProduct(png, { maxSide: 400, whiteThreshold: 245, maxEdgeStep: 3 });
    expect(p.sprite.width).toBeLessThanOrEqual(81); // the disc, not the disc and its rim (84)
    expect(p.sprite.width).toBeGreaterThanOrEqual(79);
  });

  it('keeps an image without a white border whole and opaque', async () => {
    const full = await sharp({ create: { width: 64, height: 48, channels: 3, background: { r: 120, g: 60, b: 20 } } }).png().toBuffer();
    const p = await prepareProduct(full, { maxSide: 400, whiteThreshold: 235 });
    expect([p.sprite.width, p.sprite.height]).toEqual([64, 48]);
    expect(p.sprite.data.filter((_, i) => i % 4 === 3).every((a) => a === 255)).toBe(true);
  });
});

describe('geometry', () => {
  it('keeps the product inside the frame under strong perspective and rotation when objectScale <= 1', async () => {
    const sim = createPhotoSimulator(assets, {
      perspective: [0.5, 0.7],
      rotationDeg: [-60, 60],
      objectScale: [0.8, 1],
      placementJitter: 1,
      layoutWeights: { single: 1, row: 0, pile: 0 },
      occlusionChance: 0,
    });
    const product = await sim.prepare(await boxOnWhite());
    for (let seed = 1; seed <= 12; seed++) {
      const p = sim.params(seed);
      const { box } = placeMain(product.sprite, p);
      expect(box.x0).toBeGreaterThanOrEqual(-1e-6);
      expect(box.y0).toBeGreaterThanOrEqual(-1e-6);
      expect(box.x1).toBeLessThanOrEqual(p.width + 1e-6);
      expect(box.y1).toBeLessThanOrEqual(p.height + 1e-6);
      const { mainProduct: m } = await sim.scene(product, seed);
      let border = 0;
      let mass = 0;
      for (let y = 0; y < m.height; y++) {
        for (let x = 0; x < m.width; x++) {
          const a = m.alpha[y * m.width + x] as number;
          mass += a;
          if (x === 0 || y === 0 || x === m.width - 1 || y === m.height - 1) border += a;
        }
      }
      expect(border).toBeLessThan(1); // at most a bilinear fringe on the edge
      expect(mass).toBeGreaterThan(500); // and the product is really there
    }
  });

  it('crops the product when objectScale is over 1', async () => {
    const sim = createPhotoSimulator(assets, { objectScale: 1.6, perspective: 0, rotationDeg: 0, placementJitter: 0, occlusionChance: 0 });
    const product = await sim.prepare(await boxOnWhite());
    const p = sim.params(3);
    const { box } = placeMain(product.sprite, p);
    expect(box.x1 - box.x0 > p.width || box.y1 - box.y0 > p.height).toBe(true);
  });
});

describe('occlusion', () => {
  it.each(['hand', 'clipart', 'tag'] as const)('a %s covers the requested fraction of the product', async (kind) => {
    for (const fraction of [0.15, 0.35]) {
      const sim = createPhotoSimulator(assets, {
        occlusionChance: 1,
        occlusionFraction: fraction,
        occluderWeights: { hand: kind === 'hand' ? 1 : 0, clipart: kind === 'clipart' ? 1 : 0, tag: kind === 'tag' ? 1 : 0 },
        objectScale: [0.5, 0.8],
        layoutWeights: { single: 1, row: 0, pile: 0 },
      });
      const product = await sim.prepare(await boxOnWhite());
      for (const seed of [11, 12, 13]) {
        const s = await sim.scene(product, seed);
        expect(sim.params(seed).occlusion?.kind).toBe(kind);
        expect(Math.abs(s.occludedFraction - fraction)).toBeLessThan(0.03);
      }
    }
  });

  it('no occluder when occlusionChance is 0', async () => {
    const sim = createPhotoSimulator(assets, { occlusionChance: 0 });
    const s = await sim.scene(await sim.prepare(await boxOnWhite()), 5);
    expect(s.occludedFraction).toBe(0);
  });
});

describe('glare', () => {
  it('brightens the product only, and only when drawn', async () => {
    const base = { occlusionChance: 0, clutterCount: 0, layoutWeights: { single: 1, row: 0, pile: 0 }, objectScale: 0.6 } as const;
    const product = await prepareProduct(await boxOnWhite(), { maxSide: 384, whiteThreshold: 245 });
    const plain = createPhotoSimulator(assets, { ...base, glareChance: 0 });
    const shiny = createPhotoSimulator(assets, { ...base, glareChance: 1, glareStrength: 0.9 });
    for (const seed of [21, 22, 23]) {
      expect(plain.params(seed).glare).toBeNull();
      expect(shiny.params(seed).glare).not.toBeNull();
      const a = await plain.scene({ sprite: product.sprite, backgroundFraction: 0 }, seed);
      const b = await shiny.scene({ sprite: product.sprite, backgroundFraction: 0 }, seed);
      // Counted, then asserted once: an expect per pixel made this one test take half a minute.
      let onProduct = 0;
      let changedOffProduct = 0;
      let darkenedOnProduct = 0;
      for (let i = 0; i < a.mainProduct.alpha.length; i++) {
        const d = (b.frame.rgb[i * 3] as number) - (a.frame.rgb[i * 3] as number);
        if ((a.mainProduct.alpha[i] as number) === 0) {
          if (d !== 0) changedOffProduct++;
        } else {
          if (d < -1e-3) darkenedOnProduct++;
          onProduct += d;
        }
      }
      expect({ changedOffProduct, darkenedOnProduct }).toEqual({ changedOffProduct: 0, darkenedOnProduct: 0 });
      expect(onProduct).toBeGreaterThan(1000);
    }
  });
});

describe('backgrounds', () => {
  it('uses a real background photo from the folder given', async () => {
    const sim = createPhotoSimulator(assets, {
      backgroundWeights: { photo: 1, shelf: 0, procedural: 0 },
      objectScale: 0.3,
      placementJitter: 0,
      clutterCount: 0,
      occlusionChance: 0,
      shadowOpacity: 0,
      layoutWeights: { single: 1, row: 0, pile: 0 },
    });
    const s = await sim.scene(await sim.prepare(await boxOnWhite()), 2);
    const px = Array.from(s.frame.rgb.subarray(0, 3)).map(Math.round);
    expect(px).toEqual([10, 200, 90]);
  });

  it('falls back to procedural surfaces when no background photos or clip-art exist', async () => {
    const bare = await loadSimulationAssets({ backgroundDirs: [join(dir, 'missing')], clipartDir: null });
    expect(bare.backgrounds).toHaveLength(0);
    expect(bare.clipart).toHaveLength(0);
    const sim = createPhotoSimulator(bare, { backgroundWeights: { photo: 1, shelf: 1, procedural: 0 } });
    expect(sim.params(1).background.source).toBe('procedural');
    const photo = await sim.photo(await sim.prepare(await boxOnWhite()), 1);
    expect((await sharp(photo.jpeg).metadata()).format).toBe('jpeg');
  });
});

describe('generic items', () => {
  it('come from clip-art the assets do not use as clutter, marked generic', async () => {
    const opts = { clipartDir: join(dir, 'clipart'), clipartCount: 1, backgroundDirs: [] };
    const assetsOne = await loadSimulationAssets(opts);
    expect(assetsOne.clipart).toHaveLength(1);
    const generic = await genericClipartItems(5, opts);
    expect(generic).toHaveLength(2); // 3 files, 1 used as clutter
    const { files } = await shuffledClipartFiles(opts);
    expect(generic.map((g) => g.imagePath)).toEqual(files.slice(1));
    expect(generic.every((g) => g.itemId.startsWith('generic:openclipart/obj') && g.metadata.generic === 'openclipart')).toBe(true);
    expect(await genericClipartItems(0, opts)).toEqual([]);
  });
});

describe('determinism and options', () => {
  it('same seed, same bytes; another seed, other bytes', async () => {
    const sim = createPhotoSimulator(assets);
    const product = await sim.prepare(await boxOnWhite());
    const a = await sim.photo(product, 42);
    const b = await sim.photo(product, 42);
    const c = await sim.photo(product, 43);
    expect(a.jpeg.equals(b.jpeg)).toBe(true);
    expect(a.jpeg.equals(c.jpeg)).toBe(false);
    expect(await sharp(a.jpeg).metadata()).toMatchObject({ format: 'jpeg' });
  });

  it('rejects bad options naming the field', () => {
    expect(() => resolvePhotoOptions({ longSidePx: 10 })).toThrow(/shortSidePx <= longSidePx/);
    expect(() => resolvePhotoOptions({ layoutWeights: { pile: -1 } })).toThrow(/layoutWeights.pile/);
    expect(() => resolvePhotoOptions({ proceduralKinds: [] })).toThrow(RangeError);
  });
});

describe('writeViewSet', () => {
  it('writes one clean view and K simulated views per item through the service decoder, deterministically', async () => {
    const images = [join(dir, 'a.jpg'), join(dir, 'b.png')];
    await writeFile(images[0]!, await boxOnWhite());
    await writeFile(images[1]!, await discOnWhite(200, 160, 50));
    const items = images.map((imagePath, i) => ({ itemId: `item-${i}`, imagePath, metadata: { top_category: 'X' } }));
    const sim = createPhotoSimulator(assets);
    const run = async (out: string) =>
      writeViewSet({ items, viewsPerItem: 3, outDir: out, seed: 7, decoder, simulator: sim, concurrency: 2, simulatorDescription: 'test' });
    const index = await run(join(dir, 'v1'));
    await run(join(dir, 'v2'));
    expect(index.count).toBe(8);
    expect(index.views.map((v) => `${v.item}${v.clean ? 'c' : 's'}`).join(' ')).toBe('0c 0s 0s 0s 1c 1s 1s 1s');
    const u8 = await readFile(join(dir, 'v1', 'views.u8'));
    expect(u8.length).toBe(8 * 224 * 224 * 3);
    expect(u8.equals(await readFile(join(dir, 'v2', 'views.u8')))).toBe(true);
    const json = JSON.parse(await readFile(join(dir, 'v1', 'views.json'), 'utf8'));
    expect(json).toMatchObject({ format: 'twinlens-views-v1', size: 224, count: 8, viewsPerItem: 3, items: [{ itemId: 'item-0' }, { itemId: 'item-1' }] });
    // The clean view is exactly what the service decoder makes of the catalog image.
    const clean = (await decoder.decode(await readFile(images[1]!))).rgb;
    expect(Buffer.from(clean).equals(u8.subarray(4 * 224 * 224 * 3, 5 * 224 * 224 * 3))).toBe(true);
  });
});
