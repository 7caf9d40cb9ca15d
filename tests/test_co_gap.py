"""The CO-gap chapter's controls: the heatmap's AUROC against its controls' on the same images."""

import numpy as np
import pandas as pd
import pytest

from xai_lib.experiments import co_gap


def scale_study(n: int = 60, wrong: int = 20, seed: int = 0) -> pd.DataFrame:
    """One method at two scales: the heatmap's CO score is high exactly on the correct predictions (AUROC 1); the
    rolled control's is noise (AUROC near 0.5); the shuffled control's equals the heatmap's (difference 0)."""
    rng = np.random.default_rng(seed)
    correct = np.arange(n) >= wrong
    rows = []
    for scale in (0.5, 1.0):
        co = {"method": correct + 0.1 * rng.random(n), "shuffled": None, "rolled": rng.random(n)}
        co["shuffled"] = co["method"]
        for kind, values in co.items():
            rows += [{"image": i, "method": "Saliency", "heatmap": kind, "scale": scale, "correct": bool(correct[i]),
                      "co": float(values[i]), "correct after": True} for i in range(n)]  # fmt: skip
    return pd.DataFrame(rows)


def test_a_heatmap_that_separates_beats_a_noise_control_and_ties_its_copy():
    table = co_gap.heatmap_controls(scale_study(), few_wrong=10, n_boot=200).set_index(["scale", "control"])
    assert len(table) == 4 and set(table.method) == {"Saliency"}
    for scale in (0.5, 1.0):
        rolled, same = table.loc[(scale, "rolled")], table.loc[(scale, "shuffled")]
        assert rolled["AUROC, heatmap"] == pytest.approx(1.0)
        assert rolled["the heatmap"] == "separates better" and rolled["CI low"] > 0
        # the same scores: the paired difference is exactly 0 in every bootstrap draw, so the interval does not
        # lie above 0
        assert same["heatmap minus control"] == 0 and same["CI low"] == same["CI high"] == 0
        assert same["the heatmap"] == "undecided"
        assert same["AUROC, heatmap"] == pytest.approx(same["AUROC, control"])
        assert rolled["wrong"] == 20


def test_few_wrong_predictions_are_thin_and_too_few_are_left_out():
    assert set(co_gap.heatmap_controls(scale_study(), few_wrong=30, n_boot=50)["the heatmap"]) == {"thin"}
    assert co_gap.heatmap_controls(scale_study(wrong=4), few_wrong=2, n_boot=50).empty
    incomplete = scale_study()
    incomplete = incomplete[~((incomplete.heatmap == "rolled") & (incomplete.image == 3))]
    assert set(co_gap.heatmap_controls(incomplete, few_wrong=10, n_boot=50).control) == {"shuffled"}
    with pytest.raises(ValueError, match="scaled: missing columns"):
        co_gap.heatmap_controls(scale_study().drop(columns="co"), few_wrong=10)


@pytest.mark.parametrize(
    "cell,about_every,expected",
    [
        ("reproduced", True, "partly"),  # one system supports a claim about every system only in part
        ("reproduced", False, "partly"),
        ("not reproduced", True, "not reproduced"),  # one counterexample contradicts "every"
        ("not reproduced", False, "inconclusive"),  # ... but can be an exception to "most"
        ("inconclusive", True, "inconclusive"),
        ("not comparable", False, "not comparable"),
    ],
)
def test_a_claim_about_many_systems_tested_on_one(cell, about_every, expected):
    assert co_gap.single_system_verdict(cell, claim_about_every=about_every) == expected
