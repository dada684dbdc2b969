/** Images (items or examples) embedded concurrently during an upload stream; reading pauses beyond it. */
export const UPLOAD_CONCURRENCY = 8;
/** Uploaded rows written to the table in one commit. */
export const COMMIT_BATCH = 64;

/** What {@link drainUploads} does with each message of an upload stream. */
export interface DrainUploadsOptions<T> {
  /** Validates and embeds one message, recording its outcome; never rejects. */
  prepare: (message: T, index: number) => Promise<void>;
  /** Rows prepared and waiting for a commit. */
  readyCount: () => number;
  /** Writes the waiting rows. */
  commit: () => Promise<void>;
}

/**
 * Reads a client stream of uploads (UpsertItems, AddExamples): up to UPLOAD_CONCURRENCY messages
 * are prepared at once, and reading pauses beyond that (flow control); rows are committed in
 * batches of COMMIT_BATCH as they become ready, and once more at the end, so the memory held stays
 * bounded whatever the stream's length.
 */
export async function drainUploads<T>(messages: AsyncIterable<T>, o: DrainUploadsOptions<T>): Promise<void> {
  let index = 0;
  const running = new Set<Promise<void>>();
  for await (const message of messages) {
    const p = o.prepare(message, index++);
    running.add(p);
    void p.finally(() => running.delete(p));
    if (running.size >= UPLOAD_CONCURRENCY) await Promise.race(running);
    // Commits run in order of readiness; wait for them so memory stays bounded too.
    if (o.readyCount() >= COMMIT_BATCH) await o.commit();
  }
  await Promise.all(running);
  await o.commit();
}
