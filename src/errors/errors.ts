/**
 * Domain errors. Code inside twinlens throws these; exactly one function at the gRPC edge
 * (`api/status-from-error.ts`) turns them into status codes.
 */

/** Base class: every twinlens error carries a stable machine-readable `kind`. */
export abstract class TwinlensError extends Error {
  abstract readonly kind:
    | 'invalid-image'
    | 'invalid-argument'
    | 'not-found'
    | 'failed-precondition'
    | 'unavailable'
    | 'overloaded'
    | 'cancelled'
    | 'deadline-exceeded';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** The bytes sent as an image could not be used: empty, unknown format, corrupt, or over a limit. */
export class InvalidImageError extends TwinlensError {
  readonly kind = 'invalid-image' as const;
}

/** A request field other than an image is malformed or out of range. */
export class InvalidArgumentError extends TwinlensError {
  readonly kind = 'invalid-argument' as const;
  /** The request field at fault, e.g. `top_k`. */
  readonly field: string;
  constructor(field: string, message: string) {
    super(`${field}: ${message}`);
    this.field = field;
  }
}

/** A catalog item that the request names does not exist. */
export class ItemNotFoundError extends TwinlensError {
  readonly kind = 'not-found' as const;
  readonly itemId: string;
  constructor(itemId: string) {
    super(`catalog item '${itemId}' does not exist`);
    this.itemId = itemId;
  }
}

/** Something other than a catalog item that the request names does not exist (any more). */
export class NotFoundError extends TwinlensError {
  readonly kind = 'not-found' as const;
}

/** The request cannot work in the server's configuration (e.g. ConfirmMatch with query retention off). */
export class FailedPreconditionError extends TwinlensError {
  readonly kind = 'failed-precondition' as const;
}

/** The service cannot do the work now (model not loaded, shutting down). */
export class ServiceUnavailableError extends TwinlensError {
  readonly kind = 'unavailable' as const;
}

/** The server is at capacity; the request was refused at once rather than queued without bound. */
export class OverloadedError extends TwinlensError {
  readonly kind = 'overloaded' as const;
}

/** The client cancelled the request; its work was dropped. */
export class RequestCancelledError extends TwinlensError {
  readonly kind = 'cancelled' as const;
  constructor(message = 'the client cancelled the request') {
    super(message);
  }
}

/** The request's deadline passed; its work was dropped. */
export class DeadlineExceededError extends TwinlensError {
  readonly kind = 'deadline-exceeded' as const;
  constructor(message = 'the deadline passed before the work was done') {
    super(message);
  }
}

/** Guard: is `e` one of ours? */
export function isTwinlensError(e: unknown): e is TwinlensError {
  return e instanceof TwinlensError;
}
