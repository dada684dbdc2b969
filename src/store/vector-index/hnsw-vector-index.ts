import * as fs from 'node:fs';
import * as path from 'node:path';
import { Index, MetricKind, ScalarKind } from 'usearch';
import { BinaryCoder } from './binary-codes.js';
import { FlatVectors } from './flat-vectors.js';
import { atOffsetZero } from './native-array.js';
import { PackedKeys } from './packed-keys.js';
import type { Quantization, ScoredKey, VectorIndex, VectorSearchOptions } from './vector-index.js';

/** Where full-precision vectors for rescoring come from (the catalog's FlatVectors, or a file). */
export interface RescoreSource {
  /** Inner product of `query` with the stored vector of `key` (NaN when unknown). */
  dot(key: string, query: Float32Array): number;
}

/** Settings of an HNSW index. */
export interface HnswOptions {
  /** What the graph stores per vector. Default `i8` (see README: recall vs memory). */
  quantization: Quantization;
  /** Graph degree M (level 0 keeps 2M links). Default 16. */
  connectivity: number;
  /** Beam width while inserting (efConstruction). Default 128. */
  expansionAdd: number;
  /** Beam width while searching (ef). Default 64; raise it for recall, lower it for speed. */
  expansionSearch: number;
  /** Bits per binary code (b1 only), rounded to a multiple of the padded dimension. Default 1024. */
  binaryBits: number;
  /**
   * Candidates fetched per wanted hit before the exact rescore (b1 always rescores; other
   * quantisations rescore when a RescoreSource is given). Default 8: top-10 looks at 80.
   */
  rescoreFactor: number;
  /** Fewest candidates fetched for a rescore. Default 100. */
  minCandidates: number;
  /** Threads for bulk inserts (0: usearch's choice). Default 0. */
  threads: number;
}

export const DEFAULT_HNSW_OPTIONS: Readonly<HnswOptions> = Object.freeze({
  quantization: 'i8' as Quantization,
  connectivity: 16,
  expansionAdd: 128,
  expansionSearch: 64,
  binaryBits: 1024,
  rescoreFactor: 8,
  minCandidates: 100,
  threads: 0,
});

/** What `save` writes beside the graph file, and `load` needs back. */
export interface HnswSnapshot {
  dim: number;
  options: HnswOptions;
  /** [label, key] of every live entry. */
  labels: [number, string][];
  nextLabel: number;
  /** Seed of the binary rotation (b1). */
  coderSeed: number;
}

/** A snapshot whose keys live in the binary key file `saveKeys` writes instead of in `labels`. */
export type HnswSnapshotHeader = Omit<HnswSnapshot, 'labels'>;

const GRAPH_FILE = 'graph.usearch';
const KEYS_FILE = 'keys.bin';

/**
 * Approximate nearest-neighbour search on a usearch HNSW graph with quantised vectors (f32, f16,
 * i8, or b1 binary codes searched by Hamming distance). Candidates are rescored at full precision
 * when a RescoreSource is at hand (always for b1, whose Hamming distances only rank), so returned
 * scores are exact inner products. String keys map to dense numeric labels (0, 1, 2... in order of
 * first insertion) held in PackedKeys, not in a Map of strings (the compact setting's budget).
 */
export class HnswVectorIndex implements VectorIndex {
  readonly kind = 'hnsw' as const;
  readonly options: Readonly<HnswOptions>;
  private index: Index;
  private readonly coder?: BinaryCoder;
  private keys = new PackedKeys();
  /** Memory-mapped with `view`: searches only. */
  private readOnly = false;
  /** Own full-precision copy, kept when no outside RescoreSource is given (standalone use). */
  private readonly ownStore?: FlatVectors;
  private readonly rescore?: RescoreSource;
  /**
   * Divides usearch's inner product back to a cosine: its i8 cast normalises each vector and maps
   * it onto [-127, 127], so i8 distances are 1 - 127^2 cos (measured). 1 for the other types.
   */
  private readonly distanceScale: number;

  /**
   * `rescore`: where full-precision vectors come from (the catalog's store); omitted, the index
   * keeps its own copy; `'none'`: the graph alone (memory benches; b1 then ranks by Hamming
   * distance, scores are approximate and `candidates` searches are refused).
   */
  constructor(readonly dim: number, options: Partial<HnswOptions> = {}, rescore?: RescoreSource | 'none', coderSeed?: number) {
    this.options = validateHnswOptions(options);
    const q = this.options.quantization;
    if (q === 'b1') this.coder = new BinaryCoder(dim, this.options.binaryBits, coderSeed);
    if (rescore === undefined) this.ownStore = new FlatVectors(dim);
    this.rescore = rescore === 'none' ? undefined : (rescore ?? this.ownStore);
    this.distanceScale = q === 'i8' ? 127 * 127 : 1;
    this.index = this.createNative();
  }

  private createNative(): Index {
    const q = this.options.quantization;
    return new Index({
      dimensions: this.coder ? this.coder.bits : this.dim,
      metric: q === 'b1' ? MetricKind.Hamming : MetricKind.IP,
      quantization: { f32: ScalarKind.F32, f16: ScalarKind.F16, i8: ScalarKind.I8, b1: ScalarKind.B1 }[q],
      connectivity: this.options.connectivity,
      expansion_add: this.options.expansionAdd,
      expansion_search: this.options.expansionSearch,
      multi: false,
    });
  }

  get size(): number {
    return this.keys.size;
  }

  /** Whether the graph is a read-only memory-mapped view (`load(..., 'view')`). */
  get isReadOnly(): boolean {
    return this.readOnly;
  }

  /**
   * The numeric label of `key` (-1 if absent): dense, in order of first insertion, never reused.
   * The compact setting numbers the rows of its full-precision vector file by it.
   */
  labelOf(key: string): number {
    return this.keys.labelOf(key);
  }

  /** Bytes per stored vector in the graph. */
  get vectorBytes(): number {
    const q = this.options.quantization;
    if (q === 'b1') return this.coder!.bytes;
    return this.dim * (q === 'f32' ? 4 : q === 'f16' ? 2 : 1);
  }

  /**
   * Estimated resident bytes: per item the stored vector, level-0 links (2M x 4 bytes), upper-level
   * links (M x 4 bytes on 1/M of the nodes... ~1/(M-1) of M links on average), usearch's per-node
   * header, and the packed keys on the JavaScript side; plus the own rescore copy if any. The
   * bench measures the real figure (RSS and file size).
   */
  get memoryBytes(): number {
    const m = this.options.connectivity;
    const perNode = this.vectorBytes + 4 * 2 * m + 4 * m / (m - 1) + 16;
    return Math.round(this.size * perNode) + this.keys.memoryBytes + (this.ownStore?.memoryBytes ?? 0);
  }

  has(key: string): boolean {
    return this.keys.has(key);
  }

  private assertWritable(): void {
    if (this.readOnly) throw new Error('this HNSW index is a read-only memory-mapped view: rebuild it (or load it with `load`) to change it');
  }

  async upsert(keys: readonly string[], vectors: readonly Float32Array[]): Promise<void> {
    this.upsertSync(keys, vectors);
  }

  /** Adds or replaces in one native call (parallel insert across `threads`). */
  upsertSync(keys: readonly string[], vectors: readonly Float32Array[]): void {
    this.assertWritable();
    // Last occurrence wins; replaced keys leave the graph first (usearch refuses duplicate labels).
    const last = new Map<string, number>();
    keys.forEach((k, i) => {
      if (vectors[i].length !== this.dim) throw new RangeError(`vector of '${k}' has ${vectors[i].length} dims, expected ${this.dim}`);
      last.set(k, i);
    });
    const n = last.size;
    const width = this.coder ? this.coder.bits : this.dim;
    const labels = new BigUint64Array(n);
    const flat = new Float32Array(n * width);
    let row = 0;
    for (const [key, i] of last) {
      let label = this.keys.labelOf(key);
      if (label >= 0) this.index.remove(BigInt(label));
      else label = this.keys.add(key);
      labels[row] = BigInt(label);
      if (this.coder) this.coder.encodeInto(vectors[i], flat, row * width);
      else flat.set(vectors[i], row * width);
      this.ownStore?.set(key, vectors[i]);
      row++;
    }
    if (n > 0) this.index.add(labels, flat, this.options.threads);
  }

  async remove(keys: readonly string[]): Promise<number> {
    this.assertWritable();
    let removed = 0;
    for (const key of keys) {
      const label = this.keys.delete(key);
      if (label < 0) continue;
      this.index.remove(BigInt(label));
      this.ownStore?.delete(key);
      removed++;
    }
    return removed;
  }

  async search(query: Float32Array, k: number, options: VectorSearchOptions = {}): Promise<ScoredKey[]> {
    return this.searchSync(query, k, options);
  }

  searchSync(query: Float32Array, k: number, options: VectorSearchOptions = {}): ScoredKey[] {
    if (query.length !== this.dim) throw new RangeError(`query has ${query.length} dims, index has ${this.dim}`);
    const n = this.size;
    if (n === 0 || k <= 0) return [];
    if (options.candidates) return this.scoreCandidates(query, k, options.candidates, options.accept);
    const q = this.coder ? this.coder.encode(query) : atOffsetZero(query);
    const rescoring = this.rescore !== undefined && (this.coder !== undefined || this.options.rescoreFactor > 1);
    let fetch = rescoring ? Math.max(k * this.options.rescoreFactor, this.options.minCandidates) : k;
    if (options.accept) fetch *= 4;
    for (;;) {
      fetch = Math.min(fetch, n);
      const m = this.index.search(q, fetch, 1);
      const out: ScoredKey[] = [];
      for (let i = 0; i < m.keys.length; i++) {
        const key = this.keys.keyAt(Number(m.keys[i]));
        if (key === undefined || (options.accept && !options.accept(key))) continue;
        const score = rescoring ? this.rescore!.dot(key, query) : this.coder ? 1 - (2 * m.distances[i]) / this.coder.bits : (1 - m.distances[i]) / this.distanceScale;
        if (!Number.isNaN(score)) out.push({ key, score });
      }
      // A filter rejected too many: fetch wider, up to the whole index.
      if (out.length >= k || fetch >= n || !options.accept) {
        if (rescoring) out.sort((a, b) => b.score - a.score);
        return out.slice(0, k);
      }
      fetch *= 4;
    }
  }

  private scoreCandidates(query: Float32Array, k: number, keys: Iterable<string>, accept?: (key: string) => boolean): ScoredKey[] {
    if (!this.rescore) throw new Error('candidate scoring needs full-precision vectors (a RescoreSource)');
    const out: ScoredKey[] = [];
    for (const key of keys) {
      if (!this.keys.has(key) || (accept && !accept(key))) continue;
      out.push({ key, score: this.rescore.dot(key, query) });
    }
    return out.sort((a, b) => b.score - a.score).slice(0, k);
  }

  /** Writes the graph into `dir` (which must exist) and returns what `load` needs besides it. */
  save(dir: string): HnswSnapshot {
    return { ...this.saveGraph(dir), labels: this.keys.pairs() };
  }

  /**
   * Writes the graph and the keys in binary (`keys.bin`) into `dir`, and returns the snapshot
   * without its key list: at millions of keys a JSON list costs a transient ~100 B per key to
   * parse (and V8 strings cap a JSON text at ~512 MB, ~20M short keys).
   */
  saveWithKeys(dir: string): HnswSnapshotHeader {
    const header = this.saveGraph(dir);
    this.keys.writeFile(path.join(dir, KEYS_FILE));
    return header;
  }

  private saveGraph(dir: string): HnswSnapshotHeader {
    this.index.save(path.join(dir, GRAPH_FILE));
    return { dim: this.dim, options: { ...this.options }, nextLabel: this.keys.labelCount, coderSeed: this.coder?.seed ?? 0 };
  }

  /** The graph file `save` writes in `dir`. */
  static graphFile(dir: string): string {
    return path.join(dir, GRAPH_FILE);
  }

  /**
   * Loads a saved graph: `load` copies it into memory (mutable); `view` memory-maps it (read-only,
   * pages in on demand; upserts and removes then throw). The keys come from `snap.labels`, or
   * from `keys.bin` when the snapshot has none (`saveWithKeys`). `expansionSearch` may differ from
   * the saved one. The caller checks integrity.
   */
  static load(
    dir: string,
    snap: HnswSnapshot | HnswSnapshotHeader,
    rescore: RescoreSource | 'none',
    overrides: Partial<HnswOptions> = {},
    mode: 'load' | 'view' = 'load',
  ): HnswVectorIndex {
    const ix = new HnswVectorIndex(snap.dim, { ...snap.options, ...overrides }, rescore, snap.coderSeed || undefined);
    if (ix.ownStore) throw new Error('a saved index loads with a RescoreSource (or none), not an own copy');
    const file = path.join(dir, GRAPH_FILE);
    fs.accessSync(file);
    if (mode === 'view') ix.index.view(file);
    else ix.index.load(file);
    ix.readOnly = mode === 'view';
    ix.keys = 'labels' in snap ? PackedKeys.fromPairs(snap.labels, snap.nextLabel) : PackedKeys.readFile(path.join(dir, KEYS_FILE));
    if (ix.keys.labelCount !== snap.nextLabel) throw new Error(`key file has ${ix.keys.labelCount} labels, the snapshot ${snap.nextLabel}`);
    if (ix.index.size() !== ix.keys.size) {
      throw new Error(`graph holds ${ix.index.size()} vectors, the key list ${ix.keys.size}`);
    }
    return ix;
  }

  async close(): Promise<void> {
    // usearch frees its memory when the JavaScript object is collected; drop our reference.
    this.index = this.createNative();
    this.keys = new PackedKeys();
    this.readOnly = false;
  }
}

/** Fills defaults and checks ranges of HNSW options. */
export function validateHnswOptions(partial: Partial<HnswOptions>): Readonly<HnswOptions> {
  const defined = Object.fromEntries(Object.entries(partial).filter(([, v]) => v !== undefined));
  const o: HnswOptions = { ...DEFAULT_HNSW_OPTIONS, ...defined };
  if (!['f32', 'f16', 'i8', 'b1'].includes(o.quantization)) {
    throw new RangeError(`quantization: expected f32, f16, i8 or b1, received ${JSON.stringify(o.quantization)}`);
  }
  const int = (name: keyof HnswOptions, min: number, max: number): void => {
    const v = o[name] as number;
    if (!Number.isInteger(v) || v < min || v > max) throw new RangeError(`${name}: expected an integer ${min}..${max}, received ${v}`);
  };
  int('connectivity', 2, 256);
  int('expansionAdd', 1, 10_000);
  int('expansionSearch', 1, 10_000);
  int('binaryBits', 8, 65_536);
  int('rescoreFactor', 1, 1000);
  int('minCandidates', 1, 100_000);
  int('threads', 0, 1024);
  return Object.freeze(o);
}
