/**
 * Defaults of {@link adaptModel}, in one place.
 */
import * as path from 'node:path';

import { PACKAGE_ROOT } from '../config/package-root.js';

export const ADAPT_DEFAULTS = {
  /** Python with Debian's torch, torchvision and onnx (the pyenv python on PATH does not see them). */
  python: '/usr/bin/python3',
  /** The trainer script. */
  trainScript: path.join(PACKAGE_ROOT, 'models', 'training', 'train.py'),
  /** Whole-run budget in minutes: simulation + training + calibration + export (the bar: 3,000 images in 60). */
  budgetMinutes: 60,
  /**
   * Share of the budget simulation may take when the views per item are chosen automatically; the
   * rest is the trainer's. Picked so the trainer gets most of the CPU.
   */
  simulationShare: 0.25,
  /** Simulated views per item are chosen within these bounds when not given. */
  minViewsPerItem: 6,
  maxViewsPerItem: 48,
  /** Views/s assumed to size the views per item: ~37 ms CPU per view measured, ~54 views/s on 2 free cores, less a margin. */
  assumedViewsPerSecond: 40,
  /** Seed of the simulation. */
  seed: 1,
  /** Seconds assumed for the trainer's stages after training (calibrate, export, ONNX check) in the ETA. */
  finishSeconds: 60,
  /** Stderr lines of the trainer kept for error messages. */
  stderrTailLines: 40,
} as const;

/** The Debian packages training needs. */
export const TRAINING_PACKAGES = 'python3-torch python3-torchvision python3-onnx';
