import { status } from '@grpc/grpc-js';
import type { LogFields, Logger } from './logger.js';
import type { CallOutcome, CallOutcomeSink } from './call-observer.js';

/** The `msg` of every request line. */
export const REQUEST_LOG_MESSAGE = 'request';

/**
 * Codes that mean the server failed rather than the client: their lines go out at error level,
 * everything else (OK, bad input, not found, overload, refusals) at info.
 */
export const SERVER_FAULT_CODES: ReadonlySet<number> = new Set([status.UNKNOWN, status.INTERNAL, status.DATA_LOSS]);

/** Longest status message copied into a line, in characters (a message quotes client input at times). */
export const MAX_LOGGED_DETAILS_CHARS = 512;

/**
 * The fields of one request line: `requestId`, `method` (full path), `code` and `codeName`,
 * `durationMs`, `peer`; `details` (the status message) unless OK; `statusObserved: false` when the
 * code was inferred. Nothing of the request body or metadata is included, so image bytes and
 * tokens never reach the log.
 */
export function requestLogFieldsFrom(outcome: CallOutcome): LogFields {
  const fields: LogFields = {
    requestId: outcome.requestId,
    method: outcome.method,
    code: outcome.code,
    codeName: outcome.codeName,
    durationMs: Math.round(outcome.durationMs * 100) / 100,
    peer: outcome.peer,
  };
  if (outcome.code !== status.OK) fields.details = outcome.details.slice(0, MAX_LOGGED_DETAILS_CHARS);
  if (!outcome.statusObserved) fields.statusObserved = false;
  return fields;
}

/** A call sink that writes one line per finished call to `log` (see `requestLogFieldsFrom`). */
export function createRequestLog(log: Logger): CallOutcomeSink {
  return (outcome) => {
    const fields = requestLogFieldsFrom(outcome);
    if (outcome.code !== null && SERVER_FAULT_CODES.has(outcome.code)) log.error(REQUEST_LOG_MESSAGE, undefined, fields);
    else log.info(REQUEST_LOG_MESSAGE, fields);
  };
}
