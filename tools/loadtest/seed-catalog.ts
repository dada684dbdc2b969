import { status } from '@grpc/grpc-js';
import { codeName, connectLoadClients, upsert } from './grpc-calls.js';
import type { LoadCatalogItem } from './load-images.js';

/** Uploads `items` to the server at `address` in streams of `chunk`; throws unless every item is stored. */
export async function seedCatalog(address: string, items: readonly LoadCatalogItem[], chunk = 50): Promise<void> {
  const c = connectLoadClients(address);
  try {
    for (let i = 0; i < items.length; i += chunk) {
      const res = await upsert(c, items.slice(i, i + chunk).map((x) => ({ itemId: x.itemId, image: x.image, metadata: x.metadata })), 120_000);
      if (res.code !== status.OK || res.response?.failed) {
        throw new Error(`seeding the catalog failed: ${codeName(res.code)} ${res.details} ${JSON.stringify(res.response?.outcomes.find((o) => !o.ok) ?? '')}`);
      }
    }
  } finally {
    c.close();
  }
}
