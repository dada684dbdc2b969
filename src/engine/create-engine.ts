import * as path from 'node:path';
import { Catalog, catalogIndexSettingsFrom } from '../store/index.js';
import type { TwinlensOptions } from '../config/index.js';
import { createProcessDecoder, createSharpDecoder, type ImageDecoder, type SharpDecoderOptions } from '../imaging/index.js';
import type { RestoreReport } from '../store/index.js';
import { readActiveVersion, writeActiveVersion, type ActiveVersion } from './active-version.js';
import { reembedInBackground } from './reembed-in-background.js';
import { loadManifest, localFeatureLength, OnnxEmbedder, type OnnxEmbedderOptions, OnnxPairHead, OnnxSalientMask } from '../model/index.js';
import { createCatalogViewSource, RecentQueries, TwinlensEngine } from './index.js';
import { consoleLogger, type Logger } from '../observability/logger.js';

/** How long the replaced model stays open after a switch, for calls that started on it. */
const OLD_MODEL_GRACE_MS = 60_000;

/** One model, ready to serve: network, pair head, and a decoder sized to its input. */
interface LoadedModel {
  manifestPath: string;
  manifest: Awaited<ReturnType<typeof loadManifest>>;
  embedder: OnnxEmbedder;
  pairHead: OnnxPairHead | null;
  decoder: ImageDecoder;
}

async function loadModel(
  manifestPath: string,
  options: Readonly<TwinlensOptions>,
  log: Logger,
  hooks: Pick<OnnxEmbedderOptions, 'onBatch'>,
): Promise<LoadedModel> {
  const manifest = await loadManifest(manifestPath);
  const embedder = await OnnxEmbedder.create(manifest, {
    providers: options.executionProviders,
    intraOpThreads: options.intraOpThreads,
    maxBatchSize: options.maxBatchSize,
    maxBatchWaitMs: options.maxBatchWaitMs,
    log: log.info,
    onBatch: hooks.onBatch,
  });
  // A head is loaded only when asked for (usePairHead): see the option for why it is off by default.
  const pairHead = options.usePairHead
    ? await OnnxPairHead.create(manifest, { providers: options.executionProviders, intraOpThreads: options.intraOpThreads, log: log.info })
    : null;
  log.info('model loaded', {
    model: manifest.name,
    version: manifest.version,
    provider: embedder.provider,
    pairHead: pairHead ? `${manifest.pairHead!.file} (threshold ${pairHead.threshold})` : manifest.pairHead ? 'in the manifest, not used (usePairHead is off)' : 'none',
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
  return { manifestPath: path.resolve(manifestPath), manifest, embedder, pairHead, decoder };
}

/** The old model, when the active version's manifest still loads and is still that version. */
async function loadPreviousModel(
  active: ActiveVersion,
  options: Readonly<TwinlensOptions>,
  log: Logger,
  hooks: Pick<OnnxEmbedderOptions, 'onBatch'>,
): Promise<LoadedModel | undefined> {
  try {
    const m = await loadManifest(active.manifest);
    if (m.version !== active.modelVersion) {
      log.info(`the manifest of the serving model version ${active.modelVersion} now says ${m.version}; re-embedding before serving`);
      return undefined;
    }
    return await loadModel(active.manifest, options, log, hooks);
  } catch (e) {
    log.info(`the serving model version ${active.modelVersion} cannot be loaded (${(e as Error).message}); re-embedding before serving`);
    return undefined;
  }
}

/**
 * What {@link createEngine} builds: the engine, and the background re-embedding it started when
 * the model version changed (the composition root owns it; the engine knows nothing of it).
 */
export interface CreatedEngine {
  engine: TwinlensEngine;
  /**
   * Settles when the catalog switched to the new model, or when the work stopped or failed;
   * undefined when no background re-embedding was needed.
   */
  backgroundReembed: Promise<void> | undefined;
  /** Stops a background re-embedding between batches and waits for it (server shutdown); resolves at once when there is none. */
  stopBackgroundReembed(): Promise<void>;
}

/**
 * Builds the engine from options: the manifest's model (and its pair head, when it has one) on the
 * first execution provider that loads, the decoder, and the catalog. When the model version
 * changed since the last start and the previous model still loads, the previous model and its
 * vectors keep serving while the catalog is re-embedded in the background (`engine.catalog
 * .reembedding`; `backgroundReembed` resolves when the service switched); otherwise rows of
 * another version are re-embedded before serving. `hooks.onBatch` observes every model run (metrics).
 */
export async function createEngine(
  options: Readonly<TwinlensOptions>,
  log: Logger = consoleLogger,
  hooks: Pick<OnnxEmbedderOptions, 'onBatch'> = {},
): Promise<CreatedEngine> {
  const indexSettings = {
    ...catalogIndexSettingsFrom(options),
    onRestore: (r: RestoreReport) => log.info('search index snapshot', { ...r }),
  };
  // First: a missing or altered mask file stops the start before anything else is loaded.
  const queryCutout = options.queryCutout
    ? await OnnxSalientMask.create(options.queryCutoutModel, { providers: options.executionProviders, intraOpThreads: options.intraOpThreads, log: log.info })
    : null;
  if (queryCutout) log.info(`query photos are averaged with their product cut-out (queryCutout, mask ${options.queryCutoutModel})`);
  const target = await loadModel(options.modelManifest, options, log, hooks);
  const active = readActiveVersion(options.dataDir);
  const previous = active && active.modelVersion !== target.manifest.version ? await loadPreviousModel(active, options, log, hooks) : undefined;
  const serving = previous ?? target;
  const folder = path.join(options.dataDir, previous ? active!.folder : (active?.folder ?? '.'));
  const { catalog, stale } = await Catalog.open(folder, serving.manifest.embeddingDim, serving.manifest.version, localFeatureLength(serving.manifest), {
    ...indexSettings,
    blobDir: path.join(options.dataDir, 'images'),
  });
  const catalogViews = createCatalogViewSource({ views: options.catalogViews, seed: 1, workers: options.catalogViewWorkers });
  if (catalogViews) log.info(`catalog vectors average the clean image with ${options.catalogViews} simulated photos of it (catalogViews)`);
  const engine = new TwinlensEngine({
    decoder: serving.decoder,
    embedder: serving.embedder,
    pairHead: serving.pairHead,
    threshold: serving.manifest.threshold,
    inputSize: serving.manifest.input.size,
    catalog,
    maxImagesInProgress: options.maxImagesInProgress,
    queryMirror: options.queryMirror,
    queryCutout,
    maxImagePixels: options.maxImagePixels,
    catalogViews,
    recentQueries: new RecentQueries({ retentionMs: options.confirmRetentionMs, maxBytes: options.confirmRetentionBytes }),
    catalogViewsInBackground: options.catalogViewsInBackground,
    log: (m, f) => log.info(m, f),
  });
  if (stale.length > 0) {
    log.info(`re-embedding ${stale.length} catalog items stored under another model version before serving`);
    await engine.reembed(stale, (done, total) => log.info(`re-embedded ${done}/${total}`));
  }
  if (!previous) {
    writeActiveVersion(options.dataDir, { folder: path.relative(options.dataDir, folder) || '.', modelVersion: target.manifest.version, manifest: target.manifestPath });
    return { engine, backgroundReembed: undefined, stopBackgroundReembed: async () => {} };
  }
  log.info(`model version changed from ${previous.manifest.version} to ${target.manifest.version}: serving the old one while the catalog is re-embedded in the background`);
  const stop = new AbortController();
  const backgroundReembed = reembedInBackground(
    engine,
    {
      decoder: target.decoder,
      embedder: target.embedder,
      pairHead: target.pairHead,
      threshold: target.manifest.threshold,
      inputSize: target.manifest.input.size,
      manifest: target.manifestPath,
      localLength: localFeatureLength(target.manifest),
    },
    { dataDir: options.dataDir, indexSettings, log: (m, f) => log.info(m, f), signal: stop.signal },
  ).then(
    () => {
      if (engine.embedder !== target.embedder) {
        // Stopped before the switch (shutdown): the new model never served; release it now.
        void target.embedder.close();
        void target.decoder.close?.();
        void target.pairHead?.close();
        return;
      }
      // Calls that started on the old model may still be decoding or embedding with it (they
      // embed again with the new one when they reach the switched catalog): close it later.
      setTimeout(() => {
        void previous.embedder.close();
        void previous.decoder.close?.();
      }, OLD_MODEL_GRACE_MS).unref();
    },
    (e: unknown) => log.error('background re-embedding failed; the old model keeps serving', e),
  );
  return {
    engine,
    backgroundReembed,
    async stopBackgroundReembed() {
      stop.abort();
      await backgroundReembed;
    },
  };
}
