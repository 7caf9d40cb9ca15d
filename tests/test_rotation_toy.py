"""Chapter 6's measures on the rotation toy (:mod:`xai_lib.experiments.rotation_toy`): closed forms."""

import numpy as np
import pandas as pd
import pytest

from xai_lib import toy2d
from xai_lib.experiments import rotation_toy as rt

THETA = np.linspace(-np.pi, np.pi, 721)
BOOK_A1 = [0.95, 0.7, 0.55]


def test_the_closed_form_is_what_ascent_computes_and_has_period_half_pi():
    agreement = rt.closed_form_agreement(THETA[::20], [0.95, 0.55], 1.2, k_steps=12)
    assert agreement["max |closed form - autograd|"].max() < rt.F64_ROUNDOFF
    assert rt.period_error(THETA, BOOK_A1, 1.2) < rt.F64_ROUNDOFF


def test_the_sigmoid_counterexample_raises_delta_and_lowers_the_score():
    rise, change = rt.sigmoid_counterexample()
    assert rise == pytest.approx(0.5)
    # sigma(6) - sigma(0.5) - (sigma(5) - sigma(0)), written out
    s = lambda z: 1 / (1 + np.exp(-z))  # noqa: E731
    assert change == pytest.approx(s(6) - s(0.5) - s(5) + s(0), abs=1e-15) and change < 0


def test_to_homogeneous_is_the_distance_to_the_nearest_odd_quarter():
    assert rt.to_homogeneous(0.25) == 0 and rt.to_homogeneous(-0.75) == 0
    assert rt.to_homogeneous(0.0) == pytest.approx(0.25) and rt.to_homogeneous(0.5) == pytest.approx(0.25)
    assert rt.to_homogeneous(0.3) == pytest.approx(0.05)


def test_fade_table_at_the_boundary_and_far_from_it():
    # |h - x| = k_eta |g * x|; at a1 = 1/2, g = cos(2 theta) / 2 (1, -1) vanishes at (2k+1) pi/4: h = x there
    table = rt.fade_table([0.5 + 1e-9, 0.95], 1.2).set_index("a1")
    assert table.iloc[0]["|h - x| at (2k+1)pi/4"] < 1e-8 and bool(table.iloc[0]["least at (2k+1)pi/4"])
    assert bool(table.iloc[0]["h ~ x at (2k+1)pi/4"])
    # at theta = 0, x = (a1, a2) and g * x = (a1^2, -a2^2): |h - x| = k_eta sqrt(a1^4 + a2^4)
    assert table.iloc[1]["|h - x| at k pi/2"] == pytest.approx(1.2 * np.hypot(0.95**2, 0.05**2))
    assert not bool(table.iloc[1]["h ~ x at (2k+1)pi/4"])
    assert table.iloc[1]["max |h - x|"] > table.iloc[0]["max |h - x|"]


def test_the_book_settings_give_the_cards_verdicts():
    verdicts = rt.toy_verdicts(THETA, BOOK_A1, 1.2)
    assert verdicts == {"gain": "reproduced", "h ~ x": "reproduced", "less": "reproduced", "prominence": "reproduced"}
    # one a1 far from 1/2: nothing to compare across a1, and no barely distinct classes
    alone = rt.toy_verdicts(THETA, [0.95], 1.2)
    assert alone["h ~ x"] == "not comparable" and alone["prominence"] == "not comparable"


def test_fade_counts_and_verdicts_from_a_hand_made_table():
    fade = pd.DataFrame({"a1": [0.9, 0.55], "|h - x| at (2k+1)pi/4": [0.1, 0.5], "|h - x| at k pi/2": [0.2, 0.4],
                         "|h| at (2k+1)pi/4": [0.3, 0.3], "|h| at k pi/2": [0.4, 0.2],
                         "h ~ x at (2k+1)pi/4": [False, True], "max |h - x|": [0.6, 0.7]})  # fmt: skip
    assert rt.fade_counts(fade) == (1, 1)
    verdicts = rt.verdicts_from(np.array([1.0, -1.0, 2.0]), fade)
    # 2 of 3 gains above 0: partly; a1 = 0.55 is the least distinct and fades; 1 of 2 a1 lower: partly;
    # max |h - x| falls from a1 = 0.55 to 0.9: not reproduced
    assert verdicts == {"gain": "partly", "h ~ x": "reproduced", "less": "partly", "prominence": "not reproduced"}


def test_sentences_follow_the_counts():
    assert rt.smaller_for(3, 3) == "smaller for every a1 of this run"
    assert rt.smaller_for(1, 1, " there") == "smaller there too for this run's a1"
    assert rt.smaller_for(0, 3) == "not smaller for any a1 of this run"
    assert rt.smaller_for(1, 3) == "smaller for 1 of the 3 values of a1 only"
    assert rt.gain_scope(np.array([0.1, 0.2])) == "at every angle of the grid and every a1"
    assert rt.gain_scope(np.array([-0.1, 0.0])) == "at no point of the grid"
    assert rt.gain_scope(np.array([0.1, -0.1])).startswith("at 1 of the 2 ")


def test_prominence_names_the_a1_with_the_largest_move():
    fade = rt.fade_table(BOOK_A1, 1.2)
    p = rt.prominence(fade)
    assert p.a1 == fade.a1[fade["max |h - x|"].idxmax()] == 0.95 and p.kind == "the most distinct"
    assert p.direction == "grows with a1"
    one = rt.prominence(rt.fade_table([0.7], 1.2))
    assert one.a1 is None and one.prediction.startswith("Not measured")


def test_weight_sentences_read_the_closed_form_weights():
    text = rt.weight_sentences(THETA, BOOK_A1, 1.2)
    # at theta = 0, w = (1 + k_eta a1^2 / a1, ...) = (1 + k_eta a1, 1 - k_eta a2): x1 amplified, x2 damped
    assert text["theta0_sentence"].startswith("For every a1 of this run the heatmap amplifies x1")
    assert "the roles swap" in text["theta90_sentence"]
    w = np.concatenate([(1 + 1.2 * toy2d.ascent_direction(THETA, a))[toy2d.sample(THETA, a) < 0] for a in BOOK_A1])
    assert (f"{w.min():.2f}" in text["negative_sentence"]) and (f"{w.max():.2f}" in text["negative_sentence"])


def test_card_claims_carry_the_verdicts_and_the_plotted_k_eta_reading():
    agreement = rt.closed_form_agreement(THETA[::40], BOOK_A1, 1.2, k_steps=12)
    claims = rt.card_claims(THETA, BOOK_A1, 1.2, agreement, rt.fade_table(BOOK_A1, 1.2))
    assert [c["verdict"] for c in claims] == ["by construction", "reproduced", "reproduced", "reproduced", "reproduced"]
    note, sentence = rt.plot_k_eta_reading(THETA, BOOK_A1, 1.2)
    expected = rt.toy_verdicts(THETA, BOOK_A1, rt.PLOT_K_ETA) == rt.toy_verdicts(THETA, BOOK_A1, 1.2)
    assert ("every verdict" in sentence) == expected and ("same" in note) == expected


def test_one_co_ascent_step_is_the_sigma_prime_weighted_gradient():
    # CO(w) = kappa . sigma(W^-1 (x + w x)): d CO / d w_i = sum_j kappa_j sigma'(z_j) (W^-1)_ji x_i at z = W^-1 (2x)
    t, a1, k = np.pi / 8, 0.7, 0.6
    study = rt.co_ascent_study(t, a1, (k, 2 * k), n_steps=1)
    x, w_inv, kappa = toy2d.sample(t, a1), toy2d.rotation(t).T, np.array([1.0, -1.0])
    z = w_inv @ (2 * x)
    sp = np.exp(-z) / (1 + np.exp(-z)) ** 2
    grad = (kappa * sp) @ w_inv * x
    np.testing.assert_allclose(study.h_co[k], (1 + k * grad) * x, rtol=0, atol=1e-15)
    np.testing.assert_allclose(study.sigma_prime_start, sp, rtol=0, atol=1e-15)
    # the ascent on Delta is the closed form, linear in k*eta; one CO step is linear in k too
    assert study.nonlinear_delta < rt.F64_ROUNDOFF and study.nonlinear_co < 1e-14
    assert max(study.step_ratio) < 1  # sigma' <= 1/4 weighs the CO gradient down
    with pytest.raises(ValueError, match="k_totals"):
        rt.co_ascent_study(t, a1, (0.6, 1.0))


def test_the_glued_values_follow_the_tables():
    co = rt.co_curves(THETA, BOOK_A1, 1.2)
    glued = rt.co_glue(THETA, BOOK_A1, 1.2, co)
    assert glued["min_gain"] == pytest.approx(float((co.co_gax - co.co_h_equals_x).min()))
    assert glued["period_phrase"] == "have period π/2" and glued["counter_co_change"] < 0
    fade = rt.fade_table(BOOK_A1, 1.2)
    glued = rt.fade_glue(fade)
    assert glued["least_distinct_a1"] == 0.55 and glued["least_distinct_fades"].startswith("h ≈ x")
    assert glued["least_distinct_rel"] <= rt.HX_TOL and glued["hom_vs_het"] == "smaller for every a1 of this run"
    assert glued["prominence_prediction"] == rt.prominence(fade).prediction
