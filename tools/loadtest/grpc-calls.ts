import { performance } from 'node:perf_hooks';
import { type ChannelOptions, credentials, Metadata, type ServiceError, status } from '@grpc/grpc-js';
import {
  CatalogServiceClient,
  type CompareRequest,
  type CompareResponse,
  type EmbedResponse,
  type GetItemResponse,
  type ImageRef,
  type SearchRequest,
  type SearchResponse,
  TwinlensServiceClient,
  type UpsertItemsRequest,
  type UpsertItemsResponse,
} from '../../src/gen/twinlens/v1/twinlens.js';

/** Clients of both services over one channel (one HTTP/2 connection) to a plaintext loopback server. */
export interface LoadClients {
  twinlens: TwinlensServiceClient;
  catalog: CatalogServiceClient;
  close(): void;
}

/**
 * Connects to `address`. Each call gets a connection of its own (a local subchannel pool), so N of
 * these are N clients, not N views of one shared connection.
 */
export function connectLoadClients(address: string, extra: ChannelOptions = {}): LoadClients {
  const options: ChannelOptions = {
    'grpc.max_send_message_length': 64 * 1024 * 1024,
    'grpc.max_receive_message_length': 64 * 1024 * 1024,
    'grpc.use_local_subchannel_pool': 1,
    ...extra,
  };
  const creds = credentials.createInsecure();
  const twinlens = new TwinlensServiceClient(address, creds, options);
  // Same channel arguments and the client's own channel: reuse it, so both services share the connection.
  const catalog = new CatalogServiceClient(address, creds, { ...options, channelOverride: twinlens.getChannel() });
  return {
    twinlens,
    catalog,
    close: () => {
      twinlens.close();
    },
  };
}

/** The answer of one call: the status code (0 = OK), its message, the response, and the time it took. */
export interface CallOutcome<Res> {
  code: status;
  details: string;
  response?: Res;
  ms: number;
}

type UnaryMethod<Req, Res> = (
  request: Req,
  metadata: Metadata,
  options: { deadline: number },
  callback: (e: ServiceError | null, r: Res) => void,
) => unknown;

/** Runs one unary call with a deadline; never rejects (the status is in the outcome). */
export function timedUnary<Req, Res>(method: UnaryMethod<Req, Res>, request: Req, deadlineMs: number): Promise<CallOutcome<Res>> {
  const start = performance.now();
  return new Promise((resolve) =>
    method(request, new Metadata(), { deadline: Date.now() + deadlineMs }, (e, r) =>
      resolve(e ? { code: e.code, details: e.details ?? e.message, ms: performance.now() - start } : { code: status.OK, details: '', response: r, ms: performance.now() - start }),
    ),
  );
}

/** Search, with the defaults a plain client leaves unset. */
export function search(c: LoadClients, image: Buffer, deadlineMs: number, topK = 5): Promise<CallOutcome<SearchResponse>> {
  const req: SearchRequest = { image, topK, shortlistK: 0, filter: {} };
  return timedUnary(c.twinlens.search.bind(c.twinlens), req, deadlineMs);
}

/** Compare of two sides, each an image or a catalog item id. */
export function compare(
  c: LoadClients,
  a: { image: Buffer } | { itemId: string },
  b: { image: Buffer } | { itemId: string },
  deadlineMs: number,
): Promise<CallOutcome<CompareResponse>> {
  const side = (s: { image: Buffer } | { itemId: string }): ImageRef =>
    'image' in s ? { source: { $case: 'image', value: s.image } } : { source: { $case: 'itemId', value: s.itemId } };
  const req: CompareRequest = { a: side(a), b: side(b) };
  return timedUnary(c.twinlens.compare.bind(c.twinlens), req, deadlineMs);
}

/** Embed of one image. */
export function embed(c: LoadClients, image: Buffer, deadlineMs: number): Promise<CallOutcome<EmbedResponse>> {
  return timedUnary(c.twinlens.embed.bind(c.twinlens), { image }, deadlineMs);
}

/** GetItem, without the embedding and image. */
export function getItem(c: LoadClients, itemId: string, deadlineMs: number): Promise<CallOutcome<GetItemResponse>> {
  return timedUnary(c.catalog.getItem.bind(c.catalog), { itemId, includeEmbedding: false, includeImage: false }, deadlineMs);
}

/** Streams `items` through UpsertItems (with a deadline, honouring back-pressure); never rejects. */
export function upsert(c: LoadClients, items: UpsertItemsRequest[], deadlineMs: number): Promise<CallOutcome<UpsertItemsResponse>> {
  const start = performance.now();
  return new Promise((resolve) => {
    const call = c.catalog.upsertItems(new Metadata(), { deadline: Date.now() + deadlineMs }, (e, r) =>
      resolve(e ? { code: e.code, details: e.details ?? e.message, ms: performance.now() - start } : { code: status.OK, details: '', response: r, ms: performance.now() - start }),
    );
    // Errors surface through the callback; 'error' must still have a listener or it throws.
    call.on('error', () => undefined);
    void (async () => {
      for (const item of items) {
        if (!call.write(item)) await new Promise<void>((r) => call.once('drain', () => r()));
      }
      call.end();
    })();
  });
}

/** `RESOURCE_EXHAUSTED` from 8. */
export function codeName(code: status): string {
  return status[code] ?? `CODE_${code}`;
}
