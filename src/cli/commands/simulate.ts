import * as path from 'node:path';
import { DEFAULT_OPTIONS } from '../../config/index.js';
import { readQueriesCsv } from '../../eval/index.js';
import { createSharpDecoder } from '../../imaging/index.js';
import { loadManifest } from '../../model/index.js';
import { generateDemoCatalog } from '../../demo/index.js';
import {
  createPhotoSimulator,
  loadSimulationAssets,
  genericClipartItems,
  simulateCatalog,
  type SimulationAssetOptions,
  writeContactSheet,
  writeQuerySet,
} from '../../simulate/index.js';
import * as fs from 'node:fs/promises';
import { sourceItems } from '../../simulate/index.js';

/** Flags of `twinlens simulate`. */
export interface SimulateCommandOptions {
  catalog?: string;
  queries?: string;
  views: number;
  out?: string;
  /** Write a contact sheet PNG here instead of a view set. */
  sheet?: string;
  /** Rows of the contact sheet. */
  sheetItems: number;
  seed: number;
  concurrency: number;
  /** Generic clip-art items appended after the catalog's (metadata generic: openclipart). */
  genericItems?: number;
  /** Worker threads for simulation; default: one per core. */
  workers?: number;
  model: string;
  /** Comma-separated folders of background photos; false (--no-backgrounds) for none; undefined: defaults. */
  backgrounds?: string | false;
  /** Clip-art folder; false (--no-clipart) for none; undefined: default. */
  clipart?: string | false;
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

function assetOptionsFrom(o: SimulateCommandOptions): SimulationAssetOptions {
  return {
    backgroundDirs: o.backgrounds === false ? [] : typeof o.backgrounds === 'string' ? o.backgrounds.split(',') : undefined,
    clipartDir: o.clipart === false ? null : typeof o.clipart === 'string' ? o.clipart : undefined,
  };
}

async function simulatorFrom(o: SimulateCommandOptions) {
  const started = Date.now();
  const assets = await loadSimulationAssets(assetOptionsFrom(o));
  process.stderr.write(`simulation assets: ${assets.description} (${((Date.now() - started) / 1000).toFixed(1)} s)\n`);
  return { assets, simulator: createPhotoSimulator(assets) };
}

function decoderFor(size: number) {
  return createSharpDecoder({
    size,
    maxImageBytes: DEFAULT_OPTIONS.maxImageBytes,
    maxImagePixels: DEFAULT_OPTIONS.maxImagePixels,
    maxImageFrames: DEFAULT_OPTIONS.maxImageFrames,
  });
}

/** `twinlens simulate --sheet FILE.png`: a picture of samples (generated watches, or --catalog items). */
async function sheetCommand(o: SimulateCommandOptions, file: string): Promise<void> {
  const manifest = await loadManifest(o.model);
  let images: Buffer[];
  if (o.catalog) {
    const items = await sourceItems(o.catalog);
    const step = Math.max(1, Math.floor(items.length / o.sheetItems));
    images = await Promise.all(items.filter((_, i) => i % step === 0).slice(0, o.sheetItems).map((it) => fs.readFile(it.imagePath)));
  } else {
    images = (await generateDemoCatalog({ count: o.sheetItems, seed: o.seed })).map((it) => it.image);
  }
  const { simulator } = await simulatorFrom(o);
  const size = await writeContactSheet({ images, simulator, decoder: decoderFor(manifest.input.size), viewsPerRow: o.views, seed: o.seed, outPath: file });
  console.log(`contact sheet ${size.width}x${size.height}: ${images.length} items x (1 clean + ${o.views} simulated) -> ${file}`);
}

/**
 * `twinlens simulate --catalog SRC --views K --out DIR`: simulated photo views of every catalog item
 * (plus its clean image), decoded exactly as serving decodes them, for the trainer. `--queries CSV`
 * also dumps benchmark photos through the same decoder (evaluation only).
 */
export async function simulateCommand(o: SimulateCommandOptions): Promise<void> {
  if (o.sheet) return sheetCommand(o, o.sheet);
  if (!o.out) throw new Error('simulate: give --out DIR (or --sheet FILE.png)');
  if (!o.catalog && !o.queries) throw new Error('simulate: give --catalog and/or --queries');
  const out = o.out;
  const manifest = await loadManifest(o.model);
  const decoder = decoderFor(manifest.input.size);
  if (o.catalog) {
    const catalogItems = await sourceItems(o.catalog);
    const generic = await genericClipartItems(o.genericItems ?? 0, assetOptionsFrom(o));
    if ((o.genericItems ?? 0) > 0) process.stderr.write(`${generic.length} generic clip-art items after the ${catalogItems.length} catalog items\n`);
    const items = [...catalogItems, ...generic];
    const { index, seconds: s, workers } = await simulateCatalog({
      items,
      viewsPerItem: o.views,
      outDir: out,
      seed: o.seed,
      size: manifest.input.size,
      workers: o.workers,
      assets: assetOptionsFrom(o),
      onAssets: (d) => process.stderr.write(`simulation assets: ${d}\n`),
      onProgress: progress('simulated items'),
    });
    process.stderr.write('\n');
    console.log(
      `${index.count} views of ${index.items.length} items (${o.views} simulated + 1 clean each) in ${s.toFixed(1)} s ` +
        `(${(index.count / s).toFixed(1)} views/s, ${workers || 'no'} worker threads) -> ${path.join(out, 'views.u8')}`,
    );
  }
  if (o.queries) {
    const queries = await readQueriesCsv(o.queries);
    const index = await writeQuerySet({ queries, outDir: out, decoder, concurrency: o.concurrency, onProgress: progress('decoded photos') });
    process.stderr.write('\n');
    console.log(`${index.count} benchmark photos (evaluation only) -> ${path.join(out, 'queries.u8')}`);
  }
}
