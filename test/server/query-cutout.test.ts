/**
 * The query cut-out (option queryCutout) end to end: the real server with the bundled u2netp mask,
 * a catalog of generated watches, and a photo of one of them small on a wooden table.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { status } from '@grpc/grpc-js';
import sharp from 'sharp';
import { DEFAULT_OPTIONS } from '../../src/config/index.js';
import { createRng, degradeImage, type DemoCatalogItem, generateDemoCatalog } from '../../src/demo/index.js';
import { expectStatus, makeTempDir, startTestServer, type TestServer } from '../helpers/server.js';

describe('the mask model file', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await makeTempDir('twinlens-cutout-model-');
  });
  afterAll(async () => {
    await fs.promises.rm(dir, { recursive: true, force: true });
  });

  test('an altered copy stops the server with a message naming the file', async () => {
    const altered = path.join(dir, 'u2netp-altered.onnx');
    const bytes = fs.readFileSync(DEFAULT_OPTIONS.queryCutoutModel);
    bytes[bytes.length >> 1] ^= 0xff;
    fs.writeFileSync(altered, bytes);
    await expect(startTestServer({ queryCutout: true, queryCutoutModel: altered })).rejects.toThrow(
      new RegExp(`mask model file ${altered.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} has sha256 [0-9a-f]{64}, expected 309c8469`),
    );
  });

  test('a missing file stops the server with a message naming the file', async () => {
    const missing = path.join(dir, 'no-such-u2netp.onnx');
    await expect(startTestServer({ queryCutout: true, queryCutoutModel: missing })).rejects.toThrow(`mask model file ${missing} cannot be read`);
  });

  test('with the cut-out off the file is not read', async () => {
    const ts = await startTestServer({ queryCutout: false, queryCutoutModel: path.join(dir, 'absent.onnx') });
    await ts.stop();
  });
});

describe('Search with the cut-out on', () => {
  let ts: TestServer;
  let items: DemoCatalogItem[];

  beforeAll(async () => {
    ts = await startTestServer({ queryCutout: true });
    items = await generateDemoCatalog({ count: 16, seed: 11, format: 'png', sizePx: 384 });
    const res = await ts.rpc.upsertItems(items.map((it) => ({ itemId: it.itemId, image: it.image, metadata: {} })));
    expect(res).toMatchObject({ upserted: items.length, failed: 0 });
  });

  afterAll(async () => {
    await ts?.stop();
  });

  test('finds a watch photographed small on a wooden table first, and reports the stage', async () => {
    // The watch covers ~30% of the frame's short side: without the cut-out this photo ranks its
    // item second (measured with the bundled default model), with it first.
    const k = 12;
    const photo = await degradeImage(
      items[k].image,
      { width: 640, height: 480, background: 'wood', objectScale: 0.3, rotationDeg: 10, placementJitter: 0.5 },
      createRng(k * 31 + 1),
    );
    const res = await ts.rpc.search({ image: photo, topK: 3 });
    expect(res.hits[0].itemId).toBe(items[k].itemId);
    expect(res.timings!.cutoutMs).toBeGreaterThan(0);
  });

  test('Embed runs the stage too', async () => {
    const res = await ts.rpc.embed({ image: items[0].image });
    expect(res.timings!.cutoutMs).toBeGreaterThan(0);
  });

  test('an empty or corrupt photo still gets INVALID_ARGUMENT', async () => {
    await expectStatus(ts.rpc.search({ image: Buffer.alloc(0), topK: 3 }), status.INVALID_ARGUMENT, 'image');
    const truncated = items[0].image.subarray(0, items[0].image.length >> 1);
    await expectStatus(ts.rpc.search({ image: truncated, topK: 3 }), status.INVALID_ARGUMENT, 'image');
  });

  test('a blank photo (nothing salient) is searched by the photo alone', async () => {
    const blank = await sharp({ create: { width: 320, height: 240, channels: 3, background: '#ffffff' } }).png().toBuffer();
    const res = await ts.rpc.search({ image: blank, topK: 3 });
    expect(res.hits).toHaveLength(3);
  });
});
