/**
 * Writes demo watches and their degraded "phone photo" versions to disk, for eyeballing.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { degradeImage, type DegradeOptions } from '../simulate/degrade-image.js';
import { CATALOG_DEFAULTS } from './defaults.js';
import { generateDemoCatalog } from './demo-catalog.js';
import { createRng } from '../simulate/random.js';

/** Files written for one sample. */
export interface DemoSampleFiles {
  itemId: string;
  /** The studio shot, `<itemId>.jpg`. */
  clean: string;
  /** The degraded photo, `<itemId>-degraded.jpg`. */
  degraded: string;
}

/**
 * Renders the first `count` demo catalog watches and a degraded copy of each
 * as JPEG files in `dir` (created if missing).
 *
 * @param dir output folder.
 * @param count number of watches.
 * @param options catalog seed and degradation knobs; the degradation of item
 *   `i` uses `createRng(seed * 1000 + i)`.
 * @returns the written paths, in catalog order.
 */
export async function writeDemoSamples(
  dir: string,
  count: number,
  options: { seed?: number; degrade?: DegradeOptions } = {},
): Promise<DemoSampleFiles[]> {
  await mkdir(dir, { recursive: true });
  const seed = options.seed ?? CATALOG_DEFAULTS.seed;
  const items = await generateDemoCatalog({ count, seed });
  const written: DemoSampleFiles[] = [];
  for (const [i, item] of items.entries()) {
    const clean = join(dir, `${item.itemId}.jpg`);
    const degraded = join(dir, `${item.itemId}-degraded.jpg`);
    await writeFile(clean, item.image);
    await writeFile(degraded, await degradeImage(item.image, options.degrade ?? {}, createRng(seed * 1000 + i)));
    written.push({ itemId: item.itemId, clean, degraded });
  }
  return written;
}
