#!/usr/bin/env node
'use strict';
/**
 * Decode the TF.js graph model `mobilenet_v2_mid` shipped inside the npm package nsfwjs
 * (node_modules/nsfwjs/dist/models/mobilenet_v2_mid/) and write its topology and dequantized
 * float32 weights to a plain layout that models/convert/build_onnx.py reads with numpy only.
 *
 * The package ships the model as three UMD JavaScript files:
 *   model.min.js              -> module.exports = { format, modelTopology, weightsManifest, ... }
 *   group1-shard{1,2}of2.min.js -> module.exports = "<base64 of the weight shard>"
 * Every weight is uint8-quantized per tensor: value = q * scale + min (scale/min in the manifest),
 * dequantized here exactly as tfjs-core does it (double arithmetic, stored as float32).
 *
 * Output (default .tmp/mobilenet_v2_mid/, override with argv[2]):
 *   model.json     the original model.json (modelTopology + weightsManifest), pretty-printed
 *   weights.json   [{name, shape, offset, length, min, scale}]: offset/length in elements
 *   weights.f32    all dequantized weights, float32 little-endian, concatenated in manifest order
 *   weights.u8     the raw uint8 quantized values, same order/offsets (for an optional uint8 build)
 *
 * Usage: node models/convert/extract-tfjs-weights.js [outDir]
 * Also usable as a module: loadNsfwjsGraphModel() returns the decoded pieces.
 */
const fs = require('fs');
const path = require('path');

const ROOT = path.resolve(__dirname, '..', '..');
const MODEL_DIR = path.join(ROOT, 'node_modules', 'nsfwjs', 'dist', 'models', 'mobilenet_v2_mid');

function loadNsfwjsGraphModel(modelDir = MODEL_DIR) {
  const modelJson = require(path.join(modelDir, 'model.min.js'));
  if (modelJson.format !== 'graph-model' || !modelJson.modelTopology || !modelJson.weightsManifest) {
    throw new Error(`${modelDir}/model.min.js is not a TF.js graph model`);
  }
  const shards = [];
  const specs = [];
  for (const group of modelJson.weightsManifest) {
    for (const p of group.paths) {
      const b64 = require(path.join(modelDir, `${p}.min.js`));
      if (typeof b64 !== 'string') throw new Error(`${p}.min.js did not export a base64 string`);
      shards.push(Buffer.from(b64, 'base64'));
    }
    specs.push(...group.weights);
  }
  const weightData = Buffer.concat(shards);
  // ArrayBuffer holding exactly the concatenated shard bytes (for tf.io.fromMemory).
  const weightBuffer = weightData.buffer.slice(weightData.byteOffset, weightData.byteOffset + weightData.byteLength);

  const tensors = [];
  let byteOffset = 0;
  let elemOffset = 0;
  for (const spec of specs) {
    const size = spec.shape.reduce((a, b) => a * b, 1);
    const q = spec.quantization;
    if (spec.dtype !== 'float32' || !q || q.dtype !== 'uint8') {
      throw new Error(`unsupported weight encoding for ${spec.name}: ${JSON.stringify(spec)}`);
    }
    const raw = weightData.subarray(byteOffset, byteOffset + size);
    const values = new Float32Array(size);
    for (let i = 0; i < size; i++) values[i] = raw[i] * q.scale + q.min; // same as tfjs-core io_utils
    tensors.push({ name: spec.name, shape: spec.shape, offset: elemOffset, length: size, min: q.min, scale: q.scale, raw, values });
    byteOffset += size;
    elemOffset += size;
  }
  if (byteOffset !== weightData.length) {
    throw new Error(`weight manifest covers ${byteOffset} bytes, shards hold ${weightData.length}`);
  }
  return { modelJson, specs, weightBuffer, tensors };
}

function main() {
  const outDir = path.resolve(process.argv[2] || path.join(ROOT, '.tmp', 'mobilenet_v2_mid'));
  fs.mkdirSync(outDir, { recursive: true });
  const { modelJson, tensors } = loadNsfwjsGraphModel();
  const total = tensors.reduce((a, t) => a + t.length, 0);
  const f32 = new Float32Array(total);
  const u8 = new Uint8Array(total);
  for (const t of tensors) {
    f32.set(t.values, t.offset);
    u8.set(t.raw, t.offset);
  }
  fs.writeFileSync(path.join(outDir, 'model.json'), JSON.stringify(modelJson, null, 1));
  fs.writeFileSync(
    path.join(outDir, 'weights.json'),
    JSON.stringify(tensors.map(({ name, shape, offset, length, min, scale }) => ({ name, shape, offset, length, min, scale })), null, 1),
  );
  // Float32Array is little-endian on every platform Node runs on here (x86-64, arm64).
  fs.writeFileSync(path.join(outDir, 'weights.f32'), Buffer.from(f32.buffer));
  fs.writeFileSync(path.join(outDir, 'weights.u8'), Buffer.from(u8.buffer));
  const ops = {};
  for (const n of modelJson.modelTopology.node) ops[n.op] = (ops[n.op] || 0) + 1;
  console.log(`extracted ${tensors.length} tensors, ${total} parameters -> ${outDir}`);
  console.log(`graph ops: ${JSON.stringify(ops)}`);
}

module.exports = { loadNsfwjsGraphModel, MODEL_DIR };

if (require.main === module) main();
