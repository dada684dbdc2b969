import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { readCatalogCsv } from '../../eval/index.js';
import type { UpsertItemsRequest } from '../../gen/twinlens/v1/twinlens.js';
import { connect, upsertItems } from '../client.js';
import { type ClientSecurityFlags, clientSecurityOptionsFrom } from '../security-flags.js';

const IMAGE_EXTENSIONS = new Set(['.jpg', '.jpeg', '.png', '.webp', '.avif', '.gif', '.tif', '.tiff']);

/** A file to index: its item id, image path and metadata. */
interface SourceItem {
  itemId: string;
  imagePath: string;
  metadata: Record<string, string>;
}

async function listImages(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await fs.readdir(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...(await listImages(p)));
    else if (IMAGE_EXTENSIONS.has(path.extname(e.name).toLowerCase())) out.push(p);
  }
  return out.sort();
}

/**
 * Items of a folder (every image below it; the id is its path relative to the folder without the
 * extension, with '/' separators) or of a catalog.csv in the benchmark format.
 */
export async function sourceItems(source: string): Promise<SourceItem[]> {
  if ((await fs.stat(source)).isDirectory()) {
    return (await listImages(source)).map((p) => {
      const rel = path.relative(source, p).split(path.sep).join('/');
      return { itemId: rel.slice(0, rel.length - path.extname(rel).length).replace(/[^A-Za-z0-9._\-:/]/g, '_'), imagePath: p, metadata: { file: rel } };
    });
  }
  return (await readCatalogCsv(source)).map((i) => ({ itemId: i.itemId, imagePath: i.imagePath, metadata: i.metadata }));
}

/** `twinlens index SOURCE`: uploads a folder or catalog.csv to a running server, with progress. */
export async function indexCommand(source: string, opts: { server: string; chunk: number } & ClientSecurityFlags): Promise<void> {
  const items = await sourceItems(source);
  const clients = connect(opts.server, clientSecurityOptionsFrom(opts));
  const started = Date.now();
  let ok = 0;
  const failures: string[] = [];
  try {
    for (let i = 0; i < items.length; i += opts.chunk) {
      const chunk = items.slice(i, i + opts.chunk);
      async function* requests(): AsyncGenerator<UpsertItemsRequest> {
        for (const it of chunk) yield { itemId: it.itemId, image: await fs.readFile(it.imagePath), metadata: it.metadata };
      }
      const res = await upsertItems(clients.catalog, requests());
      ok += res.upserted;
      for (const o of res.outcomes) if (!o.ok) failures.push(`${o.itemId}: ${o.error?.codeName} ${o.error?.message}`);
      const done = Math.min(i + opts.chunk, items.length);
      const rate = done / ((Date.now() - started) / 1000);
      const eta = (items.length - done) / rate;
      process.stderr.write(`\rindexed ${done}/${items.length} (${rate.toFixed(1)} img/s, ~${eta.toFixed(0)} s left)   `);
    }
  } finally {
    clients.close();
  }
  process.stderr.write('\n');
  console.log(`${ok} items indexed, ${failures.length} failed`);
  for (const f of failures.slice(0, 20)) console.log(`  ${f}`);
  if (failures.length > 0) process.exitCode = 1;
}
