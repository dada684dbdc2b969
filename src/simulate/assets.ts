/**
 * The images photo simulation draws from besides the product: real backgrounds, clip-art clutter
 * and occluders (all free and offline), loaded once per run.
 */
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { ASSET_DEFAULTS } from './defaults.js';
import { createRng } from './random.js';
import { loadSprite, type RgbaImage } from './raster.js';
import { drawOccluderSprites } from './sprites.js';

/** Options of {@link loadSimulationAssets}; defaults in {@link ASSET_DEFAULTS}. */
export interface SimulationAssetOptions {
  /** Folders of background photos; `[]` for none. */
  backgroundDirs?: readonly string[];
  /** Folder of transparent clip-art PNGs; `null` for none. */
  clipartDir?: string | null;
  clipartCount?: number;
  clipartMaxSide?: number;
  maxBackgrounds?: number;
  backgroundMaxSide?: number;
  seed?: number;
}

/** Loaded assets. Empty lists are fine: the simulator then skips that source. */
export interface SimulationAssets {
  /** Real background images (opaque sprites). */
  backgrounds: RgbaImage[];
  /** Clip-art objects (transparent sprites) for shelves, clutter and occlusion. */
  clipart: RgbaImage[];
  /** Drawn hands. */
  hands: RgbaImage[];
  /** Drawn price tags. */
  tags: RgbaImage[];
  /** What was loaded from where, for logs and views.json. */
  description: string;
}

const IMAGE_EXT = new Set(['.jpg', '.jpeg', '.png', '.webp', '.avif', '.tif', '.tiff', '.svg']);

async function listFiles(dir: string, exts: Set<string>): Promise<string[]> {
  let entries;
  try {
    entries = await fs.readdir(dir, { withFileTypes: true });
  } catch {
    return [];
  }
  const out: string[] = [];
  for (const e of entries) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...(await listFiles(p, exts)));
    else if (exts.has(path.extname(e.name).toLowerCase())) out.push(p);
  }
  return out.sort();
}

/** A seeded sample of `k` of `items`, in a stable order. */
function sample<T>(items: readonly T[], k: number, seed: number): T[] {
  const rng = createRng(seed);
  const a = [...items];
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
  return a.slice(0, k);
}

/**
 * Every clip-art file of the folder in the seeded order the assets use: the first `clipartCount`
 * become clutter and occluders, the rest are free for other uses (e.g. generic training items).
 */
export async function shuffledClipartFiles(options: SimulationAssetOptions = {}): Promise<{ files: string[]; usedAsAssets: number }> {
  const dir = options.clipartDir === undefined ? ASSET_DEFAULTS.clipartDir : options.clipartDir;
  if (!dir) return { files: [], usedAsAssets: 0 };
  const all = await listFiles(dir, new Set(['.png']));
  const files = sample(all, all.length, (options.seed ?? ASSET_DEFAULTS.seed) + 1);
  return { files, usedAsAssets: Math.min(files.length, options.clipartCount ?? ASSET_DEFAULTS.clipartCount) };
}

/** Loads the simulation assets; missing folders are skipped and said so in `description`. */
export async function loadSimulationAssets(options: SimulationAssetOptions = {}): Promise<SimulationAssets> {
  const o = { ...ASSET_DEFAULTS, ...Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) } as typeof ASSET_DEFAULTS & {
    clipartDir: string | null;
  };
  const bgFiles = sample((await Promise.all(o.backgroundDirs.map((d) => listFiles(d, IMAGE_EXT)))).flat(), o.maxBackgrounds, o.seed);
  const backgrounds: RgbaImage[] = [];
  for (const f of bgFiles.sort()) {
    try {
      backgrounds.push(await loadSprite(f, o.backgroundMaxSide));
    } catch {
      // An unreadable wallpaper is skipped: backgrounds are optional.
    }
  }
  const shuffled = await shuffledClipartFiles(o);
  const clipFiles = shuffled.files.slice(0, shuffled.usedAsAssets).sort();
  const clipart: RgbaImage[] = [];
  for (const f of clipFiles) {
    try {
      const s = await loadSprite(f, o.clipartMaxSide);
      if (s.width >= 8 && s.height >= 8) clipart.push(s);
    } catch {
      // Same: clip-art is optional.
    }
  }
  const { hands, tags } = await drawOccluderSprites(o.seed);
  const description =
    `${backgrounds.length} background photos from ${o.backgroundDirs.join(', ') || '(none)'}; ` +
    `${clipart.length} clip-art objects from ${o.clipartDir ?? '(none)'}; ${hands.length} drawn hands, ${tags.length} drawn price tags`;
  return { backgrounds, clipart, hands, tags, description };
}
