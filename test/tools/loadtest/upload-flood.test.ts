/**
 * The image memory budget with the real server as a child process (its memory read from /proc):
 * 8 concurrent upload streams of large images against a small budget. The excess streams are
 * refused with RESOURCE_EXHAUSTED (never INTERNAL), every acknowledged item survives a restart,
 * and the server's resident memory stays within the budget plus the stated constant. The 19 MB
 * figures run by hand: `node dist/tools/dev.js upload-flood --streams 8 --image-mb 19`.
 */
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { formatUploadFloodReport, runUploadFlood } from '../../../tools/loadtest/index.js';
import { assertServerBuilt } from './build-check.js';

const MB = 1e6;
const BUDGET_BYTES = 16 * 1024 * 1024;
const STREAM_LIMIT = 4;
const IMAGE_MB = 6;
/**
 * What the server process holds beyond the budget and one message per admitted stream while it
 * decodes, embeds and commits large images (garbage V8 has not collected yet, allocator slack,
 * catalog writes): 83-111 MB measured with 6 MB images on this machine (before the budget counted
 * bytes instead of holding messages: 276-285 MB with 8 items per stream); the limit leaves headroom.
 */
const SERVER_ALLOWANCE_MB = 150;
/**
 * The same for the server and its two decoder children together, which start on the first decode
 * (~80 MB each at rest) and hold up to 3 images each: 277-309 MB measured (506-508 before).
 */
const WORKING_SET_ALLOWANCE_MB = 350;

describe('upload flood against the image memory budget', () => {
  let dir: string;
  beforeAll(async () => {
    assertServerBuilt();
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'twinlens-upload-flood-'));
  });
  afterAll(async () => {
    if (dir) await fs.rm(dir, { recursive: true, force: true });
  });

  test('8 streams of 8 x 6 MB images: excess refused with RESOURCE_EXHAUSTED, every acknowledged item durable, RSS bounded', async () => {
    const streams = 8;
    // Enough items that a stream holding its messages until it ends would show.
    const itemsPerStream = 8;
    const r = await runUploadFlood({
      workDir: dir,
      streams,
      itemsPerStream,
      imageMb: IMAGE_MB,
      env: { TWINLENS_MAX_IMAGE_BYTES_IN_FLIGHT: String(BUDGET_BYTES), TWINLENS_MAX_IMAGE_STREAMS_IN_PROGRESS: String(STREAM_LIMIT) },
      restart: true,
    });
    console.log(formatUploadFloodReport(r));

    // Every stream either went through or was refused on its headers; none failed otherwise.
    expect(Object.keys(r.streamCodes).filter((c) => c !== 'OK' && c !== 'RESOURCE_EXHAUSTED')).toEqual([]);
    expect((r.streamCodes.OK ?? 0) + (r.streamCodes.RESOURCE_EXHAUSTED ?? 0)).toBe(streams);
    expect(r.streamCodes.OK ?? 0).toBeGreaterThanOrEqual(1);
    // All 8 are opened at once and each lasts seconds: those beyond the limit are refused on their headers.
    expect(r.streamCodes.RESOURCE_EXHAUSTED ?? 0).toBeGreaterThanOrEqual(1);
    expect(r.itemErrors).toEqual({});
    expect(r.acknowledged).toBe((r.streamCodes.OK ?? 0) * itemsPerStream);
    expect(r.missing).toEqual([]);
    const budgetAndSlotsMB = BUDGET_BYTES / MB + STREAM_LIMIT * (r.imageBytes / MB);
    expect(r.serverRssPeakMB - r.serverRssBeforeMB).toBeLessThan(budgetAndSlotsMB + SERVER_ALLOWANCE_MB);
    expect(r.rssPeakMB - r.rssBeforeMB).toBeLessThan(budgetAndSlotsMB + WORKING_SET_ALLOWANCE_MB);
  }, 180_000);
});
