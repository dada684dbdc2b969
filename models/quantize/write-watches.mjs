// Writes N generated demo watches (studio shots only) into DIR, as calibration catalog images.
// Usage: node models/quantize/write-watches.mjs DIR N SEED   (needs dist/: build first)
import { writeDemoSamples } from '../../dist/src/demo/write-samples.js';
import { rm } from 'node:fs/promises';
const [dir, n = '60', seed = '4242'] = process.argv.slice(2);
const files = await writeDemoSamples(dir, Number(n), { seed: Number(seed) });
for (const f of files) await rm(f.degraded); // the simulator makes the photos
console.log(`${files.length} watches in ${dir}`);
