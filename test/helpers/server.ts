/**
 * End-to-end test harness: starts the real twinlens server (real model on the CPU provider, real
 * LanceDB catalog in a fresh temporary data directory) on an ephemeral loopback port and connects
 * the real generated grpc-js clients to it. Nothing is mocked.
 */
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  type ClientDuplexStream,
  type ClientUnaryCall,
  credentials,
  makeGenericClientConstructor,
  type ServiceError,
} from '@grpc/grpc-js';
import { service as healthService } from 'grpc-health-check';
import { createTwinlensServer, type TwinlensServer } from '../../src/server/index.js';
import { type Logger, silentLogger } from '../../src/observability/index.js';
import type { TwinlensOptions } from '../../src/config/index.js';
import {
  CatalogServiceClient,
  CompareRequest,
  type CompareResponse,
  type CompareStreamRequest,
  type CompareStreamResponse,
  DeleteItemRequest,
  type DeleteItemResponse,
  EmbedRequest,
  type EmbedResponse,
  GetCatalogStatsRequest,
  type GetCatalogStatsResponse,
  GetItemRequest,
  type GetItemResponse,
  GetServiceInfoRequest,
  type GetServiceInfoResponse,
  ListItemsRequest,
  type ListItemsResponse,
  SearchRequest,
  type SearchResponse,
  TwinlensServiceClient,
  UpsertItemsRequest,
  type UpsertItemsResponse,
} from '../../src/gen/twinlens/v1/twinlens.js';

// (The cross-realm Float32Array problem of onnxruntime-node under jest is handled by
// test/jest-environment.js, which jest.config.js names as the test environment.)

export type { ServiceError };

/** A grpc-js unary method taking (request, callback); bind it to its client before passing it. */
export type UnaryMethod<Req, Res> = (request: Req, callback: (error: ServiceError | null, response: Res) => void) => ClientUnaryCall;

/** Promisifies one unary call: `call<SearchRequest, SearchResponse>(client.search.bind(client), req)`. */
export function call<Req, Res>(method: UnaryMethod<Req, Res>, request: Req): Promise<Res> {
  return new Promise((resolve, reject) => {
    method(request, (error, response) => (error ? reject(error) : resolve(response)));
  });
}

/** Streams `items` to UpsertItems (honouring write back-pressure) and resolves the response. */
export function upsertItems(client: CatalogServiceClient, items: Partial<UpsertItemsRequest>[]): Promise<UpsertItemsResponse> {
  return new Promise((resolve, reject) => {
    const stream = client.upsertItems((error, response) => (error ? reject(error) : resolve(response)));
    (async () => {
      for (const item of items) {
        if (!stream.write(UpsertItemsRequest.fromPartial(item))) {
          await new Promise<void>((r) => stream.once('drain', () => r()));
        }
      }
      stream.end();
    })().catch(reject);
  });
}

/** Typed, promisified calls of both services, taking partial requests (unset fields default). */
export interface Rpc {
  search(req: Partial<SearchRequest>): Promise<SearchResponse>;
  compare(req: Partial<CompareRequest>): Promise<CompareResponse>;
  embed(req: Partial<EmbedRequest>): Promise<EmbedResponse>;
  getServiceInfo(): Promise<GetServiceInfoResponse>;
  upsertItems(items: Partial<UpsertItemsRequest>[]): Promise<UpsertItemsResponse>;
  deleteItem(req: Partial<DeleteItemRequest>): Promise<DeleteItemResponse>;
  getItem(req: Partial<GetItemRequest>): Promise<GetItemResponse>;
  listItems(req: Partial<ListItemsRequest>): Promise<ListItemsResponse>;
  getCatalogStats(): Promise<GetCatalogStatsResponse>;
  /** grpc.health.v1.Health/Check; resolves the status name ('SERVING', ...). */
  healthCheck(service?: string): Promise<string>;
}

/* eslint-disable @typescript-eslint/no-explicit-any -- fromPartial's Exact<> typing does not accept a Partial<T> variable. */
/** Promisified calls over the given clients (test/security builds them with TLS and tokens). */
export function makeRpc(twinlens: TwinlensServiceClient, catalog: CatalogServiceClient, health: HealthClient): Rpc {
  return {
    search: (req) => call(twinlens.search.bind(twinlens), SearchRequest.fromPartial(req as any)),
    compare: (req) => call(twinlens.compare.bind(twinlens), CompareRequest.fromPartial(req as any)),
    embed: (req) => call(twinlens.embed.bind(twinlens), EmbedRequest.fromPartial(req as any)),
    getServiceInfo: () => call(twinlens.getServiceInfo.bind(twinlens), GetServiceInfoRequest.fromPartial({})),
    upsertItems: (items) => upsertItems(catalog, items),
    deleteItem: (req) => call(catalog.deleteItem.bind(catalog), DeleteItemRequest.fromPartial(req as any)),
    getItem: (req) => call(catalog.getItem.bind(catalog), GetItemRequest.fromPartial(req as any)),
    listItems: (req) => call(catalog.listItems.bind(catalog), ListItemsRequest.fromPartial(req as any)),
    getCatalogStats: () => call(catalog.getCatalogStats.bind(catalog), GetCatalogStatsRequest.fromPartial({})),
    healthCheck: (service = '') =>
      call<{ service: string }, { status: string }>(health.Check.bind(health), { service }).then((r) => r.status),
  };
}
/* eslint-enable @typescript-eslint/no-explicit-any */

/** A grpc.health.v1.Health client (grpc-health-check's proto-loader definition: enums as strings). */
export interface HealthClient {
  Check: UnaryMethod<{ service: string }, { status: string }>;
  close(): void;
}

const HealthClientCtor = makeGenericClientConstructor(healthService, 'grpc.health.v1.Health') as unknown as new (
  address: string,
  creds: ReturnType<typeof credentials.createInsecure>,
) => HealthClient;

/** Connects a health client to `address`. */
export function healthClient(address: string): HealthClient {
  return new HealthClientCtor(address, credentials.createInsecure());
}

/** A started server with its clients. */
export interface TestServer {
  server: TwinlensServer;
  twinlens: TwinlensServiceClient;
  catalog: CatalogServiceClient;
  health: HealthClient;
  /** Promisified calls over the clients above. */
  rpc: Rpc;
  /** `127.0.0.1:<port>`. */
  address: string;
  dataDir: string;
  /** Opens a CompareStream on the twinlens client. */
  compareStream(): ClientDuplexStream<CompareStreamRequest, CompareStreamResponse>;
  /**
   * Closes the clients and the server. Removes the data directory when the helper created it
   * (an explicitly passed `dataDir` is left for the caller, e.g. to restart on it).
   */
  stop(): Promise<void>;
}

/** Makes a fresh temporary directory for a catalog. */
export function makeTempDir(prefix = 'twinlens-test-'): Promise<string> {
  return fs.mkdtemp(path.join(os.tmpdir(), prefix));
}

/**
 * Starts the real server on 127.0.0.1, an ephemeral port, the CPU provider, no demo seeding and a
 * fresh temporary data directory (unless `overrides.dataDir` names one), logging to `log` (default silent).
 * Catalog view averaging, query mirroring, the text and colour evidence are off unless a test asks: many
 * tests check exact properties of the pipeline (an item's own image scores 1, one model run per
 * image, hits in cosine order) that they change on purpose, and views cost `catalogViews` simulated
 * photos per upserted item; test/engine/catalog-views.test.ts runs the server with the service
 * defaults, test/server/text-evidence.test.ts and color-evidence.test.ts the evidence stages.
 */
export async function startTestServer(overrides: Partial<TwinlensOptions> = {}, log: Logger = silentLogger): Promise<TestServer> {
  const ownDir = overrides.dataDir === undefined;
  const dataDir = overrides.dataDir ?? (await makeTempDir());
  let server: TwinlensServer;
  try {
    server = await createTwinlensServer(
      { host: '127.0.0.1', port: 0, executionProviders: ['cpu'], seedDemoCatalog: false, catalogViews: 0, queryMirror: false, textEvidence: false, colorEvidence: false, ...overrides, dataDir },
      log,
    );
  } catch (e) {
    if (ownDir) await fs.rm(dataDir, { recursive: true, force: true });
    throw e;
  }
  const address = `127.0.0.1:${server.port}`;
  const twinlens = new TwinlensServiceClient(address, credentials.createInsecure());
  const catalog = new CatalogServiceClient(address, credentials.createInsecure());
  const health = healthClient(address);
  let stopped: Promise<void> | undefined;
  return {
    server,
    twinlens,
    catalog,
    health,
    rpc: makeRpc(twinlens, catalog, health),
    address,
    dataDir,
    compareStream: () => twinlens.compareStream(),
    stop() {
      stopped ??= (async () => {
        twinlens.close();
        catalog.close();
        health.close();
        await server.close();
        if (ownDir) await fs.rm(dataDir, { recursive: true, force: true });
      })();
      return stopped;
    },
  };
}

/** Asserts that `promise` rejects with gRPC status `code` and a message containing every `parts` entry. */
export async function expectStatus(promise: Promise<unknown>, code: number, ...parts: (string | RegExp)[]): Promise<ServiceError> {
  let error: ServiceError | undefined;
  try {
    await promise;
  } catch (e) {
    error = e as ServiceError;
  }
  if (!error) throw new Error(`expected the call to fail with status ${code}, it succeeded`);
  expect({ code: error.code, details: error.details }).toEqual({ code, details: expect.any(String) });
  for (const p of parts) {
    if (typeof p === 'string') expect(error.details).toContain(p);
    else expect(error.details).toMatch(p);
  }
  return error;
}

/** Euclidean norm. */
export function norm(v: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i] * v[i];
  return Math.sqrt(s);
}

/** Dot product. */
export function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}
