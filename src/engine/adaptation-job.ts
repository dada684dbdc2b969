import { FailedPreconditionError } from '../errors/index.js';
import type { AdaptOptions, AdaptOutcome } from './example-adapter.js';

/** Where the latest adaptation stands (GetCatalogStats `adaptation`). */
export type AdaptationState = 'running' | 'adapted' | 'kept' | 'failed';

/** Who started an adaptation. */
export type AdaptationTrigger = 'request' | 'adaptAfterExamples';

/** A snapshot of the latest adaptation. */
export interface AdaptationStatus {
  state: AdaptationState;
  /** What it is doing while running (see AdaptStage in example-adapter.ts, and ROLL_IN_STAGE). */
  stage: string;
  /** Progress within the stage, when it has a count (0 / 0 otherwise). */
  done: number;
  total: number;
  startedAtMs: number;
  /** 0 while running. */
  finishedAtMs: number;
  /** SAME examples when it started. */
  examples: number;
  trigger: AdaptationTrigger;
  /** The held-out figures, why nothing was learned, or the error. */
  reason: string;
  /** The learned version, when one was written. */
  modelVersion: string;
}

/** The stage after learning: the catalog is re-embedded for the learned version in the background. */
export const ROLL_IN_STAGE = 'rolling in';

/** What an {@link AdaptationJob} runs and reads. */
export interface AdaptationJobParts {
  /** Learns and rolls in what it learned (createEngine's adaptation with its model switch). */
  adapt(options: AdaptOptions): Promise<AdaptOutcome>;
  /** SAME examples in the catalog now. */
  sameExamples(): number;
  /** Progress of the background re-embed, while one runs (the roll-in stage's count). */
  reembedding(): { done: number; total: number } | undefined;
  /** Why an adaptation cannot start now (a model switch is running), or undefined. */
  busy(): string | undefined;
}

/**
 * One adaptation at a time, with its progress for GetCatalogStats: StartAdaptation starts one in
 * the background, the eval and adaptAfterExamples run one and wait. The latest one's status stays
 * readable after it ends, until the next starts.
 */
export class AdaptationJob {
  private latest: AdaptationStatus | undefined;
  private running: Promise<AdaptOutcome> | undefined;

  constructor(private readonly parts: AdaptationJobParts) {}

  /** The latest adaptation, or undefined when none ran since the server started. */
  get status(): AdaptationStatus | undefined {
    const s = this.latest;
    if (!s) return undefined;
    if (s.state === 'running' && s.stage === ROLL_IN_STAGE) {
      const r = this.parts.reembedding();
      if (r) return { ...s, done: r.done, total: r.total };
    }
    return { ...s };
  }

  /** Why one cannot start now, or undefined. */
  private refusal(): string | undefined {
    if (this.running) return `an adaptation is already running (${this.latest?.stage ?? 'starting'})`;
    return this.parts.busy();
  }

  /**
   * Starts an adaptation in the background; its outcome lands in `status`. Throws
   * FailedPreconditionError when one (or a model switch) is already running.
   */
  start(options: AdaptOptions, trigger: AdaptationTrigger): AdaptationStatus {
    const refused = this.refusal();
    if (refused) throw new FailedPreconditionError(refused);
    // Failures are in the status; the caller of start does not wait for them.
    this.launch(options, trigger).catch(() => undefined);
    return this.status!;
  }

  /**
   * Runs an adaptation and resolves with its outcome once a learned version serves (or nothing was
   * learned). When one is already running, resolves at once with adapted false and why.
   */
  run(options: AdaptOptions, trigger: AdaptationTrigger): Promise<AdaptOutcome> {
    const refused = this.refusal();
    if (refused) return Promise.resolve({ adapted: false, reason: refused });
    return this.launch(options, trigger);
  }

  private launch(options: AdaptOptions, trigger: AdaptationTrigger): Promise<AdaptOutcome> {
    const status: AdaptationStatus = {
      state: 'running',
      stage: 'starting',
      done: 0,
      total: 0,
      startedAtMs: Date.now(),
      finishedAtMs: 0,
      examples: this.parts.sameExamples(),
      trigger,
      reason: '',
      modelVersion: '',
    };
    this.latest = status;
    const onProgress = (stage: string, done: number, total: number): void => {
      Object.assign(status, { stage, done, total });
      options.onProgress?.(stage, done, total);
    };
    const finish = (state: AdaptationState, reason: string, modelVersion = ''): void =>
      void Object.assign(status, { state, reason, modelVersion, stage: '', done: 0, total: 0, finishedAtMs: Date.now() });
    const running = this.parts.adapt({ ...options, onProgress }).then(
      (outcome) => {
        finish(outcome.adapted ? 'adapted' : 'kept', outcome.reason, outcome.modelVersion);
        return outcome;
      },
      (e: unknown) => {
        finish('failed', e instanceof Error ? e.message : String(e));
        throw e;
      },
    );
    this.running = running;
    const clear = (): void => {
      if (this.running === running) this.running = undefined;
    };
    running.then(clear, clear);
    return running;
  }
}
