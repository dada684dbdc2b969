import * as path from 'node:path';
import sharp from 'sharp';
import { status } from '@grpc/grpc-js';
import { GetItemRequest, UpsertItemsRequest } from '../../src/gen/twinlens/v1/twinlens.js';
import { createRng } from '../../src/simulate/index.js';
import { codeName, connectLoadClients, type LoadClients, upsert } from './grpc-calls.js';
import { type HeapMemory, heapMemoryFrom, startServerProcess, type ServerProcess } from './server-process.js';

/** Options of {@link runUploadFlood}. */
export interface UploadFloodOptions {
  /** Folder for the catalog and the server log. */
  workDir: string;
  /** Concurrent UpsertItems streams, each on its own connection. Default 8. */
  streams?: number;
  /** Items each stream sends. Default 4. */
  itemsPerStream?: number;
  /** Size of each image (a noisy JPEG at least this large), in MB (10^6 bytes). Default 19. */
  imageMb?: number;
  /** `TWINLENS_*` settings for the server (e.g. `TWINLENS_MAX_IMAGE_BYTES_IN_FLIGHT`). Default none. */
  env?: Record<string, string>;
  /** The server's CLI script; default this build (another build's gives the before-figure). */
  entry?: string;
  /** Restart the server on the same data after the flood and check every acknowledged item again. Default false. */
  restart?: boolean;
  /** Deadline of each stream, in ms. Default 300,000. */
  deadlineMs?: number;
  /** Progress lines. */
  log?: (line: string) => void;
}

/** What an upload flood did to the server. */
export interface UploadFloodReport {
  streams: number;
  itemsPerStream: number;
  imageBytes: number;
  /** Resident memory of the server (and its decoder children) before the flood, in MB. */
  rssBeforeMB: number;
  /** Highest resident memory sampled every 50 ms during the flood, in MB. */
  rssPeakMB: number;
  /** The server process alone (without its decoder children): before the flood and its highest sample, in MB. */
  serverRssBeforeMB: number;
  serverRssPeakMB: number;
  /** Resident memory 3 s after the last stream ended, in MB. */
  rssAfterMB: number;
  /** The server's V8 heap and external (Buffer) memory 3 s after the flood; undefined without metrics. */
  heapAfter?: HeapMemory;
  /** Streams by final status code name (OK, RESOURCE_EXHAUSTED, ...). */
  streamCodes: Record<string, number>;
  /** Items acknowledged ok. */
  acknowledged: number;
  /** Items reported failed inside an OK stream, by code name. */
  itemErrors: Record<string, number>;
  /** Acknowledged items GetItem could not find afterwards (and after the restart, when asked). */
  missing: string[];
  /** Seconds from the first stream's start to the last one's end. */
  seconds: number;
}

/**
 * A noisy JPEG of at least `minBytes` (noise does not compress, so the file is large for its
 * pixels). Sized from a small probe, so a 19 MB image takes a few encodes, not hundreds.
 */
export async function largeNoisyJpeg(minBytes: number, seed = 7): Promise<Buffer> {
  const rng = createRng(seed);
  const encode = async (side: number): Promise<Buffer> => {
    const px = Buffer.alloc(side * side * 3);
    for (let i = 0; i < px.length; i++) px[i] = Math.floor(rng() * 256);
    return sharp(px, { raw: { width: side, height: side, channels: 3 } }).jpeg({ quality: 90 }).toBuffer();
  };
  const probe = await encode(256);
  let side = Math.max(256, Math.ceil(Math.sqrt(minBytes / (probe.length / (256 * 256)))));
  for (;;) {
    const jpeg = await encode(side);
    if (jpeg.length >= minBytes) return jpeg;
    side = Math.ceil(side * 1.05);
  }
}

/**
 * Floods the server (a child process) with `streams` concurrent UpsertItems streams of large
 * images, samples its resident memory from /proc meanwhile, then checks that every acknowledged
 * item is there (GetItem; again after a restart when asked).
 */
export async function runUploadFlood(options: UploadFloodOptions): Promise<UploadFloodReport> {
  const streams = options.streams ?? 8;
  const itemsPerStream = options.itemsPerStream ?? 4;
  const deadlineMs = options.deadlineMs ?? 300_000;
  const log = options.log ?? (() => undefined);
  const image = await largeNoisyJpeg(Math.round((options.imageMb ?? 19) * 1e6));
  const dataDir = path.join(options.workDir, 'data');
  const start = (): Promise<ServerProcess> => startServerProcess({ dataDir, env: options.env, entry: options.entry });
  let server = await start();
  log(`upload-flood: server pid ${server.pid} on ${server.address}, log ${server.logFile}; ${streams} streams x ${itemsPerStream} items of ${(image.length / 1e6).toFixed(1)} MB`);
  const clients: LoadClients[] = Array.from({ length: streams }, () => connectLoadClients(server.address));
  try {
    await new Promise((r) => setTimeout(r, 1000));
    const rssBeforeMB = server.rssBytes() / 1e6;
    let rssPeakMB = rssBeforeMB;
    const serverRssBeforeMB = server.ownRssBytes() / 1e6;
    let serverRssPeakMB = serverRssBeforeMB;
    const sampler = setInterval(() => {
      const mb = server.rssBytes() / 1e6;
      if (mb > rssPeakMB) rssPeakMB = mb;
      const own = server.ownRssBytes() / 1e6;
      if (own > serverRssPeakMB) serverRssPeakMB = own;
    }, 50);
    const started = performance.now();
    const outcomes = await Promise.all(
      clients.map((c, s) =>
        upsert(
          c,
          Array.from({ length: itemsPerStream }, (_, i) =>
            UpsertItemsRequest.fromPartial({ itemId: `flood-${s}-${i}`, image, metadata: { stream: String(s) } }),
          ),
          deadlineMs,
        ),
      ),
    );
    const seconds = (performance.now() - started) / 1000;
    await new Promise((r) => setTimeout(r, 3000));
    clearInterval(sampler);
    const rssAfterMB = server.rssBytes() / 1e6;
    const heapAfter = await heapMemoryFrom(server.metricsUrl());

    const streamCodes: Record<string, number> = {};
    const itemErrors: Record<string, number> = {};
    const acknowledged: string[] = [];
    for (const o of outcomes) {
      streamCodes[codeName(o.code)] = (streamCodes[codeName(o.code)] ?? 0) + 1;
      for (const item of o.response?.outcomes ?? []) {
        if (item.ok) acknowledged.push(item.itemId);
        else itemErrors[item.error?.codeName ?? 'UNKNOWN'] = (itemErrors[item.error?.codeName ?? 'UNKNOWN'] ?? 0) + 1;
      }
    }
    const missingIn = async (c: LoadClients): Promise<string[]> => {
      const missing: string[] = [];
      for (const itemId of acknowledged) {
        const found = await new Promise<boolean>((resolve) =>
          c.catalog.getItem(GetItemRequest.fromPartial({ itemId }), (e) => resolve(!e || e.code !== status.NOT_FOUND ? !e : false)),
        );
        if (!found) missing.push(itemId);
      }
      return missing;
    };
    const missing = await missingIn(clients[0]);
    if (options.restart) {
      await server.stop();
      server = await start();
      const after = connectLoadClients(server.address);
      try {
        for (const id of await missingIn(after)) if (!missing.includes(id)) missing.push(id);
      } finally {
        after.close();
      }
    }
    return {
      streams,
      itemsPerStream,
      imageBytes: image.length,
      rssBeforeMB,
      rssPeakMB,
      serverRssBeforeMB,
      serverRssPeakMB,
      rssAfterMB,
      heapAfter,
      streamCodes,
      acknowledged: acknowledged.length,
      itemErrors,
      missing,
      seconds,
    };
  } finally {
    clients.forEach((c) => c.close());
    await server.stop();
  }
}

/** The report as a few human-readable lines. */
export function formatUploadFloodReport(r: UploadFloodReport): string {
  const codes = (m: Record<string, number>): string => Object.entries(m).map(([k, v]) => `${k} ${v}`).join(', ') || 'none';
  return [
    `upload-flood: ${r.streams} streams x ${r.itemsPerStream} items of ${(r.imageBytes / 1e6).toFixed(1)} MB in ${r.seconds.toFixed(1)} s`,
    `  RSS (server + decoders): before ${r.rssBeforeMB.toFixed(0)} MB, peak ${r.rssPeakMB.toFixed(0)} MB (+${(r.rssPeakMB - r.rssBeforeMB).toFixed(0)}), 3 s after ${r.rssAfterMB.toFixed(0)} MB`,
    `  RSS of the server process alone: before ${r.serverRssBeforeMB.toFixed(0)} MB, peak ${r.serverRssPeakMB.toFixed(0)} MB (+${(r.serverRssPeakMB - r.serverRssBeforeMB).toFixed(0)})`,
    ...(r.heapAfter
      ? [`  server heap after: used ${r.heapAfter.heapUsedMB.toFixed(0)} MB of ${r.heapAfter.heapTotalMB.toFixed(0)} MB, external (Buffers) ${r.heapAfter.externalMB.toFixed(0)} MB`]
      : []),
    `  streams: ${codes(r.streamCodes)}; items acknowledged ${r.acknowledged}, failed: ${codes(r.itemErrors)}`,
    `  acknowledged items missing afterwards: ${r.missing.length}${r.missing.length ? ` (${r.missing.slice(0, 5).join(', ')})` : ''}`,
  ].join('\n');
}
