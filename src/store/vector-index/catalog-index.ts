import { FlatVectors } from './flat-vectors.js';
import { HnswVectorIndex, type HnswOptions } from './hnsw-vector-index.js';
import { MetadataPostings } from './metadata-postings.js';
import type { ScoredKey } from './vector-index.js';

/** Exact-match metadata filter: every key must be present with exactly this value. */
export type MetadataFilter = Record<string, string>;

/** What the index keeps beside each vector, so a filtered search needs no I/O. */
export interface IndexEntry {
  itemId: string;
  metadata: Record<string, string>;
  /** The view this vector shows ('' or absent: the item's main image). */
  view?: string;
}

/** One hit: an item, scored by its best view. */
export interface IndexHit {
  itemId: string;
  /** Inner product of the unit vectors (cosine), full precision. */
  score: number;
  metadata: Record<string, string>;
  /** The view that scored best ('' for the main image). */
  view: string;
}

/** Whether `metadata` satisfies every pair of `filter`. */
export function matchesFilter(metadata: Record<string, string>, filter: MetadataFilter | undefined): boolean {
  if (!filter) return true;
  for (const key of Object.keys(filter)) if (metadata[key] !== filter[key]) return false;
  return true;
}

/** Separates an item id from a view name in vector keys (item ids never contain it). */
export const VIEW_SEPARATOR = '#';

/** The vector key of an item's view. */
export function vectorKeyOf(itemId: string, view = ''): string {
  return view ? `${itemId}${VIEW_SEPARATOR}${view}` : itemId;
}

/** How the catalog's search index is chosen and tuned. */
export interface CatalogIndexOptions {
  /**
   * `exact`: always brute force. `hnsw`: always the ANN graph. `auto` (default): exact below
   * `annMinItems` vectors, HNSW from there on (built in the background while exact keeps serving).
   */
  kind: 'auto' | 'exact' | 'hnsw';
  /** Vectors from which `auto` switches to HNSW. Default 50,000 (exact: ~3 ms a query at 256-d there). */
  annMinItems: number;
  /** HNSW settings (quantisation, M, ef...). */
  hnsw: Partial<HnswOptions>;
  /**
   * A filter whose smallest metadata posting list has at most this many vectors is answered by an
   * exact scan of them: every match is found however rare. Default 20,000 (~5 ms at 256-d).
   */
  exactFilterMaxCandidates: number;
}

export const DEFAULT_CATALOG_INDEX_OPTIONS: Readonly<CatalogIndexOptions> = Object.freeze({
  kind: 'auto' as const,
  annMinItems: 50_000,
  hnsw: {},
  exactFilterMaxCandidates: 20_000,
});

/**
 * The catalog's search index: full-precision vectors (FlatVectors, also the rescore source and
 * the stored embeddings), their entries and metadata postings, and, once the catalog is large
 * enough, an HNSW graph over the same vectors. Search picks per query: the graph for unfiltered
 * and common-filter queries, an exact scan of the filter's candidates for rare filters, exact
 * brute force while no graph is ready. Hits are items: several views of one item collapse to the
 * best-scoring view. Every method is synchronous, so a search sees one consistent state between
 * two writes.
 */
export class CatalogIndex {
  readonly options: Readonly<CatalogIndexOptions>;
  readonly store: FlatVectors;
  private readonly entries = new Map<string, IndexEntry>();
  private readonly postings = new MetadataPostings();
  /** Views per item id (1 for items with only the main image). */
  private readonly viewCount = new Map<string, number>();
  private maxViews = 1;
  private ann?: HnswVectorIndex;
  /** A graph being built in the background; writes go to it too. */
  private building?: HnswVectorIndex;
  private buildRun?: Promise<void>;
  /** Bumped by every write; a snapshot records it to know whether it is current. */
  private writeSeq = 0;

  constructor(readonly dim: number, options: Partial<CatalogIndexOptions> = {}) {
    this.options = Object.freeze({ ...DEFAULT_CATALOG_INDEX_OPTIONS, ...options });
    this.store = new FlatVectors(dim);
  }

  /** Vectors held (views included). */
  get size(): number {
    return this.store.size;
  }

  /** Distinct items. */
  get itemCount(): number {
    return this.viewCount.size;
  }

  /** 'hnsw' once a graph serves, else 'exact'. */
  get kind(): 'exact' | 'hnsw' {
    return this.ann ? 'hnsw' : 'exact';
  }

  /** A description for stats: kind and settings. */
  get description(): string {
    if (!this.ann) return this.building ? 'exact (hnsw building)' : 'exact';
    const o = this.ann.options;
    return `hnsw ${o.quantization} M${o.connectivity} ef${o.expansionSearch}`;
  }

  get memoryBytes(): number {
    return this.store.memoryBytes + (this.ann?.memoryBytes ?? 0) + (this.building?.memoryBytes ?? 0);
  }

  get sequence(): number {
    return this.writeSeq;
  }

  get graph(): HnswVectorIndex | undefined {
    return this.ann;
  }

  has(key: string): boolean {
    return this.entries.has(key);
  }

  /** The entry and a copy of the vector stored under `key` (an item id, or item#view). */
  get(key: string): (IndexEntry & { vector: Float32Array }) | undefined {
    const e = this.entries.get(key);
    return e && { ...e, vector: this.store.get(key)! };
  }

  /** Adds or replaces one vector. */
  upsert(entry: IndexEntry, vector: Float32Array): void {
    this.upsertMany([entry], [vector]);
  }

  /**
   * Adds or replaces vectors (one native graph insert for all of them). `deferGraph`: do not start a
   * background graph build yet (bulk loading at open, before a snapshot restore).
   */
  upsertMany(entries: readonly IndexEntry[], vectors: readonly Float32Array[], options: { deferGraph?: boolean } = {}): void {
    const keys = entries.map((e) => vectorKeyOf(e.itemId, e.view));
    entries.forEach((entry, i) => {
      const key = keys[i];
      const old = this.entries.get(key);
      if (old) this.postings.remove(key, old.metadata);
      else {
        const views = (this.viewCount.get(entry.itemId) ?? 0) + 1;
        this.viewCount.set(entry.itemId, views);
        if (views > this.maxViews) this.maxViews = views;
      }
      this.entries.set(key, entry);
      this.postings.add(key, entry.metadata);
      this.store.set(key, vectors[i]);
    });
    this.ann?.upsertSync(keys, vectors);
    this.building?.upsertSync(keys, vectors);
    this.writeSeq++;
    if (!options.deferGraph) this.maybeStartBuild();
  }

  /** Removes one vector by key; false when absent. */
  delete(key: string): boolean {
    const entry = this.entries.get(key);
    if (!entry) return false;
    this.postings.remove(key, entry.metadata);
    this.entries.delete(key);
    this.store.delete(key);
    const views = (this.viewCount.get(entry.itemId) ?? 1) - 1;
    if (views > 0) this.viewCount.set(entry.itemId, views);
    else this.viewCount.delete(entry.itemId);
    void this.ann?.remove([key]);
    void this.building?.remove([key]);
    this.writeSeq++;
    return true;
  }

  /**
   * The `k` best items for `query` among those whose metadata passes `filter`, best first, each
   * scored by its best view. `scanned`: vectors scored exactly (0 for a pure graph search).
   */
  search(query: Float32Array, k: number, filter?: MetadataFilter): { hits: IndexHit[]; scanned: number } {
    if (query.length !== this.dim) throw new RangeError(`query has ${query.length} dims, index has ${this.dim}`);
    if (this.size === 0 || k <= 0) return { hits: [], scanned: 0 };
    const hasFilter = filter !== undefined && Object.keys(filter).length > 0;
    const accept = hasFilter ? (key: string) => matchesFilter(this.entries.get(key)!.metadata, filter) : undefined;
    // Several views of an item may fill the top: fetch enough vectors for k distinct items.
    const want = k * this.maxViews;
    let scored: ScoredKey[];
    let scanned: number;
    const candidates = hasFilter ? this.postings.smallestFor(filter!) : undefined;
    if (candidates && (candidates.size <= this.options.exactFilterMaxCandidates || !this.ann)) {
      scored = this.store.searchAmong(query, want, candidates, accept);
      scanned = candidates.size;
    } else if (this.ann) {
      scored = this.ann.searchSync(query, want, { accept });
      scanned = 0;
    } else {
      scored = this.store.searchAll(query, want);
      scanned = this.size;
    }
    const hits: IndexHit[] = [];
    const seen = new Set<string>();
    for (const s of scored) {
      const e = this.entries.get(s.key);
      if (!e || seen.has(e.itemId)) continue;
      seen.add(e.itemId);
      hits.push({ itemId: e.itemId, score: s.score, metadata: e.metadata, view: e.view ?? '' });
      if (hits.length === k) break;
    }
    return { hits, scanned };
  }

  /** Whether the options want a graph at the current size. */
  wantsGraph(): boolean {
    const { kind, annMinItems } = this.options;
    return kind === 'hnsw' || (kind === 'auto' && this.size >= annMinItems);
  }

  /** Starts the background graph build when the options want a graph and none is there. */
  startGraphIfWanted(): void {
    this.maybeStartBuild();
  }

  private maybeStartBuild(): void {
    if (!this.ann && !this.building && this.wantsGraph()) this.buildRun = this.buildGraph();
  }

  /** Resolves when no background graph build is running. */
  async graphReady(): Promise<void> {
    this.maybeStartBuild();
    await this.buildRun;
  }

  /** Adopts a graph restored from a snapshot (already reconciled with the store by the caller). */
  adoptGraph(graph: HnswVectorIndex): void {
    this.ann = graph;
  }

  /**
   * Builds the graph from the stored vectors in slices, yielding to the event loop between them
   * so searches (exact meanwhile) and writes go on. Writes during the build go to the new graph
   * too; a slice inserts only keys still present, with their current vectors.
   */
  private async buildGraph(): Promise<void> {
    const graph = new HnswVectorIndex(this.dim, this.options.hnsw, this.store);
    this.building = graph;
    try {
      const keys = [...this.store.allKeys()];
      // ~256 inserts (tens of ms at 1M items on 2 cores) between two turns of the event loop.
      const slice = 256;
      for (let i = 0; i < keys.length; i += slice) {
        const part = keys.slice(i, i + slice).filter((key) => this.store.has(key) && !graph.has(key));
        graph.upsertSync(part, part.map((key) => this.store.view(key)!.slice()));
        await new Promise((resolve) => setImmediate(resolve));
      }
      if (this.building === graph) this.ann = graph;
    } finally {
      if (this.building === graph) this.building = undefined;
      this.buildRun = undefined;
    }
  }

  close(): void {
    void this.ann?.close();
    void this.building?.close();
    this.ann = undefined;
    this.building = undefined;
  }
}
