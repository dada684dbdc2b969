import { performance } from 'node:perf_hooks';
import sharp from 'sharp';
import { createRng, degradeImage, generateDemoCatalog, mapInOrder } from '../../src/demo/index.js';

/** One encoded benchmark photo. */
export interface BenchImage {
  /** Encoded JPEG. */
  bytes: Buffer;
  /** The demo watch's metadata (catalog items carry it). */
  metadata: Record<string, string>;
  /** The demo watch it shows. */
  watchId: string;
}

/** The photos of one benchmark run, encoded up front so that making them is never timed. */
export interface BenchImageSet {
  /** Photos streamed through UpsertItems. */
  ingest: BenchImage[];
  /** Photos sent as Search queries: other degraded views of the same watches. */
  queries: BenchImage[];
  /** Confirmed photos for the warm-path phase: more views of the same watches, made apart from the queries. */
  examples: BenchImage[];
  width: number;
  height: number;
  /** Mean JPEG size over all photos, in bytes. */
  meanBytes: number;
  /** How the photos were made, for the report. */
  method: string;
  /** Time spent making them, in ms (not part of any figure). */
  elapsedMs: number;
}

/** Options of {@link makeBenchImages}. */
export interface BenchImageOptions {
  /** Distinct demo watches rendered. */
  watches: number;
  ingestImages: number;
  queryImages: number;
  /** Default 0. */
  exampleImages?: number;
  seed: number;
  /**
   * `degraded` (default): the demo's `degradeImage` phone photos. `resized`: the studio renders
   * letterboxed to the photo size with sharp, with random exposure and JPEG quality; much cheaper
   * to make (degradeImage is JavaScript pixel loops, slow under jest's vm), same decode cost class.
   */
  photos?: 'degraded' | 'resized';
  /** Photo size. Default 640 x 480. */
  width?: number;
  height?: number;
}

/** The studio render letterboxed onto white at `width` x `height`, exposure x0.75-1.1, JPEG q70-90. */
async function resizedPhoto(image: Buffer, width: number, height: number, rng: () => number): Promise<Buffer> {
  return sharp(image)
    .resize(width, height, { fit: 'contain', background: '#ffffff' })
    .modulate({ brightness: 0.75 + 0.35 * rng() })
    .jpeg({ quality: 70 + Math.floor(21 * rng()) })
    .toBuffer();
}

/**
 * Renders `watches` procedural demo watches (512 px studio shots) and turns them into 640x480 JPEG
 * "phone photos" with the demo's `degradeImage` (cut out, rotated, placed on a textured surface,
 * badly lit, blurred, noisy, JPEG quality 70), or cheaper `resized` ones: photo i of the ingest set shows watch i mod
 * `watches`; queries are further, differently seeded degradations of the same watches.
 */
export async function makeBenchImages(options: BenchImageOptions): Promise<BenchImageSet> {
  const start = performance.now();
  const width = options.width ?? 640;
  const height = options.height ?? 480;
  const photos = options.photos ?? 'degraded';
  const watches = await generateDemoCatalog({ count: options.watches, seed: options.seed, concurrency: 2 });
  // degradeImage is mostly JavaScript on the main thread; two at a time overlap its sharp calls.
  const make = (count: number, stream: number): Promise<BenchImage[]> =>
    mapInOrder(count, 2, async (i) => {
      const w = watches[i % watches.length];
      const rng = createRng(options.seed * 1_000_003 + stream * 100_003 + i);
      const bytes = photos === 'degraded' ? await degradeImage(w.image, { width, height }, rng) : await resizedPhoto(w.image, width, height, rng);
      return { bytes, metadata: w.metadata, watchId: w.itemId };
    });
  const ingest = await make(options.ingestImages, 1);
  const queries = await make(options.queryImages, 2);
  const examples = await make(options.exampleImages ?? 0, 3);
  const all = [...ingest, ...queries, ...examples];
  const meta = await sharp(all[0].bytes).metadata();
  if (meta.format !== 'jpeg' || meta.width !== width || meta.height !== height) {
    throw new Error(`bench images: expected ${width}x${height} JPEGs, got ${meta.width}x${meta.height} ${meta.format}`);
  }
  return {
    ingest,
    queries,
    examples,
    width,
    height,
    meanBytes: Math.round(all.reduce((s, i) => s + i.bytes.length, 0) / all.length),
    method:
      photos === 'degraded'
        ? `${options.watches} procedural demo watches rendered at 512 px, each photo a degradeImage() view at ${width}x${height} (JPEG q70)`
        : `${options.watches} procedural demo watches rendered at 512 px, letterboxed to ${width}x${height} with random exposure (JPEG q70-90)`,
    elapsedMs: performance.now() - start,
  };
}
