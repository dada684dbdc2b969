/**
 * A picture of samples: per row, a catalog image then simulated photos of it, each shown as the
 * model sees it (the service decoder's square).
 */
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import sharp from 'sharp';
import type { ImageDecoder } from '../imaging/index.js';
import type { PhotoSimulator } from './simulate-photo.js';
import { viewSeed } from './write-view-set.js';

/** Options of {@link writeContactSheet}. */
export interface ContactSheetOptions {
  /** Encoded catalog images, one row each. */
  images: readonly Buffer[];
  simulator: PhotoSimulator;
  /** The service decoder: tiles are exactly the model's input. */
  decoder: ImageDecoder;
  /** Simulated photos per row. */
  viewsPerRow: number;
  seed: number;
  /** Path to write: `.png` (256-colour palette) or `.jpg`. */
  outPath: string;
  /** White gap between tiles in pixels; default 4. */
  gapPx?: number;
}

/** Writes the contact sheet PNG; returns its size in pixels. */
export async function writeContactSheet(o: ContactSheetOptions): Promise<{ width: number; height: number }> {
  const rows: Uint8Array[][] = [];
  let size = 0;
  for (const [i, image] of o.images.entries()) {
    const clean = await o.decoder.decode(image);
    size = clean.size;
    const row = [clean.rgb];
    const product = await o.simulator.prepare(image);
    for (let v = 0; v < o.viewsPerRow; v++) {
      const photo = await o.simulator.photo(product, viewSeed(o.seed, i, v));
      row.push((await o.decoder.decode(photo.jpeg)).rgb);
    }
    rows.push(row);
  }
  const gap = o.gapPx ?? 4;
  const cols = o.viewsPerRow + 1;
  const width = cols * size + (cols + 1) * gap;
  const height = rows.length * size + (rows.length + 1) * gap;
  const sheet = Buffer.alloc(width * height * 3, 255);
  rows.forEach((row, r) =>
    row.forEach((tile, c) => {
      const x0 = gap + c * (size + gap);
      const y0 = gap + r * (size + gap);
      for (let y = 0; y < size; y++) sheet.set(tile.subarray(y * size * 3, (y + 1) * size * 3), ((y0 + y) * width + x0) * 3);
    }),
  );
  await fs.mkdir(path.dirname(path.resolve(o.outPath)), { recursive: true });
  const img = sharp(sheet, { raw: { width, height, channels: 3 } });
  // A 256-colour PNG (or a JPEG by extension) keeps a committed sheet under 1 MB; tiles are otherwise the model's input.
  await (/\.jpe?g$/i.test(o.outPath) ? img.jpeg({ quality: 90 }) : img.png({ palette: true, colors: 256, compressionLevel: 9, effort: 10 })).toFile(o.outPath);
  return { width, height };
}
