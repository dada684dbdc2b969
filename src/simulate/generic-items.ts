/**
 * Generic training items besides the user's catalog: free, offline clip-art objects (Debian's
 * openclipart-png, public domain) that the assets do not already use as clutter, so adaptation
 * does not see the catalog's classes as the whole world.
 */
import * as path from 'node:path';
import { shuffledClipartFiles, type SimulationAssetOptions } from './assets.js';
import { ASSET_DEFAULTS } from './defaults.js';
import type { SourceItem } from './catalog-source.js';

/** Up to `count` generic items (metadata `generic: openclipart`), the same for the same asset options. */
export async function genericClipartItems(count: number, assets: SimulationAssetOptions = {}): Promise<SourceItem[]> {
  if (count <= 0) return [];
  const { files, usedAsAssets } = await shuffledClipartFiles(assets);
  const dir = (assets.clipartDir === undefined ? ASSET_DEFAULTS.clipartDir : assets.clipartDir) ?? '';
  return files.slice(usedAsAssets, usedAsAssets + count).map((f) => {
    const rel = dir ? path.relative(dir, f).split(path.sep).join('/') : path.basename(f);
    return {
      itemId: `generic:openclipart/${rel.replace(/\.png$/i, '')}`,
      imagePath: f,
      metadata: { generic: 'openclipart', top_category: 'generic' },
    };
  });
}
