import type { ServerReadableStream, sendUnaryData } from '@grpc/grpc-js';
import { confirmMatch, exampleIdOf, prepareExample, type TwinlensEngine } from '../engine/index.js';
import type { ExampleInfo, ExampleLabel } from '../store/index.js';
import { InvalidArgumentError, ItemNotFoundError } from '../errors/index.js';
import {
  type AddExamplesRequest,
  type AddExamplesResponse,
  type CatalogServiceServer,
  type Example,
  ExampleLabel as WireLabel,
  type ExampleOutcome,
} from '../gen/twinlens/v1/twinlens.js';
import type { Logger } from '../observability/logger.js';
import type { ImageMemoryBudget } from './image-memory-budget.js';
import { serviceErrorFrom, statusFromError, statusName } from './status-from-error.js';
import { requestSignal } from './request-signal.js';
import { unary } from './unary.js';
import { createUploadCommits, drainUploads } from './drain-uploads.js';

const MAX_PAGE_SIZE = 1000;

/** The engine's label of a wire label (undefined for UNSPECIFIED and unknown values). */
export function exampleLabelFrom(label: WireLabel): ExampleLabel | undefined {
  return label === WireLabel.EXAMPLE_LABEL_SAME ? 'same' : label === WireLabel.EXAMPLE_LABEL_DIFFERENT ? 'different' : undefined;
}

/** Wire form of a stored example. */
export function exampleFrom(e: ExampleInfo): Example {
  return {
    exampleId: e.exampleId,
    itemId: e.itemId,
    label: e.label === 'same' ? WireLabel.EXAMPLE_LABEL_SAME : WireLabel.EXAMPLE_LABEL_DIFFERENT,
    metadata: e.metadata,
    modelVersion: e.modelVersion,
    imageSha256: e.imageSha256,
    imageBytes: e.imageBytes,
    createdAtMs: e.createdAtMs,
  };
}

/**
 * AddExamples, in UpsertItems' style: each streamed example is validated, decoded and embedded as a
 * query (several at once, reading paused while they run), then committed in batches. One outcome
 * per example in the order sent; those reported ok were committed before the response was sent.
 * Like UpsertItems, each message goes back to the image memory `budget` once done with (createUploadCommits).
 */
function handleAddExamples(engine: TwinlensEngine, log: Logger, budget?: ImageMemoryBudget) {
  return (call: ServerReadableStream<AddExamplesRequest, AddExamplesResponse>, callback: sendUnaryData<AddExamplesResponse>): void => {
    const outcomes: ExampleOutcome[] = [];
    const { signal, done } = requestSignal(call);
    const failWith = (index: number, itemId: string, e: unknown): void => {
      const s = statusFromError(e, log.error);
      outcomes[index] = { itemId, ok: false, exampleId: '', error: { code: s.code, codeName: statusName(s.code), message: s.details } };
    };
    const commits = createUploadCommits<AddExamplesRequest>({
      catalog: engine.store,
      budget,
      onCommitted: (index, item) => (outcomes[index] = { itemId: item.itemId, ok: true, exampleId: exampleIdOf(item) }),
      onFailed: (index, item, e) => failWith(index, item.itemId, e),
    });
    const prepare = async (req: AddExamplesRequest, index: number): Promise<void> => {
      try {
        const item = await prepareExample(
          engine,
          { itemId: req.itemId, image: req.image, label: exampleLabelFrom(req.label), metadata: req.metadata },
          { signal, waitForCapacity: true },
        );
        commits.add(index, item, req);
      } catch (e) {
        failWith(index, req.itemId, e);
        commits.dropped(req);
      }
    };

    (async () => {
      await drainUploads(call as AsyncIterable<AddExamplesRequest>, { prepare, commits });
      const added = outcomes.filter((o) => o.ok).length;
      callback(null, { outcomes, added, failed: outcomes.length - added });
    })()
      .catch((e) => callback(serviceErrorFrom(statusFromError(e, log.error))))
      .finally(() => {
        commits.close();
        done();
      });
  };
}

/** The CatalogService handlers of confirmed examples: AddExamples, ListExamples, DeleteExample, ConfirmMatch. */
export function createExampleHandlers(
  engine: TwinlensEngine,
  log: Logger,
  budget?: ImageMemoryBudget,
): Pick<CatalogServiceServer, 'addExamples' | 'listExamples' | 'deleteExample' | 'confirmMatch'> {
  // Either store: the embedded catalog or PostgreSQL.
  const store = engine.store;
  return {
    addExamples: handleAddExamples(engine, log, budget),
    listExamples: unary(log, async (req) => {
      const pageSize = req.pageSize || 100;
      if (pageSize > MAX_PAGE_SIZE) throw new InvalidArgumentError('page_size', `expected 0..${MAX_PAGE_SIZE}, received ${pageSize}`);
      const afterId = req.pageToken ? pageTokenDecode(req.pageToken) : '';
      const { examples, more, total } = await store.listExamples(req.itemId, afterId, pageSize);
      return {
        examples: examples.map(exampleFrom),
        nextPageToken: more ? pageTokenEncode(examples[examples.length - 1].exampleId) : '',
        totalCount: total,
      };
    }),
    deleteExample: unary(log, async (req) => ({ deleted: await store.deleteExample(req.exampleId) })),
    confirmMatch: unary(log, async (req, signal) => {
      const exampleId = await confirmMatch(
        engine,
        { searchId: req.searchId, itemId: req.itemId, label: exampleLabelFrom(req.label), metadata: req.metadata },
        { signal },
      );
      const example = await store.example(exampleId);
      // Deleted (with its item, by another call or replica) between the write and this read.
      if (!example) throw new ItemNotFoundError(req.itemId);
      return { example: exampleFrom(example) };
    }),
  };
}

/** Page tokens are opaque to clients: the last example id of the page, base64url-encoded. */
function pageTokenEncode(lastId: string): string {
  return Buffer.from(`example-after:${lastId}`).toString('base64url');
}

function pageTokenDecode(token: string): string {
  const text = Buffer.from(token, 'base64url').toString('utf8');
  if (!text.startsWith('example-after:')) throw new InvalidArgumentError('page_token', 'not a token this server issued');
  return text.slice('example-after:'.length);
}
