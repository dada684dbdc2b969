import {
  type Metadata,
  type ServerInterceptingCallInterface,
  type ServerInterceptor,
  ServerInterceptingCall,
  ServerListenerBuilder,
  status,
  type StatusObject,
} from '@grpc/grpc-js';
import { AUTHORIZATION_KEY, presentedTokenFrom } from './bearer-token.js';
import { DEFAULT_AUTH_EXEMPT_SERVICES, type Permission, permissionFor } from './method-permissions.js';
import { createTokenSet, type TokenSet } from './token-set.js';
import { takeDroppedMetadataKeys } from './grpc-js-log.js';

/** What the auth interceptor checks calls against. */
export interface AuthOptions {
  /** Tokens that may call read methods (Search, Compare, Embed, GetItem, ...). Default none. */
  readTokens?: readonly string[];
  /** Tokens that may call every method, catalog changes included. Default none. */
  writeTokens?: readonly string[];
  /**
   * Services callable without a token, by full name (`grpc.health.v1.Health`). Default
   * DEFAULT_AUTH_EXEMPT_SERVICES: health and both reflection versions. `[]` puts every service behind a token.
   */
  authExemptServices?: readonly string[];
}

/** A status that ends a refused call. */
type Refusal = Pick<StatusObject, 'code' | 'details'>;

// The messages never include what the client sent: it may be a real token sent to the wrong place.
const MISSING: Refusal = {
  code: status.UNAUTHENTICATED,
  details: "missing bearer token: send metadata 'authorization: Bearer <token>'",
};
const MALFORMED: Refusal = {
  code: status.UNAUTHENTICATED,
  details: "invalid bearer token: expected one metadata value 'authorization: Bearer <token>'",
};
const ILLEGAL_CHARACTERS: Refusal = {
  code: status.UNAUTHENTICATED,
  details:
    "authorization header contains characters not allowed in metadata (value not shown): send 'authorization: Bearer <token>' with one space and printable ASCII only",
};
const UNKNOWN: Refusal = { code: status.UNAUTHENTICATED, details: 'invalid bearer token' };
const READ_ONLY: Refusal = { code: status.PERMISSION_DENIED, details: 'this token may read but not write' };

/** The refusal for a call that needs `needed` and carries `metadata`, or undefined to let it through. */
function refusalFor(needed: Permission, metadata: Metadata, read: TokenSet, write: TokenSet, authorizationDropped: boolean): Refusal | undefined {
  if (needed === 'none') return undefined;
  const presented = presentedTokenFrom(metadata);
  // grpc-js dropped the header it could not parse, so it looks missing: say what was wrong with it.
  if (presented.kind === 'missing') return authorizationDropped ? ILLEGAL_CHARACTERS : MISSING;
  if (presented.kind === 'malformed') return MALFORMED;
  // Both sets are always consulted, so the response time does not say which one holds the token.
  const canWrite = write.has(presented.token);
  const canRead = read.has(presented.token) || canWrite;
  if (!canRead) return UNKNOWN;
  if (needed === 'write' && !canWrite) return READ_ONLY;
  return undefined;
}

/**
 * A grpc-js server interceptor that checks `authorization: Bearer <token>` against the read and
 * write tokens and the method's permission (METHOD_PERMISSIONS). It acts on the request metadata,
 * before the handler is started: a refused call ends with UNAUTHENTICATED (no, malformed or
 * unknown token, or an authorization header grpc-js could not parse: see routeGrpcJsLogs) or PERMISSION_DENIED (a read token on a write method) without a single request
 * message being read, whether the method is unary, client-streaming or bidirectional. Admitted
 * calls go on with the authorization entry removed, so no handler or later interceptor sees it.
 *
 * With no tokens at all, authentication is off and the interceptor passes every call through.
 * Only watching interceptors (observability) may come before it in the Server's `interceptors`
 * list: grpc-js hands request events to the interceptors in list order, and anything after it
 * never sees a refused call.
 */
export function createAuthInterceptor(options: AuthOptions = {}): ServerInterceptor {
  const read = createTokenSet(options.readTokens ?? []);
  const write = createTokenSet(options.writeTokens ?? []);
  const exempt = new Set(options.authExemptServices ?? DEFAULT_AUTH_EXEMPT_SERVICES);
  if (read.size === 0 && write.size === 0) return (_method, call) => new ServerInterceptingCall(call);

  return (method, call: ServerInterceptingCallInterface) => {
    // Taken now: grpc-js parsed this call's headers just before creating its interceptors.
    const authorizationDropped = takeDroppedMetadataKeys().includes(AUTHORIZATION_KEY);
    const needed = permissionFor(method.path, exempt);
    const listener = new ServerListenerBuilder()
      .withOnReceiveMetadata((metadata, next) => {
        const refusal = refusalFor(needed, metadata, read, write, authorizationDropped);
        if (refusal) {
          // Not calling next() keeps the handler from starting, so no message is read or decoded;
          // sending the status ends the stream (grpc-js then drains and discards what was sent).
          call.sendStatus(refusal);
          return;
        }
        metadata.remove(AUTHORIZATION_KEY);
        next(metadata);
      })
      .build();
    return new ServerInterceptingCall(call, { start: (next) => next(listener) });
  };
}
