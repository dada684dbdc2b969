// Research helper for issue 12's colour evidence (not shipped): writes 64 x 64 RGB pixels of every
// grocery-dev catalog image (fitted on white) and of every query photo three ways: its u2netp cut-out
// on white, the whole photo, and its central half. Score them with tools/cold/colour_rerank.py.
// usage (after make build): node tools/cold/dump-colour-pixels.mjs OUT_DIR [DATA=../shared/data/grocery-dev]
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createRequire } from 'node:module';
const require = createRequire(import.meta.url);
const D = new URL('../../dist', import.meta.url).pathname;
const sharp = require('sharp');
const { OnnxSalientMask } = require(`${D}/src/model/salient-mask.js`);
const { cutOutProduct } = require(`${D}/src/engine/query-cutout.js`);
const { readQueriesCsv, readCatalogCsv } = require(`${D}/src/eval/index.js`);
const [out, data = '../shared/data/grocery-dev'] = process.argv.slice(2);
if (!out) throw new Error('usage: dump-colour-pixels.mjs OUT_DIR [DATA]');
fs.mkdirSync(out, { recursive: true });
const S = 64;
const mask = await OnnxSalientMask.create(new URL('../../models/u2netp/u2netp.onnx', import.meta.url).pathname, { providers: ['cpu'], intraOpThreads: 2 });
const catalog = await readCatalogCsv(path.join(data, 'catalog.csv'));
const cat = [];
for (const c of catalog) cat.push(await sharp(c.imagePath).flatten({ background: '#fff' }).resize(S, S, { fit: 'contain', background: '#fff' }).removeAlpha().raw().toBuffer());
fs.writeFileSync(path.join(out, 'catalog.rgb'), Buffer.concat(cat));
fs.writeFileSync(path.join(out, 'catalog.json'), JSON.stringify(catalog.map((c) => c.itemId)));
const cutout = [], whole = [], middle = [];
for (const q of await readQueriesCsv(path.join(data, 'queries.csv'))) {
  const bytes = fs.readFileSync(q.imagePath);
  const { data: px, info } = await sharp(bytes).rotate().resize(256, 256, { fit: 'inside' }).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  const raw = { raw: { width: info.width, height: info.height, channels: 3 } };
  whole.push(await sharp(px, raw).resize(S, S, { fit: 'fill' }).raw().toBuffer());
  const { width: w, height: h } = info;
  middle.push(await sharp(px, raw).extract({ left: Math.round(w / 4), top: Math.round(h / 4), width: Math.round(w / 2), height: Math.round(h / 2) }).resize(S, S, { fit: 'fill' }).raw().toBuffer());
  const cut = await cutOutProduct(bytes, mask, { size: S, maxImagePixels: 5e7 });
  cutout.push(cut ? Buffer.from(cut.image.rgb) : whole[whole.length - 1]);
}
for (const [name, bufs] of [['cutout', cutout], ['whole', whole], ['middle', middle]]) fs.writeFileSync(path.join(out, `queries-${name}.rgb`), Buffer.concat(bufs));
await mask.close();
console.log(`${catalog.length} catalog images, ${whole.length} queries -> ${out}`);
