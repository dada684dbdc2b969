import * as fs from 'node:fs';
import * as path from 'node:path';
import { Catalog, type CatalogIndexSettings, type CatalogItemInfo, splitRowKey } from '../store/index.js';
import type { ImageDecoder } from '../imaging/index.js';
import type { Embedder, PairHead } from '../model/index.js';
import { storeBatch, type TwinlensEngine } from './index.js';
import { type ActiveVersion, versionFolder, writeActiveVersion } from './active-version.js';

/** The model a catalog is being re-embedded for. */
export interface TargetModel {
  decoder: ImageDecoder;
  embedder: Embedder;
  pairHead: PairHead | null;
  /** Why its pair head is on or off, when its manifest says (ServingModel.pairHeadDecision). */
  pairHeadDecision?: string;
  threshold: number;
  inputSize: number;
  /** Absolute path of its manifest (recorded as active after the switch). */
  manifest: string;
  /** Values in one local feature map (0: none). */
  localLength: number;
}

export interface ReembedOptions {
  dataDir: string;
  indexSettings: CatalogIndexSettings;
  /** Images per model run. Default 16. */
  batch?: number;
  log: (message: string, fields?: Record<string, unknown>) => void;
  /** Stops the work between batches (server shutdown); the version folder keeps what was done. */
  signal?: AbortSignal;
}

/**
 * Rows (main images and views, by row key) whose re-embedded row is missing or out of date (other
 * image or metadata), and row keys to drop.
 */
function diff(serving: Catalog, next: Catalog): { todo: CatalogItemInfo[]; extra: string[] } {
  const todo: CatalogItemInfo[] = [];
  for (const row of serving.rows()) {
    const n = next.row(row.itemId);
    if (!n || n.imageSha256 !== row.imageSha256 || JSON.stringify(n.metadata) !== JSON.stringify(row.metadata)) todo.push(row);
  }
  const extra: string[] = [];
  for (const row of next.rows()) if (!serving.row(row.itemId)) extra.push(row.itemId);
  return { todo, extra };
}

/**
 * Re-embeds the serving catalog for `target` while the old model keeps serving: items are
 * embedded from their stored source images into a catalog of the new version in its own folder
 * (`versions/<version>`, durable, so a restart resumes where it stopped), uploads and deletes made
 * meanwhile are caught up by diffing the two, and once nothing differs the engine switches model
 * and catalog in one synchronous step inside the serving catalog's exclusive section (no write in
 * between), after the active-version pointer is durably rewritten. Progress is on
 * `engine.catalog.reembedding` (GetCatalogStats). Resolves when switched.
 */
export async function reembedInBackground(engine: TwinlensEngine, target: TargetModel, o: ReembedOptions): Promise<void> {
  const serving = engine.catalog;
  const version = target.embedder.modelVersion;
  const folder = versionFolder(version);
  const started = Date.now();
  serving.reembedding = { targetModelVersion: version, done: 0, total: serving.size, startedAtMs: started };
  const { catalog: next } = await Catalog.open(path.join(o.dataDir, folder), target.embedder.dim, version, target.localLength, {
    ...o.indexSettings,
    blobDir: serving.blobDir,
  });
  const batch = o.batch ?? 16;
  try {
    for (;;) {
      if (o.signal?.aborted) {
        // Shutdown before the switch: the old model stays active; a restart resumes from the folder.
        await next.flush();
        next.close();
        o.log('background re-embedding stopped before the switch', { targetModelVersion: version });
        return;
      }
      const { todo, extra } = diff(serving, next);
      // Progress counts rows (items, their views and examples): todo holds rows.
      const rows = serving.rowCount;
      serving.reembedding = { targetModelVersion: version, done: Math.max(0, rows - todo.length), total: rows, startedAtMs: started };
      if (todo.length === 0 && extra.length === 0) {
        // A graph the new catalog wants is built before the switch, outside the exclusive section.
        await next.graphReady();
        const switched = await serving.exclusive(async () => {
          await next.flush();
          const again = diff(serving, next);
          if (again.todo.length > 0 || again.extra.length > 0) return false;
          const active: ActiveVersion = { folder, modelVersion: version, manifest: target.manifest };
          writeActiveVersion(o.dataDir, active);
          engine.switchModel(target, () => serving.adopt(next));
          return true;
        });
        if (switched) break;
        continue;
      }
      for (const key of extra) {
        const { itemId, view } = splitRowKey(key);
        await next.delete(itemId, view);
      }
      for (let i = 0; i < todo.length && !o.signal?.aborted; i += batch) {
        const slice = todo.slice(i, i + batch).filter((row) => serving.row(row.itemId));
        await storeBatch(
          target,
          engine.catalogViews,
          next,
          slice.map((row) => ({ ...splitRowKey(row.itemId), metadata: row.metadata, loadImage: () => serving.imageBySha(row.imageSha256) })),
          engine.queryMirror,
        );
        const done = Math.max(0, rows - todo.length + i + slice.length);
        serving.reembedding = { targetModelVersion: version, done: Math.min(done, rows), total: rows, startedAtMs: started };
        if ((i / batch) % 50 === 0) o.log('re-embedding in the background', { targetModelVersion: version, done, total: rows });
      }
    }
  } finally {
    serving.reembedding = undefined;
  }
  // `next` now holds the old version's state: save nothing, close it. Its folder stays until the
  // next start (a root-level catalog from before version folders is left in place).
  const oldFolder = next.dataDir;
  next.close();
  o.log('switched to the new model version', { modelVersion: version, items: serving.size, ms: Date.now() - started });
  if (path.resolve(oldFolder) !== path.resolve(o.dataDir)) fs.rmSync(oldFolder, { recursive: true, force: true });
}
