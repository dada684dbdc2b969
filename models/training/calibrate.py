"""Thresholds from held-out synthetic pairs: equal-error rate, ROC AUC, true-accept rate at 1% false-accept."""
import numpy as np


def roc_auc(pos, neg):
    pos, neg = np.asarray(pos, np.float64), np.asarray(neg, np.float64)
    scores = np.concatenate([pos, neg])
    ranks = np.empty(len(scores))
    order = np.argsort(scores, kind='mergesort')
    ranks[order] = np.arange(1, len(scores) + 1)
    # average ranks of ties
    _, inv, counts = np.unique(scores, return_inverse=True, return_counts=True)
    sums = np.bincount(inv, weights=ranks)
    ranks = (sums / counts)[inv]
    return float((ranks[:len(pos)].sum() - len(pos) * (len(pos) + 1) / 2) / (len(pos) * len(neg)))


def equal_error_threshold(pos, neg):
    """Threshold where false-reject rate = false-accept rate (score >= t accepts)."""
    cands = np.unique(np.concatenate([pos, neg]))
    best = None
    for t in cands:
        frr = float(np.mean(pos < t))
        far = float(np.mean(neg >= t))
        gap = abs(frr - far)
        if best is None or gap < best[0]:
            best = (gap, float(t), (frr + far) / 2)
    return best[1], best[2]


def tar_at_far(pos, neg, far=0.01):
    t = float(np.quantile(neg, 1 - far, method='higher')) if len(neg) else 1.0
    return float(np.mean(pos > t)), t


def calibrate(pos, neg, label):
    pos, neg = np.asarray(pos, np.float64), np.asarray(neg, np.float64)
    t, eer = equal_error_threshold(pos, neg)
    auc = roc_auc(pos, neg)
    tar, t1 = tar_at_far(pos, neg)
    text = (f'equal-error threshold on {len(pos)} positive / {len(neg)} negative held-out synthetic pairs '
            f'({label}): EER {eer:.3f}, ROC AUC {auc:.3f}, TAR {tar:.3f} at 1% FAR (threshold {t1:.4f})')
    return {'threshold': round(t, 4), 'eer': eer, 'auc': auc, 'tar_at_1far': tar, 'text': text}
