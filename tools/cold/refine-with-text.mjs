// Measurement helper for issue 12: does the text evidence slow catalog refinement? Indexes the first 150
// eval-scale items (make eval-scale makes them) in a fresh engine with textEvidence off, on, on, off, and prints
// the refine time and how many OCR reads happened meanwhile (the background reading should wait for the refiner).
// usage (after make build): node tools/cold/refine-with-text.mjs
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
const D = new URL('../../dist', import.meta.url).pathname;
const { createEngine } = await import(`${D}/src/engine/create-engine.js`);
const { validateOptions } = await import(`${D}/src/config/index.js`);
const { readCatalogCsv } = await import(`${D}/src/eval/index.js`);
const { indexBenchmarkCatalog } = await import(`${D}/src/eval/run-eval.js`);
const silent = { info() {}, warn() {}, error() {}, debug() {} };
const items = (await readCatalogCsv(new URL('../../data/eval-scale/catalog.csv', import.meta.url).pathname)).slice(0, 150);
for (const text of [false, true, true, false]) {
  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'rf-'));
  const created = await createEngine(validateOptions({ dataDir, seedDemoCatalog: false, confirmRetentionMs: 0, textEvidence: text }), silent);
  const reads = [];
  if (created.engine.textEvidence) {
    const orig = created.engine.textEvidence.o.reader.read.bind(created.engine.textEvidence.o.reader);
    created.engine.textEvidence.o.reader.read = async (b) => { reads.push(Date.now()); return orig(b); };
  }
  const t = Date.now();
  const { indexSeconds, refineSeconds } = await indexBenchmarkCatalog(created.engine, items);
  console.log(`text ${text}: index ${indexSeconds} refine ${refineSeconds} s; OCR reads during: ${reads.filter((r) => r <= Date.now()).length}`);
  await created.engine.close();
  await fs.rm(dataDir, { recursive: true, force: true });
}
