import { randomBytes } from 'node:crypto';
import { InvalidArgumentError } from '../../errors/index.js';

/**
 * Confirmed examples (the warm path) are catalog rows of their item, like views, under the view
 * name `@<label>.<exampleId>`: '@' never occurs in a client's view name (VIEW_PATTERN), so the two
 * cannot collide, and every path that stores, deletes or re-embeds an item's rows covers them.
 */
export const EXAMPLE_VIEW_MARK = '@';

/** What a person said about a photo and an item. */
export type ExampleLabel = 'same' | 'different';

/** How SAME examples take part in search. */
export type ExampleScoring = 'best-view' | 'fold';

/** Example ids: 1-64 characters of letters, digits and . _ - */
export const EXAMPLE_ID_PATTERN = /^[A-Za-z0-9._-]{1,64}$/;

/** Throws InvalidArgumentError unless `exampleId` is a valid example id. */
export function validateExampleId(exampleId: string): void {
  if (!EXAMPLE_ID_PATTERN.test(exampleId ?? '')) {
    throw new InvalidArgumentError('example_id', `'${String(exampleId).slice(0, 64)}' is not an example id this server issued`);
  }
}

let lastMs = 0;
let sequence = 0;

/**
 * A new example id, ordered by creation within this process (base-36 milliseconds and a sequence
 * number within the millisecond, fixed width) plus 48 random bits.
 */
export function newExampleId(nowMs = Date.now()): string {
  if (nowMs > lastMs) {
    lastMs = nowMs;
    sequence = 0;
  } else sequence++;
  return `${lastMs.toString(36).padStart(9, '0')}${sequence.toString(36).padStart(4, '0')}-${randomBytes(6).toString('hex')}`;
}

/** The view name an example is stored under. */
export function exampleViewOf(label: ExampleLabel, exampleId: string): string {
  return `${EXAMPLE_VIEW_MARK}${label}.${exampleId}`;
}

/** Whether a view name (the part after '#' of a row key) is an example's. */
export function isExampleView(view: string | undefined): boolean {
  return !!view && view.startsWith(EXAMPLE_VIEW_MARK);
}

/** The label and id of an example's view name; undefined for any other view. */
export function parseExampleView(view: string): { label: ExampleLabel; exampleId: string } | undefined {
  if (!isExampleView(view)) return undefined;
  const dot = view.indexOf('.');
  const label = view.slice(1, dot);
  if (dot < 0 || (label !== 'same' && label !== 'different')) return undefined;
  return { label, exampleId: view.slice(dot + 1) };
}

/** A stored example, without its vector. */
export interface ExampleInfo {
  exampleId: string;
  itemId: string;
  label: ExampleLabel;
  metadata: Record<string, string>;
  modelVersion: string;
  imageSha256: string;
  imageBytes: number;
  createdAtMs: number;
}
