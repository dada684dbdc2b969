/**
 * Renders item views on worker threads (one JS thread each; sharp's own threads come on top), so
 * simulation uses every core. Only available from compiled JavaScript (dist/); under ts-jest the
 * caller falls back to rendering in-process.
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
  decoder: SharpDecoderOptions;
  viewsPerItem: number;
  seed: number;
}

/** A request to a worker. */
export interface WorkerTask {
  id: number;
  index: number;
  imagePath: string;
}

/** A worker's answer: `count` images of size x size x 3 in `data`, or an error. */
export type WorkerResult = { id: number; size: number; count: number; data: Uint8Array } | { id: number; error: string };

/** True where worker threads can run the compiled worker script. */
export function workersAvailable(): boolean {
  return __filename.endsWith('.js');
}

/** A renderer backed by `workers` threads; call `close()` when done. */
export async function createWorkerRenderer(
  setup: WorkerSetup,
  workers: number,
): Promise<{ render: ItemRenderer; close: () => Promise<void>; description: string }> {
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
          w.on('message', (m: { ready?: boolean; description?: string; fatal?: string } & Partial<WorkerResult>) => {
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
  const render: ItemRenderer = async (item, index) => {
    const w = [...load.entries()].sort((a, b) => a[1] - b[1])[0]![0];
    load.set(w, (load.get(w) ?? 0) + 1);
    const id = nextId++;
    const r = await new Promise<WorkerResult>((resolve, reject) => {
      pending.set(id, { resolve, reject });
      w.postMessage({ id, index, imagePath: item.imagePath } satisfies WorkerTask);
    });
    if ('error' in r) throw new Error(r.error);
    const one = r.size * r.size * 3;
    return { size: r.size, rgb: Array.from({ length: r.count }, (_, k) => r.data.subarray(k * one, (k + 1) * one)) };
  };
  return { render, description, close: async () => void (await Promise.all(pool.map((w) => w.terminate()))) };
}
