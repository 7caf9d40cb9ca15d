"""Metrics on constructed cases with known values."""

import numpy as np
import pytest
import torch
from torch import nn

from xai_lib.metrics import (
    PAIR_THRESHOLDS,
    SkippedImageError,
    aggregate_pair,
    binned_curve,
    blurred_image,
    insertion_auc,
    insertion_aucs,
    insertion_images,
    localisation,
    pair_random_mask,
    pic_idgi,
    pic_pair_saliency,
    saliency_2d,
    webp_size,
    webp_sizes,
)
from xai_lib.metrics.common import to_uint8
from xai_lib.metrics.localisation import normalised_saliency
from xai_lib.metrics.pic_idgi import top_pixels
from xai_lib.reference.pair import numpy_for_pair


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


@pytest.mark.parametrize("levels", [3, 17, None])  # heavy ties, some ties, (almost surely) none
def test_localisation_equals_scikit_learn_bit_for_bit(levels):
    from scipy.stats import mannwhitneyu
    from sklearn.metrics import precision_recall_curve, roc_auc_score

    rng = np.random.default_rng(levels or 0)
    sal = torch.from_numpy(rng.normal(size=(12, 3, 16, 16)))
    if levels is not None:  # quantised: many pixels share a value, the mask's pixels among them
        sal = torch.round(sal * levels / 4) / levels
    masks = torch.from_numpy(rng.random((12, 16, 16)) < np.linspace(0.02, 0.6, 12)[:, None, None])
    masks[:, :4, :4] |= torch.from_numpy(rng.random((12, 4, 4)) < 0.5)  # masks correlated with nothing: any AUC
    res = localisation(sal, masks)
    s = normalised_saliency(sal)
    for i in range(12):
        m, si = masks[i].flatten().numpy(), s[i].flatten().numpy()
        assert res["roc_auc"].values[i].item() == roc_auc_score(m, si)
        precision, recall, _ = precision_recall_curve(m, si)
        f1 = np.where(precision + recall > 0, 2 * precision * recall / np.maximum(precision + recall, 1e-12), 0)
        assert res["best_f1"].values[i].item() == f1.max()
        # the AUC is the Mann-Whitney U of mask pixels against the others (ties count one half), normalised
        u = mannwhitneyu(si[m], si[~m]).statistic
        assert res["roc_auc"].values[i].item() == pytest.approx(u / (m.sum() * (~m).sum()), abs=1e-12)


def test_localisation_signed_attributions_use_absolute_channel_sum():
    masks = torch.zeros(1, 4, 4, dtype=torch.bool)
    masks[0, 0, 0] = True
    sal = torch.zeros(1, 3, 4, 4)
    sal[0, :, 0, 0] = -5.0  # strongly negative on the mask: |sum| is large there
    assert localisation(sal, masks)["roc_auc"].values.item() == 1.0


def test_localisation_sign_conventions():
    masks = torch.zeros(1, 4, 4, dtype=torch.bool)
    masks[0, 0, 0] = True
    sal = torch.full((1, 3, 4, 4), 0.1)
    sal[0, :, 0, 0] = -5.0  # strongly negative on the mask, weakly positive elsewhere
    auc = {sign: localisation(sal, masks, sign)["roc_auc"].values.item() for sign in ("absolute", "signed", "positive")}
    assert auc == {"absolute": 1.0, "signed": 0.0, "positive": 0.0}  # positive part: the mask pixel is the lowest
    flat = torch.zeros(1, 3, 4, 4)
    flat[0, :, 0, 0] = -5.0  # no positive evidence: the positive part is constant, an uninformative map
    assert localisation(flat, masks, "positive")["roc_auc"].values.item() == 0.5
    with pytest.raises(ValueError, match="sign"):
        localisation(sal, masks, "squared")


def test_localisation_mae_continuous_and_at_the_best_threshold():
    masks = torch.zeros(2, 8, 8, dtype=torch.bool)
    masks[:, 2:5, 3:6] = True  # 9 of 64 pixels
    perfect = masks.double()[:, None]
    assert localisation(perfect, masks)["mae_best"].values.tolist() == [0.0, 0.0]
    # the inverse map's non-empty selections: everything outside (all wrong) or everything (the outside wrong)
    assert localisation(1 - perfect, masks)["mae_best"].values.tolist() == [55 / 64] * 2
    half = perfect * 0.5 + 0.25  # continuous 0.25 / 0.75, min-max normalised to 0 / 1: both MAEs vanish
    res = localisation(half, masks)
    assert res["mae"].values.tolist() == [0.0, 0.0] and res["mae_best"].values.tolist() == [0.0, 0.0]
    rng = np.random.default_rng(3)
    sal = torch.from_numpy(np.round(rng.normal(size=(6, 1, 8, 8)) * 2) / 2)  # ties
    masks = torch.from_numpy(rng.random((6, 8, 8)) < 0.3)
    res = localisation(sal, masks)
    s = normalised_saliency(sal)
    for i in range(6):
        si, m = s[i].numpy(), masks[i].numpy()
        brute = min(((si >= t) != m).mean() for t in np.unique(si))  # every threshold at a value of S
        assert res["mae_best"].values[i].item() == pytest.approx(brute, abs=1e-15)
        assert res["mae"].values[i].item() == pytest.approx(np.abs(si - m).mean(), abs=1e-15)


def test_webp_size_grows_with_content_and_batched_sizes_match():
    rng = np.random.default_rng(0)
    flat = torch.full((3, 32, 32), 0.5)
    noisy = torch.from_numpy(rng.random((3, 32, 32))).float()
    assert webp_size(noisy) > 5 * webp_size(flat)
    arrays = [to_uint8(flat), to_uint8(noisy), to_uint8(flat)]  # a duplicate is encoded once
    assert webp_sizes(arrays, 4, threads=2).tolist() == [webp_size(flat), webp_size(noisy), webp_size(flat)]


def _bright_square(n=2, seed=0):
    torch.manual_seed(seed)
    img = torch.rand(n, 3, 64, 64) * 0.2
    img[:, :, 28:36, 28:36] += 0.8  # a small bright square: the evidence, which blurring loses
    good = torch.zeros(n, 64, 64)
    good[:, 28:36, 28:36] = 1.0
    return (img * 255).round() / 255, good


# -- PAIR protocol ---------------------------------------------------------------------------------------------
def test_pair_blurred_image_is_the_per_channel_griddata_interpolation():
    """PAIR's definition: corners always kept, each channel filled by scipy's linear griddata (mean outside),
    rounded to the input's integer type."""
    from scipy.interpolate import griddata

    rng = np.random.default_rng(3)
    img = (rng.random((24, 20, 3)) * 255).astype(np.uint8)
    mask = rng.random((24, 20)) < 0.1
    ours = blurred_image(img, mask)
    full = mask.copy()
    full[[0, 0, -1, -1], [0, -1, 0, -1]] = True
    ref = img * full[..., None].astype(np.float32)
    unknown = np.argwhere(~full)
    for c in range(3):
        vals = griddata(np.argwhere(full), img[..., c][tuple(np.argwhere(full).T)], unknown, method="linear",
                        fill_value=img[..., c].mean())  # fmt: skip
        ref[..., c][tuple(unknown.T)] = vals
    np.testing.assert_array_equal(ours, np.round(ref).astype(np.uint8))
    assert ours.dtype == np.uint8 and (ours[full] == img[full]).all()


def test_pair_protocol_rewards_the_right_order_and_reports_skips():
    img, good = _bright_square()
    res = pic_pair_saliency(BrightPixels(), img, {"good": good, "bad": 1 - good}, 0, min_pred=0.6)
    assert not res["good"]["sic"].skipped and (res["good"]["sic"].values > res["bad"]["sic"].values).all()
    assert ((res["good"]["sic"].values >= 0) & (res["good"]["sic"].values <= 1)).all()
    area, curve = aggregate_pair(res["good"]["sic"], "sic")
    assert curve.shape == (1001,) and curve[-1] == 1.0 and 0 < area <= 1
    low = pic_pair_saliency(MeanBrightness(1.0), img[:1], {"m": torch.rand(1, 64, 64)}, 0, min_pred=0.8)  # p0 ~ 0.53
    assert "below min_pred" in low["m"]["sic"].skipped[0]
    # AIC: the 0.8 rule only drops wrong predictions; an image still right when fully blurred is dropped too
    assert "not below the original" in low["m"]["aic"].skipped[0]


def test_pair_random_mask_draws_exactly_one_percent():
    m = pair_random_mask(64, 64, 0.01, np.random.default_rng(0))
    assert m.sum() == int(64 * 64 * 0.01) and not m[[0, 0, -1, -1], [0, -1, 0, -1]].all()


@pytest.mark.slow
def test_pair_protocol_equals_pair_saliency_code():
    """The oracle: PAIR saliency 0.2.1's own ``compute_pic_metric`` on the same images, masks, maps and
    prediction function gives the same per-image areas (to 1e-6) and skips (installed by the bench extra)."""
    pic = pytest.importorskip("saliency.metrics.pic")
    if not hasattr(np, "trapz"):  # numpy >= 2.4 removed trapz; the shim goes to PAIR's module only
        pic.np = numpy_for_pair()
    torch.manual_seed(4)
    img, good = _bright_square(3, seed=4)
    maps = {"good": good + 0.1 * torch.rand(3, 64, 64), "noise": torch.rand(3, 3, 64, 64) - 0.5}
    model = BrightPixels()
    masks = np.stack([pair_random_mask(64, 64, 0.01, np.random.default_rng(i)) for i in range(3)])
    ours = pic_pair_saliency(model, img, maps, 0, random_masks=masks, min_pred=0.6)

    def pred_func(kind):
        def f(batch):
            x = torch.from_numpy(np.asarray(batch, np.float32) / 255.0).permute(0, 3, 1, 2)
            p = torch.softmax(model(x), 1)
            return (p[:, 0] if kind == "sic" else (p.argmax(1) == 0).float()).double().numpy().tolist()

        return f

    compared = 0
    for name, sal in maps.items():
        s2d = saliency_2d(sal).numpy()
        for kind in ("sic", "aic"):
            for i in range(3):
                try:
                    ref = pic.compute_pic_metric(to_uint8(img[i]), s2d[i], masks[i], pred_func(kind),
                                                 list(PAIR_THRESHOLDS), min_pred_value=0.6)  # fmt: skip
                except pic.ComputePicMetricError:
                    assert i in ours[name][kind].skipped
                    continue
                assert ours[name][kind].values[i].item() == pytest.approx(ref.auc, abs=1e-6)
                np.testing.assert_allclose(ours[name][kind].curves[i].numpy(), ref.curve_y, atol=1e-6)
                compared += 1
    assert compared >= 6  # SIC of every image and map; AIC where PAIR keeps the image


# -- IDGI protocol ---------------------------------------------------------------------------------------------
def test_binned_curve_known_values():
    info = np.linspace(0.0, 1.0, 1001)
    area, curve = binned_curve(info, info, "aic")  # prediction = information: the diagonal
    assert area == pytest.approx(0.5, abs=1e-3) and curve.shape == (100,)
    assert binned_curve(info, np.full_like(info, 0.3), "sic")[0] == pytest.approx(0.3)
    # per bin: AIC averages, SIC takes the median; empty bins are interpolated between their neighbours
    i2, p2 = np.array([0.001, 0.002, 0.003, 0.999]), np.array([0.0, 0.0, 1.0, 1.0])
    assert binned_curve(i2, p2, "aic")[1][0] == pytest.approx(1 / 3)
    assert binned_curve(i2, p2, "sic")[1][0] == 0.0
    assert binned_curve(i2, p2, "sic")[1][50] == pytest.approx(0.5051, abs=1e-3)


def _binned_curve_direct(info, pred, kind, bins=100):
    """The protocol's binned curve written out bin by bin (numpy's mean or median of each bin's predictions)."""
    ok = np.isfinite(info) & np.isfinite(pred)
    info, pred = info[ok], pred[ok]
    which = np.minimum((np.clip(info, 0.0, 1.0) * bins).astype(int), bins - 1)
    centres = (np.arange(bins) + 0.5) / bins
    filled = [b for b in range(bins) if (which == b).any()]
    values = [(np.median if kind == "sic" else np.mean)(pred[which == b]) for b in filled]
    curve = np.interp(centres, centres[filled], values)
    return float(curve.mean()), curve


def test_binned_curve_equals_the_bin_by_bin_formulation_bit_for_bit():
    rng = np.random.default_rng(0)
    for trial in range(600):
        m = int(rng.integers(1, 400))
        info = rng.random(m) * rng.choice([1.0, 1.2, 0.05])  # beyond 1 (clipped), or all in a few bins
        if trial % 3 == 0:
            info = np.round(info * 7) / 7  # many points per bin
        pred = rng.random(m) if trial % 2 else (rng.random(m) < 0.5).astype(float)
        pred[rng.random(m) < 0.05] = np.nan  # dropped
        if not np.isfinite(pred).any():
            continue
        for kind in ("sic", "aic"):
            area, curve = binned_curve(info, pred, kind)
            area_direct, curve_direct = _binned_curve_direct(info, pred, kind)
            assert area == area_direct and np.array_equal(curve, curve_direct), (trial, kind)


def test_top_pixels_counts_and_ends():
    s = np.arange(100.0).reshape(10, 10)
    assert top_pixels(s, 0).sum() == 0 and top_pixels(s, 100).all()
    t = top_pixels(s, 25)
    assert t.sum() == 25 and t.ravel()[-25:].all()


@pytest.mark.parametrize("information", ["entropy", "msssim"])
def test_idgi_protocol_rewards_the_right_order(information):
    img, good = _bright_square()
    res = pic_idgi(BrightPixels(), img, {"good": good, "bad": 1 - good}, 0, information=information, webp_method=0)
    assert len(res.thresholds) == 25 and res.info["good"].shape == (2, 25)
    if information == "entropy":  # t = 0 is the base (level 0), t = 100 the original (level 1)
        assert (res.info["good"][:, 0] == 0).all() and (res.info["good"][:, -1] == 1).all()
    for kind in ("sic", "aic"):
        assert res.aggregate("good", kind)[0] > res.aggregate("bad", kind)[0]
        per = res.per_image("good", kind)
        assert (per.values > res.per_image("bad", kind).values).all()
    assert len(res.rows()) == 2 * 2 * 25


def test_idgi_protocol_sign_convention_ranks_by_the_signed_channel_sum():
    """Evidence marked with a large *negative* attribution ranks last when signed, first with absolute=True."""
    img, good = _bright_square()
    negative = -good[:, None].repeat(1, 3, 1, 1)
    signed = pic_idgi(BrightPixels(), img, {"m": negative}, 0, information="msssim")
    absolute = pic_idgi(BrightPixels(), img, {"m": negative}, 0, information="msssim", absolute=True)
    assert absolute.aggregate("m", "sic")[0] > signed.aggregate("m", "sic")[0]
    assert insertion_auc(BrightPixels(), img, negative, 0, absolute=True).values.gt(
        insertion_auc(BrightPixels(), img, negative, 0).values).all()  # fmt: skip


def test_idgi_protocol_skips_a_base_as_informative_as_the_original():
    flat = torch.full((1, 3, 64, 64), 0.9)
    res = pic_idgi(MeanBrightness(8.0), flat, {"m": torch.rand(1, 64, 64)}, 0, information="entropy", webp_method=0)
    assert 0 in res.skipped and np.isnan(res.info["m"]).all()
    assert torch.isnan(res.per_image("m", "sic").values).all()


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


@pytest.mark.parametrize(
    "call,name",
    [
        (lambda m, x: insertion_auc(m, x[0], x[0], 0), "images"),
        (lambda m, x: insertion_auc(m, x, x[:, :1, :3], 0), "saliency"),
        (lambda m, x: insertion_auc(m, x, x * float("nan"), 0), "saliency"),
        (lambda m, x: insertion_auc(m, x, x, torch.tensor([0, 1, 0])), "targets"),
        (lambda m, x: insertion_auc(m, x, x, 0, steps=0), "steps"),
        (lambda m, x: insertion_auc("model", x, x, 0), "model"),
        (lambda m, x: pic_idgi(m, x, {"a": x}, 0, information="jpeg"), "information"),
        (lambda m, x: pic_idgi(m, x, {"a": x}, 0, blur_radius=0), "blur_radius"),
        (lambda m, x: pic_pair_saliency(m, x, {}, 0), "saliencies"),
        (lambda m, x: pic_pair_saliency(m, x, {"a": x[:1]}, 0), "saliency"),
        (lambda m, x: pic_pair_saliency(m, x, {"a": x}, 0, random_masks=np.zeros((1, 8, 8), bool)), "random_masks"),
        (lambda m, x: aggregate_pair(insertion_auc(m, x, x, 0), "xic"), "kind"),
        (lambda m, x: localisation(x, torch.zeros(2, 5, 5)), "masks"),
    ],
)
def test_bad_input_raises_naming_the_argument(call, name):
    with pytest.raises(ValueError, match=name):
        call(MeanBrightness(), torch.rand(2, 3, 8, 8))


def test_idgi_protocol_both_levels_in_one_pass_equal_separate_calls():
    img, good = _bright_square()
    maps = {"good": good, "noise": torch.rand(2, 3, 64, 64) - 0.5}
    both = pic_idgi(BrightPixels(), img, maps, 0, information=("entropy", "msssim"), webp_method=0)
    for level in ("entropy", "msssim"):
        one = pic_idgi(BrightPixels(), img, maps, 0, information=level, webp_method=0)
        for name in maps:
            np.testing.assert_array_equal(both[level].info[name], one.info[name])
            np.testing.assert_array_equal(both[level].pred[name]["sic"], one.pred[name]["sic"])
        assert both[level].skipped == one.skipped
