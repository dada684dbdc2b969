/**
 * The evidence head (option evidenceHead, issue 12's pair head v2) through the real server, with the
 * bundled head and the real colour and text stages: three catalog discs that differ only in colour,
 * and photos of each on a brown table. The head weighs each top hit's cosine and colour (the photos
 * show no print) into a probability: each photo finds its own disc first, ranked by the pair head.
 * A head learned on another embedding model is not used; a missing or altered head stops the start.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import sharp from 'sharp';
import { type ImageRef, RankingStage } from '../../src/gen/twinlens/v1/twinlens.js';
import { DEFAULT_OPTIONS } from '../../src/config/index.js';
import { makeTempDir, startTestServer, type TestServer } from '../helpers/server.js';

jest.setTimeout(180_000);

const COLOURS = { red: '#c0281e', green: '#2a9a32', blue: '#2840b0' };
const BUNDLED_HEAD = DEFAULT_OPTIONS.evidenceHead;
const byImage = (value: Buffer): ImageRef => ({ source: { $case: 'image', value } });
const byId = (value: string): ImageRef => ({ source: { $case: 'itemId', value } });

/** A disc on white (catalog) or, smaller and off-centre, on a brown table (photo). */
async function disc(fill: string, photo = false): Promise<Buffer> {
  const svg = photo
    ? `<svg xmlns="http://www.w3.org/2000/svg" width="320" height="240"><rect width="320" height="240" fill="#6b4a2f"/><circle cx="150" cy="115" r="70" fill="${fill}"/></svg>`
    : `<svg xmlns="http://www.w3.org/2000/svg" width="200" height="200"><rect width="200" height="200" fill="white"/><circle cx="100" cy="100" r="80" fill="${fill}"/></svg>`;
  return sharp(Buffer.from(svg)).jpeg({ quality: 90 }).toBuffer();
}

async function withDiscs(server: TestServer): Promise<void> {
  const items = await Promise.all(Object.entries(COLOURS).map(async ([itemId, fill]) => ({ itemId, image: await disc(fill) })));
  expect((await server.rpc.upsertItems(items)).upserted).toBe(3);
}

test('the bundled head is the default, and names the model it learned on', () => {
  expect(BUNDLED_HEAD).toMatch(/models[/\\]evidence_head[/\\]manifest\.json$/);
  const m = JSON.parse(fs.readFileSync(BUNDLED_HEAD, 'utf8'));
  const model = JSON.parse(fs.readFileSync(DEFAULT_OPTIONS.modelManifest, 'utf8'));
  expect(m.embedderVersion).toBe(model.version);
});

describe('with the bundled head', () => {
  let dataDir: string;
  let server: TestServer;
  beforeAll(async () => {
    dataDir = await makeTempDir();
    server = await startTestServer({ dataDir, colorEvidence: true, textEvidence: true, evidenceHead: BUNDLED_HEAD });
    await withDiscs(server);
  });
  afterAll(async () => {
    await server?.stop();
    if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
  });

  test.each(Object.keys(COLOURS))('a photo of the %s disc finds it first, ranked by the head', async (own) => {
    const r = await server.rpc.search({ image: await disc(COLOURS[own as keyof typeof COLOURS], true), topK: 3 });
    expect(r.rankedBy).toBe(RankingStage.RANKING_STAGE_PAIR_HEAD);
    expect(r.hits[0].itemId).toBe(own);
    for (const h of r.hits) {
      expect(h.score).toBeGreaterThan(0);
      expect(h.score).toBeLessThan(1); // a probability
    }
    expect(r.hits[0].score).toBeGreaterThan(r.hits[1].score);
    expect(r.timings!.colorMs).toBeGreaterThan(0);
    expect(r.timings!.rerankMs).toBeGreaterThan(0);
  });

  test("Compare gives the head's probability and threshold: the photo's own disc matches best, as an item or as an image", async () => {
    const { threshold, version } = JSON.parse(fs.readFileSync(BUNDLED_HEAD, 'utf8'));
    expect(await server.rpc.getServiceInfo()).toMatchObject({ evidenceHead: version, threshold: expect.closeTo(threshold, 5) });
    const photo = await disc(COLOURS.green, true);
    const byItem = await Promise.all(Object.keys(COLOURS).map((itemId) => server.rpc.compare({ a: byImage(photo), b: byId(itemId) })));
    for (const r of byItem) {
      expect(r.scoredBy).toBe(RankingStage.RANKING_STAGE_PAIR_HEAD);
      expect(r.threshold).toBeCloseTo(threshold, 5);
      expect(r.match).toBe(r.score >= r.threshold);
      expect(r.timings!.colorMs).toBeGreaterThan(0);
    }
    const [red, green, blue] = byItem.map((r) => r.score);
    expect(green).toBeGreaterThan(Math.max(red, blue));
    const asImage = await server.rpc.compare({ a: byImage(photo), b: byImage(await disc(COLOURS.green)) });
    expect(asImage.score).toBeCloseTo(green, 2); // the item's image, given as bytes
  });

  test('a corrupt photo still gets INVALID_ARGUMENT, and the server answers after it', async () => {
    await expect(server.rpc.search({ image: Buffer.from('no image here') })).rejects.toMatchObject({ code: 3 });
    await expect(server.rpc.compare({ a: byImage(Buffer.from('no image here')), b: byId('red') })).rejects.toMatchObject({ code: 3 });
    expect((await server.rpc.search({ image: await disc(COLOURS.red, true), topK: 1 })).hits[0].itemId).toBe('red');
  });
});

describe('a head learned on another embedding model', () => {
  let dataDir: string;
  let server: TestServer;
  beforeAll(async () => {
    dataDir = await makeTempDir();
    const head = JSON.parse(fs.readFileSync(BUNDLED_HEAD, 'utf8'));
    fs.copyFileSync(path.join(path.dirname(BUNDLED_HEAD), head.file), path.join(dataDir, head.file));
    fs.writeFileSync(path.join(dataDir, 'head.json'), JSON.stringify({ ...head, embedderVersion: 'some-other-model' }));
    server = await startTestServer({ dataDir, colorEvidence: true, evidenceHead: path.join(dataDir, 'head.json') });
    await withDiscs(server);
  });
  afterAll(async () => {
    await server?.stop();
    if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
  });

  test('is not used: Search ranks by the fixed weights', async () => {
    const r = await server.rpc.search({ image: await disc(COLOURS.green, true), topK: 3 });
    expect(r.rankedBy).toBe(RankingStage.RANKING_STAGE_COLOR);
    expect(r.hits[0].itemId).toBe('green');
    const c = await server.rpc.compare({ a: byImage(await disc(COLOURS.green, true)), b: byId('green') });
    expect(c.scoredBy).toBe(RankingStage.RANKING_STAGE_EMBEDDING);
    expect((await server.rpc.getServiceInfo()).evidenceHead).toBe('');
  });
});

describe('a missing or altered head stops the start with a message that names the file', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await makeTempDir();
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('altered ONNX file', async () => {
    const head = JSON.parse(fs.readFileSync(BUNDLED_HEAD, 'utf8'));
    const onnx = fs.readFileSync(path.join(path.dirname(BUNDLED_HEAD), head.file));
    onnx[onnx.length - 1] ^= 0xff;
    fs.writeFileSync(path.join(dir, head.file), onnx);
    fs.writeFileSync(path.join(dir, 'altered.json'), JSON.stringify(head));
    await expect(startTestServer({ dataDir: path.join(dir, 'data1'), colorEvidence: true, evidenceHead: path.join(dir, 'altered.json') })).rejects.toThrow(
      new RegExp(`evidence head file .*${head.file} has sha256 [0-9a-f]{64}, expected ${head.sha256}`),
    );
  });

  test('missing manifest', async () => {
    await expect(startTestServer({ dataDir: path.join(dir, 'data2'), colorEvidence: true, evidenceHead: path.join(dir, 'nothing.json') })).rejects.toThrow(
      /evidence head manifest .*nothing\.json: cannot be read/,
    );
  });
});
