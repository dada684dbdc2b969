import { once } from 'node:events';
import { Metadata, type ServiceError } from '@grpc/grpc-js';
import {
  type AddExamplesRequest,
  type AddExamplesResponse,
  CatalogServiceClient,
  TwinlensServiceClient,
  type UpsertItemsRequest,
  type UpsertItemsResponse,
} from '../gen/twinlens/v1/twinlens.js';
import { type ClientSecurityOptions, clientSecurityFrom } from '../security/index.js';

/** Clients of both services at one address. */
export interface TwinlensClients {
  twinlens: TwinlensServiceClient;
  catalog: CatalogServiceClient;
  close(): void;
}

/** How to reach a server: message size limit, TLS and bearer token. */
export interface ConnectOptions extends ClientSecurityOptions {
  /** Largest message sent or received, in bytes. Default 32 MiB, the server's default limit. */
  maxMessageBytes?: number;
}

/**
 * Connects to a twinlens server, e.g. `127.0.0.1:50051`: plaintext and without a token by default,
 * TLS / mutual TLS and `authorization: Bearer` as `options` say. A number is taken as
 * `{ maxMessageBytes }`.
 */
export function connect(address: string, options: ConnectOptions | number = {}): TwinlensClients {
  const o = typeof options === 'number' ? { maxMessageBytes: options } : options;
  const maxMessageBytes = o.maxMessageBytes ?? 32 * 1024 * 1024;
  const security = clientSecurityFrom(o);
  const opts = {
    'grpc.max_send_message_length': maxMessageBytes,
    'grpc.max_receive_message_length': maxMessageBytes,
    interceptors: security.interceptors,
  };
  const twinlens = new TwinlensServiceClient(address, security.credentials, opts);
  const catalog = new CatalogServiceClient(address, security.credentials, opts);
  return {
    twinlens,
    catalog,
    close: () => {
      twinlens.close();
      catalog.close();
    },
  };
}

/** Promise form of a unary call: `unaryCall(c.search.bind(c), request)`. */
export function unaryCall<Req, Res>(
  method: (req: Req, metadata: Metadata, options: object, cb: (e: ServiceError | null, r: Res) => void) => unknown,
  request: Req,
  deadlineMs = 120_000,
): Promise<Res> {
  return new Promise((resolve, reject) =>
    method(request, new Metadata(), { deadline: Date.now() + deadlineMs }, (e, r) => (e ? reject(e) : resolve(r))),
  );
}

/** Streams items through UpsertItems, honouring back-pressure, and resolves with the per-item outcomes. */
export async function upsertItems(
  client: CatalogServiceClient,
  items: Iterable<UpsertItemsRequest> | AsyncIterable<UpsertItemsRequest>,
): Promise<UpsertItemsResponse> {
  let call!: ReturnType<CatalogServiceClient['upsertItems']>;
  const done = new Promise<UpsertItemsResponse>((resolve, reject) => {
    call = client.upsertItems((e, r) => (e ? reject(e) : resolve(r)));
  });
  for await (const item of items) {
    if (!call.write(item)) await once(call, 'drain');
  }
  call.end();
  return done;
}

/** Streams examples through AddExamples, honouring back-pressure, and resolves with the per-example outcomes. */
export async function addExamples(
  client: CatalogServiceClient,
  examples: Iterable<AddExamplesRequest> | AsyncIterable<AddExamplesRequest>,
): Promise<AddExamplesResponse> {
  let call!: ReturnType<CatalogServiceClient['addExamples']>;
  const done = new Promise<AddExamplesResponse>((resolve, reject) => {
    call = client.addExamples((e, r) => (e ? reject(e) : resolve(r)));
  });
  for await (const example of examples) {
    if (!call.write(example)) await once(call, 'drain');
  }
  call.end();
  return done;
}
