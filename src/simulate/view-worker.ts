/**
 * Worker thread of {@link createWorkerRenderer} and {@link createWorkerPhotoRenderer}: loads the
 * assets once, then renders on request either an item's views (clean view + simulated views,
 * decoded by the service decoder) or simulated photos of an image given as bytes (internal).
 */
import { readFile } from 'node:fs/promises';
import { parentPort, workerData } from 'node:worker_threads';
import { createSharpDecoder, type ImageDecoder } from '../imaging/index.js';
import { loadSimulationAssets } from './assets.js';
import { createPhotoSimulator, type PhotoSimulator, photosOf } from './simulate-photo.js';
import type { WorkerSetup, WorkerTask, WorkerResult } from './worker-renderer.js';
import { renderItemViews } from './write-view-set.js';

async function views(task: Extract<WorkerTask, { kind: 'views' }>, setup: WorkerSetup, simulator: PhotoSimulator, decoder: ImageDecoder): Promise<[WorkerResult, ArrayBuffer[]]> {
  const views = await renderItemViews(await readFile(task.imagePath), task.imagePath, task.index, setup.viewsPerItem ?? 0, setup.seed ?? 1, simulator, decoder);
  const joined = new Uint8Array(views.rgb.reduce((n, v) => n + v.length, 0));
  let off = 0;
  for (const v of views.rgb) {
    joined.set(v, off);
    off += v.length;
  }
  return [{ id: task.id, size: views.size, count: views.rgb.length, data: joined }, [joined.buffer as ArrayBuffer]];
}

async function photos(task: Extract<WorkerTask, { kind: 'photos' }>, simulator: PhotoSimulator): Promise<[WorkerResult, ArrayBuffer[]]> {
  // Each photo in a buffer of its own, so it can be transferred instead of copied.
  const jpegs = (await photosOf(simulator, task.image, task.seeds)).map((j) => new Uint8Array(j.buffer.slice(j.byteOffset, j.byteOffset + j.length)));
  return [{ id: task.id, jpegs }, jpegs.map((j) => j.buffer as ArrayBuffer)];
}

async function main(): Promise<void> {
  const setup = workerData as WorkerSetup;
  const assets = await loadSimulationAssets(setup.assets);
  const simulator = createPhotoSimulator(assets, setup.photo);
  const decoder = setup.decoder ? createSharpDecoder(setup.decoder) : undefined;
  parentPort!.on('message', (task: WorkerTask) => {
    void (async () => {
      try {
        if (task.kind === 'views' && !decoder) throw new Error('views task sent to a worker started without a decoder');
        const [result, transfer] = task.kind === 'views' ? await views(task, setup, simulator, decoder!) : await photos(task, simulator);
        parentPort!.postMessage(result, transfer);
      } catch (e) {
        const result: WorkerResult = { id: task.id, error: e instanceof Error ? e.message : String(e) };
        parentPort!.postMessage(result);
      }
    })();
  });
  parentPort!.postMessage({ ready: true, description: assets.description });
}

void main().catch((e) => parentPort!.postMessage({ fatal: e instanceof Error ? e.message : String(e) }));
