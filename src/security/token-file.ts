import * as fs from 'node:fs';
import { isWellFormedToken, MIN_TOKEN_LENGTH } from './bearer-token.js';
import { SecurityConfigError } from './security-config-error.js';

/** Tokens by permission. A write token may also read. */
export interface Tokens {
  read: string[];
  write: string[];
}

/**
 * Parses a token file: one `read:<token>` or `write:<token>` per line; blank lines and lines
 * starting with `#` are ignored, as is space around the token. A bad line is reported by its
 * number, never by its content (it may hold a secret).
 */
export function parseTokenFile(text: string, option: string, file: string): Tokens {
  const tokens: Tokens = { read: [], write: [] };
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const match = /^(read|write)\s*:\s*(\S+)$/.exec(line);
    if (!match) {
      throw new SecurityConfigError(option, file, `line ${i + 1}: expected 'read:<token>' or 'write:<token>'`);
    }
    if (!isWellFormedToken(match[2])) {
      throw new SecurityConfigError(
        option,
        file,
        `line ${i + 1}: a token needs at least ${MIN_TOKEN_LENGTH} characters of A-Z a-z 0-9 - . _ ~ + / (and trailing =)`,
      );
    }
    tokens[match[1] as 'read' | 'write'].push(match[2]);
  });
  return tokens;
}

/** Reads and parses a token file (see parseTokenFile). Start-up only: it reads synchronously. */
export function readTokenFile(file: string, option = 'authTokenFile'): Tokens {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new SecurityConfigError(option, file, `cannot read the token file: ${(e as Error).message}`, { cause: e });
  }
  return parseTokenFile(text, option, file);
}
