"""Support regressions and GAD maps: alpha = 0 reproduces the original, distancing separates, caching, errors (the
fit measures: ``test_support_fit.py``)."""

import os

import numpy as np
import pytest
import torch

import xai_lib
from xai_lib.gad_glue import GAD_METHODS, SupportConfig, gad_maps, share_inside, support_models, train_support
from xai_lib.metrics.support_fit import FIT, SHIFT, support_fit


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
from xai_lib.gad_glue import SupportConfig, train_support
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
from xai_lib.gad_glue import SupportConfig, train_support
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
    before = support_fit(model, model, x, y, 0, 2, 4.0)
    support = train_support(model, x, y, 0, 2, 4.0, SupportConfig(epochs=30, lr=3e-3, batch_size=16))
    fit = support_fit(model, support, x, y, 0, 2, 4.0)
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
    fit = support_fit(model, support, x, y, 0, 3, 2.0)
    with torch.no_grad():
        last.bias[[1, 2, 4]] += 100.0
    assert support_fit(model, support, x, y, 0, 3, 2.0) == fit
    assert support_fit(model, model, x, y, 0, 3, 2.0)["MSE original to targets"] == pytest.approx(2.0**2 / 2)


def test_support_models_are_cached(tmp_path, monkeypatch):
    monkeypatch.setenv("XAI_LIB_CACHE", str(tmp_path))
    model, (x, y) = small_model(), pair_data()
    cfg = SupportConfig(epochs=1, lr=1e-3)
    first = support_models(model, x, y, 0, 1, (0, 2), cfg, progress=False)
    files = sorted((tmp_path / "supports").glob("*.pt"))
    assert len(files) == 1  # alpha 2 only: alpha 0 is the original itself, never trained nor cached
    import xai_lib.gad_glue as gs

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
    from xai_lib.gad_glue import GAD

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
