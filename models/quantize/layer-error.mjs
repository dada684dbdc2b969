// Per-layer quantization error: relative L2 error of each dequantized activation of an int8 QDQ model
// (QMODEL with its '<t>_dq0' tensors exposed, see quantize.py expose) against the float activation <t> of CALIB.onnx.
// Usage: node models/quantize/layer-error.mjs CALIB.onnx QEXPOSED.onnx TENSORS.json N VIEWDIR...
import ort from 'onnxruntime-node';
import { readFileSync } from 'node:fs';
import { loadViewSets } from './views.mjs';
const [calib, qm, tensorsFile, n, ...dirs] = process.argv.slice(2);
const { tensors } = JSON.parse(readFileSync(tensorsFile, 'utf8'));
const views = loadViewSets(dirs);
const o = { graphOptimizationLevel: 'all', intraOpNumThreads: 2 };
const a = await ort.InferenceSession.create(calib, o), b = await ort.InferenceSession.create(qm, o);
const names = tensors.filter((t) => b.outputNames.includes(t + '_dq0'));
const err = Object.fromEntries(names.map((t) => [t, [0, 0]]));
const N = Number(n), step = Math.floor(views.count / N);
const emb = [0, 0];
for (let i = 0; i < N; i++) {
  const feeds = { image: new ort.Tensor('float32', views.batch(i * step, 1), [1, 3, views.size, views.size]) };
  const ra = await a.run(feeds), rb = await b.run(feeds);
  for (const t of [...names, 'embedding']) {
    const x = ra[t].data, y = rb[t === 'embedding' ? t : t + '_dq0'].data;
    let d = 0, s = 0;
    for (let k = 0; k < x.length; k++) { d += (x[k] - y[k]) ** 2; s += x[k] ** 2; }
    if (t === 'embedding') { emb[0] += d; emb[1] += s; } else { err[t][0] += d; err[t][1] += s; }
  }
}
for (const t of names) console.log(`${Math.sqrt(err[t][0] / err[t][1]).toFixed(4)}  ${t}`);
console.log(`${Math.sqrt(emb[0] / emb[1]).toFixed(4)}  embedding (before L2 normalisation)`);
