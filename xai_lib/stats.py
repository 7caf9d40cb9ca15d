"""Small statistics shared by the chapters: AUROC with a bootstrap CI, the difference of two AUROCs (independent or
paired samples), Youden's threshold, bootstrap of means, paired comparisons."""

from __future__ import annotations

import numpy as np


def _check(scores, positives) -> tuple[np.ndarray, np.ndarray]:
    s = np.asarray(scores, dtype=float)
    p = np.asarray(positives, dtype=bool)
    if s.shape != p.shape or s.ndim != 1:
        raise ValueError(f"scores, positives: expected two 1-D arrays of one length, got {s.shape} and {p.shape}")
    if not np.isfinite(s).all():
        raise ValueError("scores: contains NaN or infinite values")
    return s, p


def _too_few(min_per_class: int, *labellings: np.ndarray) -> bool:
    """Does a class (True or False) of any of these boolean labellings have fewer than ``min_per_class`` items?"""
    return min(min(p.sum(), (~p).sum()) for p in labellings) < min_per_class


def _percentile_interval(boots: np.ndarray, level: float) -> tuple[float, float]:
    """The percentile interval (``level``) of bootstrap values."""
    lo, hi = np.quantile(boots, [(1 - level) / 2, 1 - (1 - level) / 2])
    return float(lo), float(hi)


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
    if _too_few(min_per_class, p):
        return float("nan"), float("nan"), float("nan")
    from sklearn.metrics import roc_auc_score

    n_pos, n_neg = int(p.sum()), int((~p).sum())
    auc = float(roc_auc_score(p, s))
    rng = np.random.default_rng(seed)
    pos, neg = s[p], s[~p]
    boots = np.empty(n_boot)
    for b in range(n_boot):
        boots[b] = mann_whitney_auc(rng.choice(pos, n_pos), rng.choice(neg, n_neg))
    return (auc, *_percentile_interval(boots, level))


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
    """AUROC(a) - AUROC(b) for two **independent** samples (different items: e.g. one detector on two datasets, or
    two detectors each scored on its own test set), with a percentile bootstrap CI (each sample resampled within its
    classes, independently of the other). NaNs when either sample has fewer than ``min_per_class`` of a class.

    When both detectors score the **same** items, use :func:`paired_auroc_difference_ci`: resampling the items once
    for both keeps the correlation of the two AUROCs, which this independent resampling ignores (its interval is
    then too wide, or too narrow when the scores are anti-correlated)."""
    sa, pa = _check(scores_a, positives_a)
    sb, pb = _check(scores_b, positives_b)
    if _too_few(min_per_class, pa, pb):
        return float("nan"), float("nan"), float("nan")
    from sklearn.metrics import roc_auc_score

    diff = float(roc_auc_score(pa, sa) - roc_auc_score(pb, sb))
    rng = np.random.default_rng(seed)
    groups = [(sa[pa], sa[~pa]), (sb[pb], sb[~pb])]
    boots = np.empty(n_boot)
    for i in range(n_boot):
        aucs = [mann_whitney_auc(rng.choice(pos, len(pos)), rng.choice(neg, len(neg))) for pos, neg in groups]
        boots[i] = aucs[0] - aucs[1]
    return (diff, *_percentile_interval(boots, level))


def paired_auroc_difference_ci(
    scores_a,
    scores_b,
    positives,
    n_boot: int = 1000,
    level: float = 0.95,
    seed: int = 0,
    min_per_class: int = 5,
    positives_b=None,
) -> tuple[float, float, float]:
    """AUROC(a) - AUROC(b) of two detectors scored on the **same** items, with a percentile bootstrap CI that
    resamples the items once for both detectors, so their correlation is kept. ``positives`` are the items'
    classes for both, or for ``a`` only when ``positives_b`` gives ``b``'s (two models scored on the same test
    images, each right or wrong on its own). The items are resampled within each group of equal classes (under
    both labellings), so every resample keeps each detector's class counts. NaNs when a class of either
    labelling has fewer than ``min_per_class`` items.

    For two **independent** samples (different items) use :func:`auroc_difference_ci`."""
    a, b = np.asarray(scores_a, dtype=float), np.asarray(scores_b, dtype=float)
    p = np.asarray(positives, dtype=bool)
    q = p if positives_b is None else np.asarray(positives_b, dtype=bool)
    if a.shape != b.shape or a.shape != p.shape or q.shape != p.shape or a.ndim != 1:
        raise ValueError(
            f"scores_b, positives, positives_b: expected the shape of scores_a {a.shape}, got {b.shape}, {p.shape}, "
            f"{q.shape}"
        )
    if _too_few(min_per_class, p, q):
        return float("nan"), float("nan"), float("nan")

    def difference(items: np.ndarray) -> float:
        pa, pb = p[items], q[items]
        auc_a = mann_whitney_auc(a[items][pa], a[items][~pa])
        return auc_a - mann_whitney_auc(b[items][pb], b[items][~pb])

    diff = difference(np.arange(len(a)))
    groups = [np.flatnonzero((p == u) & (q == v)) for u in (True, False) for v in (True, False)]
    groups = [g for g in groups if len(g)]
    rng = np.random.default_rng(seed)
    boots = np.empty(n_boot)
    for k in range(n_boot):
        boots[k] = difference(np.concatenate([rng.choice(g, len(g)) for g in groups]))
    return (float(diff), *_percentile_interval(boots, level))


def youden_threshold(scores, positives) -> float:
    """The score threshold maximising TPR - FPR: flag a sample as negative when its score is below it."""
    s, p = _check(scores, positives)
    if p.all() or not p.any():
        return float("nan")
    from sklearn.metrics import roc_curve

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
    return (float(v.mean()), *_percentile_interval(means, level))


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
