/**
 * The rerank stage end to end over gRPC, with a tiny but real ONNX twin whose outputs are a known
 * function of the pixels (test/fixtures/tiny-twin/build.py: local maps are 32x32 block means, the
 * embedding is the mean colour, the pair head's logit is 10 * mean(query * candidate) - 2). The test
 * decodes the same images with the service's own decoder and computes the expected order and scores
 * itself, on catalogs built so that the embedding order and the pair head's order differ.
 */
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import sharp from 'sharp';
import { createSharpDecoder } from '../../src/imaging/index.js';
import { RankingStage } from '../../src/gen/twinlens/v1/twinlens.js';
import { makeTempDir, startTestServer, type TestServer } from '../helpers/server.js';

const MANIFEST = path.join(__dirname, '..', 'fixtures', 'tiny-twin', 'manifest.json');
type Rgb = [number, number, number];

/** A 224x224 PNG whose left and right halves are flat colours (lossless, so decoding is exact). */
async function halves(left: Rgb, right: Rgb, size = 224): Promise<Buffer> {
  const raw = Buffer.alloc(size * size * 3);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) raw.set(x < size / 2 ? left : right, (y * size + x) * 3);
  }
  return sharp(raw, { raw: { width: size, height: size, channels: 3 } }).png().toBuffer();
}

const decoder = createSharpDecoder({ size: 224, maxImageBytes: 1 << 24, maxImagePixels: 1 << 24 });

/** The fixture's functions, computed here from the decoded pixels. */
async function features(png: Buffer): Promise<{ local: Float64Array; embedding: Float64Array }> {
  const { rgb } = await decoder.decode(png);
  const local = new Float64Array(3 * 49);
  const mean = new Float64Array(3);
  for (let y = 0; y < 224; y++) {
    for (let x = 0; x < 224; x++) {
      for (let c = 0; c < 3; c++) {
        const v = rgb[(y * 224 + x) * 3 + c] / 255;
        local[c * 49 + Math.floor(y / 32) * 7 + Math.floor(x / 32)] += v / 1024;
        mean[c] += v / (224 * 224);
      }
    }
  }
  const norm = Math.hypot(...mean);
  return { local, embedding: mean.map((v) => v / norm) };
}

const image = (value: Buffer) => ({ source: { $case: 'image' as const, value } });
const item = (value: string) => ({ source: { $case: 'itemId' as const, value } });

/** The fixture head's probability; `cosineWeight` 4 for the head that also takes the cosine (manifest-cosine.json). */
const probability = (q: Float64Array, c: Float64Array, cosineWeight = 0, cos = 0): number => {
  const logit = (10 * q.reduce((s, v, i) => s + v * c[i], 0)) / 147 - 2 + cosineWeight * cos;
  return 1 / (1 + Math.exp(-logit));
};
const cosine = (a: Float64Array, b: Float64Array): number => a.reduce((s, v, i) => s + v * b[i], 0);

describe('pair-head rerank over gRPC (tiny known-function ONNX twin)', () => {
  let ts: TestServer;
  const images: Record<string, Buffer> = {};
  let query: Buffer;

  beforeAll(async () => {
    ts = await startTestServer({ modelManifest: MANIFEST, usePairHead: true });
    // Against a red|blue query: 'layout' has the same layout in slightly other colours (lower cosine,
    // higher head score); 'purple' has the query's exact mean colour (cosine 1) but no layout.
    images.layout = await halves([255, 0, 0], [0, 60, 255]);
    images.purple = await halves([128, 0, 128], [128, 0, 128]);
    images.swapped = await halves([0, 0, 255], [255, 0, 0]);
    images.dim = await halves([120, 0, 0], [0, 0, 120]);
    images.green = await halves([0, 255, 0], [0, 200, 40]);
    query = await halves([255, 0, 0], [0, 0, 255]);
    const res = await ts.rpc.upsertItems(Object.entries(images).map(([itemId, image]) => ({ itemId, image, metadata: {} })));
    expect(res.upserted).toBe(Object.keys(images).length);
  });

  afterAll(() => ts?.stop());

  async function expected(): Promise<{ id: string; p: number; cos: number }[]> {
    const q = await features(query);
    const rows = [];
    for (const [id, png] of Object.entries(images)) {
      const f = await features(png);
      rows.push({ id, p: probability(q.local, f.local), cos: cosine(q.embedding, f.embedding) });
    }
    return rows;
  }

  test('Search reranks the shortlist by the pair head: order, probabilities, cosines, stage, timing', async () => {
    const want = await expected();
    const byHead = [...want].sort((a, b) => b.p - a.p);
    const byCosine = [...want].sort((a, b) => b.cos - a.cos);
    // The catalog is built so that the two stages disagree; otherwise this test could not tell them apart.
    expect(byCosine[0].id).toBe('purple');
    expect(byHead[0].id).toBe('layout');

    const res = await ts.rpc.search({ image: query, topK: 5, shortlistK: 5 });
    expect(res.rankedBy).toBe(RankingStage.RANKING_STAGE_PAIR_HEAD);
    expect(res.hits.map((h) => h.itemId)).toEqual(byHead.map((r) => r.id));
    for (const h of res.hits) {
      const w = want.find((r) => r.id === h.itemId)!;
      expect(h.score).toBeCloseTo(w.p, 3); // catalog maps are stored as float16
      expect(h.coarseScore).toBeCloseTo(w.cos, 4);
    }
    expect(res.timings!.rerankMs).toBeGreaterThan(0);
  });

  test('GetServiceInfo says the model has a pair head and gives its threshold', async () => {
    const info = await ts.rpc.getServiceInfo();
    expect(info.hasPairHead).toBe(true);
    expect(info.threshold).toBeCloseTo(0.5, 6);
    expect(info.embeddingDim).toBe(3);
  });

  test('only the shortlist is reranked: shortlist_k 1 returns the embedding winner', async () => {
    const res = await ts.rpc.search({ image: query, topK: 1, shortlistK: 1 });
    expect(res.hits.map((h) => h.itemId)).toEqual(['purple']);
    expect(res.rankedBy).toBe(RankingStage.RANKING_STAGE_PAIR_HEAD);
  });

  test('Compare scores with the pair head, against the head threshold, by image and by item id', async () => {
    const want = await expected();
    for (const id of ['layout', 'purple', 'green']) {
      const w = want.find((r) => r.id === id)!;
      const byId = await ts.rpc.compare({ a: image(query), b: item(id) });
      const byImage = await ts.rpc.compare({ a: image(query), b: image(images[id]) });
      for (const r of [byId, byImage]) {
        expect(r.scoredBy).toBe(RankingStage.RANKING_STAGE_PAIR_HEAD);
        expect(r.threshold).toBeCloseTo(0.5, 6);
        expect(r.match).toBe(r.score >= 0.5);
      }
      expect(byImage.score).toBeCloseTo(w.p, 5);
      expect(byId.score).toBeCloseTo(w.p, 3);
    }
    // The fixture's head says yes to the same layout and no to the same mean colour.
    expect((await ts.rpc.compare({ a: image(query), b: item('layout') })).match).toBe(true);
    expect((await ts.rpc.compare({ a: image(query), b: item('purple') })).match).toBe(false);
  });

  test('a request aborted while its query is embedded never reaches the pair head', async () => {
    const engine = ts.server.engine;
    const head = engine.pairHead!;
    const embedder = engine.embedder;
    const originalScore = head.scoreCandidates;
    const originalEmbed = embedder.embedBatch;
    const controller = new AbortController();
    let headRuns = 0;
    head.scoreCandidates = (...args) => {
      headRuns++;
      return originalScore.apply(head, args);
    };
    embedder.embedBatch = async (batch) => {
      const out = await originalEmbed.call(embedder, batch);
      controller.abort(); // the client gives up while the model runs
      return out;
    };
    try {
      await expect(engine.search(query, { topK: 3, shortlistK: 5 }, { signal: controller.signal })).rejects.toMatchObject({ name: 'AbortError' });
      expect(headRuns).toBe(0);
    } finally {
      head.scoreCandidates = originalScore;
      embedder.embedBatch = originalEmbed;
    }
    await engine.search(query, { topK: 3, shortlistK: 5 });
    expect(headRuns).toBe(0); // restored: the spy is gone
  });

  test('local features survive a restart (LanceDB column) and the rerank is unchanged', async () => {
    const before = await ts.rpc.search({ image: query, topK: 5, shortlistK: 5 });
    const { dataDir } = ts;
    const restarted = await startTestServer({ modelManifest: MANIFEST, usePairHead: true, dataDir: await copyOf(dataDir) });
    try {
      const after = await restarted.rpc.search({ image: query, topK: 5, shortlistK: 5 });
      expect(after.hits.map((h) => [h.itemId, h.score])).toEqual(before.hits.map((h) => [h.itemId, h.score]));
    } finally {
      await restarted.stop();
    }
  });
});

describe('a pair head that also takes the embedding cosine (manifest inputs.cosine)', () => {
  test('Search and Compare feed it the pair cosine', async () => {
    const ts = await startTestServer({ modelManifest: path.join(path.dirname(MANIFEST), 'manifest-cosine.json'), usePairHead: true });
    try {
      const items: Record<string, Buffer> = {
        layout: await halves([255, 0, 0], [0, 60, 255]),
        purple: await halves([128, 0, 128], [128, 0, 128]),
        green: await halves([0, 255, 0], [0, 200, 40]),
      };
      await ts.rpc.upsertItems(Object.entries(items).map(([itemId, image]) => ({ itemId, image, metadata: {} })));
      const query = await halves([255, 0, 0], [0, 0, 255]);
      const q = await features(query);
      const res = await ts.rpc.search({ image: query, topK: 3, shortlistK: 3 });
      for (const h of res.hits) {
        const f = await features(items[h.itemId]);
        const cos = cosine(q.embedding, f.embedding);
        expect(h.coarseScore).toBeCloseTo(cos, 4);
        expect(h.score).toBeCloseTo(probability(q.local, f.local, 4, cos), 3);
      }
      const cmp = await ts.rpc.compare({ a: image(query), b: image(items.purple) });
      const f = await features(items.purple);
      expect(cmp.score).toBeCloseTo(probability(q.local, f.local, 4, cosine(q.embedding, f.embedding)), 5);
    } finally {
      await ts.stop();
    }
  });
});

describe('switching a catalog from a model without a head to one with it', () => {
  test('items are re-embedded at start-up with local features, and Search reranks them', async () => {
    const dataDir = await makeTempDir();
    try {
      const plain = await startTestServer({ dataDir }); // the bundled MobileNetV2: no local features
      const items = [
        { itemId: 'layout', image: await halves([255, 0, 0], [0, 60, 255]) },
        { itemId: 'purple', image: await halves([128, 0, 128], [128, 0, 128]) },
      ];
      await plain.rpc.upsertItems(items.map((i) => ({ ...i, metadata: {} })));
      await plain.stop();
      const twin = await startTestServer({ dataDir, modelManifest: MANIFEST, usePairHead: true });
      try {
        // The service may keep serving the old model while it re-embeds in the background: wait for the switch.
        await twin.server.backgroundReembed;
        expect((await twin.rpc.getCatalogStats()).itemCount).toBe(2);
        const res = await twin.rpc.search({ image: await halves([255, 0, 0], [0, 0, 255]), topK: 2, shortlistK: 2 });
        expect(res.rankedBy).toBe(RankingStage.RANKING_STAGE_PAIR_HEAD);
        expect(res.hits.map((h) => h.itemId)).toEqual(['layout', 'purple']);
      } finally {
        await twin.stop();
      }
    } finally {
      await fs.rm(dataDir, { recursive: true, force: true });
    }
  });
});

/** A copy of a data directory, so a second server can open it while the first still runs. */
async function copyOf(dir: string): Promise<string> {
  const copy = await makeTempDir();
  await fs.cp(dir, copy, { recursive: true });
  return copy;
}

describe('a model with a pair head when usePairHead is off (the default)', () => {
  test('Search ranks by the embedding cosine, Compare scores by it, and the head is not reported', async () => {
    const ts = await startTestServer({ modelManifest: MANIFEST });
    try {
      expect((await ts.rpc.getServiceInfo()).hasPairHead).toBe(false);
      const items = { layout: await halves([255, 0, 0], [0, 60, 255]), purple: await halves([128, 0, 128], [128, 0, 128]) };
      await ts.rpc.upsertItems(Object.entries(items).map(([itemId, image]) => ({ itemId, image, metadata: {} })));
      const query = await halves([255, 0, 0], [0, 0, 255]);
      const res = await ts.rpc.search({ image: query, topK: 2, shortlistK: 2 });
      expect(res.rankedBy).toBe(RankingStage.RANKING_STAGE_EMBEDDING);
      for (const h of res.hits) expect(h.score).toBeCloseTo(h.coarseScore, 6);
      const q = await features(query);
      const cmp = await ts.rpc.compare({ a: image(query), b: image(items.purple) });
      expect(cmp.score).toBeCloseTo(cosine(q.embedding, (await features(items.purple)).embedding), 4);
    } finally {
      await ts.stop();
    }
  });
});
