"""The fit of a support regression on supports and errors with known answers: fit and shift realised in closed
form, the bootstrap intervals' values, the within-class rank test and the class-split floor."""

import numpy as np
import pytest
import torch

from tests.test_gad_glue import pair_data, small_model
from xai_lib.metrics.support_fit import (
    FIT,
    SHIFT,
    SPLIT_ONLY,
    WITHIN,
    class_split_rank,
    ratio_interval,
    support_fit,
    support_fit_interval,
    within_class_rank,
)


class _LabelShift(torch.nn.Module):
    """A known "support": the original's outputs with a share ``s`` of the requested shift applied to every sample
    (the label is read from the first pixel): class-0 rows get ``s * alpha_a`` off output 2, class-2 rows
    ``s * alpha_b`` off output 0; ``own``: that share added to the sample's own output instead."""

    def __init__(self, original, s, alpha, own=False):
        super().__init__()
        self.original, self.s, self.alpha, self.own = original, s, alpha, own

    def forward(self, x):
        out = self.original(x).clone()
        is_a = x[:, 0, 0, 0] < 0.5
        alpha_a, alpha_b = self.alpha if isinstance(self.alpha, tuple) else (self.alpha, self.alpha)
        if self.own:
            out[is_a, 0] += self.s * alpha_a
            out[~is_a, 2] += self.s * alpha_b
        else:
            out[is_a, 2] -= self.s * alpha_a
            out[~is_a, 0] -= self.s * alpha_b
        return out


def test_fit_and_shift_realised_on_known_supports():
    """A support that realises a share s of every sample's shift: shift realised = s, and the fit
    1 - MSE ratio = 1 - (1 - s)^2 (so a fit of 0.9 is about 68% of the shift, not 90%); the same share realised by
    raising the sample's own output counts as the same shift of the gap; unequal alphas; alpha 0."""
    model, (x, _y) = small_model(), pair_data()
    y = torch.arange(len(x)) % 2 * 2  # classes 0 and 2
    x = x.clone()
    x[:, 0, 0, 0] = (y == 2).float()  # the label, for the known support to read
    for s in (0.0, 0.68, 1.0, 1.25):
        fit = support_fit(model, _LabelShift(model, s, 4.0), x, y, 0, 2, 4.0)
        assert fit[SHIFT] == pytest.approx(s, abs=1e-6)
        assert fit[FIT] == pytest.approx(1 - (1 - s) ** 2, abs=1e-5)
        assert fit["MSE original to targets"] == pytest.approx(4.0**2 / 2, rel=1e-6)
    assert support_fit(model, _LabelShift(model, 0.68, 4.0), x, y, 0, 2, 4.0)[FIT] == pytest.approx(0.8976, abs=1e-4)
    own = support_fit(model, _LabelShift(model, 0.5, 4.0, own=True), x, y, 0, 2, 4.0)
    assert own[SHIFT] == pytest.approx(0.5, abs=1e-6)
    uneven = support_fit(model, _LabelShift(model, 0.5, (2.0, 6.0)), x, y, 0, 2, (2.0, 6.0))
    assert uneven[SHIFT] == pytest.approx(0.5, abs=1e-6)
    same = support_fit(model, model, x, y, 0, 2, 0.0)
    assert same[SHIFT] == 1.0 and same[FIT] == 1.0
    # every row realises the same share: every resample has the same fit, so the interval is that one point
    boot = support_fit(model, _LabelShift(model, 0.68, 4.0), x, y, 0, 2, 4.0, n_boot=200)
    for end in ("fit CI low", "fit CI high"):
        assert boot[end] == pytest.approx(boot[FIT], abs=1e-6)
    assert support_fit(model, model, x, y, 0, 2, 0.0, n_boot=50)["fit CI low"] == 1.0  # nothing asked for
    moved = support_fit(model, _LabelShift(model, 1.0, 4.0), x, y, 0, 2, 0.0)
    assert str(moved[SHIFT]) == "nan"  # nothing was asked for, yet the gaps moved: no share to speak of


def test_fit_interval_on_known_errors():
    """The bootstrap interval of 1 - sum(errors) / sum(untrained errors): a point where every row has the same
    ratio; around the fit and inside the range of the rows' own ratios where they differ; bad shapes raise."""
    e0 = np.full(40, 8.0)
    assert support_fit_interval(np.full(40, 2.0), e0, n_boot=100) == pytest.approx((0.75, 0.75))
    e = np.where(np.arange(40) % 2 == 0, 0.8, 2.4)  # row fits 0.9 and 0.7, fit 0.8
    lo, hi = support_fit_interval(e, e0, n_boot=500, seed=1)
    assert 0.7 < lo < 0.8 < hi < 0.9
    assert support_fit_interval(e, e0, n_boot=500, seed=1) == (lo, hi)  # seeded
    with pytest.raises(ValueError, match="errors"):
        support_fit_interval(e, e0[:5])


def test_row_bootstrap_intervals_keep_their_values():
    """Pinned values of the shift and fit intervals (computed before the two shared one resampling helper): the same
    random streams, the same numbers, bit for bit; with resamples whose denominator sums to 0 (left out of the ratio,
    a fit of 1)."""
    rng = np.random.default_rng(7)
    num, den = rng.normal(1.0, 1.0, 25), np.where(np.arange(25) < 3, 1.0, 0.0)
    assert ratio_interval(num, den, n_boot=200, seed=3, level=0.9) == (2.34807467282475, 14.454852186010124)
    num, den = rng.normal(3.0, 1.0, 30), rng.uniform(2, 5, 30)
    assert ratio_interval(num, den, n_boot=300, seed=4) == (0.6679527540340013, 0.8928919456672333)
    e, e0 = rng.uniform(0, 2, 20), np.where(np.arange(20) < 2, 4.0, 0.0)
    assert support_fit_interval(e, e0, n_boot=200, seed=3, level=0.9) == (-3.843273886046887, 1.0)
    e, e0 = rng.uniform(0, 2, 30), rng.uniform(2, 4, 30)
    assert support_fit_interval(e, e0, n_boot=300, seed=4) == (0.6025387246574778, 0.730134915635718)


def test_within_class_rank_and_the_class_split_floor():
    """The pooled rank correlation mostly measures the class split: two separated classes of n samples whose order
    inside each class is random score 3 n^2 / (4 n^2 - 1) (about 0.75) pooled, and about 0 within a class; a support
    that keeps each class's order (any monotone change inside a class, a shift between the classes) scores exactly 1
    within; one class's order reversed scores -1."""
    rng = np.random.default_rng(0)
    n = 60
    is_a = np.arange(2 * n) < n
    orig = np.stack([np.where(is_a, 5.0, -5.0), np.where(is_a, -5.0, 5.0)], 1) + rng.random((2 * n, 2))
    kept = np.where(is_a[:, None], 2 * orig - 3.0, orig**3)  # monotone inside each class
    assert within_class_rank(orig, kept, is_a)[0] == pytest.approx(1.0)
    low, lo, hi = within_class_rank(orig, kept, is_a, n_boot=100)
    assert low == lo == hi == pytest.approx(1.0)
    flipped = kept.copy()
    flipped[~is_a] = -orig[~is_a]  # class b's order reversed in both outputs
    assert within_class_rank(orig, flipped, is_a)[0] == pytest.approx(-1.0)
    shuffled = orig.copy()
    for g in (np.flatnonzero(is_a), np.flatnonzero(~is_a)):
        shuffled[g] = orig[rng.permutation(g)]
    assert abs(within_class_rank(orig, shuffled, is_a)[0]) < 0.5  # the order inside a class is gone...
    pooled = np.corrcoef(np.argsort(np.argsort(orig[:, 0])), np.argsort(np.argsort(shuffled[:, 0])))[0, 1]
    assert pooled > 0.5  # ...but the pooled correlation stays high
    assert class_split_rank(orig, is_a, n_perm=50) == pytest.approx(3 * n**2 / (4 * n**2 - 1), abs=0.03)
    noisy = orig + 0.3 * rng.standard_normal(orig.shape)
    low, lo, hi = within_class_rank(orig, noisy, is_a, n_boot=300, seed=2)
    assert lo < low < hi and 0 < lo and hi < 1
    assert within_class_rank(orig, noisy, is_a, n_boot=300, seed=2) == (low, lo, hi)  # seeded
    assert all(np.isnan(within_class_rank(orig[: n + 2], noisy[: n + 2], is_a[: n + 2])))  # 2 samples of class b
    with pytest.raises(ValueError, match="original"):
        within_class_rank(orig[:, :1], noisy[:, :1], is_a)


def test_ratio_interval_and_the_shift_interval():
    """The bootstrap interval of sum(num) / sum(den): a point where every row has the same ratio; inside the rows'
    range where they differ; support_fit's shift interval is the point for a support realising the same share
    everywhere, and its within-class order of a shifted copy is kept exactly."""
    assert ratio_interval(np.full(30, 3.0), np.full(30, 4.0), n_boot=100) == pytest.approx((0.75, 0.75))
    num = np.where(np.arange(40) % 2 == 0, 3.6, 2.8)  # row ratios 0.9 and 0.7 of 4, ratio 0.8
    lo, hi = ratio_interval(num, np.full(40, 4.0), n_boot=500, seed=1)
    assert 0.7 < lo < 0.8 < hi < 0.9
    assert all(np.isnan(ratio_interval(num, np.zeros(40), n_boot=10)))
    model, (x, _y) = small_model(), pair_data()
    y = torch.arange(len(x)) % 2 * 2
    x = x.clone()
    x[:, 0, 0, 0] = (y == 2).float()
    f = support_fit(model, _LabelShift(model, 0.68, 4.0), x, y, 0, 2, 4.0, n_boot=200)
    assert f["shift CI low"] == pytest.approx(0.68, abs=1e-6) and f["shift CI high"] == pytest.approx(0.68, abs=1e-6)
    # a constant shift per class keeps the order inside each class exactly
    assert f[WITHIN] == pytest.approx(1.0) and f["within-class CI low"] == pytest.approx(1.0)
    with torch.no_grad():  # the split-only correlation is the one of the original's own pair outputs
        split_only = class_split_rank(model(x)[:, [0, 2]].numpy(), (y == 0).numpy(), seed=0)
    assert f[SPLIT_ONLY] == pytest.approx(split_only)
    same = support_fit(model, model, x, y, 0, 2, 0.0, n_boot=20)
    assert same["shift CI low"] == same["shift CI high"] == 1.0 and same[WITHIN] == pytest.approx(1.0)
