import {
  Metadata,
  ResponderBuilder,
  ServerInterceptingCall,
  type ServerInterceptor,
  ServerListenerBuilder,
  status,
} from '@grpc/grpc-js';
import { createRequestId, REQUEST_ID_KEY, requestIdFrom } from './request-id.js';

/**
 * The code name reported for a call that an interceptor placed before the observer ended on its
 * own (the auth interceptor refusing a token): grpc-js sends such a status straight down the
 * chain, so it never passes the observer and its exact code is not known here.
 */
export const REFUSED_CODE_NAME = 'REFUSED';

/** How one call ended, as the observer saw it. */
export interface CallOutcome {
  /** The client's `x-request-id` when it sent a well-formed one, else a generated id. */
  requestId: string;
  /** Full method path, e.g. `/twinlens.v1.TwinlensService/Search`. */
  method: string;
  /** The gRPC status code; null for a call refused before the observer (see `REFUSED_CODE_NAME`). */
  code: number | null;
  /** The code's name (`OK`, `INVALID_ARGUMENT`, ...) or `REFUSED`. */
  codeName: string;
  /** The status message; empty for OK. */
  details: string;
  /** From the call's start to its status, in milliseconds. */
  durationMs: number;
  /** The client's address and port as grpc-js reports it (`unknown` when it cannot tell). */
  peer: string;
  /**
   * True when the status passed through the observer. False when it was inferred at the end of
   * the call: DEADLINE_EXCEEDED (grpc-js ended it at the deadline, or the client gave up at its
   * deadline before its request message arrived), CANCELLED (the client or the transport ended
   * it, before its request message or its status) or REFUSED (an earlier interceptor ended it). An observed status is the
   * one the server sent: a client that cancels just as a stream finishes may not have received it.
   */
  statusObserved: boolean;
}

/** Receives every finished call once. It must not throw (errors are swallowed) and should be quick. */
export type CallOutcomeSink = (outcome: CallOutcome) => void;

function nameOf(code: number): string {
  return status[code] ?? `CODE_${code}`;
}

/**
 * A call that ends without a status this close to its deadline (ms) counts as DEADLINE_EXCEEDED: a
 * grpc-js client cancels at its own deadline, and that cancel can beat the server's deadline timer
 * (which starts when the headers arrive) by the variation in transit time.
 */
const DEADLINE_SLACK_MS = 20;

function deadlineMsOf(deadline: Date | number): number {
  const ms = deadline instanceof Date ? deadline.getTime() : Number(deadline);
  return Number.isFinite(ms) ? ms : Infinity;
}

/** Has the call's deadline passed, give or take DEADLINE_SLACK_MS? */
function pastDeadline(deadline: Date | number): boolean {
  return Date.now() >= deadlineMsOf(deadline) - DEADLINE_SLACK_MS;
}

function withRequestId(metadata: Metadata | null | undefined, requestId: string): Metadata {
  const m = metadata ? metadata.clone() : new Metadata();
  m.set(REQUEST_ID_KEY, requestId);
  return m;
}

/**
 * A grpc-js server interceptor that times every call, gives it a request id (the client's
 * `x-request-id` when well-formed, else a generated one), hands the id to the handler in the
 * request metadata and back to the client in the response metadata (headers, or trailers of an
 * error-only response), and reports how the call ended to `sinks` exactly once.
 *
 * The status is taken in `sendStatus`, which every handler kind (unary, client-streaming,
 * bidirectional) goes through. Some calls end without their status passing here: grpc-js itself
 * ends a call at its deadline, a client may cancel, and an interceptor earlier in the list (auth)
 * sends its refusal straight down the chain. The call's `onCancel`, which grpc-js delivers to
 * every interceptor at the end of every call, catches those, with the code inferred (see
 * `CallOutcome.statusObserved`). Placed first in the list, the observer sees every status exactly.
 */
export function createCallObserverInterceptor(...sinks: CallOutcomeSink[]): ServerInterceptor {
  return (method, call) => {
    const started = performance.now();
    let requestId = createRequestId();
    let metadataSeen = false;
    let messageSeen = false;
    let headersSent = false;
    let ended = false;

    const end = (code: number | null, codeName: string, details: string, statusObserved: boolean): void => {
      if (ended) return;
      ended = true;
      const outcome: CallOutcome = {
        requestId,
        method: method.path,
        code,
        codeName,
        details,
        durationMs: performance.now() - started,
        peer: call.getPeer(),
        statusObserved,
      };
      for (const sink of sinks) {
        try {
          sink(outcome);
        } catch {
          // Observing a call must never break it.
        }
      }
    };

    const listener = new ServerListenerBuilder()
      .withOnReceiveMetadata((metadata, next) => {
        metadataSeen = true;
        const sent = requestIdFrom(metadata);
        if (sent) requestId = sent;
        else metadata.set(REQUEST_ID_KEY, requestId);
        next(metadata);
      })
      .withOnReceiveMessage((message, next) => {
        messageSeen = true;
        next(message);
      })
      .withOnCancel(() => {
        // Delivered after every call, also after a status that passed here (then a no-op).
        if (pastDeadline(call.getDeadline())) {
          end(status.DEADLINE_EXCEEDED, 'DEADLINE_EXCEEDED', 'Deadline exceeded', false);
        } else if (!metadataSeen) {
          end(null, REFUSED_CODE_NAME, 'ended by an earlier interceptor before reaching the observer', false);
        } else {
          end(status.CANCELLED, 'CANCELLED', 'cancelled before a status was sent', false);
        }
      })
      .build();

    const responder = new ResponderBuilder()
      .withStart((next) => next(listener))
      .withSendMetadata((metadata, next) => {
        headersSent = true;
        next(withRequestId(metadata, requestId));
      })
      .withSendStatus((s, next) => {
        // Headers already carry the id; an error-only response has nothing but trailers.
        next(headersSent ? s : { ...s, metadata: withRequestId(s.metadata, requestId) });
        if (s.code === status.UNIMPLEMENTED && !method.requestStream && !messageSeen) {
          // grpc-js answers UNIMPLEMENTED ("Received no request message") when a unary-request
          // call's client side ends before its message: a client giving up at its deadline or
          // cancelling (it half-closes, then resets the stream). That is how the call really ended.
          const [code, details] = pastDeadline(call.getDeadline())
            ? [status.DEADLINE_EXCEEDED, 'Deadline exceeded before the request message arrived']
            : [status.CANCELLED, 'the client ended the call before its request message arrived'];
          end(code, nameOf(code), details, false);
          return;
        }
        end(s.code, nameOf(s.code), s.details ?? '', true);
      })
      .build();

    return new ServerInterceptingCall(call, responder);
  };
}
