/**
 * Catalog.list pages in id order while items come and go; Catalog.dataBytes follows writes
 * (measured in the background). A real catalog (LanceDB table, blob store) in a temporary folder.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Catalog, type NewCatalogItem } from '../../../src/store/catalog/index.js';
import { createRng } from '../../../src/simulate/index.js';

const dim = 8;
const rng = createRng(3);
const vector = (): Float32Array => {
  const v = Float32Array.from({ length: dim }, () => rng() - 0.5);
  const n = Math.hypot(...v);
  return v.map((x) => x / n);
};
const idOf = (i: number): string => `item-${String(i).padStart(5, '0')}`;
const item = (itemId: string, view = '', image = new Uint8Array([1, 2, 3])): NewCatalogItem => ({ itemId, view, metadata: {}, image, embedding: vector() });

describe('Catalog.list and Catalog.dataBytes', () => {
  let dir: string;
  let catalog: Catalog;
  beforeEach(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'twinlens-list-'));
    catalog = (await Catalog.open(dir, dim, 'v1')).catalog;
  });
  afterEach(() => {
    catalog.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('paging while items are added and removed: every surviving item exactly once, in id order', async () => {
    // Even numbers first (one bulk write, over the splice limit), odd ones added while paging.
    await catalog.upsert(Array.from({ length: 1500 }, (_, i) => item(idOf(2 * i))));
    await catalog.upsert([item(idOf(10), 'back'), item(idOf(20), 'side')]); // views are not items of their own
    const present = new Set(Array.from({ length: 1500 }, (_, i) => idOf(2 * i)));
    const deleted = new Set<string>();
    const addedAhead = new Set<string>(); // added after the cursor: the walk must reach them
    const seen: string[] = [];
    let after = '';
    for (let page = 0; ; page++) {
      const { items, more } = catalog.list(after, 37);
      seen.push(...items.map((i) => i.itemId));
      if (!more) break;
      after = items[items.length - 1].itemId;
      // Between pages: add a few odd ids anywhere, delete a few items anywhere.
      const adds = Array.from({ length: 3 }, () => idOf(2 * Math.floor(rng() * 1500) + 1)).filter((id) => !present.has(id));
      await catalog.upsert(adds.map((id) => item(id)));
      for (const id of adds) {
        present.add(id);
        if (id > after) addedAhead.add(id);
      }
      for (const id of [...present].filter(() => rng() < 0.002)) {
        expect(await catalog.delete(id)).toBe(true);
        present.delete(id);
        deleted.add(id);
        addedAhead.delete(id);
      }
      expect(page).toBeLessThan(200);
    }
    // Strictly increasing: nothing twice, nothing out of order.
    for (let i = 1; i < seen.length; i++) expect(seen[i] > seen[i - 1]).toBe(true);
    const seenSet = new Set(seen);
    const initialSurvivors = Array.from({ length: 1500 }, (_, i) => idOf(2 * i)).filter((id) => !deleted.has(id));
    expect(initialSurvivors.filter((id) => !seenSet.has(id))).toEqual([]);
    expect([...addedAhead].filter((id) => !seenSet.has(id))).toEqual([]);
    expect(seen.every((id) => !id.includes('#'))).toBe(true);
    // A fresh walk after the writes: exactly the present items.
    expect(catalog.list('', 100_000).items.map((i) => i.itemId)).toEqual([...present].sort());
    expect(catalog.size).toBe(present.size);
  });

  test('data bytes grow after an upsert, on a later ask (the walk runs in the background)', async () => {
    const before = await catalog.dataBytes(); // the first ask waits for a walk: exact
    expect(await catalog.dataBytes()).toBe(before); // nothing written: the same figure, no walk
    const image = new Uint8Array(50_000).fill(7);
    await catalog.upsert([item('big-image', '', image)]);
    let after = before;
    for (const end = Date.now() + 20_000; after < before + image.length && Date.now() < end; ) {
      after = await catalog.dataBytes();
      await new Promise((r) => setTimeout(r, 10));
    }
    expect(after).toBeGreaterThanOrEqual(before + image.length);
    expect(after - before).toBeLessThan(image.length + 1_000_000); // the image and one small commit
  });
});
