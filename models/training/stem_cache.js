// Frozen-stem activations with onnxruntime-node (several times faster than PyTorch's CPU depthwise
// convolutions): runs STEM.onnx (image -> cut tensor) over the views named in INDEX (int32 raw) of
// VIEWS.u8 (N x 224 x 224 x 3 uint8) and appends float32 outputs to OUT.
// usage: node stem_cache.js STEM.onnx VIEWS.u8 INDEX.i32 OUT.f32 [batch] [threads]
// Progress: one JSON line per batch: {"done", "total"}.
'use strict';
const fs = require('node:fs');
const path = require('node:path');

async function main() {
  const [model, viewsPath, indexPath, outPath, batchArg, threadsArg] = process.argv.slice(2);
  const ort = require(require.resolve('onnxruntime-node', { paths: [path.resolve(__dirname, '..', '..')] }));
  const batch = Number(batchArg || 16);
  const session = await ort.InferenceSession.create(model, {
    intraOpNumThreads: Number(threadsArg || 2),
    graphOptimizationLevel: 'all',
  });
  const ib = fs.readFileSync(indexPath);
  const index = new Int32Array(ib.buffer, ib.byteOffset, ib.length / 4);
  const px = 224 * 224;
  const fd = fs.openSync(viewsPath, 'r');
  const out = fs.openSync(outPath, 'w');
  const raw = Buffer.alloc(px * 3);
  for (let s = 0; s < index.length; s += batch) {
    const n = Math.min(batch, index.length - s);
    const x = new Float32Array(n * 3 * px);
    for (let b = 0; b < n; b++) {
      fs.readSync(fd, raw, 0, raw.length, index[s + b] * raw.length);
      const o = b * 3 * px;
      for (let p = 0; p < px; p++) {
        x[o + p] = raw[p * 3] / 255;
        x[o + px + p] = raw[p * 3 + 1] / 255;
        x[o + 2 * px + p] = raw[p * 3 + 2] / 255;
      }
    }
    const r = await session.run({ image: new ort.Tensor('float32', x, [n, 3, 224, 224]) });
    const t = r[session.outputNames[0]];
    fs.writeSync(out, Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength));
    process.stdout.write(JSON.stringify({ done: s + n, total: index.length }) + '\n');
  }
  fs.closeSync(out);
}
main().catch((e) => {
  process.stderr.write(`${e.stack || e}\n`);
  process.exit(1);
});
