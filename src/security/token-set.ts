import { createHash, timingSafeEqual } from 'node:crypto';

/** A set of secret tokens that answers membership without leaking, through timing, how close a guess came. */
export interface TokenSet {
  /** Number of distinct tokens. */
  readonly size: number;
  /** Is `token` one of them? */
  has(token: string): boolean;
}

function digest(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest();
}

/**
 * A TokenSet over `tokens`. Only SHA-256 digests are kept; a lookup hashes the candidate and
 * compares it with every digest in constant time (crypto.timingSafeEqual), without stopping at the
 * first match, so neither the content nor the position of a token shows in the response time.
 */
export function createTokenSet(tokens: Iterable<string>): TokenSet {
  const digests = [...new Set(tokens)].map(digest);
  return {
    size: digests.length,
    has(token) {
      const candidate = digest(token);
      let found = false;
      for (const d of digests) found = timingSafeEqual(candidate, d) || found;
      return found;
    },
  };
}
