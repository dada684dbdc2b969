import type { sendUnaryData, ServerUnaryCall } from '@grpc/grpc-js';
import type { Logger } from '../observability/logger.js';
import { requestSignal } from './request-signal.js';
import { serviceErrorFrom, statusFromError } from './status-from-error.js';

/**
 * Adapts an async function to a grpc-js unary handler, mapping thrown errors at the edge. The
 * function gets a signal that aborts when the client cancels or the deadline passes.
 */
export function unary<Req, Res>(
  log: Logger,
  fn: (request: Req, signal: AbortSignal) => Promise<Res>,
): (call: ServerUnaryCall<Req, Res>, callback: sendUnaryData<Res>) => void {
  return (call, callback) => {
    const { signal, done } = requestSignal(call);
    fn(call.request, signal)
      .then(
        (res) => callback(null, res),
        (e) => callback(serviceErrorFrom(statusFromError(e, log.error))),
      )
      .finally(done);
  };
}
