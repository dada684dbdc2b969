import { performance } from 'node:perf_hooks';
import { createProcessDecoder, createSharpDecoder, type ImageDecoder, type ProcessDecoder } from '../../src/imaging/index.js';
import { fuzzCase } from './fuzz-mutate.js';
import { makeFuzzSeeds } from './fuzz-seeds.js';

/** Options of {@link replayDecodes}. */
export interface ReplayDecodesOptions {
  /** Run seed of the fuzz run whose cases are replayed. */
  seed: number;
  /** First and last case index, inclusive. */
  from: number;
  to: number;
  /** Decodes at once. */
  concurrency: number;
  /** Passes over the cases (each in a fresh random order). */
  rounds: number;
  /**
   * 'in-process': the sharp decoder in this process (a native crash ends this process: run it
   * under gdb for a backtrace). 'child': the production child-process decoder with one child
   * running `concurrency` decodes (a crash is contained and counted).
   */
  mode: 'in-process' | 'child';
  log?: (line: string) => void;
}

/** What a replay found. */
export interface ReplayDecodesReport {
  cases: number;
  decodes: number;
  ok: number;
  elapsedMs: number;
  /** Child mode: children that crashed, images refused for crashing a child alone, answers unlike a one-at-a-time decode. */
  childCrashes?: number;
  crashingImages?: number;
  mismatches?: number;
}

const LIMITS = { size: 224, maxImageBytes: 20 * 1024 * 1024, maxImagePixels: 50_000_000, maxImageFrames: 256 };

/**
 * Decodes fuzz cases `from..to` of run `seed` straight through the image decoder, `concurrency` at
 * a time, round after round: the way to chase a native crash that a fuzz run hit (cases are
 * regenerated from seed + index). On 2026-11-26 cases 5230-5300 of seed 20261126 at concurrency 4
 * made glibc abort on a corrupted heap inside libvips within seconds; at concurrency 1 never.
 */
export async function replayDecodes(o: ReplayDecodesOptions): Promise<ReplayDecodesReport> {
  const seeds = await makeFuzzSeeds();
  const cases = Array.from({ length: o.to - o.from + 1 }, (_, i) => fuzzCase(seeds, o.seed, o.from + i));
  let decoder: ImageDecoder;
  let pool: ProcessDecoder | undefined;
  const reference = new Map<number, string>();
  const answer = (p: Promise<{ format: string }>): Promise<string> => p.then((d) => `ok:${d.format}`, () => 'invalid');
  if (o.mode === 'child') {
    const single = createSharpDecoder(LIMITS);
    for (const c of cases) reference.set(c.index, await answer(single.decode(c.bytes)));
    decoder = pool = createProcessDecoder({ ...LIMITS, processes: 1, threadsPerProcess: o.concurrency });
  } else {
    decoder = createSharpDecoder(LIMITS);
  }
  const report: ReplayDecodesReport = { cases: cases.length, decodes: 0, ok: 0, elapsedMs: 0 };
  let mismatches = 0;
  const start = performance.now();
  try {
    for (let round = 0; round < o.rounds; round++) {
      const order = [...cases].sort(() => Math.random() - 0.5);
      let next = 0;
      await Promise.all(
        Array.from({ length: o.concurrency }, async () => {
          while (next < order.length) {
            const c = order[next++];
            const got = await answer(decoder.decode(c.bytes));
            report.decodes++;
            if (got !== 'invalid') report.ok++;
            if (pool && reference.get(c.index) !== got) mismatches++;
          }
        }),
      );
      if (round % 50 === 0) o.log?.(`replay: round ${round}, ${report.decodes} decodes in ${((performance.now() - start) / 1000).toFixed(1)} s`);
    }
  } finally {
    await pool?.close();
  }
  report.elapsedMs = performance.now() - start;
  if (pool) Object.assign(report, { childCrashes: pool.crashes, crashingImages: pool.crashingImages, mismatches });
  return report;
}
