import {
  ServerInterceptingCall,
  type ServerInterceptor,
  ServerListenerBuilder,
  status,
} from '@grpc/grpc-js';
import { interceptWith } from './intercept-with.js';
import { TwinlensServiceService } from '../gen/twinlens/v1/twinlens.js';

/** The unary methods that carry images and so are admitted by the call counter: Search, Compare, Embed. */
export const IMAGE_CALL_PATHS: readonly string[] = Object.freeze([
  TwinlensServiceService.search.path,
  TwinlensServiceService.compare.path,
  TwinlensServiceService.embed.path,
]);

/** Options of {@link createCallAdmission}. */
export interface CallAdmissionOptions {
  /** Most admitted calls at once; a call beyond it is refused with RESOURCE_EXHAUSTED. */
  maxCallsInProgress: number;
  /** Full method paths the counter applies to; other calls pass untouched. Default IMAGE_CALL_PATHS. */
  methods?: readonly string[];
}

/** Admission of image-taking calls at metadata time (see {@link createCallAdmission}). */
export interface CallAdmission {
  /** The grpc-js server interceptor; place it after the auth interceptor. */
  readonly interceptor: ServerInterceptor;
  /** Calls admitted and not yet ended. */
  readonly inProgress: number;
  /** Calls refused since start. */
  readonly refused: number;
  readonly capacity: number;
}

/**
 * Bounds the image-taking unary calls in progress *before their request bodies are read*. The
 * engine's admission gate (`maxImagesInProgress`) already refuses work beyond capacity, but it sits
 * in the handler, and grpc-js starts a unary handler only after it has read the whole request
 * message: under a burst of thousands of 200 KB requests every refusal waited for its body to
 * cross the connection behind everyone else's (p50 9-23 s), and every body was buffered.
 *
 * This interceptor acts on the request headers instead: a call finds a free slot (taken at once)
 * or ends with RESOURCE_EXHAUSTED without its handler starting, so its message is never read or
 * decoded (grpc-js discards the DATA frames that still arrive). A slot is given back exactly once,
 * at whichever comes first: the call's status passing out through this interceptor (every handler
 * outcome, errors included), or the end-of-call notification grpc-js delivers to every
 * interceptor after every call (client cancel, deadline — the deadline status is sent from below
 * the interceptors — transport close, forced shutdown). Admitted calls still go through the engine
 * gate, which bounds the images (a Compare may carry two).
 *
 * Place it after the auth interceptor: an unauthenticated call is refused there first
 * (UNAUTHENTICATED) and never takes a slot.
 */
export function createCallAdmission(options: CallAdmissionOptions): CallAdmission {
  const capacity = options.maxCallsInProgress;
  if (!Number.isInteger(capacity) || capacity < 1) {
    throw new RangeError(`maxCallsInProgress: expected an integer >= 1, received ${capacity}`);
  }
  const guarded = new Set(options.methods ?? IMAGE_CALL_PATHS);
  const refusal = {
    code: status.RESOURCE_EXHAUSTED,
    details: `server is at capacity (${capacity} image calls in progress); retry with back-off`,
  };
  let inProgress = 0;
  let refused = 0;

  const interceptor: ServerInterceptor = (method, call) => {
    if (!guarded.has(method.path)) return new ServerInterceptingCall(call);
    // waiting: no slot yet; admitted: holds one; ended: gave it back, was refused, or ended first.
    let state: 'waiting' | 'admitted' | 'ended' = 'waiting';
    const end = (): void => {
      if (state === 'admitted') inProgress--;
      state = 'ended';
    };
    const listener = new ServerListenerBuilder()
      .withOnReceiveMetadata((metadata, next) => {
        // Already ended (cancelled while an earlier interceptor held the metadata): take nothing.
        if (state !== 'waiting') return;
        if (inProgress >= capacity) {
          state = 'ended';
          refused++;
          // Not calling next() keeps the handler from starting, so the body is never read.
          call.sendStatus(refusal);
          return;
        }
        inProgress++;
        state = 'admitted';
        next(metadata);
      })
      .withOnCancel(end)
      .build();
    return interceptWith(call, listener, end);
  };

  return {
    interceptor,
    get inProgress() {
      return inProgress;
    },
    get refused() {
      return refused;
    },
    capacity,
  };
}
