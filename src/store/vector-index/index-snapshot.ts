import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { CatalogIndex } from './catalog-index.js';
import { HnswVectorIndex, type HnswSnapshot } from './hnsw-vector-index.js';

/** Bump when the snapshot layout changes: older snapshots are then rebuilt, never misread. */
const FORMAT = 1;
const CURRENT = 'CURRENT';
const MANIFEST = 'manifest.json';

/** What a snapshot's manifest records. */
interface SnapshotManifest {
  format: number;
  modelVersion: string;
  dim: number;
  graphBytes: number;
  graphSha256: string;
  hnsw: HnswSnapshot;
  /** Per vector key, a hash of the vector the graph holds for it (detects rows changed since). */
  vectorHashes: Record<string, number>;
  savedAtMs: number;
}

/** How a restore went, for the log and the crash test. */
export interface RestoreReport {
  loaded: boolean;
  /** Why the snapshot was not used (absent, other model version, size or checksum mismatch...). */
  reason?: string;
  /** Vectors re-inserted or removed to match the table (0 when the snapshot was current). */
  reconciled: number;
  ms: number;
}

/** FNV-1a over the float bits: cheap identity of a vector. */
export function vectorHash(v: Float32Array): number {
  const u = new Uint32Array(v.buffer, v.byteOffset, v.length);
  let h = 0x811c9dc5;
  for (let i = 0; i < u.length; i++) {
    h ^= u[i];
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

function fsyncPath(p: string): void {
  const fd = fs.openSync(p, 'r');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

function writeFileDurably(file: string, data: string): void {
  const fd = fs.openSync(file, 'w');
  try {
    fs.writeSync(fd, data);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

function sha256OfFile(file: string): string {
  const h = createHash('sha256');
  const fd = fs.openSync(file, 'r');
  const buf = Buffer.allocUnsafe(4 << 20);
  try {
    for (;;) {
      const n = fs.readSync(fd, buf, 0, buf.length, null);
      if (n === 0) break;
      h.update(buf.subarray(0, n));
    }
  } finally {
    fs.closeSync(fd);
  }
  return h.digest('hex');
}

/**
 * Saved HNSW graphs, bound to the model version that made their vectors. Each save writes a new
 * generation folder (graph file and manifest, both fsynced, the manifest with the graph's size and
 * SHA-256), renames it into place, then atomically replaces `CURRENT` (temporary file, fsync,
 * rename, folder fsync). A crash at any point leaves the previous generation current, or no
 * snapshot at all; a file that does not match its manifest is never loaded. The LanceDB table
 * stays the truth: a restored graph is reconciled with the rows (vectors added, changed or
 * deleted since the save are applied), and anything doubtful means a rebuild from the rows.
 */
export class IndexSnapshots {
  constructor(readonly dir: string) {}

  /** Saves `index`'s graph (no-op without one). Synchronous: the index does not change meanwhile. */
  save(index: CatalogIndex, modelVersion: string): boolean {
    const graph = index.graph;
    if (!graph) return false;
    fs.mkdirSync(this.dir, { recursive: true });
    const name = `gen-${Date.now()}-${randomBytes(4).toString('hex')}`;
    const tmp = path.join(this.dir, `${name}.tmp`);
    fs.mkdirSync(tmp);
    const hnsw = graph.save(tmp);
    const graphFile = HnswVectorIndex.graphFile(tmp);
    fsyncPath(graphFile);
    const vectorHashes: Record<string, number> = {};
    for (const [, key] of hnsw.labels) vectorHashes[key] = vectorHash(index.store.view(key)!);
    const manifest: SnapshotManifest = {
      format: FORMAT,
      modelVersion,
      dim: index.dim,
      graphBytes: fs.statSync(graphFile).size,
      graphSha256: sha256OfFile(graphFile),
      hnsw,
      vectorHashes,
      savedAtMs: Date.now(),
    };
    writeFileDurably(path.join(tmp, MANIFEST), JSON.stringify(manifest));
    fsyncPath(tmp);
    fs.renameSync(tmp, path.join(this.dir, name));
    const currentTmp = path.join(this.dir, `${CURRENT}.${randomBytes(4).toString('hex')}.tmp`);
    writeFileDurably(currentTmp, name);
    fs.renameSync(currentTmp, path.join(this.dir, CURRENT));
    fsyncPath(this.dir);
    this.removeAllBut(name);
    return true;
  }

  /**
   * Restores the current snapshot into `index` (whose store already holds the table's vectors of
   * `modelVersion`) when it is whole and of that model version, reconciling it with the store.
   */
  restore(index: CatalogIndex, modelVersion: string): RestoreReport {
    const start = Date.now();
    const fail = (reason: string): RestoreReport => ({ loaded: false, reason, reconciled: 0, ms: Date.now() - start });
    let name: string;
    try {
      name = fs.readFileSync(path.join(this.dir, CURRENT), 'utf8').trim();
    } catch {
      return fail('no snapshot');
    }
    const gen = path.join(this.dir, name);
    let manifest: SnapshotManifest;
    try {
      manifest = JSON.parse(fs.readFileSync(path.join(gen, MANIFEST), 'utf8'));
    } catch (e) {
      return fail(`unreadable manifest: ${(e as Error).message}`);
    }
    if (manifest.format !== FORMAT) return fail(`snapshot format ${manifest.format}, expected ${FORMAT}`);
    if (manifest.modelVersion !== modelVersion) return fail(`snapshot of model ${manifest.modelVersion}, serving ${modelVersion}`);
    if (manifest.dim !== index.dim) return fail(`snapshot of ${manifest.dim}-d vectors, index ${index.dim}-d`);
    const graphFile = HnswVectorIndex.graphFile(gen);
    let size: number;
    try {
      size = fs.statSync(graphFile).size;
    } catch {
      return fail('graph file missing');
    }
    if (size !== manifest.graphBytes) return fail(`graph file has ${size} bytes, manifest says ${manifest.graphBytes}`);
    if (sha256OfFile(graphFile) !== manifest.graphSha256) return fail('graph file checksum mismatch');
    let graph: HnswVectorIndex;
    try {
      graph = HnswVectorIndex.load(gen, manifest.hnsw, index.store, index.options.hnsw);
    } catch (e) {
      return fail(`graph failed to load: ${(e as Error).message}`);
    }
    // Reconcile with the table's rows: drop keys gone or changed, insert keys new or changed.
    const stale: string[] = [];
    for (const [, key] of manifest.hnsw.labels) {
      const v = index.store.view(key);
      if (!v || vectorHash(v) !== manifest.vectorHashes[key]) stale.push(key);
    }
    void graph.remove(stale);
    const missing = index.store.allKeys().filter((key) => !graph.has(key));
    if (missing.length > 0) graph.upsertSync(missing, missing.map((key) => index.store.view(key)!.slice()));
    index.adoptGraph(graph);
    return { loaded: true, reconciled: stale.length + missing.length, ms: Date.now() - start };
  }

  private removeAllBut(keep: string): void {
    for (const entry of fs.readdirSync(this.dir)) {
      if (entry === keep || entry === CURRENT) continue;
      fs.rmSync(path.join(this.dir, entry), { recursive: true, force: true });
    }
  }
}
