"""How chapters report: the verdict rules, round-off display, counts that are never "0 of 0", and the cards'
seed columns read from the seed study's table."""

import json

import numpy as np
import pandas as pd
import pytest

from xai_lib import report


def test_the_cell_verdict_is_one_rule():
    assert report.verdict(4, 4) == "reproduced"
    assert report.verdict(2, 4) == "partly"  # exactly half
    assert report.verdict(1, 4) == "not reproduced"
    assert report.verdict(0, 0) == "not comparable"
    with pytest.raises(TypeError):
        report.verdict(4, 5, partly_from=0.8)  # no chapter may use another threshold


@pytest.mark.parametrize(
    "low,high,claimed,expected",
    [
        (0.01, 0.2, "above", "reproduced"),
        (-0.2, -0.01, "above", "not reproduced"),
        (-0.08, 0.08, "above", "inconclusive"),
        (-0.2, -0.01, "below", "reproduced"),
        (0.0, 0.1, "above", "inconclusive"),  # touching the threshold is not clear of it
        (float("nan"), 0.1, "above", "not comparable"),
    ],
)
def test_an_interval_decides_or_says_it_cannot(low, high, claimed, expected):
    assert report.interval_verdict(low, high, 0.0, claimed) == expected
    assert expected in report.VERDICTS


@pytest.mark.parametrize(
    "low,high,expected",
    [
        (0.52, 0.62, True),  # decided above 0.5: its lower end 0.02 from it, within half of the half-width 0.05
        (0.54, 0.62, False),  # 0.04 from it: more than half of the half-width 0.04
        (0.38, 0.49, True),  # decided below: its upper end 0.01 from it, half the half-width is 0.0275
        (0.46, 0.51, True),  # undecided: an end 0.01 from the threshold, half the half-width 0.0125
        (0.2, 0.8, False),  # undecided, both ends far (0.3 against 0.15)
        (float("nan"), 0.6, False),  # no interval: not a close call, not comparable
    ],
)
def test_a_close_call_has_an_interval_end_within_about_one_standard_error(low, high, expected):
    assert report.close_call(low, high, 0.5) is expected
    # the margin is a share of the half-width, inclusive: [0.6, 1.0] has half-width 0.2 and its end 0.1 from 0.5
    assert report.close_call(0.6, 1.0, 0.5, share=0.5) is True
    assert report.close_call(0.6, 1.0, 0.5, share=0.49) is False
    assert report.close_call(0.5, 0.5, 0.5) is True and report.close_call(0.51, 0.51, 0.5) is False  # zero width
    with pytest.raises(ValueError, match="share"):
        report.close_call(0.1, 0.2, 0.0, share=-0.5)


def test_close_calls_name_the_rows_and_say_nothing_without_one():
    table = pd.DataFrame({"system": ["a/x", "a/x", "b/y"], "method": ["IG", "Saliency", "IG"],
                          "CI low": [0.51, 0.6, float("nan")], "CI high": [0.62, 0.8, 0.9]})  # fmt: skip
    text = report.close_calls(table, 0.5, ["system", "method"])
    assert text.startswith(" Close calls (") and text.endswith(": a/x IG.")
    assert "of 0.5" in text
    assert report.close_calls(table, 0.5, ["system", "method"], what=" of the card's test").startswith(
        " Close calls of the card's test ("
    )
    assert report.close_calls(table.iloc[1:], 0.5, ["system", "method"]) == ""
    with pytest.raises(ValueError, match="missing columns"):
        report.close_calls(table, 0.5, ["model"])


def test_round_off_is_shown_as_a_bound_and_counts_never_read_0_of_0():
    assert report.roundoff(3.2e-7) == "< 1e-05"
    assert report.roundoff(-3.2e-7) == "< 1e-05"
    assert report.roundoff(2.5e-3) == "2.5e-03"
    assert report.roundoff(2e-5, bound=1e-4) == "< 1e-04"
    assert report.roundoff(float("nan")) == "n/a"
    assert report.counted(2, 3, "methods") == "2 of 3 methods"
    assert report.counted(0, 0, "methods", none=report.not_measured("no masks")) == "not measured: no masks"


def test_not_measured_is_capitalised_only_where_it_starts_a_sentence():
    assert report.not_measured("no masks") == "not measured: no masks"
    assert report.not_measured("no masks", start=False) == "not measured: no masks"
    assert report.not_measured("no masks", start=True) == "Not measured: no masks"


def test_cards_show_the_seed_study_where_it_ran_this_configuration(tmp_path, monkeypatch):
    settings = [("models", "ImageNet CNNs", "shapes/vgg"), ("images", "ImageNet", "16 test images")]
    key = report.settings_key("02_idgi_noise", settings)
    assert key != report.settings_key("02_idgi_noise", [settings[0], ("images", "ImageNet", "8 test images")])
    table = pd.DataFrame([
        {"chapter": "02_idgi_noise", "settings_key": key, "seed": s, "artefact": "Fig. 3", "claim": "more on object",
         "test": "paired test", "verdict": v} for s, v in ((1, "reproduced"), (2, "partly"))
    ] + [
        {"chapter": "02_idgi_noise", "settings_key": key, "seed": s, "artefact": "sec. 3.3", "claim": "complete",
         "test": "round-off", "verdict": "by construction"} for s in (1, 2)
    ] + [
        {"chapter": "02_idgi_noise", "settings_key": key, "seed": s, "artefact": "Tab. 9", "claim": "no masks",
         "test": "t", "verdict": "not comparable"} for s in (1, 2)
    ] + [  # the same words decided by an older rule: never paired with the card's claim below
        {"chapter": "02_idgi_noise", "settings_key": key, "seed": s, "artefact": "new", "claim": "not in the study",
         "test": "an older rule", "verdict": "reproduced"} for s in (1, 2)
    ])  # fmt: skip
    path = tmp_path / "seed_verdicts.csv"
    table.to_csv(path, index=False)
    monkeypatch.setattr(report, "SEED_VERDICTS", path)
    glued = {}
    monkeypatch.setattr(report, "glue", lambda name, value, display=False: glued.__setitem__(name, value))
    import myst_nb

    monkeypatch.setattr(myst_nb, "glue", lambda *a, **k: None)
    claims = [
        {"artefact": "Fig. 3", "claim": "more on object", "paper": "by eye", "ours": "2 of 3", "verdict": "reproduced",
         "test": "paired test"},
        {"artefact": "sec. 3.3", "claim": "complete", "paper": "proved", "ours": "< 1e-05",
         "verdict": "by construction", "test": "round-off"},
        {"artefact": "new", "claim": "not in the study", "paper": "-", "ours": "-", "verdict": "partly", "test": "t"},
        {"artefact": "Tab. 9", "claim": "no masks", "paper": "0.7", "ours": "-", "verdict": "not comparable",
         "test": "t"},
    ]  # fmt: skip
    card = report.card("02_idgi_noise", settings, claims, seed=0)
    assert card["seeds 0 / 1 / 2"].tolist() == [
        "reproduced / reproduced / partly",
        "by construction / by construction / by construction",
        "not measured",
        "not comparable / not comparable / not comparable",
    ]
    # by construction with every seed: true by definition, so no retraining could move it (not evidence of stability)
    assert card["across seeds"].tolist() == ["unstable", report.NOT_APPLICABLE, "not measured", report.NOTHING_COMPARED]
    assert json.loads(glued["card_json"])["settings_key"] == key
    # a study table without the test column (written before the rules were part of the key) pairs nothing
    table.drop(columns="test").to_csv(tmp_path / "old.csv", index=False)
    assert report.seed_verdicts("02_idgi_noise", key, tmp_path / "old.csv") is None
    # both tables are glued like every other value, so the student edition's {eval} roles can recall them
    assert "Reproduction card: claims" in glued["card_claims"]._repr_html_()
    assert "not in the study" in repr(glued["card_claims"]) and "16 test images" in repr(glued["card_settings"])
    # the summary's sentence counts the measured claims only and names the unstable one with its three verdicts
    assert "0 of 1 measured verdicts are the same with every seed" in glued["summary_seeds"]
    assert (
        "1 has a verdict that no retraining can change (true by construction, or computed without a trained model)"
        in glued["summary_seeds"]
    )
    assert (
        "more on object (Fig. 3): reproduced / reproduced / partly (at least partly with every seed: the claim's "
        "direction survives retraining, its extent does not)" in glued["summary_seeds"]
    )
    # seeds that disagree in direction are not evidence either way; seeds that all fall short keep the shortfall
    flipped = [dict(claims[0])]
    for verdicts, words in (
        ("reproduced / not reproduced / partly", "no direction holds with every seed"),
        ("not reproduced / partly / partly", "at most partly with every seed: its shortfall survives"),
        ("inconclusive / reproduced / inconclusive", "no seed contradicts it, but not every seed could decide it"),
        ("not reproduced / inconclusive / not reproduced", "no seed reproduces it, but not every seed could decide"),
        # a "partly" falls short in part: with an undecided seed the claim is not "uncontradicted"
        ("inconclusive / partly / reproduced", "at least partly with every seed that could decide it, though not"),
        ("partly / inconclusive / partly", "partly with every seed that could decide it, though not every seed could:"),
        ("not reproduced / partly / inconclusive", "at most partly with every seed that could decide it, though not"),
    ):
        study = table.copy()
        for seed, v in zip((1, 2), verdicts.split(" / ")[1:], strict=True):
            study.loc[(study.claim == claims[0]["claim"]) & (study.seed == seed), "verdict"] = v
        flipped[0]["verdict"] = verdicts.split(" / ")[0]
        study.to_csv(tmp_path / "flip.csv", index=False)
        monkeypatch.setattr(report, "SEED_VERDICTS", tmp_path / "flip.csv")
        report.card("02_idgi_noise", settings, flipped, seed=0)
        assert f"{verdicts} ({words}" in glued["summary_seeds"], glued["summary_seeds"]
    monkeypatch.setattr(report, "SEED_VERDICTS", path)
    report.card("02_idgi_noise", settings, claims, seed=0)
    # a claim no seed could compare is the same verdict every time, but not evidence of stability: counted apart
    assert "1 more is *not comparable* with every seed, so there was no verdict to compare and it is not" in (
        glued["summary_seeds"])  # fmt: skip
    # another seed's run, or another configuration, shows no seed study
    assert set(report.card("02_idgi_noise", settings, claims, seed=1)["across seeds"]) == {"not measured"}
    assert "seed 1" in glued["summary_seeds"] and "stable" not in glued["summary_seeds"]
    other = [settings[0], ("images", "ImageNet", "4 test images")]
    assert set(report.card("02_idgi_noise", other, claims, seed=0)["across seeds"]) == {"not measured"}
    assert glued["summary_seeds"].startswith("Not measured: the seed study did not run this configuration")
    # the study ran this configuration, but every claim it holds is not comparable with every seed: that is said,
    # not "the study did not run"
    only_none = report.card("02_idgi_noise", settings, claims[3:], seed=0)
    assert only_none["across seeds"].tolist() == [report.NOTHING_COMPARED]
    assert "every verdict that the study measured (1) is *not comparable*" in glued["summary_seeds"]
    assert "did not run" not in glued["summary_seeds"] and "counted as stable" in glued["summary_seeds"]
    with pytest.raises(ValueError, match="verdict"):
        report.card("02_idgi_noise", settings, [{**claims[0], "verdict": "probably"}])
    # a chapter without a trained model: the seed columns say "not applicable", even where the study has rows
    free = report.card("02_idgi_noise", settings, claims, seed=0, seed_independent=True)
    assert set(free["seeds 0 / 1 / 2"]) == set(free["across seeds"]) == {report.NOT_APPLICABLE}
    assert free.verdict.tolist() == card.verdict.tolist()
    # one claim computed without a trained model, in a chapter that has one: that claim alone is not applicable
    one_free = report.card("02_idgi_noise", settings, [{**claims[0], "seed_independent": True}, *claims[1:]], seed=0)
    assert one_free["across seeds"].tolist()[:2] == [report.NOT_APPLICABLE, report.NOT_APPLICABLE]
    assert one_free["seeds 0 / 1 / 2"].iloc[0] == report.NOT_APPLICABLE
    assert "seed_independent" not in one_free.columns
    # a configuration the study did not run: not measured, and the seed-free claim is said apart (no study is implied)
    other_free = report.card("02_idgi_noise", other, [{**claims[0], "seed_independent": True}, *claims[1:]], seed=0)
    assert other_free["across seeds"].tolist()[0] == report.NOT_APPLICABLE
    assert glued["summary_seeds"].startswith("Not measured: the seed study did not run this configuration")
    assert "Of these claims, 1 has a verdict that no retraining can change" in glued["summary_seeds"]


def test_recall_reads_back_what_was_glued_as_glue_text_formats_it(monkeypatch):
    import myst_nb

    monkeypatch.setattr(myst_nb, "glue", lambda *a, **k: None)
    monkeypatch.setattr(report, "GLUED", {})
    assert report.recall("gap").startswith("[gap: not computed yet")
    report.glue("gap", np.float64(0.12345))
    report.glue("n", 7)
    report.glue("verdict", "reproduced")
    assert (report.recall("gap", ".3f"), report.recall("gap"), report.recall("n"), report.recall("verdict")) == (
        "0.123", "0.12345", "7", "reproduced")  # fmt: skip
    table = pd.DataFrame({"a": [1]})
    report.glue("table", table)
    assert report.recall("table") is table


def test_a_study_of_some_chapters_replaces_only_their_rows(tmp_path, monkeypatch):
    from data_scripts import seed_study

    committed = pd.DataFrame({"chapter": ["03_x", "03_x", "06_y"], "settings_key": ["123e4", "123e4", "k6"],
                              "seed": [1, 2, 1], "artefact": ["a"] * 3, "claim": ["c"] * 3,
                              "verdict": ["reproduced", "partly", "old"]})  # fmt: skip
    path = tmp_path / "seed_verdicts.csv"
    committed.to_csv(path, index=False)
    monkeypatch.setattr(seed_study, "SEED_VERDICTS", path)
    new = pd.DataFrame({"chapter": ["06_y", "06_y"], "settings_key": ["k6b", "k6b"], "seed": [1, 2],
                        "artefact": ["a"] * 2, "claim": ["c"] * 2, "verdict": ["new", "new"]})  # fmt: skip
    merged = seed_study.merged_study(new, ["06_y"])
    assert merged[merged.chapter == "03_x"].verdict.tolist() == ["reproduced", "partly"]
    assert set(merged[merged.chapter == "03_x"].settings_key) == {"123e4"}  # a key that looks like a number stays text
    assert merged[merged.chapter == "06_y"].verdict.tolist() == ["new", "new"]
    assert set(merged[merged.chapter == "06_y"].settings_key) == {"k6b"}


def test_printed_and_span_drop_the_sign_of_a_printed_zero():
    assert report.printed(-0.001, ".0%") == "0%" and report.printed(-0.01, ".0%") == "-1%"
    assert report.printed(-0.0001, "+.2f") == "+0.00" and report.printed(0.25, "+.2f") == "+0.25"
    assert report.span([0.1234, 0.5], ".2f") == "0.12 to 0.50" and report.span([0.5, 0.501], ".2f") == "0.50"
    assert report.span([-0.001, 0.2], ".0%") == "0% to 20%"
    # another separator; NaN (a value that could not be computed) left out wherever it stands; none: not measured
    assert report.span([0.77, float("nan"), 0.7], ".3f", "-") == "0.700-0.770"
    assert report.span([float("nan"), 0.7], ".2f") == report.span([0.7, float("nan")], ".2f") == "0.70"
    assert report.span([float("nan")], ".2f") == "not measured"
