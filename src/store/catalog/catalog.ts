import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import type { TwinlensOptions } from '../../config/index.js';
import { InvalidArgumentError, ItemNotFoundError } from '../../errors/index.js';
import {
  CatalogIndex,
  IndexSnapshots,
  type CatalogIndexOptions,
  type IndexHit,
  type MetadataFilter,
  type RestoreReport,
  vectorKeyOf,
  VIEW_SEPARATOR,
} from '../vector-index/index.js';
import { BlobStore } from './blob-store.js';
import { CatalogTable, type CatalogRow } from './catalog-table.js';
import { fromFloat16, toFloat16 } from './float16.js';
import { DiskUsage } from './disk-usage.js';
import { SortedIds } from './sorted-ids.js';
import { type ExampleInfo, type ExampleScoring, isExampleView, parseExampleView, validateExampleId } from './examples.js';

/** What a caller hands the catalog to store: an embedded image. */
export interface NewCatalogItem {
  itemId: string;
  metadata: Record<string, string>;
  image: Uint8Array;
  embedding: Float32Array;
  /** The model's local feature map (C x H x W), when the model has one; stored as float16. */
  local?: Float32Array | null;
  /** Empty or absent: the item's main image. Otherwise another view of it ('angle', 'back'...). */
  view?: string;
  /**
   * Simulated photos averaged into `embedding` (0: the clean image's vector, to be refined in the
   * background). Absent: a vector made elsewhere, which refinement leaves alone.
   */
  simulatedViews?: number;
}

/** A refined vector for a stored row (see {@link Catalog.refineVectors}). */
export interface RefinedVector {
  /** Row key (item id, or item#view). */
  key: string;
  /** The source image the vector was made from; the row must still hold it. */
  imageSha256: string;
  embedding: Float32Array;
  local?: Float32Array | null;
  simulatedViews: number;
}

/** View names: 1-64 characters of letters, digits and . _ - */
export const VIEW_PATTERN = /^[A-Za-z0-9._-]{1,64}$/;

/** Throws InvalidArgumentError unless `view` is empty or a valid view name. */
export function validateView(view: string | undefined): void {
  if (view && !VIEW_PATTERN.test(view)) {
    throw new InvalidArgumentError('view', `'${view.slice(0, 64)}' is not a valid view name (1-64 characters: letters, digits and . _ -)`);
  }
}

/**
 * Row key of an item's view in the table and the index: the item id for the main image,
 * `itemId#view` for other views ('#' never occurs in item ids).
 */
export function rowKeyOf(itemId: string, view = ''): string {
  return vectorKeyOf(itemId, view);
}

/** The item id and view of a row key. */
export function splitRowKey(key: string): { itemId: string; view: string } {
  const i = key.indexOf(VIEW_SEPARATOR);
  return i < 0 ? { itemId: key, view: '' } : { itemId: key.slice(0, i), view: key.slice(i + 1) };
}

/** A stored item, without its vector and local features. */
export type CatalogItemInfo = Omit<CatalogRow, 'embedding' | 'local'>;

/**
 * Throws unless every item is storable in a catalog of `dim`-d vectors with `localLength` local
 * feature values: a valid id, view (or example view) and metadata (InvalidArgumentError), and
 * vectors of the catalog's sizes (RangeError: a caller's bug, not the client's). Both stores check
 * with it before writing anything.
 */
export function validateNewItems(items: readonly NewCatalogItem[], dim: number, localLength: number): void {
  for (const item of items) {
    validateItemId(item.itemId);
    if (!parseExampleView(item.view ?? '')) validateView(item.view);
    validateMetadata(item.metadata);
    if (item.embedding.length !== dim) {
      throw new RangeError(`embedding of '${item.itemId}' has ${item.embedding.length} dims, the catalog ${dim}`);
    }
    if ((item.local?.length ?? 0) !== localLength) {
      throw new RangeError(`local features of '${item.itemId}' have ${item.local?.length ?? 0} values, the catalog ${localLength}`);
    }
  }
}

/** Limits on what an item may carry. */
export const ITEM_ID_PATTERN = /^[A-Za-z0-9._\-:/]{1,256}$/;
export const MAX_METADATA_ENTRIES = 64;
export const MAX_METADATA_BYTES = 16 * 1024;

/** Throws InvalidArgumentError unless `itemId` is a valid item id. */
export function validateItemId(itemId: string, field = 'item_id'): void {
  if (!ITEM_ID_PATTERN.test(itemId ?? '')) {
    throw new InvalidArgumentError(
      field,
      `'${String(itemId).slice(0, 64)}' is not a valid item id (1-256 characters: letters, digits and . _ - : /)`,
    );
  }
}

/** Throws InvalidArgumentError unless `metadata` is within the limits. */
/**
 * Map keys refused in metadata and filters: on a plain JavaScript object they are not ordinary
 * keys (`__proto__` sets the prototype, `constructor` and `prototype` read inherited values), so
 * they are refused rather than half-supported.
 */
export const RESERVED_MAP_KEYS: readonly string[] = Object.freeze(['__proto__', 'constructor', 'prototype']);

/** Throws InvalidArgumentError naming `field` when `map` has one of RESERVED_MAP_KEYS (as an own key). */
export function validateMapKeys(map: Record<string, string>, field: string): void {
  for (const key of RESERVED_MAP_KEYS) {
    if (Object.prototype.hasOwnProperty.call(map, key)) {
      throw new InvalidArgumentError(field, `key '${key}' is reserved (not allowed: ${RESERVED_MAP_KEYS.join(', ')})`);
    }
  }
}

export function validateMetadata(metadata: Record<string, string>): void {
  validateMapKeys(metadata, 'metadata');
  const keys = Object.keys(metadata);
  if (keys.length > MAX_METADATA_ENTRIES) {
    throw new InvalidArgumentError('metadata', `${keys.length} entries, the limit is ${MAX_METADATA_ENTRIES}`);
  }
  const bytes = Buffer.byteLength(JSON.stringify(metadata));
  if (bytes > MAX_METADATA_BYTES) {
    throw new InvalidArgumentError('metadata', `${bytes} bytes, the limit is ${MAX_METADATA_BYTES}`);
  }
}

/** How the catalog's search index is chosen, tuned and saved. */
export interface CatalogIndexSettings extends Partial<CatalogIndexOptions> {
  /**
   * Least time between two saves of the ANN graph (after writes), in ms; it is also saved on
   * close. Default 600,000 (10 min): a save of a 1M-item graph blocks for about a second, and a
   * stale or missing snapshot only costs re-inserting the rows changed since (LanceDB is the truth).
   */
  snapshotIntervalMs?: number;
  /** Called with how the snapshot restore at open went (absent when no graph was wanted). */
  onRestore?: (report: RestoreReport) => void;
  /**
   * Folder of the source images. Default `<dataDir>/images`. A catalog being re-embedded for the
   * next model version shares the serving one's, so images are stored once.
   */
  blobDir?: string;
  /**
   * How an item's SAME examples take part in search: `best-view` (each is another view of the item;
   * the item scores by its best view) or `fold` (the item's vector is the normalised sum of its
   * main vector and its examples'). Default `fold`.
   */
  exampleScoring?: ExampleScoring;
}

/** The catalog index settings of the service options (src/config/option-schema.ts). */
export function catalogIndexSettingsFrom(o: Readonly<TwinlensOptions>): CatalogIndexSettings {
  return {
    kind: o.indexKind,
    annMinItems: o.annMinItems,
    snapshotIntervalMs: o.indexSnapshotIntervalMs,
    exampleScoring: o.exampleScoring,
    hnsw: {
      quantization: o.indexQuantization,
      connectivity: o.hnswConnectivity,
      expansionAdd: o.hnswExpansionAdd,
      expansionSearch: o.hnswExpansionSearch,
    },
  };
}

/** New item ids of one write that are spliced into the listing order; more drop it (one sort later is cheaper). */
const SPLICE_MAX_NEW_IDS = 1000;

/** Serialises async sections: catalog writes run one at a time, reads never wait. */
class WriteLock {
  private tail: Promise<unknown> = Promise.resolve();
  run<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.tail.then(fn, fn);
    this.tail = next.catch(() => undefined);
    return next;
  }
  /** Resolves when every write queued so far has finished. */
  idle(): Promise<void> {
    return this.tail.then(() => undefined);
  }
}

/**
 * The persistent catalog: rows in LanceDB (durable, atomic commits), source images in a blob
 * store, and an in-memory exact index for search. The table is the truth; the index is rebuilt
 * from it at open and updated after each write commits, so a search never sees an item that a
 * crash could lose.
 */
/**
 * Everything a catalog holds for one model version. `Catalog.adopt` exchanges it whole with
 * another catalog's, so no field can be left on the old version.
 */
interface CatalogState {
  /** The folder of this version's table and graph snapshots (source images may be shared: `blobDir`). */
  dataDir: string;
  modelVersion: string;
  /** Values in one local feature map; 0 when the model has none. */
  localLength: number;
  table: CatalogTable;
  blobs: BlobStore;
  index: CatalogIndex;
  info: Map<string, CatalogItemInfo>;
  /**
   * Local feature maps by item id, as float16 bit patterns, for the pair head. Memory cost per item:
   * 2 bytes x C x H x W (12.25 KiB for 128 x 7 x 7; 1.2 GiB per 100,000 items) on top of the embedding.
   */
  locals: Map<string, Uint16Array>;
  /** View row keys by item id. */
  viewKeys: Map<string, Set<string>>;
  snapshots: IndexSnapshots;
  snapshotIntervalMs: number;
  /** When the graph was last saved (or restored), and the index's write sequence then. */
  savedAt: { ms: number; seq: number };
  /** Row key of every stored example, by example id. */
  exampleKeys: Map<string, string>;
  /** The SAME examples' vectors by item id, then row key. */
  sameVectors: Map<string, Map<string, Float32Array>>;
  /** With `fold`: the unfolded main vector of each item whose index vector is folded. */
  mainVectors: Map<string, Float32Array>;
}

/**
 * The persistent catalog: rows in LanceDB (durable, atomic commits), source images in a blob
 * store, and an in-memory exact index for search. The table is the truth; the index is rebuilt
 * from it at open and updated after each write commits, so a search never sees an item that a
 * crash could lose.
 */
export class Catalog {
  private readonly lock = new WriteLock();

  // Not readonly: `adopt` exchanges it with a catalog of the next model version.
  private constructor(private state: CatalogState) {}
  /** How SAME examples take part in search (CatalogIndexSettings.exampleScoring; `useExampleScoring` changes it). */
  private scoring: ExampleScoring = 'fold';

  /** The folder of this version's table and graph snapshots (source images may be shared: `blobDir`). */
  get dataDir(): string {
    return this.state.dataDir;
  }

  /** The model version of the stored vectors. */
  get modelVersion(): string {
    return this.state.modelVersion;
  }

  /** Values in one local feature map; 0 when the model has none. */
  get localLength(): number {
    return this.state.localLength;
  }

  /** Item ids (main images) in id order, for `list`. */
  private readonly listOrder = new SortedIds(() => [...this.state.info.keys()].filter((key) => !key.includes(VIEW_SEPARATOR)));

  /** Size of this catalog's folder and its source images, for `dataBytes`. */
  private readonly diskUsage = new DiskUsage(() => [this.state.dataDir, this.state.blobs.dir]);

  /**
   * Opens (or creates) the catalog in `dataDir`. Rows whose model version differs from
   * `modelVersion` are returned in `stale` and kept out of the index until re-embedded
   * (`Catalog.reembed`): queries never mix versions. `localLength` is the size of the model's local
   * feature map (0: none); rows without a map of that size are stale too.
   */
  static async open(
    dataDir: string,
    dim: number,
    modelVersion: string,
    localLength = 0,
    indexSettings: CatalogIndexSettings = {},
  ): Promise<{ catalog: Catalog; stale: CatalogRow[] }> {
    await fs.mkdir(dataDir, { recursive: true });
    const table = await CatalogTable.open(path.join(dataDir, 'catalog.lance'), dim);
    const blobs = new BlobStore(indexSettings.blobDir ?? path.join(dataDir, 'images'));
    const { snapshotIntervalMs = 600_000, onRestore, blobDir: _blobDir, exampleScoring = 'fold', ...indexOptions } = indexSettings;
    const index = new CatalogIndex(dim, indexOptions);
    const info = new Map<string, CatalogItemInfo>();
    const locals = new Map<string, Uint16Array>();
    const stale: CatalogRow[] = [];
    const embeddings = new Map<string, Float32Array>();
    for (const row of await table.readAll()) {
      if (row.modelVersion !== modelVersion || row.embedding.length !== dim || (row.local?.length ?? 0) !== localLength) {
        stale.push(row);
        continue;
      }
      const { embedding, local, ...rest } = row;
      embeddings.set(row.itemId, embedding);
      info.set(row.itemId, rest);
      if (local) locals.set(row.itemId, local);
    }
    // Entries without touching a graph yet, then the saved graph (reconciled with these rows) or,
    // failing that, a background build while exact search serves.
    // Examples join the index after the plain rows (Catalog.noteExamples).
    const keys = [...embeddings.keys()].filter((key) => !isExampleView(splitRowKey(key).view));
    const snapshots = new IndexSnapshots(path.join(dataDir, 'index'));
    index.upsertMany(
      keys.map((key) => ({ ...splitRowKey(key), metadata: info.get(key)!.metadata })),
      keys.map((id) => embeddings.get(id)!),
      { deferGraph: true },
    );
    const restored = index.wantsGraph() ? snapshots.restore(index, modelVersion) : undefined;
    if (restored) onRestore?.(restored);
    const viewKeys = new Map<string, Set<string>>();
    for (const key of embeddings.keys()) {
      const { itemId, view } = splitRowKey(key);
      if (view) viewKeys.set(itemId, (viewKeys.get(itemId) ?? new Set()).add(key));
    }
    // A snapshot loaded and reconciled matches the table; a graph built anew is not saved yet.
    const savedAt = { ms: Date.now(), seq: restored?.loaded && restored.reconciled === 0 ? index.sequence : -1 };
    const catalog = new Catalog({
      dataDir,
      modelVersion,
      localLength,
      table,
      blobs,
      index,
      info,
      locals,
      viewKeys,
      snapshots,
      snapshotIntervalMs,
      savedAt,
      exampleKeys: new Map(),
      sameVectors: new Map(),
      mainVectors: new Map(),
    });
    catalog.scoring = exampleScoring;
    catalog.noteExamples([...embeddings].filter(([key]) => isExampleView(splitRowKey(key).view)));
    index.startGraphIfWanted();
    return { catalog, stale };
  }

  get size(): number {
    return this.state.index.itemCount;
  }

  get dim(): number {
    return this.state.index.dim;
  }

  /**
   * Stores items durably (images first, then one table commit), then makes them searchable.
   * Returns, per item, whether it replaced an existing one.
   */
  upsert(items: NewCatalogItem[]): Promise<boolean[]> {
    validateNewItems(items, this.dim, this.localLength);
    return this.lock.run(async () => {
      const now = Date.now();
      // The last occurrence of an id in one call wins, as if they had been sent one by one.
      const byId = new Map<string, NewCatalogItem>();
      for (const item of items) byId.set(rowKeyOf(item.itemId, item.view), item);
      // Image files first (their fsyncs overlap), then the commit that references them.
      const rows: CatalogRow[] = await Promise.all(
        [...byId.values()].map(async (item) => ({
          itemId: rowKeyOf(item.itemId, item.view),
          metadata: item.metadata,
          embedding: item.embedding,
          local: item.local ? toFloat16(item.local) : null,
          modelVersion: this.modelVersion,
          imageSha256: await this.state.blobs.put(item.image),
          imageBytes: item.image.length,
          updatedAtMs: now,
          simulatedViews: item.simulatedViews ?? null,
        })),
      );
      const keyOf = (i: NewCatalogItem): string => rowKeyOf(i.itemId, i.view);
      const existed = new Set(items.filter((i) => this.state.info.has(keyOf(i))).map(keyOf));
      const newItemIds = rows.map((row) => row.itemId).filter((key) => !existed.has(key) && !key.includes(VIEW_SEPARATOR));
      await this.state.table.upsert(rows);
      for (const row of rows) {
        const { embedding, local, ...rest } = row;
        this.state.info.set(row.itemId, rest);
        if (local) this.state.locals.set(row.itemId, local);
      }
      const plain = rows.filter((row) => !isExampleView(splitRowKey(row.itemId).view));
      this.state.index.upsertMany(
        plain.map((row) => ({ ...splitRowKey(row.itemId), metadata: row.metadata })),
        plain.map((row) => row.embedding),
      );
      for (const row of rows) {
        const { itemId, view } = splitRowKey(row.itemId);
        if (view) this.state.viewKeys.set(itemId, (this.state.viewKeys.get(itemId) ?? new Set()).add(row.itemId));
        // A replaced main image: its examples are folded into (or take the metadata of) the new one.
        else if (this.state.sameVectors.has(itemId)) this.refreshExamples.add(itemId);
        if (!view && this.state.mainVectors.has(itemId)) this.state.mainVectors.set(itemId, row.embedding);
      }
      // A few new ids are spliced into the listing order; a bulk load has it rebuilt once, when listed.
      if (newItemIds.length > SPLICE_MAX_NEW_IDS) this.listOrder.invalidate();
      else for (const id of newItemIds) this.listOrder.add(id);
      this.diskUsage.changed();
      this.noteExamples(rows.filter((row) => isExampleView(splitRowKey(row.itemId).view)).map((row) => [row.itemId, row.embedding]));
      this.maybeSaveSnapshot();
      for (const listener of this.writeListeners) listener(rows.map((r) => r.itemId));
      const seen = new Set<string>();
      return items.map((i) => {
        const replaced = existed.has(keyOf(i)) || seen.has(keyOf(i));
        seen.add(keyOf(i));
        return replaced;
      });
    });
  }

  /** Called after each committed upsert with the row keys written (not after refinements). */
  private writeListeners: ((keys: string[]) => void)[] = [];

  /** Calls `listener` with the row keys of every upsert once it has committed. */
  onWrite(listener: (keys: string[]) => void): void {
    this.writeListeners.push(listener);
  }

  /**
   * Replaces stored vectors with refined ones, in one commit: only rows that still hold the same
   * image, under `modelVersion`, with fewer simulated views than the update (a row re-upserted,
   * deleted or switched to another model meanwhile keeps what it has). Metadata and update time
   * stay. Returns the row keys replaced.
   */
  refineVectors(updates: RefinedVector[], modelVersion: string): Promise<string[]> {
    return this.lock.run(async () => {
      if (modelVersion !== this.state.modelVersion) return [];
      const rows: CatalogRow[] = [];
      for (const u of updates) {
        const current = this.state.info.get(u.key);
        if (!current || current.imageSha256 !== u.imageSha256) continue;
        if (current.simulatedViews === null || current.simulatedViews >= u.simulatedViews) continue;
        if ((u.local?.length ?? 0) !== this.state.localLength) throw new RangeError(`local features of '${u.key}': ${u.local?.length ?? 0} values, the catalog ${this.state.localLength}`);
        rows.push({ ...current, embedding: u.embedding, local: u.local ? toFloat16(u.local) : null, simulatedViews: u.simulatedViews });
      }
      if (rows.length === 0) return [];
      await this.state.table.upsert(rows);
      for (const row of rows) {
        const { embedding, local, ...rest } = row;
        this.state.info.set(row.itemId, rest);
        if (local) this.state.locals.set(row.itemId, local);
      }
      this.state.index.upsertMany(
        rows.map((row) => ({ ...splitRowKey(row.itemId), metadata: row.metadata })),
        rows.map((row) => row.embedding),
      );
      this.maybeSaveSnapshot();
      return rows.map((r) => r.itemId);
    });
  }

  /** Deletes an item with all its views, or only `view` of it; false when there was none. */
  delete(itemId: string, view = ''): Promise<boolean> {
    validateItemId(itemId);
    validateView(view);
    return this.lock.run(() => this.deleteNow(itemId, view));
  }

  /** Deletes an item with all its views and examples, or one view or example of it (inside the write lock). */
  private async deleteNow(itemId: string, view: string): Promise<boolean> {
    const keys = view ? [rowKeyOf(itemId, view)] : [itemId, ...(this.state.viewKeys.get(itemId) ?? [])];
    const present = keys.filter((k) => this.state.info.has(k));
    if (present.length === 0) return false;
    await this.state.table.deleteMany(present);
    for (const key of present) {
      this.state.index.delete(key);
      this.state.info.delete(key);
      this.state.locals.delete(key);
      const example = parseExampleView(splitRowKey(key).view);
      if (example) {
        this.state.exampleKeys.delete(example.exampleId);
        this.state.sameVectors.get(itemId)?.delete(key);
      }
    }
    if (!view) this.listOrder.remove(itemId);
    this.diskUsage.changed();
    if (view) this.state.viewKeys.get(itemId)?.delete(rowKeyOf(itemId, view));
    if (!view || this.state.viewKeys.get(itemId)?.size === 0) this.state.viewKeys.delete(itemId);
    if (!view) {
      this.state.sameVectors.delete(itemId);
      this.state.mainVectors.delete(itemId);
    } else if (isExampleView(view)) {
      this.refreshExamples.add(itemId);
      this.applyExamples();
    }
    this.maybeSaveSnapshot();
    return true;
  }

  /** Deletes one example by id; false when there was none. */
  deleteExample(exampleId: string): Promise<boolean> {
    validateExampleId(exampleId);
    return this.lock.run(async () => {
      const key = this.state.exampleKeys.get(exampleId);
      if (!key) return false;
      const { itemId, view } = splitRowKey(key);
      return this.deleteNow(itemId, view);
    });
  }

  /** A stored example, or undefined. */
  example(exampleId: string): ExampleInfo | undefined {
    const key = this.state.exampleKeys.get(exampleId);
    return key === undefined ? undefined : this.exampleInfoOf(key);
  }

  /** The item's examples (both labels) with ids greater than `afterId`, oldest first, at most `limit`. */
  listExamples(itemId: string, afterId: string, limit: number): { examples: ExampleInfo[]; more: boolean; total: number } {
    validateItemId(itemId);
    if (!this.state.info.has(itemId)) throw new ItemNotFoundError(itemId);
    const all = [...(this.state.viewKeys.get(itemId) ?? [])]
      .map((key) => this.exampleInfoOf(key))
      .filter((e): e is ExampleInfo => e !== undefined)
      .sort((a, b) => (a.exampleId < b.exampleId ? -1 : a.exampleId > b.exampleId ? 1 : 0));
    const after = all.filter((e) => e.exampleId > afterId);
    return { examples: after.slice(0, limit), more: after.length > limit, total: all.length };
  }

  /** Examples in the catalog by label. */
  exampleCounts(): { same: number; different: number } {
    let same = 0;
    for (const vectors of this.state.sameVectors.values()) same += vectors.size;
    return { same, different: this.state.exampleKeys.size - same };
  }

  /** Every stored example (both labels), in no particular order: what an adapter learns from. */
  examples(): ExampleInfo[] {
    return [...this.state.exampleKeys.values()].map((key) => this.exampleInfoOf(key)!);
  }

  /** The stored embedding of an example of either label, read from the table (DIFFERENT ones are not in memory). */
  async exampleEmbeddings(): Promise<Map<string, Float32Array>> {
    const out = new Map<string, Float32Array>();
    for (const row of await this.state.table.readAll()) {
      const example = parseExampleView(splitRowKey(row.itemId).view);
      if (example && row.modelVersion === this.modelVersion) out.set(example.exampleId, row.embedding);
    }
    return out;
  }

  private exampleInfoOf(key: string): ExampleInfo | undefined {
    const { itemId, view } = splitRowKey(key);
    const example = parseExampleView(view);
    const row = this.state.info.get(key);
    if (!example || !row) return undefined;
    return {
      ...example,
      itemId,
      metadata: row.metadata,
      modelVersion: row.modelVersion,
      imageSha256: row.imageSha256,
      imageBytes: row.imageBytes,
      createdAtMs: row.updatedAtMs,
    };
  }

  /** Items whose example entries (or folded vector) are to be rebuilt by `applyExamples`. */
  private refreshExamples = new Set<string>();

  /** How SAME examples take part in search now. */
  get exampleScoring(): ExampleScoring {
    return this.scoring;
  }

  /**
   * Switches how SAME examples take part in search, rebuilding their index entries (in memory, no
   * I/O): lets an evaluation measure both ways over one embedded catalog.
   */
  useExampleScoring(scoring: ExampleScoring): Promise<void> {
    return this.lock.run(async () => {
      if (scoring === this.scoring) return;
      for (const [itemId, vectors] of this.state.sameVectors) {
        if (this.scoring === 'best-view') for (const key of vectors.keys()) this.state.index.delete(key);
        const main = this.state.mainVectors.get(itemId);
        const info = this.state.info.get(itemId);
        if (main && info) this.state.index.upsert({ itemId, metadata: info.metadata }, main);
        this.state.mainVectors.delete(itemId);
        this.refreshExamples.add(itemId);
      }
      this.scoring = scoring;
      this.applyExamples();
    });
  }

  /** Records example rows (row key, vector) just stored or loaded, then updates the index. */
  private noteExamples(rows: [string, Float32Array][]): void {
    for (const [key, vector] of rows) {
      const { itemId, view } = splitRowKey(key);
      const example = parseExampleView(view)!;
      this.state.exampleKeys.set(example.exampleId, key);
      if (example.label !== 'same') continue;
      const vectors = this.state.sameVectors.get(itemId) ?? new Map<string, Float32Array>();
      this.state.sameVectors.set(itemId, vectors.set(key, vector));
      this.refreshExamples.add(itemId);
    }
    this.applyExamples();
  }

  /**
   * Brings the index up to date with the SAME examples of the items in `refreshExamples`:
   * `best-view` indexes each example as a view of its item, with the item's metadata (filters see
   * the item); `fold` indexes the item's main key with the normalised sum of its main vector and its
   * examples' vectors (each confirmed photo weighs as much as the catalog image).
   */
  private applyExamples(): void {
    for (const itemId of this.refreshExamples) {
      const main = this.state.info.get(itemId);
      const vectors = this.state.sameVectors.get(itemId);
      if (!main) continue;
      if (this.scoring === 'best-view') {
        if (vectors?.size) {
          this.state.index.upsertMany(
            [...vectors.keys()].map((key) => ({ ...splitRowKey(key), metadata: main.metadata })),
            [...vectors.values()],
          );
        }
        continue;
      }
      if (!this.state.mainVectors.has(itemId)) {
        if (!vectors?.size) continue;
        this.state.mainVectors.set(itemId, this.state.index.get(itemId)!.vector);
      }
      const base = this.state.mainVectors.get(itemId)!;
      const sum = Float32Array.from(base);
      for (const v of vectors?.values() ?? []) for (let i = 0; i < sum.length; i++) sum[i] += v[i];
      let norm = 0;
      for (let i = 0; i < sum.length; i++) norm += sum[i] * sum[i];
      norm = Math.sqrt(norm) || 1;
      for (let i = 0; i < sum.length; i++) sum[i] /= norm;
      this.state.index.upsert({ itemId, metadata: main.metadata }, sum);
      if (!vectors?.size) this.state.mainVectors.delete(itemId);
    }
    this.refreshExamples.clear();
  }

  has(itemId: string): boolean {
    return this.state.info.has(itemId);
  }

  /** The stored item; throws ItemNotFoundError when there is none. */
  get(itemId: string): CatalogItemInfo {
    validateItemId(itemId);
    const item = this.state.info.get(itemId);
    if (!item) throw new ItemNotFoundError(itemId);
    return item;
  }

  /** The item's stored embedding; throws ItemNotFoundError when there is none. */
  embeddingOf(itemId: string): Float32Array {
    validateItemId(itemId);
    const entry = this.state.index.get(itemId);
    if (!entry) throw new ItemNotFoundError(itemId);
    return entry.vector;
  }

  /**
   * The item's own stored vector (its catalog image, averaged with its views once refined), without
   * its confirmed photos folded in; throws ItemNotFoundError when there is no item.
   */
  catalogVectorOf(itemId: string): Float32Array {
    return this.state.mainVectors.get(itemId) ?? this.embeddingOf(itemId);
  }

  /** The stored vectors of an item's SAME examples (the serving model's, in memory), by example id. */
  sameExampleVectors(itemId: string): Map<string, Float32Array> {
    const out = new Map<string, Float32Array>();
    for (const [key, vector] of this.state.sameVectors.get(itemId) ?? []) {
      const example = parseExampleView(splitRowKey(key).view);
      if (example) out.set(example.exampleId, vector);
    }
    return out;
  }

  /**
   * The item's stored local feature map, unpacked to float32 (a copy; ~6,300 table loads for
   * 128 x 7 x 7); null when the model has none. Throws ItemNotFoundError when there is no item.
   */
  localOf(itemId: string): Float32Array | null {
    validateItemId(itemId);
    if (!this.state.info.has(itemId)) throw new ItemNotFoundError(itemId);
    const local = this.state.locals.get(itemId);
    return local ? fromFloat16(local) : null;
  }

  /** The item's stored source image. */
  async imageOf(itemId: string): Promise<Buffer> {
    return this.state.blobs.get(this.get(itemId).imageSha256);
  }

  /** Source image bytes by hash (for re-embedding rows of another model version). */
  imageBySha(sha256: string): Promise<Buffer> {
    return this.state.blobs.get(sha256);
  }

  /**
   * Items with ids greater than `afterId`, in id order, at most `limit`. Main images only: view
   * rows (item#view) are not items of their own. A page costs a binary search and its own items,
   * not a sort of the catalog.
   */
  list(afterId: string, limit: number): { items: CatalogItemInfo[]; more: boolean } {
    const { ids, more } = this.listOrder.page(afterId, limit);
    return { items: ids.map((id) => this.state.info.get(id)!), more };
  }

  /** Search over the current items: exact, or the ANN graph once the catalog is large (see CatalogIndex). */
  search(query: Float32Array, k: number, filter?: MetadataFilter): { hits: IndexHit[]; scanned: number } {
    return this.state.index.search(query, k, filter);
  }

  get indexBytes(): number {
    return this.state.index.memoryBytes;
  }

  /** The index serving now and its settings, e.g. `exact` or `hnsw i8 M16 ef64`. */
  get indexKind(): string {
    return this.state.index.description;
  }

  /** Resolves when a wanted ANN graph is built (tests, benches). */
  graphReady(): Promise<void> {
    return this.state.index.graphReady();
  }

  /** Saves the ANN graph now when it changed since the last save (inside the write lock). */
  saveIndex(): Promise<boolean> {
    return this.lock.run(async () => this.saveSnapshotNow());
  }

  private saveSnapshotNow(): boolean {
    if (!this.state.index.graph || this.state.index.sequence === this.state.savedAt.seq) return false;
    const saved = this.state.snapshots.save(this.state.index, this.modelVersion);
    this.state.savedAt = { ms: Date.now(), seq: this.state.index.sequence };
    return saved;
  }

  /** Called after each write, inside the write lock: saves when the interval has passed. */
  private maybeSaveSnapshot(): void {
    if (this.state.index.graph && Date.now() - this.state.savedAt.ms >= this.state.snapshotIntervalMs) this.saveSnapshotNow();
  }

  /**
   * Bytes of the files in this catalog's folder (table, graph snapshots) and its source-image
   * folder. Measured by a walk in the background (see DiskUsage): after a write the figure lags
   * until the next walk ends; only the first call waits for one.
   */
  async dataBytes(): Promise<number> {
    return this.diskUsage.bytes();
  }

  /** Resolves when every write started so far has committed (or failed). */
  flush(): Promise<void> {
    return this.lock.idle();
  }

  /** Folder of the source images. */
  get blobDir(): string {
    return this.state.blobs.dir;
  }

  /** Set while the catalog is re-embedded for another model version in the background (GetCatalogStats). */
  reembedding?: { targetModelVersion: string; done: number; total: number; startedAtMs: number };

  /** Every stored row (main images and views; a view's `itemId` is its row key `item#view`), in no particular order. */
  rows(): IterableIterator<CatalogItemInfo> {
    return this.state.info.values();
  }

  /** Stored rows: main images, views and examples. */
  get rowCount(): number {
    return this.state.info.size;
  }

  /** The stored row of an item's main image or view (row key as in `rows`), or undefined. */
  row(key: string): CatalogItemInfo | undefined {
    return this.state.info.get(key);
  }

  /**
   * Runs `fn` while no catalog write runs or starts (writes queue behind it): a consistent moment
   * for switching model versions.
   */
  exclusive<T>(fn: () => Promise<T>): Promise<T> {
    return this.lock.run(fn);
  }

  /**
   * Takes over `next`'s state (table, index, items, model version, folder) and gives it this
   * catalog's, in one synchronous step: a search runs wholly before or wholly after it. Call inside
   * `exclusive`, after `next`'s writes have finished; then close `next`, which now holds the old state.
   */
  adopt(next: Catalog): void {
    const mine = this.state;
    this.state = next.state;
    next.state = mine;
    // Each listing order and disk figure reads its own catalog's state, which was just swapped.
    this.listOrder.invalidate();
    next.listOrder.invalidate();
    this.diskUsage.forget();
    next.diskUsage.forget();
  }

  /** Closes the table and releases the index; save the graph first with `saveIndex` to keep it. */
  close(): void {
    this.state.table.close();
    this.state.index.close();
    this.diskUsage.close();
  }
}
