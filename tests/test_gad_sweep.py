"""Chapter 4's measures: the automatic rule's walk and its sentences on fit tables with known answers, the kept region
of GAD (eq-gad-mask) on a small network, the card's counts, the exercises' studies."""

import copy
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
import torch

import xai_lib
from xai_lib.experiments import gad_sweep
from xai_lib.gad_glue import SupportConfig
from xai_lib.metrics.support_fit import FIT, SHIFT, SPLIT_ONLY, WITHIN

NAN = float("nan")


def fit_rows(rows):
    """A fit table from (alpha, fit, fit CI low, fit CI high, pooled a, pooled b, within, within low, within high)."""
    records = []
    for alpha, fit, lo, hi, ra, rb, w, wlo, whi in rows:
        records.append({"alpha": alpha, FIT: fit, "fit CI low": lo, "fit CI high": hi, SHIFT: fit / 2,
                        "shift CI low": 0.0, "shift CI high": 1.0, "rank corr a": ra, "rank corr b": rb, WITHIN: w,
                        "within-class CI low": wlo, "within-class CI high": whi, SPLIT_ONLY: 0.75,
                        "MSE to targets": 1.0, "MSE original to targets": 2.0,
                        "MSE to original outputs": 0.1})  # fmt: skip
    return pd.DataFrame(records)[gad_sweep.FIT_COLUMNS]


#: alpha 0 is the original (perfect fit by definition of the table here); 2 and 4 pass; 6 fails the fit test only;
#: 8 fails the rank test only
TABLE = [
    (0.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0),
    (2.0, 0.97, 0.95, 0.99, 0.995, 0.99, 0.99, 0.985, 0.995),
    (4.0, 0.93, 0.91, 0.95, 0.99, 0.985, 0.97, 0.95, 0.99),
    (6.0, 0.85, 0.80, 0.92, 0.985, 0.985, 0.96, 0.94, 0.98),
    (8.0, 0.95, 0.93, 0.97, 0.95, 0.97, 0.90, 0.85, 0.93),
]


def rule(table=TABLE, candidates=(0, 2, 4, 6, 8), rank=0.98, fit=0.9):
    return gad_sweep.Rule(fit_rows(table), [float(a) for a in candidates], rank, fit)


def test_the_walk_stops_at_the_first_failing_support():
    r = rule()
    assert r.selected == [0.0, 2.0, 4.0] and r.first_fail == 6.0 and not r.selects_nothing
    assert r.failed_tests(6.0) == "the fit test" and r.failed_tests(8.0) == "the rank test"
    assert r.failed_tests(2.0) == "no test"
    # a looser fit test lets the walk past 6 to the rank test's stop at 8
    assert r.walk_with_fit(0.5) == [0.0, 2.0, 4.0, 6.0]
    # the input table is not modified; the rule's copy carries the tests
    assert "passes" not in fit_rows(TABLE) and list(r.fits["passes"]) == [True, True, True, False, False]
    assert list(r.fits["within-class test"]) == ["reproduced", "reproduced", "inconclusive", "inconclusive",
                                                 "not reproduced"]  # fmt: skip


def test_the_stop_sentence_names_the_test_and_the_trend():
    text = rule().stop_sentence()
    assert "extends the sweep up to alpha = 4 and stops at alpha = 6" in text
    assert "the fit test (fit 0.850 against the threshold 0.9)" in text
    # fits 0.97, 0.93, 0.85, 0.95 over the candidates above 0: not falling at every step
    assert "the fit does not fall with every larger alpha (0.970, 0.930, 0.850, 0.950)" in text
    everything = rule(candidates=(0, 2, 4))
    assert everything.first_fail is None and "accepts every candidate, up to alpha = 4" in everything.stop_sentence()
    weak = rule(candidates=(0, 6))
    assert weak.selects_nothing and weak.stop_sentence().startswith("The automatic rule selects no support beyond")


def test_the_noise_sentence_gives_the_range_the_intervals_allow():
    # alpha 6's fit interval [0.80, 0.92] spans 0.9: at its upper end the walk goes on to 8 (which the rank test
    # stops), at its lower end it stops at 6
    text = rule().noise_sentence()
    assert "the fits of alpha = 6 span fit_threshold 0.9" in text and "that support is undecided" in text
    assert "from alpha = 4 to alpha = 6" in text and "picks alpha = 4" in text
    # at fit_threshold 0.8 no interval spans it and the stop at 8 is the rank test's
    decided = rule(fit=0.79).noise_sentence()
    assert decided.startswith("The fits' 95% intervals decide every candidate")
    assert "decided by the rank test (lowest rank correlation 0.9500 against rank_threshold 0.98)" in decided


def test_the_within_class_sentence_and_walk():
    r = rule()  # selected 2 and 4: within-class 0.99 [0.985, 0.995] above 0.98; 0.97 [0.95, 0.99] spans it
    text = r.within_sentence()
    assert "of the 2 selected supports above alpha 0" in text and "1 spans it" in text
    assert "alpha 4: 0.970, interval 0.950 to 0.990 (spans it)" in text
    # the same walk with the within-class point test stops at 4 (0.97 < 0.98): the pooled test is the weaker here
    assert "the rule would select [0.0, 2.0], not [0.0, 2.0, 4.0]: the pooled test is the weaker one" in text
    # a walk over no candidate above 0 has nothing for the fits' intervals to decide
    assert rule(candidates=(0,)).noise_sentence() == ""
    none = rule(candidates=(0, 6))
    assert none.within_sentence() == "No support above alpha 0 is selected, so none is used with a weak order."


def test_the_loose_answer_names_a_narrow_rank_margin():
    reach, stop, text = rule().loose_answer(0.5)
    assert reach == [0.0, 2.0, 4.0, 6.0] and stop == 8.0
    more = len(reach) - len(rule().selected)  # the count of alphas the looser test adds, in words
    assert text.startswith(f"The looser fit test admits {more} more alpha{'s' if more > 1 else ''}: the sweep now "
                           "goes up to alpha = 6")  # fmt: skip
    # alpha 6 passes the rank test by 0.985 - 0.98 = 0.005, within NARROW
    assert "Alpha = 6 passes the rank test by 0.0050" in text
    same = rule(candidates=(0, 2, 4)).loose_answer(0.5)[2]
    assert same.startswith("The looser fit test admits no larger alpha: the sweep is the same, and no candidate fails.")
    assert same.endswith("Alpha = 4 passes the rank test by 0.0050, within 0.01 of rank_threshold: a narrow margin "
                         "that another training could move.")  # fmt: skip


def test_advice_follows_the_failed_test():
    config = SupportConfig(epochs=10, lr=4e-5)
    weak_fit = rule(candidates=(0, 6)).advice(config, 40)
    assert "fails the fit test" in weak_fit and "train the supports longer" in weak_fit and "used 40" in weak_fit
    weak_rank = rule(candidates=(0, 8)).advice(config, 40)
    assert "fails the rank test" in weak_rank and "breaks GAD's premise" in weak_rank
    assert rule(candidates=(0,)).advice(config, 40).startswith("No candidate alpha above 0")
    assert "accepts the supports up to alpha = 4" in rule().advice(config, 40)


def test_the_card_counts_each_support_by_its_interval():
    card = gad_sweep.Card(rule(), [2.0, 4.0, 6.0, 8.0])
    # fit intervals against 0.9: 2 and 4 and 8 above, 6 spans
    assert (card.n_fit_pass, card.n_fit_open) == (3, 1)
    # within-class intervals against 0.98: 2 above, 4 and 6 span, 8 below
    assert (card.n_order_pass, card.n_order_open, card.n_order_fail) == (1, 2, 1)
    claims = card.claims(10, 10)
    # fit: 3 of 4 pass (partly) or, with the undecided one, 4 of 4 (reproduced): the undecided decides
    assert claims[0]["verdict"] == "inconclusive"
    # order: 1 of 4 (below half: not reproduced) to 3 of 4 (partly)
    assert claims[1]["verdict"] == "inconclusive"
    # with the undecided support on the passing side either way, the verdict stands
    assert gad_sweep.Card(rule(), [2.0, 8.0]).claims(1, 1)[0]["verdict"] == "reproduced"
    assert claims[2]["verdict"] == "by construction" and "10 of 10" in claims[2]["ours"]
    assert claims[3]["ours"] == "rule selects [0.0, 2.0, 4.0]"
    summary = card.summary_fit()
    assert "3 of 4 supports pass the fit test" in summary and "1 spans it" in summary and "1 lies below" in summary
    empty = gad_sweep.Card(rule(), [])
    assert empty.summary_fit().startswith("not measured") and empty.claims(0, 0)[1]["verdict"] == "not comparable"


def test_rc_stats_on_a_hand_built_table():
    table = pd.DataFrame({"method": ["m"] * 4 + ["n"] * 2, "up to alpha": 8.0, "image": range(6),
                          "kept share": [0.1, 0.2, 0.3, 0.4, 0.5, 0.5], "RC": [1.0, 0.5, 0.8, NAN, NAN, NAN],
                          "inside original": True})  # fmt: skip
    stats = gad_sweep.rc_stats(table)
    assert stats.loc["m", "kept share"] == pytest.approx(0.25)
    assert stats.loc["m", "RC < 1 share"] == pytest.approx(2 / 3)
    assert stats.loc["m", "median shrink"] == pytest.approx(0.2) and stats.loc["m", "empty"] == 1
    assert np.isnan(stats.loc["n", "RC < 1 share"]) and stats.loc["n", "empty"] == 2


def small_model(seed=0):
    torch.manual_seed(seed)
    return xai_lib.models.SmallVGG(3, 3, widths=(6, 8)).eval()


def nudged(model, seed, scale=0.3):
    """A copy of ``model`` with its weights moved: a stand-in for a trained support."""
    m = copy.deepcopy(model)
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in m.parameters():
            p.add_(scale * torch.randn(p.shape, generator=g) * p.abs().mean())
    return m


@pytest.fixture(scope="module")
def region():
    model = small_model()
    supports = {2.0: nudged(model, 1), 4.0: nudged(model, 2), 6.0: nudged(model, 3)}
    g = torch.Generator().manual_seed(5)
    x, y = torch.rand(6, 3, 16, 16, generator=g), torch.tensor([0, 2, 0, 2, 0, 2])
    return gad_sweep.Region(model, supports, x, y, (0, 2), lambda c: c, ["Saliency", "InputXGradient"],
                            [2.0, 4.0, 6.0], 0.5, 8)  # fmt: skip


def test_region_follows_eq_gad_mask(region):
    t = region.table
    assert len(t) == 2 * 4 * 6  # methods x (original + 3 supports) x images
    assert t["inside original"].all() and (t.RC.dropna() <= 1 + 1e-9).all()
    assert (t[t["up to alpha"] == 0.0].RC == 1.0).all()  # the original's hull against itself
    # adding a support can only remove pixels: per image, the kept share never rises along the ladder
    for _, g in t.groupby(["method", "image"]):
        assert (np.diff(g.sort_values("up to alpha")["kept share"].to_numpy()) <= 1e-12).all()
    # rows of the maps are the images of class 0, then of class 2
    assert list(t.image[:6]) == [0, 2, 4, 1, 3, 5]


def test_exact_sweeps_match_their_masks(region):
    # a sweep that skips alpha 4 is not on the ladder: recomputed, and between the ladder's rows 2 and 6
    skip = region.exact([2.0, 6.0])
    assert (skip["up to alpha"] == 6.0).all() and len(skip) == 12
    by = lambda part: part.set_index(["method", "image"])["kept share"]  # noqa: E731
    ladder2, ladder6 = (by(region.table[region.table["up to alpha"] == a]) for a in (2.0, 6.0))
    assert (by(skip) <= ladder2 + 1e-12).all() and (by(skip) >= ladder6 - 1e-12).all()
    # kept_with is the mean of those kept shares
    for method in region.methods:
        assert region.kept_with(method, [2.0, 6.0]) == pytest.approx(by(skip).loc[method].mean())
    # a ladder sweep is the ladder's rows
    assert region.exact([2.0, 4.0]).equals(region.table[region.table["up to alpha"] == 4.0])


def test_region_study_and_reduction(region):
    study = gad_sweep.region_study(region, [2.0, 4.0, 6.0])
    # the ladder's alpha-0 rows are the original itself: only masks with a support are counted
    assert study["n_inside"] == study["n_maps"] == int((region.table["up to alpha"] > 0).sum()) < len(region.table)
    text = gad_sweep.region_sentence(study, region, 6.0)
    assert f"({study['n_maps']} of {study['n_maps']} masks with at least one support checked)" in text
    reduction, shares, answer = gad_sweep.reduction_study(region, [2.0, 4.0, 6.0])
    for _, row in reduction.iterrows():
        if row["original"] > row["fixed sweep"]:  # shares of the reduction lie in [0, 1]
            for label in shares:
                assert -1e-12 <= row[label] <= 1 + 1e-12
    assert answer.startswith("Of the fixed sweep's reduction") or answer.startswith("not measured")


def test_identical_supports_remove_nothing():
    model = small_model()
    supports = {2.0: copy.deepcopy(model)}
    x, y = torch.rand(4, 3, 16, 16, generator=torch.Generator().manual_seed(2)), torch.tensor([0, 0, 2, 2])
    reg = gad_sweep.Region(model, supports, x, y, (0, 2), lambda c: c, ["Saliency"], [2.0], 0.5, 8)
    assert (reg.table.groupby("image")["kept share"].nunique() == 1).all()  # the same map: the same mask
    _, _, answer = gad_sweep.reduction_study(reg, [2.0])
    assert answer == "not measured: the fixed sweep removes no pixel from the original's maps"


def test_moved_sentence_reads_the_mean_moves():
    labels = torch.tensor([0, 0, 1, 1])
    original = np.zeros((4, 2))
    support = np.array([[0.5, -2.0], [0.5, -4.0], [-1.0, 0.0], [-3.0, 0.0]])
    text = gad_sweep.moved_sentence({"original": original, "alpha = 3": support}, labels, (0, 1), (0, 1),
                                    ("a", "b"), 3.0)  # fmt: skip
    assert "moves output b of the a images by -3.00 on average and output a of the b images by -2.00" in text
    assert "(asked: -3 each); their own outputs move by +0.50 and +0.00" in text
    assert gad_sweep.moved_sentence({}, labels, (0, 1), (0, 1), ("a", "b"), None).startswith("not measured")


def test_stroke_mask_finds_where_the_class_means_differ():
    x = torch.zeros(8, 3, 10, 10)
    labels = torch.tensor([0, 1] * 4)
    x[labels == 1, :, :2, :] = 1.0  # class 1 differs from class 0 on the top two rows: 20 of 100 pixels
    train = SimpleNamespace(inputs=x, labels=labels,
                            class_balanced_index=lambda n, cs: torch.cat([torch.nonzero(labels == c).flatten()[:n]
                                                                          for c in cs]))  # fmt: skip
    mask = gad_sweep.stroke_mask(train, (0, 1), per_class=4)
    expected = torch.zeros(10, 10, dtype=torch.bool)
    expected[:2] = True
    # the top fifth by difference holds the 20 differing pixels (ties at zero lie below the 0.8 quantile)
    assert torch.equal(mask, expected)


def test_span_and_shown():
    assert gad_sweep.span([0.1234, 0.5], ".2f") == "0.12 to 0.50" and gad_sweep.span([0.5, 0.501], ".2f") == "0.50"
    assert gad_sweep.shown(NAN) == "not measured" and gad_sweep.shown(0.98765) == "0.988"


def test_a_constant_output_fails_the_rank_test_and_candidates_must_increase():
    table = [row if row[0] != 2.0 else (2.0, 0.97, 0.95, 0.99, NAN, 0.99, 0.99, 0.985, 0.995) for row in TABLE]
    r = rule(table)
    # alpha 2's output a is constant on the validation images (NaN correlation): the rule stops there
    assert r.selected == [0.0] and r.failed_tests(2.0) == "the rank test"
    assert "rank correlation not measured against rank_threshold 0.98" in r.failed_measures(2.0)
    with pytest.raises(ValueError, match="candidates: expected strictly increasing"):
        rule(candidates=(0, 4, 2))


def strokes_study(matched_verdicts):
    """A stroke study of three methods: GAD above the original for all, above the size-matched control as given."""
    rows = [{"method": m, "original": 0.25, "GAD": 0.27, "GAD - original": 0.02, "p": 0.01, "verdict": "better",
             "size-matched": 0.26, "GAD - size-matched": {"better": 0.01, "worse": -0.01, "no difference": 0.0}[v],
             "p (size-matched)": 0.01 if v != "no difference" else 0.5, "verdict (size-matched)": v}
            for m, v in zip(("saliency", "ig", "gradient_x_input"), matched_verdicts, strict=True)]  # fmt: skip
    fit = {FIT: 0.96, SHIFT: 0.94, "rank corr a": 0.99, "rank corr b": 0.99, WITHIN: 0.95,
           "within-class CI low": 0.9, "within-class CI high": 0.97}  # fmt: skip
    return {"table": pd.DataFrame(rows, columns=gad_sweep.STROKE_COLUMNS), "fit": fit, "chance": 0.2, "n_img": 8,
            "classes": ("3", "8")}  # fmt: skip


@pytest.mark.parametrize(
    "matched, words",
    [
        (("better",) * 3, "not only the smaller size of its set"),
        (("no difference", "worse", "no difference"), "the smaller size of GAD's set accounts for its gain"),
        (("better", "no difference", "worse"), "adds to the effect of its smaller set for 1 method only"),
    ],
)
def test_the_strokes_answer_separates_choice_from_size(matched, words):
    answer = gad_sweep.strokes_answer(strokes_study(matched), "digits/resnet", 8.0, 0.98)
    assert answer["n_more"] == 3 and answer["size"] == "small"  # +2 points against a quarter of 20%
    assert answer["n_more_matched"] == matched.count("better")
    assert answer["n_less_matched"] == matched.count("worse")
    assert words in answer["text"] and "the classes 3 and 8" in answer["text"]
