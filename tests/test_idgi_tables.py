"""The IDGI tables' bookkeeping (conventions, image counts, win counts, matched VGG/ResNet cells) on constructed
score tables with known answers."""

import numpy as np
import pandas as pd
import pytest

from xai_lib.experiments import idgi_tables
from xai_lib.experiments.idgi_tables import METHODS


def _scores(values: dict[tuple[str, str, str], list[float]]) -> pd.DataFrame:
    """Tidy scores: every method gets the listed per-image values (IDGI versions +1, so IDGI is always higher)."""
    rows = []
    for (system, metric, sign), vals in values.items():
        for method in METHODS:
            shift = 1.0 if method.endswith("+IDGI") else 0.0
            rows += [{"system": system, "image": i, "method": method, "metric": metric, "sign": sign,
                      "value": v + shift} for i, v in enumerate(vals)]  # fmt: skip
    return pd.DataFrame(rows)


def test_book_convention_is_signed_for_rankings_and_absolute_for_localisation():
    assert idgi_tables.book_sign("insertion (prob)") == "signed"
    assert idgi_tables.book_sign("SIC (entropy)") == "signed"
    assert {idgi_tables.book_sign(m) for m in idgi_tables.LOCALISATION.values()} == {"absolute"}
    s = _scores({("a", "insertion (prob)", "signed"): [0.1], ("a", "insertion (prob)", "absolute"): [0.2],
                 ("a", "F1", "signed"): [0.3], ("a", "F1", "absolute"): [0.4]})  # fmt: skip
    book = idgi_tables.convention(s, "book")
    assert set(zip(book.metric, book.sign, strict=True)) == {("insertion (prob)", "signed"), ("F1", "absolute")}
    assert set(idgi_tables.convention(s, "absolute").metric) == {"insertion (prob)", "F1"}


def test_images_per_table_counts_images_with_a_value_and_tables_show_them():
    nan = float("nan")
    s = _scores({
        ("a", "insertion (prob)", "signed"): [0.1, 0.2, 0.3], ("a", "insertion (ratio)", "signed"): [0.1, 0.2, 0.3],
        ("a", "SIC (entropy)", "signed"): [nan, 0.5, nan], ("a", "AIC (entropy)", "signed"): [nan, 0.5, nan],
        ("b", "insertion (prob)", "signed"): [0.4, 0.4], ("b", "insertion (ratio)", "signed"): [0.4, 0.4],
        ("b", "SIC (entropy)", "signed"): [nan, nan], ("b", "AIC (entropy)", "signed"): [nan, nan],
    })  # fmt: skip
    counts = idgi_tables.images_per_table(s, ["a", "b"]).set_index("system")
    assert counts.loc["a"].tolist() == [3, 3, 1, 0, 0] and counts.loc["b"].tolist() == [2, 2, 0, 0, 0]
    no_bokeh = pd.DataFrame(columns=["system", "method", "information_level", "sign", "information", "sic", "aic"])
    t1 = idgi_tables.tables(s, no_bokeh, ["a", "b"])["Table 1: insertion"]
    assert t1.images.tolist() == [3, 2, 3, 2]
    assert t1.loc[0, "IG"] == pytest.approx(0.2) and t1.loc[0, "IG+IDGI"] == pytest.approx(1.2)


def test_comparisons_count_wins_and_show_the_deciding_rank_balance():
    s = _scores({("a", "insertion (prob)", "signed"): list(np.linspace(0, 1, 8)),
                 ("a", "MAE (best threshold)", "absolute"): list(np.linspace(0, 1, 8)),
                 ("a", "F1", "absolute"): [0.5] * 3})  # fmt: skip
    comp = idgi_tables.comparisons(s, 0.05, 50, 0)
    assert list(comp.columns) == idgi_tables.COMPARISON_COLUMNS
    ins = comp[comp.metric == "insertion (prob)"]
    assert (ins.verdict == "better").all() and np.allclose(ins["rank balance"], 1.0)
    assert np.allclose(ins["median diff"], 1.0)
    assert (comp[comp.metric == "MAE (best threshold)"].verdict == "worse").all()  # higher MAE: IDGI is worse
    assert (comp[comp.metric == "F1"].verdict == "n/a").all()  # three images: too few to test
    counts = idgi_tables.win_counts(comp)
    assert counts == {"better": 3, "no difference": 0, "worse": 3, "n/a": 3, "saturated": 0, "tested": 6}


def test_family_win_counts_count_a_metric_computed_two_ways_once():
    rows = [("a", "IG", "insertion (prob)", "better"), ("a", "IG", "insertion (ratio)", "better"),  # one group
            ("a", "GIG", "SIC (entropy)", "better"), ("a", "GIG", "AIC (entropy)", "worse"),  # split
            ("a", "GIG", "F1", "worse"), ("a", "GIG", "ROC-AUC", "worse"),  # two families of their own
            ("b", "IG", "insertion (prob)", "no difference"), ("b", "IG", "insertion (ratio)", "n/a"),  # untested cell
            ("b", "IG", "SIC (MS-SSIM)", "saturated")]  # fmt: skip
    comp = pd.DataFrame(rows, columns=["system", "base", "metric", "verdict"])
    assert idgi_tables.win_counts(comp)["tested"] == 7
    assert idgi_tables.family_win_counts(comp) == {"better": 1, "no difference": 1, "worse": 2, "split": 1,
                                                   "groups": 5}  # fmt: skip
    # the one mapping both family counts use: the two MAE conventions are one family, an unlisted metric its own
    families = idgi_tables.metric_family(pd.Series(["MAE (continuous)", "MAE (best threshold)", "F1"]))
    assert families.tolist() == ["MAE", "MAE", "F1"]


def test_holm_adjusts_the_ordered_p_values_and_keeps_nan():
    adjusted = idgi_tables.holm([0.01, 0.04, float("nan"), 0.03, 0.2])
    # four tests: 0.01 * 4, 0.03 * 3, max(0.04 * 2, 0.09), max(0.2 * 1, 0.09)
    np.testing.assert_allclose(adjusted, [0.04, 0.09, np.nan, 0.09, 0.2])
    assert np.isnan(idgi_tables.holm([float("nan")])).all() and idgi_tables.holm([]).shape == (0,)
    assert idgi_tables.holm([0.5, 0.6])[1] == 1.0  # capped at 1 (and non-decreasing along the order)


def _bokeh(system: str, level: str, base_correct: list[int]) -> pd.DataFrame:
    """Bokeh rows at 0% (the blurred base) and 100% for two maps; the base is correct for the listed images."""
    rows = []
    for image, ok in enumerate(base_correct):
        for method in ("IG", "IG+IDGI"):
            rows += [{"system": system, "information_level": level, "sign": "signed", "method": method,
                      "image": image, "percent": 0.0, "information": 0.1, "sic": 0.5 * ok, "aic": float(ok)},
                     {"system": system, "information_level": level, "sign": "signed", "method": method,
                      "image": image, "percent": 100.0, "information": 1.0, "sic": 1.0, "aic": 1.0}]  # fmt: skip
    return pd.DataFrame(rows)


def test_a_row_is_saturated_when_most_blurred_bases_are_already_correct_and_its_cells_leave_the_counts():
    bokeh = pd.concat([_bokeh("a", "MS-SSIM", [1, 1, 1, 0]), _bokeh("b", "MS-SSIM", [1, 1, 0, 0]),
                       _bokeh("a", "entropy", [0, 0, 0, 0])])  # fmt: skip
    nan_row = _bokeh("b", "entropy", [1]).assign(information=float("nan"))  # skipped by the entropy level
    rows = idgi_tables.saturated_rows(pd.concat([bokeh, nan_row])).set_index(["system", "information_level"])
    assert rows.loc[("a", "MS-SSIM")].tolist() == [4, 3, True]
    assert rows.loc[("b", "MS-SSIM")].tolist() == [4, 2, False]  # half is not most
    assert rows.loc[("a", "entropy")].tolist() == [4, 0, False] and ("b", "entropy") not in rows.index
    metrics = ["SIC (MS-SSIM)", "AIC (MS-SSIM)", "SIC (entropy)", "AIC (MS-SSIM)"]
    comp = pd.DataFrame({"system": ["a", "a", "a", "b", "a"], "metric": [*metrics, "SIC (MS-SSIM)"], "base": "IG",
                         "verdict": ["better", "worse", "better", "better", "n/a"]})  # fmt: skip
    marked = idgi_tables.mark_saturated(comp, rows.reset_index())
    assert marked.verdict.tolist() == ["saturated", "saturated", "better", "better", "n/a"]  # too few images: n/a
    assert idgi_tables.win_counts(marked)["tested"] == 2 and idgi_tables.win_counts(marked)["saturated"] == 2


def test_the_per_image_rule_drops_only_the_sic_aic_values_of_images_with_a_correct_blurred_base():
    bokeh = pd.concat([_bokeh("a", "MS-SSIM", [1, 0, 1]), _bokeh("a", "entropy", [0, 1, 0])])
    assert idgi_tables.base_correct_images(bokeh) == {("a", "MS-SSIM", 0), ("a", "MS-SSIM", 2), ("a", "entropy", 1)}
    metrics = ["SIC (MS-SSIM)", "AIC (MS-SSIM)", "SIC (entropy)", "insertion (prob)"]
    scores = pd.DataFrame([{"system": s, "metric": m, "image": i, "method": "IG", "value": 0.5}
                           for s in ("a", "b") for m in metrics for i in range(3)])  # fmt: skip
    kept = idgi_tables.without_base_correct(scores, bokeh)
    left = kept.groupby(["system", "metric"]).image.apply(list).to_dict()
    assert left[("a", "SIC (MS-SSIM)")] == [1] and left[("a", "AIC (MS-SSIM)")] == [1]  # images 0 and 2 dropped
    assert left[("a", "SIC (entropy)")] == [0, 2]  # per level: image 1's entropy base only
    assert left[("a", "insertion (prob)")] == [0, 1, 2]  # not a SIC/AIC metric: untouched
    assert all(v == [0, 1, 2] for (s, _), v in left.items() if s == "b")  # another system: untouched
    # the rule and the row marking count the same images
    rows = idgi_tables.saturated_rows(bokeh).set_index(["system", "information_level"])
    assert rows.loc[("a", "MS-SSIM"), "base correct"] == 2 and rows.loc[("a", "entropy"), "base correct"] == 1
    assert idgi_tables.without_base_correct(scores, bokeh.iloc[:0]).equals(scores)


def test_direction_conflicts_find_verdicts_against_the_tables_difference():
    tables = {"T": pd.DataFrame({"metric": ["m", "MAE (continuous)"], "system": "a", "images": 8,
                                 **{m: [0.5, 0.5] for m in METHODS}})}  # fmt: skip
    tables["T"].loc[0, "IG+IDGI"] = 0.4  # the table has IG + IDGI below IG on m
    tables["T"].loc[1, "GIG+IDGI"] = 0.4  # and GIG + IDGI below GIG on the MAE: better there
    comp = pd.DataFrame({"system": "a", "metric": ["m", "m", "MAE (continuous)", "MAE (continuous)"],
                         "base": ["IG", "GIG", "GIG", "IG"],
                         "verdict": ["better", "better", "worse", "n/a"]})  # fmt: skip
    conflicts = idgi_tables.direction_conflicts(comp, tables)
    assert conflicts[["metric", "base"]].values.tolist() == [["m", "IG"], ["MAE (continuous)", "GIG"]]
    assert conflicts["table diff"].round(3).tolist() == [-0.1, -0.1]


def test_verdicts_across_datasets():
    assert idgi_tables.across_datasets(["reproduced", "reproduced", "not comparable"]) == "reproduced"
    assert idgi_tables.across_datasets(["reproduced", "not reproduced"]) == "partly"
    assert idgi_tables.across_datasets(["partly", "partly"]) == "partly"
    assert idgi_tables.across_datasets(["reproduced", "inconclusive"]) == "partly"
    assert idgi_tables.across_datasets(["inconclusive", "not reproduced"]) == "not reproduced"
    assert idgi_tables.across_datasets(["inconclusive", "inconclusive"]) == "inconclusive"
    assert idgi_tables.across_datasets(["not comparable"]) == "not comparable"


def test_architecture_and_matched_family_pairs():
    assert idgi_tables.architecture("resnet_sub") == "ResNet"
    assert idgi_tables.architecture("torchvision:vgg16") == "VGG"
    assert idgi_tables.architecture("my.module:net") is None
    systems = pd.DataFrame({"system": ["d/vgg", "d/resnet", "d/mlp"], "dataset": "d", "level": "trained",
                            "family": ["VGG", "ResNet", None]})  # fmt: skip
    comp = pd.DataFrame({
        "system": ["d/vgg", "d/resnet", "d/vgg", "d/resnet", "d/vgg", "d/resnet", "d/mlp"],
        "metric": ["m1", "m1", "m2", "m2", "m3", "m3", "m1"], "base": "IG",
        "verdict": ["better", "worse", "better", "better", "better", "n/a", "better"],
    })  # fmt: skip
    pairs = idgi_tables.family_pairs(comp, systems)
    assert pairs.metric.tolist() == ["m1", "m2"]  # m3 is not tested on the ResNet side; the MLP has no family
    assert pairs.difference.tolist() == [1, 0]
    saturated = comp.assign(verdict=comp.verdict.replace({"worse": "saturated"}))  # not comparable: left out
    assert idgi_tables.family_pairs(saturated, systems).metric.tolist() == ["m2"]
    by_dataset = idgi_tables.family_by_dataset(pd.concat([pairs] * 6, ignore_index=True), 0.05).iloc[0].to_dict()
    # six discordant cells, all won on the VGG side only: exact binomial p = 2 / 2**6
    assert by_dataset == {"dataset": "d", "cells": 12, "better VGG": 12, "better ResNet": 6, "VGG only": 6,
                          "ResNet only": 0, "p": pytest.approx(2 / 64), "verdict": "reproduced"}  # fmt: skip
    five = idgi_tables.family_by_dataset(pd.concat([pairs] * 5, ignore_index=True), 0.05).iloc[0]
    assert five["p"] == pytest.approx(2 / 32) and five["verdict"] == "inconclusive"  # leans the claim's way, p > 5%
    none = idgi_tables.family_by_dataset(pairs.assign(difference=0), 0.05).iloc[0]
    assert none["p"] == 1.0 and none["verdict"] == "not reproduced"  # no discordant cell: no lean towards the claim


def test_family_groups_count_near_duplicate_cells_once():
    # insertion (prob) and (ratio) won on the VGG side only: one group; SIC and AIC (MS-SSIM) split one each way: a
    # group that leans neither way; F1 won on the ResNet side only: its own group
    pairs = pd.DataFrame({
        "dataset": "d", "level": "trained", "base": "IG",
        "metric": ["insertion (prob)", "insertion (ratio)", "SIC (MS-SSIM)", "AIC (MS-SSIM)", "F1"],
        "difference": [1, 1, 1, -1, -1],
    })  # fmt: skip
    row = idgi_tables.family_groups(pairs).iloc[0].to_dict()
    assert row == {"dataset": "d", "groups": 3, "VGG only": 1, "ResNet only": 1, "p": 1.0, "verdict": "not reproduced"}
    # the same cells under two base methods and two training levels: four groups, each won on the VGG side only
    four = pd.concat([pairs.iloc[:2].assign(base=b, level=lv) for b in ("IG", "GIG") for lv in ("trained", "sub")])
    row = idgi_tables.family_groups(four).iloc[0]
    assert (row["groups"], row["VGG only"], row["ResNet only"]) == (4, 4, 0)
    assert row["p"] == pytest.approx(2 / 16) and row["verdict"] == "inconclusive"
    assert idgi_tables.family_groups(pairs.iloc[:0]).empty


def test_paper_cells_name_the_papers_mae_by_its_threshold_convention():
    summary, wins = idgi_tables.paper_cells()
    assert "MAE (best threshold)" in set(summary.metric) and "MAE" not in set(summary.metric)
    assert int(wins["sum"].sum()) == int(wins["size"].sum())  # the paper: IDGI ahead in every cell


def test_bin_spread_on_even_and_concentrated_levels():
    even = idgi_tables.bin_spread(np.repeat((np.arange(4) + 0.5) / 100, 5))  # five images in each of four bins
    assert even["bins with a bokeh image"] == 4 and even["share in the fullest bin"] == 0.25
    assert even["effective bins"] == pytest.approx(4.0)
    one = idgi_tables.bin_spread(np.array([1.0, 1.2, 0.995, np.nan]))  # clipped into the last bin; NaN dropped
    assert one == {"bokeh images": 3, "bins with a bokeh image": 1, "share in the fullest bin": 1.0,
                   "effective bins": 1.0}  # fmt: skip
    assert idgi_tables.bin_spread(np.array([]))["bokeh images"] == 0


def _rows(system: str, vg: list[float], shifts: dict[str, list[float]], metric: str = "insertion (prob)"):
    """Tidy insertion scores of one system: VG's values, every other method VG's plus its listed per-image shift
    (a method not listed: VG's plus 1, far above)."""
    rows = []
    for method in METHODS:
        shift = [0.0] * len(vg) if method == "VG" else shifts.get(method, [1.0] * len(vg))
        rows += [{"system": system, "image": i, "method": method, "metric": metric, "sign": "signed",
                  "value": v + s} for i, (v, s) in enumerate(zip(vg, shift, strict=True))]  # fmt: skip
    return rows


def test_lowest_rows_test_the_lowest_mean_against_its_nearest_rival():
    vg = [0.1 * i for i in range(8)]
    s = pd.DataFrame(
        _rows("lowest", vg, {"BlurIG": [0.05] * 8})  # VG below every image of its runner-up BlurIG
        + _rows("above", vg, {"IG": [-0.2] * 8})  # IG below VG on every image
        + _rows("tie", vg, {"GIG": [0.1, -0.1, 0.2, -0.2, 0.3, -0.3, 0.4, -0.35]})  # VG's mean lowest, no test
        + _rows("few", vg[:3], {"IG": [-0.2] * 3})  # three images: too few to test
        + _rows("lowest", vg, {"BlurIG": [0.05] * 8}, metric="SIC (entropy)")  # another table's metric: ignored
    )
    rows = idgi_tables.lowest_rows(s, ["insertion (prob)"], "VG", alpha=0.05, n_boot=50, seed=0)
    assert list(rows.columns) == idgi_tables.LOWEST_COLUMNS
    assert rows.system.tolist() == ["lowest", "above", "tie", "few"]
    assert rows.outcome.tolist() == ["lowest", "not lowest", "undecided", "not tested"]
    assert rows.lowest.tolist() == ["VG", "IG", "VG", "IG"]
    assert rows["compared with"].tolist() == ["BlurIG", "IG", "GIG", "IG"]
    np.testing.assert_allclose(rows["gap"], [0.0, 0.2, 0.0, 0.2])
    assert rows["p"].iloc[0] == pytest.approx(2 / 2**8) and rows["rank balance"].iloc[0] == -1.0  # exact, 8 pairs
    assert rows["images"].tolist() == [8, 8, 8, 3]
    assert idgi_tables.lowest_verdict(rows.outcome) == "inconclusive"  # 1 lowest, 1 not, 1 undecided of 3 tested


def test_lowest_verdict_is_the_cells_verdict_of_the_rows():
    assert idgi_tables.lowest_verdict(["lowest", "lowest", "not tested"]) == "reproduced"
    assert idgi_tables.lowest_verdict(["lowest", "undecided"]) == "partly"
    assert idgi_tables.lowest_verdict(["not lowest", "not lowest", "undecided", "lowest"]) == "not reproduced"
    assert idgi_tables.lowest_verdict(["not lowest", "undecided", "undecided"]) == "inconclusive"
    assert idgi_tables.lowest_verdict(["not tested"]) == "not comparable"


@pytest.mark.parametrize("discordant", range(0, 12))
def test_the_smallest_exact_p_is_that_of_the_most_lopsided_split(discordant):
    from scipy.stats import binomtest

    expected = binomtest(discordant, discordant, 0.5).pvalue if discordant else 1.0
    assert idgi_tables.smallest_exact_p(discordant) == pytest.approx(expected, rel=1e-12)
    if discordant:  # every other split gives a larger p
        assert all(binomtest(k, discordant, 0.5).pvalue >= expected for k in range(discordant + 1))


def test_the_smallest_exact_p_refuses_a_non_count():
    for bad in (-1, 2.5, True):
        with pytest.raises(ValueError, match="discordant"):
            idgi_tables.smallest_exact_p(bad)
