// Agreement of two or more embedders on simulated view sets (never benchmark photos): per model, cosine of its
// L2-normalised embeddings with the first (reference) model's, and a proxy Recall@1 (each simulated view
// against the set's clean catalog images).
// Usage: node models/quantize/agree.mjs REF.onnx OTHER.onnx... -- VIEWDIR...
import ort from 'onnxruntime-node';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadViewSets } from './views.mjs';

const args = process.argv.slice(2);
const sep = args.indexOf('--');
const models = args.slice(0, sep);
const dirs = args.slice(sep + 1);
const B = 16;

function norm(v) { let s = 0; for (const x of v) s += x * x; s = 1 / Math.sqrt(s); return v.map((x) => x * s); }
const dot = (a, b) => { let s = 0; for (let i = 0; i < a.length; i++) s += a[i] * b[i]; return s; };

async function embedAll(file, views) {
  const session = await ort.InferenceSession.create(file, { graphOptimizationLevel: 'all', intraOpNumThreads: 2 });
  const out = [];
  for (let s = 0; s < views.count; s += B) {
    const n = Math.min(B, views.count - s);
    const r = await session.run({ image: new ort.Tensor('float32', views.batch(s, n), [n, 3, views.size, views.size]) });
    const d = r.embedding.data, dim = d.length / n;
    for (let k = 0; k < n; k++) out.push(norm(Float32Array.from(d.subarray(k * dim, (k + 1) * dim))));
  }
  await session.release();
  return out;
}

function proxyRecall(emb, dirsIdx) {
  // per set: clean view of each item is the catalog; simulated views are queries
  let hit = 0, total = 0, off = 0;
  for (const idx of dirsIdx) {
    const clean = new Map();
    idx.views.forEach((v, i) => { if (v.clean) clean.set(v.item, off + i); });
    const cat = [...clean.entries()];
    idx.views.forEach((v, i) => {
      if (v.clean) return;
      let best = -2, bestItem = -1;
      for (const [item, j] of cat) { const c = dot(emb[off + i], emb[j]); if (c > best) { best = c; bestItem = item; } }
      total++; if (bestItem === v.item) hit++;
    });
    off += idx.count;
  }
  return hit / total;
}

const views = loadViewSets(dirs);
const idx = dirs.map((d) => JSON.parse(readFileSync(join(d, 'views.json'), 'utf8')));
const ref = await embedAll(models[0], views);
console.log(JSON.stringify({ model: models[0], images: views.count, proxyR1: +proxyRecall(ref, idx).toFixed(4) }));
for (const m of models.slice(1)) {
  const e = await embedAll(m, views);
  const cos = e.map((v, i) => dot(v, ref[i])).sort((a, b) => a - b);
  const mean = cos.reduce((a, b) => a + b, 0) / cos.length;
  console.log(JSON.stringify({ model: m, cosMean: +mean.toFixed(5), cosP01: +cos[Math.floor(cos.length * 0.01)].toFixed(5), cosMin: +cos[0].toFixed(5), proxyR1: +proxyRecall(e, idx).toFixed(4) }));
}
