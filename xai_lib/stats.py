"""Small statistics shared by the chapters: AUROC with a bootstrap CI, Youden's threshold, bootstrap of means."""

from __future__ import annotations

import numpy as np
from sklearn.metrics import roc_auc_score, roc_curve


def _check(scores, positives) -> tuple[np.ndarray, np.ndarray]:
    s = np.asarray(scores, dtype=float)
    p = np.asarray(positives, dtype=bool)
    if s.shape != p.shape or s.ndim != 1:
        raise ValueError(f"scores, positives: expected two 1-D arrays of one length, got {s.shape} and {p.shape}")
    if not np.isfinite(s).all():
        raise ValueError("scores: contains NaN or infinite values")
    return s, p


def mann_whitney_auc(pos: np.ndarray, neg: np.ndarray) -> float:
    """``P(pos > neg) + 0.5 P(pos == neg)``: the AUROC, by sorting the negatives once (O(n log n))."""
    neg_sorted = np.sort(neg)
    below = np.searchsorted(neg_sorted, pos, side="left")
    at_or_below = np.searchsorted(neg_sorted, pos, side="right")
    return float((below + 0.5 * (at_or_below - below)).sum() / (len(pos) * len(neg)))


def auroc_ci(
    scores, positives, n_boot: int = 1000, level: float = 0.95, seed: int = 0, min_per_class: int = 5
) -> tuple[float, float, float]:
    """AUROC of ``scores`` for ``positives`` and a percentile bootstrap CI (resampling within each class).

    Returns NaNs when a class has fewer than ``min_per_class`` samples (no meaningful estimate).
    """
    s, p = _check(scores, positives)
    n_pos, n_neg = int(p.sum()), int((~p).sum())
    if min(n_pos, n_neg) < min_per_class:
        return float("nan"), float("nan"), float("nan")
    auc = float(roc_auc_score(p, s))
    rng = np.random.default_rng(seed)
    pos, neg = s[p], s[~p]
    boots = np.empty(n_boot)
    for b in range(n_boot):
        boots[b] = mann_whitney_auc(rng.choice(pos, n_pos), rng.choice(neg, n_neg))
    lo, hi = np.quantile(boots, [(1 - level) / 2, 1 - (1 - level) / 2])
    return auc, float(lo), float(hi)


def auroc_difference_ci(
    scores_a,
    positives_a,
    scores_b,
    positives_b,
    n_boot: int = 1000,
    level: float = 0.95,
    seed: int = 0,
    min_per_class: int = 5,
) -> tuple[float, float, float]:
    """AUROC(a) - AUROC(b) for two independent samples, with a percentile bootstrap CI (each sample resampled
    within its classes). NaNs when either sample has fewer than ``min_per_class`` of a class."""
    sa, pa = _check(scores_a, positives_a)
    sb, pb = _check(scores_b, positives_b)
    if min(pa.sum(), (~pa).sum(), pb.sum(), (~pb).sum()) < min_per_class:
        return float("nan"), float("nan"), float("nan")
    diff = float(roc_auc_score(pa, sa) - roc_auc_score(pb, sb))
    rng = np.random.default_rng(seed)
    groups = [(sa[pa], sa[~pa]), (sb[pb], sb[~pb])]
    boots = np.empty(n_boot)
    for i in range(n_boot):
        aucs = [mann_whitney_auc(rng.choice(pos, len(pos)), rng.choice(neg, len(neg))) for pos, neg in groups]
        boots[i] = aucs[0] - aucs[1]
    lo, hi = np.quantile(boots, [(1 - level) / 2, 1 - (1 - level) / 2])
    return diff, float(lo), float(hi)


def youden_threshold(scores, positives) -> float:
    """The score threshold maximising TPR - FPR: flag a sample as negative when its score is below it."""
    s, p = _check(scores, positives)
    if p.all() or not p.any():
        return float("nan")
    fpr, tpr, thr = roc_curve(p, s)
    return float(thr[np.argmax(tpr - fpr)])


def bootstrap_mean_ci(values, n_boot: int = 1000, level: float = 0.95, seed: int = 0) -> tuple[float, float, float]:
    """Mean and percentile bootstrap CI of the mean (NaNs ignored)."""
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    if len(v) == 0:
        return float("nan"), float("nan"), float("nan")
    rng = np.random.default_rng(seed)
    means = rng.choice(v, (n_boot, len(v))).mean(1)
    lo, hi = np.quantile(means, [(1 - level) / 2, 1 - (1 - level) / 2])
    return float(v.mean()), float(lo), float(hi)


def paired_comparison(
    new, base, higher_is_better: bool = True, alpha: float = 0.05, n_boot: int = 1000, seed: int = 0
) -> dict[str, float | int | str]:
    """Does ``new`` improve on ``base`` for the same items? Pairs with a NaN on either side are dropped.

    Returns the mean difference ``new - base`` with its bootstrap CI, the two-sided Wilcoxon signed-rank
    p-value, the number of pairs ``n``, the signed-rank balance ``rank balance`` (:func:`signed_rank_balance`: the
    test's own direction) and a ``verdict``: ``"better"`` / ``"worse"`` when ``p < alpha`` in the direction of the
    signed ranks (``higher_is_better`` sets which is better), else ``"no difference"``; ``"n/a"`` with fewer than 5
    pairs. (The direction is not the median difference's sign: with many exact ties, e.g. AIC's 0/1 curves, the
    median can be 0 while the ranks clearly lean one way.)
    """
    from scipy.stats import wilcoxon

    a, b = np.asarray(new, dtype=float), np.asarray(base, dtype=float)
    if a.shape != b.shape:
        raise ValueError(f"base: expected the shape of new {a.shape}, got {b.shape}")
    ok = np.isfinite(a) & np.isfinite(b)
    d = a[ok] - b[ok]
    out: dict[str, float | int | str] = {"n": int(ok.sum())}
    mean, lo, hi = bootstrap_mean_ci(d, n_boot=n_boot, seed=seed)
    out.update({"mean diff": mean, "CI low": lo, "CI high": hi})
    if len(d) < 5:
        return {**out, "p": float("nan"), "verdict": "n/a"}
    p = 1.0 if np.all(d == 0) else float(wilcoxon(d).pvalue)
    balance = signed_rank_balance(d)
    sign = 1 if higher_is_better else -1
    verdict = "no difference" if p >= alpha or balance == 0 else ("better" if sign * balance > 0 else "worse")
    return {**out, "rank balance": balance, "p": p, "verdict": verdict}


def signed_rank_balance(d) -> float:
    """``(W+ - W-) / (W+ + W-)`` of the Wilcoxon signed-rank test on the differences ``d`` (zeros dropped, ties
    given their average rank, as :func:`scipy.stats.wilcoxon` does): in [-1, 1], positive when the positive
    differences carry more of the ranks; 0 when they balance or every difference is 0."""
    from scipy.stats import rankdata

    d = np.asarray(d, dtype=float)
    d = d[np.isfinite(d) & (d != 0)]
    if not len(d):
        return 0.0
    ranks = rankdata(np.abs(d))
    return float((ranks * np.sign(d)).sum() / ranks.sum())
