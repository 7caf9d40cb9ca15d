"""Chapter 7's findings (:mod:`xai_lib.experiments.co_gap_report`) on hand-built score tables with known answers."""

import numpy as np
import pandas as pd
import pytest

from xai_lib.experiments import co_gap_report as cg


def co_rows(system, method, co, correct, ax="sum", softmax=False):
    return pd.DataFrame({"image": np.arange(len(co)), "method": method, "AX": ax, "softmax": softmax,
                         "correct": correct, "co": np.asarray(co, float), "system": system})  # fmt: skip


def separating(n_right=30, n_wrong=25, gap=5.0, seed=0):
    """CO scores with the correct predictions ``gap`` above the wrong ones (and their correctness)."""
    rng = np.random.default_rng(seed)
    correct = np.r_[np.ones(n_right, bool), np.zeros(n_wrong, bool)]
    return rng.normal(size=n_right + n_wrong) + gap * correct, correct


def test_gap_study_counts_separation_size_and_thin_cells():
    co, right = separating()
    co_noise = np.random.default_rng(1).normal(size=len(right))  # no information: AUROC near 0.5
    few_co, few_right = separating(n_wrong=8)  # 8 wrong: thin at few_wrong 20
    table = pd.concat([co_rows("a/vgg", "Saliency", co, right), co_rows("a/vgg", "DeepLift", co_noise, right),
                       co_rows("b/mlp", "Saliency", few_co, few_right)], ignore_index=True)  # fmt: skip
    gap = cg.gap_study(table, ["a/vgg", "b/mlp"], few_wrong=20, n_boot=200, seed=0)
    auc = gap["auc_table"].set_index(["system", "method"])
    assert auc.loc[("a/vgg", "Saliency"), "AUROC"] == pytest.approx(1.0)  # every correct prediction scores higher
    assert bool(auc.loc[("b/mlp", "Saliency"), "thin"]) and not bool(auc.loc[("a/vgg", "Saliency"), "thin"])
    # the counted cells are the two of a/vgg: one beyond chance, one spanning 0.5; one reaches the large-gap mark
    assert len(gap["separating"]) == 2 and gap["n_sep"] == 1 and gap["n_rev"] == 0 and gap["n_large"] == 1
    assert "b/mlp (8 wrong" in gap["sentence"] and "in 1 of the 2 cells (half" in gap["sentence"]
    assert gap["distinct_verdict"] in ("partly", "inconclusive")  # 1 of 2 above 0.9; the other far below it


def test_twin_study_reads_the_direction_of_each_pair():
    co, right = separating(gap=3.0)
    worse, _ = separating(gap=0.3, seed=2)  # the _sub twin separates far less on the same images
    table = pd.concat([co_rows("a/vgg", m, co, right) for m in ("Saliency", "DeepLift")]
                      + [co_rows("a/vgg_sub", m, worse, right) for m in ("Saliency", "DeepLift")],
                      ignore_index=True)  # fmt: skip
    twins = cg.twin_study(table, ["a/vgg", "a/vgg_sub"], few_wrong=20, n_boot=300, seed=0)
    assert (twins["n_wider"], twins["n_narrower"], twins["n_undecided"]) == (2, 0, 0)
    assert twins["verdict"] == "reproduced" and "every point estimate positive" in twins["text"]
    same = cg.twin_study(pd.concat([table[table.system == "a/vgg"], table[table.system == "a/vgg"].assign(
        system="a/vgg_sub")]), ["a/vgg", "a/vgg_sub"], few_wrong=20, n_boot=300, seed=0)  # fmt: skip
    assert same["pairs"]["AUROC well - sub"].abs().max() == 0  # identical twins: no difference, never "wider"
    assert same["n_wider"] == same["n_narrower"] == 0


def test_accuracy_study_tells_inputxgradient_drop_from_everyones():
    n = 40
    pred = pd.DataFrame({"system": "a/vgg", "image": np.arange(n), "correct": True})
    after = {"InputXGradient": np.arange(n) % 2 == 0, "Saliency": np.ones(n, bool), "DeepLift": np.ones(n, bool)}
    ax = pd.concat([pd.DataFrame({"image": np.arange(n), "method": m, "AX": "sum", "correct after": v,
                                  "system": "a/vgg"}) for m, v in after.items()], ignore_index=True)  # fmt: skip
    acc = cg.accuracy_study(pred, ax, n_boot=300, seed=0)
    ixg = acc["ixg"].iloc[0]
    assert ixg["accuracy change"] == pytest.approx(-0.5) and ixg["lower on x + h"] == "yes"
    assert acc["ixg_verdict"] == "reproduced" and acc["ixg_own_verdict"] == "reproduced"
    assert acc["n_ixg_worst"] == 1 and acc["n_all_fall"] == 0  # only IXG falls: the drop is its own
    assert "lower than the other methods' on 1 of 1 systems" in acc["ixg_sentence"]


def test_flag_study_counts_the_shares_a_threshold_flags():
    co, right = separating(gap=1.0)
    table = co_rows("a/vgg", "Saliency", co, right)
    best = pd.DataFrame([{"system": "a/vgg", "method": "Saliency", "AX": "sum", "softmax": False,
                          "flag if CO is": "below", "threshold": 0.5}])  # fmt: skip
    study = cg.flag_study(best, table, pd.DataFrame(columns=["system"]), "a/vgg", few_wrong=20)
    assert study["caught"] == pytest.approx(float((co[~right] < 0.5).mean()))
    assert study["rechecked"] == pytest.approx(float((co[right] < 0.5).mean()))
    assert cg.flag_study(best, table, pd.DataFrame(), "b/mlp", few_wrong=20)["text"].startswith("Not measured")
    assert cg.variant_name("mul", True) == "softmax outputs with x * h"


def test_oriented_scores_make_correct_predictions_score_higher():
    """A cell whose correct predictions score lower (AUROC < 0.5) is negated; its oriented AUROC is 1 - AUROC."""
    from xai_lib.stats import auroc_ci

    co, right = separating(gap=1.0)
    cell = co_rows("a/vgg", "Saliency", -co, right)  # correct predictions score lower
    low = auroc_ci(cell.co.to_numpy(float), cell.correct.to_numpy(bool), n_boot=10, seed=0)[0]
    up = auroc_ci(cg.oriented(cell, pd.Series({"AUROC": low})), cell.correct.to_numpy(bool), n_boot=10, seed=0)[0]
    assert low < 0.5 and up == pytest.approx(1.0 - low)
    assert np.array_equal(cg.oriented(cell, pd.Series({"AUROC": 0.7})), cell.co.to_numpy(float))
