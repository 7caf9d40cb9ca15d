"""Chapter 2's measures (xai_lib.experiments.idgi_noise): Theorem 1 and the toy attributions on the closed-form 2D
function, completeness on a small network (IDGI's sum telescopes), and every branch of the chapter's sentences and
card on hand-made tables."""

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn

from xai_lib.attribution import IG, BlurIG, GuidedIG
from xai_lib.experiments import idgi_noise as noise


def test_theorem1_sentence_lists_every_count_and_refuses_fewer_than_two():
    two = noise.theorem1_study((4, 12))
    assert two.sentence.count(" at N = ") == 2 and "does not shrink" in two.sentence  # both counts; 37% > 10%
    with pytest.raises(ValueError, match="counts"):
        noise.theorem1_study((12,))


def test_theorem1_noise_is_what_the_gradient_step_misses():
    thm1 = noise.theorem1_study()
    for t in thm1.steps:
        j, part = t["step"], t["parts"]
        along = part["projection"] - t["path"][j]
        g = t["g"][j]
        # the projection lies on the line through x_j along g, and the noise completes the step
        assert float(torch.linalg.vector_norm(along - (along @ g) / (g @ g) * g)) < 1e-6 * float(along.norm())
        torch.testing.assert_close(part["projection"] + part["noise"], t["path"][j + 1])
    # a fact of the fixed toy function: the relative miss shrinks at every refinement, below the tolerance
    assert thm1.first_order and thm1.ratios[-1] < noise.THM1_TOLERANCE
    assert "holds to first order" in thm1.sentence


def test_idgi_on_the_toy_is_complete_and_stays_apart_from_ig():
    change = float(noise.TOY(noise.TOY_INPUT)[0, 0] - noise.TOY(noise.TOY_BASELINE)[0, 0])
    for n in (2, 50):
        ig, idgi = noise.toy_attributions(n)
        assert float(idgi.sum()) == pytest.approx(change, abs=1e-6)  # IDGI telescopes at any N
    table, glue, apart = noise.toy_table((2, 1000))
    assert glue["toy_delta"] == pytest.approx(change) and glue["toy_n_last"] == 1000
    assert abs(table["IG sum"].iloc[-1] - change) < abs(table["IG sum"].iloc[0] - change)  # IG converges
    assert apart and "stay apart" in glue["toy_limit"]


class Smooth(nn.Module):
    """A small smooth image classifier: tanh of a convolution, pooled, two outputs."""

    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.conv = nn.Conv2d(3, 4, 3, padding=1)
        self.head = nn.Linear(4, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(torch.tanh(self.conv(x)).mean((2, 3)))


def test_completeness_table_idgi_rows_are_complete_to_roundoff():
    model = Smooth().double()
    images = torch.rand(3, 3, 8, 8, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    targets = torch.zeros(3, dtype=torch.long)
    prof = SimpleNamespace(idgi_steps=8, blur_steps=8)
    methods = {name: cls(model, "logit") for name, cls in (("IG", IG), ("Guided IG", GuidedIG), ("Blur IG", BlurIG))}
    maps = noise.Maps(methods, images, targets, prof)
    table = noise.completeness_table(maps, (4, 64), (8, 32))
    assert set(table.method) == {"IG", "IG + IDGI", "Guided IG", "Guided IG + IDGI", "Blur IG", "Blur IG + IDGI"}
    assert table.loc[table.method.str.contains("IDGI"), "max |error|"].max() < 1e-10
    ig = table[table.method == "IG"]["mean |error|"].tolist()
    assert ig[1] < ig[0]  # the right Riemann sum converges on a smooth model
    reading = noise.completeness_reading(table)
    assert reading.idgi_complete and reading.ig_converges
    # the maps computed by the table are reused, not recomputed
    assert maps("IG", 4) is maps.pairs["IG", 4]
    riemann = noise.riemann_table(maps)
    assert list(riemann.method) == ["IG", "Guided IG", "Blur IG"] and (riemann["error / change"] >= 0).all()


def test_confounded_methods_and_their_sentence():
    riemann = pd.DataFrame({"method": ["IG", "Blur IG"], "steps": [200, 100], "mean |error|": [0.01, 0.3],
                            "mean |change|": [0.5, 0.5], "error / change": [0.02, 0.6]})  # fmt: skip
    assert noise.confounded_methods(riemann) == ["Blur IG"]
    assert noise.confounded_text([]) == ""
    assert "do not count Blur IG: at the maps' steps its base map misses" in noise.confounded_text(["Blur IG"])


def test_cancellation_is_one_without_opposite_signs():
    same_sign = torch.ones(1, 3, 2, 2)
    assert noise.cancellation(same_sign) == pytest.approx(1.0)
    cancelling = torch.tensor([1.0, -1.0, 1.0, -0.5]).reshape(1, 1, 2, 2)  # |.|_1 = 3.5, sum = 0.5
    assert noise.cancellation(cancelling) == pytest.approx(7.0)


def test_mass_sentence_branches():
    table = pd.DataFrame({"method": ["IG", "Guided IG", "Blur IG"], "IDGI more on object": ["better", "worse", "n/a"]})
    assert noise.mass_sentence(table, None, 16, []).startswith("Not measured: this dataset has no object masks")
    assert noise.mass_sentence(table.iloc[2:], torch.ones(4, 2, 2), 4, []).startswith("Not measured: a paired test")
    mask = torch.zeros(16, 2, 2, dtype=torch.bool)
    mask[:, 0, 0] = True  # a quarter of every image
    sentence = noise.mass_sentence(table, mask, 16, ["Blur IG"])
    assert "for 1 of the 2 base methods, less for 1, and the difference is not significant for 0" in sentence
    assert "covers 0.25 of an image" in sentence and "do not count Blur IG" in sentence


def test_jpeg_sentence_names_medians_that_lean_against_the_test():
    tmlr = pd.DataFrame({"method": ["IG", "Guided IG"], "TMLR MSE, base": [2.0, 1.0], "TMLR MSE, + IDGI": [1.0, 3.0],
                         "L1 change, base": [0.5, 0.2], "L1 change, + IDGI": [0.6, 0.1],
                         "IDGI moves less": ["better", "no difference"]})  # fmt: skip
    sentence = noise.jpeg_sentence(tmlr, 16, [])
    assert sentence.startswith("On the study's measure IDGI's maps move less for 1 of 2 methods.")
    assert "less than their base method's for 1 of 2 methods and more for 0." in sentence
    assert "For IG the two medians lean the other way (IG: 0.60 with IDGI against 0.50)" in sentence
    assert noise.jpeg_sentence(tmlr.assign(**{"IDGI moves less": "n/a"}), 3, []).startswith("Not measured")


def test_steps_sentence_and_output_glue():
    steps = pd.DataFrame({"steps": [4, 16], "against": [64, 64], "IG": [0.3, 0.1], "IG + IDGI": [0.5, 0.1],
                          "p": [0.01, 0.5], "IDGI moves less": ["worse", "no difference"]})  # fmt: skip
    expected = "IDGI's IG map lies further from its 64-step map than IG's does at 1 of the 2 smaller step counts"
    assert noise.steps_sentence(steps, 64, 16).startswith(expected + " and nearer at 0")
    assert (
        noise.steps_sentence(steps.iloc[:0], 64, 3)
        == "Not measured: a paired test needs at least 5 images, this run has 3."
    )
    errors = {("logit", False): 0.2, ("logit", True): 0.0, ("logit", "delta"): 10.0,
              ("probability", False): 0.1, ("probability", True): 0.0, ("probability", "delta"): 0.5}  # fmt: skip
    glued = noise.output_glue(errors, {"logit": 1e-4, "probability": 1e-5}, 4)
    # 0.2 > 0.1 in absolute terms, 2% < 20% relative to the change
    assert glued["logit_error_direction"] == "larger" and glued["logit_relative_direction"] == "smaller"
    assert glued["logit_idgi_error"] == "< 1e-04"


def test_noise_by_step_first_order_part_is_the_step_across_the_gradient():
    t = noise.noisiest_step(4)
    table = noise.noise_by_step(t["path"], t["f"], t["g"], t["all"])
    # the model's gradients are float32: equal to their rounding
    np.testing.assert_allclose(table["across g"], table["|step| sin(angle)"], atol=1e-6)
    np.testing.assert_allclose(table["|noise|"] ** 2, table["across g"] ** 2 + table["along g"] ** 2, rtol=1e-6)
    glued = noise.noise_glue(table)
    assert glued["quiet_noise"] == table["|noise|"].min() and glued["loud_noise"] == table["|noise|"].max()


def test_card_counts_only_unconfounded_methods():
    thm1 = noise.theorem1_study()
    completeness = pd.DataFrame({"method": ["IG", "IG"], "steps": [4, 16], "mean |error|": [0.1, 0.01]})
    reading = noise.Completeness(1e-5, True, True, False, 1e-7)
    riemann = pd.DataFrame({"method": ["IG", "Blur IG"], "steps": [200, 100], "mean |error|": [0.01, 0.3],
                            "mean |change|": [0.5, 0.5], "error / change": [0.02, 0.6]})  # fmt: skip
    mass = pd.DataFrame({"method": ["IG", "Blur IG"], "IDGI more on object": ["better", "worse"]})
    tmlr = pd.DataFrame({"method": ["IG", "Blur IG"], "TMLR MSE, base": [1.0, 1.0], "TMLR MSE, + IDGI": [0.5, 2.0],
                         "IDGI moves less": ["better", "worse"]})  # fmt: skip
    steps = pd.DataFrame({"steps": [4], "IDGI moves less": ["worse"]})
    claims = noise.card_claims(completeness, reading, riemann, thm1, mass, True, tmlr, steps, [4, 16], 16)
    by_claim = {c["artefact"]: c for c in claims}
    assert by_claim["sec. 3.3"]["verdict"] == "by construction"
    assert by_claim["sec. 2.2"]["ours"] == "1.0e-01 > 1.0e-02" and by_claim["sec. 2.2"]["verdict"] == "reproduced"
    # Blur IG is confounded: the Fig. 3 verdict counts IG alone (better): reproduced
    assert by_claim["Fig. 3"]["verdict"] == "reproduced"
    assert (
        "counted: 1 of 1; not counted (Riemann error of the order of the change): Blur IG" in by_claim["Fig. 3"]["ours"]
    )
    assert by_claim["TMLR study, sec. numerical stability"]["verdict"] == "not comparable"


def test_rounding_phrase_reads_both_comparisons():
    def table(f32, other):
        return pd.DataFrame({"map": ["IG", "IG + IDGI", "IG + IDGI, tau=1e-10"],
                             "float32 vs float64: median": f32, "other kernels vs these: median": other})  # fmt: skip

    calm = noise.rounding_phrase(table([1e-5, 1e-6, 1e-6], [1e-5, 2e-5, 2e-5]))
    assert calm.count("about as far as IG's or less") == 2 and "amplifies" not in calm
    # float32 against float64 calm, other kernels ten times and more: the sentence says so, and names the amplification
    mixed = noise.rounding_phrase(table([1e-5, 1e-6, 1e-6], [1e-5, 3e-4, 3e-4]))
    assert "about as far as IG's or less under float32 against float64" in mixed
    assert "moves ~1e+01 times as far as IG's under other CPU kernels" in mixed and mixed.endswith("amplifies rounding")
