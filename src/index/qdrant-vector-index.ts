import { createHash } from 'node:crypto';
import { QdrantClient } from '@qdrant/js-client-rest';
import type { Quantization, ScoredKey, VectorIndex, VectorSearchOptions } from './vector-index.js';

/** Where and how a Qdrant collection serves as the vector index. */
export interface QdrantIndexOptions {
  /** Server URL, e.g. `http://qdrant:6333`. */
  url: string;
  /** Collection name; created (Dot distance) when absent. */
  collection: string;
  apiKey?: string;
  /** Quantisation Qdrant applies: `f32` (none), `i8` (scalar int8) or `b1` (binary); candidates are rescored by Qdrant. Default `i8`. */
  quantization?: Exclude<Quantization, 'f16'>;
  /** HNSW graph degree. Default 16. */
  m?: number;
  /** HNSW build beam width. Default 128. */
  efConstruct?: number;
  /** Search beam width. Default 64. */
  ef?: number;
  /** Oversampling of quantised candidates before Qdrant's rescore. Default 2 (b1: 4). */
  oversampling?: number;
  /** Points per upsert request. Default 256. */
  batch?: number;
}

/** A deterministic UUID for a string key (Qdrant point ids are integers or UUIDs; the key rides in the payload). */
export function pointIdOf(key: string): string {
  const h = createHash('sha256').update(key).digest('hex');
  // Version 5-style layout (name-based), so ids look like UUIDs to every client.
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${((parseInt(h[16], 16) & 0x3) | 0x8).toString(16)}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/**
 * The scale-out backend: a Qdrant collection behind the VectorIndex interface, for catalogs that
 * outgrow one machine (Qdrant shards and replicates the collection). Keys are kept in a local set
 * (loaded by scrolling the collection at create) because `has` and `size` are synchronous.
 * An `accept` predicate runs here on over-fetched results (Qdrant cannot run JavaScript);
 * `candidates` become a `has_id` filter, so rare filters stay exact.
 *
 * UNTESTED HERE: no Qdrant server can run on this project's machine. The contract suite in
 * test/index/qdrant-contract.test.ts runs against a real server when TWINLENS_QDRANT_URL is set.
 */
export class QdrantVectorIndex implements VectorIndex {
  readonly kind = 'qdrant' as const;
  private readonly keys = new Set<string>();

  private constructor(
    readonly dim: number,
    private readonly client: QdrantClient,
    private readonly o: Required<Omit<QdrantIndexOptions, 'apiKey'>>,
  ) {}

  /** Connects, creates the collection when absent (checking its size and distance when present), and loads the key set. */
  static async create(dim: number, options: QdrantIndexOptions): Promise<QdrantVectorIndex> {
    const quantization = options.quantization ?? 'i8';
    const o: Required<Omit<QdrantIndexOptions, 'apiKey'>> = {
      url: options.url,
      collection: options.collection,
      quantization,
      m: options.m ?? 16,
      efConstruct: options.efConstruct ?? 128,
      ef: options.ef ?? 64,
      oversampling: options.oversampling ?? (quantization === 'b1' ? 4 : 2),
      batch: options.batch ?? 256,
    };
    const client = new QdrantClient({ url: o.url, apiKey: options.apiKey, checkCompatibility: false });
    const { exists } = await client.collectionExists(o.collection);
    if (!exists) {
      await client.createCollection(o.collection, {
        vectors: { size: dim, distance: 'Dot' },
        hnsw_config: { m: o.m, ef_construct: o.efConstruct },
        quantization_config:
          quantization === 'i8'
            ? { scalar: { type: 'int8', always_ram: true } }
            : quantization === 'b1'
              ? { binary: { always_ram: true } }
              : undefined,
      });
    } else {
      const info = await client.getCollection(o.collection);
      const vectors = info.config.params.vectors as { size?: number; distance?: string } | undefined;
      if (vectors?.size !== dim || vectors?.distance !== 'Dot') {
        throw new RangeError(`Qdrant collection '${o.collection}' holds ${vectors?.size}-d ${vectors?.distance} vectors, expected ${dim}-d Dot`);
      }
    }
    const index = new QdrantVectorIndex(dim, client, o);
    let offset: string | number | undefined | null = undefined;
    do {
      const page = await client.scroll(o.collection, { limit: 1000, offset: offset ?? undefined, with_payload: ['key'], with_vector: false });
      for (const p of page.points) index.keys.add(String((p.payload as { key?: unknown } | null)?.key));
      offset = page.next_page_offset as string | number | null | undefined;
    } while (offset !== null && offset !== undefined);
    return index;
  }

  get size(): number {
    return this.keys.size;
  }

  /** Local memory only (the key set); the vectors live in Qdrant. */
  get memoryBytes(): number {
    return this.keys.size * 80;
  }

  has(key: string): boolean {
    return this.keys.has(key);
  }

  async upsert(keys: readonly string[], vectors: readonly Float32Array[]): Promise<void> {
    const last = new Map<string, Float32Array>();
    keys.forEach((k, i) => {
      if (vectors[i].length !== this.dim) throw new RangeError(`vector of '${k}' has ${vectors[i].length} dims, expected ${this.dim}`);
      last.set(k, vectors[i]);
    });
    const entries = [...last];
    for (let i = 0; i < entries.length; i += this.o.batch) {
      const points = entries.slice(i, i + this.o.batch).map(([key, v]) => ({ id: pointIdOf(key), vector: Array.from(v), payload: { key } }));
      // wait: acknowledged only once applied, so a following search sees it.
      await this.client.upsert(this.o.collection, { wait: true, points });
    }
    for (const [key] of entries) this.keys.add(key);
  }

  async remove(keys: readonly string[]): Promise<number> {
    const present = [...new Set(keys)].filter((k) => this.keys.has(k));
    if (present.length > 0) await this.client.delete(this.o.collection, { wait: true, points: present.map(pointIdOf) });
    present.forEach((k) => this.keys.delete(k));
    return present.length;
  }

  async search(query: Float32Array, k: number, options: VectorSearchOptions = {}): Promise<ScoredKey[]> {
    if (query.length !== this.dim) throw new RangeError(`query has ${query.length} dims, index has ${this.dim}`);
    if (this.keys.size === 0 || k <= 0) return [];
    const candidates = options.candidates ? [...options.candidates].filter((key) => this.keys.has(key)) : undefined;
    if (candidates && candidates.length === 0) return [];
    let fetch = options.accept ? k * 4 : k;
    for (;;) {
      fetch = Math.min(fetch, this.keys.size);
      const hits = await this.client.search(this.o.collection, {
        vector: Array.from(query),
        limit: fetch,
        with_payload: ['key'],
        filter: candidates ? { must: [{ has_id: candidates.map(pointIdOf) }] } : undefined,
        params: {
          hnsw_ef: Math.max(this.o.ef, fetch),
          // Exact over a candidate list; quantised candidates rescored with the original vectors.
          exact: candidates !== undefined,
          quantization: this.o.quantization === 'f32' ? undefined : { rescore: true, oversampling: this.o.oversampling },
        },
      });
      const out: ScoredKey[] = [];
      for (const h of hits) {
        const key = String((h.payload as { key?: unknown } | null)?.key);
        if (options.accept && !options.accept(key)) continue;
        out.push({ key, score: h.score });
      }
      if (out.length >= k || fetch >= this.keys.size || !options.accept) return out.slice(0, k);
      fetch *= 4;
    }
  }

  /** Drops the collection (tests; not part of normal shutdown). */
  async drop(): Promise<void> {
    await this.client.deleteCollection(this.o.collection);
    this.keys.clear();
  }

  async close(): Promise<void> {}
}
