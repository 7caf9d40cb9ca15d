"""GAD pure functions: shifted targets, intersection, hull areas, RC and RS on known cases."""

import pytest
import torch
from torch import nn

from xai_lib.gad import gad_attribution, gad_mask, important_mask, shifted_targets
from xai_lib.metrics import hull_area, hull_complexity, occlusion_sensitivity


def test_shifted_targets_on_a_hand_made_batch():
    logits = torch.tensor([[5.0, 1.0, 0.0], [1.0, 4.0, 0.0], [2.0, 2.0, 9.0], [0.5, 0.5, 0.5]])
    labels = torch.tensor([0, 1, 2, 0])
    out = shifted_targets(logits, labels, class_a=0, class_b=1, alpha=(2.0, 3.0))
    expected = torch.tensor([[5.0, -1.0, 0.0], [-2.0, 4.0, 0.0], [2.0, 2.0, 9.0], [0.5, -1.5, 0.5]])
    torch.testing.assert_close(out, expected)
    assert logits[0, 1] == 1.0  # a new tensor: the input is untouched
    torch.testing.assert_close(shifted_targets(logits, labels, 0, 1, 0.0), logits)


def test_intersection_never_adds_a_feature():
    torch.manual_seed(0)
    for _ in range(20):
        orig = torch.randn(3, 12, 12)
        sups = [orig + torch.randn(3, 12, 12) for _ in range(4)]
        m = gad_mask(orig, sups, keep=0.5)
        assert not (m & ~important_mask(orig, 0.5)).any()
        g = gad_attribution(orig, sups)
        assert ((g != 0).any(0) <= important_mask(orig, 0.5)).all()
        torch.testing.assert_close(g[:, m], orig[:, m])


def test_important_mask_keeps_the_top_share():
    att = torch.arange(100.0).reshape(10, 10)
    m = important_mask(att, keep=0.3)
    assert m.sum() == 30 and m.flatten()[70:].all() and not m.flatten()[:70].any()
    assert not important_mask(torch.zeros(4, 4)).any()


def test_hull_areas_of_known_shapes():
    sq = torch.zeros(20, 20, dtype=torch.bool)
    sq[3:8, 4:9] = True  # a filled 5 x 5 square
    assert hull_area(sq) == 25 and hull_area(sq, "geometric") == 16  # centres span 4 x 4
    two = torch.zeros(20, 20, dtype=torch.bool)
    two[2, 2] = two[2, 12] = True
    assert hull_area(two, "geometric") == 0 and hull_area(two) == 11  # the segment's pixels
    tri = torch.zeros(30, 30, dtype=torch.bool)
    tri[0, 0] = tri[0, 20] = tri[10, 0] = True  # three corners only
    assert hull_area(tri, "geometric") == pytest.approx(100.0)  # 20 * 10 / 2
    with pytest.raises(ValueError, match="mask"):
        hull_area(torch.zeros(5, 5, dtype=torch.bool))


def test_rc_below_one_for_a_strict_subset_in_one_corner():
    orig = torch.zeros(32, 32, dtype=torch.bool)
    orig[2:30, 2:30] = True
    gad = torch.zeros_like(orig)
    gad[2:8, 2:8] = True
    assert gad.le(orig).all() and hull_complexity(gad, orig) == pytest.approx(36 / 28**2)
    assert hull_complexity(orig, orig) == 1.0


def test_rs_on_a_linear_model_is_the_closed_form():
    torch.manual_seed(0)
    w = torch.randn(2, 3 * 8 * 8)
    model = nn.Sequential(nn.Flatten(), nn.Linear(3 * 8 * 8, 2, bias=True)).eval()
    with torch.no_grad():
        model[1].weight.copy_(w)
    images = torch.rand(4, 3, 8, 8)
    masks = torch.zeros(4, 8, 8, dtype=torch.bool)
    masks[:, 1:4, 2:6] = True
    for fill in (0.0, 0.5):
        got = occlusion_sensitivity(model, images, masks, output=1, fill=fill)
        m = masks[:, None].float().expand_as(images)
        expected = ((images - fill) * m).flatten(1) @ w[1] / 12.0  # N(I) - N(I') = w . ((I - fill) M)
        torch.testing.assert_close(got, expected.abs().double(), atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize(
    "call,name",
    [
        (lambda: shifted_targets(torch.zeros(2, 3), torch.zeros(2), 0, 1, -1.0), "alpha"),
        (lambda: shifted_targets(torch.zeros(2, 3), torch.zeros(2), 0, 1, (1.0, -2.0)), "alpha"),
        (lambda: shifted_targets(torch.zeros(2, 3), torch.zeros(2), 0, 3, 1.0), "class_b"),
        (lambda: shifted_targets(torch.zeros(2, 3), torch.zeros(2), -1, 1, 1.0), "class_a"),
        (lambda: shifted_targets(torch.zeros(2, 3), torch.zeros(2), 1, 1, 1.0), "class_b"),
        (
            lambda: occlusion_sensitivity(
                nn.Identity(), torch.rand(1, 1, 4, 4), torch.zeros(1, 4, 4, dtype=torch.bool), 0
            ),
            "empty",
        ),
        (lambda: important_mask(torch.rand(4, 4), keep=0.0), "keep"),
        (lambda: hull_area(torch.ones(3, 3, dtype=torch.bool), kind="box"), "kind"),
    ],
)
def test_bad_input_raises_naming_the_argument(call, name):
    with pytest.raises(ValueError, match=name):
        call()


def test_table_helpers_on_known_cases():
    """The training images per class a support uses (capped by the smaller class), the median paired difference
    (here its sign and the signed ranks' say the opposite of the mean's), and the paper's cells
    beside ours: Table 2 has GAD above Sup. in 32 of its 32 cells of the claim's four methods, 35 of 40 with
    Saliency, 19 of 20 on cat x dog; Table 1 has GAD favoured on most of 512 images in 37 of 40 cells."""
    from types import SimpleNamespace

    import numpy as np

    import xai_lib.reference
    from xai_lib.experiments.gad_tables import (
        CLAIM_METHODS,
        median_difference,
        paper_cells,
        paper_label,
        train_per_class_used,
    )
    from xai_lib.stats import paired_comparison

    train = SimpleNamespace(labels=torch.tensor([0] * 7 + [1] * 3 + [2] * 9))
    system = SimpleNamespace(data=lambda split: train)
    assert train_per_class_used(system, {"classes": [0, 2], "train_per_class": 5}) == 5
    assert train_per_class_used(system, {"classes": [2, 1], "train_per_class": 5}) == 3

    new = np.array([1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, -20.0, np.nan])
    base = np.zeros(9)
    assert median_difference(new, base) == 1.0 and np.nanmean(new - base) < 0
    test = paired_comparison(new, base, n_boot=50)
    assert test["mean diff"] < 0 and test["verdict"] in ("better", "no difference")  # the signed ranks decide
    assert test["rank balance"] > 0
    assert np.isnan(median_difference([np.nan], [0.0]))

    paper = xai_lib.reference.gad_tables()
    t2 = paper_cells(paper, 2)
    claim = t2[t2.method.isin(CLAIM_METHODS)]
    assert (int((claim.GAD > claim["Sup."]).sum()), len(claim)) == (32, 32)
    assert (int((t2.GAD > t2["Sup."]).sum()), len(t2)) == (35, 40)
    cat_dog = paper_cells(paper, 2, "shapes_pair")
    assert (int((cat_dog.GAD > cat_dog["Sup."]).sum()), len(cat_dog)) == (19, 20)
    assert len(paper_cells(paper, 2, "digits")) == 40 and paper_label("digits") == "cat x dog and birds"
    t1 = paper_cells(paper, 1)
    assert (int((t1.GAD > 256).sum()), len(t1)) == (37, 40)
    assert set(t1.columns) >= {"dataset", "arch", "method", "output", "GAD", "Orig."}


def test_holm_adjustment_and_verdicts_with_undecided_members():
    """Holm on a hand-worked family: p = (0.01, 0.04, 0.03, 0.005) sorted 0.005, 0.01, 0.03, 0.04 are scaled by 4, 3,
    2, 1 to 0.02, 0.03, 0.06, 0.04, made non-decreasing (0.06, 0.06 for the last two); NaN stays out of the family.
    A count verdict with undecided members is the verdict when it does not depend on them, else inconclusive."""
    import numpy as np

    from xai_lib.experiments.gad_tables import holm_adjusted
    from xai_lib.report import verdict_with_undecided

    adj = holm_adjusted([0.01, 0.04, np.nan, 0.03, 0.005])
    np.testing.assert_allclose(adj[[0, 1, 3, 4]], [0.03, 0.06, 0.06, 0.02])
    assert np.isnan(adj[2])
    assert holm_adjusted([0.9, 0.8]).tolist() == [1.0, 1.0] and holm_adjusted([]).size == 0
    assert verdict_with_undecided(4, 0, 4) == "reproduced"
    assert verdict_with_undecided(3, 1, 4) == "inconclusive"  # reproduced if it passes, partly if not
    assert verdict_with_undecided(2, 1, 5) == "inconclusive"  # 2 of 5 is not reproduced, 3 of 5 partly
    assert verdict_with_undecided(3, 1, 6) == "partly"  # 3 or 4 of 6: partly either way
    assert verdict_with_undecided(0, 1, 5) == "not reproduced"
    assert verdict_with_undecided(0, 0, 0) == "not comparable"
    with pytest.raises(ValueError, match="passing"):
        verdict_with_undecided(3, 2, 4)


def test_border_level_reads_the_outer_ring():
    """The border level is the mean of the outer ring of pixels, over every channel: a grey background with a bright
    centre reads as the grey; too small an image or a bad shape raises."""
    from xai_lib.experiments.gad_tables import border_level

    x = torch.full((3, 2, 10, 10), 0.25)
    x[:, :, 3:7, 3:7] = 1.0  # an object that stays away from the border
    x[1] = 0.5
    assert border_level(x) == pytest.approx([0.25, 0.5, 0.25])
    x[2, :, 0, :] = 1.0  # one bright edge row: 10 of the 64 pixels of a 2-pixel ring, 10 of the 36 of a 1-pixel ring
    assert border_level(x)[2] == pytest.approx((10 * 1.0 + 54 * 0.25) / 64)
    assert border_level(x, width=1)[2] == pytest.approx((10 * 1.0 + 26 * 0.25) / 36)
    with pytest.raises(ValueError, match="images"):
        border_level(x[:, :, :4, :4])


def test_top_count_mask_takes_the_most_important_pixels():
    from xai_lib.gad import top_count_mask

    att = torch.tensor([[0.1, -0.9, 0.3], [0.5, 0.0, -0.2]])
    m = top_count_mask(att, 2)
    assert m.tolist() == [[False, True, False], [True, False, False]]  # |-0.9| and 0.5
    # as many pixels as asked, and a subset of the top share that holds that many
    a = torch.randn(3, 8, 8)
    for k in (0, 1, 17, 64):
        mk = top_count_mask(a, k)
        assert int(mk.sum()) == k
        assert (mk <= top_count_mask(a, min(64, k + 5))).all()
    # ties broken by position: a constant map keeps the first pixels
    assert top_count_mask(torch.ones(2, 2), 3).flatten().tolist() == [True, True, True, False]
    with pytest.raises(ValueError, match="count"):
        top_count_mask(att, 7)
