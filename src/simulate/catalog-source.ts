/**
 * The items of a catalog source: a folder of images or a catalog.csv in the benchmark format.
 */
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { readCatalogCsv } from '../eval/benchmark-csv.js';

const IMAGE_EXTENSIONS = new Set(['.jpg', '.jpeg', '.png', '.webp', '.avif', '.gif', '.tif', '.tiff']);

/** A catalog item: its id, image path and metadata. */
export interface SourceItem {
  itemId: string;
  imagePath: string;
  metadata: Record<string, string>;
}

async function listImages(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await fs.readdir(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...(await listImages(p)));
    else if (IMAGE_EXTENSIONS.has(path.extname(e.name).toLowerCase())) out.push(p);
  }
  return out.sort();
}

/**
 * Items of a folder (every image below it; the id is its path relative to the folder without the
 * extension, with '/' separators) or of a catalog.csv in the benchmark format.
 */
export async function sourceItems(source: string): Promise<SourceItem[]> {
  if ((await fs.stat(source)).isDirectory()) {
    return (await listImages(source)).map((p) => {
      const rel = path.relative(source, p).split(path.sep).join('/');
      return { itemId: rel.slice(0, rel.length - path.extname(rel).length).replace(/[^A-Za-z0-9._\-:/]/g, '_'), imagePath: p, metadata: { file: rel } };
    });
  }
  return (await readCatalogCsv(source)).map((i) => ({ itemId: i.itemId, imagePath: i.imagePath, metadata: i.metadata }));
}
