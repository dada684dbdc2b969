import { setLogger } from '@grpc/grpc-js';
import { format } from 'node:util';
import type { Logger } from '../observability/logger.js';

/**
 * grpc-js logs a request header it cannot turn into metadata as
 * `Failed to add metadata entry <key>: <value>. <reason>. For more information see ...`, value
 * included: for `authorization` that is the token. The reason repeats the value too
 * (`Metadata string value "<value>" contains illegal characters`).
 */
const DROPPED_ENTRY = /^Failed to add metadata entry ([^:]*):/;
const REASON = /contains illegal characters|must have \w+ values/;
/** A bearer token (or anything after `Bearer`) in any other grpc-js line, e.g. a header trace. */
const BEARER_VALUE = /(bearer)[\s\u0000-\u001f]*[^\s"',\]}]+/gi;

let droppedKeys: string[] = [];

/** `message` with metadata values and bearer tokens removed; `droppedKey` set when it reports a dropped entry. */
export function redactGrpcJsMessage(message: string): { text: string; droppedKey?: string } {
  const dropped = DROPPED_ENTRY.exec(message);
  if (dropped) {
    const reason = REASON.exec(message)?.[0] ?? 'not allowed';
    const key = /^[\w.-]+$/.test(dropped[1]) ? dropped[1] : '(key not shown)';
    return { text: `grpc-js dropped request metadata entry ${key} (value not shown): ${reason}`, droppedKey: dropped[1] };
  }
  return { text: message.replace(BEARER_VALUE, '$1 [redacted]') };
}

/**
 * Sends grpc-js's own log lines (process-wide: grpc-js has one logger) to `log` instead of stderr,
 * with metadata values and bearer tokens removed, so no token reaches a log through grpc-js. Also
 * notes which request metadata entries grpc-js dropped for the call being set up, for
 * {@link takeDroppedMetadataKeys}. Verbosity stays grpc-js's (errors only, unless GRPC_VERBOSITY says more).
 */
export function routeGrpcJsLogs(log: Logger): void {
  const write = (severity: 'error' | 'info') => (...args: unknown[]) => {
    const { text, droppedKey } = redactGrpcJsMessage(format(...args));
    if (droppedKey !== undefined) noteDroppedKey(droppedKey);
    if (severity === 'error') log.error(text, undefined, { source: 'grpc-js' });
    else log.info(text, { source: 'grpc-js' });
  };
  setLogger({ error: write('error'), info: write('info'), debug: write('info') });
}

function noteDroppedKey(key: string): void {
  if (droppedKeys.length === 0) {
    // grpc-js parses a call's headers and runs the server interceptors in the same synchronous
    // step; anything not taken by then belongs to no call.
    queueMicrotask(() => (droppedKeys = []));
  }
  droppedKeys.push(key);
}

/**
 * The request metadata keys grpc-js dropped (and logged, see {@link routeGrpcJsLogs}) while
 * parsing the headers of the call whose server interceptors are being created right now, and
 * forgets them. Call it synchronously in an interceptor factory, once per call: grpc-js parses a
 * call's headers and then creates its interceptors without yielding in between.
 */
export function takeDroppedMetadataKeys(): string[] {
  const keys = droppedKeys;
  droppedKeys = [];
  return keys;
}
