/**
 * One call from a catalog to a view set on disk: loads the assets, simulates every item (on worker
 * threads when running compiled, else in-process) and writes views.u8 + views.json.
 */
import * as os from 'node:os';
import { DEFAULT_OPTIONS } from '../config/index.js';
import { createSharpDecoder, type SharpDecoderOptions } from '../imaging/index.js';
import { loadSimulationAssets, type SimulationAssetOptions } from './assets.js';
import type { PhotoOptions } from './photo-params.js';
import { createPhotoSimulator } from './simulate-photo.js';
import type { ViewSetIndex } from './view-set.js';
import { createWorkerRenderer, workersAvailable } from './worker-renderer.js';
import { writeViewSet, type SimulateSourceItem } from './write-view-set.js';

/** Options of {@link simulateCatalog}. */
export interface SimulateCatalogOptions {
  items: readonly SimulateSourceItem[];
  /** Simulated views per item (plus one clean view each). */
  viewsPerItem: number;
  outDir: string;
  /** Seed of every random choice. Default 1. */
  seed?: number;
  /** Side of the decoded square (the model's input size). Default 224. */
  size?: number;
  /** Worker threads; default: the number of cores. 0 renders in-process. */
  workers?: number;
  assets?: SimulationAssetOptions;
  photo?: PhotoOptions;
  onProgress?: (done: number, total: number) => void;
  /** Told once the assets are loaded. */
  onAssets?: (description: string) => void;
}

/** Simulates a catalog to `outDir`; returns the index and the seconds it took. */
export async function simulateCatalog(o: SimulateCatalogOptions): Promise<{ index: ViewSetIndex; seconds: number; workers: number }> {
  const started = Date.now();
  const seed = o.seed ?? 1;
  const decoderOptions: SharpDecoderOptions = {
    size: o.size ?? 224,
    maxImageBytes: DEFAULT_OPTIONS.maxImageBytes,
    maxImagePixels: DEFAULT_OPTIONS.maxImagePixels,
    maxImageFrames: DEFAULT_OPTIONS.maxImageFrames,
  };
  const cores = typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
  const workers = workersAvailable() ? Math.max(0, Math.floor(o.workers ?? cores)) : 0;
  const common = { items: o.items, viewsPerItem: o.viewsPerItem, outDir: o.outDir, seed, onProgress: o.onProgress };
  if (workers > 0) {
    const pool = await createWorkerRenderer({ assets: o.assets ?? {}, photo: o.photo ?? {}, decoder: decoderOptions, viewsPerItem: o.viewsPerItem, seed }, workers);
    o.onAssets?.(pool.description);
    try {
      const index = await writeViewSet({
        ...common,
        render: pool.render,
        concurrency: workers * 2,
        simulatorDescription: `src/simulate PHOTO_DEFAULTS + ${JSON.stringify(o.photo ?? {})}; ${pool.description}; decoded by the service decoder`,
      });
      return { index, seconds: (Date.now() - started) / 1000, workers };
    } finally {
      await pool.close();
    }
  }
  const assets = await loadSimulationAssets(o.assets);
  o.onAssets?.(assets.description);
  const index = await writeViewSet({
    ...common,
    decoder: createSharpDecoder(decoderOptions),
    simulator: createPhotoSimulator(assets, o.photo),
    concurrency: 4,
    simulatorDescription: `src/simulate PHOTO_DEFAULTS + ${JSON.stringify(o.photo ?? {})}; ${assets.description}; decoded by the service decoder`,
  });
  return { index, seconds: (Date.now() - started) / 1000, workers: 0 };
}
