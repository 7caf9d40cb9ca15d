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
# (chapter-gax-generative)=
# # GAX: generative heatmaps optimised to a target CO score
#
# ```{chapter-times}
# ```
#
# **What this chapter reproduces.** Sections 4.2-4.3 of the GAX paper {cite}`tjoa2021gax`: instead of taking a heatmap
# from an existing method and scoring it, *generate* one that reaches a chosen {term}`CO score`. The heatmap is
# $h = \tanh(w \odot x)$ with $w$ initialised to ones and optimised by Adam on the loss {eq}`eq-gax-loss` until the
# score reaches the target. We draw the CO curves of every image (paper Fig. 4), count how many images reach the
# target within an iteration cap and in how many steps, show the R/G/B heatmaps (Fig. 5 B-E), the heatmap's evolution
# as a slider (Fig. 5A), measure the paper's "extreme intensities" observation, and test whether GAX points at a
# {term}`false distinct feature` (Fig. 5F): a magenta mark planted in the training data of one model (how much that
# model relies on it is measured before GAX reads it).
#
# **Learning objectives.** After this chapter you can
# 1. write GAX's loss {eq}`eq-gax-loss` and explain each term (the score, the similarity penalty);
# 2. run GAX on a batch with per-image stopping and report the images that do not reach the target;
# 3. decide from measurements, not pictures, whether a heatmap reveals a feature the model relies on.
#
# **Prerequisites.** {doc}`06_rotation_toy` (GAX in closed form) and {doc}`07_gax_co_gap` (the CO score of existing
# methods).
#
# ```{glue:} card_settings
# ```
# ```{glue:} card_claims
# ```

# %% [markdown] tags=["instructor"]
# ````{admonition} Instructor notes
# :class: dropdown
# **Learning objectives in practice.**
# * Write GAX's loss {eq}`eq-gax-loss` on the board and say what each term does to one pixel, including a black one
#   ($x = 0$: $h = \tanh(w \cdot 0) = 0$ whatever $w$).
# * Read a GAX run as a table, not as pictures: how many images reach the target, in how many iterations, and whether
#   those stopped by the cap were still rising.
# * Separate what a heatmap *is* from what the optimisation *changed* ($h$ against $|h - \tanh(x)|$), and use a
#   clean twin model as the control for a claim about a spurious feature.
#
# **Common misconceptions.**
# 1. "Where a GAX heatmap is intense is where the model looks." Every run starts from $h = \tanh(x)$, already intense
#    wherever the image is bright, and the two models of the study share that start. *Exposed by*: section "False
#    distinct feature: does GAX point at the spurious mark?": the enrichment of $h$, the signed change of $h$ on the
#    mark and the enrichment of the unsigned change $|h - \tanh(x)|$ need not agree (a model that lowers the mark
#    shows a larger unsigned change there than one that keeps it). Here: {glue:text}`predict_fdf_sentence`
# 2. "The change of $h$ shows which intensities the model prefers." The parametrisation decides it first: a step of
#    $w$ moves a pixel by about $x\,(1 - \tanh^2(w x))$ times the step, so dark pixels can hardly move in $h$, and
#    $|w - 1|$ under Adam says how consistently a pixel was pushed, not how sensitive the model is there. *Exposed
#    by*: section "Optimised through extreme intensities (sec. 4.3), measured": compare the table's columns
#    "sensitivity at start", "change of h", "change of w" and "model sensitivity" for the dark side.
# 3. "The similarity term keeps the heatmap from resembling the image." It keeps one distance,
#    $\langle (h - x + \epsilon)^2 / (x + \epsilon) \rangle$, away from 0; correlation with the image is a different
#    closeness that it does not penalise. *Exposed by*: exercise `ex-gax-2` ($l_s = 0$), whose sentence reports both
#    measures and says whether they agree.
#
# **Discussion prompts.**
# 1. GAX runs until its CO score passes the `target_quantile` of the existing methods' scores. Is a heatmap that
#    gets there a better explanation than theirs?
#    *Expected answer*: not by that alone: it is optimised for the score, a bounded perturbation that raises the true
#    class's output (close in spirit to an adversarial perturbation), with no term for localisation or for what a
#    person can read; whether the target comes sooner still without the similarity term is measured in exercise
#    `ex-gax-2` ({glue:text}`free_sentence`).
# 2. Why compare the spurious model with the same architecture trained on clean images, instead of looking at the
#    spurious model's heatmap alone? *Expected answer*: the magenta mark is bright in red and blue, so the starting
#    map already singles it out; only a paired comparison under the same target and start shows what the model's
#    reliance on the mark adds; the painted-over control measures that reliance first: {glue:text}`reliance_sentence`
# 3. Could a bias of $0.01$ matter on images with many black pixels, and why? *Expected answer*: first read the bias
#    table in exercise `ex-gax-3`, whose sentence says whether the bias changes how many images reach the target here.
#    A mechanism to test against it: without a bias, $h = x = 0$ on a black pixel, so the mean of the similarity
#    distance can be tiny and the term $l_s / \langle\cdot\rangle$ huge, and its gradient can outweigh the score's;
#    with a fixed bias $w$ still cannot move those pixels, a trained bias can.
#
# **What to project.**
# 1. `co_curves.png`: one curve per image to the target; point at the curves stopped by the cap.
# 2. The summary table (`gax_summary.csv`): reached, still rising, stalled.
# 3. The `rgb_heatmaps_*.png` figures and the slider: what Fig. 5 shows, and why it cannot be read alone.
# 4. `extreme_intensities.csv` (the extreme-intensity table): the dark and the bright side, all three ratios.
# 5. `mark_reliance.csv`, then the enrichment table (`mark_enrichment.csv`) and `false_distinct_feature.png`.
# 6. The reproduction card at the top, read through its test column.
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
profile = "book"  # smoke | class | book | paper
systems = (
    "shapes/resnet,shapes/vgg"  # image systems optimised by GAX: dataset/model items, a JSON list or a .json/.yaml file
)
target_co = "auto"  # a number, or "auto": the target_quantile of the six methods' CO scores (paper: 48 on ImageNet)
target_quantile = 0.9  # the "auto" target exceeds this share of the existing methods' CO scores
spurious_system = "shapes_spurious/resnet"  # a model that learned a spurious mark (data with "cue" masks), or "none"
clean_system = "shapes/resnet"  # the same architecture trained on clean images
similarity = 100.0  # l_s of eq. (6)
seed = 0
device = "auto"
output_dir = "outputs/gax_generative"

# %%
import numpy as np
import torch
from IPython.display import HTML, display

import xai_lib
from xai_lib import params, report, teaching
from xai_lib.experiments import gax_generative
from xai_lib.gax import similarity_distance
from xai_lib.plotting import save_table
from xai_lib.systems import load_system, load_systems, parse_system

prof = xai_lib.get_profile(profile)
quantile = params.number("target_quantile", target_quantile, lo=0.0, hi=1.0)
fixed_target = None if target_co == "auto" else params.number("target_co", target_co, lo=0.0)
l_s = params.number("similarity", similarity, lo=0.0)
# the solutions' asserts on empirical facts hold for the book's own run (these defaults, seed 0, `book` or `class`)
book_run = (
    xai_lib.computes_as_book(prof) and seed == 0 and systems == "shapes/resnet,shapes/vgg" and target_co == "auto"
    and quantile == 0.9 and spurious_system == "shapes_spurious/resnet" and clean_system == "shapes/resnet"
    and l_s == 100.0
)  # fmt: skip
out = params.output_dir("output_dir", output_dir)
dev = xai_lib.setup(seed, device, profile=prof)
setup = gax_generative.Setup(prof, seed, dev, l_s)
loaded = load_systems(systems, prof, seed, dev)
for s in loaded:
    if s.data("test").kind != "image":
        raise ValueError(f"systems: GAX heatmaps here need images; {s.name} has {s.data('test').kind} inputs")
    print(s.describe())
print(f"profile={prof.name}: up to {prof.gax_opt_images} images per system, cap {prof.gax_max_steps} iterations")


# %% [markdown]
# ## The images and the target
#
# GAX is run on correctly predicted test images only (the paper excludes wrong predictions). The paper sets the
# target to 48, "exceeding most CO scores of other methods" on ImageNet. CO scores depend on the model's output scale,
# so a fixed number does not transfer; with `target_co = "auto"` the target is the `target_quantile` of the six
# methods' CO scores (raw outputs, $x + h$) on the same images, rounded up: a GAX heatmap that reaches it beats that
# share of the existing heatmaps at the paper's own criterion. At iteration $t$ GAX takes one Adam step (learning rate $0.1$) on
#
# $$ \mathcal{L}(w) = -s_{co}\big(x, \tanh(w \odot x)\big) + \frac{l_s}{\big\langle (h - x + \epsilon)^2 / (x + \epsilon) \big\rangle}, $$ (eq-gax-loss)
#
# where the second term (the *similarity loss*, $\langle\cdot\rangle$ the mean over pixels, $\epsilon = 10^{-4}$) is
# meant to keep the heatmap from simply copying the image (the paper's reason, measured in exercise `ex-gax-2`); an image stops as soon as its score reaches the target.


# %%
runs, method_scores = gax_generative.optimise(loaded, setup, quantile, fixed_target)
save_table(method_scores, out / "method_co_scores.csv")
print("targets:", {name: run["target"] for name, run in runs.items()})

# %% [markdown]
# ## CO curves to the target (paper Fig. 4)
#
# One curve per image: the CO score of $x + \tanh(w \odot x)$ at each iteration, until it reaches the target (dashed)
# or the cap. At iteration 0, $h = \tanh(x)$.

# %% tags=["hide-input"]
save_table(gax_generative.plot_co_curves(runs, out / "co_curves.png"), out / "co_curves.csv")

# %% [markdown]
# How many images reach the target within the cap, how many iterations they need, where their CO score starts
# ($h = \tanh(x)$), on how many it ends below its start, and, for the images stopped by the cap, whether they were
# still climbing: an image is *still rising* when its best CO score in the last quarter of its iterations beats its best
# before them.

# %%
# NBVAL_CHECK_OUTPUT
reach = gax_generative.reach_study(runs, prof.gax_max_steps)
save_table(reach["summary"], out / "gax_summary.csv")
report.glue("reach_sentence", reach["sentence"])
report.glue("start_sentence", reach["start_sentence"])
report.show(reach["summary"], gax_generative.REACH_FORMATS)

# %% [markdown]
# {glue:text}`reach_sentence` {glue:text}`start_sentence` The reference code has no cap: it runs each image until it
# reaches the target. Ours stops at the cap and reports the images that did not reach it (`result.not_reached`), not
# dropped, with whether each was still rising (`result.still_rising()`).

# %% [markdown]
# ## R/G/B heatmaps (paper Fig. 5 B-E)
#
# One row per image: the image, then the heatmap of each colour channel on a symmetric scale (red: increase the
# intensity, blue: decrease it), with the absolute maximum over the three channels (at most 1: tanh).


# %% tags=["hide-input"]
for name, run in runs.items():
    res, data = run["result"], run["data"]
    k = min(2, prof.gax_opt_images, len(res.co))
    titles = [f"{name}\n{data.class_names[int(data.labels[i])]}, CO {float(res.co[i]):.0f}" for i in range(k)]
    gax_generative.plot_rgb_rows(data.inputs[:k], res.heatmaps[:k].cpu(), titles,
                                 out / f"rgb_heatmaps_{name.replace('/', '_')}.png")  # fmt: skip

# %% [markdown]
# ## The heatmap's evolution (paper Fig. 5A)
#
# The paper ships a matplotlib GUI with a slider; ours is an HTML slider that works in the static book. To keep memory
# bounded (the paper's concern: a map per iteration grows without limit), GAX keeps a snapshot only when the CO score
# first passes each of 16 evenly spaced milestones up to the target.

# %% tags=["hide-input"]
first = next(iter(runs))
display(HTML(gax_generative.evolution_html(runs[first], first)))

# %% [markdown]
# ## "Optimised through extreme intensities" (sec. 4.3), measured
#
# The paper reads its GAX heatmaps (Fig. 5 B-E): the most intense values (strong red or blue) sit in regions of extreme
# intensity, such as a dog's white hair or the dark regions of a chest X-ray, and "the DNN architecture seems to be more
# sensitive to changes in extreme values". Where a heatmap is intense is partly its starting map $\tanh(x)$, largest
# where the image is bright; we measure instead what the optimisation *changed* (our choice), in the pixels of extreme
# intensity (the darkest and the brightest $20\%$ of each image, by the mean over channels, each side on its own)
# against the middle $60\%$, per pixel, as a ratio (above 1: the extreme side changes more).
#
# The parametrisation limits what can be seen in $h$. With $h = \tanh(w x)$ a step $\Delta w$ moves a pixel by about
# $x\,(1 - \tanh^2(w x))\,\Delta w$, and Adam's steps have about the same size for every pixel whose gradient keeps
# its sign: a pixel near $x = 0$ barely moves in $h$ whatever the model wants, so the change of $h$ is damped on dark
# pixels (by how much, the sensitivity ratio below says) (which is why the rule below asks only that it not point the other way, and a dark side whose $h$
# changes less than the middle stays undecided unless its change of $w$ lies below 1 too, when it contradicts the
# paper: the paper's observation is about what the heatmap shows). The table gives this *sensitivity* $x\,(1 - \tanh^2(x))$ at the start, side over
# middle, the change of $h$, $|h - \tanh(x)|$, and the change of the parameters, $|w - 1|$ (summed over channels),
# which carries no such factor. Under Adam, whose steps have about the same size for every pixel whose gradient keeps
# its sign, $|w - 1|$ says how consistently a pixel was pushed one way: what GAX did, not why. The paper's reason, that
# the model "seems to be more sensitive to changes in extreme values", is measured directly: the model's sensitivity
# $|\partial s_{co} / \partial (x + h)|$ (summed over channels) at GAX's start $h = \tanh(x)$, side over middle.
# Each side of each system gets a $95\%$ bootstrap interval over the images for each ratio; the side contradicts the
# paper when the change of $w$ and the change of $h$ both lie below 1 (GAX changes the extreme pixels' parameters and
# heatmap values less than the middle ones), agrees when the change of $w$ and the model's sensitivity lie above 1 and
# the change of $h$, what the heatmap itself shows, does not lie below 1, and is undecided otherwise (an interval spans
# 1, or the measures point different ways). The dark
# and the bright side are separate claims: the
# paper's examples are one of each. (A channel value of exactly 0 has a zero gradient for $w$, so its $w$ never moves.
# The similarity term divides by $x + \epsilon$ and so weighs dark pixels up: on the dark side a change of $w$ may come
# from that term as well as from the model.)


# %%
# NBVAL_CHECK_OUTPUT
extreme = gax_generative.extreme_study(runs, setup)
save_table(extreme["table"], out / "extreme_intensities.csv")
report.glue("extreme_sentence", extreme["text"])
report.glue("w_alone_sentence", extreme["w_alone_text"])
report.show(extreme["table"].drop(columns="cell"), "{:.2f}")

# %% [markdown]
# {glue:text}`extreme_sentence`
#
# **"Extreme" as absolute values.** The groups above are each image's own quantiles of the mean over channels: on
# `shapes`, whose backgrounds are textured clutter of middle intensity, an image's darkest fifth need not be dark, and
# the mean over channels hides a saturated colour (pure red has a mean of a third). The table below reads the paper's
# "very dark" and "very bright" as absolute levels of each channel value (the thresholds are ours; the paper gives
# none): dark below {glue:text}`abs_dark_below:.1f`, bright above {glue:text}`abs_bright_above:.1f` (exact zeros
# left out: $w$ cannot move there), the middle between. It compares GAX's change $|w - 1|$ of each channel value,
# side over middle, on the images where both groups hold at least {glue:text}`abs_min_values` values, and gives each
# quantile group's mean intensity, so that a reader can see whether the quantiles' "dark" is dark. The card's
# verdicts keep the quantile reading; this checks how much its change-of-$w$ column depends on the grouping (it also
# differs in taking channel values instead of sums over channels, and it does not re-test the other two ratios). The
# similarity term divides by $x + \epsilon$ and so pushes hardest on the darkest values: part of a dark excess may come
# from it (exercise `ex-gax-2` gives the quantile ratio of a run without the term).


# %%
# NBVAL_CHECK_OUTPUT
report.glue("abs_dark_below", gax_generative.DARK_BELOW)
report.glue("abs_bright_above", gax_generative.BRIGHT_ABOVE)
report.glue("abs_min_values", gax_generative.MIN_VALUES)
abs_table, abs_text = gax_generative.absolute_study(runs, extreme["table"], setup)
save_table(abs_table, out / "extreme_intensities_absolute.csv")
report.glue("abs_sentence", abs_text)
report.show(abs_table, "{:.2f}")

# %% [markdown]
# {glue:text}`abs_sentence`
#
# **At one iteration for every image, and at the final heatmap.** Each image stops when its CO score reaches the
# target, so the ratios above compare images after different numbers of Adam steps, and $|w - 1|$ tends to grow with
# the number of steps (a pixel whose gradient keeps its sign moves away from 1 at every step); a side that GAX moves
# early and one it moves late differ in time as well as in place. The cell below runs GAX
# again on each system with every image stopped at one common iteration, the median of the images' numbers of steps
# (`gax(..., stop_at=...)`; the images that stop sooner are left out, the others are cut there), and gives the
# change-of-$w$ and change-of-$h$ ratios at that iteration, next to the same ratios of the full runs on the same
# images. The model's sensitivity above is taken at GAX's start;
# the cell also takes it at the heatmap GAX returns, $|\partial s_{co} / \partial (x + h)|$ at the final $h$, side over
# middle. The card's verdicts keep the measures above; these say how much they depend on when they are read. Two
# limits: the images kept at the common iteration are those that stop at or after it (the sentence gives their count),
# the slower ones, and
# "reads the same" compares the words of two intervals (more, less, undecided), not a tested difference between them.


# %%
# NBVAL_CHECK_OUTPUT
timing_table, timing_text = gax_generative.timing_study(runs, extreme["table"], setup)
save_table(timing_table, out / "extreme_intensities_timing.csv")
report.glue("timing_sentence", timing_text)
if len(timing_table):
    report.show(timing_table.drop(columns=["w CI low", "w CI high", "h CI low", "h CI high", "sens. CI low",
                                           "sens. CI high"]), "{:.2f}")  # fmt: skip

# %% [markdown]
# {glue:text}`timing_sentence`
#
# ## False distinct feature: does GAX point at the spurious mark?
#
# Class-0 test images of `shapes_spurious` that carry the magenta mark, predicted correctly by both the model trained
# on them (`spurious_system`) and the same architecture trained on clean `shapes` (`clean_system`, which has never
# seen a mark); where no marked image is (barely trained models), every marked one, right or wrong, and the sentences
# below say so. First, does the spurious model *use* the mark? We paint it over with the image's mean colour and
# measure the change in the class-0 logit.

# %%
# NBVAL_CHECK_OUTPUT
study_ok, study_reason = spurious_system != "none", "spurious_system is 'none'"
rel = None  # the study images and the models' reliance on the mark
if study_ok:
    sp_sys = load_system(parse_system(spurious_system, "spurious_system"), prof, seed, dev)
    cl_sys = load_system(parse_system(clean_system, "clean_system"), prof, seed, dev)
    study_ok = "cue" in sp_sys.data("test").extra_masks
    study_reason = f"{sp_sys.name} has no 'cue' masks (a mark's location): the study needs shapes_spurious"
    if not study_ok:
        print(f"spurious_system: {study_reason}")
if study_ok:
    rel = gax_generative.mark_reliance(sp_sys, cl_sys, setup)
    save_table(rel["table"], out / "mark_reliance.csv")
    report.show(rel["table"], {"class-0 logit drop without the mark": "{:.1f}", "still predicted class 0": "{:.2f}"})
not_run = "The false-distinct-feature study is " + report.not_measured(study_reason) + "."
report.glue("reliance_sentence", rel["text"] if rel else not_run)
report.glue("summary_reliance", rel["summary"] if rel else "")

# %% [markdown]
# {glue:text}`reliance_sentence`
#
# Now GAX on each model, to the same target: the one this architecture reached on clean `shapes` above (the `auto`
# rule). The **enrichment** of a map on the mark is the share of its mass $\sum_c |\cdot|$ on the mark divided by the
# mark's share of the image (1: no preference). Two measures, each paired per image (spurious model minus clean model,
# $95\%$ bootstrap interval against 0):
#
# * the enrichment of the heatmap $h$ itself, what Fig. 5F shows and a reader judges by eye;
# * the enrichment of the *change* $|h - \tanh(x)|$: every run starts from $h = \tanh(x)$, the same for both models,
#   so this is where each model's optimisation moves the heatmap.
#
# The unsigned change cannot tell a model that pushes the mark up from one that pushes it down: a clean model that
# lowers the mark from its start counts as change on the mark. So the verdict uses, besides the enrichment of $h$, the
# **signed change** of $h$ on the mark from its start, the mean of $h - \tanh(x)$ over the mark's red and blue values
# (spurious minus clean, paired, against 0; above 0: the spurious model's heatmap keeps or adds more of the mark). The
# claim is *reproduced* when both intervals lie above 0, *partly* when one does, *not reproduced* when neither does and
# at least one lies below, *inconclusive* otherwise; the enrichment of $|h - \tanh(x)|$ is reported beside them. Only
# red and blue can move: the magenta mark is $(1, 0, 1)$, and on its green channel, 0, $h = \tanh(w \cdot 0) = 0$
# whatever $w$ (the gradient $\partial h / \partial w = (1 - \tanh^2)\,x$ is 0 there).

# %% [markdown]
# ````{exercise-start}
# :label: ex-gax-predict
# ````
# **Predict first.** The next cell runs GAX under both models on the same marked images, to the same target, from
# the same start $h = \tanh(x)$. Before you run it, predict three signs of the paired difference (spurious model minus
# clean model): is the enrichment of the heatmap $h$ on the mark larger or smaller under the spurious model? The
# signed change of $h$ on the mark from its start? And the enrichment of the unsigned change $|h - \tanh(x)|$? Mind
# that the mark is bright in red and blue. *Time: 5 min.*
# ````{exercise-end}
# ````

# %% tags=["answers-prediction"]
# NBVAL_CHECK_OUTPUT
fdf = None  # GAX under both models on the study images
if study_ok:
    sp_target = gax_generative.study_target(runs, cl_sys, setup, quantile, fixed_target)
    fdf = gax_generative.fdf_study(rel, sp_target, setup)
    save_table(fdf["table"], out / "mark_enrichment.csv")
    report.show(fdf["stats"], None)
report.glue("enrich_sentence", fdf["text"] if fdf else not_run)
report.glue("h_sentence", fdf["h_text"] if fdf else "")
# the predict-first exercise: the two directions, decided by the paired intervals of the enrichment sentence
report.glue("predict_fdf_sentence",
            fdf["predict_text"] if fdf else "The comparison is " + report.not_measured(study_reason) + ".")  # fmt: skip

# %% [markdown]
# ````{solution-start} ex-gax-predict
# :class: dropdown
# ````
# {glue:text}`predict_fdf_sentence`
#
# Why the measures can disagree: both runs start from the same map $\tanh(x)$, and on the magenta mark,
# $x = (1, 0, 1)$, that map is already large in red and blue ($\tanh 1$), so $h$ carries the mark before any step.
# The enrichment of $h$ mixes that start with what the optimisation did; the change removes the start, which both
# models share. Its unsigned form $|h - \tanh(x)|$ counts a lowering of the mark as much as a rise, so a model that
# suppresses the mark shows a large change there; the signed change keeps the direction. Whether the spurious model's
# heatmap keeps more of the mark than the clean one's, and whether either adds to it, is what the sentence after the
# table reports for this run. A heatmap judged by eye, as in Fig. 5F, sees only the first measure.

# %% tags=["solution"]
# the glued words against the per-image differences they summarise: a paired interval above 0 (more) goes with a
# positive mean difference, one below 0 (less) with a negative one
if fdf:
    for col in gax_generative.FDF_COLUMNS:
        mean_diff = float((fdf["per_image"]["spurious"][col] - fdf["per_image"]["clean"][col]).mean())
        if fdf["cells"][col] == "reproduced":
            assert mean_diff > 0, (col, mean_diff, fdf["predict_text"])
        elif fdf["cells"][col] == "not reproduced":
            assert mean_diff < 0, (col, mean_diff, fdf["predict_text"])
    if book_run:
        cells = [fdf["cells"][c] for c in gax_generative.FDF_COLUMNS]
        assert cells == ["reproduced", "not reproduced", "reproduced"], fdf["predict_text"]

# %% [markdown]
# ````{solution-end}
# ````
#
# {glue:text}`enrich_sentence` {glue:text}`h_sentence`
#
# Paper Fig. 5F analogue: the red channel of the GAX heatmaps of the same marked images under both models, with the
# mark outlined (cyan).

# %% tags=["hide-input"]
if fdf:
    gax_generative.plot_fdf(rel, fdf, out / "false_distinct_feature.png")

# %% tags=["hide-input"]
# NBVAL_CHECK_OUTPUT
claims = gax_generative.card_claims(reach, extreme, fdf, prof.gax_max_steps, study_reason)
settings = gax_generative.card_settings(loaded, runs, fixed_target, quantile, l_s, prof.gax_max_steps, spurious_system,
                                        clean_system, study_ok, study_reason, bool(rel and rel["fallback"]))  # fmt: skip
print(report.card("08_gax_generative", settings, claims, out, seed=seed).verdict.value_counts().to_string())
report.glue("summary_reach", gax_generative.summary_reach(reach, fixed_target, prof.gax_max_steps))
report.glue("summary_extreme", gax_generative.summary_extreme(extreme))
report.glue("summary_fdf", fdf["text"] if fdf else not_run)

# %% [markdown]
# ## Summary
#
# * {glue:text}`summary_reach` Images that do not reach the target are reported, not dropped.
# * GAX heatmaps are optimised for the score, not for localisation. {glue:text}`summary_extreme`
# * {glue:text}`summary_reliance` Whether GAX's heatmap points at the mark is a paired measurement against the same
#   architecture trained on clean data. {glue:text}`summary_fdf`
# * {glue:text}`summary_seeds`
#
# ## Self-check
#
# Answer before you open the exercises; each choice explains itself.

# %% tags=["remove-input"]
teaching.quiz("08_gax_generative", "quizzes/08_gax_generative.json")

# %% [markdown]
# ## Exercises
#
# *In class, run this chapter at the `class` profile (`papermill -p profile class`): it computes with the book's data
# and shipped models, so on a CPU that runs the book's kernels (`make` sets them on every x86-64 CPU with AVX2) your
# answers match the solutions; elsewhere a count may differ by an image or so, within the tolerances on the How to run
# page.*
#
# ````{exercise-start}
# :label: ex-gax-1
# ````
# Set `target_co` to a fixed number (the paper's 48) on every system: what share of images reaches it, and why
# does a fixed target not transfer between models? *Time: 15 min.*
# ````{exercise-end}
# ````
#
# ````{solution-start} ex-gax-1
# :class: dropdown
# ````


# %% tags=["solution"]
# NBVAL_CHECK_OUTPUT
fixed = gax_generative.fixed_target_study(runs, setup, fixed_target)
if len(fixed["table"]):
    report.show(fixed["table"], {"median steps to 48 (both)": "{:.0f}", "target": "{:.0f}",
                                 "median steps to the target (both)": "{:.0f}"})  # fmt: skip
print(fixed["text"])
report.glue("fixed_sentence", fixed["text"])
if book_run:  # a lower target is met on the way to a higher one (up to the batch's floating-point summation order)
    assert all(r["reach 48"] >= r["reach the target"] for r in fixed["rows"] if r["target"] >= 48), fixed["text"]
    # the answer's reason: the automatic targets differ from model to model (the CO score is on each model's logit scale)
    assert len({round(r["target"]) for r in fixed["rows"]}) > 1, fixed["text"]

# %% [markdown]
# {glue:text}`fixed_sentence` The CO score is a difference of raw outputs, so its scale is the model's logit scale and a
# number such as 48 means something different on every model; a quantile of the existing methods' scores on the same
# images adapts the target to the model.
# ````{solution-end}
# ````
#
# ````{exercise-start}
# :label: ex-gax-2
# ````
# Lower the similarity weight $l_s$ to 0: how fast is the target reached now, and what do the heatmaps look like?
# *Time: 15 min.*
# ````{exercise-end}
# ````


# %% tags=["exercise"]
def my_answer(h: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """Per image, shape (B,): the mean over channels and pixels of (h - x + eps)^2 / (x + eps), eps = 1e-4, the
    distance that the similarity term of eq. (6) divides l_s by (small when h copies x)."""
    raise NotImplementedError("compute the similarity distance of each image here")


# first the distance of the chapter's own GAX heatmaps (l_s as set above) from their images; then run
# gax(..., similarity=0.0) on the same images and compare the iterations and this distance
kept_h, kept_x = runs[first]["result"].heatmaps.cpu(), runs[first]["data"].inputs
answer = teaching.attempt(my_answer, kept_h, kept_x)
if answer is not None:
    teaching.check(answer, similarity_distance(kept_h, kept_x), rtol=1e-4, atol=1e-9, what="the distance per image")

# %% [markdown]
# ````{solution-start} ex-gax-2
# :class: dropdown
# ````


# %% tags=["solution"]
# NBVAL_CHECK_OUTPUT
def my_answer(h: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """Per image: the mean of (h - x + eps)^2 / (x + eps) over its values."""
    d = h - x + 1e-4
    return (d * d / (x + 1e-4)).flatten(1).mean(1)


sim = gax_generative.similarity_study(runs[first], first, setup)
print(sim["text"])
report.glue("free_sentence", sim["text"])
if book_run:
    assert sim["m_free"] < sim["m_kept"], sim["text"]
    assert (sim["nearer"], sim["closer"]) == ("reproduced", "not reproduced"), sim["text"]  # the reason is undecided
# the starter's check, with the function written out (the distances above are the library's)
kept_h, kept_x = sim["kept"].heatmaps.cpu(), runs[first]["data"].inputs
assert teaching.check(my_answer(kept_h, kept_x), similarity_distance(kept_h, kept_x), rtol=1e-4, atol=1e-9,
                      what="the distance per image")  # fmt: skip

# %% [markdown]
# {glue:text}`free_sentence` The similarity term adds $l_s$ divided by the distance of $h$ from $x$, so it grows
# without bound as the heatmap approaches a copy of the image (a copy $h \approx x$ would score without explaining
# anything, {doc}`06_rotation_toy`); with $l_s = 0$ nothing holds the heatmap away from the image, and the score alone
# steers $w$. A correlation measures a different closeness: an affine copy of the image correlates perfectly with it
# at any distance.
# ````{solution-end}
# ````
#
# ````{exercise-start}
# :label: ex-gax-3
# ````
# Use GAX's bias option on `digits`, whose background is black: the paper's fix for images with many zeros, as a fixed
# constant (`gax(..., bias=0.01)`) and as the authors' code has it, a per-pixel parameter trained from $0.01$
# (`train_bias=True`). Does the bias change how many images reach the target, and through what?
# *Time: 15 min.*
# ````{exercise-end}
# ````
#
# ````{solution-start} ex-gax-3
# :class: dropdown
# ````

# %% tags=["solution"]
# NBVAL_CHECK_OUTPUT
dg = load_system(parse_system("digits/resnet"), prof, seed, dev)
bias = gax_generative.bias_study(dg, setup, quantile)
report.show(bias["table"], gax_generative.BIAS_FORMATS)
print(bias["text"])
report.glue("bias_sentence", bias["text"])
if book_run:
    assert bias["effect"] == "raises", bias["text"]
    rows = bias["rows"]
    assert rows["none"]["similarity term at the start"] > 10 * rows["fixed 0.01"]["similarity term at the start"], bias[
        "text"
    ]
if np.isfinite(bias["moved_background"]):  # d h / d b = 1 - tanh^2 != 0: a trained bias moves the background
    assert bias["moved_background"] > 0, bias["text"]

# %% [markdown]
# {glue:text}`bias_sentence`
#
# The authors' code (the v1 pneumonia `Generator`) makes $b$ a trainable per-pixel parameter initialised to $0.01$
# (`train_bias=True` here); what follows explains the fixed bias, the simpler of the two. With a fixed $b$
# inside the tanh, on a pixel with $x = 0$, $h = \tanh(w \cdot 0 + b) = \tanh(b)$ whatever $w$, and
# $\partial h / \partial w = (1 - \tanh^2)\,x = 0$, with or without the bias, so the background cannot move either
# way. (With the authors' trainable $b$, $\partial h / \partial b = 1 - \tanh^2(b) \neq 0$: the background can move.)
# The fixed bias changes two things. The model's input: on the black pixels $x + h$ is $\tanh(0.01)$ instead of 0 (the
# two starting CO scores above show what that does to the score before any step). And the similarity term: without the
# bias, $h = x = 0$ on a black pixel, which adds only $\epsilon = 10^{-4}$ to the mean
# $\langle (h - x + \epsilon)^2 / (x + \epsilon) \rangle$; with it, $h \approx 10^{-2}$ there adds about
# $(10^{-2})^2 / 10^{-4} = 1$. So without the bias the mean is small and the term $l_s / \langle\cdot\rangle$ large
# (the table above), and the term's gradient, $-(l_s / \langle\cdot\rangle^2)$ times the gradient of the mean, grows
# with the square of the term: by the formula, it can outweigh the score's gradient on the pixels that can move. This
# is the mechanism of the formula, not a measured split of the gradient. The paper reports the symptom on X-rays with
# many zeros, "the similarity factor seems insufficient, resulting in heatmaps that mirror the input images", and adds
# the bias "for the optimization to work"; a heatmap that mirrors its image is one whose mean is small and whose
# term is large.
# ````{solution-end}
# ````
#
# ## Resources
#
# * The GAX paper {cite}`tjoa2021gax` and its code {cite}`tjoa2021gaxcode`.
# * {doc}`07_gax_co_gap` for the CO scores of the existing methods that set the `auto` target.
#
# ## Implementation notes
#
# * **Batched GAX**: every image has its own $w$ and its own Adam state, and only the images still below the target
#   are evaluated at each iteration, in calls of the calibrated size. The Adam update is computed as
#   `torch.optim.Adam` computes it (bit for bit, tested), and the loss gradient is the chain rule of eq. (6) written
#   out from the model's input gradient (equal to autograd's to $10^{-12}$ in float64, tested). A batch gives the same
#   heatmaps and stopping steps as its images one at a time (tested against the reference loop written with
#   `torch.optim.Adam`), up to floating-point summation order, which Adam's normalised steps can amplify.
# * **Iteration cap**: the reference code has none; ours is `gax_max_steps`, and images that do not reach the target
#   are reported.
# * **Target rule** (`target_co = "auto"`): the `target_quantile` of the six captum methods' CO scores on the same
#   images, rounded up.
# * **Bias**: the paper writes $h = w x + b$ with $b = 0.01$, and the authors' code (v1 pneumonia `Generator`) trains
#   $b$ as a per-pixel parameter initialised to $0.01$, inside the tanh. Our option `bias` sits inside the tanh,
#   $\tanh(w x + b)$ (the default), or outside, $\tanh(w x) + b$; it is a fixed constant unless `train_bias=True`,
#   which trains it per pixel with its own Adam (the same settings as $w$'s), as the authors' code does. The default is
#   no bias, as eq. (6) is written. On a zero pixel $w$ cannot move $h$; only a trained $b$ can (the exercise on the
#   bias).
# * **Extremes**: a pixel's intensity is its mean over channels; the dark and the bright side are its image's darkest
#   and brightest $20\%$, each compared with the middle $60\%$ on its own. `GAXResult.weights` holds the final $w$;
#   each side is a claim of its own, decided on three ratios, each with a bootstrap interval over the images: GAX's
#   change $|w - 1|$, the model's sensitivity $|\partial s_{co} / \partial (x + h)|$ at
#   $h = \tanh(x)$ (`xai_lib.metrics.co.co_gradient`) and the heatmap's change $|h - \tanh(x)|$; a side agrees when the
#   first two lie above 1 and the third does not lie below 1, and contradicts when the first and the third both lie
#   below 1 (the change of $w$ alone does not decide against what the heatmap shows: the chapter reads the
#   observation as one about the heatmap). A stricter reading would let the change of $w$ alone contradict the paper:
#   {glue:text}`w_alone_sentence` The parametrisation's sensitivity
#   $x\,(1 - \tanh^2(x))$ is shown. Exercise `ex-gax-2` also gives the $|w - 1|$ ratio of a run without the
#   similarity term, which weighs dark pixels up. The paper names no measure;
#   the model's gradient at the start is our choice (along the run it changes as $h$ does).
#   The absolute reading beside it (our choice, the paper names no threshold) groups each channel value: dark below
#   {glue:text}`abs_dark_below:.1f`, bright above {glue:text}`abs_bright_above:.1f`, exact zeros left out
#   (`xai_lib.experiments.gax_generative`); it is reported, not used by the card.
# * **Matched iterations** (`gax(..., stop_at=...)`): two runs that stop after different numbers of iterations are
#   also compared after running both again to the sooner stop of each image. GAX's path does not depend on when an
#   image stops, so this is each run's own heatmap at that iteration (up to the floating-point summation order of a
#   batch of another size). The verdicts keep the runs at the target, the paper's protocol; the matched comparison says
#   whether the number of steps alone could explain them (the spurious and the clean model, exercise `ex-gax-2`'s
#   similarity term, exercise `ex-gax-3`'s bias). The extreme-intensity ratios are also read at one iteration per
#   system, the median of its images' numbers of steps (the book's choice; the images that stop sooner are left out),
#   and the model's sensitivity at the final heatmap as well as at the start (`extreme_intensities_timing.csv`).
# * **Still rising** (`GAXResult.still_rising`): an image that misses the target had a new best CO score in the last
#   quarter of its iterations.
# * **Enrichment** measures $\sum_c |h_c|$ (or $|h - \tanh(x)|$) on the mark over its area share; painting the mark over
#   fills it with the mean colour of the rest of the image. The false-distinct-feature verdict uses the enrichment of
#   $h$ (what the paper's figure shows) and the signed change of $h$ on the mark from its start (the starting map
#   $\tanh(x)$ is the same under both models); the enrichment of the unsigned change $|h - \tanh(x)|$ is reported,
#   not used, since it counts a lowering of the mark as change on it.
# * **Similarity distance** (`similarity_distance`, the exercises on $l_s$ and on the bias):
#   $\langle (h - x + \epsilon)^2 / (x + \epsilon) \rangle$ per image, the mean that eq. (6) divides $l_s$ by.
# * **Where the heatmap is added**: GAX needs inputs in $[0, 1]$ (eq. 6 divides by $x + \epsilon$) and adds $h$ to those
#   pixels, as the paper's GAX does; a system's normalisation is part of its model, so $\mathrm{DNN}(x)$ and
#   $\mathrm{DNN}(x + h)$ are the same model on pixels. (The reference code's ImageNet GAX computes $\mathrm{DNN}(x)$ on
#   the normalised image but $\mathrm{DNN}(x + h)$ on the un-normalised one; we do not.) The book's own models take
#   pixels, so their input is the network's input. {doc}`07_gax_co_gap` compares the two places for the existing
#   methods' heatmaps.
# * **Correlation with the image** (the exercise on $l_s$): Pearson's correlation of $h$ and $x$ over each image's
#   pixels and channels (`pixel_correlation`).
