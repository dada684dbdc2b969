import * as path from 'node:path';
import { DEFAULT_OPTIONS } from '../../config/index.js';
import { createRng, degradeImage } from '../../demo/index.js';
import { readQueriesCsv } from '../../eval/index.js';
import { createSharpDecoder } from '../../imaging/index.js';
import { loadManifest } from '../../model/index.js';
import { writeQuerySet, writeViewSet } from '../../simulate/index.js';
import { sourceItems } from './index-catalog.js';

/** Flags of `twinlens simulate`. */
export interface SimulateCommandOptions {
  catalog?: string;
  queries?: string;
  views: number;
  out: string;
  seed: number;
  concurrency: number;
  model: string;
}

/** A progress line on stderr, at most once a second (and at the end). */
function progress(what: string): (done: number, total: number) => void {
  let last = 0;
  return (done, total) => {
    if (done < total && Date.now() - last < 1000) return;
    last = Date.now();
    process.stderr.write(process.stderr.isTTY ? `\r${what} ${done}/${total}   ` : `${what} ${done}/${total}\n`);
  };
}

/**
 * `twinlens simulate --catalog SRC --views K --out DIR`: simulated photo views of every catalog item
 * (plus its clean image), decoded exactly as serving decodes them, for the trainer. `--queries CSV`
 * also dumps benchmark photos through the same decoder (evaluation only).
 */
export async function simulateCommand(o: SimulateCommandOptions): Promise<void> {
  if (!o.catalog && !o.queries) throw new Error('simulate: give --catalog and/or --queries');
  const manifest = await loadManifest(o.model);
  const decoder = createSharpDecoder({
    size: manifest.input.size,
    maxImageBytes: DEFAULT_OPTIONS.maxImageBytes,
    maxImagePixels: DEFAULT_OPTIONS.maxImagePixels,
    maxImageFrames: DEFAULT_OPTIONS.maxImageFrames,
  });
  if (o.catalog) {
    const items = await sourceItems(o.catalog);
    const started = Date.now();
    const index = await writeViewSet({
      items,
      viewsPerItem: o.views,
      outDir: o.out,
      seed: o.seed,
      decoder,
      concurrency: o.concurrency,
      simulate: (image, seed) => degradeImage(image, {}, createRng(seed)),
      simulatorDescription: 'src/demo degradeImage defaults (640x480 photo), decoded by the service decoder',
      onProgress: progress('simulated items'),
    });
    const s = (Date.now() - started) / 1000;
    process.stderr.write('\n');
    console.log(
      `${index.count} views of ${index.items.length} items (${o.views} simulated + 1 clean each) in ${s.toFixed(1)} s ` +
        `(${(index.count / s).toFixed(1)} views/s) -> ${path.join(o.out, 'views.u8')}`,
    );
  }
  if (o.queries) {
    const queries = await readQueriesCsv(o.queries);
    const index = await writeQuerySet({ queries, outDir: o.out, decoder, concurrency: o.concurrency, onProgress: progress('decoded photos') });
    process.stderr.write('\n');
    console.log(`${index.count} benchmark photos (evaluation only) -> ${path.join(o.out, 'queries.u8')}`);
  }
}
