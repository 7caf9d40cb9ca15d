"""Chapter 5's reading of the GAD tables (Rodrigues et al. 2024, Tables 1 and 2): the counts, verdicts and sentences
on per-image rows with known answers (the shard task itself: ``test_chapters_user.py``; the table helpers:
``test_gad.py``)."""

import numpy as np
import pandas as pd
import pytest

from xai_lib import reference
from xai_lib.experiments import gad_tables as gt

NAN = float("nan")
PAPER = reference.gad_tables()


def rows_of(system, method, output, rc, rs_gad, rs_sup, rs_gad_other=None, rs_sup_other=None, dataset="shapes_pair"):
    """Per-image rows of one cell, as the shard task returns them (only the columns the reading uses)."""
    n = len(rc)
    return pd.DataFrame({
        "system": system, "method": method, "output": output, "image": range(n), "class": 0, "logit": 0.0,
        "RC": rc, "GAD empty": np.isnan(rc), "RS GAD": rs_gad, "RS Sup": rs_sup,
        "RS GAD other fill": rs_gad if rs_gad_other is None else rs_gad_other,
        "RS Sup other fill": rs_sup if rs_sup_other is None else rs_sup_other, "dataset": dataset,
    })  # fmt: skip


DATASET_OF = {"shapes_pair/vgg": "shapes_pair", "digits/vgg": "digits"}
ARCH_OF = {"shapes_pair/vgg": "vgg", "digits/vgg": "vgg"}


def test_table1_counts_empty_masks_against_the_claim():
    # 10 images: 8 with RC < 1, 1 tie, 1 empty GAD mask (no hull)
    rc = np.array([0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99, 0.4, 1.0, NAN])
    rows = rows_of("shapes_pair/vgg", "Saliency", 1, rc, np.ones(10), np.ones(10))
    t1 = gt.table1(rows, PAPER, DATASET_OF, ARCH_OF)
    row = t1.iloc[0]
    assert (row["n"], row["empty"], row["with a hull"], row["RC < 1"]) == (10, 1, 9, 8)
    assert row["share RC < 1"] == pytest.approx(8 / 9) and row["share RC < 1, all images"] == pytest.approx(0.8)
    assert not row["nearly all"]  # 0.8 < NEARLY_ALL (0.9): the empty mask decides
    assert row["median shrink"] == pytest.approx(np.median(1 - rc[:9]))
    # the paper's cat x dog VGG cell, Saliency, output 1, as a share of its 512 images
    cells = gt.paper_cells(PAPER, 1, "shapes_pair")
    expected = cells[(cells.arch == "vgg") & (cells.output == 1) & (cells.method == "Saliency")].GAD.iloc[0] / 512
    assert row["paper cat x dog share"] == pytest.approx(expected)
    assert gt.table1_wide(t1).iloc[0]["S"] == "8/9"
    text = gt.table1_sentence(t1)
    assert "below 1 for at least 90% of the images in 0 of 1 cells (not reproduced" in text
    assert "1 of 9 maps with a GAD hull are ties (RC = 1), and 1 GAD mask is empty" in text


def test_table2_tests_each_cell_and_holm_adjusts_per_dataset():
    g = np.random.default_rng(0)
    sup = g.random(20)
    rows = pd.concat([
        rows_of("shapes_pair/vgg", "IntegratedGradients", 1, np.full(20, 0.5), sup + 1.0, sup),  # GAD clearly higher
        rows_of("shapes_pair/vgg", "Deconvolution", 1, np.full(20, 0.5), sup - 0.5, sup),  # clearly lower
        rows_of("digits/vgg", "IntegratedGradients", 1, np.full(20, 0.5), sup + 1.0, sup, sup, sup + 1.0,
                dataset="digits"),  # better under fill, worse under the other fill
    ], ignore_index=True)  # fmt: skip
    t2 = gt.table2(rows, PAPER, DATASET_OF, ARCH_OF, n_boot=200, seed=0)
    assert list(t2["GAD > Sup."]) == ["better", "worse", "better"]
    assert list(t2["GAD > Sup. (other fill)"]) == ["better", "worse", "worse"]
    # Holm over each dataset's cells: two on shapes_pair (p doubled at most), one on digits (unchanged)
    shapes = t2[t2.dataset == "shapes_pair"]
    assert (shapes["p Holm"] >= shapes["p"]).all() and (shapes["p Holm"] <= 2 * shapes["p"] + 1e-12).all()
    assert t2.loc[t2.dataset == "digits", "p Holm"].iloc[0] == pytest.approx(
        t2.loc[t2.dataset == "digits", "p"].iloc[0]
    )
    summaries = gt.fill_summaries(t2)
    assert summaries["shapes_pair"]["fill"]["better"] == 1 and summaries["shapes_pair"]["fill"]["worse"] == 1
    assert summaries["shapes_pair"]["card verdict"] == "partly"  # 1 of 2 cells: at least half
    assert summaries["digits"]["changed"] == 1 and summaries["digits"]["verdict (other fill)"] == "not reproduced"
    # the fills disagree on digits (reproduced under fill 0, not under 0.5): the card cannot decide the claim
    assert summaries["digits"]["verdict"] == "reproduced" and summaries["digits"]["card verdict"] == "inconclusive"
    more, text = gt.fill_prediction(summaries, 0.0, 0.5)
    assert more == {"shapes_pair": "tie", "digits": "fill"} and "fill 0 wins more cells" in text
    assert gt.fill_prediction(summaries, 0.5, 0.5)[1].startswith("Not measured: fill and other_fill are the same")
    changes = gt.fill_changes(t2, 0.0, 0.5)
    assert len(changes["moved"]) == 1 and changes["moved"].change.iloc[0] == "better to worse"
    sentence, pattern = gt.table2_sentence(summaries, rows, {"digits": np.full(5, 0.1)}, 0.0, 0.5)
    # digits' background at 0.1 is closer to fill 0: 1 better cell there, 0 under 0.5
    assert pattern["digits"] == {"background": pytest.approx(0.1), "near": 0.0, "better near": 1, "better far": 0,
                                 "follows": True}  # fmt: skip
    assert "the fill closer to it, 0, gives better in 1 cell, the other, 0.5, in 0" in sentence


def test_holm_text_and_factors():
    c = {"better": 3, "worse": 0, "better (Holm)": 2, "worse (Holm)": 0, "cells, all five": 10}
    assert gt.holm_text(c, 0.0) == (" After Holm's correction over the dataset's 10 tested cells, 2 of the 3 better "
                                    "cells (fill 0) stay significant.")  # fmt: skip
    assert gt.holm_text({**c, "better": 0}, 0.0) == ""
    assert gt.factor(3.571) == "3.57" and gt.factor(0.0321) == "0.032" and gt.factors([0.5, 2.0]) == "0.50 to 2.00"


def test_pairs_answer_reads_the_intervals():
    def pair(name, fit, lo, hi, shift, slo, shi):
        return pd.Series({"images": 50, "fit (1 - MSE ratio)": fit, "fit CI low": lo, "fit CI high": hi,
                          "shift realised": shift, "shift CI low": slo, "shift CI high": shi}, name=name)  # fmt: skip

    fits = pd.DataFrame(
        [pair("3 vs 8", 0.95, 0.93, 0.97, 0.9, 0.8, 1.0), pair("1 vs 7", 0.80, 0.75, 0.85, 0.9, 0.8, 1.0)]
    )
    fit_w, shift_w, text = gt.pairs_answer(fits, 8.0)
    assert (fit_w, shift_w) == ("3 vs 8", "none") and text.endswith("so 3 vs 8 is ahead by one measure only.")
    overlap = pd.DataFrame(
        [pair("3 vs 8", 0.9, 0.85, 0.95, 0.9, 0.8, 1.0), pair("1 vs 7", 0.9, 0.86, 0.94, 0.9, 0.8, 1.0)]
    )
    assert gt.pairs_answer(overlap, 8.0)[:2] == ("none", "none")


def test_part_table_averages_the_outputs_per_image():
    rows = []
    for output, shift in ((1, 0.1), (2, 0.3)):
        rows.append(pd.DataFrame({"system": "shapes_pair/vgg", "method": "Saliency", "output": output,
                                  "image": range(8), "part share original": 0.2, "part share GAD": 0.2 + shift,
                                  "part kept original": 0.5, "part kept GAD": 0.4, "kept share original": 0.5,
                                  "kept share": 0.2}))  # fmt: skip
    part = gt.part_table(pd.concat(rows, ignore_index=True), n_boot=100, seed=0)
    row = part.iloc[0]
    assert row["images"] == 8 and row["GAD - original"] == pytest.approx(0.2)  # the mean of +0.1 and +0.3
    # GAD keeps 0.4 / 0.5 of the original's pixels on the part, 0.2 / 0.5 over the image
    assert row["retained on part"] == pytest.approx(0.8) and row["retained overall"] == pytest.approx(0.4)
    text = gt.part_text("shapes_pair", part, 0.05)
    assert "a larger share on the part in 1 of 1 cells" in text and "covers 0.050 of an image" in text


def test_fit_advice_names_only_the_systems_the_pooled_test_misses():
    fits = pd.DataFrame({
        "system": ["a/vgg", "b/vgg"], "train per class": 40, "tabulated": True, "fit test (04)": True,
        "rank test (04)": [True, False], "within-class test": ["not reproduced", "inconclusive"],
    })  # fmt: skip
    advice = gt.fit_advice(fits, {"epochs": 10, "lr": 4e-5}, 0.5, 0.98, 8.0)
    assert "the supports of a/vgg do not keep the samples' order above 0.98" in advice
    assert "whether those of b/vgg do is undecided" in advice
    # b/vgg fails the pooled test itself: only a/vgg is one the pooled test does not see
    assert "which the rule's pooled test does not see for a/vgg (they pass it); chapter 04" in advice
    only_b = gt.fit_advice(fits.iloc[1:], {"epochs": 10, "lr": 4e-5}, 0.5, 0.98, 8.0)
    assert "does not see" not in only_b and only_b.endswith("at alpha = 8; chapter 04 measures it for every alpha.")


def test_summaries_say_not_measured_instead_of_zero_of_zero():
    empty = {"cells": 0, "better": 0, "worse": 0, "better (Holm)": 0, "worse (Holm)": 0}
    summaries = {"tiny": {"fill": empty, "other fill": empty, "card verdict": "not comparable"}}
    text = gt.summary_t2(summaries, {}, 0.0, 0.5)
    assert text == "On tiny: not measured: no cell of the four methods has five paired images." and "0 of 0" not in text


def test_rc_summary_counts_hulls_and_shares():
    rows = pd.DataFrame({"method": ["IG"] * 5 + ["GB"] * 2, "RC": [1.0, 0.5, 0.8, np.nan, 0.9, np.nan, np.nan]})
    t = gt.rc_summary(rows.groupby("method", sort=False))
    ig, gb = t.loc["IG"], t.loc["GB"]
    assert (ig["n"], ig["empty"], ig["with a hull"], ig["RC < 1"]) == (5, 1, 4, 3)
    assert ig["share RC < 1"] == pytest.approx(0.75) and ig["median shrink"] == pytest.approx(0.15)
    assert gb["with a hull"] == 0 and np.isnan(gb["share RC < 1"]) and np.isnan(gb["mean RC"])
