/**
 * Regression of a fuzz finding: a ~200-byte PNG (or AVIF) whose header declares 49,999,999 x 1
 * pixels passed the 50 Mpx limit, and libvips then buffered ~2 GB of rows for seconds before the
 * missing data failed it. A side over MAX_IMAGE_SIDE is now refused from the header.
 */
import { crc32 } from 'node:zlib';
import sharp from 'sharp';
import { createSharpDecoder, MAX_IMAGE_SIDE } from '../../src/imaging/index.js';

const decoder = createSharpDecoder({ size: 224, maxImageBytes: 20 * 1024 * 1024, maxImagePixels: 50_000_000 });

async function pngDeclaring(width: number, height: number): Promise<Buffer> {
  const png = Buffer.from(await sharp({ create: { width: 8, height: 8, channels: 4, background: '#3060c0' } }).png().toBuffer());
  png.writeUInt32BE(width, 16);
  png.writeUInt32BE(height, 20);
  png.writeUInt32BE(crc32(png.subarray(12, 29)) >>> 0, 29);
  return png;
}

async function avifDeclaring(width: number, height: number): Promise<Buffer> {
  const avif = Buffer.from(await sharp({ create: { width: 16, height: 16, channels: 3, background: '#30c060' } }).avif({ effort: 0 }).toBuffer());
  const at = avif.indexOf('ispe', 0, 'latin1');
  avif.writeUInt32BE(width, at + 8);
  avif.writeUInt32BE(height, at + 12);
  return avif;
}

describe('a side over MAX_IMAGE_SIDE is refused from the header, at once', () => {
  test.each([
    ['PNG 49,999,999 x 1', () => pngDeclaring(49_999_999, 1), '49999999x1'],
    ['PNG 1 x 49,999,999', () => pngDeclaring(1, 49_999_999), '1x49999999'],
    ['PNG 1,000,000 x 49', () => pngDeclaring(1_000_000, 49), '1000000x49'],
    ['AVIF 49,999,999 x 1', () => avifDeclaring(49_999_999, 1), '49999999x1'],
  ])('%s', async (_name, make, size) => {
    const bytes = await make();
    // Only the header check says "a side over the limit", and it runs before any pixel is decoded.
    await expect(decoder.decode(bytes)).rejects.toThrow(`image is ${size} pixels, a side over the limit of ${MAX_IMAGE_SIDE} pixels`);
  });

  test(`a real ${MAX_IMAGE_SIDE} x 4 strip still decodes`, async () => {
    const strip = await sharp({ create: { width: MAX_IMAGE_SIDE, height: 4, channels: 3, background: '#808080' } }).png().toBuffer();
    await expect(decoder.decode(strip)).resolves.toMatchObject({ sourceWidth: MAX_IMAGE_SIDE, sourceHeight: 4, format: 'png' });
  });
});
