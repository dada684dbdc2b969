import * as fs from 'node:fs/promises';
import { sourceItems } from '../../simulate/catalog-source.js';
import type { UpsertItemsRequest } from '../../gen/twinlens/v1/twinlens.js';
import { connect, upsertItems } from '../client.js';
import { type ClientSecurityFlags, clientSecurityOptionsFrom } from '../security-flags.js';

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
