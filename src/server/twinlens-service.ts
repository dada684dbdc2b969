import type { ServerDuplexStream } from '@grpc/grpc-js';
import { PACKAGE_VERSION, type TwinlensOptions } from '../config/index.js';
import type { RequestContext, TwinlensEngine } from '../engine/index.js';
import {
  type CompareResponse,
  type CompareStreamRequest,
  type CompareStreamResponse,
  type TwinlensServiceServer,
} from '../gen/twinlens/v1/twinlens.js';
import { imageSourceFrom, rankingStageFrom, stageTimingsFrom } from './convert.js';
import type { Logger } from '../observability/logger.js';
import { serviceErrorFrom, statusFromError, statusName } from './status-from-error.js';
import { requestSignal } from './request-signal.js';
import { unary } from './unary.js';
import { validateMapKeys } from '../store/index.js';
import type { ImageMemoryBudget } from './image-memory-budget.js';

/** Package version, reported by GetServiceInfo. */
const SERVER_VERSION = PACKAGE_VERSION;

async function compareOne(
  engine: TwinlensEngine,
  a: CompareStreamRequest['a'],
  b: CompareStreamRequest['b'],
  ctx: RequestContext,
): Promise<CompareResponse> {
  const r = await engine.compare(imageSourceFrom(a, 'a'), imageSourceFrom(b, 'b'), ctx);
  return {
    score: r.score,
    match: r.match,
    threshold: r.threshold,
    scoredBy: rankingStageFrom(r.scoredBy),
    modelVersion: r.modelVersion,
    timings: stageTimingsFrom(r.timings),
  };
}

/**
 * CompareStream: pairs are worked on concurrently, at most `maxInFlight` at a time. A slot is
 * freed only once its response has been taken by the transport (write() drained), so a client
 * that stops reading stops the server reading too, and HTTP/2 flow control pushes back on it:
 * nothing buffers without bound. A failing pair answers with an ItemError; the stream goes on.
 */
function handleCompareStream(engine: TwinlensEngine, maxInFlight: number, log: Logger, budget?: ImageMemoryBudget) {
  return (call: ServerDuplexStream<CompareStreamRequest, CompareStreamResponse>): void => {
    let inFlight = 0;
    let cancelled = false;
    // Pairs wait for model capacity (this stream bounds its own pairs in flight) and are dropped
    // when the client cancels or the stream's deadline passes.
    const { signal, done } = requestSignal(call);
    const ctx: RequestContext = { signal, waitForCapacity: true };
    const waiters: (() => void)[] = [];
    const release = (): void => {
      inFlight--;
      waiters.shift()?.();
    };
    call.on('cancelled', () => {
      cancelled = true;
      waiters.splice(0).forEach((w) => w());
    });
    const write = (msg: CompareStreamResponse): Promise<void> =>
      new Promise((resolve) => {
        if (cancelled || call.write(msg)) resolve();
        else call.once('drain', resolve);
      });
    const work = async (req: CompareStreamRequest): Promise<void> => {
      let response: CompareStreamResponse;
      try {
        response = { clientId: req.clientId, outcome: { $case: 'result', value: await compareOne(engine, req.a, req.b, ctx) } };
      } catch (e) {
        const s = statusFromError(e, log.error);
        response = { clientId: req.clientId, outcome: { $case: 'error', value: { code: s.code, codeName: statusName(s.code), message: s.details } } };
      }
      await write(response);
    };

    (async () => {
      const pending = new Set<Promise<void>>();
      // destroyOnReturn: false: a plain `for await` destroys the duplex when its read side ends
      // (the client half-closes), and responses still in flight then can never be written.
      for await (const req of call.iterator({ destroyOnReturn: false }) as AsyncIterable<CompareStreamRequest>) {
        while (inFlight >= maxInFlight && !cancelled) await new Promise<void>((r) => waiters.push(r));
        if (cancelled) break;
        inFlight++;
        // The pair's images are given back to the memory budget once its answer is written.
        const p = work(req).finally(() => {
          budget?.releaseMessage(req);
          release();
        });
        pending.add(p);
        void p.finally(() => pending.delete(p));
      }
      await Promise.all(pending);
      if (!cancelled) call.end();
    })()
      .catch((e) => {
        if (cancelled) return;
        call.emit('error', serviceErrorFrom(statusFromError(e, log.error)));
      })
      .finally(done);
  };
}

/**
 * The TwinlensService handlers over an engine. `budget`: the image memory budget CompareStream's
 * messages were charged to (by the image budget admission); each pair is given back once answered.
 */
export function createTwinlensService(
  engine: TwinlensEngine,
  options: Readonly<TwinlensOptions>,
  log: Logger,
  budget?: ImageMemoryBudget,
): TwinlensServiceServer {
  return {
    search: unary(log, async (req, signal) => {
      validateMapKeys(req.filter, 'filter');
      const r = await engine.search(
        req.image,
        { topK: req.topK || options.defaultTopK, shortlistK: req.shortlistK || options.defaultShortlistK, filter: req.filter },
        { signal },
      );
      return {
        hits: r.hits.map((h) => ({ itemId: h.itemId, score: h.score, coarseScore: h.coarseScore, metadata: h.metadata, view: h.view || undefined })),
        rankedBy: rankingStageFrom(r.rankedBy),
        timings: stageTimingsFrom(r.timings),
        modelVersion: r.modelVersion,
        candidatesScanned: r.scanned,
        searchId: r.searchId,
      };
    }),
    compare: unary(log, (req, signal) => compareOne(engine, req.a, req.b, { signal })),
    compareStream: handleCompareStream(engine, options.compareStreamMaxInFlight, log, budget),
    embed: unary(log, async (req, signal) => {
      const r = await engine.embed(req.image, { signal });
      return { embedding: Array.from(r.embedding), modelVersion: r.modelVersion, timings: stageTimingsFrom(r.timings) };
    }),
    getServiceInfo: unary(log, async () => {
      const e = engine.embedder;
      return {
        modelName: e.modelName,
        modelVersion: e.modelVersion,
        embeddingDim: e.dim,
        executionProvider: e.provider,
        requestedProviders: [...options.executionProviders],
        providerFallbackReason: e.providerFallbackReason,
        hasPairHead: engine.pairHead !== null,
        pairHeadDecision: engine.pairHeadDecision,
        // Compare's threshold in use: on the pair head's or the evidence head's probability when one scores Compare, else on cosine.
        threshold: engine.compareThreshold,
        evidenceHead: engine.evidenceHeadInUse()?.version ?? '',
        inputSize: engine.inputSize,
        serverVersion: SERVER_VERSION,
        maxBatchSize: options.maxBatchSize,
        maxBatchWaitMs: options.maxBatchWaitMs,
      };
    }),
  };
}
