import {
  type ExampleLabel,
  exampleViewOf,
  type NewCatalogItem,
  newExampleId,
  parseExampleView,
  validateItemId,
  validateMetadata,
} from '../store/index.js';
import { InvalidArgumentError, ItemNotFoundError } from '../errors/index.js';
import type { RequestContext, TwinlensEngine } from './engine.js';

/** A confirmed example as a client sends it. */
export interface NewExample {
  itemId: string;
  image: Uint8Array;
  /** SAME or DIFFERENT; anything else is refused. */
  label: ExampleLabel | undefined;
  metadata?: Record<string, string>;
}

/** One example's outcome: its id, or the error that stopped it. */
export type ExampleResult = { ok: true; itemId: string; exampleId: string } | { ok: false; itemId: string; error: unknown };

/**
 * Validates an example and embeds its photo as Search embeds a query (same decoder, model and
 * mirror), ready for `engine.store.upsert` (either store). Throws InvalidArgumentError or InvalidImageError for
 * a bad example, ItemNotFoundError when its item is not in the catalog.
 */
export async function prepareExample(engine: TwinlensEngine, example: NewExample, ctx: RequestContext = {}): Promise<NewCatalogItem> {
  validateItemId(example.itemId);
  // Named before the photo is embedded, so examples of one stream list in the order sent.
  const exampleId = newExampleId();
  if (example.label !== 'same' && example.label !== 'different') {
    throw new InvalidArgumentError('label', 'expected EXAMPLE_LABEL_SAME or EXAMPLE_LABEL_DIFFERENT');
  }
  const metadata = example.metadata ?? {};
  validateMetadata(metadata);
  if (!(await engine.store.has(example.itemId))) throw new ItemNotFoundError(example.itemId);
  if (!example.image?.length) throw new InvalidArgumentError('image', 'empty: every example needs its photo');
  const { embedding, local } = await engine.embedQuery(example.image, undefined, ctx);
  return { itemId: example.itemId, metadata, image: example.image, embedding, local, view: exampleViewOf(example.label, exampleId) };
}

/** The example id of a prepared example. */
export function exampleIdOf(prepared: NewCatalogItem): string {
  return parseExampleView(prepared.view ?? '')!.exampleId;
}

/**
 * Adds examples the way AddExamples does (the engine-level equivalent, for eval and tools): each is
 * prepared on its own (a bad one fails alone), `concurrency` at a time, and the good ones are
 * committed in batches of `commitBatch`; an example reported ok is durable.
 */
export async function addExamples(
  engine: TwinlensEngine,
  examples: readonly NewExample[],
  o: { concurrency?: number; commitBatch?: number; onProgress?: (done: number, total: number) => void } = {},
): Promise<ExampleResult[]> {
  const concurrency = o.concurrency ?? 4;
  const commitBatch = o.commitBatch ?? 64;
  const results: ExampleResult[] = new Array(examples.length);
  for (let start = 0; start < examples.length; start += commitBatch) {
    const chunk = examples.slice(start, start + commitBatch);
    const prepared: { index: number; item: NewCatalogItem }[] = [];
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < chunk.length) {
        const i = next++;
        try {
          prepared.push({ index: start + i, item: await prepareExample(engine, chunk[i], { waitForCapacity: true }) });
        } catch (error) {
          results[start + i] = { ok: false, itemId: chunk[i].itemId, error };
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, chunk.length) }, worker));
    prepared.sort((a, b) => a.index - b.index);
    try {
      await engine.store.upsert(prepared.map((p) => p.item));
      for (const p of prepared) results[p.index] = { ok: true, itemId: p.item.itemId, exampleId: exampleIdOf(p.item) };
    } catch (error) {
      for (const p of prepared) results[p.index] = { ok: false, itemId: p.item.itemId, error };
    }
    o.onProgress?.(Math.min(start + commitBatch, examples.length), examples.length);
  }
  return results;
}

/**
 * Turns the query image of a recent search into an example (ConfirmMatch). Throws
 * FailedPreconditionError when the engine keeps no query images, NotFoundError when `searchId`
 * expired or is unknown, and what `prepareExample` throws.
 */
export async function confirmMatch(
  engine: TwinlensEngine,
  request: { searchId: string; itemId: string; label: ExampleLabel | undefined; metadata?: Record<string, string> },
  ctx: RequestContext = {},
): Promise<string> {
  if (!request.searchId) throw new InvalidArgumentError('search_id', 'empty: pass SearchResponse.search_id');
  const image = engine.recentQueries.get(request.searchId);
  const item = await prepareExample(engine, { itemId: request.itemId, image, label: request.label, metadata: request.metadata }, ctx);
  await engine.store.upsert([item]);
  return exampleIdOf(item);
}
