import type { ServerReadableStream, sendUnaryData } from '@grpc/grpc-js';
import { validateItemId, validateMetadata, validateView } from '../store/index.js';
import { FailedPreconditionError, InvalidArgumentError } from '../errors/index.js';
import { type AdaptationJob, EXAMPLE_ADAPT_BUDGET_MINUTES, type TwinlensEngine } from '../engine/index.js';
import type {
  CatalogServiceServer,
  UpsertItemsRequest,
  UpsertItemsResponse,
  UpsertOutcome,
} from '../gen/twinlens/v1/twinlens.js';
import { adaptationProgressFrom, catalogItemFrom } from './convert.js';
import type { Logger } from '../observability/logger.js';
import { serviceErrorFrom, statusFromError, statusName } from './status-from-error.js';
import { requestSignal } from './request-signal.js';
import { unary } from './unary.js';
import { createUploadCommits, drainUploads } from './drain-uploads.js';
import type { ImageMemoryBudget } from './image-memory-budget.js';
import { createExampleHandlers } from './example-service.js';

const MAX_PAGE_SIZE = 1000;

/**
 * UpsertItems: each streamed item is validated, decoded and embedded (several at once, reading
 * paused while they run), then committed in batches. The response lists one outcome per item in
 * the order sent; items reported ok were committed before the response was sent.
 * Each item's message goes back to the image memory `budget` once done with (createUploadCommits).
 */
function handleUpsertItems(engine: TwinlensEngine, log: Logger, budget?: ImageMemoryBudget) {
  return (call: ServerReadableStream<UpsertItemsRequest, UpsertItemsResponse>, callback: sendUnaryData<UpsertItemsResponse>): void => {
    const outcomes: UpsertOutcome[] = [];
    // Items wait for model capacity (the upload bounds its own items in flight) and stop when
    // the client cancels or the deadline passes.
    const { signal, done } = requestSignal(call);
    const failWith = (index: number, itemId: string, e: unknown): void => {
      const s = statusFromError(e, log.error);
      outcomes[index] = { itemId, ok: false, replaced: false, error: { code: s.code, codeName: statusName(s.code), message: s.details } };
    };
    const commits = createUploadCommits<UpsertItemsRequest>({
      catalog: engine.store,
      budget,
      onCommitted: (index, item, replaced) => (outcomes[index] = { itemId: item.itemId, ok: true, replaced }),
      onFailed: (index, item, e) => failWith(index, item.itemId, e),
    });
    const mainsInCall = new Set<string>();
    const prepare = async (req: UpsertItemsRequest, index: number): Promise<void> => {
      try {
        validateItemId(req.itemId);
        validateView(req.view);
        // A view belongs to an item: its main image comes first (earlier in this call is enough).
        if (req.view && !mainsInCall.has(req.itemId) && !(await engine.store.has(req.itemId))) {
          throw new InvalidArgumentError('view', `item '${req.itemId}' has no main image yet: upsert it without a view first`);
        }
        if (!req.view) mainsInCall.add(req.itemId);
        validateMetadata(req.metadata);
        if (!req.image?.length) throw new InvalidArgumentError('image', 'empty: every item needs its image');
        const { embedding, local, simulatedViews } = await engine.embedCatalogImage(req.image, { signal, waitForCapacity: true });
        commits.add(index, { itemId: req.itemId, metadata: req.metadata, image: req.image, embedding, local, view: req.view ?? '', simulatedViews }, req);
      } catch (e) {
        failWith(index, req.itemId, e);
        commits.dropped(req);
      }
    };

    (async () => {
      await drainUploads(call as AsyncIterable<UpsertItemsRequest>, { prepare, commits });
      const upserted = outcomes.filter((o) => o.ok).length;
      callback(null, { outcomes, upserted, failed: outcomes.length - upserted });
    })()
      .catch((e) => callback(serviceErrorFrom(statusFromError(e, log.error))))
      .finally(() => {
        commits.close();
        done();
      });
  };
}

/**
 * The CatalogService handlers over an engine. `budget`: the image memory budget the upload
 * messages were charged to (by the image budget admission); each is given back once done with.
 */
export function createCatalogService(engine: TwinlensEngine, log: Logger, budget?: ImageMemoryBudget, adaptation?: AdaptationJob): CatalogServiceServer {
  const catalog = engine.store;
  return {
    ...createExampleHandlers(engine, log, budget),
    upsertItems: handleUpsertItems(engine, log, budget),
    deleteItem: unary(log, async (req) => ({ deleted: await catalog.delete(req.itemId, req.view ?? '') })),
    getItem: unary(log, async (req) => {
      const info = await catalog.get(req.itemId);
      return {
        item: catalogItemFrom(info),
        embedding: req.includeEmbedding ? Array.from(await catalog.embeddingOf(req.itemId)) : [],
        image: req.includeImage ? await catalog.imageOf(req.itemId) : Buffer.alloc(0),
      };
    }),
    listItems: unary(log, async (req) => {
      const pageSize = req.pageSize || 100;
      if (pageSize > MAX_PAGE_SIZE) throw new InvalidArgumentError('page_size', `expected 0..${MAX_PAGE_SIZE}, received ${pageSize}`);
      const afterId = req.pageToken ? pageTokenDecode(req.pageToken) : '';
      const [{ items, more }, totalCount] = await Promise.all([catalog.list(afterId, pageSize), catalog.count()]);
      return {
        items: items.map(catalogItemFrom),
        nextPageToken: more ? pageTokenEncode(items[items.length - 1].itemId) : '',
        totalCount,
      };
    }),
    getCatalogStats: unary(log, async () => {
      const [stats, examples] = await Promise.all([catalog.stats(), catalog.exampleCounts()]);
      // The background re-embed lives in the embedded catalog only.
      const embedded = catalog.kind === 'embedded' ? engine.catalog : null;
      return {
        ...stats,
        modelVersion: catalog.modelVersion,
        embeddingDim: catalog.dim,
        reembedding: embedded?.reembedding,
        refinement: engine.refiner?.progress,
        sameExampleCount: examples.same,
        differentExampleCount: examples.different,
        adaptation: adaptation?.status && adaptationProgressFrom(adaptation.status),
      };
    }),
    startAdaptation: unary(log, async (req) => {
      if (!adaptation) throw new FailedPreconditionError('this server runs no adaptation');
      const minutes = req.budgetMinutes;
      if (!Number.isFinite(minutes) || minutes < 0) throw new InvalidArgumentError('budget_minutes', `${minutes}: must be 0 (the default) or more`);
      const status = adaptation.start({ budgetMs: (minutes || EXAMPLE_ADAPT_BUDGET_MINUTES) * 60_000 }, 'request');
      return { adaptation: adaptationProgressFrom(status) };
    }),
  };
}

/** Page tokens are opaque to clients: the last id of the page, base64url-encoded. */
function pageTokenEncode(lastId: string): string {
  return Buffer.from(`after:${lastId}`).toString('base64url');
}

function pageTokenDecode(token: string): string {
  const text = Buffer.from(token, 'base64url').toString('utf8');
  if (!text.startsWith('after:')) throw new InvalidArgumentError('page_token', 'not a token this server issued');
  return text.slice('after:'.length);
}
