import * as fs from 'node:fs';
import * as path from 'node:path';
import { type LoadedManifest, loadManifest } from '../../src/model/index.js';

/**
 * A copy of the manifest at `model`, written into `dir`, without local features and pair head: the
 * catalog-size benches search synthetic catalogs of up to 1M items, whose local maps would need
 * ~12 GB, and the rerank's cost does not depend on the catalog's size (it scores the shortlist).
 */
export async function embeddingOnlyManifest(model: string, dir: string): Promise<LoadedManifest> {
  const manifest = JSON.parse(fs.readFileSync(model, 'utf8'));
  delete manifest.localFeatures;
  delete manifest.pairHead;
  if (manifest.outputs) delete manifest.outputs.localFeatures;
  manifest.file = path.resolve(path.dirname(model), manifest.file);
  const manifestPath = path.join(dir, 'manifest.json');
  fs.writeFileSync(manifestPath, JSON.stringify(manifest));
  return loadManifest(manifestPath);
}
