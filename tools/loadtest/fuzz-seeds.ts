import sharp from 'sharp';
import { createRng } from '../../src/demo/index.js';

/**
 * What the server must answer for a seed left intact: `accepted` seeds decode (OK), `refused` ones
 * are formats the service does not take (SVG, BMP, PDF, ...) and must get INVALID_ARGUMENT.
 */
export type SeedVerdict = 'accepted' | 'refused';

/** The container a seed is in, for the format-aware mutations. */
export type SeedContainer = 'jpeg' | 'png' | 'webp' | 'avif' | 'gif' | 'tiff' | 'other';

/** One valid starting file of the fuzz corpus. */
export interface FuzzSeed {
  /** e.g. `jpeg-exif-orientation-6`. */
  name: string;
  container: SeedContainer;
  verdict: SeedVerdict;
  bytes: Buffer;
}

/** A smooth, busy `width` x `height` RGB(A) picture for `seed`: gradients, rings and a few blocks. */
function patternPixels(seed: number, width: number, height: number, channels: 3 | 4): Buffer {
  const rng = createRng(seed);
  const c = Array.from({ length: 9 }, () => rng());
  const px = Buffer.alloc(width * height * channels);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const u = x / width;
      const v = y / height;
      const ring = Math.sin(((u - c[6]) ** 2 + (v - c[7]) ** 2) * 40 * (0.5 + c[8]));
      const block = ((x >> 3) + (y >> 3)) % 2;
      const i = (y * width + x) * channels;
      px[i] = Math.round(255 * (c[0] * u + (1 - c[0]) * (0.5 + 0.5 * ring)));
      px[i + 1] = Math.round(255 * (c[1] * v + (1 - c[1]) * block));
      px[i + 2] = Math.round(255 * (c[2] * (1 - u) * v + (1 - c[2]) * (0.5 - 0.5 * ring)));
      if (channels === 4) px[i + 3] = Math.round(255 * (0.3 + 0.7 * Math.abs(ring)));
    }
  }
  return px;
}

function picture(seed: number, width: number, height: number, channels: 3 | 4 = 3): sharp.Sharp {
  return sharp(patternPixels(seed, width, height, channels), { raw: { width, height, channels } });
}

/** Frames of an animation, as PNGs for sharp's `join: { animated: true }`. */
async function frames(seed: number, count: number, size: number): Promise<Buffer[]> {
  return Promise.all(Array.from({ length: count }, (_, i) => picture(seed + i, size, size, 4).png().toBuffer()));
}

/** A 24-bit BMP: a format sharp's prebuilt libvips cannot read at all. */
function bmp(width: number, height: number): Buffer {
  const row = Math.ceil((width * 3) / 4) * 4;
  const b = Buffer.alloc(54 + row * height, 0x80);
  b.write('BM', 0, 'latin1');
  b.writeUInt32LE(b.length, 2);
  b.writeUInt32LE(54, 10);
  b.writeUInt32LE(40, 14);
  b.writeInt32LE(width, 18);
  b.writeInt32LE(height, 22);
  b.writeUInt16LE(1, 26);
  b.writeUInt16LE(24, 28);
  return b;
}

/** The AVIF with its brands and item type renamed to HEVC: a HEIF flavour that is not accepted. */
function asHeic(avif: Buffer): Buffer {
  const b = Buffer.from(avif);
  for (const [from, to] of [
    ['avif', 'heic'],
    ['av01', 'hvc1'],
    ['av1C', 'hvcC'],
  ]) {
    for (let i = b.indexOf(from, 0, 'latin1'); i >= 0; i = b.indexOf(from, i + 4, 'latin1')) b.write(to, i, 'latin1');
  }
  return b;
}

const SVG = (w: number, h: number, body: string): Buffer =>
  Buffer.from(`<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="${w}" height="${h}">${body}</svg>`);

/** Nested entities that would expand to ~10^9 characters: an XML bomb in an SVG. */
const BILLION_LAUGHS = Buffer.from(
  '<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY a "aaaaaaaaaa">' +
    Array.from({ length: 8 }, (_, i) => `<!ENTITY ${String.fromCharCode(98 + i)} "${`&${String.fromCharCode(97 + i)};`.repeat(10)}">`).join('') +
    ']><svg xmlns="http://www.w3.org/2000/svg" width="64" height="64"><text y="20">&i;</text></svg>',
);

/**
 * The fuzz corpus: small valid files in every accepted format and flavour (baseline, progressive,
 * EXIF-rotated and CMYK JPEG; grey, 16-bit, palette, interlaced and transparent PNG; lossy, lossless,
 * transparent and animated WebP; AVIF with and without alpha; still, transparent and animated GIF;
 * LZW, JPEG-compressed, tiled and multi-page TIFF), plus files of formats the service refuses (SVG,
 * including an XML bomb and an external reference, HEIC, BMP, PDF, PPM, text). Deterministic.
 */
export async function makeFuzzSeeds(): Promise<FuzzSeed[]> {
  const ok = (name: string, container: SeedContainer, bytes: Buffer): FuzzSeed => ({ name, container, verdict: 'accepted', bytes });
  const refused = (name: string, bytes: Buffer): FuzzSeed => ({ name, container: 'other', verdict: 'refused', bytes });
  const avif = await picture(6, 48, 40).avif({ effort: 0, quality: 40 }).toBuffer();
  const seeds: FuzzSeed[] = [
    ok('jpeg-baseline', 'jpeg', await picture(1, 96, 64).jpeg({ quality: 85 }).toBuffer()),
    ok('jpeg-progressive', 'jpeg', await picture(2, 80, 80).jpeg({ progressive: true, quality: 75 }).toBuffer()),
    ok('jpeg-exif-orientation-6', 'jpeg', await picture(3, 96, 48).jpeg().withMetadata({ orientation: 6 }).toBuffer()),
    ok('jpeg-cmyk', 'jpeg', await picture(4, 64, 64).toColourspace('cmyk').jpeg().toBuffer()),
    ok('jpeg-grey-444', 'jpeg', await picture(5, 72, 56).greyscale().jpeg({ chromaSubsampling: '4:4:4' }).toBuffer()),
    ok('png-rgb', 'png', await picture(11, 64, 48).png().toBuffer()),
    ok('png-rgba', 'png', await picture(12, 48, 48, 4).png().toBuffer()),
    ok('png-grey16', 'png', await picture(13, 40, 40).toColourspace('grey16').png().toBuffer()),
    ok('png-palette', 'png', await picture(14, 64, 64).png({ palette: true, colours: 16 }).toBuffer()),
    ok('png-interlaced', 'png', await picture(15, 56, 56).png({ progressive: true }).toBuffer()),
    ok('webp-lossy', 'webp', await picture(21, 64, 64).webp({ quality: 60 }).toBuffer()),
    ok('webp-lossless', 'webp', await picture(22, 48, 48).webp({ lossless: true }).toBuffer()),
    ok('webp-alpha', 'webp', await picture(23, 48, 48, 4).webp().toBuffer()),
    ok('webp-animated', 'webp', await sharp(await frames(24, 3, 32), { join: { animated: true } }).webp().toBuffer()),
    ok('avif', 'avif', avif),
    ok('avif-alpha', 'avif', await picture(7, 40, 40, 4).avif({ effort: 0, quality: 40 }).toBuffer()),
    ok('gif', 'gif', await picture(31, 64, 48).gif().toBuffer()),
    ok('gif-transparent', 'gif', await picture(32, 48, 48, 4).gif().toBuffer()),
    ok('gif-animated', 'gif', await sharp(await frames(33, 4, 32), { join: { animated: true } }).gif().toBuffer()),
    ok('tiff-lzw', 'tiff', await picture(41, 48, 40).tiff({ compression: 'lzw' }).toBuffer()),
    ok('tiff-jpeg', 'tiff', await picture(42, 64, 64).tiff({ compression: 'jpeg', quality: 70 }).toBuffer()),
    ok('tiff-tiled-deflate', 'tiff', await picture(43, 64, 64).tiff({ compression: 'deflate', tile: true, tileWidth: 16, tileHeight: 16 }).toBuffer()),
    ok('tiff-multipage', 'tiff', await sharp(await frames(44, 3, 24), { join: { animated: true } }).tiff().toBuffer()),
    refused('svg', SVG(64, 64, '<rect width="64" height="64" fill="#c03030"/><circle cx="32" cy="32" r="20" fill="#fff"/>')),
    refused('svg-external-href', SVG(64, 64, '<image xlink:href="file:///etc/passwd" href="file:///etc/passwd" width="64" height="64"/>')),
    refused('svg-huge', SVG(200000, 200000, '<rect width="200000" height="200000" fill="#3030c0"/>')),
    refused('svg-xml-bomb', BILLION_LAUGHS),
    refused('heic', asHeic(avif)),
    refused('bmp', bmp(32, 32)),
    refused('pdf', Buffer.from('%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n')),
    refused('ppm', Buffer.concat([Buffer.from('P6\n8 8\n255\n'), Buffer.alloc(192, 0x7f)])),
    refused('text', Buffer.from('this is not an image, just a line of text\n')),
  ];
  return seeds;
}

/**
 * A clean 160 px JPEG unlike every seed (concentric circles, no checkerboard): stored before a fuzz
 * run, it must still be the top hit for itself afterwards.
 */
export function anchorImage(): Promise<Buffer> {
  const rings = Array.from({ length: 8 }, (_, i) => `<circle cx="80" cy="80" r="${75 - i * 9}" fill="${i % 2 ? '#f2c230' : '#1d3f8c'}"/>`).join('');
  return sharp(SVG(160, 160, `<rect width="160" height="160" fill="#fff"/>${rings}`)).jpeg({ quality: 90 }).toBuffer();
}
