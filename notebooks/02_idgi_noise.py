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
# (chapter-idgi-noise)=
# # IDGI: where the noise comes from
#
# ```{chapter-times}
# ```
#
# **What this chapter reproduces.** Section 3 of the IDGI paper {cite}`yang2023idgi`: why every {term}`Riemann step`
# of {term}`IG` {cite}`sundararajan2017ig` adds noise (Fig. 2, Theorem 1), the {term}`IDGI` rule that removes it, and
# its {term}`completeness` at any number of steps; then the qualitative comparison of Fig. 3 on our models: IG,
# {term}`Guided IG` {cite}`kapishnikov2021guidedig` and {term}`Blur IG` {cite}`xu2020blurig`, each with and without
# IDGI, with the paper's "less noise, more on the object" measured against ground-truth masks.
#
# **Learning objectives.** After this chapter you can
# 1. split one Riemann step of IG into its {term}`important direction` and its noise direction, and state
#    Theorem 1 {eq}`eq-thm1`;
# 2. compute IG {eq}`eq-ig` and IDGI {eq}`eq-idgi` on any path, and explain why IDGI is complete at every $N$;
# 3. compute {term}`attributions <attribution>` of your own model with IG, Guided IG and Blur IG, with and without
#    IDGI, in one call each.
#
# **Prerequisites.** Gradients and the chain rule; {doc}`01_embedded_benchmark` for the data and models.
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
profile = "book"  # smoke | book | paper: sets steps and numbers of images
system = None  # one system as JSON or a .json/.yaml file (dataset, model, weights, normalize, class_index, ...); overrides the five below
dataset = "shapes"  # an image dataset: shapes, digits, imagefolder:/abs/path (Blur IG needs images)
model = "vgg"  # vgg, resnet, vgg_sub, package.module:factory or /path/to/file.py:factory, torchvision:NAME
weights = None  # a state-dict file (required for factory and torchvision models)
normalize = "none"  # "none", "imagenet" or {"mean": [...], "std": [...]}: folded into the model
class_index = None  # model output of each class, when the model has more outputs than the dataset has classes
output = "probability"  # the attributed output: "probability" (the IDGI reference code) or "logit"
steps_sweep = "4,16,64,256"  # numbers of Riemann steps for the completeness study
blur_sweep = "100,400,1600"  # Blur IG step counts for its completeness study
seed = 0
device = "auto"
output_dir = "outputs/idgi_noise"

# %%
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch

import xai_lib
from xai_lib import params, report
from xai_lib.attribution import (
    IG,
    AnalyticModel,
    BlurIG,
    GuidedIG,
    VanillaGradient,
    curved_valley,
    step_decomposition,
    straight_line,
)
from xai_lib.metrics import saliency_2d
from xai_lib.models import batched_logits
from xai_lib.plotting import saliency_grid, save_figure, save_table
from xai_lib.systems import load_system, single

prof = xai_lib.get_profile(profile)
params.choice("output", output, ["probability", "logit"])
sweep = [int(n) for n in params.float_list("steps_sweep", steps_sweep, lo=1)]
blur_counts = [int(n) for n in params.float_list("blur_sweep", blur_sweep, lo=1)]
out = params.output_dir("output_dir", output_dir)
dev = xai_lib.setup(seed, device, profile=prof)
spec = single(system, dataset=dataset, model=model, weights=weights, normalize=normalize, class_index=class_index)
sys_ = load_system(spec, prof, seed, dev)
test = sys_.data("test")
if test.kind != "image":
    raise ValueError(f"dataset: this chapter needs images (Blur IG blurs them), {spec.dataset!r} is {test.kind}")
print(sys_.describe())

# %% [markdown]
# ## One Riemann step, two directions (paper Fig. 2)
#
# IG walks the straight line from the {term}`baseline` $x'$ to the input $x$ in $N$ steps and sums gradients:
#
# $$ \mathrm{IG}_i(x) = (x_i - x'_i)\,\frac{1}{N}\sum_{k=1}^{N} \frac{\partial f}{\partial x_i}\Big(x' + \tfrac{k}{N}(x - x')\Big). $$ (eq-ig)
#
# Take a smooth function of two inputs whose level sets bend across the path from $x' = (0, 0)$ to $x = (1, 1)$. At
# step $j$ IG multiplies the gradient $g_j = \nabla f(x_j)$ by the step $x_{j+1} - x_j$. The output change of the
# step would be reached just as well by moving along $g_j$ itself, the important direction, to
#
# $$ x^{*}_{j+1} = x_j + \frac{f(x_{j+1}) - f(x_j)}{\lVert g_j\rVert^2}\, g_j, \qquad f(x^{*}_{j+1}) \approx f(x_{j+1}) $$ (eq-thm1)
#
# (Theorem 1: $x^{*}_{j+1}$ lies on the level set of $x_{j+1}$ to first order). What is left, $x_{j+1} - x^{*}_{j+1}$,
# runs along the level set: the **noise direction**. It changes nothing in $f$, yet IG integrates it. IDGI keeps only
# the important part:
#
# $$ \mathrm{IDGI}_i(x) = \sum_{j=0}^{N-1} \frac{g_{j,i}^2}{\lVert g_j\rVert^2}\,\big(f(x_{j+1}) - f(x_j)\big), $$ (eq-idgi)
#
# whose terms sum to $f(x_{j+1}) - f(x_j)$ step by step: the attribution sums to $f(x) - f(x')$ for **any** path and
# any $N$.

# %% tags=["hide-input"]
toy = AnalyticModel(curved_valley)
toy_ig = IG(toy, "logit")
n_toy = 4
x_in, x_base = torch.tensor([[1.0, 1.0]]), torch.zeros(1, 2)
path = straight_line(x_in, x_base, torch.arange(n_toy + 1, dtype=torch.float64) / n_toy)[:, 0]
f_path, g_path = toy_ig.grad_fn(path, torch.zeros(n_toy + 1, dtype=torch.long))
grid = torch.linspace(-0.1, 1.15, 200)
gx, gy = torch.meshgrid(grid, grid, indexing="xy")
levels = curved_valley(torch.stack([gx.flatten(), gy.flatten()], 1)).reshape(gx.shape)
decomposed = [step_decomposition(path[j], path[j + 1], g_path[j], float(f_path[j]), float(f_path[j + 1]))
              for j in range(n_toy)]  # fmt: skip
step = max(range(n_toy), key=lambda j: float(decomposed[j]["noise"].norm()))  # draw the noisiest step
fig, ax = plt.subplots(figsize=(5.2, 5))
ax.contour(gx, gy, levels, levels=18, cmap="Greys", linewidths=0.7)
ax.plot(path[:, 0], path[:, 1], "o-", color="0.3", ms=3, label="IG path")
p0, p1, proj = path[step].numpy(), path[step + 1].numpy(), decomposed[step]["projection"].numpy()
for a, b, colour, ls in ((p0, p1, "tab:blue", "-"), (p0, proj, "tab:green", "-"), (proj, p1, "tab:red", "--")):
    ax.annotate("", xy=b, xytext=a, arrowprops={"arrowstyle": "->", "color": colour, "lw": 2, "ls": ls})
ax.plot([], [], color="tab:blue", label="original direction $x_{j+1} - x_j$")
ax.plot([], [], color="tab:green", label="important direction (along $g_j$)")
ax.plot([], [], color="tab:red", ls="--", label="noise direction")
ax.set_xlabel("$x_1$")
ax.set_ylabel("$x_2$")
ax.set_aspect("equal")
ax.legend(fontsize=7, loc="lower right")
ax.set_title(f"level sets of f; step {step} of {n_toy} decomposed")
save_figure(fig, out / "fig2_directions.png")
plt.show()

# %%
# NBVAL_CHECK_OUTPUT
rows = []
for n in (2, 6, 50, 1000):
    ig_attr = toy_ig.attribute(x_in, 0, n_steps=n)
    idgi_attr = toy_ig.attribute(x_in, 0, n_steps=n, idgi=True)
    rows.append({"N": n, "IG": str(np.round(ig_attr[0].double().numpy(), 4).tolist()), "IG sum": float(ig_attr.sum()),
                 "IDGI": str(np.round(idgi_attr[0].double().numpy(), 4).tolist()), "IDGI sum": float(idgi_attr.sum())})  # fmt: skip
toy_table = pd.DataFrame(rows)
save_table(toy_table, out / "toy_attributions.csv")
report.glue("toy_delta", float(toy(x_in)[0, 0] - toy(x_base)[0, 0]))
report.glue("toy_ig_n2", toy_table["IG sum"].iloc[0])
report.show(toy_table, "{:.4f}")

# %% [markdown]
# $f(x) - f(x')$ = {glue:text}`toy_delta:.4f`. IDGI's sum equals it at every $N$, already at $N = 2$, where IG's sum is
# {glue:text}`toy_ig_n2:.4f`; IG reaches it only as $N$ grows. The two attributions differ even at $N = 1000$: IDGI is a
# different path integral (of the gradient field along its own important directions), not a faster-converging IG.
#
# ## Completeness on the model
#
# The same check on the system's images: for each method, the completeness error
# $\sum_i \text{attr}_i - (f(x) - f(x'))$ (with $x'$ the black image, and for Blur IG the most blurred image), averaged
# over images. IDGI skips a step whose gradient is exactly zero (it has no direction); the output change of such
# steps is reported as "lost" and added back in the check. Each method and its IDGI version come from one pass over
# the path (`attribute_with_idgi`): the same path points serve both, at about half the cost of two calls.

# %%
# NBVAL_CHECK_OUTPUT
images = test.inputs[: prof.idgi_images].to(dev)
targets = batched_logits(sys_.model, images).argmax(1).to(dev)  # explain the predicted class
methods = {
    "IG": IG(sys_.model, output),
    "Guided IG": GuidedIG(sys_.model, output),
    "Blur IG": BlurIG(sys_.model, output),
}
rows, pairs = [], {}  # pairs[name, n]: (base, base + IDGI), both from one pass over the path
for name, method in methods.items():
    counts = sweep if name == "IG" else (prof.idgi_steps,) if name == "Guided IG" else blur_counts
    ref = method.reference(images) if name == "Blur IG" else torch.zeros_like(images)
    delta = method.forward_outputs(images, targets) - method.forward_outputs(ref, targets)
    for n in counts:
        pairs[name, n] = method.attribute_with_idgi(images, targets, n_steps=n)
        for use_idgi, attr in zip((False, True), pairs[name, n], strict=True):
            lost = method.last_report["lost"] if use_idgi else torch.zeros_like(delta)
            err = (attr.flatten(1).sum(1) + lost - delta).abs()
            skipped = int(method.last_report["skipped_steps"].sum()) if use_idgi else 0
            rows.append({"method": name + (" + IDGI" if use_idgi else ""), "steps": n, "mean |error|": float(err.mean()),
                         "max |error|": float(err.max()), "mean |f(x) - f(x')|": float(delta.abs().mean()),
                         "steps skipped": skipped})  # fmt: skip
completeness = pd.DataFrame(rows)
save_table(completeness, out / "completeness.csv")
idgi_rows = completeness[completeness.method.str.contains("IDGI")]
base_rows = completeness[~completeness.method.str.contains("IDGI")]
ig_rows = completeness[completeness.method == "IG"]
blur_rows = completeness[completeness.method == "Blur IG"]
report.glue("idgi_max_error", idgi_rows["max |error|"].max())
report.glue("ig_error_first", ig_rows["mean |error|"].iloc[0])
report.glue("ig_error_last", ig_rows["mean |error|"].iloc[-1])
report.glue("ig_steps_first", int(ig_rows.steps.iloc[0]))
report.glue("ig_steps_last", int(ig_rows.steps.iloc[-1]))
report.glue("blur_error_first", blur_rows["mean |error|"].iloc[0])
report.glue("blur_delta", blur_rows["mean |f(x) - f(x')|"].iloc[0])
report.glue("blur_steps_first", int(blur_rows.steps.iloc[0]))
report.glue("blur_error_last", blur_rows["mean |error|"].iloc[-1])
report.glue("blur_steps_last", int(blur_rows.steps.iloc[-1]))
ig_converges = bool(ig_rows["mean |error|"].is_monotonic_decreasing)
report.phrase("ig_direction", ig_converges, "falls steadily", "does not fall steadily")
report.phrase("blur_vs_delta", bool(blur_rows["mean |error|"].iloc[0] > blur_rows["mean |f(x) - f(x')|"].iloc[0]),
              "larger than", "smaller than")  # fmt: skip
report.show(completeness, {"mean |error|": "{:.1e}", "max |error|": "{:.1e}", "mean |f(x) - f(x')|": "{:.3f}"})

# %% [markdown]
# IDGI is exact on all three paths: its largest error is {glue:text}`idgi_max_error:.1e`, float32 round-off. IG's mean
# error {glue:text}`ig_direction` with $N$, from {glue:text}`ig_error_first:.1e` at {glue:text}`ig_steps_first` steps to
# {glue:text}`ig_error_last:.1e` at {glue:text}`ig_steps_last`. Blur IG's error with PAIR's default schedule
# ({glue:text}`blur_steps_first` steps up to $\sigma$ = 50) is {glue:text}`blur_error_first:.2f`, {glue:text}`blur_vs_delta`
# the output change {glue:text}`blur_delta:.2f` it should explain: on small images most of that change happens at small
# $\sigma$, where one step of the uniform $\sigma$ grid already blurs the shapes away, and the left-point Riemann sum
# misses it. At {glue:text}`blur_steps_last` steps it is {glue:text}`blur_error_last:.3f`. IDGI fixes the sum exactly at
# every step count, whatever the grid.

# %% tags=["hide-input"]
fig, ax = plt.subplots(figsize=(6, 3.5))
for name, style in [("IG", "o-"), ("IG + IDGI", "s--"), ("Blur IG", "^-"), ("Blur IG + IDGI", "v--")]:
    part = completeness[completeness.method == name]
    ax.loglog(part.steps, part["mean |error|"].clip(lower=1e-9), style, label=name)
ax.set_xlabel("Riemann steps N")
ax.set_ylabel("mean |completeness error|")
ax.set_title("IG and Blur IG converge; IDGI is exact at every N")
ax.legend(fontsize=8)
save_figure(fig, out / "completeness_vs_steps.png")
plt.show()

# %% [markdown]
# ## The maps (paper Fig. 3), and is IDGI's noise really off the object?
#
# The same images through every method, with and without IDGI, plus the vanilla gradient ({term}`VG`). Each map is
# $|\sum_c \text{attr}_c|$ clipped at its 99th percentile. The paper judges Fig. 3 by eye ("more concentrated on the
# object, less noise elsewhere"); where the data has object masks we measure it: the share of each map's mass
# $|\sum_c \text{attr}_c|$ that falls on the object, against the object's share of the image.

# %% tags=["hide-input"]
show = images[: min(prof.n_show, 4)]
show_t = targets[: len(show)]
maps = {}
for name, method in methods.items():
    n = prof.blur_steps if name == "Blur IG" else prof.idgi_steps
    maps[name], maps[name + "\n+ IDGI"] = (a.cpu() for a in method.attribute_with_idgi(show, show_t, n_steps=n))
maps["VG"] = VanillaGradient(sys_.model, output).attribute(show, show_t).cpu()
fig = saliency_grid(show.cpu(), maps)
save_figure(fig, out / "fig3_maps.png")
plt.show()

# %%
# NBVAL_CHECK_OUTPUT
object_mask = test.extra_masks.get("object", test.masks)
mass_rows = []
if object_mask is not None:
    obj = object_mask[: len(images)].to(dev)
    for name, method in methods.items():
        n = prof.blur_steps if name == "Blur IG" else prof.idgi_steps
        base, with_idgi = pairs.get((name, n)) or method.attribute_with_idgi(images, targets, n_steps=n)
        for label, attr in ((name, base), (name + " + IDGI", with_idgi)):
            mass = saliency_2d(attr, absolute=True)
            share = (mass * obj).flatten(1).sum(1) / mass.flatten(1).sum(1).clamp_min(1e-30)
            mass_rows.append({"method": label, "mass on object": float(share.mean()),
                              "object share of image": float(obj.float().mean())})  # fmt: skip
mass_table = pd.DataFrame(mass_rows, columns=["method", "mass on object", "object share of image"])
save_table(mass_table, out / "mass_on_object.csv")
if len(mass_table):
    gains = {m: mass_table.set_index("method").loc[m + " + IDGI", "mass on object"]
             - mass_table.set_index("method").loc[m, "mass on object"] for m in methods}  # fmt: skip
    n_more = sum(g > 0 for g in gains.values())
    report.glue("n_more_on_object", n_more)
    report.glue("object_share", mass_table["object share of image"].iloc[0])
    report.show(mass_table)
else:
    gains, n_more = {}, 0
    report.glue("n_more_on_object", "none (no object masks)")
    report.glue("object_share", float("nan"))
    print("no object masks for this dataset: the mass-on-object check is skipped")

# %% [markdown]
# IDGI puts more of the map's mass on the object than its base method for {glue:text}`n_more_on_object` of the three
# base methods (the object covers {glue:text}`object_share:.2f` of an image on average). The tables chapter
# ({doc}`03_idgi_tables`) measures the claim with the paper's own metrics.

# %% tags=["hide-input"]
# NBVAL_CHECK_OUTPUT
claims = [
    {"artefact": "sec. 3.3", "claim": "IDGI is complete at any number of steps",
     "paper": "proved", "ours": f"max |error| {idgi_rows['max |error|'].max():.1e} (IG, Guided IG, Blur IG)",
     "verdict": "reproduced" if idgi_rows["max |error|"].max() < 1e-4 else "not reproduced"},
    {"artefact": "sec. 2.2", "claim": "IG's Riemann sum is complete only as N grows",
     "paper": "stated", "ours": " > ".join(f"{v:.1e}" for v in ig_rows["mean |error|"]),
     "verdict": "reproduced" if ig_converges else "not reproduced"},
    {"artefact": "Fig. 2, Thm. 1", "claim": "a step's noise direction does not change f (to first order)",
     "paper": "proved", "ours": "drawn on a 2D function",
     "verdict": "not comparable"},
    {"artefact": "Fig. 3", "claim": "IDGI's maps are more concentrated on the object",
     "paper": "by eye (one image)", "ours": f"more mass on the object for {n_more} of {len(gains)} base methods",
     "verdict": report.verdict(n_more, len(gains))},
]  # fmt: skip
settings = [
    ("models", "11 ImageNet CNNs (TensorFlow)", f"{sys_.name}"),
    ("images", "ImageNet validation (Fig. 3: one image)", f"{len(images)} test images, predicted class explained"),
    ("steps", "200 (IG, Guided IG); Blur IG PAIR's default", f"IG {sweep}; Guided IG {prof.idgi_steps}; Blur IG {blur_counts}"),
    ("attributed output", "softmax probability (reference code)", output),
]  # fmt: skip
print(report.card("02_idgi_noise", settings, claims, out).verdict.value_counts().to_string())

# %% [markdown]
# ## Use it on your model
#
# Every method is one call on any module mapping `(B, *F)` to `(B, C)`, with captum's argument names
# {cite}`kokhlikyan2020captum`:
#
# ```python
# import xai_lib
# system = xai_lib.load_system(xai_lib.systems.parse_system("my_system.json"))
# ig = xai_lib.IG(system.model, output="probability")
# attr = ig.attribute(images, target=labels, n_steps=200, idgi=True)   # shaped like images
# base, with_idgi = ig.attribute_with_idgi(images, target=labels, n_steps=200)  # both from one pass
# gig = xai_lib.GuidedIG(system.model).attribute(images, target=labels, idgi=True, fraction=0.25, max_dist=0.02)
# blur = xai_lib.BlurIG(system.model).attribute(images, target=labels, idgi=True, max_sigma=50.0, grad_step=0.01)
# errors = ig.completeness_error(images, attr, target=labels)          # sum(attr) - (f(x) - f(x'))
# ```
#
# Or re-run this chapter on it: `papermill notebooks/02_idgi_noise.ipynb out.ipynb --cwd notebooks -p system
# my_system.json` (see {doc}`../book/how_to_run`). The number of model evaluations per call is calibrated on your
# model and device (`internal_batch_size="auto"`); an int fixes it.
#
# ## Summary
#
# * Each IG step multiplies the gradient by a step that is mostly *not* along the gradient; the part along the level
#   set explains no change of the output and is the noise IDGI removes ({eq}`eq-thm1`, {eq}`eq-idgi`).
# * IDGI is complete at every number of steps on every path, where IG, Guided IG and Blur IG only approach
#   completeness as the steps grow; its cost is one extra forward pass.
#
# ## Exercises
#
# ````{exercise-start}
# :label: ex-noise-1
# ````
# The 2D figure draws the step with the largest noise component. Print the size of the noise and the angle between
# the step and the gradient for every step: where is the noise small, and why there? *Time: 15 min.*
# ````{exercise-end}
# ````
#
# ````{solution-start} ex-noise-1
# :class: dropdown
# ````

# %% tags=["solution"]
# NBVAL_CHECK_OUTPUT
for j, part in enumerate(decomposed):
    move = path[j + 1] - path[j]
    cos = float(move @ g_path[j] / (move.norm() * g_path[j].norm()))
    print(
        f"step {j}: |noise| = {float(part['noise'].norm()):.3f}, angle(step, gradient) = {np.degrees(np.arccos(cos)):.0f} deg"
    )

# %% [markdown]
# The noise is small where the path runs along the gradient (small angle) and large where it crosses the level
# sets obliquely: there most of the step moves along a level set, which changes nothing in $f$.
# ````{solution-end}
# ````
#
# ````{exercise-start}
# :label: ex-noise-2
# ````
# Attribute the logit instead of the probability (`output="logit"`). Which completeness errors change, and why does
# IDGI not care? *Time: 10 min.*
# ````{exercise-end}
# ````
#
# ````{solution-start} ex-noise-2
# :class: dropdown
# ````

# %% tags=["solution"]
# NBVAL_CHECK_OUTPUT
logit_ig = IG(sys_.model, "logit")
few = images[:4]
delta_logit = logit_ig.forward_outputs(few, targets[:4]) - logit_ig.forward_outputs(torch.zeros_like(few), targets[:4])
for use_idgi in (False, True):
    err = logit_ig.completeness_error(few, logit_ig.attribute(few, targets[:4], n_steps=16, idgi=use_idgi), targets[:4])
    print(f"logit, 16 steps, {'IDGI' if use_idgi else 'IG  '}: mean |error| {float(err.abs().mean()):.1e} "
          f"(|f(x) - f(x')| {float(delta_logit.abs().mean()):.2f})")  # fmt: skip

# %% [markdown]
# IG's error scales with the output and its curvature along the path: logits are larger and less saturated than
# probabilities, so the error in absolute terms changes. IDGI's sum telescopes for whatever $f$ is, so it stays at
# round-off.
# ````{solution-end}
# ````
#
# ````{exercise-start}
# :label: ex-noise-3
# ````
# With a zero baseline and a ReLU network, when is the gradient at the baseline exactly zero? Look at the column
# "steps skipped" and explain what IDGI loses there. *Time: 10 min.*
# ````{exercise-end}
# ````
#
# ````{solution-start} ex-noise-3
# :class: dropdown
# ````

# %% tags=["solution"]
# NBVAL_CHECK_OUTPUT
_, g0 = IG(sys_.model, output).grad_fn(torch.zeros_like(images[:4]), targets[:4])
print(
    "gradient at the black image: max |g| per image", [f"{v:.1e}" for v in g0.flatten(1).abs().max(1).values.tolist()]
)
print("IDGI steps skipped over the whole table:", int(idgi_rows["steps skipped"].sum()))

# %% [markdown]
# At the black image every pre-activation of the first layer equals its bias; if all the ReLUs a path depends on are
# off there, the gradient is exactly zero. Such a step has no direction, so IDGI skips it and reports the output
# change it carried as "lost" (the reference code divides by zero). With biases and BatchNorm, as here, the gradient
# at the baseline is rarely exactly zero.
# ````{solution-end}
# ````
#
# ## Resources
#
# * The IDGI paper {cite}`yang2023idgi` and its reference code {cite}`yang2023idgicode`; PAIR saliency's Guided IG
#   and Blur IG {cite}`pair2022saliency`, which the benchmarks compare ours with.
# * {doc}`03_idgi_tables` reproduces the paper's quantitative tables.
#
# ## Implementation notes
#
# * **The IDGI rule**: gradients at path points $0..N-1$, outputs at $0..N$; one extra forward pass at the input
#   closes the last interval. The paper's text lost its equations; {eq}`eq-idgi` is the rule of the reference code.
# * **Wiring.** IG: IDGI on $x' + (j/N)(x - x')$, $j = 0..N$; plain IG uses a right Riemann sum (as captum's
#   `riemann_right`). Guided IG: one gradient per step at the step's start, on Guided IG's own path. Blur IG: the path
#   runs from the most blurred image ($\sigma = 50$) to the input, the reverse of PAIR's order.
# * **Zero gradients.** A step whose gradient is zero everywhere is skipped and its output change reported as lost.
# * **Output.** The chapter attributes the softmax probability of the predicted class (the reference code's choice);
#   `output="logit"` is a parameter.
# * **Blur.** A Gaussian blur with zero padding is applied as two banded matrices (exact, and cheaper than a long
#   convolution at large $\sigma$), with scipy's truncation radius; the derivative in $\sigma$ shares one radius
#   between its two blurs, so the radius cannot jump inside the finite difference (on PAIR's schedule the two radii
#   agree and the derivative is exactly PAIR's).
# * **Mass on the object** uses $|\sum_c \text{attr}_c|$ and the object mask (for `shapes`, the visible object).
