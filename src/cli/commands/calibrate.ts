import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { createEngine } from '../../engine/create-engine.js';
import { silentLogger } from '../../observability/logger.js';
import { type TwinlensOptions, validateOptions } from '../../config/index.js';
import { calibrateThreshold, writeThreshold } from '../../eval/index.js';

/** `twinlens calibrate`: Compare's threshold from generated pairs; `--write` stores it in the manifest. */
export async function calibrateCommand(opts: { write?: boolean; items: number; service: Partial<TwinlensOptions> }): Promise<void> {
  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'twinlens-calibrate-'));
  const options = validateOptions({ ...opts.service, dataDir });
  const { engine } = await createEngine(options, silentLogger); // a fresh data dir: nothing to re-embed in the background
  try {
    const r = await calibrateThreshold(engine, {
      items: opts.items,
      onProgress: (d, t) => process.stderr.write(`\rembedding pairs ${d}/${t}   `),
    });
    process.stderr.write('\n');
    console.log(`threshold ${r.eerThreshold.toFixed(4)}: ${r.description}`);
    if (opts.write) {
      await writeThreshold(options.modelManifest, r);
      console.log(`written to ${options.modelManifest}`);
    }
  } finally {
    await engine.close();
    await fs.rm(dataDir, { recursive: true, force: true });
  }
}
