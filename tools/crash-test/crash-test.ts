import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as readline from 'node:readline';
import { Catalog } from '../../src/store/catalog/catalog.js';
import { DIST_DIR } from '../../src/config/index.js';
import { mulberry32 } from '../../src/simulate/random.js';
import type { RestoreReport } from '../../src/store/vector-index/index-snapshot.js';

/** What `twinlens-dev crash-test` runs. */
export interface CrashTestOptions {
  /** Items ingested in all (acknowledged ones across rounds). Default 100,000. */
  items: number;
  /** Kill -9 rounds. Default 20. */
  rounds: number;
  /** Items per catalog.upsert call (one LanceDB commit). Default 256. */
  batch: number;
  dim: number;
  /** Longest run of a round before its kill, in ms (each kill lands uniformly in [200 ms, this]). */
  maxRunMs: number;
  /** Graph from this many items (the service default is 50,000; lower exercises the graph sooner). */
  annMinItems: number;
  /** Graph snapshot interval inside the child, in ms (short, so kills land during saves too). */
  snapshotIntervalMs: number;
  seed: number;
  dataDir?: string;
  log: (line: string) => void;
}

export interface CrashRound {
  round: number;
  killedAfterMs: number;
  ackedBefore: number;
  ackedAfter: number;
  restore: RestoreReport | null;
  openMs: number;
  missing: number;
}

export interface CrashTestReport {
  items: number;
  rounds: CrashRound[];
  finalCount: number;
  finalMissing: number;
  snapshotsLoaded: number;
  snapshotsRejected: number;
  passed: boolean;
}

/** The vector of item `i`: one of 500 cluster centres plus noise, deterministic, unit length. */
export function crashVector(i: number, dim: number, seed: number): Float32Array {
  // Uniform in [-0.5, 0.5).
  const rng = (s: number): (() => number) => {
    const u = mulberry32(s);
    return () => u() - 0.5;
  };
  const centre = rng(seed * 7919 + (i % 500));
  const noise = rng(seed * 104729 + 1_000_003 * (i + 1));
  const v = new Float32Array(dim);
  let s = 0;
  for (let j = 0; j < dim; j++) {
    v[j] = centre() + 0.5 * noise();
    s += v[j] * v[j];
  }
  const inv = 1 / Math.sqrt(s);
  for (let j = 0; j < dim; j++) v[j] *= inv;
  return v;
}

export const crashItemId = (i: number): string => `crash-${String(i).padStart(7, '0')}`;

/** Sixteen small distinct "images" (the crash test ingests precomputed vectors; see README). */
const imageOf = (i: number): Uint8Array => Buffer.from(`twinlens-dev crash-test image ${i % 16}`);

/**
 * The child: opens the catalog (restoring the graph snapshot or rebuilding it), checks that items
 * 0..`verifyUpTo` are there, reports on stdout, then ingests from `from` to `to` in batches,
 * printing `ack N` after each commit returns (N = items 0..N-1 acknowledged).
 */
export async function crashChild(o: { dataDir: string; from: number; to: number; verifyUpTo: number } & Omit<CrashTestOptions, 'log' | 'rounds' | 'items' | 'maxRunMs'>): Promise<void> {
  const out = (line: string): boolean => process.stdout.write(`${line}\n`);
  const start = Date.now();
  let restore: RestoreReport | null = null;
  const { catalog } = await Catalog.open(o.dataDir, o.dim, 'crash-v1', 0, {
    kind: 'auto',
    annMinItems: o.annMinItems,
    snapshotIntervalMs: o.snapshotIntervalMs,
    hnsw: { threads: 1 },
    onRestore: (r) => (restore = r),
  });
  await catalog.graphReady();
  const openMs = Date.now() - start;
  let missing = 0;
  for (let i = 0; i < o.verifyUpTo; i++) if (!catalog.has(crashItemId(i))) missing++;
  // Searchable too: a sample of acknowledged items must find themselves first.
  for (let i = 0; i < o.verifyUpTo; i += Math.max(1, Math.floor(o.verifyUpTo / 200))) {
    const top = catalog.search(crashVector(i, o.dim, o.seed), 1).hits[0];
    if (top?.itemId !== crashItemId(i)) missing++;
  }
  out(`open ${JSON.stringify({ restore, openMs, missing, count: catalog.size, kind: catalog.indexKind })}`);
  for (let i = o.from; i < o.to; i += o.batch) {
    const items = [];
    for (let j = i; j < Math.min(o.to, i + o.batch); j++) {
      items.push({ itemId: crashItemId(j), metadata: { n: String(j % 10) }, image: imageOf(j), embedding: crashVector(j, o.dim, o.seed) });
    }
    await catalog.upsert(items);
    out(`ack ${Math.min(o.to, i + o.batch)}`);
  }
  await catalog.saveIndex();
  catalog.close();
  out('done');
}

function startChild(args: string[]): { child: ChildProcess; lines: AsyncIterableIterator<string> } {
  // The built tools entry (tests run the sources under ts-jest, children the build: see test/tools/loadtest/build-check.ts).
  const main = path.join(DIST_DIR, 'tools', 'dev.js');
  const child = spawn(process.execPath, [main, 'crash-test-child', ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  const lines = readline.createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  return { child, lines };
}

/**
 * kill -9 at random points during a bulk ingest, `rounds` times: each round a child process opens
 * the catalog (verifying every item acknowledged so far and that the graph loaded or was rebuilt),
 * ingests, and is killed after a random time. A last child verifies the end state.
 */
export async function runCrashTest(o: CrashTestOptions): Promise<CrashTestReport> {
  const dataDir = o.dataDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'twinlens-crash-'));
  let acked = 0;
  const rounds: CrashRound[] = [];
  let seed = o.seed >>> 0;
  const random = (): number => {
    seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
    return seed / 4294967296;
  };
  const common = ['--data', dataDir, '--dim', String(o.dim), '--batch', String(o.batch), '--ann-min-items', String(o.annMinItems), '--snapshot-interval-ms', String(o.snapshotIntervalMs), '--seed', String(o.seed)];
  // One child: opens (verifying items 0..acked-1), ingests acked..to, printing acks; killed after
  // `killAfterMs` from its open line, or run to the end when undefined.
  const runChild = async (r: number, to: number, killAfterMs?: number): Promise<void> => {
    const { child, lines } = startChild([...common, '--from', String(acked), '--to', String(to), '--verify-up-to', String(acked)]);
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    const openLine = await lines.next();
    if (openLine.done || !String(openLine.value).startsWith('open ')) throw new Error(`round ${r}: the child did not open the catalog`);
    const opened = JSON.parse(String(openLine.value).slice(5));
    const round: CrashRound = { round: r, killedAfterMs: killAfterMs ?? 0, ackedBefore: acked, ackedAfter: acked, restore: opened.restore, openMs: opened.openMs, missing: opened.missing };
    const timer = killAfterMs === undefined ? undefined : setTimeout(() => child.kill('SIGKILL'), killAfterMs);
    for (;;) {
      const next = await lines.next();
      if (next.done) break;
      const m = /^ack (\d+)$/.exec(String(next.value));
      if (m) acked = Number(m[1]);
    }
    clearTimeout(timer);
    await exited;
    round.ackedAfter = acked;
    rounds.push(round);
    const rs = opened.restore as RestoreReport | null;
    o.log(
      `round ${String(r).padStart(2)}: opened ${opened.count} items (${opened.kind}) in ${opened.openMs} ms, ` +
        `snapshot ${rs ? (rs.loaded ? `loaded, ${rs.reconciled} reconciled` : `not used: ${rs.reason}`) : 'n/a (exact)'}; ` +
        `missing ${opened.missing} of ${round.ackedBefore} acknowledged; ` +
        (killAfterMs === undefined ? `ran to the end: ${acked} acknowledged` : `killed ${round.killedAfterMs} ms after opening, ${acked} acknowledged`),
    );
  };
  for (let r = 0; r < o.rounds; r++) await runChild(r, o.items, Math.round(200 + random() * (o.maxRunMs - 200)));
  // Finish the ingest unkilled (if the kills left some), then a last open verifies everything.
  if (acked < o.items) await runChild(o.rounds, o.items);
  await runChild(o.rounds + 1, acked);
  const final = rounds[rounds.length - 1];
  // Every open after the first followed a kill (or a clean end).
  const crashRounds = rounds.slice(1);
  const report: CrashTestReport = {
    items: acked,
    rounds,
    finalCount: final.ackedBefore,
    finalMissing: rounds.reduce((s, r) => s + r.missing, 0),
    snapshotsLoaded: crashRounds.filter((r) => r.restore?.loaded).length,
    snapshotsRejected: crashRounds.filter((r) => r.restore && !r.restore.loaded && r.restore.reason !== 'no snapshot').length,
    passed: rounds.every((r) => r.missing === 0) && crashRounds.every((r) => !r.restore || r.restore.loaded || r.restore.reason === 'no snapshot'),
  };
  if (!o.dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
  return report;
}
