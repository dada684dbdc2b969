#!/usr/bin/env node
'use strict';
/**
 * Run the ORIGINAL TF.js graph model (nsfwjs `mobilenet_v2_mid`, loaded straight from the package's
 * base64 .min.js files with @tensorflow/tfjs, pure-JS CPU backend) on four deterministic 224x224
 * RGB inputs and record the pooled 1792-d feature vector (graph node
 * `.../feature_vector/SpatialSqueeze`, the input of the 1792->5 dense head) plus the 5-d logits
 * and softmax to test/fixtures/model/tfjs-reference.json.
 *
 * test/model-conversion.test.ts regenerates the same inputs (the recipes below are re-implemented
 * there; the FNV-1a hash of each input's bytes is stored so the test can prove it rebuilt them
 * exactly) and compares models/mobilenet_v2_140/model.onnx under onnxruntime-node with them.
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

// ---- deterministic inputs (keep in sync with test/model-conversion.test.ts) ---------------------
function mulberry32(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const clampByte = (v) => (v < 0 ? 0 : v > 255 ? 255 : Math.round(v));

/** Each recipe returns SIZE*SIZE*3 bytes, row-major HWC, RGB. Only + - * / and comparisons. */
const RECIPES = [
  {
    name: 'noise',
    recipe: 'mulberry32(seed=1): byte = floor(rng()*256) for every value in HWC order',
    make() {
      const rng = mulberry32(1);
      const b = new Uint8Array(SIZE * SIZE * 3);
      for (let i = 0; i < b.length; i++) b[i] = Math.floor(rng() * 256);
      return b;
    },
  },
  {
    name: 'hgradient',
    recipe: 'R = round(255*x/223), G = 255-R, B = 64',
    make() {
      const b = new Uint8Array(SIZE * SIZE * 3);
      for (let y = 0; y < SIZE; y++) {
        for (let x = 0; x < SIZE; x++) {
          const i = (y * SIZE + x) * 3;
          const r = Math.round((255 * x) / (SIZE - 1));
          b[i] = r;
          b[i + 1] = 255 - r;
          b[i + 2] = 64;
        }
      }
      return b;
    },
  },
  {
    name: 'gray',
    recipe: 'constant 128 in every channel',
    make() {
      return new Uint8Array(SIZE * SIZE * 3).fill(128);
    },
  },
  {
    name: 'scene',
    recipe:
      'sky gradient (y<120) over green-brown ground; shaded red disc centre (80,130) r=45; ' +
      'yellow box x 130..200, y 60..170 with dark stripes every 12 rows; ' +
      'plus mulberry32(seed=7) noise: floor(rng()*17)-8 per value; clamp+round to bytes',
    make() {
      const rng = mulberry32(7);
      const b = new Uint8Array(SIZE * SIZE * 3);
      for (let y = 0; y < SIZE; y++) {
        for (let x = 0; x < SIZE; x++) {
          let r;
          let g;
          let bl;
          if (y < 120) {
            r = 90 + y * 0.8;
            g = 140 + y * 0.6;
            bl = 235 - y * 0.3;
          } else {
            r = 95 + ((x * 7 + y * 3) % 23);
            g = 120 + ((x * 5 + y * 11) % 31);
            bl = 50 + (y - 120) * 0.2;
          }
          const dx = x - 80;
          const dy = y - 130;
          const d2 = dx * dx + dy * dy;
          if (d2 < 45 * 45) {
            const shade = 1 - d2 / (45 * 45 * 2) - (dx + dy) / 200;
            r = 210 * shade + 20;
            g = 30 * shade + 10;
            bl = 35 * shade + 10;
            if ((dx + 15) * (dx + 15) + (dy + 15) * (dy + 15) < 64) {
              r = 250;
              g = 230;
              bl = 230; // specular highlight
            }
          }
          if (x >= 130 && x < 200 && y >= 60 && y < 170) {
            const stripe = (y - 60) % 12 < 3;
            r = stripe ? 60 : 235 - (x - 130) * 0.5;
            g = stripe ? 40 : 200 - (y - 60) * 0.3;
            bl = stripe ? 30 : 40;
          }
          const i = (y * SIZE + x) * 3;
          b[i] = clampByte(r + Math.floor(rng() * 17) - 8);
          b[i + 1] = clampByte(g + Math.floor(rng() * 17) - 8);
          b[i + 2] = clampByte(bl + Math.floor(rng() * 17) - 8);
        }
      }
      return b;
    },
  },
];

function fnv1a(bytes) {
  let h = 0x811c9dc5;
  for (let i = 0; i < bytes.length; i++) {
    h ^= bytes[i];
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h.toString(16).padStart(8, '0');
}

/** float32 -> shortest decimal that round-trips through float32 (<= 9 significant digits). */
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

module.exports = { RECIPES, mulberry32, fnv1a };

if (require.main === module) {
  main().catch((e) => {
    console.error(e);
    process.exit(1);
  });
}
