import { status, type ServiceError } from '@grpc/grpc-js';
import { isTwinlensError } from '../errors/index.js';

/** A gRPC status: what the edge sends for an error. */
export interface StatusObject {
  code: status;
  details: string;
}

/**
 * The one place an error becomes a gRPC status. Known errors keep their meaning; anything else is
 * a bug or an infrastructure failure, so the caller gets INTERNAL with a generic message and the
 * stack goes to the log (never to the client).
 */
export function statusFromError(e: unknown, log: (message: string, error: unknown) => void): StatusObject {
  if (isTwinlensError(e)) {
    switch (e.kind) {
      // The caller sent something unusable; retrying the same request cannot help.
      case 'invalid-image':
      case 'invalid-argument':
        return { code: status.INVALID_ARGUMENT, details: e.message };
      // The request names an item that is not in the catalog.
      case 'not-found':
        return { code: status.NOT_FOUND, details: e.message };
      // The server is configured not to do this; retrying cannot help until it is reconfigured.
      case 'failed-precondition':
        return { code: status.FAILED_PRECONDITION, details: e.message };
      // A transient condition; the client may retry.
      case 'unavailable':
        return { code: status.UNAVAILABLE, details: e.message };
      // Refused at admission so memory stays bounded; the client should back off and retry.
      case 'overloaded':
        return { code: status.RESOURCE_EXHAUSTED, details: e.message };
      // The caller gave up: its work was dropped before (or instead of) reaching the model.
      case 'cancelled':
        return { code: status.CANCELLED, details: e.message };
      case 'deadline-exceeded':
        return { code: status.DEADLINE_EXCEEDED, details: e.message };
    }
  }
  // The client went away or gave up: say so rather than reporting a failure of ours.
  if (e instanceof Error && e.name === 'AbortError') return { code: status.CANCELLED, details: 'request was cancelled' };
  log('internal error', e);
  return { code: status.INTERNAL, details: 'internal error; the server log has the details' };
}

/** The status as the error object grpc-js callbacks take. */
export function serviceErrorFrom(s: StatusObject): Partial<ServiceError> {
  return { code: s.code, details: s.details, message: s.details };
}

/** `INVALID_ARGUMENT` from 3, for ItemError.code_name. */
export function statusName(code: status): string {
  return status[code] ?? 'UNKNOWN';
}
