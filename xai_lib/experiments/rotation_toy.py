"""Chapter 6's measures on the GAX paper's 2D rotation toy (Tjoa et al. 2021, sec. 2, eqs. 1 and 4), all in closed
form (:mod:`xai_lib.toy2d`): the CO gain of the GAX heatmap over ``h = x``, where the heatmap fades (``|h - x|``
over ``theta``), the heatmap's weights, and the card's verdicts and the sentences chosen from those numbers.

Every function takes the run's angles ``theta``, its class spreads ``a1_values`` (``a2 = 1 - a1``) and ``k_eta``
(``k * eta`` of eq. 4), so a re-run with other parameters gets its own words.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .. import report, toy2d

#: below this, a float64 difference is round-off
F64_ROUNDOFF = 1e-12
#: "h ~ x": ``|h - x|`` at most this share of ``|x|``; "least there": at most this share above its smallest value
HX_TOL = 0.05
#: the homogeneous rotations ``theta = (2k+1) pi/4`` and the heterogeneous ones ``theta = k pi/2`` in [-pi, pi)
HOMOGENEOUS = np.array([-3, -1, 1, 3]) * np.pi / 4
HETEROGENEOUS = np.array([-2, -1, 0, 1]) * np.pi / 2
#: classes are "barely distinct" when ``a1`` is within this of 1/2
BARELY_DISTINCT = 0.1
#: the authors' plotting script applies eta twice (``w + eta * (eta * g)``, eta = 1.2): an effective k*eta of 1.44
PLOT_K_ETA = 1.2 * 1.2
#: one period of the toy's measures (they have period pi/2), finely sampled
PERIOD = np.linspace(0.0, np.pi / 2, 20000, endpoint=False)


def closed_form_agreement(theta: np.ndarray, a1_values: Sequence[float], k_eta: float, k_steps: int) -> pd.DataFrame:
    """Per ``a1``: the largest difference between eq. (4)'s closed form and ``k_steps`` steps of autograd gradient
    ascent with ``eta = k_eta / k_steps``."""
    rows = []
    for a1 in a1_values:
        closed = toy2d.heatmap(theta, a1, k_eta)
        ascent = toy2d.heatmap_autograd(theta, a1, k=k_steps, eta=k_eta / k_steps)
        rows.append({"a1": a1, "ascent steps k": k_steps, "eta": k_eta / k_steps,
                     "max |closed form - autograd|": float(np.abs(closed - ascent).max())})  # fmt: skip
    return pd.DataFrame(rows)


def co_curves(theta: np.ndarray, a1_values: Sequence[float], k_eta: float) -> pd.DataFrame:
    """The CO score (eq. 1) of the GAX heatmap and of ``h = x`` at every ``(a1, theta)``: tidy rows."""
    rows = []
    for a1 in a1_values:
        co = toy2d.co_closed_form(theta, a1, toy2d.heatmap(theta, a1, k_eta))
        co0 = toy2d.co_closed_form(theta, a1, toy2d.heatmap(theta, a1, 0.0))
        rows += [
            {"a1": a1, "theta": t, "co_gax": c, "co_h_equals_x": c0} for t, c, c0 in zip(theta, co, co0, strict=True)
        ]
    return pd.DataFrame(rows, columns=["a1", "theta", "co_gax", "co_h_equals_x"])


def co_checkpoints(a1_values: Sequence[float], k_eta: float) -> pd.DataFrame:
    """The GAX heatmap's CO score at theta = 0, pi/8, ..., pi/2 (rows) for each ``a1`` (columns)."""
    checkpoints = np.array([0.0, np.pi / 8, np.pi / 4, 3 * np.pi / 8, np.pi / 2])
    columns = {
        f"a1 = {a1}": toy2d.co_closed_form(checkpoints, a1, toy2d.heatmap(checkpoints, a1, k_eta)) for a1 in a1_values
    }
    table = pd.DataFrame(columns, index=["0", "π/8", "π/4", "3π/8", "π/2"])
    table.index.name = "theta"
    return table


def gain_scope(gain: np.ndarray) -> str:
    """Where the CO gain ``gain`` (GAX heatmap minus ``h = x``, over the grid) is positive, in words."""
    n_gain, n_points = int((gain > 0).sum()), len(gain)
    if n_gain == n_points:
        return "at every angle of the grid and every a1"
    if n_gain == 0:
        return "at no point of the grid"
    return f"at {n_gain} of the {n_points} (angle, a1) points of the grid, not everywhere"


def period_error(theta: np.ndarray, a1_values: Sequence[float], k_eta: float) -> float:
    """The largest change of the GAX heatmap's CO score under ``theta -> theta + pi/2`` (0 for period pi/2)."""
    error = 0.0
    for a1 in a1_values:
        here = toy2d.co_closed_form(theta, a1, toy2d.heatmap(theta, a1, k_eta))
        turned = toy2d.co_closed_form(theta + np.pi / 2, a1, toy2d.heatmap(theta + np.pi / 2, a1, k_eta))
        error = max(error, float(np.abs(turned - here).max()))
    return error


def to_homogeneous(t_pi: float) -> float:
    """The distance, in units of pi, from the angle ``t_pi`` (in units of pi) to the nearest odd multiple of 1/4."""
    u = (t_pi - 0.25) % 0.5
    return float(min(u, 0.5 - u))


def fade_table(a1_values: Sequence[float], k: float) -> pd.DataFrame:
    """Per a1, at k*eta = k: where in [0, pi/2) |h - x| is smallest and how far that is from a homogeneous rotation;
    |h - x| and |h| at the homogeneous and heterogeneous rotations (closed form at those exact angles)."""
    rows = []
    for a1 in a1_values:
        x_norm = float(np.hypot(a1, 1 - a1))  # |x| does not depend on theta (W is a rotation)
        dist = np.linalg.norm(toy2d.heatmap(PERIOD, a1, k) - toy2d.sample(PERIOD, a1), axis=1)
        at_hom, at_het = (
            float(np.linalg.norm(toy2d.heatmap(t, a1, k) - toy2d.sample(t, a1), axis=1).max())
            for t in (HOMOGENEOUS, HETEROGENEOUS)
        )
        size_hom, size_het = (
            float(np.linalg.norm(toy2d.heatmap(t, a1, k), axis=1).max()) for t in (HOMOGENEOUS, HETEROGENEOUS)
        )
        lowest = min(float(dist.min()), at_hom)  # the sampled period may miss the exact angles
        t_min = float(PERIOD[dist.argmin()] / np.pi)
        rows.append({"a1": a1, "theta of min |h - x| (pi)": t_min,
                     "to nearest (2k+1)pi/4 (pi)": to_homogeneous(t_min), "min |h - x|": float(dist.min()),
                     "|h - x| at (2k+1)pi/4": at_hom, "|h - x| at k pi/2": at_het,
                     "|h| at (2k+1)pi/4": size_hom, "|h| at k pi/2": size_het,
                     "(2k+1)pi/4 over min": at_hom / lowest if lowest > 0 else 1.0,
                     "|h - x| / |x| at (2k+1)pi/4": at_hom / x_norm, "max |h - x|": float(dist.max())})  # fmt: skip
    table = pd.DataFrame(rows)
    table["least at (2k+1)pi/4"] = table["(2k+1)pi/4 over min"] <= 1 + HX_TOL
    table["h ~ x at (2k+1)pi/4"] = table["|h - x| / |x| at (2k+1)pi/4"] <= HX_TOL
    return table


def co_gains(theta: np.ndarray, a1_values: Sequence[float], k: float) -> np.ndarray:
    """CO(GAX heatmap at k*eta = k) - CO(h = x) at every (a1, theta) point of the grid."""
    return np.concatenate([
        toy2d.co_closed_form(theta, a1, toy2d.heatmap(theta, a1, k))
        - toy2d.co_closed_form(theta, a1, toy2d.heatmap(theta, a1, 0.0))
        for a1 in a1_values
    ])  # fmt: skip


def fade_counts(fade: pd.DataFrame) -> tuple[int, int]:
    """For how many a1 of ``fade`` (:func:`fade_table`) ``|h - x|`` and ``|h|`` are smaller at the homogeneous
    rotations (2k+1)π/4 than at the heterogeneous kπ/2."""
    n_lower = int((fade["|h - x| at (2k+1)pi/4"] < fade["|h - x| at k pi/2"]).sum())
    n_size_lower = int((fade["|h| at (2k+1)pi/4"] < fade["|h| at k pi/2"]).sum())
    return n_lower, n_size_lower


def verdicts_from(gains: np.ndarray, fade: pd.DataFrame) -> dict[str, str]:
    """The verdicts of the card's empirical claims from the CO ``gains`` (:func:`co_gains`) and the ``fade`` table
    (:func:`fade_table`) of one k*eta: ``gain`` (the ascent raises the CO score), ``h ~ x`` (barely distinct
    classes), ``less`` (less prominent at homogeneous rotations), ``prominence`` (grows with a1)."""
    table = fade.sort_values("a1")
    barely = table.a1.iloc[0] - 0.5 <= BARELY_DISTINCT  # the claim is about barely distinct classes only
    return {
        "gain": report.verdict(int((gains > 0).sum()), len(gains)),
        "h ~ x": ("reproduced" if table["h ~ x at (2k+1)pi/4"].iloc[0] else "not reproduced") if barely
        else "not comparable",
        "less": report.verdict(fade_counts(table)[0], len(table)),
        "prominence": ("reproduced" if (table["max |h - x|"].diff().dropna() > 0).all() else "not reproduced")
        if len(table) > 1 else "not comparable",
    }  # fmt: skip


def toy_verdicts(theta: np.ndarray, a1_values: Sequence[float], k: float) -> dict[str, str]:
    """:func:`verdicts_from` at k*eta = k, computing its gains and fade table."""
    return verdicts_from(co_gains(theta, a1_values, k), fade_table(a1_values, k))


def fade_sentences(fade: pd.DataFrame) -> dict[str, str]:
    """``fade_scope`` (for which a1 ``|h - x|`` is least at a homogeneous rotation) and ``fade_summary`` (the same,
    with how far the others' minima lie from one)."""
    by_a1 = fade.sort_values("a1")
    n_a1, n_least = len(fade), int(fade["least at (2k+1)pi/4"].sum())
    at_homogeneous = ", ".join(f"{v:g}" for v in by_a1.a1[by_a1["least at (2k+1)pi/4"]])
    away = by_a1[~by_a1["least at (2k+1)pi/4"]]
    away_text = report.listed(
        [f"{d:.3f}π (a1 = {a:g})" for a, d in zip(away.a1, away["to nearest (2k+1)pi/4 (pi)"], strict=True)]
    )
    if n_least == n_a1:
        scope = "for every a1 of this run" if n_a1 > 1 else f"for a1 = {at_homogeneous}"
        return {"fade_scope": scope, "fade_summary": scope}
    if n_least == 0:
        scope = "for no a1 of this run"
        summary = f"{scope}: the smallest |h - x| lies {away_text} from the nearest odd multiple of π/4"
    else:
        scope = f"only for a1 = {at_homogeneous}"
        summary = f"{scope}; for the others the smallest |h - x| lies {away_text} from the nearest odd multiple of π/4"
    return {"fade_scope": scope, "fade_summary": summary}


def smaller_for(n: int, n_a1: int, where: str = "") -> str:
    """For how many (``n``) of the run's ``n_a1`` values of a1 a quantity is smaller at (2k+1)π/4 than at kπ/2
    (``where``: " there")."""
    if n == n_a1:
        return f"smaller{where}{' too' if where else ''} " + (
            "for every a1 of this run" if n_a1 > 1 else "for this run's a1"
        )
    if n == 0:
        return f"not smaller{where} for any a1 of this run"
    return f"smaller{where} for {n} of the {n_a1} values of a1 only"


@dataclass(frozen=True)
class Prominence:
    """Which a1 gives the largest ``|h - x|`` over theta and how its classes compare with the run's others."""

    a1: float | None  #: None with fewer than two distinct a1
    kind: str  #: "the most distinct", "the least distinct", "neither the most nor the least distinct", "not measured"
    prediction: str  #: the sentence that answers the chapter's prediction
    direction: str  #: whether the largest |h - x| grows with a1


def prominence(fade: pd.DataFrame) -> Prominence:
    """The a1 whose heatmap moves furthest from the input (largest ``|h - x|`` over theta), in words."""
    by_a1 = fade.sort_values("a1")
    a1_values = list(fade.a1)
    if len(a1_values) < 2:
        direction = "cannot be compared across a1 (this run has one value), so how it changes with a1 is not measured"
    else:
        grows = bool((by_a1["max |h - x|"].diff().dropna() > 0).all())  # strictly
        direction = "grows with a1" if grows else "does not grow steadily with a1"
    distinctness = {a1: abs(2 * a1 - 1) for a1 in a1_values}  # |a1 - a2|
    if len(set(a1_values)) < 2:
        text = report.not_measured("this run has one a1, so there is nothing to compare", start=True) + "."
        return Prominence(None, "not measured", text, direction)
    a1 = float(fade.a1[fade["max |h - x|"].idxmax()])
    spread = distinctness[a1]
    kind = ("the most distinct" if spread == max(distinctness.values()) else
            "the least distinct" if spread == min(distinctness.values()) else "neither the most nor the least "
            "distinct")  # fmt: skip
    text = (
        "The largest |h - x| over θ is " + ", ".join(f"{v:.3f} (a1 = {a:g})" for a, v in
                                                     zip(by_a1.a1, by_a1["max |h - x|"], strict=True))
        + f": the heatmap moves furthest from the input for a1 = {a1:g}, {kind} classes of this run."
    )  # fmt: skip
    return Prominence(a1, kind, text, direction)


def _span(v: np.ndarray) -> str:
    return f"{v.min():.2f}" if np.isclose(v.min(), v.max(), atol=0.005) else f"{v.min():.2f} to {v.max():.2f}"


def weight_sentences(theta: np.ndarray, a1_values: Sequence[float], k_eta: float) -> dict[str, str]:
    """What the GAX weights ``w = 1 + k_eta g`` do: ``theta0_sentence`` and ``theta90_sentence`` (which component
    is amplified at theta = 0 and pi/2), ``negative_sentence`` (the sign of ``h_i`` where ``x_i < 0``) and
    ``sign_sentence`` (whether the sign of ``h_i`` and of the move ``h_i - x_i`` agree on the grid)."""

    def weights(t: float) -> np.ndarray:
        return np.array([1 + k_eta * toy2d.ascent_direction(t, a1) for a1 in a1_values])

    w_0, w_90 = weights(0.0), weights(np.pi / 2)
    roles_0 = bool((w_0[:, 0] > 1).all() and (w_0[:, 1] < 1).all())
    roles_90 = bool((w_90[:, 1] > 1).all() and (w_90[:, 0] < 1).all())
    every = "for every a1 of this run" if len(a1_values) > 1 else "for this run's a1"
    out = {
        "theta0_sentence": f"{every.capitalize()} the heatmap {'amplifies' if roles_0 else 'does not both amplify'} "
        f"x1 (w1 = {_span(w_0[:, 0])}) {'and damps' if roles_0 else 'and damp'} x2 (w2 = {_span(w_0[:, 1])}).",
        "theta90_sentence": f"the roles swap {every}: the heatmap amplifies x2 (w2 = {_span(w_90[:, 1])}) and damps x1 "
        f"(w1 = {_span(w_90[:, 0])}), again the component that carries the class." if roles_90 else
        f"the roles do not swap cleanly {every} (w1 = {_span(w_90[:, 0])}, w2 = {_span(w_90[:, 1])}).",
    }  # fmt: skip
    w_neg = np.concatenate([
        (1 + k_eta * toy2d.ascent_direction(theta, a1))[toy2d.sample(theta, a1) < 0] for a1 in a1_values
    ])  # fmt: skip
    if not len(w_neg):
        out["negative_sentence"] = "this run's grid has no negative component, so this is not measured here."
    elif (w_neg > 0).all():
        out["negative_sentence"] = (f"where x_i < 0 on this run's grid, w_i stays between {w_neg.min():.2f} and "
                                    f"{w_neg.max():.2f}, so every negative component gets a negative h_i, inherited "
                                    "from x_i.")  # fmt: skip
    else:
        out["negative_sentence"] = (f"where x_i < 0 on this run's grid, w_i ranges from {w_neg.min():.2f} to "
                                    f"{w_neg.max():.2f}: it turns negative at {int((w_neg <= 0).sum())} of "
                                    f"{len(w_neg)} such components, and there the attribution of a negative component "
                                    "is positive.")  # fmt: skip
    h_all = np.concatenate([toy2d.heatmap(theta, a1, k_eta).ravel() for a1 in a1_values])
    move_all = h_all - np.concatenate([toy2d.sample(theta, a1).ravel() for a1 in a1_values])
    signed = (np.abs(h_all) > F64_ROUNDOFF) & (np.abs(move_all) > F64_ROUNDOFF)
    n_signed, n_differs = int(signed.sum()), int((signed & (np.sign(h_all) != np.sign(move_all))).sum())
    if n_signed == 0:
        out["sign_sentence"] = (
            "On this run's grid the two signs are " + report.not_measured("no component has both") + "."
        )
    elif n_differs == 0:
        out["sign_sentence"] = (f"On this run's grid the two signs agree at every one of the {n_signed} components "
                                "(every a1, both components), so here reading either gives the same "
                                "direction.")  # fmt: skip
    else:
        out["sign_sentence"] = (f"On this run's grid the two signs differ at {n_differs} of {n_signed} components "
                                "(every a1, both components): there the sign of h_i points the opposite way to the "
                                "move that raised confidence.")  # fmt: skip
    return out


def closed_form_test() -> str:
    """The card's test of eq. (4) (closed form against autograd ascent)."""
    return (f"max |closed form - autograd| over the theta grid and every a1 below float64 round-off "
            f"({F64_ROUNDOFF:.0e}): Delta is linear in w, so eq. (4) holds by construction; this checks our "
            "implementation, not the paper")  # fmt: skip


def card_claims(
    theta: np.ndarray, a1_values: Sequence[float], k_eta: float, agreement: pd.DataFrame, fade: pd.DataFrame
) -> list[dict[str, str]]:
    """The card's claims (artefact, claim, paper, ours, verdict, test) from the run's closed-form ``agreement``
    (:func:`closed_form_agreement`) and ``fade`` (:func:`fade_table`) tables."""
    max_error = float(agreement["max |closed form - autograd|"].max())
    if (
        not max_error < F64_ROUNDOFF
    ):  # eq. (4) is derived: a disagreement is a bug of this implementation, not a finding
        raise RuntimeError(
            f"eq. (4)'s closed form and autograd's ascent differ by {max_error:.1e}: an implementation bug"
        )
    gain = co_gains(theta, a1_values, k_eta)
    n_gain, n_points = int((gain > 0).sum()), len(gain)
    verdicts = verdicts_from(gain, fade)
    by_a1, n_a1 = fade.sort_values("a1"), len(fade)
    n_lower, n_size_lower = fade_counts(fade)
    least = by_a1.iloc[0]  # the least distinct classes
    return [
        {"artefact": "eq. (4), Fig. 1", "claim": "k ascent steps give the closed-form heatmap",
         "paper": "derived", "ours": f"max |closed - autograd| {report.roundoff(max_error, F64_ROUNDOFF)}",
         "verdict": "by construction", "test": closed_form_test()},
        {"artefact": "eq. (1), sec. 2", "claim": "the ascent raises the CO score above h = x",
         "paper": "argued via Delta for a monotone sigma; the argument holds for a linear sigma only (for the "
                  "sigmoid a rise of Delta can lower the score)",
         "ours": f"gain > 0 at {n_gain} of {n_points} points, min {gain.min():.2g}",
         "verdict": verdicts["gain"],
         "test": "CO(GAX heatmap) - CO(h = x) > 0 at each (theta, a1) point of the grid, closed form in float64 (no "
                 "tolerance); reproduced if every point, partly if at least half. For the sigmoid this grid test is "
                 "the evidence: the paper's argument via Delta holds for a linear sigma only"},
        {"artefact": "Fig. 1, sec. 2.1", "claim": "barely distinct classes: h ~ x at homogeneous rotations",
         "paper": "a1, a2 that 'do not differ significantly' (a1 = 0.55 in the authors' plotting script): heatmaps "
                  "'almost equal to the input' at ±π/4",
         "ours": ("" if least["a1"] - 0.5 <= BARELY_DISTINCT else
                  f"not comparable: the smallest a1 of this run is more than {BARELY_DISTINCT:g} from 1/2; ")
                 + (f"a1 = {least['a1']:g}: |h - x| / |x| = {least['|h - x| / |x| at (2k+1)pi/4']:.3f} at (2k+1)π/4; "
                    f"smallest |h - x| (one period, θ in [0, π/2)) at {least['theta of min |h - x| (pi)']:.3f}π, "
                    f"{least['to nearest (2k+1)pi/4 (pi)']:.3f}π from π/4"),
         "verdict": verdicts["h ~ x"],
         "test": f"for the smallest a1, if within {BARELY_DISTINCT:g} of 1/2 (else not comparable): |h - x| / |x| at "
                 f"θ = ±π/4, ±3π/4 (closed form at those angles) at most {HX_TOL:g}; reported beside it: where |h - x| "
                 f"is smallest over one period (θ in [0, π/2), {len(PERIOD)} angles) and how far that lies from π/4"},
        {"artefact": "Fig. 1 and 6 captions, sec. 2",
         "claim": "attributions are less prominent at homogeneous than at heterogeneous rotations",
         "paper": "'less prominent' at θ ≈ (2k+1)π/4 (sec. 2); heatmap values large where θ is not ≈ (2k+1)π/4",
         "ours": "|h - x| at (2k+1)π/4 against kπ/2: " + ", ".join(
             f"{hom:.3f} against {het:.3f} (a1 = {a:g})"
             for a, hom, het in zip(by_a1.a1, by_a1["|h - x| at (2k+1)pi/4"], by_a1["|h - x| at k pi/2"], strict=True))
             + f"; smaller for {n_lower} of {n_a1} a1. Beside it, not tested: |h| " + ", ".join(
             f"{hom:.3f} against {het:.3f} (a1 = {a:g})"
             for a, hom, het in zip(by_a1.a1, by_a1["|h| at (2k+1)pi/4"], by_a1["|h| at k pi/2"], strict=True))
             + f", smaller for {n_size_lower} of {n_a1} a1; the minimum of |h - x| over θ lies " + ", ".join(
             f"{d:.3f}π (a1 = {a:g})" for a, d in zip(by_a1.a1, by_a1["to nearest (2k+1)pi/4 (pi)"], strict=True))
             + " from the nearest (2k+1)π/4",
         "verdict": verdicts["less"],
         "test": "our operationalisation of 'prominent' (the paper gives none): |h - x|, the move away from the "
                 "uninformative h = x. Per a1 of the run: |h - x| at θ = (2k+1)π/4 below its value at θ = kπ/2 (closed "
                 "form at those exact angles, float64, no tolerance); reproduced if every a1, partly if at least half; "
                 f"reported beside it, not tested: |h| at the same angles, and where |h - x| is smallest over θ (one "
                 f"period, {len(PERIOD)} angles)"},
        {"artefact": "Fig. 1, sec. 2.1", "claim": "less distinct classes give less prominent heatmaps",
         "paper": "qualitative", "ours": "max |h - x|: " + ", ".join(f"{v:.2f}" for v in by_a1["max |h - x|"]),
         "verdict": verdicts["prominence"],
         "test": f"the largest |h - x| over θ (one period, {len(PERIOD)} angles, float64) strictly increases with a1 "
                 "between every pair of neighbouring a1 values of the run (no tolerance); reproduced if it does, not "
                 "reproduced otherwise, not comparable with one a1"},
    ]  # fmt: skip


def plot_k_eta_reading(theta: np.ndarray, a1_values: Sequence[float], k_eta: float) -> tuple[str, str]:
    """The card's verdicts again at the authors' plotted k*eta (:data:`PLOT_K_ETA`): a short note for the card's
    settings and the sentence for the text."""
    here, there = toy_verdicts(theta, a1_values, k_eta), toy_verdicts(theta, a1_values, PLOT_K_ETA)
    changed = [name for name in here if there[name] != here[name]]
    if not changed:
        note = f"every verdict below is the same at k·eta = {PLOT_K_ETA:.2f}"
        sentence = (f"Recomputed at k·eta = {PLOT_K_ETA:.2f}, every verdict of the card is the same as at this run's "
                    f"k·eta = {k_eta:g}.")  # fmt: skip
    else:
        note = f"at k·eta = {PLOT_K_ETA:.2f} {len(changed)} verdict{'s' if len(changed) > 1 else ''} differ"
        sentence = (f"Recomputed at k·eta = {PLOT_K_ETA:.2f}, {len(changed)} of the card's verdicts differ from this "
                    f"run's (k·eta = {k_eta:g}): "
                    + "; ".join(f"{here[n]} here, {there[n]} there" for n in changed) + ".")  # fmt: skip
    return note, sentence


def card_settings(theta: np.ndarray, a1_values: Sequence[float], k_eta: float, plot_note: str) -> list[tuple]:
    """The card's settings: the paper's against this run's."""
    return [
        ("model", "sigma(W^-1 x), W a rotation", "the same, sigma = logistic sigmoid"),
        ("samples", "a1 in {0.95, 0.7} (text) and 0.55 (the authors' plotting script), theta in [-π, π]",
         f"a1 in {list(a1_values)}, {len(theta)} angles"),
        ("ascent", "k·eta = 1.2 as printed; the authors' plotting script applies eta twice (w + eta·eta·g, eta = 1.2): "
         "an effective k·eta = 1.44 in Fig. 1 and 6", f"k·eta = {k_eta:g}, eta once (eq. 4 as printed); {plot_note}"),
    ]  # fmt: skip


def sigmoid_counterexample() -> tuple[float, float]:
    """Pre-activations ``A: 5 -> 6`` and ``B: 0 -> 0.5``: the rise of ``Delta = A - B`` and the change of the CO score
    ``sigma(A) - sigma(B)`` (negative: raising Delta need not raise the score for the sigmoid, against the paper's
    argument, which holds for a linear sigma)."""
    delta_rise = (6.0 - 0.5) - (5.0 - 0.0)
    co_change = float((toy2d.sigmoid(6.0) - toy2d.sigmoid(0.5)) - (toy2d.sigmoid(5.0) - toy2d.sigmoid(0.0)))
    return delta_rise, co_change


def draw_components(ax, theta: np.ndarray, a1: float, k_eta: float) -> None:
    """The paper's Fig. 1 panel for one ``a1``: the sample's components (solid) and the heatmap's (dotted) over
    ``theta``."""
    from ..plotting import pi_axis

    x, h = toy2d.sample(theta, a1), toy2d.heatmap(theta, a1, k_eta)
    ax.plot(theta, x[:, 0], "r-", lw=1.4, label="$x_1$")
    ax.plot(theta, x[:, 1], "b-", lw=1.4, label="$x_2$")
    ax.plot(theta, h[:, 0], "r:", lw=1.8, label="$h_1$")
    ax.plot(theta, h[:, 1], "b:", lw=1.8, label="$h_2$")
    pi_axis(ax)
    ax.axhline(0, color="0.3", lw=0.5)
    ax.set_title(f"$a_1$ = {a1}, $a_2$ = {1 - a1:.2f}")
    ax.set_xlabel(r"$\theta$")


def slider_html(theta: np.ndarray, a1: float, k_eta: float, n_frames: int) -> str:
    """An embedded animation over ``n_frames`` angles: left, the sample plane (the perfect classifier's class-1
    half-plane shaded; the arrows ``x``, ``h`` and ``x + h``); right, :func:`draw_components` with the angle marked."""
    import matplotlib.pyplot as plt

    from ..plotting import animation_html

    frames = np.linspace(-np.pi, np.pi, n_frames)
    fig, (ax_plane, ax_curve) = plt.subplots(1, 2, figsize=(9, 3.8), dpi=60)
    draw_components(ax_curve, theta, a1, k_eta)
    marker = ax_curve.axvline(frames[0], color="k", lw=1.5)
    gx, gy = np.meshgrid(np.linspace(-2.5, 2.5, 101), np.linspace(-2.5, 2.5, 101))

    def update(i: int) -> None:
        t = frames[i]
        ax_plane.clear()
        y = np.einsum("ij,jkl->ikl", toy2d.rotation(t).T, np.stack([gx, gy]))
        ax_plane.contourf(gx, gy, (y[0] > y[1]).astype(float), levels=[0.5, 1.5], colors=["#dbe9f6"])
        x, h = toy2d.sample(t, a1), toy2d.heatmap(t, a1, k_eta)
        for vec, colour, label in [(x, "k", "x"), (h, "tab:orange", "h"), (x + h, "tab:green", "x + h")]:
            ax_plane.annotate("", xy=vec, xytext=(0, 0), arrowprops={"arrowstyle": "->", "color": colour, "lw": 2})
            ax_plane.text(*(vec * 1.08), label, color=colour, fontsize=9)
        ax_plane.set_xlim(-2.5, 2.5)
        ax_plane.set_ylim(-2.5, 2.5)
        ax_plane.set_aspect("equal")
        ax_plane.set_title(f"θ = {t / np.pi:+.2f}π   CO = {float(toy2d.co_closed_form(t, a1, h)):.3f}", fontsize=10)
        marker.set_xdata([t, t])

    update(0)
    return animation_html(fig, update, frames=n_frames, interval=150)


def co_glue(theta: np.ndarray, a1_values: Sequence[float], k_eta: float, co: pd.DataFrame) -> dict[str, object]:
    """The chapter's glued values on the CO score (``co``: :func:`co_curves`): the smallest gain over ``h = x`` and
    where the gain is positive, the sigmoid counterexample, and whether the curves have period pi/2."""
    gain = (co.co_gax - co.co_h_equals_x).to_numpy()
    rise, change = sigmoid_counterexample()
    error = period_error(theta, a1_values, k_eta)
    return {
        "min_gain": float(gain.min()), "gain_everywhere": gain_scope(gain),
        "counter_delta_rise": rise, "counter_co_change": change,
        "period_error": report.roundoff(error, F64_ROUNDOFF),
        "period_phrase": "have period π/2" if error < F64_ROUNDOFF else "do not have period π/2",
    }  # fmt: skip


def fade_glue(fade: pd.DataFrame) -> dict[str, object]:
    """The chapter's glued values on where the heatmap fades (``fade``: :func:`fade_table`): the scope sentences, the
    comparisons of the homogeneous with the heterogeneous rotations, the least distinct classes, the prominence."""
    n_a1 = len(fade)
    n_lower, n_size_lower = fade_counts(fade)
    least = fade.sort_values("a1").iloc[0]  # the least distinct classes
    prominent = prominence(fade)
    return {
        **fade_sentences(fade),
        "hx_tol": HX_TOL, "barely_distinct": BARELY_DISTINCT, "n_period": len(PERIOD),
        "hom_vs_het": smaller_for(n_lower, n_a1), "size_vs_het": smaller_for(n_size_lower, n_a1, " there"),
        "least_distinct_a1": float(least.a1), "least_distinct_rel": float(least["|h - x| / |x| at (2k+1)pi/4"]),
        "least_distinct_fades": f"h ≈ x there (within {HX_TOL:.0%} of |x|)" if bool(least["h ~ x at (2k+1)pi/4"])
        else f"h is not close to x there (more than {HX_TOL:.0%} of |x| away)",
        "prominence_direction": prominent.direction, "prominence_prediction": prominent.prediction,
    }  # fmt: skip


@dataclass(frozen=True)
class AscentComparison:
    """GAX's ascent on the CO score itself against the closed form on ``Delta`` (:func:`co_ascent_study`)."""

    k_totals: tuple[float, ...]  #: the total steps k*eta compared
    h_co: dict[float, np.ndarray]  #: the heatmap after the CO ascent, per k*eta
    h_delta: dict[float, np.ndarray]  #: the closed form (the ascent on Delta), per k*eta
    nonlinear_delta: float  #: largest |move(2k) - 2 move(k)| on Delta (0 up to round-off: linear in k*eta)
    nonlinear_co: float  #: the same on the CO score
    nonlinear_co_share: float  #: ``nonlinear_co`` over the largest CO move
    step_ratio: list[float]  #: |CO move| / |Delta move| per k*eta
    gaps: list[float]  #: |CO heatmap - Delta heatmap| per k*eta
    direction_angle: float  #: degrees between the two moves at the middle k*eta
    sigma_prime_start: np.ndarray  #: sigma' of the two outputs at x + h, at w = 1
    sigma_prime_end: np.ndarray  #: the same after the largest k*eta


def co_ascent_study(
    theta: float, a1: float, k_totals: tuple[float, ...] = (0.6, 1.2, 2.4), n_steps: int = 12
) -> AscentComparison:
    """``n_steps`` steps of gradient ascent (autograd, float64) on the CO score of eq. (1),
    ``kappa . [sigma(W^-1 (x + w x)) - sigma(W^-1 x)]`` with ``kappa = (1, -1)``, from ``w = 1`` with rate
    ``k / n_steps`` for each total ``k`` of ``k_totals`` (which must hold ``k`` and ``2k`` pairs to measure linearity),
    against the closed-form ascent on ``Delta`` (eq. 4) at the same ``k``."""
    import torch

    x = torch.as_tensor(toy2d.sample(theta, a1), dtype=torch.float64)
    w_inv = torch.as_tensor(toy2d.rotation(theta).T, dtype=torch.float64)
    kappa = torch.tensor([1.0, -1.0], dtype=torch.float64)

    def sigma_prime(w: torch.Tensor) -> np.ndarray:
        z = torch.sigmoid(w_inv @ (x + w * x))
        return (z * (1 - z)).detach().numpy()

    h_co, h_delta, w_end = {}, {}, {}
    for k in k_totals:
        w = torch.ones(2, dtype=torch.float64, requires_grad=True)
        for _ in range(n_steps):
            score = (torch.sigmoid(w_inv @ (x + w * x)) - torch.sigmoid(w_inv @ x)) @ kappa
            (grad,) = torch.autograd.grad(score, w)
            w = (w + k / n_steps * grad).detach().requires_grad_(True)
        h_co[k], w_end[k] = (w * x).detach().numpy(), w.detach()
        h_delta[k] = toy2d.heatmap(theta, a1, k)
    x_np = x.numpy()
    moves_co = {k: h - x_np for k, h in h_co.items()}
    moves_delta = {k: h - x_np for k, h in h_delta.items()}
    doubled = [k for k in k_totals if 2 * k in moves_co]
    if not doubled:
        raise ValueError(f"k_totals: expected some k with 2k among them, got {k_totals!r}")
    middle = k_totals[len(k_totals) // 2]
    cos_angle = float(moves_co[middle] @ moves_delta[middle]
                      / (np.linalg.norm(moves_co[middle]) * np.linalg.norm(moves_delta[middle])))  # fmt: skip
    nonlinear_co = max(float(np.abs(moves_co[2 * k] - 2 * moves_co[k]).max()) for k in doubled)
    return AscentComparison(
        k_totals=tuple(k_totals), h_co=h_co, h_delta=h_delta,
        nonlinear_delta=max(float(np.abs(moves_delta[2 * k] - 2 * moves_delta[k]).max()) for k in doubled),
        nonlinear_co=nonlinear_co,
        nonlinear_co_share=nonlinear_co / float(np.abs(moves_co[max(k_totals)]).max()),
        step_ratio=[float(np.linalg.norm(moves_co[k]) / np.linalg.norm(moves_delta[k])) for k in k_totals],
        gaps=[float(np.linalg.norm(moves_co[k] - moves_delta[k])) for k in k_totals],
        direction_angle=float(np.degrees(np.arccos(np.clip(cos_angle, -1.0, 1.0)))),
        sigma_prime_start=sigma_prime(torch.ones(2, dtype=torch.float64)),
        sigma_prime_end=sigma_prime(w_end[max(k_totals)]),
    )  # fmt: skip


def g_norm_range(theta: np.ndarray, a1: float) -> tuple[float, float]:
    """The smallest and largest ``|g|`` (eq. 4's ascent direction) over ``theta`` for one ``a1``."""
    norm = np.linalg.norm(toy2d.ascent_direction(theta, a1), axis=1)
    return float(norm.min()), float(norm.max())


def ascent_direction_limits(theta: np.ndarray, k_eta: float) -> dict[str, float]:
    """``|g|`` at the limits of the exercise on eq. 4's ascent direction: ``a1 = 1`` (the pure class direction,
    ``|g|^2 = 1 + sin(4 theta) / 2``), ``a1 = 1/2`` (on the decision boundary, ``|g| = |cos 2 theta| / sqrt 2``) over
    ``theta`` and at the homogeneous rotations; and the paper's Fig. 1 right (``a1 = 0.55``): ``|h - x| / |x|`` at
    the homogeneous rotations after ``k_eta``."""
    one, half = g_norm_range(theta, 1.0), g_norm_range(theta, 0.5)
    moved = toy2d.heatmap(HOMOGENEOUS, 0.55, k_eta) - toy2d.sample(HOMOGENEOUS, 0.55)
    return {
        "g_one_min": one[0], "g_one_max": one[1], "g_half_max": half[1],
        "g_half_at_homogeneous": float(np.linalg.norm(toy2d.ascent_direction(HOMOGENEOUS, 0.5), axis=1).max()),
        "fig1_right_rel": float(np.linalg.norm(moved, axis=1).max() / np.hypot(0.55, 0.45)),
    }  # fmt: skip


def draw_co_curves(ax, co: pd.DataFrame, k_eta: float) -> None:
    """The CO score over ``theta`` per ``a1`` (``co``: :func:`co_curves`): the GAX heatmap's (solid) and ``h = x``'s
    (dashed)."""
    from ..plotting import pi_axis

    for i, (a1, curve) in enumerate(co.groupby("a1", sort=False)):
        ax.plot(curve.theta, curve.co_gax, color=f"C{i % 10}", label=f"$a_1$={a1}, $k\\eta$={k_eta}")
        ax.plot(curve.theta, curve.co_h_equals_x, color=f"C{i % 10}", ls="--", lw=0.9, label=f"$a_1$={a1}, h = x")
    pi_axis(ax)
    ax.set_xlabel(r"$\theta$")
    ax.set_ylabel("CO score, eq. (1)")
    ax.legend(fontsize=7, ncol=2)
