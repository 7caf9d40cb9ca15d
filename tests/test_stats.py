"""Statistics helpers on cases with known answers."""

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from xai_lib.stats import (
    auroc_ci,
    bootstrap_mean_ci,
    mann_whitney_auc,
    paired_auroc_difference_ci,
    paired_comparison,
    signed_rank_balance,
    youden_threshold,
)


def test_mann_whitney_auc_equals_sklearn_with_ties():
    rng = np.random.default_rng(0)
    pos, neg = rng.integers(0, 5, 50).astype(float), rng.integers(0, 4, 30).astype(float)
    expected = roc_auc_score(np.r_[np.ones(50), np.zeros(30)], np.r_[pos, neg])
    assert mann_whitney_auc(pos, neg) == pytest.approx(expected, abs=1e-12)


def test_auroc_perfect_reversed_and_small_classes():
    scores = np.r_[np.linspace(1, 2, 20), np.linspace(-2, -1, 10)]
    pos = np.r_[np.ones(20, bool), np.zeros(10, bool)]
    assert auroc_ci(scores, pos) == (1.0, 1.0, 1.0)
    auc, lo, hi = auroc_ci(-scores, pos)
    assert auc == 0.0 and hi == 0.0
    assert all(np.isnan(auroc_ci(scores[:23], pos[:23])))  # only 3 negatives


def test_auroc_ci_covers_the_truth_for_overlapping_normals():
    rng = np.random.default_rng(1)
    pos, neg = rng.normal(1, 1, 400), rng.normal(0, 1, 400)
    auc, lo, hi = auroc_ci(np.r_[pos, neg], np.r_[np.ones(400, bool), np.zeros(400, bool)], n_boot=300)
    true_auc = 0.7602  # Phi(1 / sqrt(2))
    assert lo < true_auc < hi and lo < auc < hi and hi - lo < 0.1


def test_youden_threshold_separates_the_groups():
    scores = np.r_[np.full(5, 3.0), np.full(5, 1.0)]
    pos = np.r_[np.ones(5, bool), np.zeros(5, bool)]
    assert 1.0 < youden_threshold(scores, pos) <= 3.0


def test_bootstrap_mean_ci_and_errors():
    m, lo, hi = bootstrap_mean_ci([2.0] * 10)
    assert (m, lo, hi) == (2.0, 2.0, 2.0)
    with pytest.raises(ValueError, match="scores"):
        auroc_ci([0.1, np.nan], [True, False])


def test_paired_comparison_verdicts():
    from xai_lib.stats import paired_comparison

    rng = np.random.default_rng(0)
    base = rng.random(40)
    up = paired_comparison(base + 0.1 + 0.01 * rng.random(40), base)
    assert up["verdict"] == "better" and up["p"] < 1e-6 and abs(up["mean diff"] - 0.105) < 0.01
    assert up["CI low"] < up["mean diff"] < up["CI high"]
    # lower is better (e.g. MAE): the same shift is now worse
    assert paired_comparison(base + 0.1, base, higher_is_better=False)["verdict"] == "worse"
    assert paired_comparison(base, base)["verdict"] == "no difference"
    symmetric = paired_comparison(base + np.r_[0.05, -0.05].repeat(20), base)  # +-0.05, equal counts
    assert symmetric["verdict"] == "no difference" and symmetric["n"] == 40 and abs(symmetric["mean diff"]) < 1e-12
    with_nan = paired_comparison(np.r_[base[:3], np.nan], np.r_[base[:3] + 1, 0.0])
    assert with_nan["n"] == 3 and with_nan["verdict"] == "n/a"


def test_auroc_difference_ci_separates_a_clear_gap_and_brackets_zero_otherwise():
    from xai_lib.stats import auroc_difference_ci

    rng = np.random.default_rng(0)
    pos = np.r_[np.ones(60, bool), np.zeros(40, bool)]
    perfect = np.where(pos, 1.0, 0.0) + 0.01 * rng.random(100)  # AUROC 1
    random = rng.random(100)  # AUROC ~0.5
    d, lo, hi = auroc_difference_ci(perfect, pos, random, pos, n_boot=300)
    assert 0.3 < d < 0.7 and lo > 0
    d, lo, hi = auroc_difference_ci(random, pos, rng.random(100), pos, n_boot=300)
    assert lo < 0 < hi
    assert np.isnan(auroc_difference_ci(perfect, pos, random, np.ones(100, bool))[0])  # no negatives in b


def test_a_significant_difference_with_a_zero_median_is_told_by_its_ranks():
    """AIC-like 0/1 data: most images tie (difference 0), a few move up by 1, one moves down by 1. The median
    difference is 0, yet the signed ranks lean up and the test is significant: the verdict is "better", never the
    "worse" a median of 0 would have given."""
    d = np.array([0.0] * 30 + [1.0] * 12 + [-1.0] * 1)
    base = np.zeros_like(d)
    res = paired_comparison(base + d, base, n_boot=200)
    assert np.median(d) == 0 and res["p"] < 0.05
    assert res["verdict"] == "better" and res["rank balance"] == pytest.approx((12 - 1) / 13)
    assert paired_comparison(base - d, base, n_boot=200)["verdict"] == "worse"
    assert paired_comparison(base + d, base, higher_is_better=False, n_boot=200)["verdict"] == "worse"
    assert signed_rank_balance([0.0, 0.0]) == 0.0
    assert signed_rank_balance([1.0, -2.0, 3.0]) == pytest.approx((1 - 2 + 3) / 6)


def test_paired_auroc_difference_ci_closed_forms():
    pos = np.array([True] * 10 + [False] * 8)
    perfect = pos.astype(float)
    assert paired_auroc_difference_ci(perfect, perfect, pos, n_boot=50) == (0.0, 0.0, 0.0)
    assert paired_auroc_difference_ci(perfect, -perfect, pos, n_boot=50) == (1.0, 1.0, 1.0)
    assert all(np.isnan(paired_auroc_difference_ci(perfect[:12], perfect[:12], pos[:12], n_boot=5)))
    with pytest.raises(ValueError, match="scores_b"):
        paired_auroc_difference_ci(perfect, perfect[:5], pos)


def test_paired_auroc_difference_ci_with_two_labellings():
    p = np.array([True] * 12 + [False] * 8)
    q = np.array([True] * 6 + [False] * 6 + [True] * 6 + [False] * 2)  # the second model is right on other items
    # each detector perfect for its own labelling: the difference is 0 on every resample
    assert paired_auroc_difference_ci(p.astype(float), q.astype(float), p, n_boot=50, positives_b=q) == (0.0, 0.0, 0.0)
    d = paired_auroc_difference_ci(p.astype(float), -q.astype(float), p, n_boot=50, positives_b=q)
    assert d == (1.0, 1.0, 1.0)  # a perfect detector against a perfectly reversed one, class counts kept
    # one labelling given twice is the single-labelling call, resample for resample
    rng = np.random.default_rng(3)
    a, b = rng.random(20), rng.random(20)
    single = paired_auroc_difference_ci(a, b, p, n_boot=40)
    assert paired_auroc_difference_ci(a, b, p, n_boot=40, positives_b=p) == single
    assert all(np.isnan(paired_auroc_difference_ci(a, b, p, n_boot=5, positives_b=np.arange(20) < 17)))  # 3 wrong
    with pytest.raises(ValueError, match="positives_b"):
        paired_auroc_difference_ci(a, b, p, positives_b=q[:5])


def test_auroc_difference_intervals_keep_their_values():
    """Pinned values (computed before the paired interval moved here from xai_lib.experiments.co_gap and the two
    intervals began to share their checks): the same random streams, the same numbers, bit for bit. The chapters
    still import the paired interval from co_gap: the same function."""
    from xai_lib.experiments import co_gap
    from xai_lib.stats import auroc_difference_ci

    r = np.random.default_rng(11)
    a, b = r.random(30), r.random(30)
    p, q = r.random(30) < 0.5, r.random(30) < 0.6
    assert paired_auroc_difference_ci(a, b, p, n_boot=100, seed=2) == (
        -0.010000000000000009, -0.35262499999999997, 0.3078749999999999)  # fmt: skip
    assert paired_auroc_difference_ci(a, b, p, n_boot=100, seed=2, level=0.8, positives_b=q) == (
        -0.015357142857142958, -0.13582142857142854, 0.1696964285714286)  # fmt: skip
    assert auroc_difference_ci(a, p, b, q, n_boot=100, seed=2, level=0.8) == (
        -0.015357142857142847, -0.1964107142857143, 0.1859464285714287)  # fmt: skip
    assert auroc_ci(a, p, n_boot=100, seed=2) == (0.565, 0.327375, 0.7904999999999999)
    assert bootstrap_mean_ci(a, n_boot=100, seed=2) == (0.486630725064438, 0.3841120388838002, 0.5745867377056713)
    assert co_gap.paired_auroc_difference_ci is paired_auroc_difference_ci
