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


def test_comparisons_count_wins_and_show_the_median_difference():
    s = _scores({("a", "insertion (prob)", "signed"): list(np.linspace(0, 1, 8)),
                 ("a", "MAE (best threshold)", "absolute"): list(np.linspace(0, 1, 8)),
                 ("a", "F1", "absolute"): [0.5] * 3})  # fmt: skip
    comp = idgi_tables.comparisons(s, 0.05, 50, 0)
    ins = comp[comp.metric == "insertion (prob)"]
    assert (ins.verdict == "better").all() and np.allclose(ins["median diff"], 1.0)
    assert (comp[comp.metric == "MAE (best threshold)"].verdict == "worse").all()  # higher MAE: IDGI is worse
    assert (comp[comp.metric == "F1"].verdict == "n/a").all()  # three images: too few to test
    assert idgi_tables.win_counts(comp) == {"better": 3, "no difference": 0, "worse": 3, "n/a": 3, "tested": 6}


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
