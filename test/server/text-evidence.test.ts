/**
 * The text evidence through the real server (option textEvidence): two catalog boxes that differ only
 * in their print, and phone-like photos of each on a grey table. Search reads the photo's print with
 * the real OCR networks and re-scores the top hits by it: the box whose print the photo shows gains
 * the weight times the share of the print found, and comes first; the other keeps its cosine. An item
 * whose image carries no print is found by its `name` field; a photo without print changes nothing.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import sharp from 'sharp';
import { RankingStage } from '../../src/gen/twinlens/v1/twinlens.js';
import { makeTempDir, startTestServer, type TestServer } from '../helpers/server.js';

jest.setTimeout(120_000);

/** A blue box, 200 x 200 on white, with `words` printed across it (no words: a plain box). */
async function box(words: string): Promise<Buffer> {
  const print = words ? `<text x="100" y="112" font-size="30" font-weight="bold" fill="white" text-anchor="middle">${words}</text>` : '';
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="200" height="200"><rect width="200" height="200" fill="white"/><rect x="30" y="40" width="140" height="120" fill="#1f4e9a"/>${print}</svg>`;
  return sharp(Buffer.from(svg)).jpeg({ quality: 92 }).toBuffer();
}

/** `image` as a photo: smaller, off-centre, on a grey table. */
async function photo(image: Buffer): Promise<Buffer> {
  const product = await sharp(image).resize(260, 260).toBuffer();
  return sharp({ create: { width: 360, height: 320, channels: 3, background: '#8a8a82' } })
    .composite([{ input: product, left: 60, top: 30 }])
    .jpeg({ quality: 88 })
    .toBuffer();
}

describe('text evidence', () => {
  let dataDir: string;
  let server: TestServer;
  beforeAll(async () => {
    dataDir = await makeTempDir();
    server = await startTestServer({ dataDir, textEvidence: true, catalogViews: 0 });
    const items = [
      { itemId: 'milk', image: await box('MILK'), metadata: { name: 'Fresh-Milk' } },
      { itemId: 'juice', image: await box('JUICE'), metadata: { name: 'Apple-Juice' } },
      { itemId: 'plain', image: await box(''), metadata: { name: 'Oat-Drink' } },
    ];
    expect((await server.rpc.upsertItems(items)).upserted).toBe(3);
  });
  afterAll(async () => {
    await server?.stop();
    if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
  });

  test.each(['JUICE', 'MILK'])('a photo of the %s box finds it first, by the print it shows', async (words) => {
    const r = await server.rpc.search({ image: await photo(await box(words)), topK: 3 });
    expect(r.rankedBy).toBe(RankingStage.RANKING_STAGE_TEXT);
    const own = words === 'JUICE' ? 'juice' : 'milk';
    expect(r.hits[0].itemId).toBe(own);
    for (const h of r.hits) {
      if (h.itemId === own) expect(h.score - h.coarseScore).toBeGreaterThan(0.1); // weight 0.2 x most of the print
      else expect(h.score).toBeCloseTo(h.coarseScore, 6);
    }
    expect(r.timings!.textMs).toBeGreaterThan(0);
  });

  test("an item whose image has no print is found by its name field", async () => {
    const r = await server.rpc.search({ image: await photo(await box('OAT DRINK')), topK: 3 });
    const plain = r.hits.find((h) => h.itemId === 'plain')!;
    expect(plain.score - plain.coarseScore).toBeGreaterThan(0.1);
  });

  test('a photo without print keeps the embedding order and scores', async () => {
    const r = await server.rpc.search({ image: await photo(await box('')), topK: 3 });
    expect(r.rankedBy).toBe(RankingStage.RANKING_STAGE_EMBEDDING);
    for (const h of r.hits) expect(h.score).toBe(h.coarseScore);
  });

  test('each catalog image is read once and its print kept under the OCR version', async () => {
    const [version] = fs.readdirSync(path.join(dataDir, 'text'));
    expect(version).toMatch(/^ppocrv4-/);
    const texts = fs.readdirSync(path.join(dataDir, 'text', version)).map((f) => fs.readFileSync(path.join(dataDir, 'text', version, f), 'utf8'));
    expect(texts.sort()).toEqual(['', 'JUICE', 'MILK']);
  });
});
