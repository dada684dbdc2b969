/**
 * Runs `work(i)` for i in [0, count) with at most `concurrency` in flight and hands the results to
 * `sink` in index order (so a stream written from them is the same whatever finishes first).
 */
export async function runOrdered<T>(
  count: number,
  concurrency: number,
  work: (i: number) => Promise<T>,
  sink: (i: number, result: T) => Promise<void> | void,
): Promise<void> {
  const done = new Map<number, T>();
  let nextToStart = 0;
  let nextToSink = 0;
  let failure: unknown = null;
  let sinking: Promise<void> = Promise.resolve();

  const flush = async (): Promise<void> => {
    while (done.has(nextToSink)) {
      const r = done.get(nextToSink) as T;
      done.delete(nextToSink);
      await sink(nextToSink, r);
      nextToSink++;
    }
  };

  const worker = async (): Promise<void> => {
    while (failure === null && nextToStart < count) {
      const i = nextToStart++;
      try {
        done.set(i, await work(i));
        sinking = sinking.then(flush);
        await sinking;
      } catch (e) {
        failure ??= e;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, count)) }, worker));
  if (failure !== null) throw failure;
  await sinking;
}

/** `work(0) ... work(count - 1)` with at most `concurrency` in flight, results in index order. */
export async function mapInOrder<T>(count: number, concurrency: number, work: (i: number) => Promise<T>): Promise<T[]> {
  const out: T[] = new Array(count);
  await runOrdered(count, concurrency, work, (i, r) => {
    out[i] = r;
  });
  return out;
}
