import type { CatalogStore, NewCatalogItem } from '../store/index.js';
import type { ImageMemoryBudget } from './image-memory-budget.js';

/** Images (items or examples) embedded concurrently during an upload stream; reading pauses beyond it. */
export const UPLOAD_CONCURRENCY = 8;
/** Uploaded rows written to the table in one commit. */
export const COMMIT_BATCH = 64;

/** What {@link drainUploads} does with each message of an upload stream. */
export interface DrainUploadsOptions<T extends object> {
  /** Validates and embeds one message, handing its row to `commits` or recording its failure; never rejects. */
  prepare: (message: T, index: number) => Promise<void>;
  /** Where the prepared rows wait and are written ({@link createUploadCommits}). */
  commits: Pick<UploadCommits<T>, 'readyCount' | 'commit'>;
}

/**
 * Reads a client stream of uploads (UpsertItems, AddExamples): up to UPLOAD_CONCURRENCY messages
 * are prepared at once, and reading pauses beyond that (flow control); rows are committed in
 * batches of COMMIT_BATCH as they become ready, and once more at the end, so the memory held stays
 * bounded whatever the stream's length.
 */
export async function drainUploads<T extends object>(messages: AsyncIterable<T>, o: DrainUploadsOptions<T>): Promise<void> {
  let index = 0;
  const running = new Set<Promise<void>>();
  for await (const message of messages) {
    const p = o.prepare(message, index++);
    running.add(p);
    void p.finally(() => running.delete(p));
    if (running.size >= UPLOAD_CONCURRENCY) await Promise.race(running);
    // Commits run in order of readiness; wait for them so memory stays bounded too.
    if (o.commits.readyCount >= COMMIT_BATCH) await o.commits.commit();
  }
  await Promise.all(running);
  await o.commits.commit();
}

/** What {@link createUploadCommits} writes to and reports to. */
export interface UploadCommitsOptions {
  catalog: Pick<CatalogStore, 'upsert'>;
  /** The image memory budget the stream's messages were charged to (none: nothing to give back). */
  budget?: ImageMemoryBudget;
  /** A row is durable; `replaced`: it replaced a stored row. */
  onCommitted: (index: number, item: NewCatalogItem, replaced: boolean) => void;
  onFailed: (index: number, item: NewCatalogItem, error: unknown) => void;
}

/** The commits of one upload stream (see {@link createUploadCommits}). */
export interface UploadCommits<M extends object> {
  /** A prepared row of message `index`: committed with the next batch. */
  add(index: number, item: NewCatalogItem, message: M): void;
  /** A message that failed before it became a row: its bytes go back to the budget now. */
  dropped(message: M): void;
  /** Rows waiting for a commit. */
  readonly readyCount: number;
  /** Commits the waiting rows (after any commit already running). */
  commit(): Promise<void>;
  /** Stops listening to the budget (call when the stream ends). */
  close(): void;
}

/**
 * Batches the rows prepared from an upload stream (UpsertItems, AddExamples) into catalog commits:
 * in the order the messages were sent (a repeated id ends as its last version), one commit at a
 * time whoever asks. Each message goes back to the image memory `budget` once its row is committed
 * or has failed, and the waiting rows are committed early whenever another message waits for room
 * in the budget, so rows held for a batch never keep any stream (this one included) from going on.
 */
export function createUploadCommits<M extends object>(o: UploadCommitsOptions): UploadCommits<M> {
  const ready: { index: number; item: NewCatalogItem; message: M }[] = [];
  const commitBatch = async (): Promise<void> => {
    const batch = ready.splice(0).sort((x, y) => x.index - y.index);
    if (batch.length === 0) return;
    try {
      const replaced = await o.catalog.upsert(batch.map((b) => b.item));
      batch.forEach((b, i) => o.onCommitted(b.index, b.item, replaced[i]));
    } catch (e) {
      batch.forEach((b) => o.onFailed(b.index, b.item, e));
    } finally {
      batch.forEach((b) => o.budget?.releaseMessage(b.message));
    }
  };
  let commits = Promise.resolve();
  const commit = (): Promise<void> => (commits = commits.then(commitBatch));
  const stopListening = o.budget?.onPressure(() => {
    if (ready.length > 0) void commit();
  });
  return {
    add(index, item, message) {
      ready.push({ index, item, message });
      // Room is wanted already: do not hold this row back for a batch.
      if (o.budget && o.budget.waiting > 0) void commit();
    },
    dropped: (message) => o.budget?.releaseMessage(message),
    get readyCount() {
      return ready.length;
    },
    commit,
    close: () => stopListening?.(),
  };
}
