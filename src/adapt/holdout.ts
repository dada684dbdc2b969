/**
 * What every example adapter shares: the deterministic hold-out split of the confirmed photos, their
 * vectors (and the catalog images') embedded the way the service embeds them, and the held-out
 * measurement a learned version must win before it is written: Recall@1 of the held-out photos among
 * the items with examples, each item as Search stores it (catalog image and views averaged, its other
 * confirmed photos folded in).
 */
import type { AdaptOptions, TwinlensEngine } from '../engine/index.js';
import { dot } from '../engine/engine.js';
import { averageFeatures, mirrorImage } from '../engine/catalog-views.js';
import { l2Normalize, type Embedder } from '../model/index.js';
import type { ExampleInfo } from '../store/index.js';
import type { PairScores } from '../eval/verification.js';
import type { ExecutionProviderName } from '../config/index.js';

/** What every example adapter is given; each adapter's defaults fill the optional ones. */
export interface ExampleAdapterBaseOptions {
  /** Folder that receives one folder per learned version (`<dataDir>/learned`). */
  modelsDir: string;
  /** The configured model's version: a restart with that model configured keeps the learned one. */
  learnedOver: string;
  providers: ExecutionProviderName[];
  intraOpThreads: number;
  /** Fewer SAME examples than this: nothing is learned. Default 20. */
  minExamples?: number;
  /** One photo in this many is held out to decide and calibrate. Default 5. */
  holdoutEvery?: number;
  /** Images per model run. Default 16. */
  batch?: number;
}

/** The defaults of {@link ExampleAdapterBaseOptions}, the same for every adapter. */
export const EXAMPLE_ADAPTER_DEFAULTS = Object.freeze({ minExamples: 20, holdoutEvery: 5, batch: 16 });

/** One confirmed photo's vector; `key` is what the hold-out split hashes (item and image content). */
export interface PhotoVector {
  key: string;
  vector: Float32Array;
  /** The photo's local feature map (unmirrored), when the model has one. */
  local?: Float32Array | null;
}

/** Vectors of one item: its confirmed photos and its catalog image with its views. */
export interface ItemVectors {
  itemId: string;
  /** clean image, then each simulated view (unaveraged). */
  catalog: Float32Array[];
  /** The clean catalog image's local feature map, when the model has one (what Search's rerank reads). */
  catalogLocal?: Float32Array | null;
  photos: PhotoVector[];
}

/** The hold-out split: one photo in `every`, chosen by a hash of its key (the same photos always split the same way). */
export function holdoutSplit(every: number): (key: string) => boolean {
  return (key) => hashOf(key) % every === 0;
}

/** The confirmed items' photo keys, for callers that split before embedding. */
export function photoKey(e: Pick<ExampleInfo, 'itemId' | 'imageSha256'>): string {
  return `${e.itemId}:${e.imageSha256}`;
}

/**
 * Each item's vectors from `embedder`, embedded the way the service embeds them: a confirmed photo
 * as a query (with its mirror when queryMirror is on), the catalog image clean and as each of its
 * simulated views (catalogViews), unaveraged. `embedder` must take the engine decoder's image size.
 */
export async function vectorsOf(
  engine: TwinlensEngine,
  embedder: Embedder,
  examples: readonly ExampleInfo[],
  batch: number,
  progress: NonNullable<AdaptOptions['onProgress']>,
  signal?: AbortSignal,
): Promise<ItemVectors[]> {
  const byItem = new Map<string, ItemVectors>();
  for (const e of examples) if (!byItem.has(e.itemId)) byItem.set(e.itemId, { itemId: e.itemId, catalog: [], photos: [] });
  for (let i = 0; i < examples.length; i += batch) {
    progress('embedding confirmed photos', i, examples.length);
    signal?.throwIfAborted();
    const slice = examples.slice(i, i + batch);
    const decoded = await Promise.all(slice.map(async (e) => engine.decoder.decode(await engine.catalog.imageBySha(e.imageSha256))));
    const clean = await embedder.embedBatch(decoded);
    const mirrored = engine.queryMirror ? await embedder.embedBatch(decoded.map(mirrorImage)) : [];
    slice.forEach((e, j) => {
      const f = engine.queryMirror ? averageFeatures([clean[j], mirrored[j]]) : clean[j];
      byItem.get(e.itemId)!.photos.push({ key: photoKey(e), vector: f.embedding, local: clean[j].local });
    });
  }
  let items = 0;
  for (const it of byItem.values()) {
    progress('embedding catalog images', items++, byItem.size);
    signal?.throwIfAborted();
    const image = await engine.catalog.imageBySha(engine.catalog.get(it.itemId).imageSha256);
    const photos = engine.catalogViews ? await engine.catalogViews.photos(image) : [];
    const decoded = await Promise.all([image, ...photos].map((b) => engine.decoder.decode(b)));
    const features = await embedder.embedBatch(decoded);
    it.catalog = features.map((f) => f.embedding);
    it.catalogLocal = features[0]?.local;
  }
  return [...byItem.values()];
}

/**
 * Each item's vectors as the catalog stores them for the serving model: its catalog vector (already
 * the average of the clean image and its views) and its SAME photos' vectors.
 */
export function storedVectorsOf(engine: TwinlensEngine, examples: readonly ExampleInfo[]): ItemVectors[] {
  const byItem = new Map<string, ItemVectors & { stored: Map<string, Float32Array> }>();
  for (const e of examples) {
    let it = byItem.get(e.itemId);
    if (!it) {
      const catalog = [engine.catalog.catalogVectorOf(e.itemId)];
      byItem.set(e.itemId, (it = { itemId: e.itemId, catalog, photos: [], stored: engine.catalog.sameExampleVectors(e.itemId) }));
    }
    const vector = it.stored.get(e.exampleId);
    if (vector) it.photos.push({ key: photoKey(e), vector });
  }
  return [...byItem.values()].map(({ stored: _, ...it }) => it);
}

/** Each item's vector as Search stores it after `project`: catalog image and views projected and averaged, the kept photos folded in. */
export function foldedGallery(items: readonly ItemVectors[], heldOut: (key: string) => boolean, project: (v: Float32Array) => Float32Array): Float32Array[] {
  return items.map((it) => {
    const sum = average(it.catalog.map(project)).slice();
    for (const p of it.photos) if (!heldOut(p.key)) add(sum, project(p.vector));
    return l2Normalize(sum);
  });
}

/** Held-out photos with their own item's index. */
export function heldOutPhotos(items: readonly ItemVectors[], heldOut: (key: string) => boolean): { own: number; photo: PhotoVector }[] {
  return items.flatMap((it, own) => it.photos.filter((p) => heldOut(p.key)).map((photo) => ({ own, photo })));
}

/**
 * Recall@1 of the held-out photos among the items, each item folded as Search stores it (see
 * {@link foldedGallery}); and the pair scores of every held-out photo against every item (positives: its own).
 */
export function holdout(items: readonly ItemVectors[], heldOut: (key: string) => boolean, project: (v: Float32Array) => Float32Array = (v) => v) {
  const gallery = foldedGallery(items, heldOut, project);
  const pairs: PairScores = { positives: [], negatives: [] };
  let hits = 0;
  const photos = heldOutPhotos(items, heldOut);
  for (const { own, photo } of photos) {
    const q = project(photo.vector);
    const scores = gallery.map((g) => dot(q, g));
    if (scores.every((s, j) => j === own || s < scores[own])) hits++;
    scores.forEach((s, j) => (j === own ? pairs.positives : pairs.negatives).push(s));
  }
  return { photos: photos.length, recall1: photos.length ? hits / photos.length : 0, pairs };
}

export function average(vectors: readonly Float32Array[]): Float32Array {
  const sum = new Float32Array(vectors[0].length);
  for (const v of vectors) add(sum, v);
  return l2Normalize(sum);
}

function add(sum: Float32Array, v: Float32Array): void {
  for (let i = 0; i < sum.length; i++) sum[i] += v[i];
}

/** A stable small hash of a string (FNV-1a), for the deterministic hold-out split. */
function hashOf(id: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) h = Math.imul(h ^ id.charCodeAt(i), 0x01000193);
  return h >>> 0;
}
