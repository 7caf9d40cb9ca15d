# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# (chapter-rotation-toy)=
# # The 2D rotation toy
#
# ```{chapter-times}
# ```
#
# **What this chapter reproduces.** Section 2 of the GAX paper {cite}`tjoa2021gax` (Fig. 1) and its appendix A.1
# (Fig. 6): a perfect two-class classifier $f(x) = \sigma(W^{-1}x)$, where $W$ rotates the plane by $\theta$, the
# closed-form heatmap that {term}`GAX` produces for it, and the {term}`CO score` that the heatmap raises. Everything
# is exact here, which is why the paper starts with it: a place to see what "a heatmap that improves confidence"
# means before any network is involved.
#
# **Learning objectives.** After this chapter you can
# 1. derive GAX's closed-form heatmap {eq}`eq-toy-closed-form` from the score it ascends, and check a closed form
#    against automatic differentiation;
# 2. compute the CO score {eq}`eq-toy-co` of a heatmap and say what makes it positive;
# 3. say where the heatmap stays close to the input, and why *homogeneous* rotations matter for barely distinct
#    classes.
#
# **Prerequisites.** Linear algebra (rotation matrices, gradients); no earlier chapter. The CO score on real
# networks follows in {doc}`07_gax_co_gap`.
#
# ```{glue:} card_settings
# ```
# ```{glue:} card_claims
# ```

# %% [markdown] tags=["instructor"]
# ````{admonition} Instructor notes
# :class: dropdown
# **Learning objectives in practice.**
# * Derive {eq}`eq-toy-closed-form` from $\Delta$ and explain why $k$ ascent steps give a heatmap exactly linear in
#   $k\eta$ ($\Delta$ is linear in $w$), then check a closed form against autograd.
# * Compute the CO score {eq}`eq-toy-co` of a heatmap and say what a gain over $h = x$ does and does not show.
# * Say from the formula for $g$ where, and for which $a_1$, the heatmap stays at the input.
#
# **Common misconceptions.**
# 1. "The closed form approximates gradient ascent, like a first-order step." *Exposed by*: section "The closed form
#    of eq. (4), checked by autograd": the two agree to round-off because the gradient of $\Delta$ does not depend on
#    $w$. The third exercise ascends the CO score itself, whose gradient passes through $\sigma'$: linearity in
#    $k\eta$ is no longer exact, yet that ascent is {glue:text}`co_linearity` (largest deviation
#    {glue:text}`nonlinear_co_share:.1%` of the largest move). {glue:text}`larger_difference`, which
#    $\sigma' \leq 1/4$ shrinks ({glue:text}`step_ratio_text` times as far as on $\Delta$).
# 2. "At the homogeneous rotations the heatmap equals the input." *Exposed by*: the table "Where the heatmap fades"
#    under section "The CO score along $\theta$" (compare $|h - x|$ at $(2k+1)\pi/4$ with $|x|$ and with its value at
#    $k\pi/2$) and the first exercise: $g$ vanishes there only for $a_1 = 1/2$ exactly.
# 3. "A negative heatmap component marks a feature that counts against the class." *Exposed by*: section "Reading
#    the heatmaps" (negative components): $h = w * x$ keeps the sign of $x$ wherever $w > 0$; what the ascent chose
#    is the move $h - x$.
#
# **Discussion prompts.**
# 1. Is a positive CO gain over $h = x$ evidence that the GAX heatmap explains the classifier? *Expected answer*: no.
#    GAX ascends $\Delta$; for a linear $\sigma(z) = cz$ the CO score is $c\Delta$, so the gain shows only that the
#    ascent did what it was built for. For a nonlinear $\sigma$ that argument fails: with the sigmoid, pre-activations
#    $A: 5 \to 6$ and $B: 0 \to 0.5$ raise $\Delta$ by {glue:text}`counter_delta_rise:.1f` while the CO score changes
#    by {glue:text}`counter_co_change:.3f`. For the sigmoid the evidence that the ascent raises the score is the grid
#    test (a gain {glue:text}`gain_everywhere`), not the argument. Either way, evidence of an explanation needs a
#    criterion the heatmap was not optimised on.
# 2. Why does the CO score have period $\pi/2$ in $\theta$? *Expected answer*: a rotation by $\pi/2$ maps the sample,
#    its heatmap and the classifier onto rotated copies of themselves, which leaves the score unchanged.
# 3. Why would barely distinct classes give faint heatmaps, and what is the image analogue? *Expected answer*: their
#    sample lies near the decision boundary, where $g$ is smaller (the first exercise: for $a_1 = 0.51$, $|g|$ is at
#    most {glue:text}`g051_max:.3f`, against up to {glue:text}`g_one_max:.3f` for $a_1 = 1$) and comes close to zero
#    only near the homogeneous rotations (down to {glue:text}`g051_min:.3f`; exactly zero there when $a_1 = 1/2$);
#    in images, classes that differ only in a small detail give the ascent a weaker push, and none where their
#    evidence balances exactly.
#
# **What to project.**
# 1. `fig1_heatmaps.png`: the components of $x$ and $h$ over $\theta$ for each $a_1$ (paper Fig. 1 and 6).
# 2. `co_score_vs_theta.png`: the CO score of the GAX heatmap against that of $h = x$.
# 3. The table "Where the heatmap fades" (`heatmap_prominence.csv`): $|h - x|$ at the homogeneous and heterogeneous
#    rotations.
# 4. The $\theta$ slider: $x$, $h$ and $x + h$ in the sample plane.
# ````

# %% tags=["remove-cell"]
# Colab, Binder or a fresh kernel: install xai_lib when it is missing, from XAI_LIB_SOURCE (a git URL, checkout or
# wheel) or else from the clone this notebook sits in; where xai_lib is installed this cell does nothing.
def _install_xai_lib() -> None:
    import importlib.util
    import os
    import subprocess
    import sys
    from pathlib import Path

    if importlib.util.find_spec("xai_lib") is not None:
        return
    here = Path.cwd().resolve()
    clone = next((p for p in (here, *here.parents) if (p / "xai_lib" / "__init__.py").is_file()), None)
    source = os.environ.get("XAI_LIB_SOURCE") or (str(clone) if clone else None)
    if source is None:
        raise RuntimeError("xai_lib is not installed: set XAI_LIB_SOURCE (e.g. git+https://...) and re-run this cell")
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", source], check=True)
    importlib.invalidate_caches()


_install_xai_lib()

# %% tags=["parameters"]
profile = "book"  # smoke | class | book | paper: sets the theta grid and the number of ascent steps checked
a1_values = "0.95,0.7,0.55"  # comma-separated a1 (a2 is 1 - a1), one panel each
k_eta = 1.2  # k * eta of eq. (4): the paper's figures use 1.2
seed = 0
device = "auto"  # unused by the closed form; kept so every chapter takes the same parameters
output_dir = "outputs/rotation_toy"

# %%
import matplotlib.pyplot as plt
import numpy as np
from IPython.display import HTML, display

import xai_lib
from xai_lib import params, report, teaching, toy2d
from xai_lib.experiments import rotation_toy
from xai_lib.plotting import finish, save_table

prof = xai_lib.get_profile(profile)
# the book's own run (default settings, seed 0, `book` or `class`): the solutions' asserts on its numbers apply to it
book_run = xai_lib.computes_as_book(prof) and seed == 0 and a1_values == "0.95,0.7,0.55" and k_eta == 1.2
a1_list = params.float_list("a1_values", a1_values, lo=0.5, hi=1.0)
if min(a1_list) <= 0.5:  # toy2d.heatmap ascends class 1, the sample's class only when a1 > a2 = 1 - a1
    raise ValueError(f"a1_values: every a1 must exceed 1/2 (the heatmap ascends class 1), got {a1_values!r}")
k_eta = params.positive_number("k_eta", k_eta)  # 0 would be no ascent: h = x
out = params.output_dir("output_dir", output_dir)
xai_lib.setup(seed, device, profile=prof)
theta = np.linspace(-np.pi, np.pi, prof.toy_n_theta)
F64_ROUNDOFF = rotation_toy.F64_ROUNDOFF  # values of order one: float64 rounding is about 1e-16
report.glue("k_eta", k_eta)
print(f"profile={prof.name}: {len(theta)} angles, a1 in {a1_list}, k*eta={k_eta}")

# %% [markdown]
# ## The closed form of eq. (4), checked by autograd
#
# The sample is $x = W(\theta)\,(a_1, a_2)^\top$ with $a_2 = 1 - a_1$, and its class is the larger of $a_1, a_2$.
# GAX's heatmap is $h = w * x$ ($*$ elementwise, $w$ initialised to ones). Written in the sample basis,
# $h = A x^{(1)} + B x^{(2)}$ with $(A, B)^\top = W^{-1}(w * x)$, and GAX ascends
#
# $$ \Delta = A - B . $$ (eq-toy-delta)
#
# Because $\Delta$ is linear in $w$, its gradient $g = \nabla_w \Delta$ does not depend on $w$, and $k$ steps of
# rate $\eta$ from $w = 1$ give
#
# $$ h = (1 + k\eta\, g) * x, \qquad g = \big((W^{-1}_{11} - W^{-1}_{21})\,x_1,\; -(W^{-1}_{22} - W^{-1}_{12})\,x_2\big). $$ (eq-toy-closed-form)
#
# `xai_lib.toy2d.heatmap` is {eq}`eq-toy-closed-form`; `xai_lib.toy2d.heatmap_autograd` builds the 2D model as a
# `torch.nn.Module` and runs $k$ real gradient-ascent steps on {eq}`eq-toy-delta`. They must agree to float64
# precision for every angle and every $a_1$.

# %%
# NBVAL_CHECK_OUTPUT
agreement = rotation_toy.closed_form_agreement(theta, a1_list, k_eta, prof.toy_ascent_steps)
save_table(agreement, out / "closed_form_vs_autograd.csv")
max_error = float(agreement["max |closed form - autograd|"].max())
closed_form_agrees = max_error < F64_ROUNDOFF
report.glue("n_theta", len(theta))
report.glue("max_error", f"less than {F64_ROUNDOFF:.0e}" if closed_form_agrees else f"at most {max_error:.1e}")
report.phrase("agreement_phrase", closed_form_agrees,
              "float64 round-off: the closed form is what gradient ascent computes",
              "more than float64 round-off: the implementation of the closed form or of the ascent is wrong")  # fmt: skip
report.show(agreement, {"eta": "{:.3f}", "max |closed form - autograd|": lambda v: report.roundoff(v, F64_ROUNDOFF)})

# %% [markdown]
# Over {glue:text}`n_theta` angles and every $a_1$ the two differ by {glue:text}`max_error`,
# {glue:text}`agreement_phrase` ({term}`round-off`: differences below $10^{-12}$ are shown as such, since their digits
# differ from CPU to CPU). This checks our implementation; the paper's derivation holds by construction, since
# $\Delta$ is linear in $w$.
#
# ## The paper's figure (Fig. 1 and Fig. 6)
#
# Solid lines are the components of the sample $x$ (red $x_1$, blue $x_2$), dotted lines the heatmap $h$ after
# $k\eta$ = {glue:text}`k_eta:g` of ascent. Dashed vertical lines mark $\theta = k\pi/4$: odd multiples are the
# **homogeneous** rotations, where $\cos\theta = \pm\sin\theta$: each class direction $W e_i$ has two components
# of equal size.
#
# ````{exercise-start}
# :label: ex-toy-predict
# ````
# **Predict first.** The figure below draws the heatmap for each $a_1$ of the run. For which classes will the heatmap
# move furthest from the input (the largest $|h - x|$ over $\theta$): the most distinct ($a_1$ far from $1/2$) or the
# least distinct ($a_1$ close to $1/2$)? Decide from {eq}`eq-toy-closed-form` before you look; the table after the
# CO-score figure gives the numbers. *Time: 5 min.*
# ````{exercise-end}
# ````


# %% tags=["hide-input", "answers-prediction"]
fig, axes = plt.subplots(1, len(a1_list), figsize=(5 * len(a1_list), 3.6), sharey=True)
for ax, a1 in zip(np.atleast_1d(axes), a1_list, strict=True):
    rotation_toy.draw_components(ax, theta, a1, k_eta)
np.atleast_1d(axes)[0].legend(loc="lower left", fontsize=8)
finish(fig, out / "fig1_heatmaps.png")

# %% [markdown]
# ## The CO score along $\theta$
#
# Eq. (1) of the paper scores a heatmap by how much adding it to the input raises the correct class's output
# against the other:
#
# $$ s_{co}(x, h) = \kappa \cdot \big[f(x + h) - f(x)\big], \qquad \kappa = (1, -1) \text{ for class 1.} $$ (eq-toy-co)
#
# We use the logistic sigmoid for $\sigma$ and compute {eq}`eq-toy-co` itself. The dashed curves are the
# uninformative heatmap $h = x$ ($k\eta = 0$), the starting point of GAX: the gap between solid and dashed is what
# the ascent bought.

# %% tags=["hide-input"]
co_table = rotation_toy.co_curves(theta, a1_list, k_eta)
save_table(co_table, out / "co_score_vs_theta.csv")
fig, ax = plt.subplots(figsize=(8, 3.6))
rotation_toy.draw_co_curves(ax, co_table, k_eta)
finish(fig, out / "co_score_vs_theta.png")

# %% tags=["answers-prediction"]
# NBVAL_CHECK_OUTPUT
summary = rotation_toy.co_checkpoints(a1_list, k_eta)
# does the ascent buy confidence (the CO gain over h = x at every grid point)? do the curves have period pi/2? where
# does the heatmap fade (|h - x|, the attribution's prominence, over theta, per a1)?
fade = rotation_toy.fade_table(a1_list, k_eta)
save_table(fade, out / "heatmap_prominence.csv")
report.glue_all("", rotation_toy.co_glue(theta, a1_list, k_eta, co_table) | rotation_toy.fade_glue(fade))
report.show(summary, "{:.4f}", caption=f"CO score of the GAX heatmap (k·eta = {k_eta:g})", index=True)
report.show(fade, "{:.3f}", caption="Where the heatmap fades: |h - x| over theta")

# %% [markdown]
# The GAX heatmap's CO score exceeds that of $h = x$ {glue:text}`gain_everywhere` (smallest gain
# {glue:text}`min_gain:.2g`). The curves {glue:text}`period_phrase` (largest difference between $\theta$ and
# $\theta + \pi/2$: {glue:text}`period_error`): a rotation by $\pi/2$ maps the sample, its heatmap and the classifier
# onto rotated copies of themselves, which leaves the CO score unchanged.
#
# The paper does not say how "prominent" is measured; our operationalisation is how far the heatmap moves from the
# input, $|h - x|$ (the move the ascent made away from the uninformative $h = x$). At the homogeneous
# rotations ($\theta$ an odd multiple of $\pi/4$, computed at those exact angles) it is {glue:text}`hom_vs_het` than
# at the heterogeneous $\theta = k\pi/2$: this comparison decides the card's claim, in the paper's words (*less*
# prominent there). Reported beside it, not tested: the size of the heatmap itself, $|h|$, is
# {glue:text}`size_vs_het` (the table's columns |h|). Where over $\theta$ it is *smallest* is a separate question, reported and not tested: its value at
# the homogeneous rotations lies within {glue:text}`hx_tol:.0%` of its smallest value over $\theta$
# {glue:text}`fade_summary`. For the least distinct
# classes ($a_1$ = {glue:text}`least_distinct_a1:g`) $|h - x|$ at the homogeneous rotations is
# {glue:text}`least_distinct_rel:.3f` of $|x|$: {glue:text}`least_distinct_fades`. Its largest value (the column
# max |h - x|) {glue:text}`prominence_direction`.
#
# ````{solution-start} ex-toy-predict
# :class: dropdown
# ````
# {glue:text}`prominence_prediction` Why: $h - x = k\eta\, g * x$, and $g$ is built from the sample's own
# components. At $\theta = 0$, for instance, $x = (a_1, a_2)$ and $g * x = (a_1^2, -a_2^2)$, so
# $|h - x| = k\eta \sqrt{a_1^4 + a_2^4}$, smallest at $a_1 = a_2 = 1/2$ and growing as the classes separate; the
# rotation moves where over $\theta$ the largest value lies. Barely distinct classes put the sample near the decision
# boundary, where $g$ is smaller (the first exercise: for $a_1 = 0.51$, $|g|$ is at most {glue:text}`g051_max:.3f`,
# against up to {glue:text}`g_one_max:.3f` for $a_1 = 1$) and comes close to zero only near the homogeneous rotations
# (exactly zero there for $a_1 = 1/2$).

# %% tags=["solution"]
prominent = rotation_toy.prominence(fade)
if book_run:  # the book's run: the most distinct classes (the largest a1) give the most prominent heatmap
    assert prominent.a1 == max(a1_list) and prominent.kind == "the most distinct", prominent.prediction

# %% [markdown]
# ````{solution-end}
# ````
#
# ## Slide through $\theta$
#
# Left: the sample plane. The shaded half-plane is where the perfect classifier predicts class 1; the arrows are
# the sample $x$ (black), the heatmap $h$ (orange) and the augmented input $x + h$ (green). Right: the components of
# Fig. 1 with the current angle marked. The animation is embedded in the page, so it works without a kernel.


# %% tags=["hide-input"]
display(HTML(rotation_toy.slider_html(theta, a1_list[0], k_eta, n_frames=max(9, min(48, prof.toy_n_theta // 15)))))


# %% tags=["hide-input"]
# NBVAL_CHECK_OUTPUT
# the weights w = h / x = 1 + k*eta*g at theta = 0 and pi/2; the sign of h_i where x_i < 0; the sign of h_i against
# the sign of the ascent's move h_i - x_i = k*eta*g_i*x_i
report.glue_all("", rotation_toy.weight_sentences(theta, a1_list, k_eta))

# %% [markdown]
# ## Reading the heatmaps
#
# **Heterogeneous rotations** ($\theta$ away from odd multiples of $\pi/4$). At $\theta = 0$ the sample is its own
# class coordinates, $x = (a_1, a_2)$, and the closed form gives $w = h / x = (1 + k\eta\, a_1,\; 1 - k\eta\, a_2)$.
# "High $x_1$ literally causes high $y_1$" (the paper), so a useful heatmap amplifies $x_1$.
# {glue:text}`theta0_sentence` At $\theta = \pi/2$ the class-1 sample is $x = (-a_2, a_1)$ and
# $w = (1 - k\eta\, a_2,\; 1 + k\eta\, a_1)$: {glue:text}`theta90_sentence`
#
# **Homogeneous rotations** ($\theta \approx (2k+1)\pi/4$). Here $\cos\theta = \pm\sin\theta$; the paper argues that
# the two components become alike there and the attributions less prominent, and draws the parallel to real images of
# different classes that look alike except for a small, non-obvious difference. The closed form says when this holds:
# at $a_1 = 1/2$ exactly, $g = \tfrac12 \cos 2\theta\,(1, -1)$ vanishes at the homogeneous rotations and $h = x$
# there (the first exercise). For the $a_1$ of this run (the table above), $|h - x|$ at the homogeneous rotations is
# {glue:text}`hom_vs_het` than at $\theta = k\pi/2$, and within {glue:text}`hx_tol:.0%` of its smallest value over
# $\theta$ {glue:text}`fade_summary`.
#
# **Negative components.** Images have none; the toy's samples do. Because $h = w * x$ with $w$ starting at ones,
# $h_i$ has the sign of $x_i$ wherever $w_i > 0$: {glue:text}`negative_sentence` Where $w_i > 0$, the sign of $h_i$ is
# the input's, not a choice of the ascent. What the ascent chose is its move away from the uninformative $h = x$,
# $h_i - x_i = k\eta\, g_i x_i$: its sign says which way the ascent moved component $i$ of $x + h$ to raise
# confidence, and neither sign says whether a feature "contributes negatively". {glue:text}`sign_sentence`

# %% tags=["hide-input"]
# NBVAL_CHECK_OUTPUT
claims = rotation_toy.card_claims(theta, a1_list, k_eta, agreement, fade)
plot_note, plot_sentence = rotation_toy.plot_k_eta_reading(theta, a1_list, k_eta)
report.glue("plot_k_eta", rotation_toy.PLOT_K_ETA)
report.glue("plot_k_eta_sentence", plot_sentence)
settings = rotation_toy.card_settings(theta, a1_list, k_eta, plot_note)
# no trained model: no training seed can change these numbers, so the card's seed columns say "not applicable"
verdicts = report.card(
    "06_rotation_toy", settings, claims, out, seed=seed, seed_independent=True
).verdict.value_counts()
print(verdicts.to_string())

# %% [markdown]
# ## Summary
#
# * In the rotation toy GAX's heatmap has a closed form {eq}`eq-toy-closed-form` ({term}`by construction`, since
#   $\Delta$ is linear in $w$); autograd gradient ascent on the same model differs from our implementation of it by
#   {glue:text}`max_error`.
# * The GAX heatmap raises the CO score {eq}`eq-toy-co` above the uninformative $h = x$
#   {glue:text}`gain_everywhere`. How far it moves from the input, $|h - x|$, is measured per $a_1$ and angle: its
#   largest value {glue:text}`prominence_direction`; at the homogeneous rotations it is
#   {glue:text}`hom_vs_het` than at $\theta = k\pi/2$ (the paper's "less prominent"); its value there lies within
#   {glue:text}`hx_tol:.0%` of its smallest value over $\theta$ {glue:text}`fade_scope`. Only at $a_1 = 1/2$
#   exactly does $g$ vanish there, leaving $h = x$ (the first exercise computes $|g|$ there).
# * {glue:text}`summary_seeds`
#
# ## Self-check
#
# Answer before you open the exercises; each choice explains itself.

# %% tags=["remove-input"]
teaching.quiz("06_rotation_toy", "quizzes/06_rotation_toy.json")

# %% [markdown]
# ## Exercises
#
# *In class, run this chapter at the `class` profile (`papermill -p profile class`): it computes exactly what the
# book computes here (the toy is in closed form, with no trained model), so your answers should agree with the
# solutions.*
#
# ````{exercise-start}
# :label: ex-toy-1
# ````
# For $a_1 \in \{0.99, 0.51\}$, compute how large the ascent direction $|g|$ gets over $\theta$ (its smallest and
# largest value), and explain the limits $a_1 \to 1$ and $a_1 \to 1/2$ from the formula for $g$ in
# {eq}`eq-toy-closed-form`. Write `my_answer` in the cell below from the formula (not from `toy2d`); it checks your
# values. *Time: 10 min.*
# ````{exercise-end}
# ````


# %% tags=["exercise"]
def my_answer(angles: np.ndarray, a1_pair: tuple[float, ...]) -> np.ndarray:
    """For each a1 of ``a1_pair``, the smallest and largest |g| over ``angles`` (g of eq-toy-closed-form): an array
    of shape (len(a1_pair), 2)."""
    raise NotImplementedError("compute x = W (a1, a2), then g from eq-toy-closed-form, its norm per angle, min and max")


answer = teaching.attempt(my_answer, theta, (0.99, 0.51))
if answer is not None:
    g_norms = [np.linalg.norm(toy2d.ascent_direction(theta, a), axis=1) for a in (0.99, 0.51)]
    teaching.check(answer, np.array([[g.min(), g.max()] for g in g_norms]), rtol=1e-6, what="your (min, max) of |g|")

# %% [markdown]
# ````{solution-start} ex-toy-1
# :class: dropdown
# ````


# %% tags=["solution"]
# NBVAL_CHECK_OUTPUT
def my_answer(angles: np.ndarray, a1_pair: tuple[float, ...]) -> np.ndarray:
    """For each a1 of ``a1_pair``, the smallest and largest |g| over ``angles``, from eq-toy-closed-form."""
    c, s = np.cos(angles), np.sin(angles)
    rows = []
    for a1 in a1_pair:
        x1, x2 = c * a1 - s * (1 - a1), s * a1 + c * (1 - a1)  # x = W (a1, a2)
        g = np.stack([(c + s) * x1, -(c - s) * x2], axis=-1)  # W^-1 = W^T for a rotation
        norm = np.linalg.norm(g, axis=-1)
        rows.append([norm.min(), norm.max()])
    return np.array(rows)


g_ranges = {a1_try: rotation_toy.g_norm_range(theta, a1_try) for a1_try in (0.99, 0.51)}
for a1_try, (g_min, g_max) in g_ranges.items():
    print(f"a1 = {a1_try}: |g| from {g_min:.3f} to {g_max:.3f} over theta")
limits = rotation_toy.ascent_direction_limits(theta, k_eta)
# the answer's limits, in closed form (exact, so they hold for any grid and any run): at a1 = 1, |g| never falls
# below 1 / sqrt 2; at a1 = 1/2 it vanishes at every homogeneous rotation, where h = x
assert limits["g_one_min"] > 1 / np.sqrt(2) - F64_ROUNDOFF and limits["g_half_at_homogeneous"] < F64_ROUNDOFF
assert limits["fig1_right_rel"] > 100 * F64_ROUNDOFF  # g does not vanish there for a1 = 0.55: h moves away ...
if book_run:  # ... and at the book's k*eta the move is small against |x|: h ~ x
    assert limits["fig1_right_rel"] < rotation_toy.HX_TOL
for name, value in {**limits, "g099_min": g_ranges[0.99][0], "g051_min": g_ranges[0.51][0],
                    "g051_max": g_ranges[0.51][1]}.items():  # fmt: skip
    report.glue(name, "|g| " + report.roundoff(value, F64_ROUNDOFF) if name == "g_half_at_homogeneous" else value)
report.phrase("fig1_right_fades", limits["fig1_right_rel"] <= rotation_toy.HX_TOL, "so h ≈ x there, not h = x",
              f"so h is not close to x there (more than {rotation_toy.HX_TOL:.0%} of |x| away) at this k·eta")  # fmt: skip
print(f"a1 = 1: |g| from {limits['g_one_min']:.3f} to {limits['g_one_max']:.3f}; a1 = 1/2: |g| at most "
      f"{limits['g_half_max']:.3f}, at the homogeneous rotations "
      f"{report.roundoff(limits['g_half_at_homogeneous'], F64_ROUNDOFF)}")  # fmt: skip
expected_ranges = np.array([g_ranges[0.99], g_ranges[0.51]])
assert teaching.check(my_answer(theta, (0.99, 0.51)), expected_ranges, rtol=1e-6, what="the (min, max) of |g|")

# %% [markdown]
# For the rotation, $W^{-1} = W^\top$ and {eq}`eq-toy-closed-form` reads
# $g = \big((\cos\theta + \sin\theta)\,x_1,\; -(\cos\theta - \sin\theta)\,x_2\big)$ with $x = W(a_1, a_2)^\top$.
#
# * As $a_1 \to 1$ the sample is the pure class direction $x = (\cos\theta, \sin\theta)$ and
#   $|g|^2 = 1 + \tfrac12 \sin 4\theta$: $|g|$ runs from {glue:text}`g_one_min:.3f` to {glue:text}`g_one_max:.3f` and
#   never vanishes, so the ascent moves the heatmap away from $x$ at every angle ($a_1 = 0.99$ stays above
#   {glue:text}`g099_min:.3f`).
# * As $a_1 \to 1/2$ the sample lies on the decision boundary, $x = \tfrac12(\cos\theta - \sin\theta,\;
#   \cos\theta + \sin\theta)$, and $g = \tfrac12 \cos 2\theta\,(1, -1)$: $|g| = |\cos 2\theta| / \sqrt 2$, at most
#   {glue:text}`g_half_max:.3f` and zero at the homogeneous rotations $\theta = (2k+1)\pi/4$ (computed there:
#   {glue:text}`g_half_at_homogeneous`). There $h = x$ after any number of steps, but only at $a_1 = 1/2$ exactly.
#   The paper's Fig. 1 (right) draws $a_1 = 0.55$ (the value of the authors' plotting script
#   {cite}`tjoa2021gaxcode`), where $g$ does not vanish: at the homogeneous rotations $|h - x|$ is
#   {glue:text}`fig1_right_rel:.3f` of $|x|$ at $k\eta$ = {glue:text}`k_eta:g`, {glue:text}`fig1_right_fades`.
#   $a_1 = 0.51$ is closer to the limit: $|g|$ runs from {glue:text}`g051_min:.3f` to
#   {glue:text}`g051_max:.3f`.
# ````{solution-end}
# ````
#
# ````{exercise-start}
# :label: ex-toy-2
# ````
# Replace the rotation by a shear $W = \begin{pmatrix}1 & s\\ 0 & 1\end{pmatrix}$. Does the derivation of
# {eq}`eq-toy-closed-form` still hold? Check it by autograd with the scaffold below. *Time: 20 min.*
# ````{exercise-end}
# ````

# %% tags=["exercise"]
import torch  # noqa: E402  (the exercise's own import)


def ascend_delta(w_matrix: np.ndarray, x: np.ndarray, k: int, eta: float) -> np.ndarray:
    """k steps of gradient ascent on Delta = A - B with (A, B) = W^-1 (w * x), from w = 1; returns h = w * x."""
    w = torch.ones(2, dtype=torch.float64, requires_grad=True)
    w_inv = torch.linalg.inv(torch.as_tensor(w_matrix))
    xt = torch.as_tensor(x)
    for _ in range(k):
        a, b = w_inv @ (w * xt)
        (grad,) = torch.autograd.grad(a - b, w)
        w = (w + eta * grad).detach().requires_grad_(True)
    return (w * xt).detach().numpy()


# your turn: build a shear, a sample x = W (a1, a2), and compare ascend_delta with the closed form

# %% [markdown]
# ````{solution-start} ex-toy-2
# :class: dropdown
# ````

# %% tags=["solution"]
# NBVAL_CHECK_OUTPUT
shear = np.array([[1.0, 0.6], [0.0, 1.0]])
x_shear = shear @ np.array([0.7, 0.3])
inv = np.linalg.inv(shear)
g_closed = np.array([(inv[0, 0] - inv[1, 0]) * x_shear[0], -(inv[1, 1] - inv[0, 1]) * x_shear[1]])
h_closed = (1 + 1.2 * g_closed) * x_shear
h_ascent = ascend_delta(shear, x_shear, 12, 0.1)
shear_error = float(np.abs(h_closed - h_ascent).max())
print("closed form with W^-1:", np.round(h_closed, 6), "autograd:", np.round(h_ascent, 6))
assert shear_error < F64_ROUNDOFF  # Delta is linear in w for any invertible W: exact up to round-off
report.glue("shear_error", report.roundoff(shear_error, F64_ROUNDOFF))

# %% [markdown]
# They agree (largest difference {glue:text}`shear_error`, round-off): $\Delta$ is linear in $w$ for *any* invertible
# $W$, so {eq}`eq-toy-closed-form` holds with $W^{-1}$ computed as an inverse. What a shear changes is only the
# shortcut $W^{-1} = W^\top$ of a rotation.
# ````{solution-end}
# ````
#
# ````{exercise-start}
# :label: ex-toy-3
# ````
# Ascend the CO score {eq}`eq-toy-co` itself instead of $\Delta$. Is the resulting heatmap still linear in
# $k\eta$, and how does it differ from the ascent on $\Delta$? Compare the two at $\theta = \pi/8$, $a_1 = 0.7$.
# *Time: 20 min.*
# ````{exercise-end}
# ````
#
# ````{solution-start} ex-toy-3
# :class: dropdown
# ````

# %% tags=["solution"]
# NBVAL_CHECK_OUTPUT
# 12 autograd steps on the CO score at theta = pi/8, a1 = 0.7 for each total k*eta, against the closed form on Delta
# (read `rotation_toy.co_ascent_study` for the loop: w += (k*eta / 12) * grad_w CO, from w = 1)
study = rotation_toy.co_ascent_study(np.pi / 8, 0.7, (0.6, 1.2, 2.4), n_steps=12)
for k_total in study.k_totals:
    print(f"k*eta = {k_total}: ascent on CO {np.round(study.h_co[k_total], 4)}, "
          f"on Delta {np.round(study.h_delta[k_total], 4)}")  # fmt: skip
gap_grows = bool(np.all(np.diff(study.gaps) > 0))
step_share = 1.0 - max(study.step_ratio)  # how far the CO step falls short of the step on Delta
# exact for Delta (linear in w); the CO ascent's numbers are fixed (no parameter of the run enters them), so the
# answer's words hold on every machine: nearly linear, the step the larger difference, the gap growing
assert study.nonlinear_delta < F64_ROUNDOFF
assert study.nonlinear_co > 100 * F64_ROUNDOFF and max(study.step_ratio) < 1 and gap_grows
assert step_share > study.nonlinear_co_share and study.nonlinear_co_share < 0.05
ratio_low, ratio_high = f"{min(study.step_ratio):.2f}", f"{max(study.step_ratio):.2f}"
sp_start, sp_end = study.sigma_prime_start, study.sigma_prime_end
report.glue_all(
    "",
    {
        "nonlinear_delta": report.roundoff(study.nonlinear_delta, F64_ROUNDOFF),
        "nonlinear_co": study.nonlinear_co,
        "co_linearity": "nearly linear" if study.nonlinear_co_share < 0.05 else "clearly not linear",
        "sigma_prime_text": f"{sp_start[0]:.3f} and {sp_start[1]:.3f} at the start (w = 1), {sp_end[0]:.3f} and "
        f"{sp_end[1]:.3f} after k·eta = {max(study.k_totals):g}",
        "direction_angle": study.direction_angle,
        "nonlinear_co_share": study.nonlinear_co_share,
        "step_ratio_text": ratio_low if ratio_low == ratio_high else f"{ratio_low} to {ratio_high}",
        "step_shortfall": step_share,
        "larger_difference": "The larger difference is the step itself"
        if step_share > study.nonlinear_co_share
        else "The larger difference is the ascent's departure from linearity, not the step",
        "co_delta_gaps": ", ".join(f"{g:.3f}" for g in study.gaps),
        "gap_direction": "grows with" if gap_grows else "does not grow steadily with",
    },
)

# %% [markdown]
# Doubling $k\eta$ doubles $h - x$ on $\Delta$ exactly (largest deviation {glue:text}`nonlinear_delta`). On the CO
# score it does not quite: the gradient passes through $\sigma'$, which depends on $w$, so each step changes the next
# one. Here the ascent is {glue:text}`co_linearity` (largest deviation {glue:text}`nonlinear_co:.3f`, or
# {glue:text}`nonlinear_co_share:.1%` of the largest move); $\sigma'$ of the two outputs at $x + h$ is
# {glue:text}`sigma_prime_text`. {glue:text}`larger_difference` (the step falls short by at least
# {glue:text}`step_shortfall:.0%`, the linearity by at most {glue:text}`nonlinear_co_share:.1%`): the CO gradient weights the two rows of $W^{-1}$ by $\sigma'$ of each output
# (at most $1/4$) where $\Delta$ weights them by one, so the CO ascent moves $h$ {glue:text}`step_ratio_text` times
# as far, in a direction {glue:text}`direction_angle:.0f` degrees apart (at
# $k\eta = 1.2$). The distance between the two heatmaps
# ({glue:text}`co_delta_gaps` at $k\eta = 0.6, 1.2, 2.4$) {glue:text}`gap_direction` $k\eta$.
# ````{solution-end}
# ````
#
# ## Resources
#
# * The GAX paper, section 2 and appendix A.1 {cite}`tjoa2021gax`; the authors' code {cite}`tjoa2021gaxcode`.
# * {doc}`07_gax_co_gap` and {doc}`08_gax_generative` take the CO score and GAX to real networks.
#
# ## Implementation notes
#
# * **$\eta$ once, not twice.** The authors' plotting script {cite}`tjoa2021gaxcode` (not the paper's text) applies
#   $\eta$ twice: it computes $w + \eta\,(\eta\, g)$ in one step with $\eta = 1.2$, so the paper's Fig. 1 and 6
#   show an effective $k\eta$ of
#   {glue:text}`plot_k_eta:.2f`. We follow eq. (4) as printed: $h = (w + k\eta\, g) * x$ with one product $k\eta$.
#   Since $|h - x| = |k\eta|\,|g * x|$, where $|h - x|$ is smallest and how its largest value orders the $a_1$ do not
#   depend on $k\eta$, while its size and the CO gains do. {glue:text}`plot_k_eta_sentence`
# * **$\sigma$ is the logistic sigmoid**, and the CO score is computed from its definition {eq}`eq-toy-co`. The
#   paper's shortcut $\sigma(a_1) - \sigma(a_2) + \sigma(A) - \sigma(B)$ is not eq. (1) even for a linear $\sigma$:
#   for $\sigma(z) = cz$, eq. (1) gives $c(A - B)$ and the shortcut $c(a_1 - a_2) + c(A - B)$, which is
#   $\kappa \cdot f(x + h)$. It differs from eq. (1) by $\kappa \cdot f(x)$, a constant in $h$, so it ranks heatmaps
#   the same way; the paper uses it only to argue that raising $\Delta$ raises the score. That argument holds for a
#   linear $\sigma$ only: for the sigmoid, pre-activations $A: 5 \to 6$ and $B: 0 \to 0.5$ raise $\Delta$ by
#   {glue:text}`counter_delta_rise:.1f` while the CO score changes by {glue:text}`counter_co_change:.3f`. For the
#   sigmoid, the evidence that GAX raises the CO score is therefore the grid test of section "The CO score along
#   $\theta$" (a gain {glue:text}`gain_everywhere`), and the card says so.
# * **The class** is $c = \arg\max(a_1, a_2)$, so $\kappa = (1, -1)$ for every $a_1 > 1/2$ used here; the parameter
#   `a1_values` accepts only $a_1 > 1/2$, since the heatmap always ascends class 1.
# * **Where the settings come from.** The paper's text names $a_1 = 0.95$ and $0.7$ and calls the third pair of Fig. 1
#   only "not differ significantly"; $a_1 = 0.55$ and $\eta$ applied twice come from the authors' plotting script
#   {cite}`tjoa2021gaxcode`. The card's claim on barely distinct classes is tested on the run's smallest $a_1$ only
#   when it lies within {glue:text}`barely_distinct:g` of $1/2$, and is *not comparable* otherwise.
# * **"Less prominent at homogeneous rotations"** is measured at the exact angles $\theta = (2k+1)\pi/4$ and
#   $\theta = k\pi/2$ (closed form, not the grid): the claim holds for an $a_1$ when $|h - x|$ is smaller at the
#   first than at the second. Reported beside it, not tested: whether $|h - x|$ there is within
#   {glue:text}`hx_tol:.0%` of its smallest value over $\theta$ (the paper never says "least"). $h \approx x$ there
#   when $|h - x|$ is at most {glue:text}`hx_tol:.0%` of $|x|$ (which does not depend on $\theta$). Its smallest and largest value over $\theta$ are taken over one period,
#   $\theta \in [0, \pi/2)$ ($|h - x|$ has period $\pi/2$), sampled at {glue:text}`n_period` angles whatever the
#   profile's grid; the table gives where in that period $|h - x|$ is smallest and how far that lies from $\pi/4$.
