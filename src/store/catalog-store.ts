import type { Catalog, CatalogItemInfo, ExampleInfo, NewCatalogItem } from './catalog/index.js';
import type { IndexHit, MetadataFilter } from './vector-index/index.js';

/** Figures of a store for GetCatalogStats. */
export interface CatalogStoreStats {
  itemCount: number;
  /** Memory held by this process's search index (0 when the index lives in the database). */
  indexBytes: number;
  /** The index serving now and its settings, e.g. `exact`, `hnsw i8 M16 ef64` or `pgvector hnsw ...`. */
  indexKind: string;
  /** Bytes the catalog takes on disk (folder, or database size). */
  dataBytes: number;
  /** Where the catalog lives: a folder, or the database URL without its password. */
  dataDir: string;
}

/**
 * What the request path (the gRPC services and the engine's Search and Compare) needs of a catalog:
 * every read and write is asynchronous, so a store in another process (PostgreSQL) answers each call
 * itself and replicas over one database see each other's acknowledged writes. Two implementations:
 * the embedded Catalog (LanceDB + in-memory index, `embeddedStore`) and PgCatalogStore.
 */
export interface CatalogStore {
  readonly kind: 'embedded' | 'postgres';
  /** The model version of the vectors searched; a query embedded under another one is embedded again. */
  readonly modelVersion: string;
  readonly dim: number;
  /** Stores items durably and makes them searchable; per item, whether it replaced one. */
  upsert(items: NewCatalogItem[]): Promise<boolean[]>;
  /** Deletes an item with its views, or only `view` of it; false when there was none. */
  delete(itemId: string, view?: string): Promise<boolean>;
  has(itemId: string): Promise<boolean>;
  /** The stored item; rejects with ItemNotFoundError when there is none. */
  get(itemId: string): Promise<CatalogItemInfo>;
  /** The item's searched vector; rejects with ItemNotFoundError when there is none. */
  embeddingOf(itemId: string): Promise<Float32Array>;
  /** The item's local feature map (null when the model has none); ItemNotFoundError when no item. */
  localOf(itemId: string): Promise<Float32Array | null>;
  /** The item's source image; ItemNotFoundError when no item. */
  imageOf(itemId: string): Promise<Buffer>;
  /** Items (main images) with ids greater than `afterId`, in id order, at most `limit`. */
  list(afterId: string, limit: number): Promise<{ items: CatalogItemInfo[]; more: boolean }>;
  /** Items (main images) in the catalog. */
  count(): Promise<number>;
  /** The `k` nearest items (each by its best view), optionally only those matching `filter`. */
  search(query: Float32Array, k: number, filter?: MetadataFilter): Promise<{ hits: IndexHit[]; scanned: number }>;
  stats(): Promise<CatalogStoreStats>;
  /*
   * Confirmed examples (the warm path) are written with `upsert` (rows under an example view,
   * src/store/catalog/examples.ts; their item must exist) and deleted with their item by `delete`.
   */
  /**
   * The item's examples (both labels) with ids greater than `afterId`, oldest first, at most
   * `limit`, and how many it has; ItemNotFoundError when no item.
   */
  listExamples(itemId: string, afterId: string, limit: number): Promise<{ examples: ExampleInfo[]; more: boolean; total: number }>;
  /** Deletes one example by id; false when there was none. */
  deleteExample(exampleId: string): Promise<boolean>;
  /** A stored example, or undefined. */
  example(exampleId: string): Promise<ExampleInfo | undefined>;
  /** Examples in the catalog by label. */
  exampleCounts(): Promise<{ same: number; different: number }>;
  /**
   * Resolves when the store can serve this replica (Health): the database answers and still holds
   * this replica's model version. Rejects with ServiceUnavailableError otherwise.
   */
  check(): Promise<void>;
  /** Resolves when every write started so far has committed (or failed). */
  flush(): Promise<void>;
  close(): Promise<void>;
}

/** The embedded Catalog as a CatalogStore (its answers are in memory; each call resolves at once). */
export function embeddedStore(catalog: Catalog): CatalogStore {
  return {
    kind: 'embedded',
    get modelVersion() {
      return catalog.modelVersion;
    },
    get dim() {
      return catalog.dim;
    },
    upsert: (items) => catalog.upsert(items),
    delete: (itemId, view = '') => catalog.delete(itemId, view),
    has: async (itemId) => catalog.has(itemId),
    get: async (itemId) => catalog.get(itemId),
    embeddingOf: async (itemId) => catalog.embeddingOf(itemId),
    localOf: async (itemId) => catalog.localOf(itemId),
    imageOf: (itemId) => catalog.imageOf(itemId),
    list: async (afterId, limit) => catalog.list(afterId, limit),
    count: async () => catalog.size,
    search: async (query, k, filter) => catalog.search(query, k, filter),
    stats: async () => ({
      itemCount: catalog.size,
      indexBytes: catalog.indexBytes,
      indexKind: catalog.indexKind,
      dataBytes: await catalog.dataBytes(),
      dataDir: catalog.dataDir,
    }),
    listExamples: async (itemId, afterId, limit) => catalog.listExamples(itemId, afterId, limit),
    deleteExample: (exampleId) => catalog.deleteExample(exampleId),
    example: async (exampleId) => catalog.example(exampleId),
    exampleCounts: async () => catalog.exampleCounts(),
    check: async () => undefined,
    flush: () => catalog.flush(),
    close: async () => catalog.close(),
  };
}
