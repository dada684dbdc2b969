/**
 * Background refinement of catalog vectors: an item is stored (and searchable) with its clean
 * image's vector as soon as it is upserted, and a refiner later re-stores it with the mean of that
 * and the embeddings of simulated photos of it (src/engine/catalog-views.ts). Which rows wait is
 * in the table (`simulatedViews` below the service's `catalogViews`), so a restart finds them again.
 */
import { performance } from 'node:perf_hooks';
import type { Catalog, RefinedVector } from '../store/index.js';
import type { ImageDecoder } from '../imaging/index.js';
import type { Embedder } from '../model/index.js';
import { averageFeatures, type CatalogViewSource } from './catalog-views.js';

/** Options of {@link CatalogRefiner.start}. */
export interface CatalogRefinerOptions {
  catalog: Catalog;
  /** The model serving now (read for every row: a model switch replaces it). */
  model: () => { decoder: ImageDecoder; embedder: Embedder };
  views: CatalogViewSource;
  /** Rows simulated and embedded at once. Default 4: keeps both simulation workers and the model busy. */
  concurrency?: number;
  /** Refined rows written per commit. Default 16. */
  commitRows?: number;
  /**
   * Start a row only when no catalog image arrived ({@link CatalogRefiner.noteUpload}) or committed
   * for this long, so that a bulk load runs at the speed of clean vectors and refinement catches up
   * when it pauses. Searches do not hold it back. Default 2,000 ms.
   */
  quietMs?: number;
  /** ...but start one row at least this often while uploads keep coming, so refinement never starves. Default 30,000 ms. */
  maxDeferMs?: number;
  log?: (message: string, fields?: Record<string, unknown>) => void;
  /** Called after each commit of refined rows with their keys (tests, benches). */
  onRefined?: (keys: string[]) => void;
}

/** What GetCatalogStats reports about refinement. */
export interface RefinementProgress {
  views: number;
  /** Rows waiting (queued or in progress). */
  pending: number;
  /** Rows refined since start. */
  refined: number;
  startedAtMs: number;
  /** Milliseconds per stage over the rows refined since start (summed over concurrent rows). */
  simulateMs: number;
  decodeMs: number;
  embedMs: number;
  commitMs: number;
}

// Not unref'd: while rows wait for a pause in uploads, that wait is the process's work (an eval or a
// script awaiting idle() has nothing else keeping it alive; an unref'd timer let it exit silently
// with status 0). stop() ends the wait within one tick of 100 ms.
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Refines catalog rows stored with fewer simulated views than `views.views`; see the module comment. */
export class CatalogRefiner {
  private readonly queue = new Set<string>();
  private readonly inFlight = new Set<string>();
  private stopped = false;
  private lastWriteMs = 0;
  private lastStartMs = performance.now();
  private wake: (() => void) | undefined;
  private idleWaiters: (() => void)[] = [];
  private loop: Promise<void> = Promise.resolve();
  private readonly stats: RefinementProgress;
  private readonly concurrency: number;
  private readonly commitRows: number;
  private readonly quietMs: number;
  private readonly maxDeferMs: number;

  private constructor(private readonly o: CatalogRefinerOptions) {
    this.concurrency = o.concurrency ?? 4;
    this.commitRows = o.commitRows ?? 16;
    this.quietMs = o.quietMs ?? 2_000;
    this.maxDeferMs = o.maxDeferMs ?? 30_000;
    this.stats = { views: o.views.views, pending: 0, refined: 0, startedAtMs: Date.now(), simulateMs: 0, decodeMs: 0, embedMs: 0, commitMs: 0 };
  }

  /** Queues every stored row that needs refining, follows later upserts, and starts working. */
  static start(o: CatalogRefinerOptions): CatalogRefiner {
    const r = new CatalogRefiner(o);
    for (const row of o.catalog.rows()) if (r.needs(row.itemId)) r.queue.add(row.itemId);
    if (r.queue.size > 0) o.log?.('catalog rows waiting for refinement', { rows: r.queue.size, views: o.views.views });
    o.catalog.onWrite((keys) => {
      r.lastWriteMs = performance.now();
      for (const key of keys) if (r.needs(key)) r.queue.add(key);
      r.wake?.();
    });
    r.loop = r.run().catch((e: unknown) => o.log?.('catalog refinement stopped on an error', { error: String(e) }));
    return r;
  }

  /** Says a catalog image is being embedded for an upsert: refinement waits for uploads to pause. */
  noteUpload(): void {
    this.lastWriteMs = performance.now();
  }

  /** Whether the stored row has fewer simulated views than the refiner adds (null: made elsewhere, left alone). */
  private needs(key: string): boolean {
    const row = this.o.catalog.row(key);
    return row !== undefined && row.simulatedViews !== null && row.simulatedViews < this.o.views.views;
  }

  get progress(): RefinementProgress {
    return { ...this.stats, pending: this.queue.size + this.inFlight.size };
  }

  /** Resolves when no row waits for refinement (now or after the rows queued meanwhile). */
  idle(): Promise<void> {
    if (this.queue.size === 0 && this.inFlight.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Stops after the rows in progress (their results are committed) and waits; rows left wait for the next start. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    await this.loop;
  }

  private async run(): Promise<void> {
    const running = new Set<Promise<void>>();
    const ready: { update: RefinedVector; modelVersion: string }[] = [];
    const commit = async (): Promise<void> => {
      const done = ready.splice(0);
      if (done.length === 0) return;
      const t = performance.now();
      // Vectors of a model that was switched away from meanwhile are dropped (refineVectors checks the catalog's).
      const version = this.o.model().embedder.modelVersion;
      const batch = done.filter((r) => r.modelVersion === version).map((r) => r.update);
      const keys = await this.o.catalog.refineVectors(batch, version);
      this.stats.commitMs += performance.now() - t;
      this.stats.refined += keys.length;
      for (const r of done) this.inFlight.delete(r.update.key);
      this.o.onRefined?.(keys);
    };
    while (!this.stopped) {
      if (this.queue.size === 0) {
        if (running.size > 0) await Promise.race(running);
        else {
          await commit();
          if (this.queue.size === 0 && this.inFlight.size === 0) for (const w of this.idleWaiters.splice(0)) w();
          await new Promise<void>((resolve) => (this.wake = resolve));
          this.wake = undefined;
          // maxDeferMs counts from when work arrived, not from the last row before the pause.
          this.lastStartMs = performance.now();
        }
        continue;
      }
      // Bulk loads first: wait for a pause in upserts, but never longer than maxDeferMs.
      for (;;) {
        const now = performance.now();
        const wait = Math.min(this.quietMs - (now - this.lastWriteMs), this.maxDeferMs - (now - this.lastStartMs));
        if (wait <= 0 || this.stopped) break;
        await sleep(Math.min(wait, 100));
      }
      if (this.stopped) break;
      const key = this.queue.values().next().value as string;
      this.queue.delete(key);
      if (!this.needs(key)) continue;
      this.inFlight.add(key);
      this.lastStartMs = performance.now();
      const p = this.refineRow(key).then(
        (u) => {
          if (u) ready.push(u);
          else this.inFlight.delete(key);
        },
        (e: unknown) => {
          // The row keeps its clean vector until the next start (or its next upsert).
          this.inFlight.delete(key);
          this.o.log?.('catalog row not refined', { key, error: String(e) });
        },
      );
      running.add(p);
      void p.finally(() => running.delete(p));
      if (running.size >= this.concurrency) await Promise.race(running);
      if (ready.length >= this.commitRows || (running.size === 0 && this.queue.size === 0)) await commit();
    }
    await Promise.all(running);
    await commit();
    for (const w of this.idleWaiters.splice(0)) w();
  }

  /** The row's refined vector: its clean image and its simulated photos in one model run, averaged. */
  private async refineRow(key: string): Promise<{ update: RefinedVector; modelVersion: string } | undefined> {
    const row = this.o.catalog.row(key);
    if (!row) return undefined;
    const image = await this.o.catalog.imageBySha(row.imageSha256);
    const { decoder, embedder } = this.o.model();
    let t = performance.now();
    const photos = await this.o.views.photos(image);
    this.stats.simulateMs += performance.now() - t;
    t = performance.now();
    const decoded = await Promise.all([image, ...photos].map((b) => decoder.decode(b)));
    this.stats.decodeMs += performance.now() - t;
    t = performance.now();
    const features = await embedder.embedBatch(decoded);
    this.stats.embedMs += performance.now() - t;
    const { embedding, local } = averageFeatures(features);
    return { update: { key, imageSha256: row.imageSha256, embedding, local, simulatedViews: this.o.views.views }, modelVersion: embedder.modelVersion };
  }
}
