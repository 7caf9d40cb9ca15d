"""Support regressions and GAD maps: alpha = 0 reproduces the original, distancing separates, caching, errors."""

import os

import numpy as np
import pytest
import torch

import xai_lib
from xai_lib.gad_support import (
    FIT,
    GAD_METHODS,
    SHIFT,
    SPLIT_ONLY,
    WITHIN,
    SupportConfig,
    class_split_rank,
    fidelity,
    gad_maps,
    ratio_interval,
    share_inside,
    support_models,
    train_support,
    within_class_rank,
)


def small_model(seed=0, n_classes=3):
    torch.manual_seed(seed)
    return xai_lib.models.SmallVGG(3, n_classes, widths=(6, 8)).eval()


def pair_data(seed=1, n=48):
    g = torch.Generator().manual_seed(seed)
    return torch.rand(n, 3, 16, 16, generator=g), torch.arange(n) % 3


def test_alpha_zero_support_reproduces_the_original():
    """alpha = 0 asks for no shift: the support is the original itself, by construction (not by training that
    happens not to move): the same weights, bit for bit the same outputs, a separate frozen module."""
    model, (x, y) = small_model(), pair_data()
    for alpha in (0, 0.0, (0, 0)):
        support = train_support(model, x, y, 0, 2, alpha, SupportConfig(epochs=3, lr=1e-2))
        assert support is not model and not support.training
        assert torch.equal(support(x), model(x))
        for p, q in zip(support.parameters(), model.parameters(), strict=True):
            assert torch.equal(p, q) and not p.requires_grad
    # a shift of only one class is not zero: that support is trained and moves
    moved = train_support(model, x, y, 0, 2, (0, 3.0), SupportConfig(epochs=3, lr=1e-2))
    assert not torch.equal(moved(x), model(x))


ALPHA_ZERO_ON_OTHER_KERNELS = """
import torch, xai_lib
from xai_lib.gad_support import SupportConfig, train_support
torch.manual_seed(0)
model = xai_lib.models.SmallVGG(3, 3, widths=(6, 8)).eval()
g = torch.Generator().manual_seed(1)
x, y = torch.rand(48, 3, 16, 16, generator=g), torch.arange(48) % 3
support = train_support(model, x, y, 0, 2, 0.0, SupportConfig(epochs=3, lr=1e-2))
same = all(torch.equal(p, q) for p, q in zip(support.parameters(), model.parameters()))
print(torch.backends.cpu.get_cpu_capability(), same and torch.equal(support(x), model(x)))
"""


def test_alpha_zero_support_is_the_original_under_other_kernels():
    """The same under the kernels of another CPU (PyTorch's scalar kernels and oneDNN capped at SSE4.1; AVX2 where
    this process already runs those)."""
    import subprocess
    import sys

    from xai_lib.experiments.conditioning import other_kernels

    kernels = other_kernels()
    out = subprocess.run([sys.executable, "-c", ALPHA_ZERO_ON_OTHER_KERNELS], env={**os.environ, **kernels},
                         capture_output=True, text=True, check=True)  # fmt: skip
    assert out.stdout.split() == [kernels["ATEN_CPU_CAPABILITY"].upper(), "True"], out.stdout + out.stderr


SUPPORT_DIGESTS = """
import torch
from xai_lib.data import load_dataset
from xai_lib.gad_support import SupportConfig, train_support
from xai_lib.models import default_model
from xai_lib.models.loading import weights_digest
model = default_model("vgg", "digits", "smoke", progress=False)
train = load_dataset("digits", "train", "smoke")
rows = train.class_balanced_index(16, (1, 7))
for precision in ("float64", "model"):
    config = SupportConfig(epochs=5, batch_size=8, precision=precision)
    print(weights_digest(train_support(model, train.inputs[rows], train.labels[rows], 1, 7, 4.0, config)))
"""


@pytest.mark.slow
def test_a_support_trained_in_float64_is_the_same_under_other_kernels():
    """A trained model's support (the shipped smoke VGG on digits, the paper's lr), trained in float64 and rounded to
    float32, is bit for bit the support another CPU's kernels train; trained in float32 it is not (Adam amplifies
    those kernels' last-bit differences over the training)."""
    import subprocess
    import sys

    runs = []
    from xai_lib.experiments.conditioning import other_kernels

    for kernels in ({}, other_kernels()):
        out = subprocess.run([sys.executable, "-c", SUPPORT_DIGESTS], env={**os.environ, **kernels},
                             capture_output=True, text=True, check=True)  # fmt: skip
        runs.append(out.stdout.split())
    (f64_here, f32_here), (f64_there, f32_there) = runs
    assert f64_here == f64_there
    assert f32_here != f32_there


def test_support_moves_the_shifted_columns_apart():
    model, (x, y) = small_model(), pair_data()
    before = fidelity(model, model, x, y, 0, 2, 4.0)
    support = train_support(model, x, y, 0, 2, 4.0, SupportConfig(epochs=30, lr=3e-3, batch_size=16))
    fit = fidelity(model, support, x, y, 0, 2, 4.0)
    assert (
        before["MSE to targets"] > 0.5 and fit["MSE to targets"] < 0.5 * before["MSE to targets"]
    )  # it learned the shifted targets
    out, orig = support(x), model(x)
    a, b = y == 0, y == 2
    # class-0 rows: the class-2 output went down; class-2 rows: the class-0 output went down
    assert (out[a, 2] - orig[a, 2]).mean() < -1.0 and (out[b, 0] - orig[b, 0]).mean() < -1.0
    assert fit["MSE to original outputs"] > 0
    # the rank correlation of output a, recomputed: Pearson's r of the ranks of the pair's rows (no ties here)
    rows = (y == 0) | (y == 2)
    with torch.no_grad():
        o, s = model(x[rows])[:, 0].numpy(), support(x[rows])[:, 0].numpy()
    ranks = [np.argsort(np.argsort(v)) for v in (o, s)]
    assert fit["rank corr a"] == pytest.approx(np.corrcoef(*ranks)[0, 1], abs=1e-9)
    assert fit[FIT] == pytest.approx(1 - fit["MSE to targets"] / fit["MSE original to targets"])
    # these random inputs carry no sign of their class: the support can only lower both outputs of every row, which
    # brings it closer to the targets (the fit grows) but does not move a row's own output away from the other's
    assert fit[FIT] > 0.5 and abs(fit[SHIFT]) < 0.2


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
        fit = fidelity(model, _LabelShift(model, s, 4.0), x, y, 0, 2, 4.0)
        assert fit[SHIFT] == pytest.approx(s, abs=1e-6)
        assert fit[FIT] == pytest.approx(1 - (1 - s) ** 2, abs=1e-5)
        assert fit["MSE original to targets"] == pytest.approx(4.0**2 / 2, rel=1e-6)
    assert fidelity(model, _LabelShift(model, 0.68, 4.0), x, y, 0, 2, 4.0)[FIT] == pytest.approx(0.8976, abs=1e-4)
    own = fidelity(model, _LabelShift(model, 0.5, 4.0, own=True), x, y, 0, 2, 4.0)
    assert own[SHIFT] == pytest.approx(0.5, abs=1e-6)
    uneven = fidelity(model, _LabelShift(model, 0.5, (2.0, 6.0)), x, y, 0, 2, (2.0, 6.0))
    assert uneven[SHIFT] == pytest.approx(0.5, abs=1e-6)
    same = fidelity(model, model, x, y, 0, 2, 0.0)
    assert same[SHIFT] == 1.0 and same[FIT] == 1.0
    # every row realises the same share: every resample has the same fit, so the interval is that one point
    boot = fidelity(model, _LabelShift(model, 0.68, 4.0), x, y, 0, 2, 4.0, n_boot=200)
    for end in ("fit CI low", "fit CI high"):
        assert boot[end] == pytest.approx(boot[FIT], abs=1e-6)
    assert fidelity(model, model, x, y, 0, 2, 0.0, n_boot=50)["fit CI low"] == 1.0  # nothing asked for
    moved = fidelity(model, _LabelShift(model, 1.0, 4.0), x, y, 0, 2, 0.0)
    assert str(moved[SHIFT]) == "nan"  # nothing was asked for, yet the gaps moved: no share to speak of


def test_fit_interval_on_known_errors():
    """The bootstrap interval of 1 - sum(errors) / sum(untrained errors): a point where every row has the same
    ratio; around the fit and inside the range of the rows' own ratios where they differ; bad shapes raise."""
    from xai_lib.gad_support import fit_interval

    e0 = np.full(40, 8.0)
    assert fit_interval(np.full(40, 2.0), e0, n_boot=100) == pytest.approx((0.75, 0.75))
    e = np.where(np.arange(40) % 2 == 0, 0.8, 2.4)  # row fits 0.9 and 0.7, fit 0.8
    lo, hi = fit_interval(e, e0, n_boot=500, seed=1)
    assert 0.7 < lo < 0.8 < hi < 0.9
    assert fit_interval(e, e0, n_boot=500, seed=1) == (lo, hi)  # seeded
    with pytest.raises(ValueError, match="errors"):
        fit_interval(e, e0[:5])


def test_row_bootstrap_intervals_keep_their_values():
    """Pinned values of the shift and fit intervals (computed before the two shared one resampling helper): the same
    random streams, the same numbers, bit for bit; with resamples whose denominator sums to 0 (left out of the ratio,
    a fit of 1)."""
    from xai_lib.gad_support import fit_interval

    rng = np.random.default_rng(7)
    num, den = rng.normal(1.0, 1.0, 25), np.where(np.arange(25) < 3, 1.0, 0.0)
    assert ratio_interval(num, den, n_boot=200, seed=3, level=0.9) == (2.34807467282475, 14.454852186010124)
    num, den = rng.normal(3.0, 1.0, 30), rng.uniform(2, 5, 30)
    assert ratio_interval(num, den, n_boot=300, seed=4) == (0.6679527540340013, 0.8928919456672333)
    e, e0 = rng.uniform(0, 2, 20), np.where(np.arange(20) < 2, 4.0, 0.0)
    assert fit_interval(e, e0, n_boot=200, seed=3, level=0.9) == (-3.843273886046887, 1.0)
    e, e0 = rng.uniform(0, 2, 30), rng.uniform(2, 4, 30)
    assert fit_interval(e, e0, n_boot=300, seed=4) == (0.6025387246574778, 0.730134915635718)


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
    range where they differ; fidelity's shift interval is the point for a support realising the same share
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
    f = fidelity(model, _LabelShift(model, 0.68, 4.0), x, y, 0, 2, 4.0, n_boot=200)
    assert f["shift CI low"] == pytest.approx(0.68, abs=1e-6) and f["shift CI high"] == pytest.approx(0.68, abs=1e-6)
    # a constant shift per class keeps the order inside each class exactly
    assert f[WITHIN] == pytest.approx(1.0) and f["within-class CI low"] == pytest.approx(1.0)
    with torch.no_grad():  # the split-only correlation is the one of the original's own pair outputs
        split_only = class_split_rank(model(x)[:, [0, 2]].numpy(), (y == 0).numpy(), seed=0)
    assert f[SPLIT_ONLY] == pytest.approx(split_only)
    same = fidelity(model, model, x, y, 0, 2, 0.0, n_boot=20)
    assert same["shift CI low"] == same["shift CI high"] == 1.0 and same[WITHIN] == pytest.approx(1.0)


def test_only_the_pairs_outputs_enter_the_regression_and_its_fit():
    """On a model with more outputs than the pair, the others neither enter the loss (their gradient is zero, so a
    support trained on the pair leaves a bias of another output untouched) nor the fit: moving another output
    by any amount changes no fit measure, and the closed form for the untrained support holds: the mean over
    the pair's two columns of the squared shift is alpha^2 / 2 (one column shifted per row)."""
    model, (x, y) = small_model(n_classes=5), pair_data()
    y = y % 2 * 3  # classes 0 and 3 of five outputs
    support = train_support(model, x, y, 0, 3, 2.0, SupportConfig(epochs=2, lr=1e-2, batch_size=16))
    last = [m for m in support.modules() if isinstance(m, torch.nn.Linear)][-1]
    orig_last = [m for m in model.modules() if isinstance(m, torch.nn.Linear)][-1]
    assert torch.equal(last.bias[[1, 2, 4]], orig_last.bias[[1, 2, 4]])
    assert not torch.equal(last.bias[[0, 3]], orig_last.bias[[0, 3]])
    fit = fidelity(model, support, x, y, 0, 3, 2.0)
    with torch.no_grad():
        last.bias[[1, 2, 4]] += 100.0
    assert fidelity(model, support, x, y, 0, 3, 2.0) == fit
    assert fidelity(model, model, x, y, 0, 3, 2.0)["MSE original to targets"] == pytest.approx(2.0**2 / 2)


def test_support_models_are_cached(tmp_path, monkeypatch):
    monkeypatch.setenv("XAI_LIB_CACHE", str(tmp_path))
    model, (x, y) = small_model(), pair_data()
    cfg = SupportConfig(epochs=1, lr=1e-3)
    first = support_models(model, x, y, 0, 1, (0, 2), cfg, progress=False)
    files = sorted((tmp_path / "supports").glob("*.pt"))
    assert len(files) == 1  # alpha 2 only: alpha 0 is the original itself, never trained nor cached
    import xai_lib.gad_support as gs

    def no_training(model, images, labels, class_a, class_b, alpha, config=None, progress=False):
        assert alpha == 0, f"alpha {alpha} was retrained instead of loaded from the cache"
        return train_support(model, images, labels, class_a, class_b, alpha, cfg)

    monkeypatch.setattr(gs, "train_support", no_training)
    again = support_models(model, x, y, 0, 1, (0, 2), cfg, progress=False)
    for a in (0.0, 2.0):
        torch.testing.assert_close(first[a](x), again[a](x), atol=0, rtol=0)
    assert torch.equal(again[0.0](x), model(x))
    with pytest.raises(ValueError, match="alphas"):
        support_models(model, x, y, 0, 1, (-1,), cfg, progress=False)


@pytest.mark.parametrize("method", GAD_METHODS)
def test_gad_maps_stay_inside_the_original(method):
    model, x = small_model(), pair_data(n=6)[0]
    other = small_model(seed=5)
    res = gad_maps(model, [other], x, 1, method, keep=0.5, n_steps=4)
    assert res.original.shape == x.shape
    assert not (res.gad & ~res.important).any()  # requirement 2: nothing the original did not have
    for hg, ho in zip(res.hull_gad, res.hull_original, strict=True):
        if hg is not None:
            assert not (hg & ~ho).any()  # the GAD hull lies inside the original hull


def test_share_inside_and_bad_inputs():
    m = torch.zeros(2, 4, 4, dtype=torch.bool)
    m[0, :2, :2] = True
    region = torch.zeros(2, 4, 4, dtype=torch.bool)
    region[:, 0, :] = True
    s = share_inside(m, region)
    assert s[0] == 0.5 and str(s[1]) == "nan"
    with pytest.raises(ValueError, match="method"):
        gad_maps(small_model(), [], pair_data(n=2)[0], 0, "DeepLift")
    with pytest.raises(ValueError, match="labels"):
        train_support(small_model(), *pair_data(), 5, 6, 1.0)
    with pytest.raises(ValueError, match="lr"):
        SupportConfig(lr=0)


def test_gad_class_is_captum_shaped_and_equals_the_kernels():
    """``GAD(model, supports, base).attribute(inputs, target)``: the original map where every map's top half agrees,
    zero elsewhere; one target per input is the same as one call per class."""
    from xai_lib.gad import gad_attribution
    from xai_lib.gad_support import GAD

    model, x = small_model(), pair_data(n=6)[0]
    supports = [small_model(seed=5), small_model(seed=6)]
    ours = GAD(model, supports, "Saliency").attribute(x, target=1)
    res = gad_maps(model, supports, x, 1, "Saliency")
    assert ours.shape == x.shape
    for i in range(len(x)):
        from xai_lib.captum_glue import attributions

        maps = [attributions(m, x[i : i + 1], "Saliency", 1)[0].cpu() for m in supports]
        torch.testing.assert_close(ours[i], gad_attribution(res.original[i], maps), rtol=0, atol=0)
    assert ((ours != 0).any(1) <= res.important).all()  # never outside the original's important pixels
    mixed = torch.tensor([0, 1, 2, 1, 0, 2])
    together, maps = GAD(model, supports, "Saliency").attribute(x, target=mixed, return_maps=True)
    assert sorted(maps) == [0, 1, 2]
    for c in (0, 1, 2):
        rows = torch.nonzero(mixed == c).flatten()
        torch.testing.assert_close(together[rows], GAD(model, supports, "Saliency").attribute(x[rows], c))
    with pytest.raises(ValueError, match="base_method"):
        GAD(model, supports, "DeepLift")
    with pytest.raises(ValueError, match="target"):
        GAD(model, supports).attribute(x, target=torch.tensor([0, 1]))
