/**
 * The trained twin end to end over gRPC: the real server with a real trained model (embedder.onnx +
 * pair_head.onnx), generated watches as the catalog and simulated phone photos as queries. Checks
 * that the stages agree with each other: every hit's coarse_score is the cosine of the embeddings
 * Embed returns, its score is exactly what Compare says for that pair, hits come in score order,
 * and the shortlist bounds what the head sees.
 *
 * Model: $TWINLENS_TWIN_MODEL, else the shipped generic twin (models/twinlens_generic_v1, with its
 * pair head). Skipped (with a note) only if that model is missing or has no head.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { PACKAGE_ROOT } from '../../src/config/index.js';
import { createRng, degradeImage, generateDemoCatalog } from '../../src/demo/index.js';
import { RankingStage } from '../../src/gen/twinlens/v1/twinlens.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

const MODEL = process.env.TWINLENS_TWIN_MODEL || path.join(PACKAGE_ROOT, 'models', 'twinlens_generic_v1', 'manifest.json');
const hasHead = fs.existsSync(MODEL) && JSON.parse(fs.readFileSync(MODEL, 'utf8')).pairHead != null;
const describeIfTrained = hasHead ? describe : describe.skip;
if (!hasHead) console.warn(`test/engine/trained-twin: skipped, ${MODEL} has no pair head (set TWINLENS_TWIN_MODEL)`);

const image = (value: Buffer) => ({ source: { $case: 'image' as const, value } });
const item = (value: string) => ({ source: { $case: 'itemId' as const, value } });
const cosine = (a: number[], b: number[]): number => a.reduce((s, v, i) => s + v * b[i], 0);

describeIfTrained(`trained twin over gRPC (${MODEL})`, () => {
  let ts: TestServer;
  let watches: { itemId: string; image: Buffer }[];
  let photos: Buffer[];

  beforeAll(async () => {
    ts = await startTestServer({ modelManifest: MODEL, usePairHead: true });
    watches = (await generateDemoCatalog({ count: 12, seed: 31, sizePx: 320 })).map((w) => ({ itemId: w.itemId, image: w.image }));
    photos = await Promise.all(watches.slice(0, 3).map((w, i) => degradeImage(w.image, {}, createRng(500 + i))));
    const res = await ts.rpc.upsertItems(watches.map((w) => ({ itemId: w.itemId, image: w.image, metadata: {} })));
    expect(res.upserted).toBe(watches.length);
  }, 120_000);

  afterAll(() => ts?.stop());

  test('GetServiceInfo reports the head and its threshold', async () => {
    const manifest = JSON.parse(fs.readFileSync(MODEL, 'utf8'));
    const info = await ts.rpc.getServiceInfo();
    expect(info.hasPairHead).toBe(true);
    expect(info.threshold).toBeCloseTo(manifest.pairHead.threshold, 5);
  });

  test('Search: coarse scores are Embed cosines, scores are Compare probabilities, hits in score order', async () => {
    const itemEmbeddings = new Map<string, number[]>();
    for (const w of watches) itemEmbeddings.set(w.itemId, (await ts.rpc.embed({ image: w.image })).embedding);
    for (const photo of photos) {
      const q = (await ts.rpc.embed({ image: photo })).embedding;
      const res = await ts.rpc.search({ image: photo, topK: 8, shortlistK: 8 });
      expect(res.rankedBy).toBe(RankingStage.RANKING_STAGE_PAIR_HEAD);
      expect(res.hits).toHaveLength(8);
      expect(res.timings!.rerankMs).toBeGreaterThan(0);
      const scores = res.hits.map((h) => h.score);
      expect(scores).toEqual([...scores].sort((a, b) => b - a));
      // The shortlist is the 8 best by cosine; the head reorders it.
      const byCosine = [...itemEmbeddings].map(([id, e]) => ({ id, c: cosine(q, e) })).sort((a, b) => b.c - a.c);
      expect(new Set(res.hits.map((h) => h.itemId))).toEqual(new Set(byCosine.slice(0, 8).map((x) => x.id)));
      for (const h of res.hits) {
        expect(h.score).toBeGreaterThanOrEqual(0);
        expect(h.score).toBeLessThanOrEqual(1);
        expect(h.coarseScore).toBeCloseTo(cosine(q, itemEmbeddings.get(h.itemId)!), 4);
        const cmp = await ts.rpc.compare({ a: image(photo), b: item(h.itemId) });
        expect(cmp.scoredBy).toBe(RankingStage.RANKING_STAGE_PAIR_HEAD);
        expect(cmp.score).toBeCloseTo(h.score, 5); // same stored (float16) map, same head
      }
    }
  }, 120_000);

  test('Compare by image and by stored item differ only by the stored maps being float16', async () => {
    const a = await ts.rpc.compare({ a: image(photos[0]), b: image(watches[0].image) });
    const b = await ts.rpc.compare({ a: image(photos[0]), b: item(watches[0].itemId) });
    expect(Math.abs(a.score - b.score)).toBeLessThan(0.01);
    expect(a.match).toBe(a.score >= a.threshold);
  });
});
