import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';

/**
 * Content-addressed files for catalog source images (`images/ab/abcdef....bin`). Kept out of the
 * table so that scanning vectors never reads image bytes. Writes go to a temporary file that is
 * fsynced and then renamed, so a crash leaves either the whole file or none.
 */
export class BlobStore {
  constructor(readonly dir: string) {}

  static sha256(bytes: Uint8Array): string {
    return createHash('sha256').update(bytes).digest('hex');
  }

  pathOf(sha256: string): string {
    return path.join(this.dir, sha256.slice(0, 2), `${sha256}.bin`);
  }

  /** Stores `bytes` durably and returns their SHA-256; a blob already present is not rewritten. */
  async put(bytes: Uint8Array): Promise<string> {
    const sha = BlobStore.sha256(bytes);
    const dest = this.pathOf(sha);
    try {
      await fs.access(dest);
      return sha;
    } catch {
      // not there yet
    }
    await fs.mkdir(path.dirname(dest), { recursive: true });
    const tmp = `${dest}.${randomBytes(6).toString('hex')}.tmp`;
    const fh = await fs.open(tmp, 'w');
    try {
      await fh.writeFile(bytes);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await fs.rename(tmp, dest);
    return sha;
  }

  async get(sha256: string): Promise<Buffer> {
    return fs.readFile(this.pathOf(sha256));
  }

  /** Removes blobs no item references any more. Returns how many were removed. */
  async sweep(referenced: Set<string>): Promise<number> {
    let removed = 0;
    const shards = await fs.readdir(this.dir).catch(() => [] as string[]);
    for (const shard of shards) {
      const files = await fs.readdir(path.join(this.dir, shard)).catch(() => [] as string[]);
      for (const f of files) {
        const sha = f.split('.')[0];
        if (f.endsWith('.tmp') || !referenced.has(sha)) {
          await fs.rm(path.join(this.dir, shard, f), { force: true });
          removed++;
        }
      }
    }
    return removed;
  }
}
