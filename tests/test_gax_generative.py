"""Chapter 8's intensity groups (:mod:`xai_lib.experiments.gax_generative`): closed forms."""

import pytest
import torch

from xai_lib.experiments.gax_generative import absolute_sides, group_ratio


def test_absolute_sides_split_the_values_and_leave_exact_zeros_out():
    x = torch.tensor([[0.0, 0.1, 0.2, 0.5, 0.8, 0.9, 1.0]])
    dark, bright, middle = absolute_sides(x)
    assert dark.tolist() == [[False, True, False, False, False, False, False]]
    assert bright.tolist() == [[False, False, False, False, False, True, True]]
    assert middle.tolist() == [[False, False, True, True, True, False, False]]
    assert not (dark & middle).any() and not (bright & middle).any()
    with pytest.raises(ValueError, match="lo, hi"):
        absolute_sides(x, lo=0.8, hi=0.2)


def test_group_ratio_is_the_ratio_of_means_and_nan_when_a_group_is_thin():
    x = torch.cat([torch.full((30,), 0.1), torch.full((40,), 0.5), torch.full((5,), 0.95)])[None].repeat(2, 1)
    values = torch.cat([torch.full((30,), 3.0), torch.full((40,), 1.5), torch.full((5,), 9.0)])[None].repeat(2, 1)
    values[1] *= 2  # a scale common to every value leaves the ratio unchanged
    dark, bright, middle = absolute_sides(x)
    torch.testing.assert_close(group_ratio(values, dark, middle), torch.tensor([2.0, 2.0]))
    assert torch.isnan(group_ratio(values, bright, middle)).all()  # 5 bright values < 20
    torch.testing.assert_close(group_ratio(values, bright, middle, min_values=5), torch.tensor([6.0, 6.0]))
    assert torch.isnan(group_ratio(torch.zeros_like(values), dark, middle)).all()  # a middle mean of 0: no ratio


@pytest.mark.parametrize(
    "at_target, at_matched, starts",
    [
        ("reproduced", "reproduced", "persists"),
        ("not reproduced", "not reproduced", "persists"),
        ("reproduced", "not reproduced", "reverses"),
        ("reproduced", "inconclusive", "does not persist"),
        ("not reproduced", "not comparable", "does not persist"),
        ("inconclusive", "reproduced", "appears only"),
        ("not comparable", "not reproduced", "appears only"),
        ("inconclusive", "inconclusive", "is undecided"),
        ("inconclusive", "not comparable", "is undecided"),
    ],
)
def test_matched_reading_names_every_pair_of_verdicts(at_target, at_matched, starts):
    from xai_lib.experiments.gax_generative import matched_reading

    assert matched_reading(at_target, at_matched).startswith(starts)


def test_stopped_rerun_checks_the_images_no_cap_cut():
    from torch import nn

    from xai_lib.experiments.gax_generative import stopped_rerun
    from xai_lib.gax import gax

    torch.manual_seed(1)
    m = nn.Sequential(nn.Linear(6, 8), nn.Tanh(), nn.Linear(8, 3)).eval()
    x, y = torch.rand(3, 6), torch.tensor([2, 0, 1])
    full = gax(m, x, y, target_co=1.5, max_steps=60, similarity=1e-3)
    cap = torch.minimum(full.steps, torch.tensor([2, 60, 60]))  # only image 0 is cut
    rerun = stopped_rerun(full, m, x, y, 1.5, cap, max_steps=60, similarity=1e-3)
    assert int(rerun.steps[0]) == 2 and torch.equal(rerun.steps[1:], full.steps[1:])
    assert torch.allclose(rerun.heatmaps[1:], full.heatmaps[1:], atol=1e-6)
    # a full run of other settings (another path) is caught on the images no cap cut
    other = gax(m, x, y, target_co=1.5, max_steps=60, similarity=1e-3, lr=0.2)
    with pytest.raises(RuntimeError, match="stop_at: the rerun does not reproduce the full run"):
        stopped_rerun(other, m, x, y, 1.5, torch.minimum(other.steps, torch.tensor([2, 60, 60])), max_steps=60,
                      similarity=1e-3)  # fmt: skip


def run_of(history, reached, target, steps=None):
    """A chapter run of hand-written CO histories ((iterations, B), NaN after an image's stop)."""
    from types import SimpleNamespace

    from xai_lib.gax import GAXResult

    history = torch.tensor(history, dtype=torch.float64)
    n = history.shape[1]
    last = [int((~torch.isnan(history[:, i])).nonzero().max()) for i in range(n)]
    co = torch.stack([history[last[i], i] for i in range(n)])
    steps = torch.tensor(last if steps is None else steps)
    res = GAXResult(torch.zeros(n, 1, 2, 2), co, steps, torch.tensor(reached), history)
    return {"system": SimpleNamespace(), "data": SimpleNamespace(), "target": target, "result": res}


def test_reach_study_counts_and_decides_the_claim():
    from xai_lib.experiments.gax_generative import reach_study

    nan = float("nan")
    # system a: both images reach 10 (at iterations 2 and 3); system b: one reaches, one misses while still rising
    a = run_of([[1, 2], [5, 4], [10, 8], [nan, 11]], [True, True], 10.0)
    rising = [[1, 1], [2, 2], [3, 3], [4, 4], [5, 5], [6, 6], [12, 7], [nan, 8]]
    b = run_of(rising, [True, False], 12.0)
    study = reach_study({"a": a, "b": b}, cap=7)
    assert (study["reached"], study["images"], study["rising"], study["stalled"]) == (3, 4, 1, 0)
    assert study["verdict"] == "inconclusive"  # every miss still rising at the cap: the cap, not GAX, stopped it
    assert study["lead"] == "most images reach the target" and "3 of 4 images" in study["sentence"]
    row_b = study["summary"].set_index("system").loc["b"]
    assert row_b["missed: median gap to target"] == pytest.approx(12 - 8)  # its best CO 8 against the target 12
    assert row_b["missed: median share of climb left"] == pytest.approx(4 / 11)  # of its climb from 1
    # a miss that stalled (no new best in its last quarter) decides by the count: 3 of 4 is partly
    stalled = run_of([[1, 1], [2, 9], [3, 8], [4, 8], [5, 8], [6, 8], [12, 8], [nan, 8]], [True, False], 12.0)
    assert reach_study({"a": a, "b": stalled}, cap=7)["verdict"] == "partly"
    assert reach_study({"a": a}, cap=7)["verdict"] == "reproduced"


def test_extreme_groups_and_side_cells():
    from xai_lib.experiments.gax_generative import extreme_masks, side_cell, side_ratio

    x = torch.linspace(0, 1, 100).reshape(1, 1, 10, 10).repeat(1, 3, 1, 1)
    dark, bright, middle = extreme_masks(x)
    assert int(dark.sum()) == int(bright.sum()) == 20 and int(middle.sum()) == 60  # 20% / 60% / 20%
    assert float(x[0, 0][dark[0]].max()) < float(x[0, 0][middle[0]].min())
    values = torch.ones(1, 10, 10) + bright.float()  # twice the middle's value on the bright pixels
    assert side_ratio(values, bright, middle).item() == pytest.approx(2.0)
    assert side_ratio(values, dark, middle).item() == pytest.approx(1.0)
    # contradicts when w and h both change less; agrees when w and the model's sensitivity lie above and h not below
    assert side_cell("not reproduced", "not reproduced", "reproduced") == "not reproduced"
    assert side_cell("reproduced", "inconclusive", "reproduced") == "reproduced"
    assert side_cell("reproduced", "not reproduced", "reproduced") == "inconclusive"
    assert side_cell("reproduced", "reproduced", "not comparable") == "not comparable"


def test_kept_direction_and_significant():
    import pandas as pd

    from xai_lib.experiments.gax_generative import kept_direction, significant

    t = pd.DataFrame({"system": ["s", "s", "t"], "side": ["dark", "bright", "dark"],
                      "now": ["more", "less", "n/a"], "before": ["more", "more", "less"]})  # fmt: skip
    text = kept_direction(t, "now", "before", "the change of w")
    assert text.startswith("the change of w reads the same (more, less or undecided) on 1 of 2 system-sides")
    assert "s bright: more -> less" in text
    assert "not measured" in kept_direction(t.assign(now="n/a"), "now", "before", "x")
    assert significant(15943, 3) == "15900" and significant(0.012345, 2) == "0.012" and significant(123.4, 2) == "120"
