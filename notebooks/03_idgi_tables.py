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
# (chapter-idgi-tables)=
# # IDGI: the evaluation tables
#
# ```{chapter-times}
# ```
#
# **What this chapter reproduces.** Tables 1-4 of the IDGI paper {cite}`yang2023idgi`: IG, Guided IG and Blur IG,
# each with and without IDGI, and the vanilla gradient, scored by the {term}`insertion score` (Table 1), {term}`SIC`
# and {term}`AIC` ({term}`PIC` curves) with the {term}`normalised entropy` (Table 2) and the {term}`MS-SSIM`
# (Table 3) information level, and weakly supervised {term}`localisation` (Table 4). The paper uses eleven ImageNet
# models; we use VGG-style and ResNet models, well-trained and under-trained, on `shapes` and `digits` (any systems
# you name). Each "IDGI improves its base method" cell is tested on the same images, and the paper's own numbers
# stand beside ours. A second reference stands beside the paper: the TMLR reproducibility study of IDGI
# {cite}`singhi2024idgi`, whose findings (IDGI's gain is not universal, residual networks behave differently, the
# step count matters) are checked against this chapter's own numbers on the card.
#
# **Learning objectives.** After this chapter you can
# 1. compute the insertion score, and SIC/AIC by the IDGI paper's protocol and by PAIR's ({term}`PAIR protocol`),
#    and say exactly how the two differ;
# 2. test a claim of the form "method A beats method B" per cell, on the same images, and count the cells honestly;
# 3. show how much an evaluation choice the paper leaves open (how a map's channels are combined, how the
#    localisation MAE is thresholded) decides a result;
# 4. run the chapter at paper scale on a Dask cluster ({doc}`../book/paper_scale`).
#
# **Prerequisites.** {doc}`02_idgi_noise` (IG, Guided IG, Blur IG and IDGI).
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
profile = "book"  # smoke | book | paper (paper: 1,000 images per system)
systems = "shapes/vgg,shapes/vgg_sub,shapes/resnet,shapes/resnet_sub,digits/vgg,digits/vgg_sub,digits/resnet,digits/resnet_sub"  # dataset/model items, a JSON list or a .json/.yaml file
output = "probability"  # attributed output: "probability" (the IDGI reference code) or "logit"
webp_method = None  # WebP effort of the entropy level: None -> the profile's (book: 0; paper: 4, PAIR's)
alpha = 0.05  # significance level of the paired tests
cluster = "none"  # "none", "local:N" (N worker processes) or a Dask scheduler address tcp://host:8786
seed = 0
device = "auto"
output_dir = "outputs/idgi_tables"

# %%
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch
from scipy.stats import spearmanr

import xai_lib
import xai_lib.reference
from xai_lib import parallel, params, report, stats
from xai_lib.experiments import common, idgi_tables
from xai_lib.experiments.idgi_tables import BASES, METHODS, TABLES
from xai_lib.metrics import binned_curve, pic_idgi
from xai_lib.models.registry import split_registry_name
from xai_lib.plotting import save_figure, save_table
from xai_lib.systems import load_systems

prof = xai_lib.get_profile(profile)
output = params.choice("output", output, ["probability", "logit"])
webp_method = prof.pic_webp_method if webp_method is None else params.choice("webp_method", webp_method, list(range(7)))
alpha = params.number("alpha", alpha, lo=0.0, hi=1.0)
# the book's own run (its defaults, seed 0): the exercises' asserts on empirical facts of that run apply to it only
book_run = (
    prof.name == "book" and seed == 0 and output == "probability" and webp_method == 0 and alpha == 0.05
    and systems == "shapes/vgg,shapes/vgg_sub,shapes/resnet,shapes/resnet_sub,digits/vgg,digits/vgg_sub,digits/resnet,digits/resnet_sub"
)  # fmt: skip
out = params.output_dir("output_dir", output_dir)
dev = xai_lib.setup(seed, device, profile=prof)
runner = parallel.Runner(cluster)
loaded = [s for s in load_systems(systems, prof, seed, dev) if s.data("test").kind == "image"]
names = [s.name for s in loaded]
for s in loaded:
    print(s.describe())
print(f"profile={prof.name}: {len(loaded)} systems x up to {prof.idgi_table_images} images, IG/GIG {prof.idgi_steps} "
      f"steps, Blur IG {prof.blur_steps}, output={output}, cluster={cluster}")  # fmt: skip

# %% [markdown]
# ## Attributions and scores, shard by shard
#
# For each system: the first `idgi_table_images` test images the model classifies correctly (the paper scores
# correctly classified images only), in shards of `shard_images`. For every image, the seven maps (each base method
# and its IDGI version from one pass over the path), then every metric. Shards are cached as they finish: an
# interrupted run resumes where it stopped, and `cluster` spreads the shards over Dask workers with identical
# per-image results.

# %%
pred = common.predictions(loaded, prof, seed, device, runner)
payloads, sizes = [], []
for i, s in enumerate(loaded):
    chosen = common.first_correct(pred, s.name, prof.idgi_table_images)
    for j, shard in enumerate(parallel.shards_of(chosen, prof.shard_images)):
        check = i == 0 and j * prof.shard_images < prof.pair_check_images
        payloads.append(common.payload(
            s, prof, seed, device, runner, shard, output=output, steps=prof.idgi_steps, blur_steps=prof.blur_steps,
            webp_method=webp_method, absolute=True, pair_check=check,
        ))  # fmt: skip
        sizes.append(len(shard))
results = runner.map("xai_lib.experiments.idgi_tables:scores", payloads, desc="images", images=sizes)
owner = [names[[s.spec.to_dict() for s in loaded].index(p["system"])] for p in payloads]


scores, bokeh, timing = (parallel.concat(results, name, owner) for name in ("scores", "bokeh", "timing"))
save_table(scores, out / "scores.csv")
save_table(bokeh, out / "bokeh_images.csv.gz")

# %% [markdown]
# Where the time goes, per system: the seconds of the attributions and of the metrics, and the share of both spent
# in the model's own calls (forward and backward passes for the attributions; forward passes on the insertion and
# bokeh images for the metrics), in the WebP encodes of the entropy level, in MS-SSIM, and in everything else (path
# points, pixel rankings, bokeh images, the methods' own arithmetic).

# %%
time_table = idgi_tables.time_breakdown(timing)
save_table(time_table, out / "timing.csv")
overall = time_table.set_index("system").loc["all"]
report.glue("attribution_share", overall["attribution s"] / (overall["attribution s"] + overall["metrics s"]))
for column, name in (("model calls", "model_share"), ("WebP", "webp_share"), ("MS-SSIM", "msssim_share"),
                     ("other", "other_share")):  # fmt: skip
    report.glue(name, overall[column])
report.show(time_table, {"attribution s": "{:.1f}", "metrics s": "{:.1f}", "model calls": "{:.0%}", "WebP": "{:.0%}",
                         "MS-SSIM": "{:.0%}", "other": "{:.0%}"})  # fmt: skip

# %% [markdown]
# The attributions take {glue:text}`attribution_share:.0%` of the computing time. Of all of it, the model's own calls
# take {glue:text}`model_share:.0%`, the WebP encodes {glue:text}`webp_share:.0%` and MS-SSIM
# {glue:text}`msssim_share:.0%`; the remaining {glue:text}`other_share:.0%` is the methods' and metrics' own work.
#
# ## Which images enter which table
#
# Not every scored image enters every table. The SIC/AIC protocol of the IDGI paper normalises the entropy by the
# blurred base's: an image whose base is not less informative than the original has no such level and is left out of
# Table 2 (MS-SSIM needs no such rule). Table 4 needs object masks. Per system, the images scored and the images each
# table stands on:

# %%
# NBVAL_CHECK_OUTPUT
skips = parallel.concat(results, "skips", owner)
entropy_skips = skips[skips.information == "entropy"].groupby("system").size() if len(skips) else pd.Series(dtype=int)
image_counts = idgi_tables.images_per_table(scores, names)
image_counts.insert(4, "left out of Table 2", [int(entropy_skips.get(n, 0)) for n in names])
image_counts["object masks"] = ["yes" if s.data("test").masks is not None else "no" for s in loaded]
save_table(image_counts, out / "images_per_table.csv")
report.show(image_counts, None, caption="images per system and table")
no_table2 = image_counts.loc[image_counts["Table 2"] == 0, "system"].tolist()
fewer_table2 = image_counts.loc[(image_counts["Table 2"] > 0) & (image_counts["Table 2"] < image_counts["Table 1"]),
                                "system"].tolist()  # fmt: skip
no_masks = image_counts.loc[image_counts["object masks"] == "no", "system"].tolist()
if no_table2:
    table2_text = (f"No image of {', '.join(no_table2)} enters Table 2: the entropy normalisation leaves out every one "
                   "of their images, so their Table 2 rows are n/a and these systems are not comparable there.")  # fmt: skip
elif fewer_table2:
    table2_text = f"Table 2 stands on fewer images than Table 1 for {', '.join(fewer_table2)}."
else:
    table2_text = "Every scored image enters Table 2."
if fewer_table2 and no_table2:
    table2_text += f" Table 2 stands on fewer images than Table 1 for {', '.join(fewer_table2)}."
report.glue("table2_sentence", table2_text)
report.glue("table4_sentence", (f"Table 4 is not measured on {', '.join(no_masks)}: their data has no object masks."
                                if no_masks else "Every system has object masks: Table 4 covers them all."))  # fmt: skip
report.glue("n_images_min", int(image_counts["Table 1"].min()))
report.glue("n_images_max", int(image_counts["Table 1"].max()))

# %% [markdown]
# {glue:text}`table2_sentence` {glue:text}`table4_sentence`
#
# ## The four tables
#
# Means over images (insertion, localisation) and, for SIC and AIC, the area under the aggregate binned curve, as
# the paper computes it; Table 1 stands on {glue:text}`n_images_min` to {glue:text}`n_images_max` images per system,
# and the column `images` gives each row's count (0: the row is n/a). Rows: metric and system; columns: the seven
# methods in the paper's order. Higher is better except MAE.
#
# Two choices the paper leaves open are the book's. **Channels:** the paper does not say how a map's channels become
# one score per pixel; the book ranks pixels by the signed sum $\sum_c a_c$ for insertion and SIC/AIC and localises by
# its absolute value $|\sum_c a_c|$ ({ref}`the other conventions below <idgi-sign-convention>`). **MAE:** the paper
# takes "the optimal F1 and MAE ... by finding the best threshold", so its MAE is that of a binary mask; the book
# reports both, the MAE of the binary map $S \geq t$ at the best threshold $t$ (the paper's convention) and the MAE of
# the continuous map $S$.

# %%
# NBVAL_CHECK_OUTPUT
tables = idgi_tables.tables(scores, bokeh, names)
captions = {
    "Table 1: insertion": "Table 1: insertion (pixels ranked by the signed channel sum)",
    "Table 2: SIC/AIC (entropy)": "Table 2: SIC/AIC (entropy), signed channel sum; images: those whose blurred base "
                                  "is less informative than the original (0 images: n/a, not comparable)",
    "Table 3: SIC/AIC (MS-SSIM)": "Table 3: SIC/AIC (MS-SSIM), signed channel sum",
    "Table 4: localisation": "Table 4: localisation by the absolute channel sum; MAE (best threshold): of the binary "
                             "map at the best threshold, the paper's; MAE (continuous): of the normalised map",
}  # fmt: skip
for title, table in tables.items():
    save_table(table, out / f"{title.split(':')[0].lower().replace(' ', '_')}.csv")
    if len(table):
        report.show(table, "{:.3f}", caption=captions[title])

# %% [markdown]
# ## Beside the paper
#
# The paper's eleven ImageNet models against our systems, per metric and method: mean, lowest and highest over
# models or systems (n/a rows, those without images, left out). Different data and models, so compare directions and
# orderings, not levels. The paper's MAE is taken at the best threshold; the continuous MAE has no paper counterpart.

# %%
# NBVAL_CHECK_OUTPUT
paper_summary, paper_wins = idgi_tables.paper_cells()
ours_long = pd.concat([t.drop(columns="images").melt(id_vars=["metric", "system"], var_name="method")
                       for t in tables.values() if len(t)])  # fmt: skip
ours_summary = ours_long.dropna().groupby(["metric", "method"]).value.agg(["mean", "min", "max"]).reset_index()
beside = paper_summary.merge(ours_summary, on=["metric", "method"], suffixes=(" (paper)", " (ours)"))
beside["method"] = pd.Categorical(beside.method, METHODS)
beside = beside.sort_values(["metric", "method"]).reset_index(drop=True)
save_table(beside, out / "paper_vs_ours.csv")
report.show(beside, "{:.3f}")

# %% [markdown]
# ## Does IDGI improve its base method? Per cell, on the same images
#
# For every system, metric and base method: the mean per-image difference (IDGI minus base; for MAE lower is
# better) with a $95\%$ bootstrap interval {cite}`efron1979bootstrap`, the Wilcoxon signed-rank {cite}`wilcoxon1945`
# p-value and the verdict at the `alpha` level (no correction for the many cells: read the counts, not single cells).
# The verdict's direction is the sign of the median difference, saved beside the mean in `idgi_vs_base.csv`. SIC and
# AIC use each image's own binned area here.

# %%
comparison = idgi_tables.comparisons(scores, alpha, prof.n_boot, seed)
save_table(comparison, out / "idgi_vs_base.csv")

# %%
# NBVAL_CHECK_OUTPUT
by_base = comparison.groupby(["base", "verdict"], sort=False).size().unstack(fill_value=0)
by_metric = comparison.groupby(["metric", "verdict"], sort=False).size().unstack(fill_value=0)
testable = comparison[comparison.verdict != "n/a"]
for base in BASES.values():
    part = testable[testable.base == base]
    report.glue(f"better_{base}", int((part.verdict == "better").sum()))
    report.glue(f"worse_{base}", int((part.verdict == "worse").sum()))
    report.glue(f"cells_{base}", len(part))
na = comparison[comparison.verdict == "n/a"]
if len(na):
    groups = na.groupby("metric", sort=False).system.agg(lambda s: ", ".join(dict.fromkeys(s)))
    where = "; ".join(f"{metric} on {systems_}" for metric, systems_ in groups.items())
    na_text = (f"{len(na)} cells cannot be tested (fewer than five images with a value on both sides), not "
               f"comparable: {where}.")  # fmt: skip
else:
    na_text = "Every cell can be tested."
report.glue("na_sentence", na_text)
report.glue("paper_better", int(paper_wins["sum"].sum()))
report.glue("paper_cells", int(paper_wins["size"].sum()))
mae_counts = {m: idgi_tables.win_counts(comparison[comparison.metric == m])
              for m in ("MAE (best threshold)", "MAE (continuous)")}  # fmt: skip
best, cont = mae_counts["MAE (best threshold)"], mae_counts["MAE (continuous)"]
if best["tested"] == 0 and cont["tested"] == 0:
    mae_text = report.not_measured("no system has object masks, so neither MAE could be compared")
else:
    mae_text = (f"With the MAE at the best threshold (the paper's convention), IDGI is better in "
                f"{report.counted(best['better'], best['tested'], 'tested cells')} and worse in {best['worse']}; with "
                f"the MAE of the continuous map, better in {report.counted(cont['better'], cont['tested'], 'tested cells')}"
                f" and worse in {cont['worse']}.")  # fmt: skip
report.glue("mae_sentence", mae_text)
report.show(by_base.reset_index(), None, caption="cells per verdict and base method")
report.show(by_metric.reset_index(), None, caption="cells per verdict and metric")

# %% [markdown]
# IDGI is better than IG in {glue:text}`better_IG` of {glue:text}`cells_IG` testable cells (worse in
# {glue:text}`worse_IG`), better than Guided IG in {glue:text}`better_GIG` of {glue:text}`cells_GIG` (worse in
# {glue:text}`worse_GIG`), better than Blur IG in {glue:text}`better_BlurIG` of {glue:text}`cells_BlurIG` (worse in
# {glue:text}`worse_BlurIG`). {glue:text}`na_sentence` The paper's own tables have the IDGI version ahead of its base
# method in {glue:text}`paper_better` of {glue:text}`paper_cells` (model, metric, base method) cells.
#
# The two MAE conventions: {glue:text}`mae_sentence`

# %% tags=["hide-input"]
fig, axes = plt.subplots(1, 3, figsize=(13, 4.2), sharey=True)
metric_order = list(dict.fromkeys(comparison.metric))
for ax, base in zip(axes, BASES.values(), strict=True):
    part = comparison[comparison.base == base]
    for j, system in enumerate(names):
        s = part[part.system == system].set_index("metric").reindex(metric_order)
        ypos = np.arange(len(metric_order)) + (j - len(names) / 2) * 0.09
        ax.errorbar(s["mean diff"], ypos, xerr=[s["mean diff"] - s["CI low"], s["CI high"] - s["mean diff"]],
                    fmt="o", ms=3, lw=0.8, label=system)  # fmt: skip
    ax.axvline(0, color="k", lw=0.8)
    ax.set_title(f"{base} + IDGI minus {base}", fontsize=9)
    ax.set_yticks(np.arange(len(metric_order)), metric_order, fontsize=8)
axes[-1].legend(fontsize=6, loc="lower right")
fig.suptitle("Per-image gain of IDGI with 95% bootstrap CI (MAE: lower is better)", fontsize=10)
fig.tight_layout()
save_figure(fig, out / "idgi_gain.png")
plt.show()

# %% [markdown]
# (idgi-sign-convention)=
# ## The channel convention
#
# The paper does not say how a map's channels are combined before pixels are ranked. The book's tables rank by the
# *signed* sum $\sum_c a_c$ for insertion and SIC/AIC, so that negative evidence comes last, and localise by the
# absolute value $|\sum_c a_c|$, so that strong evidence of either sign counts as "on the object". Both are the book's
# choices. A map whose evidence carries both signs can score badly for the convention, not for the method. The run
# also scored insertion and SIC/AIC (entropy) by $|\sum_c a_c|$ (MS-SSIM, the costly level, only by the signed sum),
# and localisation by the signed sum and by its positive part. IDGI against its base method under each convention
# (cells summed over systems and base methods; "book" marks the tables' convention):

# %%
# NBVAL_CHECK_OUTPUT
ranking_metrics = TABLES["Table 1: insertion"] + TABLES["Table 2: SIC/AIC (entropy)"]
loc_metrics = TABLES["Table 4: localisation"]
absolute_comparison = idgi_tables.comparisons(scores[scores.metric.isin(ranking_metrics)], alpha, prof.n_boot, seed,
                                              "absolute")  # fmt: skip
by_convention = {"signed": comparison, "absolute": absolute_comparison}  # insertion and SIC/AIC
loc_by_convention = {"absolute": comparison}  # localisation: the book's is the absolute sum
for sign in ("signed", "positive"):
    loc_by_convention[sign] = idgi_tables.comparisons(scores[scores.metric.isin(loc_metrics)], alpha, prof.n_boot,
                                                      seed, sign)  # fmt: skip
sign_rows = []
for title, conventions in (("Table 1: insertion", by_convention), ("Table 2: SIC/AIC (entropy)", by_convention),
                           ("Table 4: localisation", loc_by_convention)):  # fmt: skip
    metrics = TABLES[title]
    for sign, comp in conventions.items():
        counts = idgi_tables.win_counts(comp[comp.metric.isin(metrics)])
        if counts["tested"] + counts["n/a"] == 0:
            continue
        sign_rows.append({"table": title.split(":")[0], "channels": sign,
                          "book": "yes" if sign == idgi_tables.book_sign(metrics[0]) else "",
                          "IDGI better": counts["better"], "no difference": counts["no difference"],
                          "IDGI worse": counts["worse"], "tested": counts["tested"]})  # fmt: skip
sign_table = pd.DataFrame(sign_rows, columns=["table", "channels", "book", "IDGI better", "no difference",
                                              "IDGI worse", "tested"])  # fmt: skip
save_table(sign_table, out / "sign_convention.csv")
report.show(sign_table, None)
rank_sum = (
    sign_table[sign_table.table.isin(["Table 1", "Table 2"])].groupby("channels")[["IDGI better", "tested"]].sum()
)
sign_wins = {sign: (int(rank_sum.loc[sign, "IDGI better"]), int(rank_sum.loc[sign, "tested"]))
             if sign in rank_sum.index else (0, 0) for sign in ("signed", "absolute")}  # fmt: skip
(b_signed, n_signed), (b_abs, n_abs) = sign_wins["signed"], sign_wins["absolute"]
if n_signed == 0 or n_abs == 0:
    sign_text = report.not_measured("too few images to test the insertion and SIC/AIC cells under both conventions")
else:
    share_signed, share_abs = b_signed / n_signed, b_abs / n_abs
    direction = ("The signed sum gives IDGI the larger share of wins, so part of its headline gain belongs to the "
                 "convention, not to the method" if share_signed > share_abs else
                 "The absolute sum gives IDGI the larger share of wins, so the book's signed convention understates "
                 "its gain" if share_signed < share_abs else "The convention does not change IDGI's share of wins")  # fmt: skip
    sign_text = (f"Over the insertion and SIC/AIC (entropy) cells, IDGI is better than its base method in "
                 f"{b_signed} of {n_signed} tested cells with the signed sum (the book's tables) and in {b_abs} of "
                 f"{n_abs} with the absolute sum. {direction}.")  # fmt: skip
report.glue("sign_sentence", sign_text)
loc_part = sign_table[sign_table.table == "Table 4"].set_index("channels")
if len(loc_part):
    loc_sign_text = (
        "For localisation, IDGI is better than its base method in "
        + ", ".join(
            report.counted(int(r["IDGI better"]), int(r["tested"]), "tested cells", none="no tested cell")
            + " by the "
            + {"absolute": "absolute sum (the book's)", "signed": "signed sum", "positive": "positive part"}[sign]
            for sign, r in loc_part.iterrows()
        )
        + "."
    )
else:
    loc_sign_text = report.not_measured("localisation needs object masks, and no system has them")
report.glue("loc_sign_sentence", loc_sign_text)
table2_systems = image_counts.loc[image_counts["Table 2"] > 0, "system"].tolist()
if table2_systems:
    first = table2_systems[0]
    sic = {sign: idgi_tables.table_value(scores, bokeh, first, "IG", "SIC (entropy)", sign)
           for sign in ("signed", "absolute")}  # fmt: skip
    example_text = (f"On {first}, IG's SIC (entropy) is {sic['signed']:.3f} with the signed ranking and "
                    f"{sic['absolute']:.3f} with the absolute one.")  # fmt: skip
else:
    example_text = ""
report.glue("sign_example", example_text)

# %% [markdown]
# {glue:text}`sign_example` {glue:text}`sign_sentence` {glue:text}`loc_sign_sentence` The card therefore states
# Tables 1 and 2 under both conventions.
#
# ## Cross-checks of the protocol
#
# **PAIR's protocol.** Tables 2 and 3 follow the IDGI paper's protocol ({term}`bokeh images <bokeh image>` pasted onto a Gaussian-blurred
# base, 25 thresholds, all bokeh images binned together). PAIR's own code scores each image separately (a new
# interpolation from the kept pixels at each of 13 thresholds, running maximum, median of per-image curves). On the
# first system's first images, IG and IG + IDGI by both protocols:

# %%
# NBVAL_CHECK_OUTPUT
pair, pair_curves = parallel.concat(results, "pair", owner), parallel.concat(results, "pair_curves", owner)
pair_rows = []
for method in idgi_tables.PAIR_MAPS:
    for kind in ("sic", "aic"):
        part = (
            pair[(pair.method == method) & (pair.kind == kind)]
            if len(pair)
            else pd.DataFrame(columns=["image", "skipped"])
        )
        images_pair = part.image.tolist()
        idgi_part = bokeh[(bokeh.system == names[0]) & (bokeh.method == method) & bokeh.image.isin(images_pair)
                          & (bokeh.information_level == "entropy") & (bokeh.sign == "signed")]  # fmt: skip
        pair_rows.append({
            "method": method, "kind": kind.upper(), "images": len(part), "kept by PAIR": int((part.skipped == "").sum()),
            "PAIR protocol": idgi_tables.pair_aggregate(pair_curves, method, kind),
            "IDGI protocol": binned_curve(idgi_part.information.to_numpy(dtype=float), idgi_part[kind].to_numpy(dtype=float), kind)[0],
        })  # fmt: skip
pair_table = pd.DataFrame(pair_rows)
save_table(pair_table, out / "pair_protocol_check.csv")
pt = pair_table.set_index(["method", "kind"])
agree, measured = 0, 0
for k in ("SIC", "AIC"):
    d_pair = pt.loc[("IG+IDGI", k), "PAIR protocol"] - pt.loc[("IG", k), "PAIR protocol"]
    d_idgi = pt.loc[("IG+IDGI", k), "IDGI protocol"] - pt.loc[("IG", k), "IDGI protocol"]
    if np.isfinite(d_pair) and np.isfinite(d_idgi):
        measured += 1
        agree += int(np.sign(d_pair) == np.sign(d_idgi))
protocols_text = report.counted(agree, measured, "kinds measured (SIC, AIC)",
                                none=report.not_measured(f"no image of {names[0]} passes both protocols' rules"))  # fmt: skip
report.glue("protocols_sentence", f"The two protocols agree on the direction of IDGI's effect for {protocols_text}."
            if measured else f"Whether the two protocols agree on IDGI's direction is {protocols_text}.")  # fmt: skip
report.show(pair_table, "{:.3f}")

# %% [markdown]
# {glue:text}`protocols_sentence` PAIR's protocol (implemented in `xai_lib.metrics.pic_pair`) is tested against PAIR
# saliency's own code, per image, in the project's `bench` extra.
#
# **The WebP effort.** The entropy level encodes every bokeh image as a lossless WebP. PAIR's estimate uses the
# encoder's default effort (4); this run uses effort {glue:text}`webp_effort`. What that changes, on the first
# system's first shard:

# %%
# NBVAL_CHECK_OUTPUT
report.glue("webp_effort", webp_method)
first_system = loaded[0]
shard = payloads[0]["indices"]
x_check = first_system.data("test").subset(torch.tensor(shard)).inputs.to(dev)
y_check = first_system.data("test").subset(torch.tensor(shard)).targets.to(dev)
maps_check = idgi_tables.attributions(first_system.model, x_check, y_check, output, prof.idgi_steps, prof.blur_steps)
efforts = {e: pic_idgi(first_system.model, x_check, maps_check, y_check, information="entropy", webp_method=e)
           for e in sorted({webp_method, 4})}  # fmt: skip
effort_rows = []
for m in ("IG", "IG+IDGI"):
    for kind in ("sic", "aic"):
        a = efforts[webp_method].per_image(m, kind).values.numpy()
        b = efforts[4].per_image(m, kind).values.numpy()
        ok = np.isfinite(a) & np.isfinite(b)
        effort_rows.append({"method": m, "kind": kind.upper(), "images": int(ok.sum()),
                            "max |difference|": float(np.abs(a[ok] - b[ok]).max()) if ok.any() else np.nan,
                            "Spearman": float(spearmanr(a[ok], b[ok]).statistic)
                                         if ok.sum() > 2 and np.ptp(a[ok]) > 0 and np.ptp(b[ok]) > 0 else np.nan})  # fmt: skip
effort_table = pd.DataFrame(effort_rows)
save_table(effort_table, out / "webp_effort_check.csv")
if webp_method == 4:
    effort_text = "This run uses PAIR's effort itself: there is nothing to compare."
elif not effort_table["images"].any():
    effort_text = report.not_measured(f"no image of {first_system.name}'s first shard passes the entropy normalisation")
else:
    worst = effort_table.loc[effort_table["Spearman"].idxmin()] if effort_table["Spearman"].notna().any() else None
    effort_text = (f"Between the two efforts the largest per-image difference of an area is "
                   f"{effort_table['max |difference|'].max():.3f}"
                   + (f", and the per-image areas keep their order with a rank correlation of at least "
                      f"{worst['Spearman']:.2f} ({worst['method']} {worst['kind']})" if worst is not None else "")
                   + " (effort 4 is PAIR's; the `paper` profile uses it).")  # fmt: skip
report.glue("effort_sentence", effort_text)
report.show(effort_table, "{:.3f}")

# %% [markdown]
# {glue:text}`effort_sentence`
#
# ## The card: the paper's claims and the TMLR study's
#
# Each claim of the paper is tested cell by cell: a cell is one (system, metric, base method), and IDGI is better in
# it when the paired Wilcoxon signed-rank test at the `alpha` level finds it better. The TMLR reproducibility study
# {cite}`singhi2024idgi` found that IDGI improves several base methods but not universally, that residual networks
# behave differently (IDGI does not help there, or hurts), and that the results depend on the number of steps. The
# first two are tested below on this chapter's cells; the step count is not varied here (one step count per method)
# and is measured in {doc}`02_idgi_noise`. For the residual networks: every cell of a VGG-style system is matched with
# the ResNet cell of the same dataset, training level, metric and base method (both tested), and the mean of
# "IDGI better on VGG" minus "IDGI better on ResNet" over the matched cells gets a $95\%$ bootstrap interval over the
# cells. The cells share images, so the interval treats dependent cells as independent: it is optimistic.

# %% tags=["hide-input"]
# NBVAL_CHECK_OUTPUT
CELL_TEST = (f"paired Wilcoxon signed-rank test at {alpha:g} per (system, metric, base) cell; reproduced if every "
             "tested cell is better, partly if at least half")  # fmt: skip


def table_claim(title: str, metrics: list[str], comp: pd.DataFrame, what: str, extra: str = "",
                none: str = "no cell has five images with a value on both sides") -> dict:  # fmt: skip
    """One table's claim: IDGI better than its base method, counted over the tested cells (``extra``: what else the
    card says when cells were tested; ``none``: why nothing could be measured otherwise)."""
    cells = comp[comp.metric.isin(metrics) & (comp.verdict != "n/a")]
    paper_part = paper_wins[paper_wins.metric.isin(metrics)]
    better, worse = int((cells.verdict == "better").sum()), int((cells.verdict == "worse").sum())
    ours = (f"better in {better} of {len(cells)} tested cells (worse in {worse}){extra}" if len(cells)
            else report.not_measured(none))  # fmt: skip
    return {"artefact": title.split(":")[0], "claim": f"IDGI improves IG, GIG and Blur IG ({what})",
            "paper": f"better in {int(paper_part['sum'].sum())} of {int(paper_part['size'].sum())} model x base cells",
            "ours": ours, "verdict": report.verdict(better, len(cells)), "test": CELL_TEST}  # fmt: skip


not_comparable_t2 = f"; not comparable on {', '.join(no_table2)} (no image enters Table 2)" if no_table2 else ""
not_comparable_t4 = f"; not measured on {', '.join(no_masks)} (no object masks)" if no_masks else ""
none_t2 = ("no image of any system enters Table 2 (the entropy normalisation leaves them all out)"
           if no_table2 == names else "no cell has five images with a value on both sides")  # fmt: skip
cont = idgi_tables.win_counts(comparison[comparison.metric == "MAE (continuous)"])
claims = [
    table_claim("Table 1", TABLES["Table 1: insertion"], comparison, "insertion; pixels ranked by the signed channel sum"),
    table_claim("Table 1", TABLES["Table 1: insertion"], absolute_comparison,
                "insertion; pixels ranked by the absolute channel sum"),
    table_claim("Table 2", TABLES["Table 2: SIC/AIC (entropy)"], comparison,
                "SIC/AIC (entropy); signed channel sum", not_comparable_t2, none_t2),
    table_claim("Table 2", TABLES["Table 2: SIC/AIC (entropy)"], absolute_comparison,
                "SIC/AIC (entropy); absolute channel sum", not_comparable_t2, none_t2),
    table_claim("Table 3", TABLES["Table 3: SIC/AIC (MS-SSIM)"], comparison, "SIC/AIC (MS-SSIM); signed channel sum"),
    table_claim("Table 4", ["F1", "ROC-AUC", "MAE (best threshold)"], comparison,
                "localisation; absolute channel sum; F1, ROC-AUC and MAE at the best threshold",
                (f"; with the continuous MAE in place of the thresholded one: better in {cont['better']} of "
                 f"{cont['tested']} MAE cells" if cont["tested"] else "") + not_comparable_t4,
                "no system has object masks" if no_masks == names else "no cell has five images with a value"),
]  # fmt: skip
t1 = tables["Table 1: insertion"].set_index(["metric", "system"])[list(METHODS)]
vg_lowest = int(t1.idxmin(axis=1).eq("VG").sum())
paper_rows = (
    xai_lib.reference.idgi_tables().query("table == 1").pivot_table(index=["metric", "model"], columns="method")
)
paper_vg = int(paper_rows.value.idxmin(axis=1).eq("VG").sum())
claims.append({
    "artefact": "sec. 4.3", "claim": "VG has the lowest insertion score", "paper": f"{paper_vg} of {len(paper_rows)} rows",
    "ours": f"lowest in {vg_lowest} of {len(t1)} rows", "verdict": report.verdict(vg_lowest, len(t1)),
    "test": "VG's mean insertion score is the lowest of the seven methods in each (metric, system) row, no tolerance; "
            "reproduced if in every row, partly if in at least half",
})  # fmt: skip

# TMLR study: IDGI's gain is not universal (all tables, the book's conventions)
all_cells = idgi_tables.win_counts(comparison)
not_better = all_cells["tested"] - all_cells["better"]
claims.append({
    "artefact": "TMLR study, results", "claim": "IDGI does not improve its base method in every cell",
    "paper": "IDGI paper: better in every cell; TMLR study: not universally (ImageNet)",
    "ours": (f"not better in {not_better} of {all_cells['tested']} tested cells (worse in {all_cells['worse']}, "
             f"better in {all_cells['better']})"
             if all_cells["tested"] else report.not_measured("no tested cell")),
    "verdict": ("not comparable" if all_cells["tested"] == 0 else "reproduced" if not_better > 0 else "not reproduced"),
    "test": f"{CELL_TEST.split(';')[0]}, all four tables; reproduced if at least one tested cell is not better",
})  # fmt: skip

# TMLR study: residual networks (matched VGG / ResNet cells)
system_info = pd.DataFrame([{
    "system": s.name, "dataset": s.spec.dataset,
    "level": "under-trained" if (split_registry_name(s.spec.model) or ("", False))[1] else "trained",
    "family": idgi_tables.architecture(s.spec.model),
} for s in loaded])  # fmt: skip
family = idgi_tables.family_pairs(comparison, system_info)
save_table(family, out / "vgg_vs_resnet_cells.csv")
if len(family):
    diff_mean, diff_lo, diff_hi = stats.bootstrap_mean_ci(family["difference"], n_boot=prof.n_boot, seed=seed)
    family_verdict = report.interval_verdict(diff_lo, diff_hi, 0.0, "above")
    family_ours = (f"IDGI better in {int(family['better VGG'].sum())} of {len(family)} matched cells on VGG-style "
                   f"systems, {int(family['better ResNet'].sum())} on ResNet; difference of shares {diff_mean:.2f} "
                   f"[{diff_lo:.2f}, {diff_hi:.2f}]")  # fmt: skip
else:
    family_verdict = "not comparable"
    family_ours = report.not_measured("no VGG-style and ResNet system share a dataset and a training level")
claims.append({
    "artefact": "TMLR study, residual networks", "claim": "IDGI helps less on residual networks than on plain ones",
    "paper": "IDGI paper: better on its three ResNets as on the rest; TMLR study: anomalies on residual networks",
    "ours": family_ours, "verdict": family_verdict,
    "test": "matched (dataset, training level, metric, base) cells of a VGG-style and a ResNet system, both tested: "
            "mean of 1[IDGI better on VGG] - 1[IDGI better on ResNet] with a 95% bootstrap CI over the cells; "
            "reproduced if the CI lies above 0, inconclusive if it spans 0",
})  # fmt: skip
claims.append({
    "artefact": "TMLR study, step count", "claim": "IDGI's results depend on the number of Riemann steps",
    "paper": "TMLR study: stated (ImageNet)",
    "ours": report.not_measured(f"one step count per method here (IG and GIG {prof.idgi_steps}, Blur IG "
                                f"{prof.blur_steps}); chapter 02_idgi_noise varies it"),
    "verdict": "not comparable", "test": "none in this chapter; see chapter 02_idgi_noise (map change between step counts)",
})  # fmt: skip

masked = [s.name for s in loaded if s.data("test").masks is not None]
pair_blur_steps = 100  # PAIR's Blur IG default
settings = [
    ("models", "11 ImageNet CNNs (TensorFlow, pretrained)", ", ".join(names)),
    ("images", "correctly classified ImageNet validation images (33K-39K per model)",
     f"first {prof.idgi_table_images} correctly classified test images per system"),
    ("steps", "200 for IG, GIG and Blur IG",
     f"IG and GIG {prof.idgi_steps}, Blur IG {prof.blur_steps}"
     + (" (PAIR's default)" if prof.blur_steps == pair_blur_steps else f" (PAIR's default is {pair_blur_steps})")),
    ("attributed output", "softmax probability (reference code)", output),
    ("channels", "not stated",
     "signed sum for insertion and SIC/AIC, absolute sum for localisation (the book's); insertion and SIC/AIC "
     "(entropy) also by the absolute sum"),
    ("SIC/AIC", "IDGI protocol (PIL blur radius 20, 25 thresholds, 100 bins)",
     f"the same, radius scaled to the image side; WebP effort {webp_method}; PAIR's protocol as cross-check on "
     f"{names[0]}"),
    ("localisation", "ImageNet bounding boxes; F1 and MAE at the best threshold",
     f"object masks of {', '.join(masked)}; MAE at the best threshold and of the continuous map" if masked
     else report.not_measured("no system has object masks")),
    ("tests", "none (means over the images)", f"paired Wilcoxon signed-rank per cell at {alpha:g}"),
]  # fmt: skip
print(report.card("03_idgi_tables", settings, claims, out, seed=seed).verdict.value_counts().to_string())

summary_cells = (f"Over the four tables, IDGI is better than its base method in {all_cells['better']} of "
                 f"{all_cells['tested']} tested cells and worse in {all_cells['worse']} (paired tests at {alpha:g}); "
                 f"the paper's tables have it ahead in {int(paper_wins['sum'].sum())} of "
                 f"{int(paper_wins['size'].sum())} cells. {table2_text}"
                 if all_cells["tested"] else report.not_measured("no cell could be tested"))  # fmt: skip
report.glue("summary_cells", summary_cells)
report.glue("summary_family", (
    f"Beside the TMLR study: IDGI is not better in {not_better} of {all_cells['tested']} tested cells; on the "
    f"matched cells it wins {int(family['better VGG'].sum())} of {len(family)} on VGG-style systems and "
    f"{int(family['better ResNet'].sum())} on ResNet ones, a difference of shares of {diff_mean:.2f} (95% interval "
    f"{diff_lo:.2f} to {diff_hi:.2f}): the finding that IDGI helps less on residual networks is {family_verdict} "
    "here."
    if len(family) else f"Beside the TMLR study: IDGI is not better in {not_better} of {all_cells['tested']} tested "
                        f"cells; {family_ours}."))  # fmt: skip

# %% [markdown]
# ## Use it on your model
#
# Name your systems in `systems` (a JSON list or a `.json`/`.yaml` file; every key in {doc}`../book/how_to_run`) and
# re-run the chapter; a system without object masks gets no Table 4, and the card says so. Or score your own maps:
#
# ```python
# import xai_lib
# from xai_lib.experiments import idgi_tables
# from xai_lib.metrics import insertion_aucs, localisation, pic_idgi
# system = xai_lib.load_system(xai_lib.systems.parse_system("my_system.json"))
# maps = idgi_tables.attributions(system.model, images, labels, "probability", steps=200, blur_steps=100)
# ins = insertion_aucs(system.model, images, maps["IG+IDGI"], labels)                  # signed channel sum
# ins_abs = insertion_aucs(system.model, images, maps["IG+IDGI"], labels, absolute=True)
# pic = pic_idgi(system.model, images, maps, labels, information=("entropy", "msssim"))  # {level: result}
# loc = localisation(maps["IG+IDGI"], masks, sign="absolute")   # roc_auc, best_f1, mae, mae_best per image
# ```
#
# ## Summary
#
# * {glue:text}`summary_cells`
# * {glue:text}`sign_sentence`
# * {glue:text}`summary_family` The dependence on the step count is measured in {doc}`02_idgi_noise`.
# * SIC/AIC are protocols, not single numbers: the IDGI paper's (pasted top pixels, all images binned together) and
#   PAIR's (per-image interpolated bokeh images) are both implemented here. {glue:text}`protocols_sentence`
#
# ## Exercises
#
# ````{exercise-start}
# :label: ex-tables-1
# ````
# Attribute the logit instead of the softmax probability (`-p output logit`): how much do the insertion scores move,
# and does IDGI's advantage over each base method survive? Try it on one system first: the scaffold below computes
# Table 1 for `shapes/vgg` on 16 images. *Time: 30 min (runs in about 30 s).*
# ````{exercise-end}
# ````


# %% tags=["exercise"]
def table1_cells(output_kind: str, n_images: int = 16) -> pd.DataFrame:
    """Mean insertion score (probability) of the seven maps on the first correctly classified images of shapes/vgg."""
    from xai_lib.metrics import insertion_aucs

    s = next(x for x in loaded if x.name == "shapes/vgg") if "shapes/vgg" in names else loaded[0]
    idx = torch.tensor(common.first_correct(pred, s.name, n_images))
    d = s.data("test").subset(idx)
    x, y = d.inputs.to(dev), d.targets.to(dev)
    maps = idgi_tables.attributions(s.model, x, y, output_kind, prof.idgi_steps, prof.blur_steps)
    return pd.DataFrame(
        {m: [float(insertion_aucs(s.model, x, a, y)["probability"].values.mean())] for m, a in maps.items()}
    )


# your turn: compare table1_cells("probability") with table1_cells("logit")

# %% [markdown]
# ````{solution-start} ex-tables-1
# :class: dropdown
# ````

# %% tags=["solution"]
# NBVAL_CHECK_OUTPUT
by_output = {kind: table1_cells(kind).iloc[0] for kind in ("probability", "logit")}
logit_vs_prob = pd.DataFrame(by_output).T.rename_axis("attributed output").reset_index()
report.show(logit_vs_prob, "{:.3f}")
change = (by_output["logit"] - by_output["probability"]).abs()
ahead = {kind: [base for new, base in BASES.items() if v[new] > v[base]] for kind, v in by_output.items()}
same_order = ahead["probability"] == ahead["logit"]


def listed(bases: list[str]) -> str:
    return ", ".join(bases) if bases else "none of the base methods"


report.glue("ex1_answer", (
    f"The largest change of a method's mean insertion score between the two outputs is {change.max():.3f} "
    f"({change.idxmax()}). "
    + ((f"By the mean over these images (no test), IDGI is ahead of the same base methods under both outputs "
        f"({listed(ahead['logit'])}): its advantage survives." if ahead["logit"] else
        "IDGI is ahead of none of the base methods under either output: there is no advantage to survive.")
       if same_order else
       f"IDGI's order against its base method changes: ahead of {listed(ahead['probability'])} when the probability "
       f"is attributed, of {listed(ahead['logit'])} when the logit is.")
))  # fmt: skip
if book_run:
    assert same_order and ahead["logit"] == ["IG", "GIG"], ahead

# %% [markdown]
# {glue:text}`ex1_answer` IDGI weights each step by the change of the output it sees, whatever that output is.
# ````{solution-end}
# ````
#
# ````{exercise-start}
# :label: ex-tables-2
# ````
# The IDGI paper proposes the MS-SSIM information level because it spreads the bokeh images more evenly over the 100
# bins than the normalised entropy (its Fig. 4). From the saved bokeh images, compare the two levels on the same
# images: choose one measure of evenness, say why, and decide. *Time: 20 min.*
# ````{exercise-end}
# ````
#
# ````{solution-start} ex-tables-2
# :class: dropdown
# ````

# %% tags=["solution"]
# NBVAL_CHECK_OUTPUT
signed_bokeh = bokeh[bokeh.sign == "signed"].dropna(subset=["information"])
with_entropy = signed_bokeh[signed_bokeh.information_level == "entropy"][["system", "image"]].drop_duplicates()
spread = pd.DataFrame([
    {"information": level, "images": len(with_entropy),
     **idgi_tables.bin_spread(signed_bokeh[signed_bokeh.information_level == level]
                              .merge(with_entropy, on=["system", "image"]).information.to_numpy())}
    for level in ("entropy", "MS-SSIM")
]).set_index("information")  # fmt: skip
report.show(spread.reset_index(), {"share in the fullest bin": "{:.3f}", "effective bins": "{:.1f}"})
for level in spread.index:  # a mathematical bound, any data: one bin <= exp(entropy) <= the occupied bins
    if spread.loc[level, "bokeh images"]:
        assert 1 - 1e-9 <= spread.loc[level, "effective bins"] <= spread.loc[level, "bins with a bokeh image"] + 1e-9
if len(with_entropy) == 0:
    winner = None
    ex2_text = report.not_measured("no image passes the entropy level's normalisation, so the two levels cannot be "
                                   "compared on the same images")  # fmt: skip
else:
    ent, ms = spread.loc["entropy"], spread.loc["MS-SSIM"]
    more_bins = "MS-SSIM" if ms["bins with a bokeh image"] > ent["bins with a bokeh image"] else "entropy"
    less_full = "MS-SSIM" if ms["share in the fullest bin"] < ent["share in the fullest bin"] else "entropy"
    winner = ("MS-SSIM" if ms["effective bins"] > ent["effective bins"] else
              "entropy" if ms["effective bins"] < ent["effective bins"] else None)  # fmt: skip
    ex2_text = (
        f"On the same {len(with_entropy)} images, the entropy level fills {int(ent['bins with a bokeh image'])} bins "
        f"and puts {ent['share in the fullest bin']:.1%} of the bokeh images in its fullest bin; MS-SSIM fills "
        f"{int(ms['bins with a bokeh image'])} bins with {ms['share in the fullest bin']:.1%} in the fullest. "
        + ("These two simple measures disagree. " if more_bins != less_full else "Both simple measures favour "
           f"{more_bins}. ")
        + "The effective number of bins (the exponential of the Shannon entropy of the bins' shares: k when the "
        "images spread evenly over k bins) weighs both and decides: "
        + (f"{winner} spreads the bokeh images more evenly ({max(ms['effective bins'], ent['effective bins']):.1f} "
           f"against {min(ms['effective bins'], ent['effective bins']):.1f} effective bins), "
           + ("as the paper's Fig. 4 argues." if winner == "MS-SSIM" else "contrary to the paper's Fig. 4 argument.")
           if winner else "the two levels spread them equally evenly.")
    )  # fmt: skip
report.glue("ex2_answer", ex2_text)
if book_run:
    assert winner == "MS-SSIM", spread

# %% [markdown]
# {glue:text}`ex2_answer` A bin with more bokeh images gives its mean (AIC) or median (SIC) more images to stand on.
# ````{solution-end}
# ````
#
# ````{exercise-start}
# :label: ex-tables-3
# ````
# Table 4 localises by $|\sum_c a_c|$. Which method gains most if localisation used the signed sum $\sum_c a_c$
# instead, and what does keeping only its positive part do? The run scored every map under the three conventions:
# the rows of `scores` with metric "ROC-AUC" and sign "absolute", "signed" or "positive" (over all systems with
# object masks). *Time: 20 min.*
# ````{exercise-end}
# ````
#
# ````{solution-start} ex-tables-3
# :class: dropdown
# ````

# %% tags=["solution"]
# NBVAL_CHECK_OUTPUT
roc = scores[scores.metric == "ROC-AUC"]
loc_rows = []
for m in METHODS:
    wide = roc[roc.method == m].pivot_table(index=["system", "image"], columns="sign", values="value").dropna()
    if wide.empty:
        continue
    vs_signed = stats.paired_comparison(wide["signed"], wide["absolute"], alpha=alpha, n_boot=prof.n_boot, seed=seed)
    vs_positive = stats.paired_comparison(wide["positive"], wide["absolute"], alpha=alpha, n_boot=prof.n_boot,
                                          seed=seed)  # fmt: skip
    loc_rows.append({"method": m, "images": len(wide), "|sum| (Table 4)": wide["absolute"].mean(),
                     "signed sum": wide["signed"].mean(), "positive part": wide["positive"].mean(),
                     "signed vs |sum|": vs_signed["verdict"], "positive vs |sum|": vs_positive["verdict"]})  # fmt: skip
loc_table = pd.DataFrame(loc_rows)
if len(loc_table):
    report.show(loc_table, "{:.3f}")
    gain = (loc_table["signed sum"] - loc_table["|sum| (Table 4)"]).to_numpy()
    best_row = loc_table.iloc[int(np.argmax(gain))]
    n_methods = len(loc_table)
    n_signed_lower = int((gain < 0).sum())
    n_signed_worse = int((loc_table["signed vs |sum|"] == "worse").sum())
    if gain.max() > 0:
        signed_text = (f"{best_row['method']} gains most with the signed sum: its mean ROC-AUC moves from "
                       f"{best_row['|sum| (Table 4)']:.3f} to {best_row['signed sum']:.3f} (paired test: "
                       f"{best_row['signed vs |sum|']}); the signed sum lowers it for {n_signed_lower} of "
                       f"{n_methods} methods.")  # fmt: skip
    elif n_signed_lower == n_methods:
        signed_text = (f"No method gains: the signed sum lowers the mean ROC-AUC of all {n_methods} methods "
                       f"(significantly for {n_signed_worse}); {best_row['method']} loses least, from "
                       f"{best_row['|sum| (Table 4)']:.3f} to {best_row['signed sum']:.3f}.")  # fmt: skip
    else:
        signed_text = (f"No method gains: the signed sum lowers the mean ROC-AUC of {n_signed_lower} of {n_methods} "
                       f"methods (significantly for {n_signed_worse}) and leaves the others unchanged.")  # fmt: skip
    pos_gain = (loc_table["positive part"] - loc_table["|sum| (Table 4)"]).to_numpy()
    n_pos_lower, n_pos_higher = int((pos_gain < 0).sum()), int((pos_gain > 0).sum())
    n_pos_worse = int((loc_table["positive vs |sum|"] == "worse").sum())
    positive_text = (f"Keeping only the positive part lowers the mean ROC-AUC for {n_pos_lower} of {n_methods} "
                     f"methods (significantly for {n_pos_worse})"
                     + (f" and raises it for {n_pos_higher}." if n_pos_higher else "."))  # fmt: skip
    ex3_text = f"{signed_text} {positive_text}"
else:
    ex3_text = report.not_measured("no system has object masks, so localisation was not scored")
    n_methods = n_signed_lower = n_pos_lower = 0
report.glue("ex3_answer", ex3_text)
if book_run:
    assert n_methods == len(METHODS) and n_signed_lower == n_methods and n_pos_lower == n_methods, loc_table

# %% [markdown]
# {glue:text}`ex3_answer`
# ````{solution-end}
# ````
#
# ## Resources
#
# * The IDGI paper, sec. 4 {cite}`yang2023idgi`; the TMLR reproducibility study of IDGI {cite}`singhi2024idgi`; the
#   SIC/AIC curves of XRAI {cite}`kapishnikov2019xrai` and PAIR saliency's implementation {cite}`pair2022saliency`;
#   the insertion score of RISE {cite}`petsiuk2018rise`.
# * {doc}`02_idgi_noise` measures how IDGI's maps move with the number of steps.
# * {doc}`../book/paper_scale` runs this chapter on the paper's image counts over a Dask cluster.
#
# ## Implementation notes
#
# * **Images**: the first `idgi_table_images` correctly classified test images of each system (the paper uses
#   ImageNet validation images). Targets are the true (= predicted) classes; the attributed output is the softmax
#   probability by default (`output`), as in the reference code.
# * **Steps**: IG and Guided IG as the profile says (the paper's 200 in the `book` and `paper` profiles), Blur IG as
#   the profile says (PAIR's default 100 in the `book` and `paper` profiles), `max_sigma=50`, Guided IG
#   `fraction=0.25` and `max_dist=0.02` (PAIR's defaults). IG is the right Riemann sum. The card's settings give this
#   run's counts.
# * **Channels** (the book's choice; the paper states none): insertion and SIC/AIC rank pixels by $\sum_c a_c$
#   (negative evidence last), localisation uses $|\sum_c a_c|$. Insertion and SIC/AIC (entropy) are also scored by
#   $|\sum_c a_c|$, localisation also by $\sum_c a_c$ and by $\max(\sum_c a_c, 0)$ (the `sign` column of `scores.csv`).
# * **Insertion**: $5\%$ of the pixels per step onto a black image (20 steps), trapezoidal area; ratio variant divided
#   by the full image's probability.
# * **SIC/AIC, IDGI protocol** (Tables 2 and 3): PIL Gaussian blur of radius 20 scaled from 224 pixels to the image
#   side; 25 thresholds from $0$ to $100\%$; the top pixels pasted onto the base; information = normalised WebP size or
#   MS-SSIM to the original (window 3, small images upsampled); prediction = probability relative to the original's,
#   clipped to [0, 1] (SIC) or 1/0 correct (AIC); 100 bins; empty bins interpolated; area = mean over bins.
#   Per-image areas (for the paired tests) apply the same binning to one image's points. An image whose blurred base
#   is not less informative than the original is left out of the entropy level (counted per system above).
# * **SIC/AIC, PAIR protocol** (cross-check): PAIR's `compute_pic_metric` exactly (random mask of $1\%$ of the pixels
#   from the seed and the image index).
# * **Localisation**: the channel sum (see above) min-max normalised to $S \in [0, 1]$; ROC-AUC of $S$ against the
#   binary object mask of `shapes`; best F1 over the thresholds of $S$; MAE in two conventions: of the binary map
#   $S \geq t$ at the threshold $t$ (a value of $S$) that minimises it, the paper's "best threshold", and of the
#   continuous map $S$. The paper's sentence could also mean one threshold (F1's best) for both; the book takes each
#   metric's own best.
# * **Tests**: Wilcoxon signed-rank on per-image differences (pairs where both values exist), two-sided, no
#   multiple-comparison correction; bootstrap CIs with `n_boot` resamples. The VGG/ResNet comparison of the card
#   resamples matched cells, which share images: its interval is optimistic.
# * **Sharding**: per-image results do not depend on the shard (every image's computation is its own); on a Dask
#   cluster each worker loads the chapter's model at the chapter's thread count and checks its weights' digest,
#   then computes with that thread count (or `XAI_LIB_WORKER_THREADS`), so the numbers equal the in-process run's.
# * **Where the time goes**: wall-clock seconds of each shard, split by `xai_lib.stopwatch` into the model's calls
#   (every forward, and forward+backward, pass the methods and metrics make, with the batch's move to the model's
#   memory layout), the WebP encodes (on both cores) and MS-SSIM; "other" is the rest of the shard's time. The
#   shares are this run's, on this machine: they move with the machine's load and with the profile's settings.
