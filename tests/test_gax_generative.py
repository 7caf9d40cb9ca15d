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
