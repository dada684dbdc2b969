import { setMaxListeners } from 'node:events';
import type { Deadline } from '@grpc/grpc-js';
import { DeadlineExceededError, RequestCancelledError } from '../errors/index.js';

/** What a request signal needs of a call; every kind of grpc-js server call has it. */
export interface CancellableCall {
  readonly cancelled: boolean;
  getDeadline(): Deadline;
  on(event: 'cancelled', listener: () => void): unknown;
  removeListener(event: 'cancelled', listener: () => void): unknown;
}

/** An AbortSignal for one call, and the function that detaches it when the call is done. */
export interface RequestSignal {
  signal: AbortSignal;
  done(): void;
}

function deadlineMsOf(call: CancellableCall): number {
  const d = call.getDeadline();
  const ms = d instanceof Date ? d.getTime() : Number(d);
  return Number.isFinite(ms) ? ms : Infinity;
}

/**
 * Aborts when the client cancels the call or its deadline passes, with a RequestCancelledError or
 * DeadlineExceededError as the reason, so the engine can drop the work before it reaches the model.
 */
export function requestSignal(call: CancellableCall): RequestSignal {
  const controller = new AbortController();
  // A stream's signal is shared by every item it has in flight (each waits on the model with its
  // own abort listener, removed when the item settles): more than Node's default warning level of
  // 10 is normal, not a leak. The stream's own limits bound how many wait at once.
  setMaxListeners(0, controller.signal);
  const deadline = deadlineMsOf(call);
  const abortForDeadline = (): void => controller.abort(new DeadlineExceededError());
  const timer = Number.isFinite(deadline) ? setTimeout(abortForDeadline, Math.max(0, deadline - Date.now())) : undefined;
  // grpc-js reports both a client cancel and its own deadline expiry as 'cancelled'.
  const onCancelled = (): void =>
    Date.now() >= deadline ? abortForDeadline() : controller.abort(new RequestCancelledError());
  call.on('cancelled', onCancelled);
  if (call.cancelled) onCancelled();
  return {
    signal: controller.signal,
    done: () => {
      clearTimeout(timer);
      call.removeListener('cancelled', onCancelled);
    },
  };
}
