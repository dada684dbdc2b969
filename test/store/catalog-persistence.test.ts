import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Catalog, type CatalogIndexSettings } from '../../src/store/catalog/catalog.js';
import type { RestoreReport } from '../../src/store/vector-index/index.js';
import { clusteredVectors, dot } from './vector-index/vectors.js';

const dim = 32;
const n = 1200;
const vectors = clusteredVectors(n + 200, dim, 11);
const idOf = (i: number): string => `w-${String(i).padStart(5, '0')}`;
const image = new Uint8Array([1, 2, 3]);

describe('Catalog with an HNSW graph: snapshots, restarts and concurrent writes', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'twinlens-index-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  async function open(settings: CatalogIndexSettings = {}, version = 'v1'): Promise<{ catalog: Catalog; report?: RestoreReport; staleCount: number }> {
    let report: RestoreReport | undefined;
    const { catalog, stale } = await Catalog.open(dir, dim, version, 0, {
      kind: 'hnsw',
      hnsw: { threads: 1 },
      onRestore: (r) => (report = r),
      ...settings,
    });
    await catalog.graphReady();
    return { catalog, report, staleCount: stale.length };
  }

  async function fill(catalog: Catalog, from: number, to: number): Promise<void> {
    for (let i = from; i < to; i += 200) {
      const items = [];
      for (let j = i; j < Math.min(to, i + 200); j++) items.push({ itemId: idOf(j), metadata: { n: String(j % 7) }, image, embedding: vectors[j] });
      await catalog.upsert(items);
    }
  }

  test('a saved graph loads after a restart; writes after the save are reconciled from the table', async () => {
    const first = await open();
    expect(first.report).toEqual(expect.objectContaining({ loaded: false, reason: 'no snapshot' }));
    await fill(first.catalog, 0, n);
    expect(first.catalog.indexKind).toMatch(/^hnsw/);
    expect(await first.catalog.saveIndex()).toBe(true);
    // Not saved: 100 more items, a delete and a replace.
    await fill(first.catalog, n, n + 100);
    await first.catalog.delete(idOf(3));
    await first.catalog.upsert([{ itemId: idOf(4), metadata: {}, image, embedding: vectors[n + 150] }]);
    first.catalog.close();

    const second = await open();
    expect(second.report).toMatchObject({ loaded: true });
    expect(second.report!.reconciled).toBe(100 + 1 + 2); // new items, the deleted key, the replaced key out and in
    expect(second.catalog.size).toBe(n + 100 - 1);
    expect(second.catalog.search(vectors[n + 50], 1).hits[0].itemId).toBe(idOf(n + 50));
    expect(second.catalog.search(vectors[3], 5).hits.map((h) => h.itemId)).not.toContain(idOf(3));
    expect(second.catalog.search(vectors[n + 150], 1).hits[0].itemId).toBe(idOf(4));
    second.catalog.close();
  });

  test('a torn or corrupted graph file is never loaded: the graph is rebuilt from the table', async () => {
    const first = await open();
    await fill(first.catalog, 0, n);
    await first.catalog.saveIndex();
    first.catalog.close();
    const indexDir = path.join(dir, 'index');
    const gen = fs.readFileSync(path.join(indexDir, 'CURRENT'), 'utf8');
    const graph = path.join(indexDir, gen, 'graph.usearch');
    const size = fs.statSync(graph).size;

    fs.truncateSync(graph, Math.floor(size / 2));
    const torn = await open();
    expect(torn.report).toMatchObject({ loaded: false, reason: expect.stringContaining('bytes, manifest says') });
    expect(torn.catalog.indexKind).toMatch(/^hnsw/);
    expect(torn.catalog.search(vectors[9], 1).hits[0].itemId).toBe(idOf(9));
    // Its rebuilt graph is saved anew and is whole.
    expect(await torn.catalog.saveIndex()).toBe(true);
    torn.catalog.close();
    const gen2 = fs.readFileSync(path.join(indexDir, 'CURRENT'), 'utf8');
    const graph2 = path.join(indexDir, gen2, 'graph.usearch');
    const fd = fs.openSync(graph2, 'r+');
    fs.writeSync(fd, Buffer.from([0xff, 0xff, 0xff, 0xff]), 0, 4, Math.floor(fs.statSync(graph2).size / 2));
    fs.closeSync(fd);
    const flipped = await open();
    expect(flipped.report).toMatchObject({ loaded: false, reason: 'graph file checksum mismatch' });
    expect(flipped.catalog.size).toBe(n);
    flipped.catalog.close();
  });

  test('a snapshot of another model version is not used', async () => {
    const first = await open();
    await fill(first.catalog, 0, 300);
    await first.catalog.saveIndex();
    first.catalog.close();
    const other = await open({}, 'v2');
    expect(other.staleCount).toBe(300);
    expect(other.catalog.size).toBe(0);
    other.catalog.close();
  });

  test('deletes and replaces stay correct while searches run', async () => {
    const { catalog } = await open({ snapshotIntervalMs: 0 });
    await fill(catalog, 0, n);
    const deleted = new Set<string>();
    const current = new Map<string, Float32Array>(Array.from({ length: n }, (_, i) => [idOf(i), vectors[i]]));
    let searches = 0;
    let writing = true;
    const searcher = (async () => {
      while (writing) {
        const qi = Math.floor(Math.random() * n);
        const { hits } = catalog.search(vectors[qi], 10);
        searches++;
        for (const h of hits) {
          // Every hit exists now, was not deleted, and is scored against its current vector.
          expect(catalog.has(h.itemId)).toBe(true);
          expect(deleted.has(h.itemId)).toBe(false);
          expect(h.score).toBeCloseTo(dot(current.get(h.itemId)!, vectors[qi]), 4);
        }
        await new Promise((r) => setImmediate(r));
      }
    })();
    const writes: Promise<unknown>[] = [];
    // 80 writes (each a table commit): enough to interleave with searches, without a long test.
    for (let i = 0; i < 80; i++) {
      const id = idOf(i * 7);
      if (i % 2 === 0) {
        writes.push(
          catalog.delete(id).then(() => {
            deleted.add(id);
            current.delete(id);
          }),
        );
      } else {
        const v = vectors[n + (i % 200)];
        writes.push(catalog.upsert([{ itemId: id, metadata: {}, image, embedding: v }]).then(() => current.set(id, v)));
      }
    }
    await Promise.all(writes);
    writing = false;
    await searcher;
    // The searcher yields to the event loop after each search, and the writes wait on I/O: at
    // least one search ran while writes were in flight, however fast they were.
    expect(searches).toBeGreaterThan(1);
    expect(catalog.size).toBe(n - 40);
    for (const id of deleted) expect(catalog.has(id)).toBe(false);
    catalog.close();
    // After a restart (snapshots were saved after every write), the same state.
    const again = await open();
    expect(again.report).toMatchObject({ loaded: true });
    expect(again.catalog.size).toBe(n - 40);
    for (const id of deleted) expect(again.catalog.has(id)).toBe(false);
    const replaced = idOf(7);
    expect(again.catalog.search(current.get(replaced)!, 1).hits[0].itemId).toBe(replaced);
    again.catalog.close();
  });
});
