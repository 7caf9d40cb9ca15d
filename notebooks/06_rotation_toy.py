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
# 3. explain why heatmaps fade at *homogeneous* rotations and for barely distinct classes.
#
# **Prerequisites.** Linear algebra (rotation matrices, gradients); no earlier chapter. The CO score on real
# networks follows in {doc}`07_gax_co_gap`.
#
# ```{glue:} card_settings
# ```
# ```{glue:} card_claims
# ```

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
profile = "book"  # smoke | book | paper: sets the theta grid and the number of ascent steps checked
a1_values = "0.95,0.7,0.55"  # comma-separated a1 (a2 is 1 - a1), one panel each
k_eta = 1.2  # k * eta of eq. (4): the paper's figures use 1.2
seed = 0
device = "auto"  # unused by the closed form; kept so every chapter takes the same parameters
output_dir = "outputs/rotation_toy"

# %%
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from IPython.display import HTML, display

import xai_lib
from xai_lib import params, report, toy2d
from xai_lib.plotting import animation_html, pi_axis, save_figure, save_table

prof = xai_lib.get_profile(profile)
a1_list = params.float_list("a1_values", a1_values, lo=0.0, hi=1.0)
k_eta = params.number("k_eta", k_eta)
out = params.output_dir("output_dir", output_dir)
xai_lib.setup(seed, device, profile=prof)
theta = np.linspace(-np.pi, np.pi, prof.toy_n_theta)
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
k_steps = prof.toy_ascent_steps
rows = []
for a1 in a1_list:
    closed = toy2d.heatmap(theta, a1, k_eta)
    ascent = toy2d.heatmap_autograd(theta, a1, k=k_steps, eta=k_eta / k_steps)
    rows.append({"a1": a1, "ascent steps k": k_steps, "eta": k_eta / k_steps,
                 "max |closed form - autograd|": float(np.abs(closed - ascent).max())})  # fmt: skip
agreement = pd.DataFrame(rows)
save_table(agreement, out / "closed_form_vs_autograd.csv")
max_error = report.glue("max_error", agreement["max |closed form - autograd|"].max())
report.glue("n_theta", len(theta))
report.show(agreement, {"eta": "{:.3f}", "max |closed form - autograd|": "{:.1e}"})

# %% [markdown]
# Over {glue:text}`n_theta` angles and every $a_1$ the two differ by at most {glue:text}`max_error:.1e`: float64
# round-off. The closed form is what gradient ascent computes.
#
# ## The paper's figure (Fig. 1 and Fig. 6)
#
# Solid lines are the components of the sample $x$ (red $x_1$, blue $x_2$), dotted lines the heatmap $h$ after
# $k\eta$ = `k_eta` of ascent. Dashed vertical lines mark $\theta = k\pi/4$: odd multiples are the
# **homogeneous** rotations, where $\cos\theta = \pm\sin\theta$ and the two components look alike.


# %% tags=["hide-input"]
def draw_components(ax, a1, h_scale):
    x = toy2d.sample(theta, a1)
    h = toy2d.heatmap(theta, a1, h_scale)
    ax.plot(theta, x[:, 0], "r-", lw=1.4, label="$x_1$")
    ax.plot(theta, x[:, 1], "b-", lw=1.4, label="$x_2$")
    ax.plot(theta, h[:, 0], "r:", lw=1.8, label="$h_1$")
    ax.plot(theta, h[:, 1], "b:", lw=1.8, label="$h_2$")
    pi_axis(ax)
    ax.axhline(0, color="0.3", lw=0.5)
    ax.set_title(f"$a_1$ = {a1}, $a_2$ = {1 - a1:.2f}")
    ax.set_xlabel(r"$\theta$")


fig, axes = plt.subplots(1, len(a1_list), figsize=(5 * len(a1_list), 3.6), sharey=True)
for ax, a1 in zip(np.atleast_1d(axes), a1_list, strict=True):
    draw_components(ax, a1, k_eta)
np.atleast_1d(axes)[0].legend(loc="lower left", fontsize=8)
fig.tight_layout()
save_figure(fig, out / "fig1_heatmaps.png")
plt.show()

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
fig, ax = plt.subplots(figsize=(8, 3.6))
co_rows = []
for a1, colour in zip(a1_list, ["C0", "C1", "C2", "C3", "C4"], strict=False):
    co = toy2d.co_score(theta, a1, toy2d.heatmap(theta, a1, k_eta))
    co0 = toy2d.co_score(theta, a1, toy2d.heatmap(theta, a1, 0.0))
    ax.plot(theta, co, color=colour, label=f"$a_1$={a1}, $k\\eta$={k_eta}")
    ax.plot(theta, co0, color=colour, ls="--", lw=0.9, label=f"$a_1$={a1}, h = x")
    co_rows += [{"a1": a1, "theta": t, "co_gax": c, "co_h_equals_x": c0}
                for t, c, c0 in zip(theta, co, co0, strict=True)]  # fmt: skip
pi_axis(ax)
ax.set_xlabel(r"$\theta$")
ax.set_ylabel("CO score, eq. (1)")
ax.legend(fontsize=7, ncol=2)
fig.tight_layout()
save_figure(fig, out / "co_score_vs_theta.png")
plt.show()
co_table = pd.DataFrame(co_rows)
save_table(co_table, out / "co_score_vs_theta.csv")

# %%
# NBVAL_CHECK_OUTPUT
checkpoints = np.array([0.0, np.pi / 8, np.pi / 4, 3 * np.pi / 8, np.pi / 2])
summary = pd.DataFrame(
    {f"a1 = {a1}": toy2d.co_score(checkpoints, a1, toy2d.heatmap(checkpoints, a1, k_eta)) for a1 in a1_list},
    index=["0", "π/8", "π/4", "3π/8", "π/2"],
)
summary.index.name = "theta"
gain = co_table.co_gax - co_table.co_h_equals_x
report.glue("min_gain", gain.min())
report.phrase("gain_everywhere", bool((gain > 0).all()), "at every rotation and every a1",
              "not at every rotation")  # fmt: skip
# where does the heatmap fade? the smallest |h - x| over theta, per a1
fade = []
for a1 in a1_list:
    dist = np.linalg.norm(toy2d.heatmap(theta, a1, k_eta) - toy2d.sample(theta, a1), axis=1)
    fade.append({"a1": a1, "theta of min |h - x| (units of pi)": theta[dist.argmin()] / np.pi,
                 "min |h - x|": dist.min(), "max |h - x|": dist.max()})  # fmt: skip
fade = pd.DataFrame(fade)
save_table(fade, out / "heatmap_prominence.csv")
fade["homogeneous"] = np.isclose(np.abs(fade["theta of min |h - x| (units of pi)"]) % 0.5, 0.25, atol=0.02)
by_a1 = fade.sort_values("a1")  # least distinct classes first
report.glue("least_distinct_a1", by_a1.a1.iloc[0])
report.phrase("least_distinct_fades", bool(by_a1.homogeneous.iloc[0]), "at a homogeneous rotation",
              "away from the homogeneous rotations")  # fmt: skip
report.glue("n_homogeneous_fade", int(fade.homogeneous.sum()))
report.glue("n_a1", len(a1_list))
prominence_grows = bool(by_a1["max |h - x|"].is_monotonic_increasing)
report.phrase("prominence_direction", prominence_grows, "grows with", "does not grow steadily with")
report.show(summary, "{:.4f}", caption=f"CO score of the GAX heatmap (k·eta = {k_eta:g})", index=True)
report.show(fade, "{:.3f}", caption="Where the heatmap fades: |h - x| over theta")

# %% [markdown]
# The GAX heatmap's CO score exceeds that of $h = x$ {glue:text}`gain_everywhere` (smallest gain
# {glue:text}`min_gain:.4f`): a few ascent steps always buy confidence. The curves have period $\pi/2$. How far the
# heatmap moves from the input, $|h - x|$, is smallest at a homogeneous rotation ($\theta$ an odd multiple of
# $\pi/4$) for {glue:text}`n_homogeneous_fade` of the {glue:text}`n_a1` values of $a_1$; for the least distinct
# classes ($a_1$ = {glue:text}`least_distinct_a1`) it is smallest {glue:text}`least_distinct_fades`. Its largest
# value {glue:text}`prominence_direction` $a_1$: the table's last column.
#
# ## Slide through $\theta$
#
# Left: the sample plane. The shaded half-plane is where the perfect classifier predicts class 1; the arrows are
# the sample $x$ (black), the heatmap $h$ (orange) and the augmented input $x + h$ (green). Right: the components of
# Fig. 1 with the current angle marked. The animation is embedded in the page, so it works without a kernel.


# %% tags=["hide-input"]
def slider(a1, n_frames):
    frames = np.linspace(-np.pi, np.pi, n_frames)
    fig, (ax_plane, ax_curve) = plt.subplots(1, 2, figsize=(9, 3.8), dpi=60)
    draw_components(ax_curve, a1, k_eta)
    marker = ax_curve.axvline(frames[0], color="k", lw=1.5)
    grid = np.linspace(-2.5, 2.5, 101)
    gx, gy = np.meshgrid(grid, grid)

    def update(i):
        t = frames[i]
        ax_plane.clear()
        w_inv = toy2d.rotation(t).T
        y = np.einsum("ij,jkl->ikl", w_inv, np.stack([gx, gy]))
        ax_plane.contourf(gx, gy, (y[0] > y[1]).astype(float), levels=[0.5, 1.5], colors=["#dbe9f6"])
        x = toy2d.sample(t, a1)
        h = toy2d.heatmap(t, a1, k_eta)
        for vec, colour, label in [(x, "k", "x"), (h, "tab:orange", "h"), (x + h, "tab:green", "x + h")]:
            ax_plane.annotate("", xy=vec, xytext=(0, 0), arrowprops={"arrowstyle": "->", "color": colour, "lw": 2})
            ax_plane.text(*(vec * 1.08), label, color=colour, fontsize=9)
        co = float(toy2d.co_score(t, a1, h))
        ax_plane.set_xlim(-2.5, 2.5)
        ax_plane.set_ylim(-2.5, 2.5)
        ax_plane.set_aspect("equal")
        ax_plane.set_title(f"θ = {t / np.pi:+.2f}π   CO = {co:.3f}", fontsize=10)
        marker.set_xdata([t, t])

    update(0)
    return animation_html(fig, update, frames=n_frames, interval=150)


display(HTML(slider(a1_list[0], n_frames=max(9, min(48, prof.toy_n_theta // 15)))))

# %% [markdown]
# ## Reading the heatmaps
#
# **Heterogeneous rotations** ($\theta$ away from odd multiples of $\pi/4$). Near $\theta = 0$ the sample is almost
# its own class coordinates: $x_1 \approx a_1$ is large and $x_2 \approx a_2$ small. GAX gives the large component a
# large attribution $h_1$ and suppresses $h_2$: high $x_1$ literally causes high $y_1$. Between $\pi/4$ and $\pi/2$
# the rotation swaps the roles: at $\theta = \pi/2$ the class-1 sample is $x \approx (0, 1)$ and the heatmap now
# highlights $x_2$, again the component that carries the class.
#
# **Homogeneous rotations** ($\theta \approx (2k+1)\pi/4$). Here $\cos\theta = \pm\sin\theta$: the two components
# become alike and the heatmap separates them least. The paper draws the parallel to real images of different
# classes that look alike except for a small, non-obvious difference.
#
# **Negative components.** Beyond the range where both components are non-negative (images are), a negative $x_i$
# receives a large negative $h_i$: the sign of an attribution says which way to move the input to raise
# confidence, not whether a feature "contributes negatively".

# %% tags=["hide-input"]
# NBVAL_CHECK_OUTPUT
claims = [
    {"artefact": "eq. (4), Fig. 1", "claim": "k ascent steps give the closed-form heatmap",
     "paper": "derived", "ours": f"max |closed - autograd| = {max_error:.1e}",
     "verdict": "reproduced" if max_error < 1e-10 else "not reproduced"},
    {"artefact": "eq. (1), sec. 2", "claim": "the ascent raises the CO score above h = x",
     "paper": "argued for a monotone sigma", "ours": f"min gain {gain.min():.4f} over {len(theta)} angles",
     "verdict": "reproduced" if (gain > 0).all() else "not reproduced"},
    {"artefact": "Fig. 1, sec. 2.1", "claim": "barely distinct classes: h ~ x at homogeneous rotations",
     "paper": "a1 = 0.55: h ~ x at ±π/4",
     "ours": f"a1 = {by_a1.a1.iloc[0]}: min |h - x| at {by_a1['theta of min |h - x| (units of pi)'].iloc[0]:+.2f}π",
     "verdict": "reproduced" if by_a1.homogeneous.iloc[0] else "not reproduced"},
    {"artefact": "Fig. 1, sec. 2.1", "claim": "less distinct classes give less prominent heatmaps",
     "paper": "qualitative", "ours": "max |h - x|: " + ", ".join(f"{v:.2f}" for v in by_a1["max |h - x|"]),
     "verdict": ("reproduced" if prominence_grows else "not reproduced") if len(a1_list) > 1 else "not comparable"},
]  # fmt: skip
settings = [
    ("model", "sigma(W^-1 x), W a rotation", "the same, sigma = logistic sigmoid"),
    ("samples", "a1 in {0.95, 0.7, 0.55}, theta in [-π, π]", f"a1 in {a1_list}, {len(theta)} angles"),
    ("ascent", "k·eta = 1.2 (eta applied twice in the plot code)", f"k·eta = {k_eta:g}, eta once (eq. 4 as printed)"),
]
verdicts = report.card("06_rotation_toy", settings, claims, out, seed=seed).verdict.value_counts()
print(verdicts.to_string())

# %% [markdown]
# ## Summary
#
# * In the rotation toy GAX's heatmap has a closed form {eq}`eq-toy-closed-form`, and autograd gradient ascent on
#   the same model reproduces it to float64 precision.
# * The GAX heatmap raises the CO score {eq}`eq-toy-co` above the uninformative $h = x$; how far it moves from the
#   input depends on how distinct the classes are and on the rotation (least at homogeneous rotations).
#
# ## Exercises
#
# ````{exercise-start}
# :label: ex-toy-1
# ````
# Re-run the first table with $a_1 \in \{0.99, 0.51\}$ and explain the limits $a_1 \to 1$ and $a_1 \to 1/2$ from
# the formula for $g$ in {eq}`eq-toy-closed-form`. *Time: 10 min.*
# ````{exercise-end}
# ````
#
# ````{solution-start} ex-toy-1
# :class: dropdown
# ````

# %% tags=["solution"]
# NBVAL_CHECK_OUTPUT
for a1_try in (0.99, 0.51):
    g_norm = np.linalg.norm(toy2d.ascent_direction(theta, a1_try), axis=1)
    print(f"a1 = {a1_try}: |g| from {g_norm.min():.3f} to {g_norm.max():.3f} over theta")

# %% [markdown]
# $g$ multiplies each component of $x$ by a row of $W^{-1}$ minus the other row; $x$ itself is $W(a_1, a_2)$. As
# $a_1 \to 1$ the sample is one pure class direction and $|g|$ stays large everywhere: the heatmap amplifies it. As
# $a_1 \to 1/2$ the sample lies on the decision boundary $a_1 = a_2$; $g$ does not vanish (it depends on $x$, not on
# $a_1 - a_2$), but $\Delta$ starts at 0, and the same ascent leaves the CO score small.
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
print("closed form with W^-1:", np.round(h_closed, 6), "autograd:", np.round(ascend_delta(shear, x_shear, 12, 0.1), 6))

# %% [markdown]
# They agree: $\Delta$ is linear in $w$ for *any* invertible $W$, so {eq}`eq-toy-closed-form` holds with $W^{-1}$
# computed as an inverse. What a shear changes is only the shortcut $W^{-1} = W^\top$ of a rotation.
# ````{solution-end}
# ````
#
# ````{exercise-start}
# :label: ex-toy-3
# ````
# Ascend the CO score {eq}`eq-toy-co` itself instead of $\Delta$. Why is the resulting heatmap no longer linear
# in $k\eta$? Compare the two at $\theta = \pi/8$, $a_1 = 0.7$. *Time: 20 min.*
# ````{exercise-end}
# ````
#
# ````{solution-start} ex-toy-3
# :class: dropdown
# ````

# %% tags=["solution"]
# NBVAL_CHECK_OUTPUT
t0, a1_0 = np.pi / 8, 0.7
x0 = torch.as_tensor(toy2d.sample(t0, a1_0), dtype=torch.float64)
w_inv0 = torch.as_tensor(toy2d.rotation(t0).T, dtype=torch.float64)
for k_total in (0.6, 1.2, 2.4):
    w = torch.ones(2, dtype=torch.float64, requires_grad=True)
    for _ in range(12):
        f = lambda z: torch.sigmoid(w_inv0 @ z)  # noqa: E731
        s = (f(x0 + w * x0) - f(x0)) @ torch.tensor([1.0, -1.0], dtype=torch.float64)
        (grad,) = torch.autograd.grad(s, w)
        w = (w + k_total / 12 * grad).detach().requires_grad_(True)
    h_co = (w * x0).detach().numpy()
    h_delta = toy2d.heatmap(t0, a1_0, k_total)
    print(f"k*eta = {k_total}: ascent on CO {np.round(h_co, 4)}, on Delta {np.round(h_delta, 4)}")

# %% [markdown]
# The gradient of the CO score passes through $\sigma'$, which depends on $w$: each step changes the next
# step's direction and size, so $h$ is not linear in $k\eta$ and differs most for large $k\eta$, where the sigmoid
# saturates. $\Delta$ removes $\sigma$ and with it the curvature.
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
# * **$\eta$ once, not twice.** The reference plotting code applies $\eta$ twice (an effective factor $\eta^2$).
#   We follow eq. (4) as printed: $h = (w + k\eta\, g) * x$ with one product $k\eta$.
# * **$\sigma$ is the logistic sigmoid**, and the CO score is computed from its definition {eq}`eq-toy-co`. The
#   paper's shortcut $\sigma(a_1) - \sigma(a_2) + \sigma(A) - \sigma(B)$ equals it only for a linear $\sigma$; it is
#   used there only to argue that raising $\Delta$ raises the score.
# * **The class** is $c = \arg\max(a_1, a_2)$, so $\kappa = (1, -1)$ for every $a_1 > 1/2$ used here.
# * **"Fades at homogeneous rotations"** is measured by where $|h - x|$ is smallest over $\theta$ (within
#   $0.02\pi$ of an odd multiple of $\pi/4$).
