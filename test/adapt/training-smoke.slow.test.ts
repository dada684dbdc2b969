/**
 * The whole training path on a handful of generated watches, as CI runs it: simulate views ->
 * models/training/train.py --smoke (a few steps) -> ONNX export -> the real server loads the new
 * model, re-embeds a catalog indexed with the previous model (no item lost) and Search / Compare
 * answer with the pair head (after the background re-embedding switched the service to it). Needs Debian's python3-torch, python3-torchvision, python3-onnx
 * (`make setup-training`; .ci/run installs them); fails with that install command otherwise.
 */
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { adaptModel, type AdaptProgress, type AdaptResult } from '../../src/adapt/index.js';
import { generateDemoCatalog, degradeImage, createRng } from '../../src/demo/index.js';
import { RankingStage } from '../../src/gen/twinlens/v1/twinlens.js';
import { loadManifest } from '../../src/model/index.js';
import { makeTempDir, startTestServer } from '../helpers/server.js';

const image = (value: Buffer) => ({ source: { $case: 'image' as const, value } });
const item = (value: string) => ({ source: { $case: 'itemId' as const, value } });

describe('training path smoke test (generated watches -> simulate -> train --smoke -> export -> serve)', () => {
  let dir: string;
  let dataDir: string;
  let watches: { itemId: string; image: Buffer }[];
  let result: AdaptResult;
  const progress: AdaptProgress[] = [];

  beforeAll(async () => {
    dir = await makeTempDir('twinlens-training-smoke-');
    dataDir = path.join(dir, 'data');
    await fs.mkdir(path.join(dir, 'catalog'));
    watches = (await generateDemoCatalog({ count: 6, seed: 11, sizePx: 256 })).map((w) => ({ itemId: w.itemId, image: w.image }));
    for (const w of watches) await fs.writeFile(path.join(dir, 'catalog', `${w.itemId}.jpg`), w.image);
  });

  afterAll(async () => {
    if (dir) await fs.rm(dir, { recursive: true, force: true });
  });

  test('a catalog indexed with the pretrained model', async () => {
    const ts = await startTestServer({ dataDir });
    try {
      const res = await ts.rpc.upsertItems(watches.map((w) => ({ itemId: w.itemId, image: w.image, metadata: { kind: 'watch' } })));
      expect(res.upserted).toBe(watches.length);
      expect((await ts.rpc.getServiceInfo()).hasPairHead).toBe(false);
    } finally {
      await ts.stop();
    }
  });

  test('adaptModel simulates, trains a few steps and exports a loadable model with a pair head', async () => {
    result = await adaptModel({
      catalog: path.join(dir, 'catalog'),
      outDir: path.join(dir, 'model'),
      version: 'smoke-1',
      viewsPerItem: 4,
      smoke: true,
      budgetMinutes: 5,
      onProgress: (p) => progress.push(p),
    });
    expect(result.items).toBe(6);
    expect(result.views).toBe(6 * 5);
    const stages = new Set(progress.map((p) => p.stage));
    for (const s of ['check', 'simulate', 'train', 'export', 'done']) expect(stages).toContain(s);
    expect(progress.some((p) => p.etaS !== null)).toBe(true);
    const m = await loadManifest(result.manifestPath);
    expect(m.version).toBe('smoke-1');
    expect(m.pairHead).not.toBeNull();
    expect(m.embeddingDim).toBeGreaterThan(0);
    await fs.access(path.join(dir, 'model', 'embedder.onnx'));
    await fs.access(path.join(dir, 'model', 'pair_head.onnx'));
  }, 240_000);

  test('the server starts on the new model, re-embeds every item (none lost) and Search/Compare use the pair head', async () => {
    expect(result).toBeDefined();
    const ts = await startTestServer({ dataDir, modelManifest: result.manifestPath, usePairHead: true });
    try {
      // The previous model keeps serving while the catalog is re-embedded in the background; wait for the switch.
      const deadline = Date.now() + 90_000;
      let info = await ts.rpc.getServiceInfo();
      while (info.modelVersion !== 'smoke-1' && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 250));
        info = await ts.rpc.getServiceInfo();
      }
      expect(info.modelVersion).toBe('smoke-1');
      const stats = await ts.rpc.getCatalogStats();
      expect(stats.itemCount).toBe(watches.length);
      expect(stats.modelVersion).toBe('smoke-1');
      const listed = await ts.rpc.listItems({ pageSize: 100 });
      expect(listed.items.map((i) => i.itemId).sort()).toEqual(watches.map((w) => w.itemId).sort());
      expect(listed.items.every((i) => i.metadata.kind === 'watch')).toBe(true);

      const photo = await degradeImage(watches[2]!.image, {}, createRng(5));
      const res = await ts.rpc.search({ image: photo, topK: 3 });
      expect(res.rankedBy).toBe(RankingStage.RANKING_STAGE_PAIR_HEAD);
      expect(res.modelVersion).toBe('smoke-1');
      expect(res.hits).toHaveLength(3);
      for (const h of res.hits) {
        expect(h.score).toBeGreaterThanOrEqual(0);
        expect(h.score).toBeLessThanOrEqual(1);
      }
      const cmp = await ts.rpc.compare({ a: image(photo), b: item(watches[2]!.itemId) });
      expect(cmp.scoredBy).toBe(RankingStage.RANKING_STAGE_PAIR_HEAD);
      expect(cmp.score).toBeGreaterThanOrEqual(0);
      expect(cmp.score).toBeLessThanOrEqual(1);
      expect(cmp.match).toBe(cmp.score >= cmp.threshold);
      expect(info.hasPairHead).toBe(true);
    } finally {
      await ts.stop();
    }
  }, 120_000);
});
