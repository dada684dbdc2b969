import sharp from 'sharp';
import { ColorEvidence, colorHistogram, colorSimilarity, HISTOGRAM_LENGTH } from '../../src/color/color-evidence.js';
import { InvalidImageError } from '../../src/errors/index.js';

/** `n` pixels of one colour, interleaved RGB. */
function pixels(n: number, rgb: [number, number, number]): Uint8Array {
  const a = new Uint8Array(n * 3);
  for (let i = 0; i < n; i++) a.set(rgb, 3 * i);
  return a;
}
const concat = (...parts: Uint8Array[]): Uint8Array => Uint8Array.from(parts.flatMap((p) => [...p]));

/** A disc of `fill` on white (a catalog image), or on `table` off the middle's edge (a photo). */
async function disc(fill: string, table = '#ffffff'): Promise<Buffer> {
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="240" height="200"><rect width="240" height="200" fill="${table}"/><circle cx="120" cy="100" r="60" fill="${fill}"/></svg>`;
  return sharp(Buffer.from(svg)).jpeg({ quality: 92 }).toBuffer();
}

describe('colorHistogram', () => {
  test('is the square root of a distribution: its self-similarity is 1', () => {
    const h = colorHistogram(concat(pixels(50, [200, 30, 30]), pixels(50, [30, 30, 200])));
    expect(h).toHaveLength(HISTOGRAM_LENGTH);
    expect(colorSimilarity(h, h)).toBeCloseTo(1, 5);
  });

  test('leaves the white around a product out', () => {
    const red = colorHistogram(pixels(100, [200, 30, 30]));
    const redOnWhite = colorHistogram(concat(pixels(100, [200, 30, 30]), pixels(900, [250, 250, 250])));
    expect(colorSimilarity(red, redOnWhite)).toBeCloseTo(1, 5);
  });

  test('tells apart hues, and greys by brightness', () => {
    const red = colorHistogram(pixels(100, [200, 30, 30]));
    const green = colorHistogram(pixels(100, [30, 200, 30]));
    const dark = colorHistogram(pixels(100, [40, 40, 40]));
    const light = colorHistogram(pixels(100, [200, 200, 200]));
    expect(colorSimilarity(red, green)).toBe(0);
    expect(colorSimilarity(dark, light)).toBe(0);
    expect(colorSimilarity(dark, colorHistogram(pixels(100, [45, 42, 40])))).toBeCloseTo(1, 5);
  });

  test('counts every pixel of an image that is (almost) all white', () => {
    const h = colorHistogram(pixels(100, [255, 255, 255]));
    expect(colorSimilarity(h, h)).toBeCloseTo(1, 5);
  });
});

describe('ColorEvidence', () => {
  const evidence = new ColorEvidence({ weight: 0.5, depth: 2, maxImagePixels: 50_000_000 });
  const images: Record<string, Buffer> = {};
  const loads: string[] = [];
  const catalog = {
    async get(itemId: string) {
      if (!images[itemId]) throw new Error(`no item ${itemId}`);
      return { imageSha256: `sha-${itemId}` };
    },
    async imageOf(itemId: string) {
      loads.push(itemId);
      return images[itemId];
    },
  };
  beforeAll(async () => {
    images.red = await disc('#c0281e');
    images.green = await disc('#2a9a32');
    images.blue = await disc('#2840b0');
  });

  test("scores highest the item whose colours the photo's middle shows", async () => {
    const query = await evidence.queryHistogram(await disc('#c0281e', '#6b4a2f'));
    const [green, red, blue] = await evidence.similarities(['green', 'red', 'blue'], query, catalog);
    expect(red).toBeGreaterThan(0.8);
    expect(red).toBeGreaterThan(2 * Math.max(green, blue));
  });

  test('computes a catalog image once, and gives an item it cannot read 0', async () => {
    loads.length = 0;
    const query = await evidence.queryHistogram(await disc('#2a9a32', '#6b4a2f'));
    const [gone, green] = await evidence.similarities(['gone', 'green'], query, catalog);
    expect(gone).toBe(0);
    expect(green).toBeGreaterThan(0.8);
    expect(loads).toEqual([]); // green was computed by the first test and kept
  });

  test('refuses a photo that is not an image', async () => {
    await expect(evidence.queryHistogram(Buffer.from('not an image'))).rejects.toBeInstanceOf(InvalidImageError);
  });
});
