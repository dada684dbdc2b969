import { once } from 'node:events';
import { credentials, Metadata, type ServiceError } from '@grpc/grpc-js';
import {
  CatalogServiceClient,
  TwinlensServiceClient,
  type UpsertItemsRequest,
  type UpsertItemsResponse,
} from '../gen/twinlens/v1/twinlens.js';

/** Clients of both services at one address. */
export interface TwinlensClients {
  twinlens: TwinlensServiceClient;
  catalog: CatalogServiceClient;
  close(): void;
}

/** Connects (plaintext) to a twinlens server, e.g. `127.0.0.1:50051`. */
export function connect(address: string, maxMessageBytes = 32 * 1024 * 1024): TwinlensClients {
  const opts = { 'grpc.max_send_message_length': maxMessageBytes, 'grpc.max_receive_message_length': maxMessageBytes };
  const twinlens = new TwinlensServiceClient(address, credentials.createInsecure(), opts);
  const catalog = new CatalogServiceClient(address, credentials.createInsecure(), opts);
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
