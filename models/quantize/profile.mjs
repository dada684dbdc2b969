// Where a model's time goes in onnxruntime-node: per op type, from ORT's own profiler.
// Usage: node models/quantize/profile.mjs MODEL.onnx [batch=16] [runs=5]
import ort from 'onnxruntime-node';
import { readFileSync, readdirSync, rmSync } from 'node:fs';
const [model, batch = '16', runs = '5'] = process.argv.slice(2);
const prefix = `/tmp/twinlens-prof-${process.pid}`;
const s = await ort.InferenceSession.create(model, { graphOptimizationLevel: 'all', intraOpNumThreads: 2, enableProfiling: true, profileFilePrefix: prefix });
const b = Number(batch);
const feeds = { image: new ort.Tensor('float32', new Float32Array(b * 3 * 224 * 224).map(() => Math.random()), [b, 3, 224, 224]) };
for (let i = 0; i < Number(runs); i++) await s.run(feeds);
s.endProfiling();
await s.release();
const file = readdirSync('/tmp').filter((f) => f.startsWith(`twinlens-prof-${process.pid}`))[0];
const ev = JSON.parse(readFileSync(`/tmp/${file}`, 'utf8'));
rmSync(`/tmp/${file}`);
const by = {};
let total = 0;
for (const e of ev) {
  if (e.cat !== 'Node' || !e.name.endsWith('_kernel_time')) continue;
  const k = e.args.op_name;
  by[k] = (by[k] || 0) + e.dur; total += e.dur;
}
for (const [k, v] of Object.entries(by).sort((a, b) => b[1] - a[1])) console.log(`${k.padEnd(20)} ${(v / 1000 / Number(runs)).toFixed(1).padStart(8)} ms/run ${((100 * v) / total).toFixed(1).padStart(5)}%`);
console.log(`total kernel time ${(total / 1000 / Number(runs)).toFixed(1)} ms/run at batch ${b}`);
