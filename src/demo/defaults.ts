/**
 * Default values of every option in `src/demo`, documented in one place.
 *
 * The option interfaces ({@link RenderWatchOptions}, {@link DemoCatalogOptions}) refer here; a field left `undefined` takes the
 * value below.
 */

/** Defaults of {@link renderWatch}. */
export const RENDER_DEFAULTS = {
  /** Output width and height in pixels (the image is square). */
  sizePx: 512,
  /** Output encoding. */
  format: 'jpeg' as 'jpeg' | 'png',
  /** JPEG quality (ignored for PNG). */
  quality: 90,
} as const;

/** Defaults of {@link generateDemoCatalog}. */
export const CATALOG_DEFAULTS = {
  /** Number of items. */
  count: 60,
  /** Seed of the spec / brand / price stream. */
  seed: 7,
  /** Rendered image size in pixels. */
  sizePx: RENDER_DEFAULTS.sizePx,
  /** Rendered image encoding. */
  format: RENDER_DEFAULTS.format,
  /** How many images are rendered at once. */
  concurrency: 2,
} as const;
