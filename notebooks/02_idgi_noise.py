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
# IDGI, with the paper's by-eye reading of its Fig. 3 (sec. 4.2: the relevant pixels more concentrated on the object,
# less noise elsewhere) measured against ground-truth masks.
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

# %% [markdown] tags=["instructor"]
# ````{admonition} Instructor notes
# :class: dropdown
# **Learning objectives in practice.**
# * Split one Riemann step into its important and noise parts by hand (Theorem 1's projection) and say why the noise
#   part changes $f$ only beyond first order.
# * Compute IG and IDGI on the same path in one call, check the completeness of each, and tell Riemann error from
#   round-off.
# * Read the mass-on-object and JPEG tables as paired tests: what the verdict and the p-value each say, and the
#   interval where the table gives one (the mass table).
#
# **Common misconceptions.**
# 1. "IDGI changes the path." It keeps every path point of its base method and changes only how each step's output
#    change is shared among the features: $g_{j,i}^2 / \lVert g_j \rVert^2$ of it instead of a gradient times the
#    step, $\partial_i f\,(x_{j+1,i} - x_{j,i})$ (IG's gradient taken at the step's end). *Exposed by*: section "One Riemann step, two directions" (the decomposed step
#    keeps both its ends) and the completeness cell, where `attribute_with_idgi` computes both maps from one pass over
#    the same path points.
# 2. "IDGI is a faster-converging IG: with enough steps the two agree." *Exposed by*: the toy table after the Fig. 2
#    drawing and exercise `ex-noise-predict`: the sums agree, the attributions need not ({glue:text}`toy_limit`).
# 3. "IDGI's exact completeness is evidence that its maps are better." *Exposed by*: section "Completeness on the
#    model" and the card's row for sec. 3.3, whose test can only give *by construction* or *not reproduced*: the sum telescopes whatever the
#    gradients are, so it checks the implementation only; section "Tiny gradients" explains how a complete map can
#    still spend an output change along rounding noise.
#
# **Discussion prompts.**
# 1. {glue:text}`blur_caveat` What does a verdict on Blur IG + IDGI against Blur IG then measure? *Expected answer*:
#    {glue:text}`blur_caveat_answer`.
# 2. Why can the TMLR study's sum-normalised MSE favour one kind of map? *Expected answer*: it divides each map by its
#    own sum; a map whose signs cancel has a small sum against its L1 norm and scores high however little it moves.
#    Within one step IDGI gives every feature the sign of that step's output change, so its map cancels only where
#    the output falls along part of the path. Read the cancellation columns beside the measure:
#    {glue:text}`cancellation_sentence`
# 3. Where can IDGI be less stable than IG, although it removes "noise"? *Expected answer*: at steps with a tiny
#    gradient, whose direction is rounding: IDGI divides by $\lVert g_j \rVert^2$, IG multiplies the gradient by the
#    step. Read the tiny-gradient table, then the rounding table: on this system the IDGI map
#    {glue:text}`idgi_vs_ig_rounding`.
#
# **What to project.**
# 1. `fig2_directions.png`: one step, its important and noise directions.
# 2. The toy table (`toy_attributions.csv`): IDGI's sum is the output change at every N, IG's only in the limit.
# 3. `completeness_vs_steps.png`: Riemann error against round-off.
# 4. `fig3_maps.png`, then the mass-on-object table (`mass_on_object.csv`): the paper's by-eye claim as a paired test.
# 5. The JPEG table (`tmlr_jpeg.csv`) with its cancellation columns.
# 6. The reproduction card at the top of the chapter, with its `test` column.
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
profile = "book"  # smoke | class | book | paper: sets steps and numbers of images
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
import numpy as np
import torch

import xai_lib
from xai_lib import params, report, teaching
from xai_lib.attribution import IG
from xai_lib.experiments import conditioning
from xai_lib.experiments import idgi_noise as noise
from xai_lib.models import batched_logits
from xai_lib.plotting import save_table
from xai_lib.systems import load_system, single

prof = xai_lib.get_profile(profile)
params.choice("output", output, ["probability", "logit"])
sweep = params.step_sweep("steps_sweep", steps_sweep)  # sorted, at least two counts
blur_counts = params.step_sweep("blur_sweep", blur_sweep)
out = params.output_dir("output_dir", output_dir)
dev = xai_lib.setup(seed, device, profile=prof)
spec = single(system, dataset=dataset, model=model, weights=weights, normalize=normalize, class_index=class_index)
sys_ = load_system(spec, prof, seed, dev)
# the book's own run (its defaults at a profile that computes as `book`): the solutions pin their answers there
book_run = (xai_lib.computes_as_book(prof) and seed == 0 and system is None and dataset == "shapes" and model == "vgg"
            and weights is None and normalize == "none" and class_index is None and output == "probability"
            and steps_sweep == "4,16,64,256" and blur_sweep == "100,400,1600")  # fmt: skip
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
# step $j$ IG multiplies a gradient by the step $x_{j+1} - x_j$: {eq}`eq-ig` takes it at the step's end, $x_{j+1}$
# (a right Riemann sum). Take it instead at the step's start, $g_j = \nabla f(x_j)$, as IDGI does. The output change
# of the step would be reached just as well by moving along $g_j$ itself, the important direction, to
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
# NBVAL_CHECK_OUTPUT
# Theorem 1 is first order: the point reached along g_j misses the level set of x_{j+1} by O(step^2) against a step
# change of O(step), so the drawing uses a step count at which the miss is below the step's own change
thm1 = noise.theorem1_study()
save_table(thm1.table, out / "theorem1_first_order.csv")
report.glue_all("", {"coarse_n": thm1.steps[0]["N"], "thm1_sentence": thm1.sentence})
# the coarse path (the table's first row) is the one of the exercises below
path, f_path, g_path, decomposed = (thm1.steps[0][k] for k in ("path", "f", "g", "all"))
noise.draw_theorem1(thm1.steps[1], out / "fig2_directions.png")
report.show(thm1.table, {"f(x_{j+1}) - f(x_j)": "{:.4f}", "f(x*_{j+1}) - f(x_{j+1})": "{:.4f}",
                         "miss / step change": "{:.2f}"})  # fmt: skip

# %% [markdown]
# {glue:text}`thm1_sentence`

# %% [markdown]
# ````{exercise-start}
# :label: ex-noise-predict
# ````
# **Predict first.** The cell below attributes $f(x) - f(x')$ on the 2D function above with IG and with IDGI, on the
# same straight path, at a growing number of steps $N$. IG's Riemann sum converges to a path integral as $N$ grows.
# At the largest $N$ of the table, will the two attributions agree (is IDGI a faster-converging IG), or will they stay
# apart? If apart, which of the two inputs will IDGI credit more than IG does? *Time: 5 min.*
# ````{exercise-end}
# ````

# %% tags=["answers-prediction"]
# NBVAL_CHECK_OUTPUT
toy_table, toy_glue, toy_apart = noise.toy_table()
save_table(toy_table, out / "toy_attributions.csv")
report.glue_all("", toy_glue)  # the prediction's answer (ex-noise-predict): the two attributions at the largest N
report.show(toy_table, "{:.4f}")

# %% [markdown]
# $f(x) - f(x')$ = {glue:text}`toy_delta:.4f`. IDGI's sum equals it at every $N$, already at $N = 2$, where IG's sum is
# {glue:text}`toy_ig_n2:.4f`; IG reaches it only as $N$ grows. The two attributions differ even at $N =$
# {glue:text}`toy_n_last` (asserted in exercise `ex-noise-predict`'s solution: the toy is fixed): IDGI is a
# different path integral (of the gradient field along its own important directions), not a faster-converging IG.

# %% [markdown]
# ````{solution-start} ex-noise-predict
# :class: dropdown
# ````
# {glue:text}`toy_limit` Why: on the path $\gamma(t) = x' + t(x - x')$, as $N$ grows, IG's sum tends to
# $\int_0^1 (x_i - x'_i)\,\partial_i f(\gamma(t))\,dt$, each feature credited with the gradient times the path's own
# movement along it. IDGI's sum tends to
# $\int_0^1 \frac{(\partial_i f)^2}{\lVert \nabla f \rVert^2}\,\frac{d f(\gamma(t))}{dt}\,dt$: each bit of output
# change is shared by the squared gradient components, whatever the path's direction. The two integrands agree only
# where the path runs along the gradient. On this function the straight path crosses the level sets at an angle (the
# figure), so the limits differ, while both sums equal $f(x) - f(x')$. IDGI is another attribution along the same
# path, not a faster route to IG's.

# %% tags=["solution"]
# the glued statement against more steps: at four times the table's largest N the gap must be what the text says
gap, ig_miss, credits_more = noise.toy_gap(toy_glue["toy_n_last"])
gap_more, ig_miss_more, credits_more_4x = noise.toy_gap(4 * toy_glue["toy_n_last"])
assert toy_apart == (gap_more > 10 * ig_miss_more), (gap, gap_more)
assert credits_more == credits_more_4x or not toy_apart
# the toy function is fixed, so this is a fact of it on every machine: IDGI's limit is not IG's
assert toy_apart, (gap, ig_miss)

# %% [markdown]
# ````{solution-end}
# ````

# %% [markdown]
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
methods = {name: method(sys_.model, output) for name, method in conditioning.METHODS.items()}  # IG, Guided IG, Blur IG
maps = noise.Maps(methods, images, targets, prof)  # base and IDGI maps per (method, steps), each computed once
completeness = noise.completeness_table(maps, sweep, blur_counts)
save_table(completeness, out / "completeness.csv")
# each base map's Riemann error at the steps the maps use: from CONFOUNDED_FROM of its output change up, a comparison
# of IDGI with it is one with discretisation error, and the verdicts below do not count it
riemann = noise.riemann_table(maps)
save_table(riemann, out / "base_maps_riemann_error.csv")
confounded = noise.confounded_methods(riemann)
reading = noise.completeness_reading(completeness)
report.glue_all("", noise.completeness_glue(completeness, riemann, reading, prof))
report.show(completeness, {"mean |error|": lambda v: report.roundoff(v, reading.roundoff_bound),
                           "max |error|": lambda v: report.roundoff(v, reading.roundoff_bound),
                           "mean |f(x) - f(x')|": "{:.3f}"})  # fmt: skip

# %% [markdown]
# IDGI {glue:text}`idgi_complete` {glue:text}`idgi_max_error`. (Errors below $10^{-5} \max(1, m)$, with $m$ the
# table's largest mean $|f(x) - f(x')|$, are float {term}`round-off`, shown as such: their digits differ from CPU to CPU.) IG's mean error {glue:text}`ig_direction` with
# $N$, from {glue:text}`ig_error_first:.1e` at {glue:text}`ig_steps_first` steps to {glue:text}`ig_error_last:.1e` at
# {glue:text}`ig_steps_last`. Blur IG's error with the sweep's first schedule ({glue:text}`blur_steps_first` steps up to
# $\sigma$ = 50) is {glue:text}`blur_error_first:.2f`, {glue:text}`blur_vs_delta` ({glue:text}`blur_delta:.2f`). It
# {glue:text}`blur_direction` as the steps grow: at {glue:text}`blur_steps_last` steps it is
# {glue:text}`blur_error_last:.3f`. IDGI's sum telescopes at every step count, whatever the grid.

# %% tags=["hide-input"]
noise.plot_completeness(completeness, reading, out / "completeness_vs_steps.png")

# %% [markdown]
# ## The maps (paper Fig. 3), and is IDGI's noise really off the object?
#
# The same images through every method, with and without IDGI, plus the vanilla gradient ({term}`VG`). Each map is
# $|\sum_c \text{attr}_c|$ clipped at its 99th percentile. The paper judges Fig. 3 by eye: with IDGI "the relevant
# pixels are more concentrated in the bison region of the original image. Also, the noises are less in other
# regions." (sec. 4.2). Where the data has object masks we measure it, with the object in place of the bison: the
# share of each map's mass $|\sum_c \text{attr}_c|$ that falls on the object, against the object's share of the
# image. The maps use the chapter's step counts (IG and Guided IG {glue:text}`maps_steps`, Blur IG
# {glue:text}`blur_used_steps`). {glue:text}`blur_caveat`

# %% tags=["hide-input"]
noise.plot_maps(maps, sys_.model, output, prof.n_show, out / "fig3_maps.png")

# %%
# NBVAL_CHECK_OUTPUT
object_mask = test.extra_masks.get("object", test.masks)
mass_table = noise.mass_on_object(maps, object_mask, prof.n_boot, seed)
save_table(mass_table, out / "mass_on_object.csv")
report.glue("mass_sentence", noise.mass_sentence(mass_table, object_mask, len(images), confounded))
report.show(mass_table, {**dict.fromkeys(["mass on object", "+ IDGI", "difference", "CI low", "CI high"], "{:.2f}"),
                         "p": "{:.2g}"})  # fmt: skip

# %% [markdown]
# {glue:text}`mass_sentence` The tables chapter ({doc}`03_idgi_tables`) measures the claim with the paper's own metrics.
#
# ## Tiny gradients: how far rounding moves an IDGI map
#
# IDGI spends each step's output change along the gradient's direction $g_j^2 / \lVert g_j \rVert^2$, so that
# direction is only as good as the gradient. A gradient computed in floating point carries an error of the size of the
# larger gradients computed beside it: at a saturated softmax, $\partial p / \partial x$ is proportional to $1 - p$,
# which float32 knows only to about $10^{-7}$. Where $\lVert g_j \rVert$ is tiny, the step's direction is rounding
# noise. Precisely (L2 norms): moving a gradient by $\delta_j$ moves the step's weights by at most
# $\min(2, 4 \lVert \delta_j \rVert / \lVert g_j \rVert)$ in L1, so two computations of IDGI on the same path
# points (IG's and Blur IG's paths; Guided IG's path itself depends on the gradients), without the guard below, with
# output changes $\Delta f_j = f(x_{j+1}) - f(x_j)$ and $\Delta f'_j$, differ by at most
#
# $$ \lVert \mathrm{IDGI} - \mathrm{IDGI}' \rVert_1 \le \sum_{j} \big|f(x_{j+1}) - f(x_j)\big|
#    \min\Big(2, \frac{4 \lVert \delta_j \rVert}{\lVert g_j \rVert}\Big) + \sum_j \big|\Delta f_j - \Delta f'_j\big| $$ (eq-idgi-condition)
#
# IG multiplies each gradient by the step instead, so its error stays proportional to the gradient's. Two questions:
# where are the tiny gradients on this system's paths, and how far do the maps actually move? The first table counts
# the IG-path steps (black image to input, the chapter's step count) whose squared gradient norm is below a share
# $\tau$ of the path's largest (compared per power of two, as the library's guard compares them: every step below
# $\tau/4$ counts, none at or above $\tau$), and the
# output change they carry: in all, and the largest share of one image's $|f(x) - f(x')|$. The paths are computed in
# float64, where these norms and changes are exact to many digits.

# %%
# NBVAL_CHECK_OUTPUT
guard = noise.GUARD  # (float32 rounding / 1%)^2: below it, a gradient's direction is known to worse than 1%
f64 = conditioning.ig_maps(sys_.model, images, targets, prof.idgi_steps, output, torch.float64, (0.0, guard))
steps_table = conditioning.tiny_steps(f64["step_norms"], f64["output_changes"], (1e-4, 1e-6, 1e-8, guard, 1e-12))
at_guard = steps_table.set_index("threshold").loc[guard]
torch.testing.assert_close(  # IDGI's guard skips exactly these steps: what it reports lost is their output change
    torch.tensor(at_guard["lost per image"], dtype=torch.float64), f64[f"lost, tau={guard:g}"]
)
steps_table = steps_table.drop(columns="lost per image")
save_table(steps_table, out / "tiny_gradient_steps.csv")
report.glue_all("", noise.tiny_glue(at_guard, len(images)))
report.show(steps_table, {"threshold": "{:.0e}", "share of all output change": "{:.1e}",
                          "largest share of an image's": "{:.1e}"})  # fmt: skip

# %% [markdown]
# {glue:text}`tiny_steps` of {glue:text}`all_steps` steps, on {glue:text}`tiny_images`, have a squared
# gradient norm below $\tau$ = {glue:text}`guard:.0e` of their path's largest; together they carry
# {glue:text}`tiny_share:.1e` of the paths' total variation $\sum_j |f(x_{j+1}) - f(x_j)|$ (summed over all images),
# and on one image the output change they carry is at most {glue:text}`tiny_image_share:.1e` of that image's
# $|f(x) - f(x')|$ (what the guard would leave unattributed).
#
# Now the maps: the same IG and IG + IDGI, computed three times: in float32 (the chapters' default), in float64 (a
# rounding level $10^9$ times smaller), and in float32 with another set of CPU kernels, in a subprocess (named below
# the table; PyTorch's scalar kernels, one of the two sets, are several times slower, so this comparison covers the first
# {glue:text}`n_other_kernels`). The table gives each map's relative L1 change, median and largest over the
# images. These numbers *are* rounding: their digits differ from CPU to CPU, so they are shown as orders of magnitude and
# are not part of the checked outputs. The last row applies the library's optional {term}`norm guard` (`min_norm=`
# {glue:text}`guard:.0e`): steps below it are skipped and their output change reported as lost.

# %%
f32 = conditioning.ig_maps(sys_.model, images, targets, prof.idgi_steps, output, torch.float32, (0.0, guard))
n_other = min(4, len(images))  # the scalar kernels are several times slower: the first images only
other, kernels = conditioning.maps_with_other_kernels(
    sys_, prof.name, seed, list(range(n_other)), targets[:n_other], prof.idgi_steps, output, (0.0, guard)
)
rounding = noise.rounding_table(f32, f64, other, n_other)
save_table(rounding, out / "rounding_sensitivity.csv")
report.glue("other_kernels", ", ".join(f"{k}={v}" for k, v in kernels.items()))
report.glue("n_other_kernels", report.counted(n_other, len(images), "images"))
report.glue("idgi_vs_ig_rounding", noise.rounding_phrase(rounding))
report.show(rounding, {c: conditioning.order_of for c in rounding.columns if c != "map"})

# %% [markdown]
# The IDGI map {glue:text}`idgi_vs_ig_rounding`. (Other kernels here: {glue:text}`other_kernels`.) The guard's effect
# on the maps is in its row; its cost is in the first table: at $\tau$ = {glue:text}`guard:.0e`, at most
# {glue:text}`tiny_image_share:.1e` of an image's output change goes unattributed. The library therefore skips only
# exactly-zero gradients by default and offers the guard as `min_norm=` on every IDGI call, reporting what it skipped
# (with `return_report=True`: `report["skipped_steps"]`, `["lost"]`) and every step's squared norm and output change
# (`["step_norms"]`, `["output_changes"]`), so that this table can be made for any model.
#
# **A second reference.** The TMLR reproducibility study of IDGI {cite}`singhi2024idgi` examines, among other things,
# how much the maps move when the input is compressed. Its protocol saves each ImageNet image as a JPEG of quality 75,
# divides each map (summed over channels) by its own sum, and takes the mean squared difference between the clean and
# the lossy image's maps. Dividing by the map's own sum makes that measure grow with how large a map's values are
# against its sum. {glue:text}`sum_sentence` Cancellation can separate them as well: a map whose positive and negative values cancel has a large L1
# norm against its sum, and scores high however little it moves. The table therefore gives each map's cancellation,
# $\lVert \sum_c A_c \rVert_1 / |\sum A|$ (median over the images), the study's measure and, beside it, a measure
# without that scale: the relative L1 change of the map, $\lVert A_\text{JPEG} - A \rVert_1 / \lVert A \rVert_1$, per
# image; the verdict uses the second, by a paired Wilcoxon signed-rank test over the images.

# %%
# NBVAL_CHECK_OUTPUT
tmlr = noise.tmlr_table(maps, conditioning.jpeg(images, quality=75), prof.n_boot, seed)
save_table(tmlr, out / "tmlr_jpeg.csv")
report.glue("jpeg_sentence", noise.jpeg_sentence(tmlr, len(images), confounded))
report.glue("cancellation_sentence", noise.cancellation_sentence(tmlr))
# Guided IG's MSE moves by about a fifth under other CPU kernels (its path follows the gradients), p too: one digit
report.show(tmlr, {c: "{:.1g}" if c.startswith(("TMLR", "p")) else "{:.1e}" if c.startswith("L1 /") else "{:.2g}"
                   for c in tmlr.columns if c.startswith(("TMLR", "L1", "p"))})  # fmt: skip

# %% [markdown]
# {glue:text}`cancellation_sentence` {glue:text}`jpeg_sentence` {glue:text}`blur_caveat`
#
# The study also examines how IDGI's *evaluation results* depend on the number of Riemann steps; this chapter
# measures how the *maps* change with the steps: for IG, how far the map at each step count of the sweep lies from
# the map at the largest (relative L1), IG against IG + IDGI.

# %%
# NBVAL_CHECK_OUTPUT
steps_rows = noise.step_sensitivity(maps, sweep, prof.n_boot, seed)
save_table(steps_rows, out / "map_change_with_steps.csv")
report.glue("steps_sentence", noise.steps_sentence(steps_rows, sweep[-1], len(images)))
report.show(steps_rows, {"IG": "{:.2g}", "IG + IDGI": "{:.2g}", "p": "{:.1g}"})  # p moves under other CPU kernels

# %% [markdown]
# {glue:text}`steps_sentence`

# %% tags=["hide-input"]
# NBVAL_CHECK_OUTPUT
claims = noise.card_claims(completeness, reading, riemann, thm1, mass_table, object_mask is not None, tmlr, steps_rows,
                           sweep, len(images))  # fmt: skip
settings = noise.card_settings(sys_.name, len(images), sweep, prof.idgi_steps, blur_counts, prof.blur_steps, output)
print(report.card("02_idgi_noise", settings, claims, out, seed=seed).verdict.value_counts().to_string())

# %% [markdown]
# ## Use it on your model
#
# Every method is one call on any module mapping `(B, *F)` to `(B, C)`, with captum's argument names and order
# (`attribute(inputs, baselines=None, target=None, ...)`) {cite}`kokhlikyan2020captum`:
#
# ```python
# import xai_lib
# system = xai_lib.load_system(xai_lib.systems.parse_system("my_system.json"))
# ig = xai_lib.IG(system.model, output="probability")
# attr = ig.attribute(images, target=labels, n_steps=200, idgi=True)   # shaped like images
# attr, delta = ig.attribute(images, target=labels, return_convergence_delta=True)  # captum's delta
# attr, report = ig.attribute(images, target=labels, idgi=True, return_report=True)  # IDGI's skipped steps
# base, with_idgi = ig.attribute_with_idgi(images, target=labels, n_steps=200)  # both from one pass
# gig = xai_lib.GuidedIG(system.model, output="probability").attribute(images, target=labels, idgi=True)
# blur = xai_lib.BlurIG(system.model, output="probability").attribute(images, target=labels, idgi=True, max_sigma=50.0)
# errors = ig.completeness_error(images, attr, target=labels)          # sum(attr) - (f(x) - f(x'))
# ```
#
# Or re-run this chapter on it: `papermill notebooks/02_idgi_noise.ipynb out.ipynb --cwd notebooks -p system
# my_system.json` (see {doc}`../book/how_to_run`). The number of model evaluations per call is the profile's after
# `xai_lib.setup(profile=...)` (32, channels-last, at `book`) and 32 in your tensors' layout without one; the
# constructor's `internal_batch_size="auto"` (e.g. `xai_lib.IG(model, internal_batch_size="auto")`) calibrates it on
# your model and device, and an int fixes it.
#
# ## Summary
#
# * Each IG step multiplies the gradient by a step that need not run along the gradient; to first order the part
#   along the level set explains no change of the output and is the noise IDGI removes ({eq}`eq-thm1`,
#   {eq}`eq-idgi`).
# * IDGI's sum telescopes: on this system it {glue:text}`idgi_complete` {glue:text}`idgi_max_error`, at one extra
#   forward pass. IG's completeness error {glue:text}`ig_direction` as the steps grow, Blur IG's
#   {glue:text}`blur_direction`.
# * {glue:text}`mass_sentence`
# * IDGI's weights are the gradient's direction, so a step with a tiny gradient spends its output change along
#   rounding noise ({eq}`eq-idgi-condition`). On this system the IDGI map {glue:text}`idgi_vs_ig_rounding`; the optional
#   guard `min_norm=` skips such steps and reports what they carried.
# * {glue:text}`jpeg_sentence` {glue:text}`steps_sentence`
# * {glue:text}`summary_seeds`
#
# ## Self-check
#
# Answer before you open the exercises; each choice explains itself.

# %% tags=["remove-input"]
teaching.quiz("02_idgi_noise", "quizzes/02_idgi_noise.json")

# %% [markdown]
# ## Exercises
#
# *In class, run this chapter at the `class` profile (`papermill -p profile class`): it computes with the book's data
# and shipped models, so on a CPU that runs the book's kernels (`make` sets them on every x86-64 CPU with AVX2) your
# answers match the solutions; elsewhere a count may differ by an image or so, within the tolerances on the How to run
# page.*
#
# ````{exercise-start}
# :label: ex-noise-1
# ````
# The 2D figure draws the step with the largest noise component of a fine path. Take the coarse one of the table
# under it ({glue:text}`coarse_n` steps, where first order is rough) and print the size of the noise and the angle
# between the step and the gradient for every step: where is the noise small, and why there? Start with the noise: complete
# `my_answer` below ({eq}`eq-thm1` gives the projection) and run the cell to check it. *Time: 15 min.*
# ````{exercise-end}
# ````


# %% tags=["exercise"]
def my_answer(path, outputs, gradients):
    """The length of each step's noise part x_{j+1} - x*_{j+1} (Theorem 1's projection), one number per step: the
    path has N + 1 points (rows), ``outputs`` f at each point and ``gradients`` the gradient of f at each point."""
    raise NotImplementedError("project each step onto its gradient's direction and measure what is left, here")


answer = teaching.attempt(my_answer, path, f_path, g_path)
if answer is not None:
    teaching.check(answer, np.array([float(part["noise"].norm()) for part in decomposed]), rtol=1e-4,
                   what="the length of every step's noise part")  # fmt: skip

# %% [markdown]
# ````{solution-start} ex-noise-1
# :class: dropdown
# ````


# %% tags=["solution"]
# NBVAL_CHECK_OUTPUT
def my_answer(path, outputs, gradients):
    """The length of each step's noise part x_{j+1} - x*_{j+1} (Theorem 1's projection), one number per step."""
    g = gradients[:-1]  # the gradient at each step's start
    along = (outputs[1:] - outputs[:-1]) / (g * g).sum(1)  # how far along g the output change is reached
    projection = path[:-1] + along[:, None] * g  # x*_{j+1}
    return (path[1:] - projection).norm(dim=1).numpy()


noise_table = noise.noise_by_step(path, f_path, g_path, decomposed)
# the noise across g is exactly the step's component across g (x* - x_j runs along g), for any f: first order
assert np.allclose(noise_table["across g"], noise_table["|step| sin(angle)"], atol=1e-6)
noise_table = noise_table.drop(columns="|step| sin(angle)")
quietest = noise_table.loc[noise_table["|noise|"].idxmin()]
steepest = noise_table.loc[noise_table["angle (deg)"].idxmin()]
worst = noise_table.loc[noise_table["noise / first order"].idxmax()]  # where first order fails, relatively
# the toy function is fixed, so these are facts of it (not of a model): the quietest step runs most nearly along its
# gradient, its remaining noise lies mostly along the gradient, and there first order fails worst
assert int(quietest.step) == int(steepest.step) == int(worst.step)
assert quietest["along g"] > quietest["across g"]
report.glue_all("", noise.noise_glue(noise_table))
report.show(noise_table, {c: "{:.3f}" for c in noise_table.columns if c not in ("step", "angle (deg)")}
            | {"angle (deg)": "{:.0f}", "noise / first order": "{:.1f}"})  # fmt: skip
assert teaching.check(my_answer(path, f_path, g_path), np.array([float(part["noise"].norm()) for part in decomposed]),
                      rtol=1e-4, what="the length of every step's noise part")  # fmt: skip

# %% [markdown]
# The noise is smallest at step {glue:text}`quiet_step` ({glue:text}`quiet_noise:.3f`), where the path meets the
# gradient at {glue:text}`quiet_angle:.0f` degrees, the smallest angle of the path. To first order the noise is the
# step's component across the gradient, $\lVert x_{j+1} - x_j \rVert \sin\angle$, the level-set part that changes
# nothing in $f$: the column "across g" is exactly that, on every step. At step {glue:text}`quiet_step` it is only
# {glue:text}`quiet_across:.3f`: the small angle explains why little noise runs across the gradient, not what is
# left. The rest, {glue:text}`quiet_along:.3f`, lies *along* the gradient and comes from curvature: over the whole
# step $f$ changes by {glue:text}`quiet_df:.3f` where the gradient at the step's start predicts
# {glue:text}`quiet_gdx:.3f`, and the projection {eq}`eq-thm1` spends the true change along $g_j$, so $x^{*}_{j+1}$
# falls {glue:text}`quiet_side` $x_{j+1}$ along the gradient. Relative to its first-order part, the noise is largest at
# this same step ({glue:text}`quiet_ratio:.1f` times it), so this is where first order fails most; the noisiest step,
# {glue:text}`loud_step` ({glue:text}`loud_noise:.3f`), is only {glue:text}`loud_ratio:.1f` times its first-order
# part. With a coarse step (here $N = 4$) the curvature of $f$ along the step adds to the noise.
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
# the logit against the probability, whatever the chapter's own `output` is
few, few_t = images[:4], targets[:4]
errors = noise.output_completeness(sys_.model, few, few_t, n_steps=16)
bounds = {name: report.ROUNDOFF * max(1.0, errors[name, "delta"]) for name in ("logit", "probability")}
assert all(errors[name, True] < bounds[name] for name in bounds)  # IDGI telescopes for any output: round-off only
for name in ("logit", "probability"):
    print(f"{name:11s} |f(x) - f(x')| {errors[name, 'delta']:6.2f}   IG, 16 steps: mean |error| "
          f"{errors[name, False]:.1e}   IDGI: {report.roundoff(errors[name, True], bounds[name])}")  # fmt: skip
glued = noise.output_glue(errors, bounds, len(few))
report.glue_all("", glued)
if book_run:  # the answer as the book states it: a larger error in absolute terms, a smaller one relative to the change
    assert glued["logit_error_direction"] == "larger" and glued["logit_relative_direction"] == "smaller", glued

# %% [markdown]
# On the first {glue:text}`few_images` images, with the logit attributed (a mean change of
# {glue:text}`logit_delta:.2f` along the path), IG's mean error at 16 steps is {glue:text}`logit_ig_error:.1e`,
# {glue:text}`logit_error_direction` than on the probability ({glue:text}`prob_ig_error:.1e`, for a mean change of
# {glue:text}`prob_delta:.2f`); as the ratio of the mean error to the mean output change it is
# {glue:text}`logit_ig_relative:.1%` against {glue:text}`prob_ig_relative:.1%`, {glue:text}`logit_relative_direction`
# on the logit. IG's Riemann error is the integral of the gradient's change along each step, so it depends on the
# output and its shape along the path. IDGI's error stays at {glue:text}`logit_idgi_error`: its sum telescopes for
# whatever $f$ is.
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
_, g0 = IG(sys_.model, output).grad_fn(torch.zeros_like(images), targets)
zero_at_black = int((g0.flatten(1).abs().max(1).values == 0).sum())
skipped_total = int(completeness.loc[completeness.method.str.contains("IDGI"), "steps skipped"].sum())
zero_steps = int((f64["step_norms"] == 0).sum())  # the IG paths' steps with an exactly zero gradient (float64)
assert int(f64[f"lost, tau={0.0:g}"].ne(0).sum()) <= zero_steps  # only zero-gradient steps lose output change
print(f"images whose gradient at the black image is exactly zero: {zero_at_black} of {len(images)}\n"
      f"IDGI steps skipped over the completeness table: {skipped_total}")  # fmt: skip
report.glue("zero_at_black", report.counted(zero_at_black, len(images), "images"))
report.phrase("skipped_any", skipped_total > 0, "IDGI skipped some steps here and reported their output change as lost",
              "no step had an exactly zero gradient here, so IDGI skipped none and lost nothing")  # fmt: skip
if book_run:  # the book's answer: no image has a zero gradient at the black image, and IDGI skipped no step
    assert zero_at_black == 0 and skipped_total == 0, (zero_at_black, skipped_total)

# %% [markdown]
# At the black image every pre-activation of the first layer equals its bias (for a model without a normalisation
# folded in; with one, the normalised black image); if all the ReLUs a path depends on are off there, the gradient is exactly zero. Such a step has no direction, so IDGI skips it and reports the output
# change it carried as "lost" (the reference code divides by zero). Here the gradient at the black image is exactly
# zero for {glue:text}`zero_at_black`, and {glue:text}`skipped_any`.
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
#   closes the last interval. {eq}`eq-idgi` is the paper's Algorithm 1 as its reference code computes it.
# * **Wiring.** IG: IDGI on $x' + (j/N)(x - x')$, $j = 0..N$; plain IG uses a right Riemann sum (as captum's
#   `riemann_right`). Guided IG: one gradient per step at the step's start, on Guided IG's own path. Blur IG: the path
#   runs from the most blurred image ($\sigma = 50$) to the input, the reverse of PAIR's order.
# * **Zero gradients, and the norm guard.** A step whose gradient is zero everywhere is skipped and its output change
#   reported as lost. With `min_norm=tau` IDGI also skips the steps whose squared gradient norm is below `tau` times
#   the path's largest, compared at power-of-two resolution (a step is skipped when
#   $\lfloor \log_2 \lVert g_j \rVert^2 \rfloor < \lfloor \log_2 \max_k \lVert g_k \rVert^2 \rfloor +
#   \lfloor \log_2 \tau \rfloor$); the comparison streams over chunks of the path with one accumulator per binade
#   of the norm, so it needs no second pass. The chapter's $\tau = 10^{-10}$ is $(10^{-7} / 10^{-2})^2$: float32
#   rounding over an accuracy of the direction of $10^{-2}$. Because of the binade comparison the effective cut-off lies between
#   $\tau/4$ and $\tau$: every step below $\tau/4$ of the largest is skipped, none at or above $\tau$. Off by default.
# * **Rounding measurements** compare float32 maps with float64 maps (the model cast to float64) and with float32 maps
#   computed in a subprocess under other kernels (`xai_lib.experiments.conditioning.other_kernels`, on the first four
#   images: the scalar kernels are several times slower); they are printed as orders of magnitude and not checked, since they *are*
#   the CPU's rounding.
# * **The TMLR study's measure**, as this chapter implements its protocol: the attribution summed over channels
#   (signed), divided by its own sum, the squared difference to the clean image's map averaged over pixels; JPEG at
#   quality 75 with PIL. The step-sensitivity measure is ours (the study examines metric scores per step count): the
#   relative L1 distance of the map at $N$ steps from the map at the sweep's largest $N$. The cancellation column is
#   ours too: $\lVert \sum_c A_c \rVert_1 / |\sum A|$ per image, median over the images.
# * **Output.** The chapter attributes the softmax probability of the predicted class (the reference code's choice);
#   `output="logit"` is a parameter.
# * **Blur.** A Gaussian blur with zero padding is applied as two banded matrices (exact, and cheaper than a long
#   convolution at large $\sigma$), with scipy's truncation radius; the derivative in $\sigma$ shares one radius
#   between its two blurs, so the radius cannot jump inside the finite difference (on PAIR's schedule the two radii
#   agree and the derivative is exactly PAIR's).
# * **Mass on the object** uses $|\sum_c \text{attr}_c|$ and the object mask (for `shapes`, the visible object).
