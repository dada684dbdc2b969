/**
 * The call observer on a bare grpc-js server, where its position in the interceptor list and the
 * calls that end without their status passing it (deadline, refusal) can be set up exactly.
 */
import {
  type CallOptions,
  credentials,
  type Metadata,
  Metadata as GrpcMetadata,
  makeGenericClientConstructor,
  Server,
  ServerCredentials,
  ServerInterceptingCall,
  type ServerInterceptor,
  ServerListenerBuilder,
  type ServiceDefinition,
  type ServiceError,
  status,
} from '@grpc/grpc-js';
import {
  type CallOutcome,
  createCallObserverInterceptor,
  createRequestId,
  REFUSED_CODE_NAME,
  REQUEST_ID_KEY,
  requestIdFrom,
} from '../../src/observability/index.js';
import { until as untilWithin } from '../helpers/until.js';

/** Request lines are written just after the status is sent: wait at most 5 s for them. */
const until = (check: () => boolean): Promise<void> => untilWithin(check, 5000);

const identity = (b: Buffer): Buffer => b;
/** A test service: Echo answers at once, Slow when the test calls `answerSlow`, with raw bytes. */
const TEST_SERVICE: ServiceDefinition = {
  echo: {
    path: '/test.Test/Echo',
    requestStream: false,
    responseStream: false,
    requestSerialize: identity,
    requestDeserialize: identity,
    responseSerialize: identity,
    responseDeserialize: identity,
  },
  slow: {
    path: '/test.Test/Slow',
    requestStream: false,
    responseStream: false,
    requestSerialize: identity,
    requestDeserialize: identity,
    responseSerialize: identity,
    responseDeserialize: identity,
  },
};

interface TestClient {
  echo(req: Buffer, md: Metadata, opts: CallOptions, cb: (e: ServiceError | null, r?: Buffer) => void): void;
  slow(req: Buffer, md: Metadata, opts: CallOptions, cb: (e: ServiceError | null, r?: Buffer) => void): void;
  close(): void;
}
const TestClientCtor = makeGenericClientConstructor(TEST_SERVICE, 'Test') as unknown as new (
  address: string,
  creds: ReturnType<typeof credentials.createInsecure>,
) => TestClient;

/** Refuses calls without `x-let-in: yes`, the way grpc-js's example auth interceptor (and ours) does. */
const refuser: ServerInterceptor = (_method, call) => {
  const listener = new ServerListenerBuilder()
    .withOnReceiveMetadata((metadata, next) => {
      if (metadata.get('x-let-in')[0] === 'yes') next(metadata);
      else call.sendStatus({ code: status.UNAUTHENTICATED, details: 'no entry' });
    })
    .build();
  return new ServerInterceptingCall(call, { start: (next) => next(listener) });
};

interface Running {
  client: TestClient;
  outcomes: CallOutcome[];
  /** Request ids the handlers saw in their metadata. */
  handlerIds: string[];
  /** Makes every Slow call received so far answer. */
  answerSlow(): void;
  stop(): Promise<void>;
}

async function serve(order: 'refuser-first' | 'observer-first'): Promise<Running> {
  const outcomes: CallOutcome[] = [];
  const handlerIds: string[] = [];
  const slowAnswers: (() => void)[] = [];
  const observer = createCallObserverInterceptor(
    (o) => outcomes.push(o),
    () => {
      throw new Error('a failing sink must not break the call');
    },
  );
  const server = new Server({ interceptors: order === 'refuser-first' ? [refuser, observer] : [observer, refuser] });
  server.addService(TEST_SERVICE, {
    echo: (call: { request: Buffer; metadata: Metadata }, cb: (e: null, r: Buffer) => void) => {
      handlerIds.push(String(call.metadata.get(REQUEST_ID_KEY)[0]));
      cb(null, call.request);
    },
    slow: (call: { request: Buffer }, cb: (e: null, r: Buffer) => void) => {
      slowAnswers.push(() => cb(null, call.request));
    },
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))),
  );
  const client = new TestClientCtor(`127.0.0.1:${port}`, credentials.createInsecure());
  return {
    client,
    outcomes,
    handlerIds,
    answerSlow: () => slowAnswers.splice(0).forEach((answer) => answer()),
    stop: async () => {
      slowAnswers.splice(0).forEach((answer) => answer());
      client.close();
      await new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
    },
  };
}

function unary(
  fn: TestClient['echo'],
  md: Record<string, string>,
  opts: CallOptions = {},
): Promise<{ error: ServiceError | null; response?: Buffer }> {
  const metadata = new GrpcMetadata();
  for (const [k, v] of Object.entries(md)) metadata.set(k, v);
  return new Promise((resolve) => fn(Buffer.from('hi'), metadata, opts, (error, response) => resolve({ error, response })));
}


describe('createCallObserverInterceptor', () => {
  test('after a refusing interceptor: a refused call is reported once, as REFUSED; an admitted one exactly', async () => {
    const s = await serve('refuser-first');
    try {
      const refused = await unary(s.client.echo.bind(s.client), {});
      expect(refused.error?.code).toBe(status.UNAUTHENTICATED);
      const admitted = await unary(s.client.echo.bind(s.client), { 'x-let-in': 'yes', [REQUEST_ID_KEY]: 'adm-1' });
      expect(admitted.error).toBeNull();
      await until(() => s.outcomes.length === 2);
      expect(s.outcomes).toEqual([
        expect.objectContaining({ method: '/test.Test/Echo', code: null, codeName: REFUSED_CODE_NAME, statusObserved: false }),
        expect.objectContaining({ method: '/test.Test/Echo', code: status.OK, codeName: 'OK', requestId: 'adm-1', statusObserved: true }),
      ]);
      // The handler sees the request id in its metadata.
      expect(s.handlerIds).toEqual(['adm-1']);
    } finally {
      await s.stop();
    }
  });

  test('first in the list: the refusal is reported with its exact code, and the id still comes back', async () => {
    const s = await serve('observer-first');
    try {
      const refused = await unary(s.client.echo.bind(s.client), { [REQUEST_ID_KEY]: 'ref-1' });
      expect(refused.error?.code).toBe(status.UNAUTHENTICATED);
      expect(refused.error?.metadata.get(REQUEST_ID_KEY)).toEqual(['ref-1']);
      await until(() => s.outcomes.length === 1);
      expect(s.outcomes[0]).toMatchObject({
        requestId: 'ref-1',
        code: status.UNAUTHENTICATED,
        codeName: 'UNAUTHENTICATED',
        details: 'no entry',
        statusObserved: true,
      });
    } finally {
      await s.stop();
    }
  });

  test('a call grpc-js ends at its deadline is reported as DEADLINE_EXCEEDED, once', async () => {
    const s = await serve('observer-first');
    try {
      // Connect first: a deadline that passes while the channel connects never reaches the server.
      expect((await unary(s.client.echo.bind(s.client), { 'x-let-in': 'yes' })).error).toBeNull();
      const late = await unary(s.client.slow.bind(s.client), { 'x-let-in': 'yes' }, { deadline: Date.now() + 150 });
      expect(late.error?.code).toBe(status.DEADLINE_EXCEEDED);
      // Reported at the deadline, while the handler has not answered yet.
      await until(() => s.outcomes.length === 2);
      expect(s.outcomes.slice(1)).toEqual([
        expect.objectContaining({ method: '/test.Test/Slow', code: status.DEADLINE_EXCEEDED, statusObserved: false }),
      ]);
      // The handler answers later; that answer is not counted again.
      s.answerSlow();
      await new Promise((r) => setTimeout(r, 200));
      expect(s.outcomes).toHaveLength(2);
    } finally {
      await s.stop();
    }
  });
});

describe('request ids', () => {
  const md = (...values: string[]): GrpcMetadata => {
    const m = new GrpcMetadata();
    for (const v of values) m.add(REQUEST_ID_KEY, v);
    return m;
  };

  test('a well-formed client id is kept', () => {
    expect(requestIdFrom(md('3f1c2a9e-7b7d-4a53-9b1e-0c2b4d9f7a10'))).toBe('3f1c2a9e-7b7d-4a53-9b1e-0c2b4d9f7a10');
    expect(requestIdFrom(md('trace:abc/def+g=='))).toBe('trace:abc/def+g==');
  });

  test.each([
    ['absent', md()],
    ['empty', md('')],
    ['with spaces', md('a b')],
    ['with quotes', md('a"b')],
    ['longer than 128 characters', md('x'.repeat(129))],
    ['sent twice', md('a', 'b')],
  ])('a client id that is %s is not used', (_name, metadata) => {
    expect(requestIdFrom(metadata)).toBeUndefined();
  });

  test('generated ids are 12 URL-safe characters and differ', () => {
    const ids = new Set(Array.from({ length: 100 }, () => createRequestId()));
    expect(ids.size).toBe(100);
    for (const id of ids) expect(id).toMatch(/^[A-Za-z0-9_-]{12}$/);
  });
});
