import sharp from 'sharp';
import { createSharpDecoder } from '../../src/imaging/index.js';
import { InvalidImageError } from '../../src/errors/index.js';

const decoder = createSharpDecoder({ size: 32, maxImageBytes: 1_000_000, maxImagePixels: 4_000_000 });

/** A 64x32 image: left half red, right half blue. */
function halves(): sharp.Sharp {
  const w = 64;
  const h = 32;
  const px = Buffer.alloc(w * h * 3);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) px.set(x < w / 2 ? [255, 0, 0] : [0, 0, 255], (y * w + x) * 3);
  return sharp(px, { raw: { width: w, height: h, channels: 3 } });
}

function pixel(rgb: Uint8Array, size: number, x: number, y: number): number[] {
  const o = (y * size + x) * 3;
  return [rgb[o], rgb[o + 1], rgb[o + 2]];
}

describe('createSharpDecoder', () => {
  it.each(['jpeg', 'png', 'webp', 'avif', 'gif', 'tiff'] as const)('decodes %s to size x size RGB', async (format) => {
    const bytes = await halves().toFormat(format).toBuffer();
    const img = await decoder.decode(bytes);
    expect(img.format).toBe(format);
    expect(img.rgb.length).toBe(32 * 32 * 3);
    expect([img.sourceWidth, img.sourceHeight]).toEqual([64, 32]);
    const [r, , b] = pixel(img.rgb, 32, 4, 16);
    expect(r).toBeGreaterThan(150);
    expect(b).toBeLessThan(100);
  });

  it('applies the EXIF orientation (6: rotate 90 degrees clockwise)', async () => {
    const bytes = await halves().jpeg().withMetadata({ orientation: 6 }).toBuffer();
    const img = await decoder.decode(bytes);
    expect([img.sourceWidth, img.sourceHeight]).toEqual([32, 64]);
    // After a clockwise quarter turn the red left half is on top.
    expect(pixel(img.rgb, 32, 16, 4)[0]).toBeGreaterThan(150);
    expect(pixel(img.rgb, 32, 16, 28)[2]).toBeGreaterThan(150);
  });

  it('flattens transparency onto white', async () => {
    const clear = await sharp({ create: { width: 20, height: 20, channels: 4, background: { r: 0, g: 0, b: 0, alpha: 0 } } })
      .png()
      .toBuffer();
    const img = await decoder.decode(clear);
    expect(pixel(img.rgb, 32, 10, 10)).toEqual([255, 255, 255]);
  });

  describe('invalid input fails with InvalidImageError', () => {
    it('empty bytes', async () => {
      await expect(decoder.decode(Buffer.alloc(0))).rejects.toThrow(new InvalidImageError('image is empty (0 bytes)'));
    });
    it('random bytes', async () => {
      await expect(decoder.decode(Buffer.from('definitely not an image, just text'))).rejects.toThrow(/could not be read/);
    });
    it('a truncated JPEG', async () => {
      const jpeg = await sharp({ create: { width: 300, height: 300, channels: 3, background: '#836' } })
        .composite([{ input: await halves().png().toBuffer(), top: 10, left: 10 }])
        .jpeg()
        .toBuffer();
      await expect(decoder.decode(jpeg.subarray(0, jpeg.length >> 1))).rejects.toThrow(InvalidImageError);
    });
    it('more bytes than maxImageBytes', async () => {
      const small = createSharpDecoder({ size: 32, maxImageBytes: 100, maxImagePixels: 4_000_000 });
      await expect(small.decode(await halves().png().toBuffer())).rejects.toThrow(/over the limit of 100 bytes/);
    });
    it('more pixels than maxImagePixels', async () => {
      const big = await sharp({ create: { width: 2100, height: 2000, channels: 3, background: '#fff' } }).png().toBuffer();
      await expect(decoder.decode(big)).rejects.toThrow(/pixel/);
    });
    it('SVG (can reference external files)', async () => {
      const svg = Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10"/></svg>');
      await expect(decoder.decode(svg)).rejects.toThrow(/format 'svg' is not accepted/);
    });
  });
});
