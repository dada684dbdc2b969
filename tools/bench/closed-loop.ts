import { performance } from 'node:perf_hooks';

/** What a closed-loop run measured. */
export interface ClosedLoopResult<T> {
  /** Wall time of each timed call, in ms, in completion order. */
  latenciesMs: number[];
  /** What each timed call resolved with, in completion order. */
  results: T[];
  /** Wall time from the first timed call to the last completion, in ms. */
  elapsedMs: number;
}

/**
 * Runs `total` calls of `fn` with `concurrency` callers, each starting its next call as soon as
 * its previous one completes (a closed loop, like `concurrency` clients each waiting for its
 * answer). `fn` receives a running call number (0, 1, ...). The first `warmup` calls (spread over
 * the callers the same way) are not timed; timed calls are numbered from `warmup` on. A failing call fails the run.
 */
export async function runClosedLoop<T>(
  fn: (callIndex: number) => Promise<T>,
  options: { concurrency: number; total: number; warmup?: number },
): Promise<ClosedLoopResult<T>> {
  const { concurrency, total } = options;
  if (!Number.isInteger(concurrency) || concurrency < 1) throw new RangeError(`concurrency must be >= 1, received ${concurrency}`);
  if (!Number.isInteger(total) || total < 1) throw new RangeError(`total must be >= 1, received ${total}`);
  let next = 0;
  // Calls numbered [next, end): warm-up calls come first, so timed calls continue the numbering.
  const loop = async (end: number, record?: { latenciesMs: number[]; results: T[] }): Promise<void> => {
    const worker = async (): Promise<void> => {
      while (next < end) {
        const i = next++;
        const t0 = performance.now();
        const r = await fn(i);
        if (record) {
          record.latenciesMs.push(performance.now() - t0);
          record.results.push(r);
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, end - next) }, worker));
  };
  const warmup = options.warmup ?? 0;
  if (warmup > 0) await loop(warmup);
  const record = { latenciesMs: [] as number[], results: [] as T[] };
  const start = performance.now();
  await loop(warmup + total, record);
  return { ...record, elapsedMs: performance.now() - start };
}
