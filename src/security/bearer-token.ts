import type { Metadata } from '@grpc/grpc-js';

/** The metadata key that carries the token, as `authorization: Bearer <token>`. */
export const AUTHORIZATION_KEY = 'authorization';

/**
 * Characters a token may use: RFC 6750's b64token (letters, digits, `-._~+/`, trailing `=`), so a
 * token fits an HTTP/2 header unchanged.
 */
const TOKEN_PATTERN = /^[A-Za-z0-9\-._~+/]+=*$/;

/** Shortest token accepted in configuration: 16 characters, to keep guessable tokens out. */
export const MIN_TOKEN_LENGTH = 16;

/** Guard: may `token` be configured as a bearer token (b64token characters, at least MIN_TOKEN_LENGTH long)? */
export function isWellFormedToken(token: unknown): token is string {
  return typeof token === 'string' && token.length >= MIN_TOKEN_LENGTH && TOKEN_PATTERN.test(token);
}

/** What a call's metadata says about its token. */
export type PresentedToken =
  | { kind: 'missing' }
  /** An authorization value that is not exactly one `Bearer <token>`. */
  | { kind: 'malformed' }
  | { kind: 'bearer'; token: string };

/** Reads the bearer token of a call's metadata. The scheme is case-insensitive (RFC 7235). */
export function presentedTokenFrom(metadata: Metadata): PresentedToken {
  const values = metadata.get(AUTHORIZATION_KEY);
  if (values.length === 0) return { kind: 'missing' };
  if (values.length > 1 || typeof values[0] !== 'string') return { kind: 'malformed' };
  const match = /^Bearer +(\S+) *$/i.exec(values[0]);
  return match ? { kind: 'bearer', token: match[1] } : { kind: 'malformed' };
}
