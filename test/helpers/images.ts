/** Test images, made with sharp: distinct pictures, every accepted format, and deliberately bad bytes. */
import { crc32 } from 'node:zlib';
import sharp from 'sharp';
import { createRng } from '../../src/demo/index.js';

export type Format = 'jpeg' | 'png' | 'webp' | 'avif' | 'gif' | 'tiff';

/**
 * A distinct picture for `seed`: a few coloured circles, rectangles and stripes on a tinted
 * background, `size` x `size`, encoded as `format`. Different seeds give visibly different images.
 */
export async function patternImage(seed: number, format: Format = 'jpeg', size = 256): Promise<Buffer> {
  const rnd = createRng(seed * 7919 + 17);
  const color = (): string => `rgb(${Math.floor(rnd() * 256)},${Math.floor(rnd() * 256)},${Math.floor(rnd() * 256)})`;
  const shapes: string[] = [];
  for (let i = 0; i < 6; i++) {
    const x = Math.floor(rnd() * size);
    const y = Math.floor(rnd() * size);
    const r = Math.floor(size * (0.08 + rnd() * 0.25));
    shapes.push(
      rnd() < 0.5
        ? `<circle cx="${x}" cy="${y}" r="${r}" fill="${color()}"/>`
        : `<rect x="${x - r}" y="${y - r}" width="${2 * r}" height="${Math.floor(r * (0.5 + rnd()))}" fill="${color()}" transform="rotate(${Math.floor(rnd() * 90)} ${x} ${y})"/>`,
    );
  }
  const stripes = Math.floor(2 + rnd() * 10);
  for (let i = 0; i < stripes; i++) {
    shapes.push(`<rect x="0" y="${Math.floor((i * size) / stripes)}" width="${size}" height="${Math.max(1, Math.floor(size / stripes / 3))}" fill="${color()}" opacity="0.5"/>`);
  }
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${size}" height="${size}"><rect width="${size}" height="${size}" fill="${color()}"/>${shapes.join('')}</svg>`;
  return encode(sharp(Buffer.from(svg)), format);
}

/** Encodes a sharp pipeline as `format`. */
export function encode(image: sharp.Sharp, format: Format): Promise<Buffer> {
  switch (format) {
    case 'jpeg':
      return image.jpeg({ quality: 90 }).toBuffer();
    case 'png':
      return image.png().toBuffer();
    case 'webp':
      return image.webp().toBuffer();
    case 'avif':
      return image.avif({ effort: 0 }).toBuffer();
    case 'gif':
      return image.gif().toBuffer();
    case 'tiff':
      return image.tiff().toBuffer();
  }
}

/** A real JPEG cut in half: the header is intact, the entropy-coded data ends early. */
export async function truncatedJpeg(): Promise<Buffer> {
  const jpeg = await patternImage(4242, 'jpeg', 320);
  return jpeg.subarray(0, Math.floor(jpeg.length / 2));
}

/** `n` pseudo-random bytes (deterministic), which are no image format. */
export function randomBytes(n = 4096, seed = 99): Buffer {
  const rnd = createRng(seed);
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = Math.floor(rnd() * 256);
  // Make sure it does not start with any image signature by accident.
  b[0] = 0x00;
  return b;
}

/**
 * A decompression bomb's header: a valid 8x8 PNG whose IHDR is patched (with a correct CRC) to
 * declare `width` x `height`. A careless server would try to allocate width*height*3 bytes.
 */
export async function pngDeclaring(width: number, height: number): Promise<Buffer> {
  const png = Buffer.from(await sharp({ create: { width: 8, height: 8, channels: 3, background: '#3060c0' } }).png().toBuffer());
  // Signature (8) | IHDR: length (4) 'IHDR' (4) width (4) height (4) ... (5) | CRC over type+data (4)
  if (png.toString('latin1', 12, 16) !== 'IHDR') throw new Error('unexpected PNG layout');
  png.writeUInt32BE(width, 16);
  png.writeUInt32BE(height, 20);
  png.writeUInt32BE(crc32(png.subarray(12, 29)) >>> 0, 29);
  return png;
}

/** An SVG document: decodable by sharp, but not an accepted format (it can reference files). */
export function svgBytes(): Buffer {
  return Buffer.from(
    '<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64"><rect width="64" height="64" fill="#c03030"/><circle cx="32" cy="32" r="20" fill="#fff"/></svg>',
  );
}

/** A valid JPEG of roughly `minBytes` or more (high-entropy noise compresses badly). */
export async function largeJpeg(minBytes: number): Promise<Buffer> {
  let side = 512;
  for (;;) {
    const noise = randomBytes(side * side * 3, side);
    const jpeg = await sharp(noise, { raw: { width: side, height: side, channels: 3 } }).jpeg({ quality: 100 }).toBuffer();
    if (jpeg.length >= minBytes) return jpeg;
    side *= 2;
  }
}

/** A valid small JPEG whose start-of-frame marker is patched to declare `width` x `height` (each < 65536). */
export async function jpegDeclaring(width: number, height: number): Promise<Buffer> {
  const jpeg = Buffer.from(await sharp({ create: { width: 16, height: 16, channels: 3, background: '#30c060' } }).jpeg().toBuffer());
  // Walk the marker segments to the first SOFn (FFC0..FFCF except C4 DHT, C8 JPG, CC DAC).
  let p = 2;
  while (p + 4 <= jpeg.length) {
    if (jpeg[p] !== 0xff) throw new Error(`unexpected JPEG layout at ${p}`);
    const marker = jpeg[p + 1];
    const length = jpeg.readUInt16BE(p + 2);
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      // length (2) precision (1) height (2) width (2)
      jpeg.writeUInt16BE(height, p + 5);
      jpeg.writeUInt16BE(width, p + 7);
      return jpeg;
    }
    p += 2 + length;
  }
  throw new Error('no start-of-frame marker found');
}

/**
 * A confirmed-photo stand-in for the warm-path suites: item `item`'s picture ({@link patternImage}),
 * 80 px, on background `background` (another pattern, 256 px), at a place that depends on both (and
 * on `shot`) within `span` pixels.
 */
export async function productOnBackground(item: number, background: number, shot = 0, span = 150): Promise<Buffer> {
  const product = await sharp(await patternImage(item)).resize(80, 80).toBuffer();
  const left = 20 + ((item * 37 + background * 53 + shot * 61) % span);
  const top = 20 + ((item * 71 + background * 29 + shot * 43) % span);
  return sharp(await patternImage(1000 + background))
    .composite([{ input: product, left, top }])
    .jpeg({ quality: 90 })
    .toBuffer();
}
