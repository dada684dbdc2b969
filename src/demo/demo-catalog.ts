/**
 * The service's small built-in catalog of generated watches.
 */
import { CATALOG_DEFAULTS } from './defaults.js';
import { createRng, pick, range, type Rng } from '../simulate/random.js';
import { renderWatch } from './render-watch.js';
import {
  CASE_SHAPES,
  STRAP_MATERIALS,
  describeWatch,
  randomWatchSpec,
  watchSpecKey,
  type WatchSpec,
} from './watch-spec.js';
import { mapInOrder } from '../simulate/ordered-pool.js';

/** Options of {@link generateDemoCatalog}; defaults in {@link CATALOG_DEFAULTS}. */
export interface DemoCatalogOptions {
  /** Number of items. Default 60. */
  count?: number;
  /** Seed of specs, brands and prices. Default 7. */
  seed?: number;
  /** Image size in pixels. Default 512. */
  sizePx?: number;
  /** Image encoding. Default `'jpeg'`. */
  format?: 'jpeg' | 'png';
  /** Images rendered at once. Default 2. */
  concurrency?: number;
}

/** One catalog entry without its image. */
export interface DemoCatalogEntry {
  /** `watch-0001`, `watch-0002`, ... */
  itemId: string;
  /** `name`, `category` (`watch`), `brand`, `price`, plus {@link describeWatch} fields. */
  metadata: Record<string, string>;
  spec: WatchSpec;
}

/** One catalog entry with its rendered product image. */
export interface DemoCatalogItem extends DemoCatalogEntry {
  /** Encoded image (JPEG by default). */
  image: Buffer;
}

/** Fictional brands used in demo metadata. */
export const DEMO_BRANDS = ['Aurelis', 'Kronmark', 'Veltora', 'Hallberg', 'Nordvik', 'Solenne', 'Tavarro', 'Meridian'] as const;

const CASE_PRICE: Readonly<Record<WatchSpec['caseColor'], number>> = {
  silver: 0,
  gold: 380,
  'rose-gold': 300,
  black: 60,
  gunmetal: 40,
};
const STRAP_PRICE: Readonly<Record<WatchSpec['strapMaterial'], number>> = { metal: 150, leather: 40, rubber: 10, nato: 0 };
const BEZEL_PRICE: Readonly<Record<WatchSpec['bezel'], number>> = { none: 0, plain: 20, fluted: 150, diver: 90, tachymeter: 120 };
const STRAP_NOUN: Readonly<Record<WatchSpec['strapMaterial'], string>> = {
  leather: 'leather strap',
  rubber: 'rubber strap',
  nato: 'NATO strap',
  metal: 'bracelet',
};

const words = (s: string) => s.replace(/-/g, ' ');

/**
 * A human-readable product name, e.g. "Round black dial, thin brown leather strap".
 *
 * @param spec the watch.
 */
export function watchName(spec: WatchSpec): string {
  const shape = spec.caseShape.charAt(0).toUpperCase() + spec.caseShape.slice(1);
  const kind = spec.hasSubdials ? 'dial chronograph' : 'dial';
  return `${shape} ${words(spec.dialColor)} ${kind}, ${spec.strapWidth} ${words(spec.strapColor)} ${STRAP_NOUN[spec.strapMaterial]}`;
}

function priceOf(spec: WatchSpec, rng: Rng): string {
  const base =
    120 +
    CASE_PRICE[spec.caseColor] +
    STRAP_PRICE[spec.strapMaterial] +
    BEZEL_PRICE[spec.bezel] +
    (spec.hasSubdials ? 220 : 0) +
    (spec.hasDate ? 30 : 0);
  return String(Math.round((base * range(rng, 0.8, 1.6)) / 10) * 10 - 1);
}

/** Looks that coarse filters can tell apart; the catalog uses each at most once while it can. */
function coarseKey(spec: WatchSpec): string {
  return `${spec.caseShape}|${spec.dialColor}|${spec.strapColor}|${spec.strapMaterial}`;
}

/**
 * Plans the demo catalog without rendering: distinct specs (no two equal;
 * while easy to find, each case shape / dial colour / strap colour / material
 * combination is new and case shapes and strap materials take turns) with
 * their metadata.
 *
 * @param options count and seed; see {@link CATALOG_DEFAULTS}.
 */
export function planDemoCatalog(options: Pick<DemoCatalogOptions, 'count' | 'seed'> = {}): DemoCatalogEntry[] {
  const count = options.count ?? CATALOG_DEFAULTS.count;
  const seed = options.seed ?? CATALOG_DEFAULTS.seed;
  if (!Number.isInteger(count) || count < 0) throw new RangeError(`generateDemoCatalog: count must be a non-negative integer, got ${count}`);
  const rng = createRng(seed);
  const seenKeys = new Set<string>();
  const seenCoarse = new Set<string>();
  const entries: DemoCatalogEntry[] = [];
  const shapeCount = new Map<string, number>(CASE_SHAPES.map((c) => [c, 0]));
  const materialCount = new Map<string, number>(STRAP_MATERIALS.map((m) => [m, 0]));
  let softAttempts = 200;
  const overused = (counts: Map<string, number>, key: string) =>
    (counts.get(key) ?? 0) > Math.min(...counts.values());
  for (let n = 1; n <= count; n++) {
    let spec: WatchSpec | undefined;
    for (let attempt = 0; attempt < 2000 && spec === undefined; attempt++) {
      const candidate = randomWatchSpec(rng);
      if (seenKeys.has(watchSpecKey(candidate))) continue;
      // Soft goals, dropped after a while: new coarse look, balanced shapes and materials.
      if (attempt < softAttempts) {
        if (seenCoarse.has(coarseKey(candidate))) continue;
        if (overused(shapeCount, candidate.caseShape) || overused(materialCount, candidate.strapMaterial)) continue;
      }
      spec = candidate;
    }
    if (spec === undefined) throw new Error(`generateDemoCatalog: could not find a distinct watch #${n}`);
    if (seenCoarse.has(coarseKey(spec))) softAttempts = 20; // coarse looks are running out: stop insisting
    seenKeys.add(watchSpecKey(spec));
    seenCoarse.add(coarseKey(spec));
    shapeCount.set(spec.caseShape, (shapeCount.get(spec.caseShape) ?? 0) + 1);
    materialCount.set(spec.strapMaterial, (materialCount.get(spec.strapMaterial) ?? 0) + 1);
    const metadata: Record<string, string> = {
      name: watchName(spec),
      category: 'watch',
      brand: pick(rng, DEMO_BRANDS),
      price: priceOf(spec, rng),
      ...describeWatch(spec),
    };
    entries.push({ itemId: `watch-${String(n).padStart(4, '0')}`, metadata, spec });
  }
  return entries;
}

/**
 * Generates the demo catalog: {@link planDemoCatalog} plus a rendered image
 * per item. Deterministic: the same options give byte-identical images.
 *
 * @param options see {@link CATALOG_DEFAULTS}.
 */
export async function generateDemoCatalog(options: DemoCatalogOptions = {}): Promise<DemoCatalogItem[]> {
  const entries = planDemoCatalog(options);
  const sizePx = options.sizePx ?? CATALOG_DEFAULTS.sizePx;
  const format = options.format ?? CATALOG_DEFAULTS.format;
  const concurrency = Math.max(1, Math.floor(options.concurrency ?? CATALOG_DEFAULTS.concurrency));
  return mapInOrder(entries.length, concurrency, async (i) => {
    const entry = entries[i] as DemoCatalogEntry;
    return { ...entry, image: await renderWatch(entry.spec, { sizePx, format }) };
  });
}
