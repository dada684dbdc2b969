// Activation statistics for quantize.py: runs CALIB.onnx (the float model with its activations exposed) in
// onnxruntime-node over view sets; pass 1 min/max, pass 2 a histogram over [min, max] per tensor.
// Usage: node models/quantize/calibrate.mjs CALIB.onnx TENSORS.json STATS.json VIEWDIR...
import ort from 'onnxruntime-node';
import { readFileSync, writeFileSync } from 'node:fs';
import { loadViewSets } from './views.mjs';

const [model, tensorsFile, out, ...dirs] = process.argv.slice(2);
const { tensors } = JSON.parse(readFileSync(tensorsFile, 'utf8'));
const views = loadViewSets(dirs);
const BINS = 2048;
const B = 8;
const session = await ort.InferenceSession.create(model, { graphOptimizationLevel: 'all', intraOpNumThreads: 2 });
const stats = Object.fromEntries(tensors.map((t) => [t, { min: Infinity, max: -Infinity, hist: new Float64Array(BINS) }]));
const started = Date.now();
for (const pass of [1, 2]) {
  for (let s = 0; s < views.count; s += B) {
    const n = Math.min(B, views.count - s);
    const feeds = { image: new ort.Tensor('float32', views.batch(s, n), [n, 3, views.size, views.size]) };
    const res = await session.run(feeds, tensors);
    for (const t of tensors) {
      const d = res[t].data;
      const st = stats[t];
      if (pass === 1) {
        let lo = st.min, hi = st.max;
        for (let i = 0; i < d.length; i++) { const v = d[i]; if (v < lo) lo = v; if (v > hi) hi = v; }
        st.min = lo; st.max = hi;
      } else {
        const k = BINS / (st.max - st.min || 1), h = st.hist, lo = st.min;
        for (let i = 0; i < d.length; i++) { let b = ((d[i] - lo) * k) | 0; if (b >= BINS) b = BINS - 1; h[b]++; }
      }
    }
    for (const t of tensors) res[t].dispose?.();
  }
  console.error(`pass ${pass}: ${views.count} images, ${((Date.now() - started) / 1000).toFixed(0)} s`);
}
const json = { images: views.count, sets: dirs, bins: BINS, stats: Object.fromEntries(tensors.map((t) => [t, { ...stats[t], hist: Array.from(stats[t].hist) }])) };
writeFileSync(out, JSON.stringify(json));
console.log(`${tensors.length} tensors over ${views.count} images -> ${out}`);
