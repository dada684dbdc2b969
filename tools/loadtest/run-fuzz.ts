import * as fs from 'node:fs';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { status } from '@grpc/grpc-js';
import { createRng } from '../../src/demo/index.js';
import { quantile } from '../../src/eval/percentiles.js';
import { type CallOutcome, codeName, compare, connectLoadClients, embed, search, upsert } from './grpc-calls.js';
import { type FuzzCase, fuzzCase, MUTATION_KINDS, type MutationKind } from './fuzz-mutate.js';
import { anchorImage, type FuzzSeed, makeFuzzSeeds } from './fuzz-seeds.js';
import { healthStatus } from './server-process.js';

/** The RPCs a fuzz case is sent through. */
export const FUZZ_RPCS = ['Embed', 'Search', 'Compare', 'UpsertItems'] as const;
export type FuzzRpc = (typeof FUZZ_RPCS)[number];

/** Options of {@link runFuzz}. */
export interface FuzzOptions {
  /** `127.0.0.1:<port>` of a running server with default image limits (or `maxImageBytes` below). */
  address: string;
  /** Cases to send. */
  count: number;
  /** Run seed: the same seed sends the same cases. */
  seed: number;
  /**
   * Calls in flight at once. Default 4: keeps the server busy on 2 cores while staying far below
   * its 64 images in progress, so RESOURCE_EXHAUSTED is never a legitimate answer.
   */
  concurrency?: number;
  /** Deadline of each call, in ms; a call still running then counts as a hang. Default 30,000. */
  deadlineMs?: number;
  /** Stop sending after this long, in ms (the report says so). Default 30 minutes. */
  maxDurationMs?: number;
  /** Stop after this many failures (a crashed server would otherwise fail every case). Default 25. */
  maxFailures?: number;
  /** The server's byte limit, for the over-limit cases. Default 20 MiB. */
  maxImageBytes?: number;
  /** Failing cases' bytes are written here as `case-<seed>-<index>.bin` when set. */
  failuresDir?: string;
  /** Called every `progressEvery` cases (default 1,000) with a one-line summary. */
  onProgress?: (line: string) => void;
  progressEvery?: number;
  /** Tests: the corpus to mutate. Default `makeFuzzSeeds()`. */
  seeds?: FuzzSeed[];
}

/** One case the server answered wrongly. */
export interface FuzzFailure {
  index: number;
  kind: MutationKind;
  seedName: string;
  detail: string;
  rpc: FuzzRpc;
  code: string;
  message: string;
  ms: number;
  /** Why it counts as a failure. */
  reason: string;
  /** Where its bytes were saved, if anywhere. */
  file?: string;
}

/** Counts of one kind of case. */
export interface KindCounts {
  ok: number;
  invalid: number;
  failed: number;
}

/** What a fuzz run found. */
export interface FuzzReport {
  seed: number;
  requested: number;
  /** Cases answered (less than requested when stopped early). */
  sent: number;
  elapsedMs: number;
  concurrency: number;
  /** Answers by status name (UpsertItems: the item's own status). */
  byCode: Record<string, number>;
  byKind: Record<MutationKind, KindCounts>;
  byRpc: Record<FuzzRpc, KindCounts>;
  /** Cases per seed file. */
  bySeed: Record<string, KindCounts>;
  latencyMs: { p50: number; p99: number; max: number };
  /** The slowest cases (near-hangs are worth a look even when answered). */
  slowest: { index: number; kind: MutationKind; seedName: string; detail: string; rpc: FuzzRpc; code: string; ms: number }[];
  failures: FuzzFailure[];
  /** Why sending stopped before `requested`, if it did. */
  stoppedEarly?: string;
  /** After the run: Health of the whole server. */
  healthAfter: string;
  /** After the run: whether Search with the anchor image found the anchor item first (score). */
  searchAfter: { ok: boolean; topItem: string; score: number; message: string };
}

const ANCHOR_ID = 'fuzz-anchor';

/** Checks an OK answer's content: finite numbers, a unit-length embedding of the model's size. */
function checkOk(rpc: FuzzRpc, response: unknown, dim: number): string | undefined {
  if (rpc === 'Embed') {
    const e = (response as { embedding: number[] }).embedding;
    if (e.length !== dim) return `embedding has ${e.length} values, expected ${dim}`;
    if (!e.every(Number.isFinite)) return 'embedding has non-finite values';
    const norm = Math.sqrt(e.reduce((s, v) => s + v * v, 0));
    if (Math.abs(norm - 1) > 1e-3) return `embedding norm ${norm}, expected 1`;
  } else if (rpc === 'Search') {
    const hits = (response as { hits: { score: number }[] }).hits;
    if (!hits.every((h) => Number.isFinite(h.score))) return 'a hit has a non-finite score';
  } else if (rpc === 'Compare') {
    const score = (response as { score: number }).score;
    if (!Number.isFinite(score) || Math.abs(score) > 1.001) return `score ${score} is not a cosine`;
  }
  return undefined;
}

/**
 * Sends `count` mutated images (see `fuzzCase`) through the real server: mostly Embed (decode and
 * model, nothing else), and Search, Compare (the case against the anchor item or a valid image,
 * on either side) and UpsertItems (the case as one item of a stream). Every answer must be OK or
 * INVALID_ARGUMENT with a message, intact accepted files must be OK, refused formats, empty and
 * over-limit files INVALID_ARGUMENT, OK answers must hold finite numbers, and no call may run
 * into its deadline. Afterwards the server must still say SERVING and find the anchor image.
 */
export async function runFuzz(options: FuzzOptions): Promise<FuzzReport> {
  const concurrency = options.concurrency ?? 4;
  const deadlineMs = options.deadlineMs ?? 30_000;
  const maxDurationMs = options.maxDurationMs ?? 30 * 60_000;
  const maxFailures = options.maxFailures ?? 25;
  const progressEvery = options.progressEvery ?? 1000;
  const seeds = options.seeds ?? (await makeFuzzSeeds());
  const valid = seeds.filter((s) => s.verdict === 'accepted');
  const clients = Array.from({ length: concurrency }, () => connectLoadClients(options.address));
  const anchor = await anchorImage();

  const zero = (): KindCounts => ({ ok: 0, invalid: 0, failed: 0 });
  const report: FuzzReport = {
    seed: options.seed,
    requested: options.count,
    sent: 0,
    elapsedMs: 0,
    concurrency,
    byCode: {},
    byKind: Object.fromEntries(MUTATION_KINDS.map((k) => [k, zero()])) as Record<MutationKind, KindCounts>,
    byRpc: Object.fromEntries(FUZZ_RPCS.map((k) => [k, zero()])) as Record<FuzzRpc, KindCounts>,
    bySeed: {},
    latencyMs: { p50: 0, p99: 0, max: 0 },
    slowest: [],
    failures: [],
    healthAfter: '',
    searchAfter: { ok: false, topItem: '', score: 0, message: '' },
  };
  const latencies: number[] = [];
  const slow: FuzzReport['slowest'] = [];
  try {
    const setup = await upsert(clients[0], [{ itemId: ANCHOR_ID, image: anchor, metadata: { role: 'anchor' } }], deadlineMs);
    if (setup.code !== status.OK || !setup.response?.outcomes[0]?.ok) {
      throw new Error(`could not store the anchor item: ${codeName(setup.code)} ${setup.details} ${JSON.stringify(setup.response?.outcomes[0]?.error ?? '')}`);
    }
    const dim = (await embed(clients[0], anchor, deadlineMs)).response?.embedding.length ?? 0;

    const start = performance.now();
    let next = 0;
    const send = async (c: FuzzCase, client: (typeof clients)[number]): Promise<{ rpc: FuzzRpc; outcome: CallOutcome<unknown> }> => {
      const rng = createRng(options.seed * 7919 + c.index);
      const r = rng();
      if (r < 0.7) return { rpc: 'Embed', outcome: await embed(client, c.bytes, deadlineMs) };
      if (r < 0.8) return { rpc: 'Search', outcome: await search(client, c.bytes, deadlineMs) };
      if (r < 0.9) {
        const other = rng() < 0.5 ? { itemId: ANCHOR_ID } : { image: valid[Math.floor(rng() * valid.length)].bytes };
        const [a, b] = rng() < 0.5 ? [{ image: c.bytes }, other] : [other, { image: c.bytes }];
        return { rpc: 'Compare', outcome: await compare(client, a, b, deadlineMs) };
      }
      const itemId = `fuzz-${options.seed}-${c.index}`;
      const res = await upsert(client, [{ itemId, image: c.bytes, metadata: { kind: c.kind, seed: c.seedName } }], deadlineMs);
      // The stream itself must succeed; the item's own outcome is the answer to the case.
      const item = res.response?.outcomes[0];
      if (res.code !== status.OK || !item) return { rpc: 'UpsertItems', outcome: { ...res, details: `stream: ${res.details}` } };
      return { rpc: 'UpsertItems', outcome: { code: item.ok ? status.OK : item.error!.code, details: item.error?.message ?? '', response: item, ms: res.ms } };
    };
    const judge = (c: FuzzCase, rpc: FuzzRpc, o: CallOutcome<unknown>, dim: number): string | undefined => {
      if (o.code === status.OK) {
        if (c.expect === 'invalid') return 'accepted a file that must be refused';
        return rpc === 'UpsertItems' ? undefined : checkOk(rpc, o.response, dim);
      }
      if (o.code === status.INVALID_ARGUMENT) {
        if (c.expect === 'ok') return 'refused an intact, valid file';
        if (!o.details || /internal error/i.test(o.details)) return 'INVALID_ARGUMENT without a useful message';
        return undefined;
      }
      if (o.code === status.DEADLINE_EXCEEDED) return `no answer within ${deadlineMs} ms (hang)`;
      return `status ${codeName(o.code)} is neither OK nor INVALID_ARGUMENT`;
    };
    const worker = async (client: (typeof clients)[number]): Promise<void> => {
      while (next < options.count) {
        if (report.failures.length >= maxFailures) {
          report.stoppedEarly ??= `${report.failures.length} failures`;
          return;
        }
        if (performance.now() - start > maxDurationMs) {
          report.stoppedEarly ??= `time limit of ${maxDurationMs} ms`;
          return;
        }
        const c = fuzzCase(seeds, options.seed, next++, { maxImageBytes: options.maxImageBytes });
        const { rpc, outcome } = await send(c, client);
        const code = codeName(outcome.code);
        const reason = judge(c, rpc, outcome, dim);
        report.sent++;
        report.byCode[code] = (report.byCode[code] ?? 0) + 1;
        const bucket: keyof KindCounts = reason ? 'failed' : outcome.code === status.OK ? 'ok' : 'invalid';
        report.byKind[c.kind][bucket]++;
        report.byRpc[rpc][bucket]++;
        (report.bySeed[c.seedName] ??= zero())[bucket]++;
        latencies.push(outcome.ms);
        slow.push({ index: c.index, kind: c.kind, seedName: c.seedName, detail: c.detail, rpc, code, ms: outcome.ms });
        if (slow.length > 50) slow.sort((x, y) => y.ms - x.ms).splice(10);
        if (reason) {
          const failure: FuzzFailure = { index: c.index, kind: c.kind, seedName: c.seedName, detail: c.detail, rpc, code, message: outcome.details, ms: outcome.ms, reason };
          if (options.failuresDir) {
            fs.mkdirSync(options.failuresDir, { recursive: true });
            failure.file = path.join(options.failuresDir, `case-${options.seed}-${c.index}.bin`);
            fs.writeFileSync(failure.file, c.bytes);
          }
          report.failures.push(failure);
        }
        if (options.onProgress && report.sent % progressEvery === 0) {
          const s = (performance.now() - start) / 1000;
          options.onProgress(
            `fuzz: ${report.sent}/${options.count} cases in ${s.toFixed(0)} s (${(report.sent / s).toFixed(0)}/s), ` +
              `${Object.entries(report.byCode).map(([k, v]) => `${k} ${v}`).join(', ')}, ${report.failures.length} failures`,
          );
        }
      }
    };
    await Promise.all(clients.map(worker));
    report.elapsedMs = performance.now() - start;
    report.latencyMs = { p50: quantile(latencies, 0.5), p99: quantile(latencies, 0.99), max: Math.max(0, ...latencies) };
    report.slowest = slow.sort((x, y) => y.ms - x.ms).slice(0, 5);

    report.healthAfter = await healthStatus(options.address, 5000);
    const after = await search(clients[0], anchor, deadlineMs, 3);
    const top = after.response?.hits[0];
    report.searchAfter = {
      ok: after.code === status.OK && top?.itemId === ANCHOR_ID && top.score > 0.99,
      topItem: top?.itemId ?? '',
      score: top?.score ?? Number.NaN,
      message: after.code === status.OK ? '' : `${codeName(after.code)}: ${after.details}`,
    };
    return report;
  } finally {
    clients.forEach((c) => c.close());
  }
}

/** The report as lines of text: totals, the table by kind, failures and the slowest cases. */
export function formatFuzzReport(r: FuzzReport): string {
  const lines: string[] = [];
  const pct = (n: number): string => `${((100 * n) / Math.max(1, r.sent)).toFixed(1)}%`;
  lines.push(
    `fuzz: ${r.sent} of ${r.requested} cases (seed ${r.seed}, ${r.concurrency} callers) in ${(r.elapsedMs / 1000).toFixed(1)} s` +
      ` (${(r.sent / (r.elapsedMs / 1000)).toFixed(0)} cases/s)${r.stoppedEarly ? `; STOPPED EARLY: ${r.stoppedEarly}` : ''}`,
  );
  lines.push(`answers: ${Object.entries(r.byCode).map(([k, v]) => `${k} ${v} (${pct(v)})`).join(', ')}`);
  lines.push(`latency: p50 ${r.latencyMs.p50.toFixed(1)} ms, p99 ${r.latencyMs.p99.toFixed(1)} ms, max ${r.latencyMs.max.toFixed(0)} ms`);
  lines.push('', 'by mutation          cases      ok  invalid  failed');
  for (const [k, c] of Object.entries(r.byKind)) {
    const n = c.ok + c.invalid + c.failed;
    if (n) lines.push(`${k.padEnd(18)} ${String(n).padStart(7)} ${String(c.ok).padStart(7)} ${String(c.invalid).padStart(8)} ${String(c.failed).padStart(7)}`);
  }
  lines.push('', 'by rpc               cases      ok  invalid  failed');
  for (const [k, c] of Object.entries(r.byRpc)) {
    lines.push(`${k.padEnd(18)} ${String(c.ok + c.invalid + c.failed).padStart(7)} ${String(c.ok).padStart(7)} ${String(c.invalid).padStart(8)} ${String(c.failed).padStart(7)}`);
  }
  lines.push('', `slowest: ${r.slowest.map((s) => `#${s.index} ${s.kind} ${s.seedName} via ${s.rpc} ${s.code} ${s.ms.toFixed(0)} ms (${s.detail})`).join('; ')}`);
  lines.push(`after the run: health ${r.healthAfter}; search for the anchor: ${r.searchAfter.ok ? 'found first' : 'WRONG'} (${r.searchAfter.topItem} ${r.searchAfter.score.toFixed(4)}${r.searchAfter.message ? `, ${r.searchAfter.message}` : ''})`);
  lines.push(`failures: ${r.failures.length}`);
  for (const f of r.failures.slice(0, 20)) {
    lines.push(`  #${f.index} ${f.kind} of ${f.seedName} (${f.detail}) via ${f.rpc}: ${f.code} '${f.message}' after ${f.ms.toFixed(0)} ms: ${f.reason}${f.file ? ` [${f.file}]` : ''}`);
  }
  return lines.join('\n');
}
