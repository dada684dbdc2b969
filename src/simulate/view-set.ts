/**
 * The on-disk format of a set of views, shared with the Python trainer (models/training/):
 * `NAME.u8` holds N images of `size` x `size` x 3 uint8, row-major, interleaved RGB (HWC), exactly
 * what the service's decoder feeds the model; `NAME.json` says what each image is.
 */

/** A catalog item of a view set. */
export interface ViewSetItem {
  itemId: string;
  /** Path of the source image as given. */
  image: string;
  /** Every other catalog column (name, top_category, ...). */
  metadata: Record<string, string>;
}

/** One image of `views.u8`. */
export interface ViewRecord {
  /** Index into `items`. */
  item: number;
  /** True for the catalog image itself (only decoded), false for a simulated photo. */
  clean: boolean;
}

/** `views.json`. */
export interface ViewSetIndex {
  format: 'twinlens-views-v1';
  /** Side of each square image, in pixels. */
  size: number;
  /** Layout of `views.u8`. */
  layout: 'NHWC-uint8-RGB';
  count: number;
  seed: number;
  /** Simulated views per item (each item also has one clean view). */
  viewsPerItem: number;
  items: ViewSetItem[];
  views: ViewRecord[];
  /** How the views were made, for people reading the file. */
  simulator: string;
}

/** One photo of `queries.u8` (benchmark photos decoded the same way; evaluation only, never training). */
export interface QueryRecord {
  image: string;
  itemId: string;
  topCategory: string;
}

/** `queries.json`. */
export interface QuerySetIndex {
  format: 'twinlens-queries-v1';
  size: number;
  layout: 'NHWC-uint8-RGB';
  count: number;
  queries: QueryRecord[];
  note: string;
}
