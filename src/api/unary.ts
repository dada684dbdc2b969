import type { sendUnaryData, ServerUnaryCall } from '@grpc/grpc-js';
import type { Logger } from './logger.js';
import { serviceErrorFrom, statusFromError } from './status-from-error.js';

/** Adapts an async function to a grpc-js unary handler, mapping thrown errors at the edge. */
export function unary<Req, Res>(
  log: Logger,
  fn: (request: Req, call: ServerUnaryCall<Req, Res>) => Promise<Res>,
): (call: ServerUnaryCall<Req, Res>, callback: sendUnaryData<Res>) => void {
  return (call, callback) => {
    fn(call.request, call).then(
      (res) => callback(null, res),
      (e) => callback(serviceErrorFrom(statusFromError(e, log.error))),
    );
  };
}
