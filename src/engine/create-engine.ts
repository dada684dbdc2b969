import * as path from 'node:path';
import { Catalog, catalogIndexSettingsFrom, type NewCatalogItem, PgCatalogStore, type ReembedRows, splitRowKey } from '../store/index.js';
import type { TwinlensOptions } from '../config/index.js';
import { createProcessDecoder, createSharpDecoder, type ImageDecoder, type SharpDecoderOptions } from '../imaging/index.js';
import type { RestoreReport } from '../store/index.js';
import { readActiveVersion, writeActiveVersion, type ActiveVersion } from './active-version.js';
import { reembedInBackground } from './reembed-in-background.js';
import { loadManifest, localFeatureLength, OnnxEmbedder, type OnnxEmbedderOptions, OnnxPairHead, OnnxSalientMask } from '../model/index.js';
import { createCatalogViewSource, RecentQueries, storeBatch, TwinlensEngine } from './index.js';
import { type AdaptOptions, type AdaptOutcome, EXAMPLE_ADAPT_BUDGET_MINUTES, type ExampleAdapter, NO_EXAMPLE_ADAPTER } from './example-adapter.js';
import { createWhiteningAdapter } from '../adapt/whitening-adapter.js';
import { createFinetuneAdapter } from '../adapt/finetune-adapter.js';
import { OnnxOcr } from '../text/ocr.js';
import { TextEvidence } from '../text/text-evidence.js';
import { ColorEvidence } from '../color/color-evidence.js';
import { OnnxEvidenceHead } from '../evidence/evidence-head.js';
import { AdaptationJob, ROLL_IN_STAGE } from './adaptation-job.js';
import { consoleLogger, type Logger } from '../observability/logger.js';
import { FailedPreconditionError } from '../errors/index.js';

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

/** What an engine takes from its model and the options, whichever store it serves from. */
function engineSettingsOf(model: LoadedModel, options: Readonly<TwinlensOptions>, log: Logger) {
  return {
    decoder: model.decoder,
    embedder: model.embedder,
    pairHead: model.pairHead,
    pairHeadDecision: pairHeadDecisionOf(model.manifest),
    threshold: model.manifest.threshold,
    inputSize: model.manifest.input.size,
    maxImagesInProgress: options.maxImagesInProgress,
    queryMirror: options.queryMirror,
    maxImagePixels: options.maxImagePixels,
    recentQueries: new RecentQueries({ retentionMs: options.confirmRetentionMs, maxBytes: options.confirmRetentionBytes }),
    colorEvidence: options.colorEvidence
      ? new ColorEvidence({ weight: options.colorWeight, depth: options.colorDepth, maxImagePixels: options.maxImagePixels })
      : null,
    log: (m: string, f?: Record<string, unknown>) => log.info(m, f),
  };
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
    spinWait: options.ortSpinWait,
    maxBatchSize: options.maxBatchSize,
    maxBatchWaitMs: options.maxBatchWaitMs,
    log: log.info,
    onBatch: hooks.onBatch,
  });
  // A head is loaded only when asked for (usePairHead: see the option for why it is off by default),
  // or when the model is a learned version whose held-out check kept it (createFinetuneAdapter).
  const pairHead = options.usePairHead || keptByHeldOutCheck(manifest)
    ? await OnnxPairHead.create(manifest, { providers: options.executionProviders, intraOpThreads: options.intraOpThreads, spinWait: options.ortSpinWait, log: log.info })
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
 * What {@link createEngine} builds: the engine, and the model switches it runs (the composition
 * root owns them; the engine knows nothing of them).
 */
export interface CreatedEngine {
  engine: TwinlensEngine;
  /**
   * The background re-embedding started because the configured model version changed: settles when
   * the catalog switched to it, or when the work stopped or failed; undefined when none was needed.
   */
  backgroundReembed: Promise<void> | undefined;
  /**
   * Serves the model of `manifestPath` (a new version): the catalog is re-embedded for it in the
   * background while the current model serves, then both switch at once. Resolves when switched (or
   * stopped by shutdown); rejects when another switch is running or the re-embedding failed.
   */
  switchModel(manifestPath: string): Promise<void>;
  /**
   * Runs the example adapter (option exampleAdapter) and rolls in the version it wrote; resolves with
   * its outcome once that version serves. One at a time.
   */
  adaptFromExamples(options: AdaptOptions): Promise<AdaptOutcome>;
  /** The adaptation runner behind adaptFromExamples: StartAdaptation starts one, GetCatalogStats reads its progress. */
  adaptation: AdaptationJob;
  /** Stops a background re-embedding between batches and waits for it (server shutdown); resolves at once when there is none. */
  stopBackgroundReembed(): Promise<void>;
}

/** The version a learned model was learned over (`training.learnedOver`, see writeWhitenedModel), if any. */
function learnedOverOf(manifest: LoadedModel['manifest']): string | undefined {
  const v = (manifest.training as { learnedOver?: unknown } | undefined)?.learnedOver;
  return typeof v === 'string' ? v : undefined;
}

/** A learned version whose pair head won its held-out check: the adapter left `pairHead` in a manifest that records the decision. */
function keptByHeldOutCheck(manifest: LoadedModel['manifest']): boolean {
  return manifest.pairHead !== null && pairHeadDecisionOf(manifest) !== undefined;
}

/** Why a model's pair head is on or off (`training.pairHeadDecision`, see createFinetuneAdapter), if it says. */
function pairHeadDecisionOf(manifest: LoadedModel['manifest']): string | undefined {
  const v = (manifest.training as { pairHeadDecision?: unknown } | undefined)?.pairHeadDecision;
  return typeof v === 'string' ? v : undefined;
}

/** The adapter the options name, for a service configured with `configured` (its version). */
function exampleAdapterOf(options: Readonly<TwinlensOptions>, configured: string): ExampleAdapter {
  if (options.exampleAdapter === 'none') return NO_EXAMPLE_ADAPTER;
  if (options.exampleAdapter === 'finetune') {
    return createFinetuneAdapter({
      modelsDir: path.join(options.dataDir, 'learned'),
      learnedOver: configured,
      providers: options.executionProviders,
      intraOpThreads: options.intraOpThreads,
    });
  }
  return createWhiteningAdapter({
    baseManifest: options.adaptBaseManifest,
    modelsDir: path.join(options.dataDir, 'learned'),
    learnedOver: configured,
    providers: options.executionProviders,
    intraOpThreads: options.intraOpThreads,
  });
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
    ? await OnnxSalientMask.create(options.queryCutoutModel, {
        providers: options.executionProviders,
        intraOpThreads: options.intraOpThreads,
        spinWait: options.ortSpinWait,
        log: log.info,
      })
    : null;
  if (queryCutout) log.info(`query photos are averaged with their product cut-out (queryCutout, mask ${options.queryCutoutModel})`);
  // Likewise a missing or altered OCR file, when the text evidence is on.
  const textEvidence = options.textEvidence
    ? new TextEvidence({
        reader: await OnnxOcr.create({
          providers: options.executionProviders,
          intraOpThreads: options.intraOpThreads,
          spinWait: options.ortSpinWait,
          maxImagePixels: options.maxImagePixels,
          log: log.info,
        }),
        dir: path.join(options.dataDir, 'text'),
        weight: options.textWeight,
        depth: options.textDepth,
        fields: options.textFields,
        log: (m, f) => log.info(m, f),
      })
    : null;
  if (textEvidence) log.info(`Search's top ${options.textDepth} hits are re-scored by the query photo's print (textEvidence, ${textEvidence.version}, fields ${options.textFields.join(',') || 'none'})`);
  // Likewise a missing or altered evidence head.
  const evidenceHead = options.evidenceHead
    ? await OnnxEvidenceHead.create(path.resolve(options.evidenceHead), { providers: options.executionProviders, log: log.info })
    : null;
  if (evidenceHead) {
    log.info(`Search's evidence is weighed by the learned head ${evidenceHead.version} (evidenceHead: ${evidenceHead.features.join(', ')}) while ${evidenceHead.embedderVersion} serves`);
  }
  const target = await loadModel(options.modelManifest, options, log, hooks);
  if (options.store === 'postgres') return createPostgresEngine(options, log, target, { queryCutout, textEvidence, evidenceHead });
  const active = readActiveVersion(options.dataDir);
  let previous = active && active.modelVersion !== target.manifest.version ? await loadPreviousModel(active, options, log, hooks) : undefined;
  // A version learned over the configured model (adaptation) keeps serving across restarts.
  const learned = previous && learnedOverOf(previous.manifest) === target.manifest.version ? previous : undefined;
  if (learned) {
    log.info(`serving ${learned.manifest.version}, learned from confirmed examples over the configured ${target.manifest.version}`);
    await closeModel(target);
    previous = undefined;
  }
  const serving = learned ?? previous ?? target;
  const folder = path.join(options.dataDir, learned || previous ? active!.folder : (active?.folder ?? '.'));
  const { catalog, stale } = await Catalog.open(folder, serving.manifest.embeddingDim, serving.manifest.version, localFeatureLength(serving.manifest), {
    ...indexSettings,
    blobDir: path.join(options.dataDir, 'images'),
  });
  const catalogViews = createCatalogViewSource({ views: options.catalogViews, seed: 1, workers: options.catalogViewWorkers });
  if (catalogViews) log.info(`catalog vectors average the clean image with ${options.catalogViews} simulated photos of it (catalogViews)`);
  const engine = new TwinlensEngine({
    ...engineSettingsOf(serving, options, log),
    queryCutout,
    textEvidence,
    evidenceHead,
    catalogViews,
    catalog,
    catalogViewsInBackground: options.catalogViewsInBackground,
    exampleAdapter: exampleAdapterOf(options, target.manifest.version),
  });
  if (textEvidence) {
    // Every catalog image's print, read in the background: those stored already, then each new one.
    const mainRows = (rows: Iterable<{ itemId: string; imageSha256: string }>) => [...rows].filter((r) => splitRowKey(r.itemId).view === '');
    const load = (sha: string) => catalog.imageBySha(sha);
    textEvidence.deferTo(() => (engine.refiner?.progress.pending ?? 0) > 0);
    textEvidence.enqueue(mainRows(catalog.rows()), load);
    catalog.onWrite((keys) => textEvidence.enqueue(mainRows(keys.flatMap((k) => catalog.row(k) ?? [])), load));
  }
  if (stale.length > 0) {
    log.info(`re-embedding ${stale.length} catalog items stored under another model version before serving`);
    await engine.reembed(stale, (done, total) => log.info(`re-embedded ${done}/${total}`));
  }
  if (!previous && !learned) {
    writeActiveVersion(options.dataDir, { folder: path.relative(options.dataDir, folder) || '.', modelVersion: target.manifest.version, manifest: target.manifestPath });
  }

  // Model switches: the configured version at start (when the old one still loads), then any
  // version adaptation writes. One at a time; `stop` ends whichever runs (shutdown).
  const stop = new AbortController();
  let servingModel: LoadedModel = serving;
  let switching: Promise<void> | undefined;
  const rollIn = (next: LoadedModel): Promise<void> => {
    const from = servingModel;
    log.info(`model version changes from ${from.manifest.version} to ${next.manifest.version}: serving the old one while the catalog is re-embedded in the background`);
    const done = reembedInBackground(
      engine,
      {
        decoder: next.decoder,
        embedder: next.embedder,
        pairHead: next.pairHead,
        pairHeadDecision: pairHeadDecisionOf(next.manifest),
        threshold: next.manifest.threshold,
        inputSize: next.manifest.input.size,
        manifest: next.manifestPath,
        localLength: localFeatureLength(next.manifest),
      },
      { dataDir: options.dataDir, indexSettings, log: (m, f) => log.info(m, f), signal: stop.signal },
    ).then(
      () => {
        if (engine.embedder !== next.embedder) {
          // Stopped before the switch (shutdown): the new model never served; release it now.
          void closeModel(next);
          return;
        }
        servingModel = next;
        // Calls that started on the old model may still be decoding or embedding with it (they
        // embed again with the new one when they reach the switched catalog): close it later.
        setTimeout(() => void closeModel(from, false), OLD_MODEL_GRACE_MS).unref();
      },
      (e: unknown) => {
        void closeModel(next);
        throw e;
      },
    );
    // Settles either way (its own caller sees the failure): what shutdown and the next switch wait on.
    switching = done.then(
      () => undefined,
      () => undefined,
    );
    void switching.then(() => (switching = undefined));
    return done;
  };
  const switchModel = async (manifestPath: string): Promise<void> => {
    if (switching) throw new Error('a model switch is already running; wait for it (GetCatalogStats reembedding)');
    const next = await loadModel(manifestPath, options, log, hooks);
    if (next.manifest.version === engine.modelVersion) {
      await closeModel(next);
      return;
    }
    await rollIn(next);
  };
  const adaptation = new AdaptationJob({
    adapt: async (o) => {
      const outcome = await engine.exampleAdapter.adapt(engine, { log: (m, f) => log.info(m, f), signal: stop.signal, ...o });
      if (outcome.manifestPath) {
        o.onProgress?.(ROLL_IN_STAGE, 0, engine.catalog.size);
        await switchModel(outcome.manifestPath);
      }
      return outcome;
    },
    sameExamples: () => engine.catalog.exampleCounts().same,
    reembedding: () => engine.catalog.reembedding,
    busy: () => {
      if (engine.exampleAdapter === NO_EXAMPLE_ADAPTER) return 'no example adapter is configured (option exampleAdapter is none): examples act through search only';
      return switching ? 'a model switch is running; wait for it (GetCatalogStats reembedding)' : undefined;
    },
  });
  const adaptFromExamples = (o: AdaptOptions): Promise<AdaptOutcome> => adaptation.run(o, 'request');

  let backgroundReembed: Promise<void> | undefined;
  if (previous) {
    backgroundReembed = rollIn(target).catch((e: unknown) => log.error('background re-embedding failed; the old model keeps serving', e));
  }
  if (options.adaptAfterExamples > 0) {
    adaptWhenExamplesArrive(engine, options.adaptAfterExamples, serving.manifest, (o) => adaptation.run(o, 'adaptAfterExamples'), log);
  }
  return {
    engine,
    backgroundReembed,
    switchModel,
    adaptFromExamples,
    adaptation,
    async stopBackgroundReembed() {
      stop.abort();
      await switching;
    },
  };
}

/**
 * An engine over the PostgreSQL store: the configured model serves the catalog in the database (an
 * empty one is bound to it; one bound to another model version is re-embedded before serving,
 * confirmed examples as queries are). Catalog views are averaged in before an upload is acknowledged
 * (no background refiner: it reads the embedded catalog). Confirmed examples are scored as
 * exampleScoring says (the catalog is bound to one way); model switches at run time and adaptation
 * need store=embedded.
 */
async function createPostgresEngine(
  options: Readonly<TwinlensOptions>,
  log: Logger,
  model: LoadedModel,
  stages: { queryCutout: OnnxSalientMask | null; textEvidence: TextEvidence | null; evidenceHead: OnnxEvidenceHead | null },
): Promise<CreatedEngine> {
  const { queryCutout, textEvidence, evidenceHead } = stages;
  const catalogViews = createCatalogViewSource({ views: options.catalogViews, seed: 1, workers: options.catalogViewWorkers });
  // A catalog bound to another model is re-embedded with this one before serving (one replica does
  // it, see PgCatalogStore), the way an upload would embed each image.
  const reembed: ReembedRows = async (rows) => {
    const made: NewCatalogItem[] = [];
    const sink = { upsert: async (items: NewCatalogItem[]) => (made.push(...items), items.map(() => false)) };
    await storeBatch(model, catalogViews, sink, rows.map((r) => ({ itemId: r.itemId, view: r.view, metadata: r.metadata, loadImage: async () => r.image })), options.queryMirror);
    return made.map((m) => ({ embedding: m.embedding, local: m.local ?? null, simulatedViews: m.simulatedViews ?? null }));
  };
  const store = await PgCatalogStore.open(
    {
      url: options.postgresUrl,
      poolSize: options.postgresPoolSize,
      efSearch: options.postgresEfSearch,
      reembed,
      log: (m, f) => log.info(m, f),
      exampleScoring: options.exampleScoring,
    },
    model.manifest.embeddingDim,
    model.manifest.version,
    localFeatureLength(model.manifest),
  ).catch(async (e: unknown) => {
    await closeModel(model);
    await queryCutout?.close();
    await textEvidence?.close();
    await evidenceHead?.close();
    await catalogViews?.close();
    throw e;
  });
  log.info('catalog in PostgreSQL (store=postgres)', { modelVersion: store.modelVersion, dim: store.dim });
  const engine = new TwinlensEngine({ ...engineSettingsOf(model, options, log), queryCutout, textEvidence, evidenceHead, catalogViews, store });
  const unsupported = 'model switches and adaptation need the embedded catalog (option store=embedded)';
  // Always refused: StartAdaptation answers FAILED_PRECONDITION with this reason, adaptFromExamples
  // resolves with it (not adapted), and GetCatalogStats reports no adaptation.
  const adaptation = new AdaptationJob({
    adapt: async () => {
      throw new FailedPreconditionError(unsupported);
    },
    sameExamples: () => 0,
    reembedding: () => undefined,
    busy: () => unsupported,
  });
  return {
    engine,
    backgroundReembed: undefined,
    switchModel: async () => {
      throw new FailedPreconditionError(unsupported);
    },
    adaptFromExamples: (o) => adaptation.run(o, 'request'),
    adaptation,
    stopBackgroundReembed: async () => undefined,
  };
}

/** Releases a model's network, decoder and (unless `head` is false) pair head. */
async function closeModel(m: LoadedModel, head = true): Promise<void> {
  await Promise.all([m.embedder.close(), m.decoder.close?.(), head ? m.pairHead?.close() : undefined]);
}

/**
 * Runs `adapt` in the background whenever `every` SAME examples have arrived since the serving
 * version was learned (its manifest's `projection.provenance.examples`; 0 for a model not learned
 * here). Checked at start and after each committed write; an adaptation that does not beat the
 * serving model waits for `every` more.
 */
function adaptWhenExamplesArrive(
  engine: TwinlensEngine,
  every: number,
  serving: LoadedModel['manifest'],
  adapt: (o: AdaptOptions) => Promise<AdaptOutcome>,
  log: Logger,
): void {
  const provenance = serving.projection?.provenance as { examples?: unknown } | undefined;
  let learnedAt = typeof provenance?.examples === 'number' ? provenance.examples : 0;
  let running = false;
  const check = (): void => {
    const same = engine.catalog.exampleCounts().same;
    if (running || same - learnedAt < every) return;
    running = true;
    learnedAt = same;
    log.info('adapting to confirmed examples in the background', { examples: same, adaptAfterExamples: every });
    adapt({ budgetMs: EXAMPLE_ADAPT_BUDGET_MINUTES * 60_000 })
      .then((r) => log.info(r.adapted ? 'adaptation rolled in a learned model' : 'adaptation kept the serving model', { ...r }))
      .catch((e: unknown) => log.error('adaptation failed; the serving model stays', e))
      .finally(() => (running = false));
  };
  engine.catalog.onWrite(() => check());
  check();
}
