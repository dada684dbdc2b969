/**
 * Computes `fn(0) ... fn(count - 1)` with at most `concurrency` calls in flight, results in index
 * order. For image generation, where one call's sharp work overlaps another's JavaScript.
 */
export async function mapInOrder<T>(count: number, concurrency: number, fn: (i: number) => Promise<T>): Promise<T[]> {
  const out: T[] = new Array(count);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < count) {
      const i = next++;
      out[i] = await fn(i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(Math.max(1, concurrency), count) }, worker));
  return out;
}
