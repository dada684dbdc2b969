import { randomBytes } from 'node:crypto';
import { FailedPreconditionError, NotFoundError } from '../errors/index.js';

/** How long and how much of Search's query images are kept for ConfirmMatch. */
export interface RecentQueriesOptions {
  /** Time a query image is kept, in ms; 0 keeps none. */
  retentionMs: number;
  /** Most bytes kept in all; the oldest images go first. 0 keeps none. */
  maxBytes: number;
  /** Clock, in ms (tests). Default Date.now. */
  now?: () => number;
}

/**
 * Search's recent query images, by search id, in memory only, so that ConfirmMatch can turn one
 * into an example without a second upload. Bounded in time and total size, first in first out.
 */
export class RecentQueries {
  private readonly entries = new Map<string, { image: Uint8Array; atMs: number }>();
  private bytes = 0;
  private readonly now: () => number;

  constructor(private readonly o: RecentQueriesOptions) {
    this.now = o.now ?? Date.now;
  }

  /** Whether images are kept at all. */
  get enabled(): boolean {
    return this.o.retentionMs > 0 && this.o.maxBytes > 0;
  }

  /** Bytes of the images kept now. */
  get heldBytes(): number {
    return this.bytes;
  }

  /** Keeps a copy of `image`; returns its search id, or '' when retention is off or the image alone is over the size bound. */
  put(image: Uint8Array): string {
    if (!this.enabled || image.length > this.o.maxBytes) return '';
    this.expire();
    while (this.bytes + image.length > this.o.maxBytes) this.dropOldest();
    const id = randomBytes(12).toString('base64url');
    this.entries.set(id, { image: Uint8Array.from(image), atMs: this.now() });
    this.bytes += image.length;
    return id;
  }

  /**
   * The image of `searchId`. Throws FailedPreconditionError when retention is off, NotFoundError
   * when the id is unknown, expired or evicted.
   */
  get(searchId: string): Uint8Array {
    if (!this.enabled) {
      throw new FailedPreconditionError('this server keeps no query images (confirmRetentionMs or confirmRetentionBytes is 0): send the photo with AddExamples');
    }
    this.expire();
    const entry = this.entries.get(searchId);
    if (!entry) {
      throw new NotFoundError(
        `search '${searchId.slice(0, 64)}' is unknown or its query image is no longer kept (kept ${Math.round(this.o.retentionMs / 1000)} s, ` +
          `${this.o.maxBytes} bytes in all): send the photo with AddExamples`,
      );
    }
    return entry.image;
  }

  private expire(): void {
    const oldest = this.now() - this.o.retentionMs;
    // Map iteration is insertion order: the oldest first.
    for (const [id, e] of this.entries) {
      if (e.atMs > oldest) break;
      this.entries.delete(id);
      this.bytes -= e.image.length;
    }
  }

  private dropOldest(): void {
    const first = this.entries.entries().next();
    if (first.done) return;
    this.entries.delete(first.value[0]);
    this.bytes -= first.value[1].image.length;
  }
}
