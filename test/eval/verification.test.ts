import { rocAuc, verificationMetrics } from '../../src/eval/index.js';

describe('verification metrics', () => {
  it('ROC AUC is 1 for separable scores, 0.5 for identical ones, and counts ties half', () => {
    expect(rocAuc({ positives: [0.9, 0.8], negatives: [0.1, 0.2, 0.3] })).toBe(1);
    expect(rocAuc({ positives: [0.5, 0.5], negatives: [0.5, 0.5] })).toBe(0.5);
    // pairs: (0.6>0.4) 1, (0.6>0.7) 0, (0.3>0.4) 0, (0.3>0.7) 0 -> 1/4
    expect(rocAuc({ positives: [0.6, 0.3], negatives: [0.4, 0.7] })).toBe(0.25);
  });

  it('finds the equal-error threshold and the true-accept rate at 1% false-accept', () => {
    const positives = Array.from({ length: 100 }, (_, i) => 0.5 + i / 200); // 0.5 .. 0.995
    const negatives = Array.from({ length: 100 }, (_, i) => i / 200 + 0.1); // 0.1 .. 0.595
    const m = verificationMetrics({ positives, negatives });
    expect(m.eerThreshold).toBeGreaterThanOrEqual(0.5);
    expect(m.eerThreshold).toBeLessThanOrEqual(0.6);
    expect(m.eer).toBeLessThan(0.15);
    // At most one negative (0.595) may pass; the threshold sits just above the second highest, 0.59.
    expect(m.far1Threshold).toBeGreaterThan(0.59);
    expect(m.tarAtFar1).toBeCloseTo(positives.filter((p) => p >= m.far1Threshold).length / 100, 10);
    expect(() => verificationMetrics({ positives: [], negatives: [1] })).toThrow(RangeError);
  });
});
