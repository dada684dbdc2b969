import { performance } from 'node:perf_hooks';
import { status } from '@grpc/grpc-js';
import { quantile } from '../../src/eval/percentiles.js';
import { createRng, type Rng } from '../../src/demo/index.js';
import { type CallOutcome, codeName, compare, connectLoadClients, type LoadClients, search, upsert } from './grpc-calls.js';
import type { LoadImages } from './load-images.js';
import type { HeapMemory } from './server-process.js';
import { setTimeout as sleep } from 'node:timers/promises';

/** The RPCs of the load mix. */
export const LOAD_RPCS = ['Search', 'Compare', 'UpsertItems'] as const;
export type LoadRpc = (typeof LOAD_RPCS)[number];

/** Shares of the mix (they need not sum to 1; they are normalised). */
export interface LoadMix {
  search: number;
  compare: number;
  upsert: number;
}

/** An item the server acknowledged: its UpsertItems call returned OK with this item's outcome ok. */
export interface AcknowledgedItem {
  itemId: string;
  metadata: Record<string, string>;
}

/** Options of {@link runLoad}. */
export interface LoadOptions {
  /** `127.0.0.1:<port>` of a running server whose catalog holds `images.catalog`. */
  address: string;
  images: LoadImages;
  /** Concurrent clients, each on a connection of its own and waiting for each answer (closed loop). Default 64. */
  clients?: number;
  /** How long clients start new calls, in ms. Default 300,000 (5 minutes). */
  durationMs?: number;
  /** Most calls started in all; the run stops earlier when reached. Default 1,000,000. */
  maxRequests?: number;
  /** Default Search 0.6, Compare 0.2, UpsertItems 0.2. */
  mix?: LoadMix;
  /** Deadline of each call, in ms: also bounds the run to `durationMs + deadlineMs`. Default 30,000. */
  deadlineMs?: number;
  /**
   * Ids of uploaded items: `unique` (every upload a new item, e.g. `load-c07-000012`) or the size of
   * a pool of ids (`load-0000`..) reused at random, so the catalog stops growing once the pool is
   * full and memory can be compared over time. Default 500.
   */
  upsertIds?: 'unique' | number;
  /** Seconds between memory samples, in ms. Default 5,000. */
  sampleEveryMs?: number;
  /** The server's resident memory in bytes, read at each sample (e.g. ServerProcess.rssBytes). */
  rssBytes?: () => number;
  /** The server's V8 heap and external memory, read at each sample when given (e.g. from its /metrics). */
  heapMemory?: () => Promise<HeapMemory | undefined>;
  /** The sample compared with the end for the leak bar, in ms after the start. Default 60,000 (at most half the duration). */
  rssBaselineMs?: number;
  /** Most random back-off after RESOURCE_EXHAUSTED, in ms. Default 100. */
  backoffMaxMs?: number;
  /** Default 1. */
  seed?: number;
  /** Runs `run` once, `atMs` after the start (e.g. SIGTERM to the server). */
  event?: { atMs: number; run: () => void };
  /**
   * True once the server was told to shut down: from then on UNAVAILABLE and CANCELLED answers are
   * expected (counted apart, not as errors), and a client stops at its first UNAVAILABLE.
   */
  isShuttingDown?: () => boolean;
  /** Called for every acknowledged item. */
  onAck?: (item: AcknowledgedItem) => void;
  /** Progress lines (one per memory sample). */
  log?: (line: string) => void;
}

/** Answers of one RPC (or all): calls by status, and latencies. */
export interface RpcStats {
  /** Calls answered (a retried operation counts each attempt). */
  count: number;
  byCode: Record<string, number>;
  /** Latency of the calls answered OK, in ms: the server's time once it took the work. */
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** Operations completed OK: a first call plus its retries after RESOURCE_EXHAUSTED. */
  operations: number;
  /** Latency of those operations, first call to OK answer, back-off included, in ms: what a caller waits. */
  opP50Ms: number;
  opP99Ms: number;
}

/** One memory sample of the server. */
export interface RssSample {
  /** Seconds since the start. */
  tS: number;
  rssMB: number;
  /** Calls answered so far. */
  answered: number;
  /** Catalog items (seeded plus distinct acknowledged uploads). */
  catalogItems: number;
  /** V8 heap and external memory at about the same time, when known. */
  heap?: HeapMemory;
}

/** What a load run measured. */
export interface LoadReport {
  clients: number;
  durationMs: number;
  /** From the start to the last answer, in ms. */
  elapsedMs: number;
  /** Calls answered. */
  answered: number;
  byRpc: Record<LoadRpc, RpcStats>;
  overall: RpcStats;
  /** OK answers per second over `elapsedMs`. */
  okPerS: number;
  resourceExhausted: number;
  /** Answers other than OK and RESOURCE_EXHAUSTED (and, once shutting down, UNAVAILABLE and CANCELLED). */
  errors: number;
  /** The first few errors, as `RPC CODE: message`. */
  errorSamples: string[];
  /** UNAVAILABLE or CANCELLED answers after the server was told to shut down. */
  shutdownRefusals: number;
  itemsAcknowledged: number;
  uploadedItems: number;
  rssSamples: RssSample[];
  /** Resident memory at `rssBaselineMs` and at the end, and the change between them in percent. */
  rssBaselineMB: number;
  rssBaselineAtS: number;
  rssEndMB: number;
  rssChangePct: number;
  stoppedBy: 'duration' | 'max-requests' | 'shutdown';
}


function statsOf(outcomes: { code: status; ms: number }[], opMs: number[]): RpcStats {
  const byCode: Record<string, number> = {};
  for (const o of outcomes) byCode[codeName(o.code)] = (byCode[codeName(o.code)] ?? 0) + 1;
  const ok = outcomes.filter((o) => o.code === status.OK).map((o) => o.ms);
  return {
    count: outcomes.length,
    byCode,
    p50Ms: quantile(ok, 0.5),
    p99Ms: quantile(ok, 0.99),
    maxMs: ok.length ? Math.max(...ok) : Number.NaN,
    operations: opMs.length,
    opP50Ms: quantile(opMs, 0.5),
    opP99Ms: quantile(opMs, 0.99),
  };
}

/**
 * Closed-loop load: `clients` clients, each on its own connection, send Search, Compare (a photo
 * against a catalog item or another photo) and UpsertItems (1 to 4 new photos) in the given mix,
 * each waiting for its answer before the next call, for `durationMs` or `maxRequests` calls.
 * RESOURCE_EXHAUSTED is a deliberate answer of a full server: the client backs off a little and
 * goes on. Every other non-OK answer is an error. The server's memory is sampled as it goes.
 */
export async function runLoad(options: LoadOptions): Promise<LoadReport> {
  const clientCount = options.clients ?? 64;
  const durationMs = options.durationMs ?? 300_000;
  const maxRequests = options.maxRequests ?? 1_000_000;
  const deadlineMs = options.deadlineMs ?? 30_000;
  const upsertIds = options.upsertIds ?? 500;
  const sampleEveryMs = options.sampleEveryMs ?? 5000;
  const rssBaselineMs = Math.min(options.rssBaselineMs ?? 60_000, durationMs / 2);
  const backoffMaxMs = options.backoffMaxMs ?? 100;
  const mix = options.mix ?? { search: 0.6, compare: 0.2, upsert: 0.2 };
  const mixTotal = mix.search + mix.compare + mix.upsert;
  const { images } = options;
  if (images.queries.length === 0 || images.uploads.length === 0 || images.catalog.length === 0) {
    throw new RangeError('runLoad: images need catalog items, queries and uploads');
  }
  const shuttingDown = options.isShuttingDown ?? (() => false);

  const outcomes: Record<LoadRpc, { code: status; ms: number }[]> = { Search: [], Compare: [], UpsertItems: [] };
  const operations: Record<LoadRpc, number[]> = { Search: [], Compare: [], UpsertItems: [] };
  const report = {
    resourceExhausted: 0,
    errors: 0,
    errorSamples: [] as string[],
    shutdownRefusals: 0,
    itemsAcknowledged: 0,
    uploadedItems: 0,
  };
  const ackedIds = new Set<string>();
  const samples: RssSample[] = [];
  let started = 0;
  let answered = 0;
  let stoppedBy: LoadReport['stoppedBy'] = 'duration';
  const clients: LoadClients[] = Array.from({ length: clientCount }, () => connectLoadClients(options.address));
  const start = performance.now();
  const elapsed = (): number => performance.now() - start;
  const sample = (): RssSample => {
    const s: RssSample = {
      tS: Math.round(elapsed() / 100) / 10,
      rssMB: (options.rssBytes?.() ?? Number.NaN) / 1e6,
      answered,
      catalogItems: images.catalog.length + ackedIds.size,
    };
    samples.push(s);
    void options.heapMemory?.().then((h) => (s.heap = h));
    options.log?.(`load: ${s.tS.toFixed(0)} s, ${answered} answered, server RSS ${s.rssMB.toFixed(0)} MB, catalog ${s.catalogItems} items, ${report.errors} errors`);
    return s;
  };
  sample();
  const sampler = setInterval(sample, sampleEveryMs);
  const event = options.event ? setTimeout(options.event.run, options.event.atMs) : undefined;

  /** The client's next operation: which RPC, and a function that makes one call of it (again after a refusal). */
  const nextOperation = (c: LoadClients, rng: Rng, clientIndex: number, seq: number): { rpc: LoadRpc; call: () => Promise<CallOutcome<unknown>> } => {
    const r = rng() * mixTotal;
    const query = images.queries[Math.floor(rng() * images.queries.length)];
    if (r < mix.search) return { rpc: 'Search', call: () => search(c, query, deadlineMs) };
    if (r < mix.search + mix.compare) {
      const other =
        rng() < 0.5
          ? { itemId: images.catalog[Math.floor(rng() * images.catalog.length)].itemId }
          : { image: images.queries[Math.floor(rng() * images.queries.length)] };
      return { rpc: 'Compare', call: () => compare(c, { image: query }, other, deadlineMs) };
    }
    const n = 1 + Math.floor(rng() * 4);
    const items = Array.from({ length: n }, (_, k) => {
      const itemId =
        upsertIds === 'unique'
          ? `load-c${String(clientIndex).padStart(2, '0')}-${String(seq).padStart(6, '0')}-${k}`
          : `load-${String(Math.floor(rng() * upsertIds)).padStart(4, '0')}`;
      const metadata = { writer: `c${clientIndex}`, seq: String(seq), part: String(k), category: 'watch' };
      return { itemId, image: images.uploads[Math.floor(rng() * images.uploads.length)], metadata };
    });
    return {
      rpc: 'UpsertItems',
      call: async () => {
        report.uploadedItems += n;
        const outcome = await upsert(c, items, deadlineMs);
        if (outcome.code !== status.OK || !outcome.response) return outcome;
        outcome.response.outcomes.forEach((o, i) => {
          if (!o.ok) return;
          report.itemsAcknowledged++;
          ackedIds.add(o.itemId);
          options.onAck?.({ itemId: items[i].itemId, metadata: items[i].metadata });
        });
        // An item that failed inside an OK stream is an error too (nothing here should fail).
        const failed = outcome.response.outcomes.find((o) => !o.ok);
        return failed ? { code: failed.error?.code ?? status.UNKNOWN, details: `item ${failed.itemId}: ${failed.error?.message}`, ms: outcome.ms } : outcome;
      },
    };
  };

  /** One client: operations back to back; an operation refused with RESOURCE_EXHAUSTED is retried after a random back-off. */
  const client = async (c: LoadClients, clientIndex: number): Promise<void> => {
    const rng = createRng((options.seed ?? 1) * 1009 + clientIndex);
    for (let seq = 0; ; seq++) {
      if (elapsed() >= durationMs) return;
      const { rpc, call } = nextOperation(c, rng, clientIndex, seq);
      const opStart = performance.now();
      for (;;) {
        if (started >= maxRequests) {
          stoppedBy = 'max-requests';
          return;
        }
        started++;
        const outcome = await call();
        answered++;
        outcomes[rpc].push({ code: outcome.code, ms: outcome.ms });
        if (outcome.code === status.OK) {
          operations[rpc].push(performance.now() - opStart);
          break;
        }
        if (outcome.code === status.RESOURCE_EXHAUSTED) {
          report.resourceExhausted++;
          // Past the duration an operation is given up rather than retried: the run is bounded.
          if (elapsed() >= durationMs) return;
          await sleep(10 + rng() * backoffMaxMs);
          continue;
        }
        if (shuttingDown() && (outcome.code === status.UNAVAILABLE || outcome.code === status.CANCELLED)) {
          report.shutdownRefusals++;
          stoppedBy = 'shutdown';
          if (outcome.code === status.UNAVAILABLE) return;
          break;
        }
        report.errors++;
        if (report.errorSamples.length < 10) report.errorSamples.push(`${rpc} ${codeName(outcome.code)}: ${outcome.details}`);
        break;
      }
    }
  };

  try {
    await Promise.all(clients.map(client));
  } finally {
    clearInterval(sampler);
    if (event) clearTimeout(event);
    clients.forEach((c) => c.close());
  }
  const elapsedMs = elapsed();
  const end = sample();
  if (options.heapMemory) end.heap = await options.heapMemory();
  const baseline = samples.find((s) => s.tS * 1000 >= rssBaselineMs) ?? end;
  const overall = statsOf(
    [...outcomes.Search, ...outcomes.Compare, ...outcomes.UpsertItems],
    [...operations.Search, ...operations.Compare, ...operations.UpsertItems],
  );
  return {
    clients: clientCount,
    durationMs,
    elapsedMs,
    answered,
    byRpc: {
      Search: statsOf(outcomes.Search, operations.Search),
      Compare: statsOf(outcomes.Compare, operations.Compare),
      UpsertItems: statsOf(outcomes.UpsertItems, operations.UpsertItems),
    },
    overall,
    okPerS: (overall.byCode.OK ?? 0) / (elapsedMs / 1000),
    ...report,
    rssSamples: samples,
    rssBaselineMB: baseline.rssMB,
    rssBaselineAtS: baseline.tS,
    rssEndMB: end.rssMB,
    rssChangePct: (100 * (end.rssMB - baseline.rssMB)) / baseline.rssMB,
    stoppedBy,
  };
}

/** The report as text: calls by RPC and status, latency, throughput, the memory table and the bars. */
export function formatLoadReport(r: LoadReport): string {
  const lines: string[] = [];
  const codes = [...new Set(Object.values(r.byRpc).flatMap((s) => Object.keys(s.byCode)))].sort();
  lines.push(
    `load: ${r.clients} clients for ${(r.durationMs / 1000).toFixed(0)} s (stopped by ${r.stoppedBy}), ${r.answered} calls answered in ${(r.elapsedMs / 1000).toFixed(1)} s, ${r.okPerS.toFixed(1)} OK/s`,
  );
  const w = (c: string): number => Math.max(8, c.length);
  lines.push(
    '',
    `${'rpc'.padEnd(12)} ${'calls'.padStart(7)} ${codes.map((c) => c.padStart(w(c))).join(' ')}  call p50  call p99  call max │ ${'ops'.padStart(6)}  op p50  op p99`,
  );
  const ms = (x: number): string => (Number.isFinite(x) ? x.toFixed(0) : '-');
  const row = (name: string, s: RpcStats): string =>
    `${name.padEnd(12)} ${String(s.count).padStart(7)} ${codes.map((c) => String(s.byCode[c] ?? 0).padStart(w(c))).join(' ')} ${ms(s.p50Ms).padStart(9)} ${ms(s.p99Ms).padStart(9)} ${ms(s.maxMs).padStart(9)} │ ${String(s.operations).padStart(6)} ${ms(s.opP50Ms).padStart(7)} ${ms(s.opP99Ms).padStart(7)}`;
  for (const [name, s] of Object.entries(r.byRpc)) lines.push(row(name, s));
  lines.push(row('all', r.overall));
  lines.push(
    '(ms; call: one call answered OK, the server\'s time once it took the work; op: an operation from its first call to its OK answer,',
    ' retries after RESOURCE_EXHAUSTED and their 10-110 ms back-off included, i.e. what a client waits. Uploads wait inside the server instead of being refused.)',
  );
  lines.push('', '   t (s)  RSS (MB)  heap used  external  answered  catalog');
  const mb = (x: number | undefined): string => (x === undefined || !Number.isFinite(x) ? '-' : x.toFixed(0));
  for (const s of r.rssSamples) {
    lines.push(
      `${s.tS.toFixed(0).padStart(8)} ${mb(s.rssMB).padStart(9)} ${mb(s.heap?.heapUsedMB).padStart(10)} ${mb(s.heap?.externalMB).padStart(9)} ${String(s.answered).padStart(9)} ${String(s.catalogItems).padStart(8)}`,
    );
  }
  lines.push(
    '',
    `memory: RSS ${r.rssBaselineMB.toFixed(0)} MB at ${r.rssBaselineAtS.toFixed(0)} s, ${r.rssEndMB.toFixed(0)} MB at the end: ${r.rssChangePct >= 0 ? '+' : ''}${r.rssChangePct.toFixed(1)}% (bar: within 10%) ${Math.abs(r.rssChangePct) <= 10 ? 'PASS' : 'FAIL'}`,
  );
  lines.push(`errors (other than RESOURCE_EXHAUSTED): ${r.errors} (bar: 0) ${r.errors === 0 ? 'PASS' : 'FAIL'}${r.errorSamples.length ? `: ${r.errorSamples.join('; ')}` : ''}`);
  lines.push(`RESOURCE_EXHAUSTED: ${r.resourceExhausted}; uploads: ${r.uploadedItems} items sent, ${r.itemsAcknowledged} acknowledged`);
  if (r.shutdownRefusals) lines.push(`refused while shutting down (UNAVAILABLE/CANCELLED): ${r.shutdownRefusals}`);
  return lines.join('\n');
}
