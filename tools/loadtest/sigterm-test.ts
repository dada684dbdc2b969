import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { status } from '@grpc/grpc-js';
import { connectLoadClients, getItem } from './grpc-calls.js';
import type { LoadImages } from './load-images.js';
import { type AcknowledgedItem, type LoadMix, type LoadReport, runLoad } from './run-load.js';
import { seedCatalog } from './seed-catalog.js';
import { type ProcessExit, startServerProcess } from './server-process.js';

/** Options of {@link runSigtermTest}. */
export interface SigtermTestOptions {
  /** A fresh folder: the catalog goes in `<workDir>/data`, server logs next to it. */
  workDir: string;
  images: LoadImages;
  /** Default 16. */
  clients?: number;
  /** Load duration, in ms. Default 20,000. */
  durationMs?: number;
  /**
   * When SIGTERM is sent, in ms after the load starts. Default 10,000. It waits on past that until
   * `minAcknowledgedBeforeSigterm` items are acknowledged, so a slow machine still tests something.
   */
  sigtermAtMs?: number;
  /** Items acknowledged before SIGTERM is sent, at least. Default 1. */
  minAcknowledgedBeforeSigterm?: number;
  /** Default Search 0.4, Compare 0.2, UpsertItems 0.4 (writes are what this checks). */
  mix?: LoadMix;
  /** The server's shutdown grace (TWINLENS_SHUTDOWN_GRACE_MS), in ms. Default 10,000 (the server's default). */
  shutdownGraceMs?: number;
  log?: (line: string) => void;
}

/** What the SIGTERM test found. */
export interface SigtermReport {
  load: LoadReport;
  /** Items acknowledged before and during shutdown. */
  acknowledged: number;
  /** Of them, acknowledged after SIGTERM was sent (calls in flight that the shutdown let finish). */
  acknowledgedAfterSigterm: number;
  exit: ProcessExit;
  /** From SIGTERM to the process exit, in ms. */
  exitAfterMs: number;
  shutdownGraceMs: number;
  /** Catalog size after the restart. */
  itemsAfterRestart: number;
  /** Acknowledged ids GetItem could not find after the restart. */
  missing: string[];
  /** Acknowledged ids whose stored metadata differ from what was sent. */
  wrongMetadata: string[];
}

/**
 * SIGTERM under load: starts the server as a child process, seeds the catalog, runs a load whose
 * uploads all use new item ids, sends SIGTERM in the middle and records every item the server
 * acknowledged; checks the exit (code 0 within the grace), restarts the server on the same data
 * directory and looks every acknowledged item up (GetItem) with its metadata.
 */
export async function runSigtermTest(options: SigtermTestOptions): Promise<SigtermReport> {
  const dataDir = path.join(options.workDir, 'data');
  const shutdownGraceMs = options.shutdownGraceMs ?? 10_000;
  const env = { TWINLENS_SHUTDOWN_GRACE_MS: String(shutdownGraceMs) };
  const server = await startServerProcess({ dataDir, env });
  const acked = new Map<string, AcknowledgedItem>();
  let sigtermAt: number | undefined;
  let sigtermDue = false;
  let ackedAfterSigterm = 0;
  let load: LoadReport;
  const minAcked = options.minAcknowledgedBeforeSigterm ?? 1;
  const sendSigterm = (): void => {
    sigtermAt = performance.now();
    options.log?.(`sigterm: SIGTERM to server pid ${server.pid} (${acked.size} items acknowledged so far)`);
    process.kill(server.pid, 'SIGTERM');
  };
  try {
    await seedCatalog(server.address, options.images.catalog);
    load = await runLoad({
      address: server.address,
      images: options.images,
      clients: options.clients ?? 16,
      durationMs: options.durationMs ?? 20_000,
      mix: options.mix ?? { search: 0.4, compare: 0.2, upsert: 0.4 },
      upsertIds: 'unique',
      rssBytes: server.rssBytes,
      event: {
        atMs: options.sigtermAtMs ?? 10_000,
        run: () => {
          if (acked.size >= minAcked) sendSigterm();
          else sigtermDue = true; // sent by onAck once enough items are acknowledged
        },
      },
      isShuttingDown: () => sigtermAt !== undefined,
      onAck: (item) => {
        acked.set(item.itemId, item);
        if (sigtermAt !== undefined) ackedAfterSigterm++;
        else if (sigtermDue && acked.size >= minAcked) sendSigterm();
      },
      log: options.log,
    });
  } catch (e) {
    await server.stop('SIGKILL');
    throw e;
  }
  // The grace is the server's bound for running calls; flushing and closing come on top.
  const killAfter = setTimeout(() => process.kill(server.pid, 'SIGKILL'), shutdownGraceMs + 30_000);
  const exit = await server.exited;
  clearTimeout(killAfter);
  const exitAfterMs = sigtermAt === undefined ? Number.NaN : performance.now() - sigtermAt;
  options.log?.(`sigterm: server exited with code ${exit.code} signal ${exit.signal} ${exitAfterMs.toFixed(0)} ms after SIGTERM; restarting on the same data`);

  const again = await startServerProcess({ dataDir, env });
  const missing: string[] = [];
  const wrongMetadata: string[] = [];
  let itemsAfterRestart = 0;
  const c = connectLoadClients(again.address);
  try {
    const queue = [...acked.values()];
    const worker = async (): Promise<void> => {
      for (let item = queue.pop(); item; item = queue.pop()) {
        const res = await getItem(c, item.itemId, 30_000);
        if (res.code === status.NOT_FOUND) missing.push(item.itemId);
        else if (res.code !== status.OK) throw new Error(`GetItem ${item.itemId}: ${res.code} ${res.details}`);
        else if (JSON.stringify(sorted(res.response!.item!.metadata)) !== JSON.stringify(sorted(item.metadata))) wrongMetadata.push(item.itemId);
      }
    };
    await Promise.all(Array.from({ length: 8 }, worker));
    const stats = await new Promise<number>((resolve, reject) =>
      c.catalog.getCatalogStats({}, (e, r) => (e ? reject(e) : resolve(r.itemCount))),
    );
    itemsAfterRestart = stats;
  } finally {
    c.close();
    await again.stop();
  }
  return {
    load: load!,
    acknowledged: acked.size,
    acknowledgedAfterSigterm: ackedAfterSigterm,
    exit,
    exitAfterMs,
    shutdownGraceMs,
    itemsAfterRestart,
    missing,
    wrongMetadata,
  };
}

function sorted(m: Record<string, string>): [string, string][] {
  return Object.entries(m).sort(([a], [b]) => (a < b ? -1 : 1));
}

/** One paragraph: acknowledged writes, the exit and what the restart found. */
export function formatSigtermReport(r: SigtermReport): string {
  const pass = r.acknowledged > 0 && r.exit.code === 0 && r.exitAfterMs <= r.shutdownGraceMs + 5000 && r.missing.length === 0 && r.wrongMetadata.length === 0;
  return [
    `sigterm: ${r.acknowledged} items acknowledged (${r.acknowledgedAfterSigterm} of them after SIGTERM), ${r.load.itemsAcknowledged} ok outcomes, ${r.load.shutdownRefusals} calls refused while shutting down, ${r.load.errors} other errors`,
    `sigterm: exit code ${r.exit.code}${r.exit.signal ? ` signal ${r.exit.signal}` : ''} ${r.exitAfterMs.toFixed(0)} ms after SIGTERM (grace ${r.shutdownGraceMs} ms)`,
    `sigterm: after the restart ${r.itemsAfterRestart} items; acknowledged but missing: ${r.missing.length}; wrong metadata: ${r.wrongMetadata.length} ${pass ? 'PASS' : 'FAIL'}`,
  ].join('\n');
}
