import type { TwinlensEngine } from './engine.js';

/** What one adaptation did. */
export interface AdaptOutcome {
  /** Whether a new model (or projection) now serves, or will once the background re-embed switches. */
  adapted: boolean;
  /** Why not, or what was done, for logs and eval reports. */
  reason: string;
  /** The model version adaptation produced, when it produced one. */
  modelVersion?: string;
  /** Its manifest: serving it (createEngine's switchModel) rolls it in through the background re-embed. */
  manifestPath?: string;
}

/** The default wall-clock budget of one adaptation, in minutes (eval --adapt-budget-minutes; a server's background runs). */
export const EXAMPLE_ADAPT_BUDGET_MINUTES = 20;

/** How long one adaptation may take, and how it reports. */
export interface AdaptOptions {
  /** Wall-clock budget, in ms. */
  budgetMs: number;
  signal?: AbortSignal;
  log?: (message: string, fields?: Record<string, unknown>) => void;
  /**
   * Called as the adaptation moves on: the stage (what it is doing, in words: "embedding confirmed
   * photos", ...) and, when the stage has a count, how far it is.
   */
  onProgress?: (stage: string, done: number, total: number) => void;
}

/**
 * Learns from the catalog's confirmed examples (engine.catalog.examples()) and writes a new model
 * version; createEngine's `adaptFromExamples` then rolls it in through the background re-embed. The
 * step `twinlens eval --feedback` runs after adding examples, and that a server runs when enough new
 * examples have arrived (adaptAfterExamples). Examples already act on search without it (exampleScoring).
 */
export interface ExampleAdapter {
  readonly name: string;
  adapt(engine: TwinlensEngine, options: AdaptOptions): Promise<AdaptOutcome>;
}

/** The adapter of an engine that learns nothing beyond what its examples do to search. */
export const NO_EXAMPLE_ADAPTER: ExampleAdapter = Object.freeze({
  name: 'none',
  adapt: async (): Promise<AdaptOutcome> => ({ adapted: false, reason: 'no example adapter is configured: examples act through search only (exampleScoring)' }),
});
