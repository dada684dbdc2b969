/**
 * Progress of an adaptation run, and the estimate of the time left.
 */

/** One progress report. */
export interface AdaptProgress {
  /** 'check', 'simulate', then the trainer's stages ('load', 'cache', 'validate', 'train', 'calibrate', 'export', 'done'). */
  stage: string;
  done: number;
  total: number;
  /** Seconds since adaptation started. */
  elapsedS: number;
  /** Estimated seconds left for the whole run; null when nothing can be said yet. */
  etaS: number | null;
  /** Extra fields the trainer sent (losses, recall, notes). */
  detail: Record<string, unknown>;
}

/** A line of the trainer's stdout: one JSON object {"stage", "done", "total", ...}. */
export interface TrainerEvent {
  stage: string;
  done: number;
  total: number;
  [key: string]: unknown;
}

/** Parses one stdout line of train.py; null for anything that is not a progress object. */
export function parseTrainerLine(line: string): TrainerEvent | null {
  const t = line.trim();
  if (!t.startsWith('{')) return null;
  try {
    const o = JSON.parse(t) as Record<string, unknown>;
    if (typeof o.stage !== 'string') return null;
    return { ...o, stage: o.stage, done: Number(o.done ?? 0), total: Number(o.total ?? 0) } as TrainerEvent;
  } catch {
    return null;
  }
}

/**
 * Estimates the time left from the rate of the current stage, plus a fixed guess for the stages
 * after it, capped by the budget (the trainer stops training to fit the budget).
 */
export class EtaEstimator {
  private stage = '';
  private stageStart = 0;
  private stageStartDone = 0;

  constructor(
    private readonly startedMs: number,
    private readonly budgetS: number,
    private readonly finishS: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** The estimate after an event of `stage` at `done`/`total`; `laterS` is the guess for the stages after it. */
  update(stage: string, done: number, total: number, laterS: number): number | null {
    const t = this.now();
    if (stage !== this.stage) {
      this.stage = stage;
      this.stageStart = t;
      this.stageStartDone = done;
    }
    const elapsed = (t - this.startedMs) / 1000;
    const budgetLeft = Math.max(0, this.budgetS - elapsed) + this.finishS;
    const doneHere = done - this.stageStartDone;
    if (total <= 0 || doneHere <= 0) return stage === 'done' ? 0 : null;
    const rate = doneHere / ((t - this.stageStart) / 1000 || 1e-3);
    const left = Math.max(0, total - done) / rate + laterS;
    return Math.min(left, budgetLeft);
  }
}

/** "1 h 02 min", "4 min 05 s", "12 s". */
export function formatDuration(s: number): string {
  const r = Math.max(0, Math.round(s));
  if (r >= 3600) return `${Math.floor(r / 3600)} h ${String(Math.floor((r % 3600) / 60)).padStart(2, '0')} min`;
  if (r >= 60) return `${Math.floor(r / 60)} min ${String(r % 60).padStart(2, '0')} s`;
  return `${r} s`;
}
