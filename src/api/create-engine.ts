import { Catalog, catalogIndexSettingsFrom } from '../catalog/index.js';
import type { TwinlensOptions } from '../config/index.js';
import { createProcessDecoder, createSharpDecoder, type SharpDecoderOptions } from '../imaging/index.js';
import { loadManifest, localFeatureLength, OnnxEmbedder, type OnnxEmbedderOptions, OnnxPairHead } from '../model/index.js';
import { TwinlensEngine } from '../search/index.js';
import { consoleLogger, type Logger } from './logger.js';

/**
 * Builds the engine from options: the manifest's model (and its pair head, when it has one) on the
 * first execution provider that loads, the sharp decoder, and the catalog (re-embedding rows of
 * another model version first).
 * `hooks.onBatch` observes every model run (metrics).
 */
export async function createEngine(
  options: Readonly<TwinlensOptions>,
  log: Logger = consoleLogger,
  hooks: Pick<OnnxEmbedderOptions, 'onBatch'> = {},
): Promise<TwinlensEngine> {
  const manifest = await loadManifest(options.modelManifest);
  const embedder = await OnnxEmbedder.create(manifest, {
    providers: options.executionProviders,
    intraOpThreads: options.intraOpThreads,
    maxBatchSize: options.maxBatchSize,
    maxBatchWaitMs: options.maxBatchWaitMs,
    log: log.info,
    onBatch: hooks.onBatch,
  });
  const pairHead = await OnnxPairHead.create(manifest, {
    providers: options.executionProviders,
    intraOpThreads: options.intraOpThreads,
    log: log.info,
  });
  log.info('model loaded', {
    model: manifest.name,
    version: manifest.version,
    provider: embedder.provider,
    pairHead: pairHead ? `${manifest.pairHead!.file} (threshold ${pairHead.threshold})` : 'none',
    ...(embedder.providerFallbackReason ? { providerFallbackReason: embedder.providerFallbackReason } : {}),
  });
  const decoderOptions: SharpDecoderOptions = {
    size: manifest.input.size,
    maxImageBytes: options.maxImageBytes,
    maxImagePixels: options.maxImagePixels,
    maxImageFrames: options.maxImageFrames,
  };
  // In child processes by default: a native crash in a codec then kills a child, not the server.
  const decoder =
    options.decodeProcesses > 0
      ? createProcessDecoder({
          ...decoderOptions,
          processes: options.decodeProcesses,
          onCrash: (c) => log.error('image decoder child crashed; its decodes are retried alone', undefined, { ...c }),
        })
      : createSharpDecoder(decoderOptions);
  const { catalog, stale } = await Catalog.open(options.dataDir, manifest.embeddingDim, manifest.version, localFeatureLength(manifest), {
    ...catalogIndexSettingsFrom(options),
    onRestore: (r) => log.info('search index snapshot', { ...r }),
  });
  const engine = new TwinlensEngine(
    decoder,
    embedder,
    catalog,
    manifest.threshold,
    manifest.input.size,
    options.maxImagesInProgress,
    pairHead,
  );
  if (stale.length > 0) {
    log.info(`re-embedding ${stale.length} catalog items stored under another model version`);
    await engine.reembed(stale, (done, total) => log.info(`re-embedded ${done}/${total}`));
  }
  return engine;
}

