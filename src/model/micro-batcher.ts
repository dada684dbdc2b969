/** Options of `createMicroBatcher`. */
export interface MicroBatcherOptions {
  /** Most items in one batch. */
  maxBatchSize: number;
  /**
   * How long an idle batcher holds the first item for company before running it, in ms. 0 runs
   * it at once: batches then form only from items that arrive while a run is in progress.
   */
  maxWaitMs: number;
}

/** Gathers concurrent single-item calls into batched calls of `runBatch`. */
export interface MicroBatcher<I, O> {
  /** Queues an item; if `signal` aborts while it waits, it leaves the queue and rejects with the reason. */
  submit(item: I, signal?: AbortSignal): Promise<O>;
  /** Items waiting for a batch. */
  readonly queueDepth: number;
}

interface Pending<I, O> {
  item: I;
  resolve: (o: O) => void;
  reject: (e: unknown) => void;
}

/**
 * One batch runs at a time (on 2 cores a second concurrent run only competes for the same
 * threads). While it runs, new items queue; when it ends, the queue runs at once, up to
 * `maxBatchSize`. An idle batcher holds the first item for at most `maxWaitMs` (0: not at all)
 * so concurrent arrivals can join it. `runBatch` must return one output per input, in order.
 */
export function createMicroBatcher<I, O>(
  runBatch: (items: I[]) => Promise<O[]>,
  options: MicroBatcherOptions,
): MicroBatcher<I, O> {
  const queue: Pending<I, O>[] = [];
  let running = false;
  let timer: NodeJS.Timeout | undefined;

  const flush = (): void => {
    if (timer) {
      clearTimeout(timer);
      timer = undefined;
    }
    if (running || queue.length === 0) return;
    const batch = queue.splice(0, options.maxBatchSize);
    running = true;
    runBatch(batch.map((p) => p.item))
      .then((outputs) => {
        if (outputs.length !== batch.length) throw new Error(`batch returned ${outputs.length} outputs for ${batch.length} inputs`);
        batch.forEach((p, i) => p.resolve(outputs[i]));
      })
      .catch((e) => batch.forEach((p) => p.reject(e)))
      .finally(() => {
        running = false;
        // Items that queued during the run have waited long enough already.
        if (queue.length > 0) flush();
      });
  };

  return {
    submit(item: I, signal?: AbortSignal): Promise<O> {
      if (signal?.aborted) return Promise.reject(signal.reason);
      return new Promise<O>((resolve, reject) => {
        const pending: Pending<I, O> = { item, resolve, reject };
        if (signal) {
          // Work whose caller gave up is dropped before it reaches the model.
          const onAbort = (): void => {
            const i = queue.indexOf(pending);
            if (i >= 0) {
              queue.splice(i, 1);
              reject(signal.reason);
            }
          };
          signal.addEventListener('abort', onAbort, { once: true });
          const settle = <T>(f: (v: T) => void) => (v: T): void => {
            signal.removeEventListener('abort', onAbort);
            f(v);
          };
          pending.resolve = settle(resolve);
          pending.reject = settle(reject);
        }
        queue.push(pending);
        if (running) return;
        if (queue.length >= options.maxBatchSize || options.maxWaitMs === 0) flush();
        else if (!timer) timer = setTimeout(flush, options.maxWaitMs);
      });
    },
    get queueDepth() {
      return queue.length;
    },
  };
}
