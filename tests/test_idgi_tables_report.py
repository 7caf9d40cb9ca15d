"""Chapter 3's findings (:mod:`xai_lib.experiments.idgi_tables_report`) on hand-built tables with known answers."""

import numpy as np
import pandas as pd
import pytest

from xai_lib.experiments import idgi_tables_report as tr
from xai_lib.experiments.idgi_tables import METHODS


def test_sign_shift_reads_the_share_of_wins():
    table = pd.DataFrame([
        {"table": "Table 1", "channels": "signed", "IDGI better": 6, "tested": 8},
        {"table": "Table 1", "channels": "absolute", "IDGI better": 3, "tested": 8},
        {"table": "Table 2", "channels": "signed", "IDGI better": 2, "tested": 4},
        {"table": "Table 2", "channels": "absolute", "IDGI better": 2, "tested": 4},
        {"table": "Table 4", "channels": "absolute", "IDGI better": 9, "tested": 9},  # localisation: not counted
    ])  # fmt: skip
    assert tr.sign_shift_of(table) == "fewer"  # 5 of 12 against 8 of 12
    assert tr.sign_shift_of(table.assign(**{"IDGI better": [3, 6, 2, 2, 9]})) == "more"
    assert tr.sign_shift_of(table[table.channels == "signed"]) == "not measured"


def test_effective_bins_is_k_for_values_spread_over_k_bins():
    assert tr.effective_bins(np.repeat([0.005, 0.305, 0.605, 0.905], 10)) == pytest.approx(4.0)
    assert tr.effective_bins([0.5, 0.5, np.nan]) == pytest.approx(1.0)


def test_pasted_aic_separates_the_blurred_base_from_the_pasted_thresholds():
    rows = [{"system": "s", "method": "IG", "information_level": "entropy", "sign": "signed", "information": 0.5,
             "percent": p, "aic": a} for p, a in ((0, 0.0), (10, 1.0), (50, 0.0), (100, 1.0))]  # fmt: skip
    out = tr.pasted_aic(pd.DataFrame(rows), "entropy", "signed").iloc[0]
    assert out["blurred base"] == 0.0 and out["between"] == pytest.approx(0.5)  # 10% and 50%, not 0% or 100%
    assert tr.pasted_aic(pd.DataFrame(rows), "MS-SSIM", "signed").empty


def test_localisation_conventions_against_the_absolute_sum():
    rng = np.random.default_rng(0)
    rows = []
    for m in METHODS:
        for image in range(12):
            base = 0.8 + 0.01 * rng.normal()
            for sign, value in (("absolute", base), ("signed", base - 0.1), ("positive", base + 0.05)):
                rows.append({"system": "shapes/vgg", "image": image, "method": m, "metric": "ROC-AUC", "sign": sign,
                             "value": value})  # fmt: skip
    study = tr.loc_convention_study(pd.DataFrame(rows), alpha=0.05, n_boot=200, seed=0)
    table = study["table"].set_index("method")
    assert set(table["signed vs |sum|"]) == {"worse"} and set(table["positive vs |sum|"]) == {"better"}
    assert (table["positive: images up"] == 1.0).all() and study["mean_vs_test"] == []
    assert study["gain"].max() == pytest.approx(-0.1) and "no method gains from the signed sum" in study["text"]
    empty = tr.loc_convention_study(pd.DataFrame(columns=["metric", "method", "system", "image", "sign", "value"]),
                                    alpha=0.05, n_boot=10, seed=0)  # fmt: skip
    assert empty["text"].startswith("Not measured")
