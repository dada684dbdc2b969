/** The catalog's local-feature column: tables written before it existed gain it, and rows without maps go stale. */
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import * as lancedb from '@lancedb/lancedb';
import { Field, FixedSizeList, Float32, Float64, Schema, Utf8 } from 'apache-arrow';
import { Catalog } from '../../../src/store/catalog/index.js';
import { makeTempDir } from '../../helpers/server.js';

/** The table layout of the release before local features (no `local` column). */
async function writeOldTable(dataDir: string): Promise<void> {
  const db = await lancedb.connect(path.join(dataDir, 'catalog.lance'));
  const schema = new Schema([
    new Field('item_id', new Utf8(), false),
    new Field('metadata_json', new Utf8(), false),
    new Field('vector', new FixedSizeList(2, new Field('item', new Float32(), true)), false),
    new Field('model_version', new Utf8(), false),
    new Field('image_sha256', new Utf8(), false),
    new Field('image_bytes', new Float64(), false),
    new Field('updated_at_ms', new Float64(), false),
  ]);
  const table = await db.createEmptyTable('items', schema);
  await table.add([
    { item_id: 'old', metadata_json: '{"k":"v"}', vector: [0.6, 0.8], model_version: 'v1', image_sha256: 'x', image_bytes: 3, updated_at_ms: 1 },
  ]);
  table.close();
  db.close();
}

let dataDir: string;
beforeEach(async () => {
  dataDir = await makeTempDir();
  await writeOldTable(dataDir);
});
afterEach(() => fs.rm(dataDir, { recursive: true, force: true }));

test('an old table opens for a model without local features, its rows intact', async () => {
  const { catalog, stale } = await Catalog.open(dataDir, 2, 'v1');
  try {
    expect(stale).toEqual([]);
    expect(catalog.get('old').metadata).toEqual({ k: 'v' });
    expect(catalog.localOf('old')).toBeNull();
  } finally {
    catalog.close();
  }
});

test('for a model with local features, rows without maps are stale; once stored, maps read back as float16', async () => {
  let { catalog, stale } = await Catalog.open(dataDir, 2, 'v1', 4);
  try {
    expect(stale.map((r) => r.itemId)).toEqual(['old']);
    expect(catalog.size).toBe(0);
    const local = Float32Array.of(0.1, -2, 1000, 0);
    await catalog.upsert([{ itemId: 'old', metadata: {}, image: Buffer.from('abc'), embedding: Float32Array.of(1, 0), local }]);
    expect(() =>
      catalog.upsert([{ itemId: 'bad', metadata: {}, image: Buffer.from('abc'), embedding: Float32Array.of(1, 0) }]),
    ).toThrow("local features of 'bad' have 0 values, the catalog 4");
  } finally {
    catalog.close();
  }
  ({ catalog, stale } = await Catalog.open(dataDir, 2, 'v1', 4));
  try {
    expect(stale).toEqual([]);
    expect(Array.from(catalog.localOf('old')!)).toEqual([0.0999755859375, -2, 1000, 0]);
  } finally {
    catalog.close();
  }
});
