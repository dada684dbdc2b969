import * as fs from 'node:fs/promises';
import * as path from 'node:path';

/** Timing of {@link DiskUsage}'s walks. */
export interface DiskUsageOptions {
  /** A measurement this old is refreshed when asked for, even without a write since. Default 60,000 ms. */
  maxAgeMs?: number;
  /**
   * After a walk, the next one waits this many times its duration, so walking a large folder takes
   * at most about 1/(1 + factor) of the disk's time however often the size is asked for. Default 10.
   */
  pauseFactor?: number;
  /** Clock in ms (tests). Default `performance.now`. */
  now?: () => number;
}

/**
 * Bytes of the files under some folders (each counted once, a folder inside another is not walked
 * twice), measured by a walk in the background so that asking is cheap: `bytes()` answers with the
 * last measurement and starts a new walk when a write came since (`changed`) or the measurement is
 * older than `maxAgeMs`. Only the first call waits for a walk; walks never overlap.
 */
export class DiskUsage {
  private readonly maxAgeMs: number;
  private readonly pauseFactor: number;
  private readonly now: () => number;
  private last?: { bytes: number; atMs: number };
  private changedSince = true;
  private walking?: Promise<number>;
  private nextWalkAtMs = 0;
  private timer?: NodeJS.Timeout;

  /** `folders` is read at each walk (the folders may change, e.g. when a catalog switches version). */
  constructor(private readonly folders: () => string[], options: DiskUsageOptions = {}) {
    this.maxAgeMs = options.maxAgeMs ?? 60_000;
    this.pauseFactor = options.pauseFactor ?? 10;
    this.now = options.now ?? (() => performance.now());
  }

  /** Notes that the folders changed: the next `bytes()` starts a new walk (when the pause allows). */
  changed(): void {
    this.changedSince = true;
  }

  /** Drops the measurement, so the next `bytes()` waits for a walk (the folders were replaced). */
  forget(): void {
    this.last = undefined;
    this.changedSince = true;
  }

  /** The last measurement, in bytes (awaits the first one); starts a walk in the background when it is out of date. */
  async bytes(): Promise<number> {
    if (!this.last) return this.walking ?? this.walk();
    if (this.changedSince || this.now() - this.last.atMs > this.maxAgeMs) this.refreshSoon();
    return this.last.bytes;
  }

  /** Stops a walk waiting for its pause (the one running finishes). */
  close(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private refreshSoon(): void {
    if (this.walking || this.timer) return;
    const wait = this.nextWalkAtMs - this.now();
    if (wait <= 0) {
      void this.walk();
      return;
    }
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.walk();
    }, wait);
    this.timer.unref();
  }

  private walk(): Promise<number> {
    // A write during the walk may be missed by it: it asks for the next one.
    this.changedSince = false;
    const startedMs = this.now();
    this.walking = sumFolders(this.folders())
      .then((bytes) => {
        const endMs = this.now();
        this.last = { bytes, atMs: endMs };
        this.nextWalkAtMs = endMs + (endMs - startedMs) * this.pauseFactor;
        return bytes;
      })
      .finally(() => (this.walking = undefined));
    return this.walking;
  }
}

/** Bytes of the files under `folders`, skipping a folder that lies inside another of them. */
async function sumFolders(folders: string[]): Promise<number> {
  const roots = [...new Set(folders.map((f) => path.resolve(f)))];
  const outermost = roots.filter((f) => !roots.some((g) => g !== f && f.startsWith(g + path.sep)));
  let total = 0;
  for (const folder of outermost) total += await duBytes(folder);
  return total;
}

async function duBytes(dir: string): Promise<number> {
  let total = 0;
  for (const entry of await fs.readdir(dir, { withFileTypes: true }).catch(() => [])) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) total += await duBytes(p);
    // A file may vanish between listing and stat (compaction, a version folder being removed).
    else if (entry.isFile()) total += await fs.stat(p).then((st) => st.size, () => 0);
  }
  return total;
}
