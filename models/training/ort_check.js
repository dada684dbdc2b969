// Runs an ONNX file with onnxruntime-node (the service's runtime) on raw float32 inputs and writes
// the outputs as raw float32, so export.py can compare ONNX Runtime with PyTorch.
// usage: node ort_check.js SPEC.json   SPEC: {"model", "inputs": {name: {"file", "dims"}}, "outputs": {name: file}}
'use strict';
const fs = require('node:fs');
const path = require('node:path');

async function main() {
  const spec = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
  const ort = require(require.resolve('onnxruntime-node', { paths: [path.resolve(__dirname, '..', '..')] }));
  const session = await ort.InferenceSession.create(spec.model, { intraOpNumThreads: 2 });
  const feeds = {};
  for (const [name, { file, dims }] of Object.entries(spec.inputs)) {
    const b = fs.readFileSync(file);
    feeds[name] = new ort.Tensor('float32', new Float32Array(b.buffer, b.byteOffset, b.length / 4), dims);
  }
  const out = await session.run(feeds);
  const dims = {};
  for (const [name, file] of Object.entries(spec.outputs)) {
    const t = out[name];
    if (!t) throw new Error(`output ${name} missing; got ${Object.keys(out).join(', ')}`);
    fs.writeFileSync(file, Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength));
    dims[name] = t.dims;
  }
  process.stdout.write(JSON.stringify({ dims }) + '\n');
}
main().catch((e) => {
  process.stderr.write(`${e.stack || e}\n`);
  process.exit(1);
});
