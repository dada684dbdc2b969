#!/usr/bin/env node
'use strict';
/**
 * Run the ORIGINAL TF.js graph model (nsfwjs `mobilenet_v2_mid`, loaded straight from the package's
 * base64 .min.js files with @tensorflow/tfjs, pure-JS CPU backend) on four deterministic 224x224
 * RGB inputs and record the pooled 1792-d feature vector (graph node
 * `.../feature_vector/SpatialSqueeze`, the input of the 1792->5 dense head) plus the 5-d logits
 * and softmax to test/fixtures/model/tfjs-reference.json.
 *
 * The inputs come from reference-inputs.js, which test/model/model-conversion.test.ts uses too; the
 * FNV-1a hash of each input's bytes is stored so the test can prove it rebuilt them exactly. The
 * test compares models/mobilenet_v2_140/model.onnx under onnxruntime-node with these outputs.
 *
 * Usage: node models/convert/record-tfjs-reference.js [out.json]
 */
const fs = require('fs');
const path = require('path');
const tf = require('@tensorflow/tfjs');
const { loadNsfwjsGraphModel } = require('./extract-tfjs-weights.js');

const ROOT = path.resolve(__dirname, '..', '..');
const OUT = path.resolve(process.argv[2] || path.join(ROOT, 'test', 'fixtures', 'model', 'tfjs-reference.json'));
const SIZE = 224;
const PREFIX = 'StatefulPartitionedCall/sequential/keras_layer/StatefulPartitionedCall/StatefulPartitionedCall/StatefulPartitionedCall/predict/';
const FEATURE_NODE = `${PREFIX}feature_vector/SpatialSqueeze`;
const LOGITS_NODE = 'StatefulPartitionedCall/sequential/dense/BiasAdd';
const PROBS_NODE = 'Identity';

const { RECIPES, fnv1a } = require('./reference-inputs.js');

function f32(v) {
  for (let p = 6; p < 9; p++) {
    const s = Number(v.toPrecision(p));
    if (Math.fround(s) === v) return s;
  }
  return Number(v.toPrecision(9));
}

async function main() {
  await tf.setBackend('cpu');
  await tf.ready();
  const { modelJson, specs, weightBuffer } = loadNsfwjsGraphModel();
  const model = await tf.loadGraphModel(
    tf.io.fromMemory({ modelTopology: modelJson.modelTopology, weightSpecs: specs, weightData: weightBuffer, format: modelJson.format }),
  );

  const inputs = RECIPES.map((r) => ({ ...r, bytes: r.make() }));
  const n = inputs.length;
  const data = new Float32Array(n * SIZE * SIZE * 3);
  inputs.forEach((inp, k) => {
    for (let i = 0; i < inp.bytes.length; i++) data[k * inp.bytes.length + i] = inp.bytes[i] / 255;
  });
  const x = tf.tensor4d(data, [n, SIZE, SIZE, 3]);
  const t0 = Date.now();
  const [feat, logits, probs] = model.execute(x, [FEATURE_NODE, LOGITS_NODE, PROBS_NODE]);
  const featData = await feat.data();
  const logitData = await logits.data();
  const probData = await probs.data();
  const ms = Date.now() - t0;
  if (feat.shape.join() !== `${n},1792`) throw new Error(`feature shape ${feat.shape}`);

  const cases = inputs.map((inp, k) => ({
    name: inp.name,
    recipe: inp.recipe,
    fnv1a: fnv1a(inp.bytes),
    embedding: Array.from(featData.subarray(k * 1792, (k + 1) * 1792), f32),
    logits: Array.from(logitData.subarray(k * 5, (k + 1) * 5), f32),
    softmax: Array.from(probData.subarray(k * 5, (k + 1) * 5), f32),
  }));
  const out = {
    description:
      'TF.js reference outputs of nsfwjs mobilenet_v2_mid (MobileNetV2 1.4 feature vector + 1792->5 dense) ' +
      'for 4 deterministic 224x224 RGB inputs; written by models/convert/record-tfjs-reference.js',
    source: `nsfwjs@${JSON.parse(fs.readFileSync(path.join(ROOT, 'node_modules', 'nsfwjs', 'package.json'), 'utf8')).version} dist/models/mobilenet_v2_mid`,
    tfjs: `@tensorflow/tfjs@${tf.version.tfjs}, backend ${tf.getBackend()}`,
    featureNode: FEATURE_NODE,
    logitsNode: LOGITS_NODE,
    input: {
      size: SIZE,
      layout: 'HWC bytes -> float32 byte/255, RGB; TF.js NHWC, ONNX NCHW',
      hash: 'FNV-1a 32-bit over the HWC bytes',
    },
    cases,
  };
  fs.mkdirSync(path.dirname(OUT), { recursive: true });
  fs.writeFileSync(OUT, JSON.stringify(out) + '\n');
  console.log(`TF.js (${tf.getBackend()}) ran ${n} images in ${ms} ms -> ${OUT} (${fs.statSync(OUT).size} bytes)`);
  for (const c of cases) {
    const norm = Math.sqrt(c.embedding.reduce((a, v) => a + v * v, 0));
    console.log(`  ${c.name.padEnd(10)} fnv1a=${c.fnv1a} |emb|=${norm.toFixed(3)} softmax=${c.softmax.map((v) => v.toFixed(3)).join(',')}`);
  }
}

module.exports = { RECIPES, fnv1a };

if (require.main === module) {
  main().catch((e) => {
    console.error(e);
    process.exit(1);
  });
}
