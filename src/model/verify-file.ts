import { createHash } from 'node:crypto';
import * as fs from 'node:fs';

/**
 * Reads a model file and checks its sha256 (bundled and installed model files are pinned so), and
 * returns its bytes. A missing or unreadable file, or one with another sha256, throws `fail(message)`
 * with a message that names `what` and the file; `hint` follows the message of a missing one.
 */
export function readVerifiedFile(file: string, expected: string, what: string, fail: (message: string) => Error, hint = ''): Buffer {
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(file);
  } catch (e) {
    throw fail(`${what} file ${file} cannot be read: ${(e as Error).message}${hint}`);
  }
  const actual = createHash('sha256').update(bytes).digest('hex');
  if (actual !== expected.toLowerCase()) {
    throw fail(`${what} file ${file} has sha256 ${actual}, expected ${expected} (altered or wrong file)`);
  }
  return bytes;
}
