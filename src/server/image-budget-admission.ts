import {
  ServerInterceptingCall,
  type ServerInterceptor,
  ServerListenerBuilder,
  status,
} from '@grpc/grpc-js';
import { interceptWith } from './intercept-with.js';
import { CatalogServiceService, TwinlensServiceService } from '../gen/twinlens/v1/twinlens.js';
import { IMAGE_CALL_PATHS } from './call-admission.js';
import { type ImageMemoryBudget, imageBytesOf } from './image-memory-budget.js';

/** The streaming methods that carry images: UpsertItems and AddExamples (client streams) and CompareStream (bidirectional). */
export const IMAGE_STREAM_PATHS: readonly string[] = Object.freeze([
  CatalogServiceService.upsertItems.path,
  CatalogServiceService.addExamples.path,
  TwinlensServiceService.compareStream.path,
]);

function budgetRefusal(budget: ImageMemoryBudget): { code: status; details: string } {
  return {
    code: status.RESOURCE_EXHAUSTED,
    details: `server is at capacity (image memory budget of ${budget.capacity} bytes in use); retry with back-off`,
  };
}

/** Options of {@link createImageBudgetAdmission}. */
export interface ImageBudgetAdmissionOptions {
  /** The budget every guarded call draws its image bytes from. */
  budget: ImageMemoryBudget;
  /** Most image streams in progress at once; a stream beyond it is refused with RESOURCE_EXHAUSTED on its headers. */
  maxStreamsInProgress: number;
  /** Unary methods whose message is charged (refused when it does not fit). Default IMAGE_CALL_PATHS. */
  unaryMethods?: readonly string[];
  /** Streaming methods whose messages are charged (waiting for room). Default IMAGE_STREAM_PATHS. */
  streamMethods?: readonly string[];
}

/** The memory admission of image-carrying calls (see {@link createImageBudgetAdmission}). */
export interface ImageBudgetAdmission {
  /** The grpc-js server interceptor; place it after the auth interceptor and the call admission. */
  readonly interceptor: ServerInterceptor;
  readonly budget: ImageMemoryBudget;
  /** Image streams admitted and not yet ended. */
  readonly streamsInProgress: number;
  /** Unary calls refused because their image did not fit, since start. */
  readonly refusedCalls: number;
  /** Streams refused on their headers because maxStreamsInProgress were running, since start. */
  readonly refusedStreams: number;
}

/**
 * Holds the image bytes of every call and stream to one budget. grpc-js reads a whole message
 * before any interceptor sees it, so a message is charged at once after it arrives and before
 * the handler gets it:
 * - a unary call (Search, Compare, Embed) whose image does not fit is refused with
 *   RESOURCE_EXHAUSTED (on its headers already when the budget is full); its bytes are given back
 *   when the call ends;
 * - a streamed message (UpsertItems, AddExamples, CompareStream) that does not fit is held here until room
 *   frees up, and since grpc-js reads a stream's next message only when the handler asks for one,
 *   the stream stops being read meanwhile (HTTP/2 flow control then stops the client); the
 *   handler's next read itself starts only when the budget has room. The handler gives each
 *   message's bytes back (`budget.releaseMessage`) once it is done with it; whatever it has not
 *   given back when the call ends is given back then. The call's account keeps a count, not the
 *   messages, so a message given back can be collected while its stream goes on.
 *
 * What is not charged is bounded separately: each admitted stream holds at most one message
 * waiting for room (so streams are capped by `maxStreamsInProgress`, checked on the headers before
 * any message is read), and unary bodies being received are capped by the call admission
 * (maxImageCallsInProgress).
 */
export function createImageBudgetAdmission(options: ImageBudgetAdmissionOptions): ImageBudgetAdmission {
  const { budget, maxStreamsInProgress } = options;
  if (!Number.isInteger(maxStreamsInProgress) || maxStreamsInProgress < 1) {
    throw new RangeError(`maxStreamsInProgress: expected an integer >= 1, received ${maxStreamsInProgress}`);
  }
  const unaryPaths = new Set(options.unaryMethods ?? IMAGE_CALL_PATHS);
  const streamPaths = new Set(options.streamMethods ?? IMAGE_STREAM_PATHS);
  let streamsInProgress = 0;
  let refusedCalls = 0;
  let refusedStreams = 0;

  const interceptor: ServerInterceptor = (method, call) => {
    const isStream = streamPaths.has(method.path);
    if (!isStream && !unaryPaths.has(method.path)) return new ServerInterceptingCall(call);
    // A count of the call's bytes, not its messages: one given back may be collected while the stream goes on.
    const account = budget.openAccount();
    const waits = new AbortController();
    let holdsStreamSlot = false;
    let ended = false;
    const end = (): void => {
      if (ended) return;
      ended = true;
      if (holdsStreamSlot) streamsInProgress--;
      waits.abort();
      account.close();
    };
    const pass = (message: object, bytes: number, next: (m: object) => void): void => {
      account.charge(message, bytes);
      next(message);
    };

    const listener = new ServerListenerBuilder()
      .withOnReceiveMetadata((metadata, next) => {
        if (ended) return;
        if (budget.inUse >= budget.capacity) {
          // Nothing fits now: refuse a unary call before its body is read; a stream may wait.
          if (!isStream) {
            ended = true;
            refusedCalls++;
            call.sendStatus(budgetRefusal(budget));
            return;
          }
        }
        if (isStream) {
          if (streamsInProgress >= maxStreamsInProgress) {
            ended = true;
            refusedStreams++;
            // Not calling next() keeps the handler from starting, so no message is read.
            call.sendStatus({
              code: status.RESOURCE_EXHAUSTED,
              details: `server is at capacity (${maxStreamsInProgress} image streams in progress); retry with back-off`,
            });
            return;
          }
          streamsInProgress++;
          holdsStreamSlot = true;
        }
        next(metadata);
      })
      .withOnReceiveMessage((message, next) => {
        if (ended) return;
        const bytes = imageBytesOf(message);
        if (!isStream) {
          if (!budget.tryAcquire(bytes)) {
            refusedCalls++;
            call.sendStatus(budgetRefusal(budget));
            return;
          }
          pass(message, bytes, next);
          return;
        }
        budget.acquire(bytes, waits.signal).then(
          () => {
            if (ended) budget.release(bytes);
            else pass(message, bytes, next);
          },
          () => undefined, // the call ended while the message waited: nothing was taken
        );
      })
      .withOnCancel(end)
      .build();
    // A stream reads its next message only when the budget has room (behind whoever waits for it):
    // grpc-js buffers a whole message before anyone sees it, so reading while the budget is full
    // would hold one more image per stream outside it.
    const gateRead = (read: () => void): void => {
      if (ended) return;
      if (budget.waiting === 0 && budget.inUse < budget.capacity) {
        read();
        return;
      }
      budget.acquire(1, waits.signal).then(
        () => {
          budget.release(1);
          if (!ended) read();
        },
        () => undefined, // the call ended meanwhile
      );
    };
    return interceptWith(call, listener, end, isStream ? gateRead : undefined);
  };

  return {
    interceptor,
    budget,
    get streamsInProgress() {
      return streamsInProgress;
    },
    get refusedCalls() {
      return refusedCalls;
    },
    get refusedStreams() {
      return refusedStreams;
    },
  };
}
