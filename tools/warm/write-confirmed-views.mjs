// Writes a trainer view set (models/training/: views.u8 + views.json, the format of `twinlens simulate`)
// in which an item's "simulated views" are its confirmed photos: the catalog image (clean) plus the
// item's photos from a feedback csv, for the items that `--feedback-item-fraction F` gives photos to
// (the same deterministic choice as `twinlens eval`). For the warm path's question: does fine-tuning
// the twin on confirmed pairs of some items help the items nobody confirmed?
// Usage (after make build): node tools/warm/write-confirmed-views.mjs CATALOG.csv FEEDBACK.csv FRACTION OUTDIR [PER_ITEM]
// (PER_ITEM: the first K photos of each item in file order, as `eval --feedback-per-item K` feeds them)
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { createSharpDecoder } from '../../dist/src/imaging/index.js';
import { readCatalogCsv, readQueriesCsv } from '../../dist/src/eval/benchmark-csv.js';
import { feedbackByItem } from '../../dist/src/eval/feedback.js';

const [catalogCsv, feedbackCsv, fraction, outDir, perItemArg] = process.argv.slice(2);
const perItem = perItemArg ? Number(perItemArg) : Infinity;
const size = 224;
const decoder = createSharpDecoder({ size, maxImageBytes: 20 << 20, maxImagePixels: 50_000_000 });
const catalog = await readCatalogCsv(catalogCsv);
const byItem = feedbackByItem(await readQueriesCsv(feedbackCsv), Number(fraction));
const items = catalog.filter((it) => byItem.has(it.itemId));
await fs.mkdir(outDir, { recursive: true });
const out = await fs.open(path.join(outDir, 'views.u8'), 'w');
const views = [];
for (const [i, it] of items.entries()) {
  for (const [clean, file] of [[true, it.imagePath], ...byItem.get(it.itemId).slice(0, perItem).map((q) => [false, q.imagePath])]) {
    const d = await decoder.decode(await fs.readFile(file));
    await out.write(d.rgb);
    views.push({ item: i, clean });
  }
}
await out.close();
const index = {
  format: 'twinlens-views-v1',
  size,
  layout: 'NHWC-uint8-RGB',
  count: views.length,
  seed: 0,
  viewsPerItem: Math.max(...items.map((it) => Math.min(perItem, byItem.get(it.itemId).length))),
  items: items.map((it) => ({ itemId: it.itemId, image: it.imagePath, metadata: it.metadata })),
  views,
  simulator: `none: confirmed photos from ${feedbackCsv} (item fraction ${fraction}) as the views of their items`,
};
await fs.writeFile(path.join(outDir, 'views.json'), JSON.stringify(index));
console.log(`${items.length} items, ${views.length} views (${views.length - items.length} confirmed photos) -> ${outDir}`);
await decoder.close?.();
