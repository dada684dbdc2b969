// Research probe for issue 12's text evidence (not shipped; OCR is not a twinlens dependency yet).
// OCRs every grocery-dev catalog image and query photo with PaddleOCR's PP-OCRv4 ONNX models through
// @gutenye/ocr-node, each image first enlarged SCALE times (the catalog images are 198 px), and writes
// OUT.json: { catalog: { itemId: { cat, texts: [[text, confidence], ...] } }, queries: [{ image, item, cat, texts }] }.
// Score it with tools/cold/text_rerank.py.
//
// The OCR package lives outside the repo (it brings its own onnxruntime-node, sharp and opencv.js):
//   mkdir -p /tmp/ocrmod && cd /tmp/ocrmod && echo '{"private":true}' > package.json &&
//   ONNXRUNTIME_NODE_INSTALL=skip npm install --no-audit --no-fund @gutenye/ocr-node@1.4.8
// usage: node tools/cold/ocr-probe.mjs OUT.json [SCALE=2] [DATA=../shared/data/grocery-dev] [OCR_PREFIX=/tmp/ocrmod]
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import sharp from 'sharp';

const [out, scaleArg = '2', data = '../shared/data/grocery-dev', prefix = '/tmp/ocrmod'] = process.argv.slice(2);
if (!out) throw new Error('usage: node tools/cold/ocr-probe.mjs OUT.json [SCALE] [DATA] [OCR_PREFIX]');
const scale = Number(scaleArg);
const { default: Ocr } = await import(path.resolve(prefix, 'node_modules/@gutenye/ocr-node/build/index.js'));
const ocr = await Ocr.create();
const csv = async (f) => (await fs.readFile(f, 'utf8')).trim().split(/\r?\n/).slice(1).map((l) => l.split(','));
const tmp = path.join(prefix, `enlarged-${process.pid}.png`);
const read = async (rel) => {
  const image = sharp(path.join(data, rel));
  const { width } = await image.metadata();
  await image.resize(Math.round(width * scale)).png().toFile(tmp);
  return (await ocr.detect(tmp)).map((x) => [x.text, Number(x.mean.toFixed(3))]);
};
const result = { scale, catalog: {}, queries: [] };
const started = Date.now();
for (const [id, , , cat, image] of await csv(path.join(data, 'catalog.csv'))) result.catalog[id] = { cat, texts: await read(image) };
for (const [image, item, cat] of await csv(path.join(data, 'queries.csv'))) result.queries.push({ image, item, cat, texts: await read(image) });
await fs.writeFile(out, JSON.stringify(result));
await fs.rm(tmp, { force: true });
const n = Object.keys(result.catalog).length + result.queries.length;
console.log(`${n} images in ${((Date.now() - started) / 1000).toFixed(1)} s (${((Date.now() - started) / n).toFixed(0)} ms each) -> ${out}`);
