import { performance } from 'node:perf_hooks';
import sharp from 'sharp';
import { createRng, degradeImage, generateDemoCatalog, mapInOrder } from '../../src/demo/index.js';

/** A catalog item to seed. */
export interface LoadCatalogItem {
  itemId: string;
  image: Buffer;
  metadata: Record<string, string>;
}

/** Everything a load run sends, encoded before the clock starts. */
export interface LoadImages {
  /** Clean studio renders of the generated watches, seeded into the catalog before the run. */
  catalog: LoadCatalogItem[];
  /** Phone photos of catalog watches: Search queries and Compare sides. */
  queries: Buffer[];
  /** Further photos, uploaded as new items by UpsertItems. */
  uploads: Buffer[];
  /** Mean size of the photos, in bytes. */
  meanPhotoBytes: number;
  /** How long making them took, in ms (never part of a figure). */
  elapsedMs: number;
}

/** Options of {@link makeLoadImages}. */
export interface LoadImagesOptions {
  /** Watches in the catalog. Default 200. */
  catalogSize?: number;
  /** Query photos. Default 120. */
  queryPhotos?: number;
  /** Upload photos. Default 60. */
  uploadPhotos?: number;
  /** Default 11. */
  seed?: number;
  /**
   * `degraded` (default): the demo's simulated phone photos (640x480, cut out, rotated, badly lit,
   * noisy, JPEG). `resized`: the render letterboxed to 640x480 with sharp, far cheaper to make
   * (degradeImage is JavaScript pixel loops, slow under jest); decodes at the same cost.
   */
  photos?: 'degraded' | 'resized';
}

/**
 * Renders `catalogSize` demo watches (512 px studio shots) for the catalog and makes 640x480 JPEG
 * photos of them: photo i shows watch i mod catalogSize, each with its own rng.
 */
export async function makeLoadImages(options: LoadImagesOptions = {}): Promise<LoadImages> {
  const start = performance.now();
  const catalogSize = options.catalogSize ?? 200;
  const seed = options.seed ?? 11;
  const watches = await generateDemoCatalog({ count: catalogSize, seed, concurrency: 2 });
  const photo = async (i: number, stream: number): Promise<Buffer> => {
    const w = watches[i % watches.length];
    const rng = createRng(seed * 1_000_003 + stream * 100_003 + i);
    if (options.photos === 'resized') {
      return sharp(w.image)
        .resize(640, 480, { fit: 'contain', background: '#ffffff' })
        .modulate({ brightness: 0.75 + 0.35 * rng() })
        .jpeg({ quality: 70 + Math.floor(21 * rng()) })
        .toBuffer();
    }
    return degradeImage(w.image, { width: 640, height: 480 }, rng);
  };
  // Two at a time: degradeImage's sharp calls overlap the JavaScript of the other.
  const make = (count: number, stream: number): Promise<Buffer[]> => mapInOrder(count, 2, (i) => photo(i, stream));
  const queries = await make(options.queryPhotos ?? 120, 1);
  const uploads = await make(options.uploadPhotos ?? 60, 2);
  const photos = [...queries, ...uploads];
  return {
    catalog: watches.map((w) => ({ itemId: w.itemId, image: w.image, metadata: w.metadata })),
    queries,
    uploads,
    meanPhotoBytes: Math.round(photos.reduce((s, p) => s + p.length, 0) / Math.max(1, photos.length)),
    elapsedMs: performance.now() - start,
  };
}
