import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { makeBenchImages } from '../bench/bench-images.js';
import { startBenchServer } from '../bench/bench-server.js';
import { benchSearch, type SearchLevelResult } from '../bench/search-latency.js';
import { Catalog } from '../../src/store/catalog/index.js';
import { syntheticCatalog } from './synthetic-vectors.js';
import { embeddingOnlyManifest } from './embedding-only-manifest.js';

/** What `twinlens-dev bench-search-scale` runs. */
export interface SearchScaleOptions {
  /** Catalog sizes, e.g. 3,000 and 1,000,000. */
  sizes: number[];
  /** Model manifest; its local features and pair head are dropped (see below). */
  model: string;
  searches: number;
  log: (line: string) => void;
}

export interface SearchScaleResult {
  size: number;
  fillS: number;
  openAndGraphS: number;
  indexKind: string;
  search: SearchLevelResult;
}

/**
 * End-to-end Search over gRPC at several catalog sizes: a real server, real JPEG photos decoded
 * and embedded by the real model, one client. Each catalog is filled through Catalog.upsert with
 * clustered synthetic vectors of the model's dimension (embedding 1M images here would take 2
 * hours), then served by a fresh server that opens it (building the HNSW graph when the size calls
 * for one) before searches are timed. The model runs embedding-only: its local features and pair
 * head are dropped from a copy of the manifest, because the rerank cost does not depend on the
 * catalog size (it scores the shortlist) and 1M local maps would need ~12 GB.
 */
export async function runSearchScaleBench(o: SearchScaleOptions): Promise<SearchScaleResult[]> {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'twinlens-search-scale-'));
  try {
    const loaded = await embeddingOnlyManifest(o.model, work);
    const manifestPath = loaded.manifestPath;
    const dim = loaded.embeddingDim;
    const images = await makeBenchImages({ watches: 20, ingestImages: 0, queryImages: 40, seed: 1, photos: 'resized' });
    const out: SearchScaleResult[] = [];
    for (const size of o.sizes) {
      const dataDir = path.join(work, `catalog-${size}`);
      let t = performance.now();
      const data = syntheticCatalog({ count: size, dim, queries: 1, seed: 2 });
      const { catalog } = await Catalog.open(dataDir, dim, loaded.version, 0, { kind: 'exact' });
      const image = Buffer.from('twinlens search-scale bench: vectors are synthetic');
      // Store the one shared image first: Catalog.upsert writes a batch's new blobs concurrently,
      // and 25,000 writers of one missing blob would open 25,000 files at once (EMFILE).
      await catalog.upsert([{ itemId: 's-00000000', metadata: { c: '0' }, image, embedding: data.vectors.slice(0, dim) }]);
      // Large commits: each merge-insert joins against the whole table.
      const batch = 25_000;
      for (let i = 0; i < size; i += batch) {
        const items = [];
        for (let j = i; j < Math.min(size, i + batch); j++) {
          items.push({ itemId: `s-${String(j).padStart(8, '0')}`, metadata: { c: String(j % 50) }, image, embedding: data.vectors.slice(j * dim, (j + 1) * dim) });
        }
        await catalog.upsert(items);
      }
      catalog.close();
      const fillS = (performance.now() - t) / 1000;
      o.log(`${size.toLocaleString('en')} items: filled in ${fillS.toFixed(1)} s`);
      t = performance.now();
      const server = await startBenchServer(
        { dataDir, modelManifest: manifestPath, executionProviders: ['cpu'], intraOpThreads: 0, extra: {}, log: o.log },
        {},
      );
      try {
        await server.server.engine.catalog.graphReady();
        const openAndGraphS = (performance.now() - t) / 1000;
        const indexKind = server.server.engine.catalog.indexKind;
        (globalThis as { gc?: () => void }).gc?.();
        const rssMiB = process.memoryUsage().rss / 2 ** 20;
        o.log(`${size.toLocaleString('en')} items: server open, index ${indexKind} ready in ${openAndGraphS.toFixed(1)} s; process RSS ${rssMiB.toFixed(0)} MiB`);
        const search = await benchSearch(server.clients.twinlens, { queries: images.queries, concurrency: 1, total: o.searches, warmup: 20, topK: 10 });
        o.log(
          `${size.toLocaleString('en')} items: Search p50 ${search.p50Ms.toFixed(1)} ms, p95 ${search.p95Ms.toFixed(1)} ms; server stages p50: ` +
            `decode ${search.server.decodeMs.toFixed(1)}, embed ${search.server.embedMs.toFixed(1)}, index ${search.server.shortlistMs.toFixed(2)} ms`,
        );
        out.push({ size, fillS, openAndGraphS, indexKind, search });
      } finally {
        await server.stop();
      }
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
    return out;
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}
