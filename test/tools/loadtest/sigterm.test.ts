/**
 * SIGTERM under load loses no acknowledged write: 16 clients (Search, Compare, UpsertItems of new
 * ids) against the server as a child process, SIGTERM 8 s in (or at the first acknowledged upload,
 * if later), exit code 0 within the grace, then a restart on the same data directory must hold every
 * item the server acknowledged, with its metadata. How many were acknowledged depends on the
 * machine's speed and is only reported. The 5-minute, 64-client load runs by hand (`make loadtest`).
 */
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { formatLoadReport, formatSigtermReport, makeLoadImages, runSigtermTest } from '../../../tools/loadtest/index.js';
import { assertServerBuilt } from './build-check.js';

describe('SIGTERM during load', () => {
  let dir: string;
  beforeAll(async () => {
    assertServerBuilt();
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'twinlens-sigterm-'));
  });
  afterAll(async () => {
    if (dir) await fs.rm(dir, { recursive: true, force: true });
  });

  test.each([
    ['the default grace (running calls finish)', 10_000],
    ['a 100 ms grace (running calls are cancelled)', 100],
  ])('every acknowledged upload survives with %s; the server exits 0 in time', async (_name, shutdownGraceMs) => {
    // Cheap photos (sharp letterboxing): degradeImage's pixel loops are slow under jest.
    const images = await makeLoadImages({ catalogSize: 20, queryPhotos: 24, uploadPhotos: 16, photos: 'resized' });
    const workDir = path.join(dir, String(shutdownGraceMs));
    await fs.mkdir(workDir);
    // The load ends when the server goes; the long duration only leaves a slow machine time to
    // acknowledge the first upload before SIGTERM.
    const r = await runSigtermTest({ workDir, images, clients: 16, durationMs: 60_000, sigtermAtMs: 8000, shutdownGraceMs });
    console.log(`${formatLoadReport(r.load)}\n${formatSigtermReport(r)}`);

    expect(r.exit).toEqual({ code: 0, signal: null });
    expect(r.exitAfterMs).toBeLessThan(r.shutdownGraceMs + 5000);
    expect(r.load.errors).toBe(0);
    expect(r.load.stoppedBy).toBe('shutdown'); // the clients saw the server go, not the end of the run
    expect(r.acknowledged).toBeGreaterThanOrEqual(1); // SIGTERM waits for the first one
    expect(r.missing).toEqual([]);
    expect(r.wrongMetadata).toEqual([]);
    expect(r.itemsAfterRestart).toBeGreaterThanOrEqual(images.catalog.length + r.acknowledged);
  });
});
