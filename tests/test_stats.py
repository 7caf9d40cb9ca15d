"""Statistics helpers on cases with known answers."""

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from xai_lib.stats import (
    auroc_ci,
    bootstrap_mean_ci,
    mann_whitney_auc,
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
