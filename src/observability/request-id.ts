import { randomBytes } from 'node:crypto';
import type { Metadata } from '@grpc/grpc-js';

/** The metadata key a request id travels under, in both directions. */
export const REQUEST_ID_KEY = 'x-request-id';

/**
 * What a client-sent request id may look like: 1-128 characters of letters, digits and `. _ - : / + =`
 * (UUIDs, ULIDs, trace ids, base64). Anything else is replaced, so a log line never carries
 * arbitrary client text under the id field.
 */
export const REQUEST_ID_PATTERN = /^[A-Za-z0-9._\-:/+=]{1,128}$/;

/** A fresh id: 12 URL-safe characters (72 random bits), short enough to read in a log line. */
export function createRequestId(): string {
  return randomBytes(9).toString('base64url');
}

/** The client's `x-request-id` when it sent exactly one well-formed value, else undefined. */
export function requestIdFrom(metadata: Metadata): string | undefined {
  const values = metadata.get(REQUEST_ID_KEY);
  if (values.length !== 1 || typeof values[0] !== 'string') return undefined;
  return REQUEST_ID_PATTERN.test(values[0]) ? values[0] : undefined;
}
