/**
 * The colour evidence through the real server (option colorEvidence): three catalog discs that differ
 * only in colour, and photos of each on a brown table. Search re-scores its top hits by how alike the
 * colours of the photo's middle and each item's catalog image are: each photo finds its own disc first,
 * its score raised by most of the weight, and the response says the colours ranked it.
 */
import * as fs from 'node:fs';
import sharp from 'sharp';
import { RankingStage } from '../../src/gen/twinlens/v1/twinlens.js';
import { makeTempDir, startTestServer, type TestServer } from '../helpers/server.js';

jest.setTimeout(120_000);

const COLOURS = { red: '#c0281e', green: '#2a9a32', blue: '#2840b0' };

/** A disc on white (catalog) or, smaller and off-centre, on a brown table (photo). */
async function disc(fill: string, photo = false): Promise<Buffer> {
  const svg = photo
    ? `<svg xmlns="http://www.w3.org/2000/svg" width="320" height="240"><rect width="320" height="240" fill="#6b4a2f"/><circle cx="150" cy="115" r="70" fill="${fill}"/></svg>`
    : `<svg xmlns="http://www.w3.org/2000/svg" width="200" height="200"><rect width="200" height="200" fill="white"/><circle cx="100" cy="100" r="80" fill="${fill}"/></svg>`;
  return sharp(Buffer.from(svg)).jpeg({ quality: 90 }).toBuffer();
}

describe('colour evidence', () => {
  let dataDir: string;
  let server: TestServer;
  beforeAll(async () => {
    dataDir = await makeTempDir();
    server = await startTestServer({ dataDir, colorEvidence: true, colorWeight: 0.5 });
    const items = await Promise.all(Object.entries(COLOURS).map(async ([itemId, fill]) => ({ itemId, image: await disc(fill) })));
    expect((await server.rpc.upsertItems(items)).upserted).toBe(3);
  });
  afterAll(async () => {
    await server?.stop();
    if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
  });

  test.each(Object.keys(COLOURS))('a photo of the %s disc finds it first, by its colours', async (own) => {
    const r = await server.rpc.search({ image: await disc(COLOURS[own as keyof typeof COLOURS], true), topK: 3 });
    expect(r.rankedBy).toBe(RankingStage.RANKING_STAGE_COLOR);
    expect(r.hits[0].itemId).toBe(own);
    for (const h of r.hits) {
      const gain = h.score - h.coarseScore;
      if (h.itemId === own) expect(gain).toBeGreaterThan(0.25); // weight 0.5 x most of the colours
      else expect(gain).toBeLessThan(0.1);
    }
    expect(r.timings!.colorMs).toBeGreaterThan(0);
  });

  test('a corrupt photo still gets INVALID_ARGUMENT, and the server answers after it', async () => {
    await expect(server.rpc.search({ image: Buffer.from('no image here') })).rejects.toMatchObject({ code: 3 });
    expect((await server.rpc.search({ image: await disc(COLOURS.red, true), topK: 1 })).hits[0].itemId).toBe('red');
  });
});
