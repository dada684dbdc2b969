/**
 * Simulation on worker threads (one JS thread each; sharp's own threads come on top), so it uses
 * every core and never blocks the server's event loop. Two kinds of work share one pool: item
 * views for training sets (clean view + simulated photos, decoded) and simulated photos of an
 * image given as bytes (catalog view averaging, see src/engine/catalog-views.ts). Only available
 * from compiled JavaScript (dist/); under ts-jest callers simulate in-process instead.
 */
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { SharpDecoderOptions } from '../imaging/index.js';
import type { SimulationAssetOptions } from './assets.js';
import type { PhotoOptions } from './photo-params.js';
import type { ItemRenderer } from './write-view-set.js';

/** What each worker is started with. */
export interface WorkerSetup {
  assets: SimulationAssetOptions;
  photo: PhotoOptions;
  /** Decoder of item views (view tasks only). */
  decoder?: SharpDecoderOptions;
  viewsPerItem?: number;
  seed?: number;
}

/** A request to a worker: the views of the catalog image at `imagePath`, or `count` photos of `image`. */
export type WorkerTask =
  | { id: number; kind: 'views'; index: number; imagePath: string }
  | { id: number; kind: 'photos'; image: Uint8Array; seeds: number[] };

/** A worker's answer: `count` images of size x size x 3 in `data`, JPEG photos, or an error. */
export type WorkerResult =
  | { id: number; size: number; count: number; data: Uint8Array }
  | { id: number; jpegs: Uint8Array[] }
  | { id: number; error: string };

type Task = WorkerTask extends infer T ? (T extends { id: number } ? Omit<T, 'id'> : never) : never;

/** True where worker threads can run the compiled worker script. */
export function workersAvailable(): boolean {
  return __filename.endsWith('.js');
}

/** Starts `workers` simulation threads; each task goes to the least loaded one. */
async function startPool(
  setup: WorkerSetup,
  workers: number,
): Promise<{ call: (task: Task, transfer?: ArrayBuffer[]) => Promise<WorkerResult>; close: () => Promise<void>; description: string }> {
  const script = path.join(__dirname, 'view-worker.js');
  const pool = Array.from({ length: workers }, () => new Worker(script, { workerData: setup }));
  const pending = new Map<number, { resolve: (r: WorkerResult) => void; reject: (e: Error) => void }>();
  const load = new Map<Worker, number>(pool.map((w) => [w, 0]));
  let description = '';
  await Promise.all(
    pool.map(
      (w) =>
        new Promise<void>((resolve, reject) => {
          w.once('error', reject);
          w.on('message', (m: { ready?: boolean; description?: string; fatal?: string } & Partial<{ id: number }>) => {
            if (m.ready) {
              description = m.description ?? '';
              resolve();
            } else if (m.fatal) reject(new Error(`simulation worker: ${m.fatal}`));
            else if (typeof m.id === 'number') {
              load.set(w, (load.get(w) ?? 1) - 1);
              const p = pending.get(m.id);
              pending.delete(m.id);
              p?.resolve(m as WorkerResult);
            }
          });
          w.on('error', (e) => {
            for (const p of pending.values()) p.reject(e);
            pending.clear();
          });
        }),
    ),
  );
  let nextId = 0;
  const call = (task: Task, transfer: ArrayBuffer[] = []): Promise<WorkerResult> => {
    const w = [...load.entries()].sort((a, b) => a[1] - b[1])[0]![0];
    load.set(w, (load.get(w) ?? 0) + 1);
    const id = nextId++;
    return new Promise<WorkerResult>((resolve, reject) => {
      pending.set(id, { resolve, reject });
      w.postMessage({ ...task, id } as WorkerTask, transfer);
    });
  };
  return { call, description, close: async () => void (await Promise.all(pool.map((w) => w.terminate()))) };
}

/** A renderer of item views backed by `workers` threads; call `close()` when done. */
export async function createWorkerRenderer(
  setup: WorkerSetup & { decoder: SharpDecoderOptions; viewsPerItem: number; seed: number },
  workers: number,
): Promise<{ render: ItemRenderer; close: () => Promise<void>; description: string }> {
  const pool = await startPool(setup, workers);
  const render: ItemRenderer = async (item, index) => {
    const r = await pool.call({ kind: 'views', index, imagePath: item.imagePath });
    if ('error' in r) throw new Error(r.error);
    if (!('data' in r)) throw new Error('simulation worker answered a views task with photos');
    const one = r.size * r.size * 3;
    return { size: r.size, rgb: Array.from({ length: r.count }, (_, k) => r.data.subarray(k * one, (k + 1) * one)) };
  };
  return { render, description: pool.description, close: pool.close };
}

/** Simulated photos (JPEG) of images given as bytes, one per seed, on `workers` threads. */
export async function createWorkerPhotoRenderer(
  setup: Pick<WorkerSetup, 'assets' | 'photo'>,
  workers: number,
): Promise<{ photos: (image: Uint8Array, seeds: number[]) => Promise<Uint8Array[]>; close: () => Promise<void>; description: string }> {
  const pool = await startPool(setup, workers);
  const photos = async (image: Uint8Array, seeds: number[]): Promise<Uint8Array[]> => {
    const r = await pool.call({ kind: 'photos', image, seeds });
    if ('error' in r) throw new Error(r.error);
    if (!('jpegs' in r)) throw new Error('simulation worker answered a photos task with views');
    return r.jpegs;
  };
  return { photos, description: pool.description, close: pool.close };
}
