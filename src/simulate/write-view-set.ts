import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { type ImageDecoder } from '../imaging/index.js';
import { runOrdered } from './ordered-pool.js';
import type { QueryRecord, QuerySetIndex, ViewRecord, ViewSetIndex, ViewSetItem } from './view-set.js';

/** A catalog item to simulate views of. */
export interface SimulateSourceItem {
  itemId: string;
  imagePath: string;
  metadata: Record<string, string>;
}

/** What {@link writeViewSet} needs of a simulator: prepare an item once, then photos by seed. */
export interface ViewSimulator<P = unknown> {
  prepare(image: Buffer): Promise<P>;
  photo(product: P, seed: number): Promise<{ jpeg: Buffer }>;
}

/** Options of {@link writeViewSet}. */
export interface WriteViewSetOptions {
  items: readonly SimulateSourceItem[];
  /** Simulated views per item; each item also gets one clean view (the catalog image decoded). */
  viewsPerItem: number;
  outDir: string;
  seed: number;
  /** The service's decoder (same size and resize as serving). */
  /** The service's decoder and a simulator, used in-process unless `render` is given. */
  decoder?: ImageDecoder;
  simulator?: ViewSimulator<any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  /** Renders one item's views elsewhere (e.g. worker threads, see createWorkerRenderer). */
  render?: ItemRenderer;
  /** Items simulated at once. */
  concurrency: number;
  /** Description stored in views.json. */
  simulatorDescription: string;
  onProgress?: (done: number, total: number) => void;
}

/** Renders one item's views: `size` and the decoded images, clean view first. */
export type ItemRenderer = (item: SimulateSourceItem, index: number) => Promise<{ size: number; rgb: Uint8Array[] }>;

/** The clean view and `viewsPerItem` simulated photos of one catalog image, all through `decoder`. */
export async function renderItemViews(
  bytes: Buffer,
  what: string,
  index: number,
  viewsPerItem: number,
  seed: number,
  simulator: ViewSimulator<any>, // eslint-disable-line @typescript-eslint/no-explicit-any
  decoder: ImageDecoder,
): Promise<{ size: number; rgb: Uint8Array[] }> {
  const clean = await decodeOrExplain(decoder, bytes, what);
  const rgb: Uint8Array[] = [clean.rgb];
  const product = viewsPerItem > 0 ? await simulator.prepare(bytes) : null;
  for (let v = 0; v < viewsPerItem; v++) {
    const photo = await simulator.photo(product, viewSeed(seed, index, v));
    rgb.push((await decodeOrExplain(decoder, photo.jpeg, `${what} (view ${v})`)).rgb);
  }
  return { size: clean.size, rgb };
}

/** Seed of view `v` of item `i` under run seed `seed`: independent of the item count and order of work. */
export function viewSeed(seed: number, itemIndex: number, view: number): number {
  let h = (seed >>> 0) ^ 0x9e3779b9;
  for (const x of [itemIndex, view]) {
    h = Math.imul(h ^ (x >>> 0), 0x85ebca6b);
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35);
    h ^= h >>> 16;
  }
  return h >>> 0;
}

/**
 * Writes `outDir/views.u8` (N x size x size x 3 uint8, HWC) and `outDir/views.json`: per item one
 * clean view, then `viewsPerItem` simulated photos, each passed through the service's decoder.
 * Deterministic: the same items, seed and options give the same bytes.
 */
export async function writeViewSet(o: WriteViewSetOptions): Promise<ViewSetIndex> {
  await fsp.mkdir(o.outDir, { recursive: true });
  const u8Path = path.join(o.outDir, 'views.u8');
  const out = fs.createWriteStream(u8Path);
  const views: ViewRecord[] = [];
  const items: ViewSetItem[] = o.items.map((it) => ({ itemId: it.itemId, image: it.imagePath, metadata: it.metadata }));
  let size = 0;
  const { decoder, simulator } = o;
  const render: ItemRenderer =
    o.render ??
    (async (it, i) => {
      if (!decoder || !simulator) throw new TypeError('writeViewSet: give render, or decoder and simulator');
      return renderItemViews(await fsp.readFile(it.imagePath), it.imagePath, i, o.viewsPerItem, o.seed, simulator, decoder);
    });
  const write = (buf: Uint8Array): Promise<void> =>
    new Promise((resolve, reject) => out.write(buf, (e) => (e ? reject(e) : resolve())));
  try {
    await runOrdered(
      o.items.length,
      o.concurrency,
      async (i) => {
        const r = await render(o.items[i]!, i);
        size = r.size;
        return r.rgb;
      },
      async (i, decoded) => {
        for (let v = 0; v < decoded.length; v++) {
          await write(decoded[v]!);
          views.push({ item: i, clean: v === 0 });
        }
        o.onProgress?.(i + 1, o.items.length);
      },
    );
  } finally {
    await new Promise<void>((resolve) => out.end(resolve));
  }
  const index: ViewSetIndex = {
    format: 'twinlens-views-v1',
    size,
    layout: 'NHWC-uint8-RGB',
    count: views.length,
    seed: o.seed,
    viewsPerItem: o.viewsPerItem,
    items,
    views,
    simulator: o.simulatorDescription,
  };
  await fsp.writeFile(path.join(o.outDir, 'views.json'), JSON.stringify(index));
  return index;
}

/** Options of {@link writeQuerySet}. */
export interface WriteQuerySetOptions {
  queries: readonly { imagePath: string; itemId: string; topCategory: string }[];
  outDir: string;
  decoder: ImageDecoder;
  concurrency: number;
  onProgress?: (done: number, total: number) => void;
}

/**
 * Writes benchmark photos through the service's decoder to `outDir/queries.u8` + `queries.json`, so
 * an evaluation outside Node sees exactly the serving preprocessing. For evaluation only: never
 * train on these.
 */
export async function writeQuerySet(o: WriteQuerySetOptions): Promise<QuerySetIndex> {
  await fsp.mkdir(o.outDir, { recursive: true });
  const out = fs.createWriteStream(path.join(o.outDir, 'queries.u8'));
  const records: QueryRecord[] = [];
  let size = 0;
  try {
    await runOrdered(
      o.queries.length,
      o.concurrency,
      async (i) => decodeOrExplain(o.decoder, await fsp.readFile(o.queries[i]!.imagePath), o.queries[i]!.imagePath),
      async (i, d) => {
        size = d.size;
        await new Promise<void>((resolve, reject) => out.write(d.rgb, (e) => (e ? reject(e) : resolve())));
        const q = o.queries[i]!;
        records.push({ image: q.imagePath, itemId: q.itemId, topCategory: q.topCategory });
        o.onProgress?.(i + 1, o.queries.length);
      },
    );
  } finally {
    await new Promise<void>((resolve) => out.end(resolve));
  }
  const index: QuerySetIndex = {
    format: 'twinlens-queries-v1',
    size,
    layout: 'NHWC-uint8-RGB',
    count: records.length,
    queries: records,
    note: 'benchmark photos decoded by the service decoder: for evaluation only, never for training',
  };
  await fsp.writeFile(path.join(o.outDir, 'queries.json'), JSON.stringify(index));
  return index;
}

async function decodeOrExplain(decoder: ImageDecoder, bytes: Uint8Array, what: string) {
  try {
    return await decoder.decode(bytes);
  } catch (e) {
    throw new Error(`${what}: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
  }
}
