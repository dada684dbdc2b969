/**
 * Worker thread of {@link createWorkerRenderer}: loads the assets once, then renders items
 * (clean view + simulated views, decoded by the service decoder) on request (internal).
 */
import { readFile } from 'node:fs/promises';
import { parentPort, workerData } from 'node:worker_threads';
import { createSharpDecoder } from '../imaging/index.js';
import { loadSimulationAssets } from './assets.js';
import { createPhotoSimulator } from './simulate-photo.js';
import type { WorkerSetup, WorkerTask, WorkerResult } from './worker-renderer.js';
import { renderItemViews } from './write-view-set.js';

async function main(): Promise<void> {
  const setup = workerData as WorkerSetup;
  const assets = await loadSimulationAssets(setup.assets);
  const simulator = createPhotoSimulator(assets, setup.photo);
  const decoder = createSharpDecoder(setup.decoder);
  parentPort!.on('message', (task: WorkerTask) => {
    void (async () => {
      try {
        const views = await renderItemViews(await readFile(task.imagePath), task.imagePath, task.index, setup.viewsPerItem, setup.seed, simulator, decoder);
        const size = views.size;
        const joined = new Uint8Array(views.rgb.reduce((n, v) => n + v.length, 0));
        let off = 0;
        for (const v of views.rgb) {
          joined.set(v, off);
          off += v.length;
        }
        const result: WorkerResult = { id: task.id, size, count: views.rgb.length, data: joined };
        parentPort!.postMessage(result, [joined.buffer as ArrayBuffer]);
      } catch (e) {
        const result: WorkerResult = { id: task.id, error: e instanceof Error ? e.message : String(e) };
        parentPort!.postMessage(result);
      }
    })();
  });
  parentPort!.postMessage({ ready: true, description: assets.description });
}

void main().catch((e) => parentPort!.postMessage({ fatal: e instanceof Error ? e.message : String(e) }));
