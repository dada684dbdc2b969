/**
 * Catalog view averaging and query mirroring: how one image becomes the vector a catalog item is
 * stored under, and the vector a query photo is searched with.
 *
 * A catalog image is a clean product shot; queries are phone photos. Storing each item as the mean
 * of its clean embedding and the embeddings of `views` simulated photos of it (src/simulate: cut
 * out, placed on real and drawn backgrounds, lit badly, blurred, occluded) moves the stored vector
 * toward where photos of that item land. A query is embedded with its mirror image and the two are
 * averaged. Measured on grocery-dev (README "Measured"); no benchmark photo is used to make views.
 */
import type { DecodedImage, ImageDecoder } from '../imaging/index.js';
import { type Embedder, l2Normalize, type TwinFeatures } from '../model/index.js';
import {
  createPhotoSimulator,
  createWorkerPhotoRenderer,
  hashBytes,
  loadSimulationAssets,
  photosOf,
  type SimulationAssetOptions,
  viewSeed,
  workersAvailable,
} from '../simulate/index.js';

/** Options of {@link createCatalogViewSource}. */
export interface CatalogViewOptions {
  /** Simulated photos averaged into each catalog item's vector; 0 stores the clean image's vector alone. */
  views: number;
  /** Seed of the simulation; with the image bytes it fixes every view, so re-embedding is reproducible. */
  seed: number;
  /** Simulation worker threads (0: simulate on the calling thread, which blocks it ~30 ms a view). */
  workers: number;
  /**
   * Backgrounds and clip-art. Default {@link CATALOG_VIEW_ASSETS}: drawn ones only, so the stored
   * vectors do not depend on which image packages the machine has.
   */
  assets?: SimulationAssetOptions;
}

/**
 * The service's view assets: none from the file system (no /usr/share/backgrounds photos, no
 * openclipart), so the same image gives the same catalog vector on every machine. The simulator
 * draws its surfaces, shelves, hands and tags itself.
 */
export const CATALOG_VIEW_ASSETS: Readonly<SimulationAssetOptions> = { backgroundDirs: [], clipartDir: null };

/** Simulated photos of catalog images. */
export interface CatalogViewSource {
  readonly views: number;
  /** `views` simulated photos (JPEG) of a catalog image; the same bytes always give the same photos. */
  photos(image: Uint8Array): Promise<Uint8Array[]>;
  close(): Promise<void>;
}

/** Makes photos for a list of seeds; what the worker pool or the in-process simulator provides. */
interface PhotoRenderer {
  photos(image: Uint8Array, seeds: number[]): Promise<Uint8Array[]>;
  close(): Promise<void>;
}

async function startRenderer(o: CatalogViewOptions): Promise<PhotoRenderer> {
  if (o.workers > 0 && workersAvailable()) return createWorkerPhotoRenderer({ assets: o.assets ?? CATALOG_VIEW_ASSETS, photo: {} }, o.workers);
  const simulator = createPhotoSimulator(await loadSimulationAssets(o.assets ?? CATALOG_VIEW_ASSETS));
  return { photos: (image, seeds) => photosOf(simulator, image, seeds), close: async () => undefined };
}

/**
 * A source of simulated catalog views, or null when `views` is 0. The simulation (worker threads,
 * background and clip-art assets, a few seconds to load) starts on the first catalog image, so a
 * server that only searches never pays for it.
 */
export function createCatalogViewSource(o: CatalogViewOptions): CatalogViewSource | null {
  if (o.views <= 0) return null;
  let renderer: Promise<PhotoRenderer> | undefined;
  const seedsOf = (image: Uint8Array): number[] => {
    const key = hashBytes(image);
    return Array.from({ length: o.views }, (_, v) => viewSeed(o.seed, key, v));
  };
  return {
    views: o.views,
    async photos(image) {
      renderer ??= startRenderer(o);
      return (await renderer).photos(image, seedsOf(image));
    },
    async close() {
      const r = renderer;
      renderer = undefined;
      if (r) await (await r).close();
    },
  };
}

/** The mean of L2-normalised embeddings, normalised again; the local feature map of the first. */
export function averageFeatures(features: readonly TwinFeatures[]): TwinFeatures {
  const first = features[0];
  if (!first) throw new Error('averageFeatures: no features');
  const sum = new Float32Array(first.embedding.length);
  for (const f of features) for (let i = 0; i < sum.length; i++) sum[i] += f.embedding[i];
  return { embedding: l2Normalize(sum), local: first.local };
}

/** The image flipped left to right. */
export function mirrorImage(image: DecodedImage): DecodedImage {
  const { size, rgb } = image;
  const out = new Uint8Array(rgb.length);
  for (let y = 0; y < size; y++) {
    const row = y * size * 3;
    for (let x = 0; x < size; x++) {
      const from = row + x * 3;
      const to = row + (size - 1 - x) * 3;
      out[to] = rgb[from];
      out[to + 1] = rgb[from + 1];
      out[to + 2] = rgb[from + 2];
    }
  }
  return { ...image, rgb: out };
}

/**
 * A catalog image's stored features: `clean` (its own embedding) averaged with the embeddings of
 * its simulated views, each decoded by the model's decoder and embedded in one model run.
 */
export async function withCatalogViews(
  model: { decoder: ImageDecoder; embedder: Embedder },
  views: CatalogViewSource | null,
  image: Uint8Array,
  clean: TwinFeatures,
): Promise<TwinFeatures> {
  if (!views) return clean;
  const photos = await views.photos(image);
  const decoded = await Promise.all(photos.map((p) => model.decoder.decode(p)));
  const features = await model.embedder.embedBatch(decoded);
  return averageFeatures([clean, ...features]);
}
