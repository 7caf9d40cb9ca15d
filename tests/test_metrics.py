"""Metrics on constructed cases with known values."""

import numpy as np
import pytest
import torch
from torch import nn

from xai_lib.metrics import (
    SkippedImageError,
    curve_area,
    insertion_auc,
    insertion_aucs,
    insertion_images,
    localisation,
    pic_metric,
    pic_metrics,
    webp_size,
)


class MeanBrightness(nn.Module):
    """Two classes; logit of class 0 = a * mean(image), class 1 = 0: p0 = sigmoid(a * mean)."""

    def __init__(self, a=8.0):
        super().__init__()
        self.a = a
        self.dummy = nn.Parameter(torch.zeros(1))

    def forward(self, x):
        m = self.a * x.mean((1, 2, 3))
        return torch.stack([m, torch.zeros_like(m)], 1)


class BrightPixels(nn.Module):
    """Logit of class 0 = a * mean(relu(x - 0.5)) - b: evidence is the share of bright pixels."""

    def __init__(self, a=1000.0, b=3.0):
        super().__init__()
        self.a, self.b = a, b
        self.dummy = nn.Parameter(torch.zeros(1))

    def forward(self, x):
        m = self.a * torch.relu(x - 0.5).mean((1, 2, 3)) - self.b
        return torch.stack([m, torch.zeros_like(m)], 1)


def test_insertion_images_insert_the_top_pixels_in_order():
    img = torch.ones(1, 2, 2)
    sal = torch.tensor([[4.0, 3.0], [2.0, 1.0]])
    stack = insertion_images(img, sal, steps=4, base=torch.zeros_like(img))
    inserted = stack.flatten(1).sum(1)
    assert inserted.tolist() == [0, 1, 2, 3, 4]
    assert stack[1, 0, 0, 0] == 1 and stack[2, 0, 0, 1] == 1 and stack[2, 0, 1, 0] == 0


def test_insertion_auc_closed_form():
    torch.manual_seed(0)
    img = torch.ones(1, 3, 10, 10)
    sal = torch.rand(1, 3, 10, 10)  # any order: every pixel has the same value
    steps = 20
    res = insertion_auc(MeanBrightness(8.0), img, sal, 0, steps=steps)
    p = torch.sigmoid(8.0 * torch.arange(steps + 1, dtype=torch.float64) / steps)
    expected = (p[1:] + p[:-1]).sum() / 2 / steps
    assert res.values.item() == pytest.approx(expected.item(), abs=1e-6)
    ratio = insertion_auc(MeanBrightness(8.0), img, sal, 0, steps=steps, ratio=True)
    assert ratio.values.item() == pytest.approx((expected / p[-1]).item(), abs=1e-6)


def test_insertion_rewards_the_right_order_and_skips_wrong_predictions():
    img = torch.zeros(2, 1, 4, 4)
    img[:, :, :2] = 1.0  # bright top half
    good = img.clone()
    bad = 1 - img
    model = MeanBrightness(20.0)
    r_good = insertion_auc(model, img, good, 0)
    r_bad = insertion_auc(model, img, bad, 0)
    assert (r_good.values > r_bad.values).all()
    dark = torch.zeros(1, 1, 4, 4)  # mean 0: p0 = 0.5 -> argmax 0 (tie), predict class 1 instead:
    r = insertion_auc(model, dark - 1, dark, 0)
    assert torch.isnan(r.values).all() and r.skipped == {0: "wrong prediction"}
    with pytest.raises(SkippedImageError, match="image 0: wrong prediction"):
        r.raise_if_skipped()


def test_localisation_perfect_inverse_and_uninformative():
    masks = torch.zeros(3, 8, 8, dtype=torch.bool)
    masks[:, 2:5, 3:6] = True
    perfect = masks.float()[:, None].repeat(1, 3, 1, 1)
    res = localisation(perfect, masks)
    assert torch.allclose(res["roc_auc"].values, torch.ones(3, dtype=torch.float64))
    assert torch.allclose(res["best_f1"].values, torch.ones(3, dtype=torch.float64))
    assert torch.allclose(res["mae"].values, torch.zeros(3, dtype=torch.float64))
    inverse = localisation(1 - perfect, masks)
    assert torch.allclose(inverse["roc_auc"].values, torch.zeros(3, dtype=torch.float64))
    flat = localisation(torch.ones(3, 3, 8, 8), masks)
    assert torch.allclose(flat["roc_auc"].values, torch.full((3,), 0.5, dtype=torch.float64))
    empty = localisation(perfect, torch.zeros(3, 8, 8, dtype=torch.bool))
    assert torch.isnan(empty["roc_auc"].values).all() and len(empty["roc_auc"].skipped) == 3


def test_localisation_signed_attributions_use_absolute_channel_sum():
    masks = torch.zeros(1, 4, 4, dtype=torch.bool)
    masks[0, 0, 0] = True
    sal = torch.zeros(1, 3, 4, 4)
    sal[0, :, 0, 0] = -5.0  # strongly negative on the mask: |sum| is large there
    assert localisation(sal, masks)["roc_auc"].values.item() == 1.0


def test_curve_area_known_shapes():
    info = np.linspace(0.05, 0.95, 10)
    area, curve = curve_area(info, info)  # prediction = information: the diagonal
    assert area == pytest.approx(0.5, abs=1e-3) and curve[0] == 0 and curve[-1] == 1
    area_top, _ = curve_area(info, np.ones(10))  # full prediction from the first bit of information
    assert area_top > 0.95
    area_mono, _ = curve_area(np.array([0.2, 0.4, 0.6]), np.array([0.5, 0.1, 0.5]))  # dips are removed
    area_flat, _ = curve_area(np.array([0.2, 0.4, 0.6]), np.array([0.5, 0.5, 0.5]))
    assert area_mono == pytest.approx(area_flat)


def test_webp_size_grows_with_content():
    rng = np.random.default_rng(0)
    flat = torch.full((3, 32, 32), 0.5)
    noisy = torch.from_numpy(rng.random((3, 32, 32))).float()
    assert webp_size(noisy) > 5 * webp_size(flat)


@pytest.mark.parametrize("information", ["entropy", "msssim"])
def test_pic_on_a_brightness_model(information):
    """A model that counts bright pixels: inserting them first must beat inserting them last."""
    torch.manual_seed(0)
    img = torch.rand(2, 3, 64, 64) * 0.2
    img[:, :, 28:36, 28:36] += 0.8  # a small bright square: the evidence, which the blurred base loses
    good = torch.zeros(2, 64, 64)
    good[:, 28:36, 28:36] = 1.0
    model = BrightPixels()
    r_good = pic_metric(model, img, good, 0, "sic", information, min_pred=0.6)
    r_bad = pic_metric(model, img, 1 - good, 0, "sic", information, min_pred=0.6)
    assert not r_good.skipped and (r_good.values > r_bad.values).all()
    assert ((r_good.values >= 0) & (r_good.values <= 1)).all()


@pytest.mark.parametrize("information", ["entropy", "msssim"])
def test_shared_pic_pass_equals_separate_calls(information):
    """``pic_metrics`` shares each image's base across maps and kinds: same values as one call per map."""
    torch.manual_seed(1)
    img = torch.rand(3, 3, 64, 64) * 0.2
    img[:, :, 20:36, 24:40] += 0.8
    maps = {"a": torch.rand(3, 64, 64), "b": torch.rand(3, 3, 64, 64) - 0.5}
    both = pic_metrics(BrightPixels(), img, maps, 0, information, min_pred=0.6)
    for name, sal in maps.items():
        for kind in ("sic", "aic"):
            one = pic_metric(BrightPixels(), img, sal, 0, kind, information, min_pred=0.6)
            torch.testing.assert_close(both[name][kind].values, one.values, equal_nan=True)
            torch.testing.assert_close(both[name][kind].curves, one.curves, equal_nan=True)
            assert both[name][kind].skipped == one.skipped


def test_insertion_variants_from_one_pass_and_ratio_is_probability_over_full():
    torch.manual_seed(2)
    img = torch.rand(4, 3, 16, 16)
    sal = torch.rand(4, 16, 16)
    model = MeanBrightness(4.0)
    both = insertion_aucs(model, img, sal, 0, steps=10)
    full = torch.sigmoid(4.0 * img.mean((1, 2, 3))).double()
    torch.testing.assert_close(both["probability"].values, insertion_auc(model, img, sal, 0, steps=10).values)
    torch.testing.assert_close(both["ratio"].values, both["probability"].values / full)
    torch.testing.assert_close(both["ratio"].values, insertion_auc(model, img, sal, 0, steps=10, ratio=True).values)


def test_pic_skips_unconfident_images_with_the_reason():
    img = torch.full((1, 3, 64, 64), 0.01)
    res = pic_metric(MeanBrightness(1.0), img, torch.rand(1, 64, 64), 0, "sic", "entropy", min_pred=0.8)
    assert torch.isnan(res.values).all() and "below min_pred" in res.skipped[0]


@pytest.mark.parametrize(
    "call,name",
    [
        (lambda m, x: insertion_auc(m, x[0], x[0], 0), "images"),
        (lambda m, x: insertion_auc(m, x, x[:, :1, :3], 0), "saliency"),
        (lambda m, x: insertion_auc(m, x, x * float("nan"), 0), "saliency"),
        (lambda m, x: insertion_auc(m, x, x, torch.tensor([0, 1, 0])), "targets"),
        (lambda m, x: insertion_auc(m, x, x, 0, steps=0), "steps"),
        (lambda m, x: insertion_auc("model", x, x, 0), "model"),
        (lambda m, x: pic_metric(m, x, x, 0, kind="xic"), "kind"),
        (lambda m, x: pic_metric(m, x, x, 0, information="jpeg"), "information"),
        (lambda m, x: pic_metrics(m, x, {}, 0), "saliencies"),
        (lambda m, x: pic_metrics(m, x, {"a": x[:1]}, 0), "saliency"),
        (lambda m, x: localisation(x, torch.zeros(2, 5, 5)), "masks"),
    ],
)
def test_bad_input_raises_naming_the_argument(call, name):
    with pytest.raises(ValueError, match=name):
        call(MeanBrightness(), torch.rand(2, 3, 8, 8))
