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
# the model becomes more confident in the *true* class. Heatmaps are computed for the *predicted* class, so they
# help when the prediction is right and hurt when it is wrong: the CO scores of correct and wrong predictions
# separate (the {term}`CO gap`). We do this for the paper's six captum {cite}`kokhlikyan2020captum` methods on
# well-trained and under-trained CNNs, digits and two tabular sets (the appendix's analogue). The gap is measured, not
# eyeballed: the {term}`AUROC` of the CO score as a detector of correct predictions, with a bootstrap interval, the
# threshold {cite}`youden1950` at which a user would flag a prediction, and the paper's observation that better-trained
# models give wider gaps, tested on well-trained/under-trained pairs.
#
# **Learning objectives.** After this chapter you can
# 1. compute the CO score {eq}`eq-co` of any heatmap, in its four variants, and explain the role of {term}`kappa`;
# 2. turn a distribution gap into a detector (AUROC with a confidence interval, a flag threshold) and say when its
#    estimate is too thin to trust;
# 3. test a claim about two models (a wider gap) with an interval on the difference.
#
# **Prerequisites.** {doc}`06_rotation_toy` (the CO score on a 2D toy); {doc}`01_embedded_benchmark` for the `_sub`
# models.
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
profile = "book"  # smoke | book | paper (paper: every test input)
systems = "shapes/vgg,shapes/vgg_sub,shapes/resnet,shapes/resnet_sub,digits/resnet,digits/resnet_sub,breast_cancer/mlp,wine/mlp"  # dataset/model items, a JSON list or a .json/.yaml file
show_system = "shapes/resnet_sub"  # the system drawn as histograms (paper Fig. 2 style); the first system if absent
few_wrong = 20  # below this many wrong predictions an AUROC is flagged as thin
cluster = "none"  # "none", "local:N" (N worker processes) or a Dask scheduler address tcp://host:8786
seed = 0
device = "auto"
output_dir = "outputs/gax_co_gap"

# %%
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

import xai_lib
from xai_lib import parallel, params, report
from xai_lib.experiments import common
from xai_lib.plotting import save_figure, save_table
from xai_lib.stats import auroc_ci, auroc_difference_ci, youden_threshold
from xai_lib.systems import load_systems

prof = xai_lib.get_profile(profile)
few_wrong = params.positive_int("few_wrong", few_wrong)
out = params.output_dir("output_dir", output_dir)
dev = xai_lib.setup(seed, device, profile=prof)
runner = parallel.Runner(cluster)
loaded = load_systems(systems, prof, seed, dev)
names = [s.name for s in loaded]
show_system = show_system if show_system in names else names[0]
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
# softmax outputs. Shards of inputs are cached as they finish and may run on a Dask cluster (`cluster`).

# %%
payloads, sizes, owner = [], [], []
for s in loaded:
    n = min(prof.gax_images, len(s.data("test")))
    for shard in parallel.shards_of(range(n), max(prof.shard_images, 64)):
        payloads.append(common.payload(s, prof, seed, device, runner, shard))
        sizes.append(len(shard))
        owner.append(s.name)
results = runner.map("xai_lib.experiments.co_gap:scores", payloads, desc="inputs", images=sizes)
co_table = parallel.concat(results, "co", owner)
ax_table = parallel.concat(results, "ax", owner)
pred_table = parallel.concat(results, "pred", owner)
skipped = parallel.concat(results, "skipped", owner).drop_duplicates()
save_table(co_table, out / "co_scores.csv")
if len(skipped):
    print(skipped.to_string(index=False))
report.glue("n_scores", len(co_table))

# %% [markdown]
# ## The gap, as the paper draws it
#
# Histograms of the CO scores of correct (blue) and wrong (red) predictions for one system, raw outputs, AX by
# $x + h$ (paper Fig. 2 and 3 style), then boxplots over all systems.

# %% tags=["hide-input"]
part = co_table[(co_table.system == show_system) & (co_table.AX == "sum") & (~co_table.softmax)]
methods_here = list(dict.fromkeys(part.method))
fig, axes = plt.subplots(2, 3, figsize=(12, 6))
for ax, method in zip(axes.flat, methods_here, strict=False):
    m = part[part.method == method]
    bins = np.histogram_bin_edges(m.co, bins=30)
    for sel, colour, label in ((m.correct, "tab:blue", "correct"), (~m.correct, "tab:red", "wrong")):
        if sel.any():
            ax.hist(m[sel].co, bins=bins, alpha=0.6, color=colour, density=True, label=f"{label} ({int(sel.sum())})")
    ax.set_title(method, fontsize=9)
    ax.legend(fontsize=7)
for ax in axes.flat[len(methods_here) :]:
    ax.axis("off")
fig.suptitle(f"CO scores, {show_system}, raw outputs, x + h", fontsize=10)
fig.tight_layout()
save_figure(fig, out / "co_histograms.png")
plt.show()

# %% tags=["hide-input"]
raw_sum = co_table[(co_table.AX == "sum") & (~co_table.softmax)]
fig, axes = plt.subplots(1, len(names), figsize=(2.6 * len(names), 3.6), squeeze=False)
for ax, system in zip(axes[0], names, strict=True):
    s = raw_sum[raw_sum.system == system]
    methods_s = list(dict.fromkeys(s.method))
    pos = np.arange(len(methods_s))
    for shift, sel, colour in ((-0.18, s.correct, "tab:blue"), (0.18, ~s.correct, "tab:red")):
        groups = [s[(s.method == m) & sel].co for m in methods_s]
        if all(len(g) for g in groups):
            ax.boxplot(groups, positions=pos + shift, widths=0.3, patch_artist=True, boxprops={"facecolor": colour},
                       showfliers=False)  # fmt: skip
    ax.set_xticks(pos, [m[:6] for m in methods_s], rotation=70, fontsize=7)
    ax.set_title(system, fontsize=8)
fig.suptitle("CO scores (raw, x + h): correct (blue) vs wrong (red)", fontsize=10)
fig.tight_layout()
save_figure(fig, out / "co_boxplots.png")
plt.show()

# %% [markdown]
# ## The gap, measured: AUROC with a bootstrap CI
#
# For each system, method and variant: the AUROC of the CO score as a detector of *correct* predictions ($0.5$: no
# information; 1: every correct prediction scores above every wrong one), a $95\%$ percentile bootstrap interval
# (resampling correct and wrong predictions separately), and Youden's threshold: flag a prediction for review when
# its CO score falls below it. Systems with fewer than five wrong predictions get no estimate; with fewer than
# `few_wrong` the interval rests on a handful of wrong predictions and is flagged "thin".

# %%
# NBVAL_CHECK_OUTPUT
auc_rows = []
for (system, method, combine, soft), g in co_table.groupby(["system", "method", "AX", "softmax"], sort=False):
    auc, lo, hi = auroc_ci(g.co.to_numpy(), g.correct.to_numpy(), n_boot=prof.n_boot, seed=seed)
    wrong = int((~g.correct).sum())
    auc_rows.append({"system": system, "method": method, "AX": combine, "softmax": soft, "wrong": wrong, "n": len(g),
                     "AUROC": auc, "CI low": lo, "CI high": hi, "thin": 5 <= wrong < few_wrong,
                     "flag below": youden_threshold(g.co.to_numpy(), g.correct.to_numpy())})  # fmt: skip
auc_table = pd.DataFrame(auc_rows)
save_table(auc_table, out / "co_auroc.csv")
headline = auc_table[(auc_table.AX == "sum") & (~auc_table.softmax)]
wide = headline.pivot(index="method", columns="system", values="AUROC")[[n for n in names if n in set(headline.system)]]
separating = headline.dropna(subset=["AUROC"])
n_sep = int((separating["CI low"] > 0.5).sum())
report.glue("n_separating", n_sep)
report.glue("n_estimable", len(separating))
thin_systems = sorted(set(separating[separating.thin].system))
report.glue("thin_systems", ", ".join(thin_systems) if thin_systems else "none")
no_estimate = sorted(set(headline[headline.AUROC.isna()].system))
report.glue("no_estimate", ", ".join(no_estimate) if no_estimate else "none")
report.show(wide.reset_index(), "{:.3f}", caption="AUROC of the CO score (raw outputs, x + h)")

# %% [markdown]
# With raw outputs and $x + h$, the interval lies above $0.5$ (a gap beyond chance) in {glue:text}`n_separating` of
# {glue:text}`n_estimable` method-system cells with an estimate. Thin estimates (fewer than `few_wrong` wrong
# predictions): {glue:text}`thin_systems`; no estimate (fewer than five wrong predictions): {glue:text}`no_estimate`.
# An AUROC of 1 from a handful of wrong predictions, with an interval that cannot move, says little about the next
# hundred.

# %%
# NBVAL_CHECK_OUTPUT
best = auc_table.dropna(subset=["AUROC"]).sort_values("AUROC", ascending=False).groupby("system", sort=False).head(1)
report.show(best[["system", "method", "AX", "softmax", "wrong", "AUROC", "CI low", "CI high", "thin", "flag below"]], "{:.3f}",
            caption="Best method and variant per system (flag predictions whose CO is below the threshold)")  # fmt: skip
best_by_dataset = (
    best.assign(dataset=best.system.str.split("/").str[0]).groupby("dataset").method.agg(lambda v: v.mode()[0])
)
report.glue("n_best_methods", best_by_dataset.nunique())
report.glue("n_datasets", len(best_by_dataset))

# %% [markdown]
# Across the {glue:text}`n_datasets` datasets the best-separating method takes {glue:text}`n_best_methods` distinct
# values (the paper: Saliency on ImageNet, Deconvolution on chest X-rays).
#
# ## Do better-trained models give wider gaps?
#
# The paper reads it off two figures (Resnet34 against Resnet34_sub on chest X-rays). Here, for every well-trained
# system whose `_sub` twin is also in `systems`: the difference of their AUROCs (raw, $x + h$) per method, with a
# bootstrap interval on the difference.

# %%
# NBVAL_CHECK_OUTPUT
pair_rows = []
raw = co_table[(co_table.AX == "sum") & (~co_table.softmax)]
for name in names:
    twin = name + "_sub"
    if twin not in names:
        continue
    for method in sorted(set(raw[raw.system == name].method) & set(raw[raw.system == twin].method)):
        a, b = raw[(raw.system == name) & (raw.method == method)], raw[(raw.system == twin) & (raw.method == method)]
        d, lo, hi = auroc_difference_ci(a.co.to_numpy(), a.correct.to_numpy(), b.co.to_numpy(), b.correct.to_numpy(),
                                        n_boot=prof.n_boot, seed=seed)  # fmt: skip
        verdict = "n/a" if np.isnan(d) else "wider" if lo > 0 else "narrower" if hi < 0 else "no difference"
        pair_rows.append({"well-trained": name, "method": method, "AUROC well - sub": d, "CI low": lo, "CI high": hi,
                          "gap of the well-trained model": verdict})  # fmt: skip
pairs = pd.DataFrame(pair_rows, columns=["well-trained", "method", "AUROC well - sub", "CI low", "CI high",
                                         "gap of the well-trained model"])  # fmt: skip
save_table(pairs, out / "wider_gap_when_better_trained.csv")
pair_counts = pairs["gap of the well-trained model"].value_counts()
for key in ("wider", "narrower", "no difference", "n/a"):
    report.glue(f"gap_{key.replace(' ', '_').replace('/', '')}", int(pair_counts.get(key, 0)))
report.glue("gap_cells", len(pairs))
report.show(pairs, "{:.3f}")

# %% [markdown]
# Of {glue:text}`gap_cells` method-pair cells, the well-trained model's gap is wider in {glue:text}`gap_wider`,
# narrower in {glue:text}`gap_narrower`, indistinguishable in {glue:text}`gap_no_difference` and not estimable in
# {glue:text}`gap_na` (too few wrong predictions of the well-trained model).
#
# ## Does the AX process change accuracy? (appendix Table 2 analogue)
#
# The accuracy of the model on $x \oplus h$ for each method, next to its accuracy on $x$.

# %%
# NBVAL_CHECK_OUTPUT
base_acc = pred_table.groupby("system").correct.mean()
acc = ax_table.groupby(["system", "method", "AX"], sort=False)["correct after"].mean().reset_index()
acc["accuracy on x"] = acc.system.map(base_acc)
acc["change"] = acc["correct after"] - acc["accuracy on x"]
save_table(acc, out / "accuracy_after_ax.csv")
ixg = acc[(acc.method == "InputXGradient") & (acc.AX == "sum")]
report.glue("ixg_worse", int((ixg.change < 0).sum()))
report.glue("ixg_systems", len(ixg))
report.glue("n_ax_better", int((acc.change > 0).sum()))
report.glue("n_ax_cells", len(acc))
report.show(acc.pivot_table(index=["method", "AX"], columns="system", values="correct after", sort=False)
            .reset_index(), "{:.2f}", caption="accuracy on x + h (sum) and x * h (mul)")  # fmt: skip

# %% [markdown]
# The heatmap raises accuracy in {glue:text}`n_ax_better` of {glue:text}`n_ax_cells` method-variant-system cells;
# InputXGradient with $x + h$ lowers it on {glue:text}`ixg_worse` of {glue:text}`ixg_systems` systems (the paper:
# it degrades accuracy on every dataset). The AX process is a diagnostic, not a fix.

# %% tags=["hide-input"]
# NBVAL_CHECK_OUTPUT
datasets_best = best_by_dataset.nunique()
claims = [
    {"artefact": "Figs. 2, 3, 7-16", "claim": "CO scores of correct and wrong predictions separate",
     "paper": "visible gaps, every dataset", "ours": f"AUROC CI above 0.5 in {n_sep} of {len(separating)} cells",
     "verdict": report.verdict(n_sep, len(separating))},
    {"artefact": "sec. 4.1", "claim": "the best-separating method depends on the dataset",
     "paper": "Saliency (ImageNet), Deconvolution (X-rays)", "ours": f"{datasets_best} methods over {len(best_by_dataset)} datasets",
     "verdict": "reproduced" if datasets_best > 1 else "not reproduced" if len(best_by_dataset) > 1 else "not comparable"},
    {"artefact": "sec. 4.1 (Figs. 2, 3A)", "claim": "better-trained models give wider gaps",
     "paper": "one model pair, by eye", "ours": f"wider in {int(pair_counts.get('wider', 0))} of {len(pairs)} cells",
     "verdict": report.verdict(int(pair_counts.get("wider", 0)), int((pairs['gap of the well-trained model'] != 'n/a').sum()))},
    {"artefact": "appendix Table 2", "claim": "InputXGradient (x + h) degrades accuracy",
     "paper": "every dataset and model", "ours": f"lower on {int((ixg.change < 0).sum())} of {len(ixg)} systems",
     "verdict": report.verdict(int((ixg.change < 0).sum()), len(ixg))},
]  # fmt: skip
settings = [
    ("data", "ImageNet, chest X-ray pneumonia (+ COVID, fraud, dry beans)", ", ".join(dict.fromkeys(s.spec.dataset for s in loaded))),
    ("models", "ResNet34, AlexNet (pretrained / fine-tuned, _sub at 80%)", ", ".join(names)),
    ("inputs", "test sets", f"first {prof.gax_images} test inputs per system (capped by the split)"),
    ("methods", "six captum methods, heatmap for the predicted class", "the same six (LayerGradCam skipped without a convolution)"),
]  # fmt: skip
print(report.card("07_gax_co_gap", settings, claims, out, seed=seed).verdict.value_counts().to_string())

# %% [markdown]
# ## Summary
#
# * Heatmaps for the predicted class push the model towards the true class only when the prediction is right, so the
#   CO scores of correct and wrong predictions separate; the AUROC tables put a number and an interval on the gap,
#   per method and variant, and flag the estimates that rest on too few wrong predictions.
# * Which method carries the most information about correctness depends on the system.
# * Whether better-trained models give wider gaps is a claim about pairs of models, tested here with an interval on
#   the difference of AUROCs.
# * Adding the heatmap to the input is a diagnostic, not a way to improve accuracy.
#
# ## Exercises
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
from xai_lib.gax import heatmaps  # noqa: E402
from xai_lib.models import batched_logits  # noqa: E402


def co_with_kappa_from(
    system_name: str, method: str, use_prediction: bool, n: int = 256
) -> tuple[np.ndarray, np.ndarray]:
    """CO scores (raw, x + h) of ``method`` with kappa from the prediction or from the truth; and correctness."""
    from xai_lib.gax import co_scores

    s = next(x for x in loaded if x.name == system_name)
    d = s.data("test")
    x, y = d.inputs[:n].to(dev), d.targets[:n].to(dev)
    pred = batched_logits(s.model, x).argmax(1).to(dev)
    h = heatmaps(s.model, x, method, target=pred)
    return co_scores(s.model, x, h, pred if use_prediction else y).cpu().numpy(), (pred == y).cpu().numpy()


# your turn: compare the AUROC of co_with_kappa_from(show_system, "Saliency", False) and (..., True)

# %% [markdown]
# ````{solution-start} ex-co-1
# :class: dropdown
# ````

# %% tags=["solution"]
# NBVAL_CHECK_OUTPUT
for use_pred in (False, True):
    co, right = co_with_kappa_from(show_system, "Saliency", use_pred)
    if 5 <= (~right).sum() and 5 <= right.sum():
        print(
            f"kappa from the {'prediction' if use_pred else 'truth     '}: AUROC {auroc_ci(co, right, n_boot=200)[0]:.3f}"
        )

# %% [markdown]
# With $\kappa$ from the prediction, heatmap and score refer to the same class for every input, right or wrong, and
# the gap collapses towards $0.5$: the gap exists only because the truth enters $\kappa$. That is why it can flag
# mistakes when a (possibly wrong) label is available to check, as the paper proposes for data labelling.
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
variant = auc_table.assign(kind=np.where(auc_table.system.str.endswith("_sub"), "_sub", "well-trained"))
report.show(variant.groupby(["kind", "AX", "softmax"]).AUROC.mean().unstack("kind").reset_index(), "{:.3f}")

# %% [markdown]
# Read the mean AUROC per variant for each kind of model; the paper's main variant (raw, $x + h$) is not always the
# best, and the ordering can differ between well-trained and under-trained models.
# ````{solution-end}
# ````
#
# ````{exercise-start}
# :label: ex-co-3
# ````
# Take the flag threshold of the best method on the system drawn above: what share of its wrong predictions would a
# reviewer catch, and how many correct ones would they re-check? *Time: 10 min.*
# ````{exercise-end}
# ````
#
# ````{solution-start} ex-co-3
# :class: dropdown
# ````

# %% tags=["solution"]
# NBVAL_CHECK_OUTPUT
b = best[best.system == show_system]
if len(b):
    b = b.iloc[0]
    g = co_table[(co_table.system == show_system) & (co_table.method == b.method) & (co_table.AX == b.AX)
                 & (co_table.softmax == b.softmax)]  # fmt: skip
    flagged = g.co < b["flag below"]
    print(
        f"{b.method} ({b.AX}, softmax={b.softmax}): flags {flagged[~g.correct].mean():.0%} of the wrong predictions "
        f"and {flagged[g.correct].mean():.0%} of the correct ones ({int(flagged[g.correct].sum())} images to re-check)"
    )

# %% [markdown]
# Youden's threshold balances the two error rates; a reviewer who can afford fewer re-checks moves it down.
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
# * **Softmax variant.** The reference code's "softmax" CO mixes `softmax(DNN(x + h))` with the raw `DNN(x)`; we apply
#   softmax to both outputs, which is what the paper's text describes.
# * **$\kappa$** is built in the outputs' dtype over all the model's outputs (a model with more outputs than the data
#   has classes uses its full output vector, as the paper's ImageNet models do).
# * **Heatmaps** are computed for the predicted class and normalised by their maximum absolute value; Saliency is
#   signed; LayerGradCam uses the first convolution, upsampled to the input, and is skipped for MLPs. DeepLift,
#   GuidedBackprop and Deconvolution run on a copy of the model with one non-inplace module per activation use.
# * **AUROC** treats correct predictions as positives and the CO score as the detector; the CI resamples the two
#   groups separately. Youden's threshold maximises TPR - FPR.
# * **Wider gap**: the difference of the AUROCs of a well-trained model and its `_sub` twin, each resampled within
#   its own classes; "wider" when the $95\%$ interval lies above 0.
# * Inputs are the first `gax_images` test inputs of each system, all of them in `paper`.
