import { createMicroBatcher } from '../../src/model/index.js';

describe('createMicroBatcher', () => {
  it('gathers concurrent submissions into one batch and returns each its own output', async () => {
    const batches: number[][] = [];
    const b = createMicroBatcher(async (xs: number[]) => {
      batches.push(xs);
      return xs.map((x) => x * 10);
    }, { maxBatchSize: 16, maxWaitMs: 5 });
    const out = await Promise.all([1, 2, 3, 4].map((x) => b.submit(x)));
    expect(out).toEqual([10, 20, 30, 40]);
    expect(batches).toEqual([[1, 2, 3, 4]]);
  });

  it('never exceeds maxBatchSize and runs one batch at a time', async () => {
    let running = 0;
    let maxRunning = 0;
    const sizes: number[] = [];
    const b = createMicroBatcher(async (xs: number[]) => {
      running++;
      maxRunning = Math.max(maxRunning, running);
      sizes.push(xs.length);
      await new Promise((r) => setTimeout(r, 5));
      running--;
      return xs;
    }, { maxBatchSize: 4, maxWaitMs: 1 });
    const out = await Promise.all(Array.from({ length: 10 }, (_, i) => b.submit(i)));
    expect(out).toEqual(Array.from({ length: 10 }, (_, i) => i));
    expect(Math.max(...sizes)).toBeLessThanOrEqual(4);
    expect(sizes.reduce((s, n) => s + n, 0)).toBe(10);
    expect(maxRunning).toBe(1);
  });

  it('rejects every item of a failed batch and keeps working afterwards', async () => {
    let fail = true;
    const b = createMicroBatcher(async (xs: number[]) => {
      if (fail) throw new Error('boom');
      return xs;
    }, { maxBatchSize: 8, maxWaitMs: 1 });
    const results = await Promise.allSettled([b.submit(1), b.submit(2)]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    fail = false;
    await expect(b.submit(3)).resolves.toBe(3);
  });
});

describe('createMicroBatcher with abort signals', () => {
  it('drops a queued item whose signal aborts, before it reaches runBatch', async () => {
    const seen: number[] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const b = createMicroBatcher(async (xs: number[]) => {
      seen.push(...xs);
      await gate;
      return xs;
    }, { maxBatchSize: 8, maxWaitMs: 0 });
    const first = b.submit(1); // runs at once and blocks on the gate
    const controller = new AbortController();
    const dropped = b.submit(2, controller.signal);
    const kept = b.submit(3);
    controller.abort(new Error('client went away'));
    await expect(dropped).rejects.toThrow('client went away');
    release();
    await expect(first).resolves.toBe(1);
    await expect(kept).resolves.toBe(3);
    expect(seen).toEqual([1, 3]);
    await expect(b.submit(4, AbortSignal.abort(new Error('already gone')))).rejects.toThrow('already gone');
  });
});
