import type { Catalog, NewCatalogItem } from '../../src/store/catalog/index.js';
import { l2Normalize } from '../../src/model/index.js';
import { createRng } from '../../src/demo/index.js';

/** How the catalog was brought to its benchmark size. */
export interface CatalogFillResult {
  /** Items that went through gRPC UpsertItems, the model and all. */
  realItems: number;
  /** Items added with `catalog.upsert()`: jittered copies of the real items' embeddings. */
  jitteredCopies: number;
  /** Items in the catalog afterwards. */
  total: number;
  elapsedMs: number;
}

/** A standard normal draw (Box-Muller) from a uniform source. */
function gaussian(rng: () => number): number {
  const u = 1 - rng();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng());
}

/**
 * Tops the catalog up to `target` items without running the model thousands of times: each new
 * item is a copy of a real item (same image bytes and metadata, marked `bench_copy_of`) whose
 * real embedding is multiplied component-wise by (1 + `jitter` * N(0,1)) and re-normalised, so the
 * vectors keep the real embeddings' distribution (non-negative, clustered) without being
 * duplicates. Written through `catalog.upsert` (LanceDB commit and index) in chunks.
 */
export async function topUpCatalog(
  catalog: Catalog,
  target: number,
  options: { seed: number; jitter?: number; chunk?: number } = { seed: 1 },
): Promise<CatalogFillResult> {
  const start = Date.now();
  const jitter = options.jitter ?? 0.15;
  const chunk = options.chunk ?? 500;
  const realIds = catalog.list('', Number.MAX_SAFE_INTEGER).items.map((i) => i.itemId);
  const realItems = realIds.length;
  if (realItems === 0) throw new Error('topUpCatalog: the catalog has no real item to copy');
  const sources = await Promise.all(
    realIds.map(async (id) => ({
      id,
      info: catalog.get(id),
      embedding: catalog.embeddingOf(id),
      image: await catalog.imageOf(id),
    })),
  );
  const rng = createRng(options.seed);
  let made = 0;
  while (catalog.size < target) {
    const n = Math.min(chunk, target - catalog.size);
    const items: NewCatalogItem[] = [];
    for (let i = 0; i < n; i++, made++) {
      const src = sources[made % sources.length];
      const v = new Float32Array(src.embedding.length);
      for (let j = 0; j < v.length; j++) v[j] = src.embedding[j] * (1 + jitter * gaussian(rng));
      items.push({
        itemId: `bench-copy-${String(made).padStart(6, '0')}`,
        metadata: { ...src.info.metadata, bench_copy_of: src.id },
        image: src.image,
        embedding: l2Normalize(v),
      });
    }
    await catalog.upsert(items);
  }
  return { realItems, jitteredCopies: made, total: catalog.size, elapsedMs: Date.now() - start };
}
