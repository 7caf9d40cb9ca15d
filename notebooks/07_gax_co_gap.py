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
# (chapter-co-gap)=
# # GAX: the CO-score gap between correct and wrong predictions
#
# ```{chapter-times}
# ```
#
# **What this chapter reproduces.** Section 4.1 of the GAX paper {cite}`tjoa2021gax` (Figs. 2, 3 and 7-16): add a
# method's heatmap to its input (the {term}`AX` process) and measure, with the {term}`CO score` {eq}`eq-co`, whether
# the model becomes more confident in the *true* class. Heatmaps are computed for the *predicted* class, so they can
# help when the prediction is right and hurt when it is wrong: the paper reports that the CO scores of correct and
# wrong predictions separate (the {term}`CO gap`). We do this for the paper's six captum {cite}`kokhlikyan2020captum` methods on
# each system of the `systems` parameter (the card's settings list them; a `_sub` model is an under-trained twin of
# the model of the same name). The gap is measured, not eyeballed: the {term}`AUROC` of the CO score as a detector of
# correct predictions, with a bootstrap interval, the threshold {cite}`youden1950` at which a user would flag a
# prediction, and the paper's observation that better-trained models give wider gaps, tested on
# well-trained/under-trained pairs. Last, where the heatmap is added: the tables add it to the pixels, as the paper's
# first (v1) pneumonia code does, its later (v2) code to the network's normalised input; a scale study of
# $x + s\,h$ shows what the size of that perturbation does to accuracy, next to two controls: the same values at
# shuffled positions, and the heatmap moved by half the image.
#
# **Learning objectives.** After this chapter you can
# 1. compute the CO score {eq}`eq-co` of any heatmap, in its four variants, and explain the role of {term}`kappa`;
# 2. turn a distribution gap into a detector (AUROC with a confidence interval, a flag threshold) and say when its
#    estimate is too thin to trust;
# 3. test a claim about two models (a wider gap) with an interval on the difference;
# 4. separate the effect of a heatmap's size from the effect of where it puts its values (the scale study and its
#    two controls).
#
# **Prerequisites.** {doc}`06_rotation_toy` (the CO score on a 2D toy); {doc}`01_embedded_benchmark` for the `_sub`
# models.
#
# ```{glue:} card_settings
# ```
# ```{glue:} card_claims
# ```

# %% [markdown] tags=["instructor"]
# ````{admonition} Instructor notes
# :class: dropdown
# **Learning objectives in practice.**
# * Compute a CO score for one image by hand: the heatmap for the *predicted* class, $\kappa$ from the *true* one,
#   and say which of the two ingredients carries the label.
# * Read the AUROC table as a detector: its direction by the side of $0.5$, its strength by $|\mathrm{AUROC} - 0.5|$,
#   "beyond chance" by the interval, and leave out a thin cell instead of counting it.
# * Turn a flag threshold into what a reviewer pays for (wrong predictions caught, correct ones re-checked), and
#   check it on images it was not fitted to and against a baseline that needs no heatmap: the true-class probability
#   $p_y(x)$ for a score whose $\kappa$ uses the label, the max softmax probability for one whose $\kappa$ does not.
# * Tell the size of a perturbation from its layout with the scale study and its two controls (shuffled, rolled).
#
# **Common misconceptions.**
# 1. "The CO gap shows that heatmaps explain correct predictions better." The heatmap never sees the label: $\kappa$
#    does, and it is built from the ground truth, so part of the gap can be the label's alone. *Exposed by*: exercise
#    `ex-co-1` ($\kappa$ from the prediction); its sentence says whether the gap survives, shrinks, grows, vanishes
#    or reverses without the label: {glue:text}`summary_kappa`
# 2. "An AUROC interval above $0.5$ is the paper's distinct gap." It only says the separation is beyond chance; a
#    large gap is a large AUROC. *Exposed by*: section "The gap, measured: AUROC with a bootstrap CI", whose sentence
#    counts the cells above chance, and the card's row on distinct gaps, which tests each cell's interval against the
#    large-gap mark; compare the two, and look at the histograms of `co_histograms.png` for how much the two groups
#    overlap.
# 3. "InputXGradient degrades the accuracy on x + h because it is a worse method than the others." Added to pixels in
#    $[0, 1]$, every method's $h \in [-1, 1]$ is a perturbation as large as the image's range. *Exposed by*: the
#    table "InputXGradient against the other methods", which tests InputXGradient's drop against theirs on the same
#    images ({glue:text}`ixg_sentence`); and section "Where the heatmap is added: pixels or the network's input",
#    whose scale study measures the accuracy as $s$ shrinks, and whose shuffled and rolled controls separate the size
#    of $h$ from where it puts its values ({glue:text}`paper_scale_sentence` {glue:text}`control_sentence`).
#
# **Discussion prompts.**
# 1. At deployment there is no label. Which part of the CO gap could a deployed flag still use? *Expected answer*:
#    only the part that survives $\kappa$ from the prediction (exercise `ex-co-1`); the rest needs the truth, which
#    is why the paper proposes the score for checking labels. Here: {glue:text}`summary_kappa`
# 2. Would you ship the CO flag, and against what? *Expected answer*: it depends on where $\kappa$ comes from. With
#    $\kappa$ from the truth the score uses the label (and with the label, "prediction equals label" is a perfect
#    detector), so it can only check labels, and its baseline is a label-using score without a heatmap, the
#    true-class probability $p_y(x)$: the last column of the baseline table in exercise `ex-co-2`. With $\kappa$
#    from the prediction it is a deployment detector, and its baseline is the max softmax probability (exercise
#    `ex-co-1`). A CO cell is worth six heatmaps and two forward passes only where its interval lies above its
#    baseline, and the best cell was chosen on the same images, so even a "beats it" is optimistic until checked on
#    new images.
# 3. If the softmax variants separate in reverse (wrong predictions score higher; the sentence of exercise `ex-co-2`
#    says whether they do here), why could that be? *Expected answer*: with $\kappa$ from the truth the softmax CO is
#    $\frac{C}{C-1}$ times the change of the true-class probability; a hypothesis is a ceiling (a confident correct
#    prediction's $p_y$ is near 1 and cannot rise, a wrong one's can), which the comparison with $p_y(x)$ alone in
#    `ex-co-2` probes: if the cell does not beat $p_y(x)$, the heatmap adds nothing measurable to it. Our softmax CO
#    (softmax of both outputs) is not the reference code's, so these cells do not test the paper's softmax figures.
#
# **What to project.**
# 1. `co_histograms.png`: the gap as the paper draws it; ask where a reviewer would put the flag.
# 2. The AUROC table "AUROC of the CO score (raw outputs, x + h)" with its sentence: direction, thin cells, no
#    estimate.
# 3. The table "Best-separating method and variant per system": the direction column and the softmax column.
# 4. `wider_gap_when_better_trained.csv` (the twin-pair table): how wide the paired intervals are.
# 5. `scale_study.csv` (the scale-study table): accuracy against $s$, beside the shuffled and the rolled controls;
#    `heatmap_controls.csv`: which of the two controls the heatmap separates better than, at $s = 1$.
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
profile = "book"  # smoke | class | book | paper (paper: every test input)
systems = "shapes/vgg,shapes/vgg_sub,shapes/resnet,shapes/resnet_sub,digits/resnet,digits/resnet_sub,breast_cancer/mlp,wine/mlp"  # dataset/model items, a JSON list or a .json/.yaml file
show_system = "shapes/resnet_sub"  # the system drawn as histograms (paper Fig. 2 style) and of the scale study; the first system if absent
few_wrong = 20  # below this many wrong predictions an AUROC is thin: shown, but left out of every count and verdict
ax_scales = "0.1,0.25,0.5,1"  # the scale study: accuracy and CO of x + s*h on show_system for these s
cluster = "none"  # "none", "local:N" (N worker processes) or a Dask scheduler address tcp://host:8786
seed = 0
device = "auto"
output_dir = "outputs/gax_co_gap"

# %%
import numpy as np

import xai_lib
from xai_lib import parallel, params, report, teaching
from xai_lib.experiments import co_gap_report as cg
from xai_lib.plotting import save_table
from xai_lib.systems import load_systems

prof = xai_lib.get_profile(profile)
few_wrong = params.positive_int("few_wrong", few_wrong)
scales = sorted(set(params.float_list("ax_scales", ax_scales, lo=0.0)))
out = params.output_dir("output_dir", output_dir)
dev = xai_lib.setup(seed, device, profile=prof)
runner = parallel.Runner(cluster)
loaded = load_systems(systems, prof, seed, dev)
names = [s.name for s in loaded]
show_system = show_system if show_system in names else names[0]
show = next(s for s in loaded if s.name == show_system)
# the solutions' asserts on empirical facts hold for the book's own run (these defaults, seed 0, `book` or `class`)
book_run = (
    xai_lib.computes_as_book(prof) and seed == 0 and few_wrong == 20 and scales == [0.1, 0.25, 0.5, 1.0]
    and systems == "shapes/vgg,shapes/vgg_sub,shapes/resnet,shapes/resnet_sub,digits/resnet,digits/resnet_sub,breast_cancer/mlp,wine/mlp"
    and show_system == "shapes/resnet_sub"
)  # fmt: skip
for s in loaded:
    print(s.describe())

# %% [markdown]
# ## CO scores of every method, on every system
#
# For each system: up to `gax_images` test inputs, the model's prediction, the six heatmaps for the predicted class
# normalised to $[-1, 1]$ ($h = a / \max|a|$), and the CO score of eq. (5),
#
# $$ s_{co}(x, h) = \kappa \cdot \big[\mathrm{DNN}(x \oplus h) - \mathrm{DNN}(x)\big], \qquad \kappa_c = 1 \text{ for the true class}, \ \kappa_{c'} = -\tfrac{1}{C-1} \text{ otherwise}, $$ (eq-co)
#
# with $\kappa$ built from the **ground truth**, in four variants: AX by $x + h$ or $x \cdot h$, on raw outputs or on
# softmax outputs. Heatmaps are computed on, and added to, the **pixels** in $[0, 1]$ (a system's normalisation is
# part of its model); the section on where the heatmap is added compares the paper's variant for systems that
# normalise their inputs, and a scale study stands in where none does. For `show_system` the
# same shards also compute the scale study ($x + s\,h$ for each `ax_scales` value). Shards of inputs are cached as
# they finish and may run on a Dask cluster (`cluster`).

# %%
tables = cg.score_systems(loaded, prof, seed, device, runner, scales, show_system)
co_table, ax_table, pred_table = tables["co"], tables["ax"], tables["pred"]
save_table(co_table, out / "co_scores.csv")
save_table(ax_table, out / "accuracy_after_ax_per_image.csv")
if len(tables["skipped"]):
    print(tables["skipped"].to_string(index=False))
report.glue("n_scores", len(co_table))

# %% [markdown]
# ## The gap, as the paper draws it
#
# Histograms of the CO scores of correct (blue) and wrong (red) predictions for one system, raw outputs, AX by
# $x + h$ (paper Fig. 2 and 3 style), then boxplots over all systems.

# %% tags=["hide-input"]
cg.plot_histograms(co_table, show_system, out / "co_histograms.png")

# %% tags=["hide-input"]
cg.plot_boxplots(co_table, names, out / "co_boxplots.png")

# %% [markdown]
# ## The gap, measured: AUROC with a bootstrap CI
#
# For each system, method and variant: the AUROC of the CO score as a detector of *correct* predictions ($0.5$: no
# information; 1: every correct prediction scores above every wrong one), a $95\%$ percentile bootstrap interval
# (resampling correct and wrong predictions separately), and Youden's threshold: flag a prediction for review when
# its CO score lies on the wrong predictions' side of it (below it where correct predictions score higher, above it
# where wrong ones do: the direction column of the tables below). Systems with fewer than five wrong or five correct predictions get no estimate; with fewer than
# `few_wrong` the interval rests on a handful of wrong predictions: such a *thin* cell is shown but left out of the
# counts and verdicts. An interval above $0.5$ says the separation is *beyond chance*, which is less than the visible
# gap of the paper's figures; the AUROC itself says how large it is.

# %%
# NBVAL_CHECK_OUTPUT
gap = cg.gap_study(co_table, names, few_wrong, prof.n_boot, seed)
save_table(gap["auc_table"], out / "co_auroc.csv")
report.glue("gap_sentence", gap["sentence"])
report.show(gap["wide"].reset_index(), "{:.3f}", caption="AUROC of the CO score (raw outputs, x + h)")
# the heatmap controls on show_system: the AUROC with the heatmap minus the AUROC with the same values at shuffled
# positions (no layout, no smoothness) and moved by half the image (the same smoothness at other places)
control = cg.control_study(tables["scaled"], show_system, few_wrong, prof.n_boot, seed)
save_table(control["controls"], out / "heatmap_controls.csv")
if len(control["counted"]):
    report.show(control["control"], cg.CONTROL_FORMATS,
                caption=f"the heatmap controls on {show_system}: CO AUROC with h and with a control (s = 1)")  # fmt: skip
report.glue("control_sentence", control["text"])

# %% [markdown]
# {glue:text}`gap_sentence` The paper's "distinct gaps", read as an AUROC of at least $0.9$, is a claim of its own on
# the card: each counted cell's interval against $0.9$.
#
# Is the separation the heatmap's? The scale study further down also scores, on `show_system`, two controls of each
# heatmap: its own values at shuffled positions (the same size and histogram, no layout, but no smoothness either:
# pixel-level noise), and the heatmap moved by half the image in both directions, wrapping around (the same values
# and smoothness, at other places). At $s = 1$ they are controls for the table above.
# {glue:text}`control_sentence`
#
# Which method separates best? A detector separates as well when its AUROC lies far *below* $0.5$ (wrong predictions
# score higher: flag the high scores) as when it lies far above, so cells are ranked by the distance $|AUROC - 0.5|$,
# and the table says the direction. First per system, over every method and variant (the flag thresholds of this
# table are what a reviewer would use), for the systems with at least `few_wrong` wrong predictions; the top cell is
# *tied* with the runner-up when the paired bootstrap interval of their difference of distances reaches 0. Then, for the paper's claim that the best method depends on the dataset, in the
# paper's variant (raw, $x + h$) with the runner-up beside it: the best method is *distinct* only when the paired
# bootstrap interval of its distance minus the runner-up's (the same images resampled for both) lies above 0. Best and
# runner-up are chosen on the same images the interval is computed on, with no correction for the choice among six
# methods, so a *distinct* best is an optimistic call; a dataset's best method counts as *established* only when it
# has at least two eligible systems and more than half of them name it.


# %%
# NBVAL_CHECK_OUTPUT
ranking = cg.ranking_study(gap["auc_table"], co_table, names, few_wrong, prof.n_boot, seed)
save_table(ranking["best"], out / "best_cell_per_system.csv")
report.glue("top_sentence", ranking["top_text"])
report.show(ranking["best"], {c: "{:.3f}" for c in ("AUROC", "CI low", "CI high", "top minus runner-up", "diff CI low",
                                                     "diff CI high", "threshold")},
            caption="Best-separating method and variant per system, by |AUROC - 0.5| (flag predictions whose CO lies "
                    "on the flagged side of the threshold)")  # fmt: skip
save_table(ranking["best_raw"], out / "best_method_per_system.csv")
report.glue("best_sentence", ranking["best_sentence"])
report.show(ranking["best_raw"], {c: "{:.3f}" for c in ("AUROC", "runner-up AUROC", "difference", "CI low", "CI high")},
            caption="Best method per system (raw, x + h) against the runner-up (difference of |AUROC - 0.5|)")  # fmt: skip

# %% [markdown]
# {glue:text}`top_sentence`
#
# {glue:text}`best_sentence` (The paper: Saliency on ImageNet, Deconvolution on chest X-rays, read off the figures.)
#
# ## Do better-trained models give wider gaps?
#
# The paper reads it off two figures (Resnet34 against Resnet34_sub on chest X-rays). Here, for every well-trained
# system whose `_sub` twin is also in `systems`: the difference of their AUROCs (raw, $x + h$) per method, with a
# $95\%$ paired bootstrap interval on the difference. Both models score the same test images, so the images are
# resampled once for both (within the four groups of images right or wrong under each model, which keeps each
# model's counts of right and wrong predictions). A cell is *wider* when the interval lies above 0, *narrower* below 0,
# and *undecided* when it spans 0 (the interval cannot tell the difference from 0); a cell where either model has fewer than five
# wrong or five correct predictions is not estimable, and one where either has fewer than `few_wrong` is thin and left out.

# %%
# NBVAL_CHECK_OUTPUT
twins = cg.twin_study(co_table, names, few_wrong, prof.n_boot, seed)
save_table(twins["pairs"], out / "wider_gap_when_better_trained.csv")
report.glue("wider_sentence", twins["text"])
report.show(twins["pairs"], "{:.3f}")

# %% [markdown]
# {glue:text}`wider_sentence` The rule: *reproduced* when every counted cell is wider, *partly* when at least half
# are, *not reproduced* when fewer than half are and at least half are narrower, *inconclusive* otherwise (the
# undecided intervals leave the claim open).
#
# ## Does the AX process change accuracy? (appendix Table 2 analogue)
#
# The accuracy of the model on $x \oplus h$ for each method, next to its accuracy on $x$; then, for the paper's claim
# about InputXGradient, the change of accuracy per system with a $95\%$ bootstrap interval over the images (paired:
# each image right or wrong before and after).


# %%
# NBVAL_CHECK_OUTPUT
accuracy = cg.accuracy_study(pred_table, ax_table, prof.n_boot, seed)
acc = accuracy["acc"]
save_table(acc, out / "accuracy_after_ax.csv")
report.glue("ax_sentence", accuracy["ax_sentence"])
report.glue("acc_ranges", accuracy["acc_ranges"])
save_table(accuracy["ixg_own"], out / "ixg_vs_other_methods.csv")
report.glue("ixg_sentence", accuracy["ixg_sentence"])
report.show(acc.pivot_table(index=["method", "AX"], columns="system", values="correct after", sort=False)
            .reset_index(), "{:.2f}", caption="accuracy on x + h (sum) and x * h (mul)")  # fmt: skip
ci_formats = {"CI low": "{:.2f}", "CI high": "{:.2f}"}
report.show(accuracy["ixg"].drop(columns="cell"), {"accuracy change": "{:.2f}"} | ci_formats,
            caption="InputXGradient, x + h: change of accuracy")  # fmt: skip
report.show(accuracy["ixg_own"].drop(columns="cell"), {"IXG minus others": "{:.2f}"} | ci_formats,
            caption="InputXGradient against the other methods, x + h: correctness minus theirs, per image")  # fmt: skip

# %% [markdown]
# {glue:text}`ax_sentence` {glue:text}`acc_ranges` {glue:text}`ixg_sentence` (The paper: InputXGradient degrades
# accuracy on every dataset and model.) How much of the change comes from *where* the heatmap puts its values, and how
# much from their *size*? The scale study below measures it on one system (`show_system`), against two controls: the
# same values at shuffled positions, and the heatmap moved by half the image.
#
# ## Where the heatmap is added: pixels or the network's input
#
# The tables above add $h \in [-1, 1]$ to pixels in $[0, 1]$: the perturbation is as large as the image's whole range.
# The paper's code exists in two versions. The first (v1, the pneumonia code under `legacy/v1`) computes the heatmap on
# the raw $[0, 1]$ image and adds it there, as our tables do. The later one (v2: `ax_imagenet.py`,
# `ax_chestxray_pneu.py`) computes the heatmap on the network's **normalised** input $(x - \mu)/\sigma$ and adds it
# there, $\mathrm{net}\big((x - \mu)/\sigma + h\big)$: in pixel units that is $x + \sigma h$, with ImageNet's
# $\sigma$ near a quarter (`Preprocessed` holds $\mu$ and $\sigma$ of a system's normalisation). For a system with a
# normalisation, the shards also compute this variant (heatmap and AX in the network's input space); for the book's own
# models, which take pixels, the two variants are one computation. To see what the perturbation's size does on any
# model, the **scale study** adds $s\,h$ for each `ax_scales` value on `show_system`: $s = 1$ is the tables' variant,
# $s = \sigma$ mimics the paper's v2 code on a normalised model. Its **control** adds $s\,h'$, where $h'$ holds the same
# values as $h$ at random positions (one permutation of the pixels per image and method, the same for every channel):
# the same size and histogram without the heatmap's layout, and without its smoothness. A second control, for images,
# adds $h$ moved by half the image in both directions (wrapping around): the same values and smoothness at other
# places. Each image is right or wrong under each, so the difference of two accuracies has a paired bootstrap
# interval; the heatmap *costs more* than a control when it lies below 0.

# %%
# NBVAL_CHECK_OUTPUT
network = cg.network_input_study(tables["model_input"], gap["headline"], acc, accuracy["base_acc"], prof.n_boot, seed)
if network["table"] is not None:
    save_table(network["table"], out / "network_input_variant.csv")
report.glue("space_sentence", network["text"])
if network["table"] is not None:
    report.show(network["table"], {c: "{:.2f}" for c in ("accuracy on x", "accuracy, pixels", "accuracy, network input")}
                | {c: "{:.3f}" for c in ("AUROC, pixels", "AUROC, network input", "CI low", "CI high")},
                caption="the paper's variant: heatmap computed on and added to the normalised input")  # fmt: skip

# %% [markdown]
# ````{exercise-start}
# :label: ex-co-predict
# ````
# **Predict first.** The next cell adds $s\,h$ for each `ax_scales` value on `show_system` and computes the AUROC of
# the CO score at each scale. A smaller heatmap moves the model's outputs less. Before you run it, predict for most
# methods: is the AUROC at the smallest scale larger or smaller than at the largest (the tables' $x + h$ when the
# largest is $s = 1$)? Write down your answer and one sentence of reasoning. *Time: 5 min.*
# ````{exercise-end}
# ````

# %% tags=["answers-prediction"]
# NBVAL_CHECK_OUTPUT
acc_x = float(accuracy["base_acc"][show_system])
scale = cg.scale_study(tables["scaled"], ax_table, acc_x, 1.0 / show.data("test").num_classes, show_system, scales,
                       prof.n_boot, seed)  # fmt: skip
save_table(scale["table"], out / "scale_study.csv")
if len(scale["table"]):
    report.show(scale["table"].drop(columns=["rolled CI low", "rolled CI high"]), cg.SCALE_FORMATS,
                caption=f"scale study on {show_system}: x + s h, the same values at shuffled positions, and h moved by "
                        "half the image (rolled; its intervals in scale_study.csv)")  # fmt: skip
report.glue("scale_sentence", scale["text"])
report.glue("predict_scale_sentence", scale["predict_text"])

# %% [markdown]
# ````{solution-start} ex-co-predict
# :class: dropdown
# ````
# {glue:text}`predict_scale_sentence` {glue:text}`predict_scale_tested`
#
# A hypothesis for why the size could matter (the paired test measures the difference, not its cause): for a
# small $s$ the CO score is, to first order, $s\,\kappa^\top J(x)\,h$, with $J$ the
# Jacobian of the outputs at $x$: the derivative of the true-class margin along the heatmap, a quantity that needs
# no large step. For Saliency $h$ is the predicted class's gradient, so on a correct prediction this term holds the
# squared norm of the true class's gradient, and on a wrong one the inner product of two different classes'
# gradients: a signal about the label. As $s$ grows towards the image's whole range, the outputs on $x + s\,h$ are
# more and more the model's response to a damaged image (the accuracy column), a response that need not carry such
# a signal and could swamp the first-order term. The paired test compares the two AUROCs on the same images, each right
# or wrong on $x$, so the images' own difficulty cancels.

# %% tags=["solution"]
# NBVAL_CHECK_OUTPUT
# the glued direction, recomputed from the scale study's table; then, per method, the AUROC at the smallest scale
# minus the AUROC at the largest on the same images (paired bootstrap: the images are resampled once for both)
tested_text = cg.scale_tested(scale, prof.n_boot, seed)
report.glue("predict_scale_tested", tested_text)
print(scale["predict_text"], tested_text)
if book_run:
    assert scale["auc_move"] == "higher", scale["predict_text"]

# %% [markdown]
# ````{solution-end}
# ````
#
# {glue:text}`space_sentence` {glue:text}`scale_sentence`
#
# Every other table of this chapter uses the pixel variant: $x + h$ with $h$ in pixel units ($s = 1$). That is about
# four times the perturbation of the paper's v2 code, whose $\sigma$ is near a quarter, so the InputXGradient claims of
# appendix Table 2 are also tested at the `ax_scales` value nearest a quarter (within a tenth, else *not comparable*),
# on `show_system`, the one system of the scale study: the same two tests as above, on its images.

# %%
# NBVAL_CHECK_OUTPUT
paper = cg.paper_scale_study(scale["sc"], scales, show_system, acc_x, prof.n_boot, seed)
report.glue("paper_scale_sentence", paper["text"])
print(paper["text"])

# %% [markdown]
# {glue:text}`paper_scale_sentence`

# %% tags=["hide-input"]
# NBVAL_CHECK_OUTPUT
claims = cg.card_claims(gap, control, ranking, twins, accuracy, paper, scale, show_system, few_wrong)
settings = cg.card_settings(loaded, names, prof.gax_images, network["normalised"], show_system, scales)
print(report.card("07_gax_co_gap", settings, claims, out, seed=seed).verdict.value_counts().to_string())
report.glue("summary_gap", gap["text"])
report.glue("summary_ax", cg.summary_ax(accuracy, scale, paper))

# %% [markdown]
# ## Summary
#
# * Heatmaps are computed for the predicted class and scored against the true one. {glue:text}`summary_gap`
#   {glue:text}`summary_kappa`
# * {glue:text}`top_sentence`
# * {glue:text}`best_sentence`
# * {glue:text}`wider_sentence`
# * {glue:text}`summary_ax` The tables add the heatmap to the pixels, as the paper's first (v1) pneumonia code does;
#   its later (v2) code, for ImageNet and the chest X-rays, adds it to the network's normalised input, a smaller
#   perturbation.
# * {glue:text}`summary_seeds`
#
# ## Self-check
#
# Answer before you open the exercises; each choice explains itself.

# %% tags=["remove-input"]
teaching.quiz("07_gax_co_gap", "quizzes/07_gax_co_gap.json")

# %% [markdown]
# ## Exercises
#
# *In class, run this chapter at the `class` profile (`papermill -p profile class`): it computes with the book's data
# and shipped models, so on a CPU that runs the book's kernels (`make` sets them on every x86-64 CPU with AVX2) your
# answers match the solutions; elsewhere a count may differ by an image or so, within the tolerances on the How to run
# page.*
#
# ````{exercise-start}
# :label: ex-co-1
# ````
# The labels enter the CO score only through $\kappa$. Rebuild the score of one method on one system with $\kappa$
# from the *predicted* class instead of the true one: what happens to the gap, and why is that the point?
# *Time: 20 min.*
# ````{exercise-end}
# ````

# %% tags=["exercise"]
from xai_lib.captum_glue import heatmaps  # noqa: E402
from xai_lib.models import batched_logits  # noqa: E402


def co_with_kappa_from(
    system_name: str, method: str, use_prediction: bool, n: int = 256
) -> tuple[np.ndarray, np.ndarray]:
    """CO scores (raw, x + h) of ``method`` with kappa from the prediction or from the truth; and correctness."""
    from xai_lib.metrics import co_scores

    s = next(x for x in loaded if x.name == system_name)
    d = s.data("test")
    x, y = d.inputs[:n].to(dev), d.targets[:n].to(dev)
    pred = batched_logits(s.model, x).argmax(1).to(dev)
    h = heatmaps(s.model, x, method, target=pred)
    return co_scores(s.model, x, h, pred if use_prediction else y).cpu().numpy(), (pred == y).cpu().numpy()


# your turn: compare the AUROC of co_with_kappa_from(show_system, "Saliency", False, n) and (..., True, n), with n the
# number of images of the tables above (int((pred_table.system == show_system).sum()))

# %% [markdown]
# ````{solution-start} ex-co-1
# :class: dropdown
# ````

# %% tags=["solution"]
# NBVAL_CHECK_OUTPUT
n_table = int((pred_table.system == show_system).sum())  # the images of the tables above, so the AUROCs compare
co_truth, right = co_with_kappa_from(show_system, "Saliency", False, n_table)
co_pred, _ = co_with_kappa_from(show_system, "Saliency", True, n_table)
kappa = cg.kappa_study(co_truth, co_pred, right, show, dev, prof.n_boot, seed)
if kappa["outcome"] != "not measured":
    print(kappa["text"])
report.glue("kappa_sentence", kappa["text"])
report.glue("kappa_reason", kappa["reason"])
report.glue("summary_kappa", kappa["summary"])
if book_run:
    assert kappa["outcome"] == "shrinks", kappa["text"]
    # the table's own number for the same images (equal up to rounding-level reordering of near-tied scores)
    headline = gap["headline"]
    table_auc = headline[(headline.system == show_system) & (headline.method == "Saliency")].AUROC.iloc[0]
    assert abs(kappa["auc_truth"][0] - table_auc) < 0.005, (kappa["auc_truth"][0], table_auc)

# %% [markdown]
# {glue:text}`kappa_sentence` The rule: with $\kappa$ from the truth the AUROC's interval must lie above $0.5$, else
# there is *no gap to start from*; then the gap *vanishes* when the interval of the AUROC with $\kappa$ from the
# prediction reaches $0.5$ (it *reverses* when the interval lies below $0.5$), *shrinks* when it stays above $0.5$ and
# the paired difference's interval lies above 0, *grows* when that interval lies below 0, and *survives* otherwise.
# {glue:text}`kappa_reason`
#
# With $\kappa$ from the prediction, heatmap and score refer to the same class for every input, right or wrong, so
# any gap left comes from how the model responds to its own heatmap on right and on wrong predictions, and the fair
# comparison is the model's own confidence, which needs no heatmap either. The part the truth adds is what lets the score check a (possibly wrong) label, as the paper proposes
# for data labelling.
# ````{solution-end}
# ````
#
# ````{exercise-start}
# :label: ex-co-2
# ````
# Which variant (softmax or raw, $x + h$ or $x \cdot h$) separates best for the under-trained models, and does that
# hold for the well-trained ones? *Time: 10 min.*
# ````{exercise-end}
# ````
#
# ````{solution-start} ex-co-2
# :class: dropdown
# ````

# %% tags=["solution"]
# NBVAL_CHECK_OUTPUT
variants = cg.variant_study(gap["auc_table"], co_table, ranking["best"], loaded, names, few_wrong, dev, prof.n_boot,
                            seed)  # fmt: skip
if variants["means"] is not None:
    report.show(variants["means"], "{:.3f}",
                caption="mean AUROC over the methods, per system; mean distance from 0.5 per kind")  # fmt: skip
if len(variants["msp"]):
    report.show(variants["msp"], {c: "{:.3f}" for c in ("CO AUROC (oriented)", "p_y(x) AUROC", "CO minus p_y(x)",
                                                        "CI low", "CI high")},
                caption="the baseline that uses the label but no heatmap: the true-class probability p_y(x) as a "
                        "detector of correct predictions")  # fmt: skip
report.glue("variant_sentence", variants["text"])
print(variants["text"])
if book_run:
    assert variants["best_variant"] == {"_sub": ("mul", True), "well-trained": ("mul", True)}, variants["best_variant"]
    assert variants["n_soft_below"] == variants["n_soft"], variants["text"]

# %% [markdown]
# {glue:text}`variant_sentence` (The first table gives each system's mean over the methods; a twin pair in which either
# model has fewer than `few_wrong` wrong predictions is left out, so both kinds hold the same architectures. The second
# compares each ranked system's best CO cell, whose $\kappa$ comes from the truth, with the true-class probability
# $p_y(x)$, a detector that uses the label as the cell does but needs no heatmap: the heatmap earns its cost only where
# the cell beats that. The model's max softmax probability, which needs no label, is the baseline of a CO score with
# $\kappa$ from the prediction: exercise `ex-co-1`.)
# ````{solution-end}
# ````
#
# ````{exercise-start}
# :label: ex-co-3
# ````
# Take the flag threshold of the best-separating method and variant of the system drawn above (its row in the table
# "Best-separating method and variant per system"): what share of its wrong predictions would a reviewer catch, and
# how many correct ones would they re-check? *Time: 10 min.*
# ````{exercise-end}
# ````


# %% tags=["exercise"]
def my_answer(co: np.ndarray, correct: np.ndarray, threshold: float, flag_if: str) -> np.ndarray:
    """[share of the wrong predictions flagged, share of the correct ones flagged], flagging the CO scores strictly
    below ``threshold`` when ``flag_if`` is "below" and strictly above it when it is "above"."""
    raise NotImplementedError("compute the two shares here")


# the flag cell of the system drawn above: its row in the table "Best-separating method and variant per system"
flag = cg.flag_cell(ranking["best"], co_table, show_system)
if flag is not None:
    flag_top, co_f, right_f, _ = flag
    flag_args = (co_f, right_f, float(flag_top.threshold), str(flag_top["flag if CO is"]))
    flagged_f = co_f < flag_args[2] if flag_args[3] == "below" else co_f > flag_args[2]
    flag_expected = np.array([flagged_f[~right_f].mean(), flagged_f[right_f].mean()])
    answer = teaching.attempt(my_answer, *flag_args)
    if answer is not None:
        teaching.check(answer, flag_expected, rtol=0.0, atol=1e-9, what="[caught, re-checked]")
else:
    print("The flag threshold is " + report.not_measured(f"{show_system} has fewer than {few_wrong} wrong predictions"))

# %% [markdown]
# ````{solution-start} ex-co-3
# :class: dropdown
# ````


# %% tags=["solution"]
# NBVAL_CHECK_OUTPUT
def my_answer(co: np.ndarray, correct: np.ndarray, threshold: float, flag_if: str) -> np.ndarray:
    """[share of the wrong predictions flagged, share of the correct ones flagged]."""
    flagged = co < threshold if flag_if == "below" else co > threshold
    return np.array([flagged[~correct].mean(), flagged[correct].mean()])


flag_answer = cg.flag_study(ranking["best"], co_table, variants["msp"], show_system, few_wrong)
report.glue("flag_sentence", flag_answer["text"])
print(flag_answer["text"])
if flag is not None:  # the starter's check, with the function written out; the sentence quotes the same two shares
    shares = [flag_answer["caught"], flag_answer["rechecked"]]
    assert np.allclose(shares, flag_expected, rtol=0.0, atol=1e-12), (shares, flag_expected)
    assert teaching.check(my_answer(*flag_args), flag_expected, rtol=0.0, atol=1e-9, what="[caught, re-checked]")

# %% [markdown]
# {glue:text}`flag_sentence` Youden's threshold maximises the share of wrong predictions caught minus the share of
# correct ones re-checked, so in sample it never catches a smaller share of the wrong ones; on images it was not fitted
# to it can, so in-sample rates need not hold on new images (the held-out check above shows which rate moved, and
# which way, here). A reviewer who can afford fewer re-checks moves it so that it flags
# fewer.
# ````{solution-end}
# ````
#
# ## Resources
#
# * The GAX paper {cite}`tjoa2021gax` and its code {cite}`tjoa2021gaxcode`; captum {cite}`kokhlikyan2020captum` for
#   the six methods ({cite}`simonyan2014saliency,shrikumar2017deeplift,selvaraju2017gradcam,zeiler2014deconv,springenberg2015guided`).
# * {doc}`08_gax_generative` generates heatmaps that reach a chosen CO score.
#
# ## Implementation notes
#
# * **Where the heatmap is added.** Every table but the network-input comparison computes heatmaps on, and adds them
#   to, pixels in $[0, 1]$ ($x + h$ and $x \cdot h$, with $h \in [-1, 1]$), as the paper's first (v1) pneumonia code
#   does. Its later (v2) code (`ax_imagenet.py`, `ax_chestxray_pneu.py`) computes the heatmap on the network's
#   normalised input and adds it there; the card's setting row names that version. For a system with a normalisation (`normalize`), the
#   chapter also runs that variant on the inner network (`xai_lib.experiments.co_gap.model_input`). The book's own
#   models take pixels, so for them the two variants coincide, and the scale study ($x + s\,h$ on `show_system`) shows
#   what a smaller perturbation, such as the paper's $\sigma h$, does.
# * **Close calls** (`report.close_calls`, the book's choice): the counts of intervals above, below or spanning a
#   threshold name the cells whose interval ends within half its half-width of it (`report.CLOSE_SHARE`: about one
#   standard error), for the AUROC against $0.5$ and the card's test against $0.9$, and the twin pairs' and the
#   controls' differences against 0. Such a cell's verdict rests on a margin that another training or another draw
#   of images can cross; the seed study on the card measures the first.
# * **Shuffled control** (`shuffle_positions`): each image's heatmap values at random positions, one permutation of the
#   pixels per image and method (seeded by the run's seed, the image and the method), the same for every channel. It
#   removes the layout and the smoothness together (a shuffled heatmap is pixel-level noise).
# * **Rolled control** (`roll_half`, the book's choice): the heatmap moved by half the image's height and width,
#   wrapping around; the same values and, except along two seams, the same neighbours, so it keeps the smoothness and
#   changes only where the values fall. It is not a neutral perturbation: a heatmap shaped like the object pastes
#   that shape elsewhere, so it tests the pattern on the object against the same pattern elsewhere. A shift of half
#   the side in both directions moves every pixel by $\sqrt{2}/2$ of the side, farther than any `shapes` object is wide
#   (the generator's largest shape reaches little more than a quarter of the side from its centre), so the object's
#   own footprint never lands on itself. Neither control changes the
#   heatmap's values: a separation that comes from the values alone (their size or histogram) shows in neither.
#   Models on tabular data get the shuffled control only. Both controls are scored at every scale of the study
#   (`heatmap_controls.csv`, `xai_lib.experiments.co_gap.heatmap_controls`); the card judges them at $s = 1$, the
#   tables' $x + h$, where the perturbation is large, and the text adds the smallest scale.
# * **Softmax variant.** The paper's text does not say which outputs go through the softmax; the reference code's
#   "softmax" CO mixes `softmax(DNN(x + h))` with the raw `DNN(x)`. We apply softmax to both outputs: our choice, so
#   that both terms of the difference are probabilities; our softmax cells are therefore not comparable with the
#   paper's softmax figures.
# * **Baselines without a heatmap.** A CO score whose $\kappa$ comes from the truth uses the label, so it is compared
#   (the exercises on the variants and on the flag threshold) with the true-class probability $p_y(x)$, which uses
#   the label too; one whose $\kappa$ comes from the prediction (exercise `ex-co-1`) with the model's largest softmax
#   probability on $x$, which needs no label. Each as a detector of correct predictions, against the CO cell's AUROC
#   (oriented to be at least $0.5$) on the same images, with the paired bootstrap of `paired_auroc_difference_ci`.
# * **Heatmap controls and distinct gaps.** At $s = 1$ the scale study's shuffled and rolled heatmaps give the CO
#   AUROC of each control, compared with the heatmap's by `paired_auroc_difference_ci`; the card's "distinct
#   gaps" row tests each cell's AUROC interval against $0.9$.
# * **$\kappa$** is built in the outputs' dtype over all the model's outputs (a model with more outputs than the data
#   has classes uses its full output vector, as the paper's ImageNet models do).
# * **Heatmaps** are computed for the predicted class and normalised by their maximum absolute value; Saliency is
#   signed; LayerGradCam uses the first convolution, upsampled to the input, and is skipped for MLPs. DeepLift,
#   GuidedBackprop and Deconvolution run on a copy of the model with one non-inplace module per activation use.
# * **AUROC** treats correct predictions as positives and the CO score as the detector; the CI resamples the two
#   groups separately. Youden's threshold maximises TPR - FPR (on the negated score for a cell whose wrong
#   predictions score higher, which is then flagged above the threshold).
# * **Best method** (`best_methods`): ranked by $|AUROC - 0.5|$; the difference of the best method's and the
#   runner-up's distances on the same images (each score oriented so its AUROC is at least $0.5$), with a bootstrap
#   that resamples the images once for both (`paired_auroc_difference_ci`); a dataset's best is *established* when more
#   than half of its eligible systems name it (`dataset_dependence`), and the chapter requires at least two eligible
#   systems (one system's best is not a dataset's).
# * **Wider gap**: the difference of the AUROCs of a well-trained model and its `_sub` twin on the same images, with a
#   paired bootstrap that resamples the images once for both, within the four groups of images right or wrong under
#   each model (`paired_auroc_difference_ci` with `positives_b`); "wider" when the $95\%$ interval lies above 0.
# * **Claims tested cell by cell** (`cells_verdict`): each cell's interval against its threshold; *reproduced* when
#   every comparable cell agrees, *partly* when at least half do, *not reproduced* when fewer than half agree and at
#   least half contradict, *inconclusive* otherwise.
# * Inputs are the first `gax_images` test inputs of each system, all of them in `paper`.
