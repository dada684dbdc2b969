import { performance } from 'node:perf_hooks';
import { type Catalog, type CatalogRow, type CatalogStore, embeddedStore, isExampleView, splitRowKey } from '../store/index.js';
import { FailedPreconditionError, InvalidArgumentError, InvalidImageError } from '../errors/index.js';
import type { DecodedImage, ImageDecoder } from '../imaging/index.js';
import type { Embedder, PairHead, SalientMask, TwinFeatures } from '../model/index.js';
import { AdmissionGate } from './admission-gate.js';
import { averageFeatures, type CatalogViewSource, mirrorImage, withCatalogViews } from './catalog-views.js';
import { CatalogRefiner } from './catalog-refiner.js';
import { cutOutProduct } from './query-cutout.js';
import type { MetadataFilter } from '../store/index.js';
import { RecentQueries } from './recent-queries.js';
import { type ExampleAdapter, NO_EXAMPLE_ADAPTER } from './example-adapter.js';
import { type TextEvidence, textSimilarity } from '../text/text-evidence.js';
import { type ColorEvidence, colorSimilarity } from '../color/color-evidence.js';
import type { EvidenceFeature, EvidenceHead, PairEvidence } from '../evidence/evidence-head.js';
import { rescoreTop } from '../evidence/rescore-top.js';

/** Milliseconds spent per stage. */
export interface Timings {
  decodeMs: number;
  embedMs: number;
  /** The query cut-out's mask and crop (0 when queryCutout is off); its embedding counts in embedMs. */
  cutoutMs: number;
  shortlistMs: number;
  rerankMs: number;
  /** Reading the query photo's print and re-scoring the top hits by it (0 when textEvidence is off). */
  textMs: number;
  /** The query photo's colours and re-scoring the top hits by them (0 when colorEvidence is off). */
  colorMs: number;
  totalMs: number;
}

/** Which stage produced an order or a score. */
export type RankedBy = ScoredBy | 'text' | 'color';

/** Which score Compare gives: the pair head's probability or the embeddings' cosine. */
export type ScoredBy = 'embedding' | 'pair_head';

export interface SearchParams {
  topK: number;
  shortlistK: number;
  filter?: MetadataFilter;
}

/** How one request's images enter the model. */
export interface RequestContext {
  /** Aborts when the client cancels or the deadline passes; its work is then dropped. */
  signal?: AbortSignal;
  /**
   * Wait for a free slot instead of failing with RESOURCE_EXHAUSTED when the server is at
   * capacity. For streamed items, whose streams bound their own items in flight.
   */
  waitForCapacity?: boolean;
}

/** One Search hit. `view`: the item's view that matched best ('' for its main image). */
export interface SearchHit {
  itemId: string;
  score: number;
  coarseScore: number;
  metadata: Record<string, string>;
  view: string;
  /** What the evidence stages measured of this hit (the top hits, when colour or text evidence is on). */
  evidence?: PairEvidence;
}

export interface SearchResult {
  hits: SearchHit[];
  rankedBy: RankedBy;
  scanned: number;
  timings: Timings;
  modelVersion: string;
  /** Names the query image for confirmMatch while it is retained ('' when retention is off). */
  searchId: string;
}

export interface CompareResult {
  score: number;
  match: boolean;
  threshold: number;
  scoredBy: ScoredBy;
  modelVersion: string;
  timings: Timings;
}

export interface EmbedResult {
  embedding: Float32Array;
  modelVersion: string;
  timings: Timings;
}

/** An item for bulk ingest: its image is loaded when its batch comes up. */
export interface IngestItem {
  itemId: string;
  metadata: Record<string, string>;
  loadImage: () => Promise<Uint8Array>;
  /** Another view of the item ('' or absent: its main image). */
  view?: string;
}

/** One side of a comparison. */
export type ImageSource = { image: Uint8Array } | { itemId: string };

/** What the evidence stages measure a photo against: a catalog item, or an image taken as one (Compare's b). */
export type EvidenceTarget = { itemId: string } | { image: Uint8Array };

/** The most hits or candidates one request may ask for. */
export const MAX_TOP_K = 1000;

const zeroTimings = (): Timings => ({ decodeMs: 0, embedMs: 0, cutoutMs: 0, shortlistMs: 0, rerankMs: 0, textMs: 0, colorMs: 0, totalMs: 0 });

/** Cosine similarity of two L2-normalised embeddings. */
export function dot(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

/**
 * Loads, decodes and embeds one batch of items in a single model run (plus one run per item for its
 * simulated views, when `catalogViews` is set) and stores them in `catalog`: the step of every bulk
 * path (start-up re-embedding, demo seed, eval, background re-embedding). With `catalogViews` null
 * the clean vectors are stored as such (simulatedViews 0), for a refiner to complete.
 * Confirmed examples (rows under an example view) are photos like Search's queries: embedded as a
 * query is (with its mirror when `queryMirror`), never with simulated views.
 */
export async function storeBatch(
  model: { decoder: ImageDecoder; embedder: Embedder },
  catalogViews: CatalogViewSource | null,
  catalog: Pick<CatalogStore, 'upsert'>,
  items: IngestItem[],
  queryMirror = false,
): Promise<void> {
  const images = await Promise.all(items.map((it) => it.loadImage()));
  const decoded = await Promise.all(images.map((b) => model.decoder.decode(b)));
  const clean = await model.embedder.embedBatch(decoded);
  const features = await Promise.all(
    clean.map(async (f, j) => {
      if (!isExampleView(items[j].view)) return withCatalogViews(model, catalogViews, images[j], f);
      return queryMirror ? averageFeatures([f, await model.embedder.embed(mirrorImage(decoded[j]))]) : f;
    }),
  );
  await catalog.upsert(
    items.map((it, j) => ({
      itemId: it.itemId,
      metadata: it.metadata,
      image: images[j],
      embedding: features[j].embedding,
      local: features[j].local,
      view: it.view,
      // Examples are photos, embedded as queries are: never refined with simulated views.
      simulatedViews: isExampleView(it.view) ? undefined : (catalogViews?.views ?? 0),
    })),
  );
}

/** The model-bound parts of an engine, replaced together when the model version switches. */
export interface ServingModel {
  decoder: ImageDecoder;
  embedder: Embedder;
  /** Compare's match threshold on the embedding cosine (the manifest's). */
  threshold: number;
  /** Side of the model's square input, in pixels. */
  inputSize: number;
  /** The model's pair head (rerank and Compare); null when the model has none: embedding order and cosine. */
  pairHead: PairHead | null;
  /**
   * Why the pair head is on or off, when the model says (a learned version's held-out measurement,
   * the manifest's `training.pairHeadDecision`); shown by GetServiceInfo.
   */
  pairHeadDecision?: string;
}

/** Everything a {@link TwinlensEngine} is built from; createEngine fills it from the service options. */
export interface TwinlensEngineOptions extends ServingModel {
  /**
   * The embedded catalog (LanceDB + in-memory index): everything works on it. Set this or `store`.
   */
  catalog?: Catalog;
  /**
   * Another store (PostgreSQL): items, views, confirmed examples, Search and
   * Compare; background refinement, run-time model switches and adaptation need the embedded catalog
   * (`catalog` then throws FailedPreconditionError).
   */
  store?: CatalogStore;
  /** Most images in progress at once; unary requests beyond it get RESOURCE_EXHAUSTED. Default 64. */
  maxImagesInProgress?: number;
  /** Embed each query photo with its mirror image and average the two (option queryMirror). Default false. */
  queryMirror?: boolean;
  /**
   * Cut the product out of each query photo with this salient-object mask and average the photo's
   * vector with the cut-out's (option queryCutout). Default null: the photo alone. The engine closes it.
   */
  queryCutout?: SalientMask | null;
  /** Largest decoded image accepted, in pixels, for the cut-out's own decode. Default 50,000,000. */
  maxImagePixels?: number;
  /**
   * Re-score Search's top hits by the print the query photo shows (option textEvidence). Default
   * null: off. The engine closes it.
   */
  textEvidence?: TextEvidence | null;
  /** Re-score Search's top hits by the colours of the query photo (option colorEvidence). Default null: off. */
  colorEvidence?: ColorEvidence | null;
  /**
   * Weighs the evidence of Search's top hits into one probability (option evidenceHead), in place
   * of the fixed weights, while the model version it learned on serves. Default null: fixed weights. The engine closes it.
   */
  evidenceHead?: EvidenceHead | null;
  /** Simulated views averaged into every catalog vector (option catalogViews); null or absent: the clean image alone. */
  catalogViews?: CatalogViewSource | null;
  /**
   * Average the catalog views in the background (option catalogViewsInBackground): items are stored
   * by their clean vector at once and a {@link CatalogRefiner} adds the views later. Default false.
   */
  catalogViewsInBackground?: boolean;
  /** Search's query images kept for ConfirmMatch (options confirmRetentionMs/Bytes). Default: none kept. */
  recentQueries?: RecentQueries;
  /** Learns from the catalog's confirmed examples (`adapt`). Default: none (examples act through Search only). */
  exampleAdapter?: ExampleAdapter;
  /** Where the refiner reports (rows waiting at start, errors). Default: nowhere. */
  log?: (message: string, fields?: Record<string, unknown>) => void;
}

/**
 * The twin pipeline: decode, embed with the shared-weight network, shortlist by embedding
 * similarity, then rerank the shortlist with the pairwise head when the model has one (hits then
 * say they were ranked by the pair head, with the cosine kept as their coarse score).
 */
export class TwinlensEngine {
  /** Images in progress (decoding, queued, in the model), bounded. */
  readonly gate: AdmissionGate;
  /** What the request path reads and writes: the embedded catalog, or PostgreSQL. */
  readonly store: CatalogStore;
  private readonly embedded: Catalog | null;
  /** Simulated views averaged into every catalog vector (null: the clean image alone). */
  readonly catalogViews: CatalogViewSource | null;
  /** Embed each query photo with its mirror image and average the two. */
  readonly queryMirror: boolean;
  /** The salient-object mask of the query cut-out; null when queryCutout is off. */
  readonly queryCutout: SalientMask | null;
  /** Search's text evidence; null when textEvidence is off. */
  readonly textEvidence: TextEvidence | null;
  /** Search's colour evidence; null when colorEvidence is off. */
  readonly colorEvidence: ColorEvidence | null;
  /** The learned weighing of the evidence (see {@link evidenceHeadInUse}); null: fixed weights. */
  readonly evidenceHead: EvidenceHead | null;
  private readonly maxImagePixels: number;
  /** The serving model; `switchModel` replaces it whole, together with the catalog's vectors. */
  private model: ServingModel;
  /**
   * Adds the simulated views in the background (null: `catalogViews` are averaged in before an
   * upsert returns). Catalog images are then stored with their clean vector first.
   */
  readonly refiner: CatalogRefiner | null;
  /** Search's query images kept for confirmMatch (none by default). */
  readonly recentQueries: RecentQueries;
  /** Learns from the catalog's confirmed examples (`adapt`); none by default. */
  readonly exampleAdapter: ExampleAdapter;

  constructor(o: TwinlensEngineOptions) {
    if (!o.catalog === !o.store) throw new Error('TwinlensEngine: set either catalog (embedded) or store');
    this.embedded = o.catalog ?? null;
    this.store = o.store ?? embeddedStore(o.catalog!);
    this.model = { decoder: o.decoder, embedder: o.embedder, threshold: o.threshold, inputSize: o.inputSize, pairHead: o.pairHead, pairHeadDecision: o.pairHeadDecision };
    this.gate = new AdmissionGate(o.maxImagesInProgress ?? 64);
    this.queryMirror = o.queryMirror ?? false;
    this.queryCutout = o.queryCutout ?? null;
    this.textEvidence = o.textEvidence ?? null;
    this.colorEvidence = o.colorEvidence ?? null;
    this.evidenceHead = o.evidenceHead ?? null;
    this.maxImagePixels = o.maxImagePixels ?? 50_000_000;
    this.catalogViews = o.catalogViews ?? null;
    this.recentQueries = o.recentQueries ?? new RecentQueries({ retentionMs: 0, maxBytes: 0 });
    this.exampleAdapter = o.exampleAdapter ?? NO_EXAMPLE_ADAPTER;
    this.refiner =
      this.catalogViews && o.catalogViewsInBackground && o.catalog
        ? CatalogRefiner.start({ catalog: o.catalog, model: () => this.model, views: this.catalogViews, log: o.log })
        : null;
  }

  /**
   * The embedded catalog, for what only it does (refinement, re-embedding, adaptation, evaluation). With another store: FailedPreconditionError (FAILED_PRECONDITION at the edge).
   */
  get catalog(): Catalog {
    if (!this.embedded) {
      throw new FailedPreconditionError(`this needs the embedded catalog (option store=embedded); this server runs on store=${this.store.kind}`);
    }
    return this.embedded;
  }

  get decoder(): ImageDecoder {
    return this.model.decoder;
  }

  get embedder(): Embedder {
    return this.model.embedder;
  }

  /** Compare's match threshold on the embedding cosine (the manifest's). */
  get threshold(): number {
    return this.model.threshold;
  }

  /** Side of the model's square input, in pixels. */
  get inputSize(): number {
    return this.model.inputSize;
  }

  /** The model's pair head; null when the model has none (or it is not used). */
  get pairHead(): PairHead | null {
    return this.model.pairHead;
  }

  get modelVersion(): string {
    return this.embedder.modelVersion;
  }

  /** Why the serving model's pair head is on or off, when its manifest says; empty otherwise. */
  get pairHeadDecision(): string {
    return this.model.pairHeadDecision ?? '';
  }

  /**
   * Switches model and catalog vectors together, synchronously: `adoptCatalog` swaps the catalog's
   * state to the new version's (see Catalog.adopt). Search and Compare note the model version
   * before embedding and embed again if the catalog changed version meanwhile, so no query mixes
   * versions. The background re-embedding calls this inside the catalog's exclusive section.
   */
  switchModel(model: ServingModel, adoptCatalog: () => void): void {
    adoptCatalog();
    if (this.store.modelVersion !== model.embedder.modelVersion) {
      throw new Error(`catalog now holds ${this.store.modelVersion} vectors, the model is ${model.embedder.modelVersion}`);
    }
    const { decoder, embedder, threshold, inputSize, pairHead, pairHeadDecision } = model;
    this.model = { decoder, embedder, threshold, inputSize, pairHead, pairHeadDecision };
  }

  /** Compare's match threshold in use: the pair head's (on probability) when there is one, else the embedding's (on cosine). */
  get compareThreshold(): number {
    return this.pairHead ? this.pairHead.threshold : (this.compareHead()?.threshold ?? this.threshold);
  }

  /** The evidence head when it scores Compare: it applies, and the model's own pair head is not in use. */
  compareHead(): EvidenceHead | null {
    return this.pairHead ? null : this.evidenceHeadInUse();
  }

  /**
   * Decodes and embeds one image (embedding plus local feature map when the model has one), adding
   * to `t`; with `mirror`, the image and its mirror go to the model together and their embeddings
   * are averaged (the local map stays the image's own); with `cutout`, the product cut out of the
   * image on white goes with them and the result is the mean of the image's vector and the cut-out's
   * (the image's alone when the mask finds nothing). Takes a slot of the admission gate for the
   * whole time, and checks the request's signal before each stage so abandoned work stops early.
   */
  private async embedImage(bytes: Uint8Array, t: Timings, ctx: RequestContext, mirror: boolean, cutout = false): Promise<TwinFeatures> {
    const { signal } = ctx;
    signal?.throwIfAborted();
    if (ctx.waitForCapacity) await this.gate.enterWhenFree(signal);
    else this.gate.enter();
    try {
      signal?.throwIfAborted();
      let start = performance.now();
      const decoded = await this.decoder.decode(bytes);
      t.decodeMs += performance.now() - start;
      signal?.throwIfAborted();
      const mask = cutout ? this.queryCutout : null;
      let cut: DecodedImage | null = null;
      if (mask) {
        start = performance.now();
        cut = (await cutOutProduct(bytes, mask, { size: this.inputSize, maxImagePixels: this.maxImagePixels }))?.image ?? null;
        t.cutoutMs += performance.now() - start;
        signal?.throwIfAborted();
      }
      start = performance.now();
      const [photo, cutoutFeatures] = await Promise.all([
        mirror
          ? Promise.all([this.embedder.embed(decoded, signal), this.embedder.embed(mirrorImage(decoded), signal)]).then(averageFeatures)
          : this.embedder.embed(decoded, signal),
        cut ? this.embedder.embed(cut, signal) : null,
      ]);
      t.embedMs += performance.now() - start;
      return cutoutFeatures ? averageFeatures([photo, cutoutFeatures]) : photo;
    } finally {
      this.gate.leave();
    }
  }

  /**
   * A query photo's features (Search, Compare, Embed): mirrored and averaged when `queryMirror` is
   * on, averaged with its cut-out's when `queryCutout` is set.
   */
  embedQuery(bytes: Uint8Array, t: Timings = zeroTimings(), ctx: RequestContext = {}): Promise<TwinFeatures> {
    return this.embedImage(bytes, t, ctx, this.queryMirror, this.queryCutout !== null);
  }

  /**
   * A catalog image's features as stored (UpsertItems): averaged with its simulated views when
   * `catalogViews` is set, or the clean vector alone (simulatedViews 0) when the refiner adds them later.
   */
  async embedCatalogImage(bytes: Uint8Array, ctx: RequestContext = {}): Promise<TwinFeatures & { simulatedViews: number }> {
    this.refiner?.noteUpload();
    this.textEvidence?.noteUpload();
    const clean = await this.embedImage(bytes, zeroTimings(), ctx, false);
    ctx.signal?.throwIfAborted();
    const views = this.refiner ? null : this.catalogViews;
    return { ...(await withCatalogViews(this, views, bytes, clean)), simulatedViews: views?.views ?? 0 };
  }

  async embed(bytes: Uint8Array, ctx: RequestContext = {}): Promise<EmbedResult> {
    const start = performance.now();
    const timings = zeroTimings();
    const { embedding } = await this.embedQuery(bytes, timings, ctx);
    timings.totalMs = performance.now() - start;
    return { embedding, modelVersion: this.modelVersion, timings };
  }

  async search(bytes: Uint8Array, params: SearchParams, ctx: RequestContext = {}): Promise<SearchResult> {
    const { topK } = params;
    if (!Number.isInteger(topK) || topK < 1 || topK > MAX_TOP_K) {
      throw new InvalidArgumentError('top_k', `expected 1..${MAX_TOP_K}, received ${topK}`);
    }
    if (!Number.isInteger(params.shortlistK) || params.shortlistK < 0 || params.shortlistK > MAX_TOP_K) {
      throw new InvalidArgumentError('shortlist_k', `expected 0..${MAX_TOP_K}, received ${params.shortlistK}`);
    }
    const shortlistK = Math.max(topK, params.shortlistK);
    const start = performance.now();
    const timings = zeroTimings();
    const { value: query, version } = await this.underOneVersion(() => this.embedQuery(bytes, timings, ctx), 'search');
    const t0 = performance.now();
    const { hits, scanned } = await this.store.search(query.embedding, shortlistK, params.filter);
    timings.shortlistMs = performance.now() - t0;
    const searchId = this.recentQueries.put(bytes);
    const shortlist = hits.map((h): SearchHit => ({ itemId: h.itemId, score: h.score, coarseScore: h.score, metadata: h.metadata, view: h.view }));
    if (!this.pairHead || shortlist.length === 0) {
      const rankedBy = await this.rerankByEvidence(bytes, shortlist, timings, ctx, 'embedding');
      timings.totalMs = performance.now() - start;
      return { hits: shortlist.slice(0, topK), rankedBy, scanned, timings, modelVersion: version, searchId };
    }
    // Rerank stage: the pair head looks at the query's and each candidate's local feature maps.
    ctx.signal?.throwIfAborted();
    const t1 = performance.now();
    const probabilities = await this.pairHead.scoreCandidates(
      localOrFail(query, 'query'),
      await Promise.all(shortlist.map((h) => this.storedLocal(h.itemId))),
      Float32Array.from(shortlist, (h) => h.coarseScore),
    );
    shortlist.forEach((h, i) => (h.score = probabilities[i]));
    // Ties (saturated probabilities) keep the embedding order.
    const ranked = shortlist.map((h, i) => ({ h, i })).sort((x, y) => y.h.score - x.h.score || x.i - y.i).map((x) => x.h);
    timings.rerankMs = performance.now() - t1;
    const rankedBy = await this.rerankByEvidence(bytes, ranked, timings, ctx, 'pair_head');
    timings.totalMs = performance.now() - start;
    return { hits: ranked.slice(0, topK), rankedBy, scanned, timings, modelVersion: version, searchId };
  }

  /**
   * The evidence stages after the ranking `before`: the colours (colorEvidence) and the print
   * (textEvidence) of the query photo against each of the top hits (each stage's `depth`), then one
   * re-score of those hits: by the evidence head when one applies (its probability; ranked by
   * 'pair_head'), else by the fixed weights (score + colorWeight x colour + textWeight x text; ranked
   * by 'text' when the photo showed print, else 'color'). Each re-scored hit keeps its evidence.
   */
  private async rerankByEvidence(bytes: Uint8Array, hits: SearchHit[], timings: Timings, ctx: RequestContext, before: RankedBy): Promise<RankedBy> {
    if ((!this.colorEvidence && !this.textEvidence) || hits.length === 0) return before;
    const colorDepth = this.colorEvidence?.depth ?? 0;
    const textDepth = this.textEvidence?.depth ?? 0;
    const top = hits.slice(0, Math.max(colorDepth, textDepth));
    const evidence = await this.evidenceOf(bytes, top, timings, ctx, { color: colorDepth, text: textDepth });
    top.forEach((h, i) => (h.evidence = evidence[i]));
    const head = this.evidenceHeadInUse();
    if (head) {
      const t = performance.now();
      const probabilities = await head.score(evidence);
      timings.rerankMs += performance.now() - t;
      // Below the re-scored hits, the rest keep their order (and scores on the cosine's scale).
      rescoreTop(hits, top.map((h, i) => probabilities[i] - h.score));
      return 'pair_head';
    }
    const colorWeight = this.colorEvidence?.weight ?? 0;
    const textWeight = this.textEvidence?.weight ?? 0;
    rescoreTop(hits, evidence.map((e, i) => (i < colorDepth ? colorWeight * e.color : 0) + (i < textDepth ? textWeight * e.text : 0)));
    return evidence[0].queryHasText ? 'text' : this.colorEvidence ? 'color' : before;
  }

  /**
   * The evidence head, when it applies: the serving model is the version it learned on, and the
   * stages whose evidence it reads are on. Otherwise Search uses the fixed weights.
   */
  evidenceHeadInUse(): EvidenceHead | null {
    const head = this.evidenceHead;
    if (!head || head.embedderVersion !== this.modelVersion) return null;
    const needs = (f: EvidenceFeature): boolean => head.features.includes(f);
    if (needs('color') && !this.colorEvidence) return null;
    if ((needs('text') || needs('query_has_text')) && !this.textEvidence) return null;
    return head;
  }

  /**
   * What the evidence stages measure of a photo against each target (a catalog item, or an image
   * taken as a catalog image: Compare's b), with each target's embedding cosine: the colours of the
   * photo's middle against the target's, and how much of the photo's print the target's text holds.
   * `limit` bounds how many of the first targets each stage measures (Search's depths); a stage that
   * is off, or a target past its limit, measures 0. For Search, Compare and evaluating Compare.
   */
  async evidenceOf(
    photo: Uint8Array,
    targets: readonly (EvidenceTarget & { coarseScore: number })[],
    timings: Timings = zeroTimings(),
    ctx: RequestContext = {},
    limit: { color: number; text: number } = { color: targets.length, text: targets.length },
  ): Promise<PairEvidence[]> {
    const color = await this.colorSimilarities(photo, targets.slice(0, limit.color), timings, ctx);
    const text = await this.textSimilarities(photo, targets.slice(0, limit.text), timings, ctx);
    return targets.map((t, i) => ({ cosine: t.coarseScore, color: color?.[i] ?? 0, text: text?.[i] ?? 0, queryHasText: text !== null }));
  }

  /** The colour similarity of the photo and each target (null when colorEvidence is off). */
  private async colorSimilarities(photo: Uint8Array, targets: readonly EvidenceTarget[], timings: Timings, ctx: RequestContext): Promise<number[] | null> {
    const colors = this.colorEvidence;
    if (!colors) return null;
    ctx.signal?.throwIfAborted();
    const t = performance.now();
    const query = await colors.queryHistogram(photo);
    const items = await colors.similarities(itemIdsOf(targets), query, this.store);
    const similarity = await inTargetOrder(targets, items, async (image) => colorSimilarity(query, await colors.catalogHistogram(image)));
    timings.colorMs += performance.now() - t;
    return similarity;
  }

  /**
   * The text evidence (option textEvidence): reads the photo's print, and resolves how much of it
   * each target's text holds; null when off or when the photo shows no print. Runs after the
   * service's decoder accepted the photo (embedQuery), as the cut-out does.
   */
  private async textSimilarities(photo: Uint8Array, targets: readonly EvidenceTarget[], timings: Timings, ctx: RequestContext): Promise<number[] | null> {
    const texts = this.textEvidence;
    if (!texts) return null;
    texts.noteSearch();
    ctx.signal?.throwIfAborted();
    const t = performance.now();
    const query = await texts.queryText(photo);
    const items = await texts.similarities(itemIdsOf(targets), query, this.store);
    const similarity = items ? await inTargetOrder(targets, items, async (image) => textSimilarity(query, await texts.catalogText(image))) : null;
    timings.textMs += performance.now() - t;
    return similarity;
  }

  /**
   * Runs `embed` under the current model version and, if the model switched while it ran, once more
   * under the new one (both sides from the new model and catalog), so a request never mixes versions.
   */
  private async underOneVersion<T>(embed: () => Promise<T>, what: string): Promise<{ value: T; version: string }> {
    let version = this.modelVersion;
    let value = await embed();
    if (this.store.modelVersion !== version) {
      version = this.modelVersion;
      value = await embed();
      if (this.store.modelVersion !== version) throw new Error(`the model switched twice during one ${what}`);
    }
    return { value, version };
  }

  /** A catalog item's local feature map; a model with a head stores one for every item (stale rows are re-embedded at open). */
  private async storedLocal(itemId: string): Promise<Float32Array> {
    const local = await this.store.localOf(itemId);
    if (!local) throw new Error(`catalog item '${itemId}' has no local features for the pair head`);
    return local;
  }

  /**
   * Scores pairs the way Compare does: the pair head's probability when the model has one,
   * else the embeddings' cosine. For Compare and for evaluating it.
   */
  async scorePairs(a: TwinFeatures[], b: TwinFeatures[]): Promise<{ scores: Float64Array; scoredBy: ScoredBy }> {
    if (this.pairHead) {
      const scores = await this.pairHead.scorePairs(
        a.map((f) => localOrFail(f, 'a')),
        b.map((f) => localOrFail(f, 'b')),
        Float32Array.from(a, (f, i) => dot(f.embedding, b[i].embedding)),
      );
      return { scores, scoredBy: 'pair_head' };
    }
    return { scores: Float64Array.from(a, (f, i) => dot(f.embedding, b[i].embedding)), scoredBy: 'embedding' };
  }

  async compare(a: ImageSource, b: ImageSource, ctx: RequestContext = {}): Promise<CompareResult> {
    const start = performance.now();
    const timings = zeroTimings();
    const {
      value: [fa, fb],
      version,
    } = await this.underOneVersion(
      () => Promise.all([this.featuresOf(a, 'a', timings, ctx), this.featuresOf(b, 'b', timings, ctx)]),
      'comparison',
    );
    ctx.signal?.throwIfAborted();
    const head = this.compareHead();
    if (head) {
      // The evidence head: a's colours and print against b's (an item's, or b's image as a catalog image's).
      const photo = 'itemId' in a ? await this.store.imageOf(a.itemId) : a.image;
      const target = 'itemId' in b ? { itemId: b.itemId } : { image: b.image };
      const [evidence] = await this.evidenceOf(photo, [{ ...target, coarseScore: dot(fa.embedding, fb.embedding) }], timings, ctx);
      const t = performance.now();
      const [score] = await head.score([evidence]);
      timings.rerankMs = performance.now() - t;
      timings.totalMs = performance.now() - start;
      return { score, match: score >= head.threshold, threshold: head.threshold, scoredBy: 'pair_head', modelVersion: version, timings };
    }
    const t0 = performance.now();
    const { scores, scoredBy } = await this.scorePairs([fa], [fb]);
    if (scoredBy === 'pair_head') timings.rerankMs = performance.now() - t0;
    const score = scores[0];
    const threshold = this.compareThreshold;
    timings.totalMs = performance.now() - start;
    return { score, match: score >= threshold, threshold, scoredBy, modelVersion: version, timings };
  }

  private async featuresOf(source: ImageSource, field: string, t: Timings, ctx: RequestContext): Promise<TwinFeatures> {
    if ('itemId' in source) {
      const [embedding, local] = await Promise.all([this.store.embeddingOf(source.itemId), this.store.localOf(source.itemId)]);
      return { embedding, local };
    }
    if (!source.image || source.image.length === 0) {
      throw new InvalidArgumentError(field, 'set either image (non-empty bytes) or item_id');
    }
    try {
      return await this.embedQuery(source.image, t, ctx);
    } catch (e) {
      // Say which side was bad: with two images the client cannot tell otherwise.
      if (e instanceof InvalidImageError) throw new InvalidImageError(`${field}: ${e.message}`, { cause: e });
      throw e;
    }
  }

  /**
   * Closes the catalog and releases the model, its decoder children and the simulation threads.
   * Shutdown paths that must first drain work (the server's) do that, then call this.
   */
  async close(): Promise<void> {
    await this.refiner?.stop();
    await this.store.close();
    await this.embedder.close();
    await this.pairHead?.close();
    await this.decoder.close?.();
    await this.catalogViews?.close();
    await this.queryCutout?.close();
    await this.textEvidence?.close();
    await this.evidenceHead?.close();
  }

  /**
   * Decodes, embeds and stores items in batches of 16 images per model run, loading each image
   * only when its batch comes up. The bulk path for start-up and offline indexing (re-embedding,
   * the demo catalog, eval); it bypasses the admission gate, which guards calls from clients.
   * With a refiner, items are stored with their clean vectors and refined after (`refiner.idle()`).
   */
  async ingest(items: IngestItem[], onProgress?: (done: number, total: number) => void): Promise<void> {
    const batch = 16;
    for (let i = 0; i < items.length; i += batch) {
      await storeBatch(this, this.refiner ? null : this.catalogViews, this.store, items.slice(i, i + batch), this.queryMirror);
      onProgress?.(Math.min(i + batch, items.length), items.length);
    }
  }

  /**
   * Re-embeds rows stored under another model version from their source images and writes
   * them back. Called at start-up before serving, so queries never mix versions.
   */
  reembed(rows: CatalogRow[], onProgress?: (done: number, total: number) => void): Promise<void> {
    return this.ingest(
      // A view's row key is item#view: back to item id and view for the upsert.
      rows.map((r) => ({ ...splitRowKey(r.itemId), metadata: r.metadata, loadImage: () => this.catalog.imageBySha(r.imageSha256) })),
      onProgress,
    );
  }
}

function localOrFail(f: TwinFeatures, side: string): Float32Array {
  if (!f.local) throw new Error(`${side}: the model gave no local features for the pair head`);
  return f.local;
}

/** The catalog items among evidence targets, in order (images, Compare's b, are measured apart). */
function itemIdsOf(targets: readonly EvidenceTarget[]): string[] {
  return targets.flatMap((t) => ('itemId' in t ? [t.itemId] : []));
}

/**
 * One value per target, in order: the catalog items' from `items` (measured together, in the order
 * of {@link itemIdsOf}), the images' from `ofImage`.
 */
function inTargetOrder(targets: readonly EvidenceTarget[], items: readonly number[], ofImage: (image: Uint8Array) => Promise<number>): Promise<number[]> {
  let next = 0;
  return Promise.all(targets.map((t) => ('image' in t ? ofImage(t.image) : items[next++])));
}
