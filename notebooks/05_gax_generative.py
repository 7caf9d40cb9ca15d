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
# # GAX: generative heatmaps optimised to a target CO score
#
# **What this chapter reproduces.** Section 4.2-4.3 of the GAX paper {cite}`tjoa2021gax`: instead of taking a
# heatmap from an existing method and scoring it, *generate* one that reaches a chosen CO score. The
# heatmap is $h = \tanh(w \odot x)$ with $w$ initialised to ones and optimised by Adam (lr 0.1) on eq. (6),
# $\mathcal{L} = -s_{co}(x, h) + l_s / \mathrm{mean}\big((h - x + \epsilon)^2 / (x + \epsilon)\big)$, until
# $s_{co}$ reaches the target. We draw the CO curves of every image (paper Fig. 4) for both architectures,
# count how many images reach the target within an iteration cap and in how many steps, show the R/G/B
# heatmaps with their absolute maximum (Fig. 5 B-E) and the heatmap's evolution as a slider (Fig. 5A).
#
# **False distinct feature** (section 4.3 (3), Fig. 5F). A ResNet trained on `shapes_spurious`, where 90% of
# class-0 images carry a small magenta mark in a corner (3% of the others do), learns the mark. Does GAX put
# its heatmap on the mark, and does it do so more than for a model trained on clean images?
#
# **Run time** on 2 CPU cores: `smoke` ~15 s, `book` ~1 min, `paper` ~10 min.

# %% tags=["parameters"]
profile = "book"  # smoke | book | paper
systems = "shapes/resnet,shapes/vgg"  # dataset/model pairs optimised by GAX (images only)
target_co = "auto"  # a number, or "auto": the target_quantile of the six methods' CO scores (paper: 48)
target_quantile = 0.9  # the "auto" target exceeds this share of the existing methods' CO scores
spurious_system = "shapes_spurious/resnet"  # the model that learned the spurious mark
clean_model = "shapes/resnet"  # the same architecture trained on clean images
similarity = 100.0  # l_s of eq. (6)
seed = 0
device = "auto"
output_dir = "outputs/gax_generative"

# %%
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch
from IPython.display import HTML, display

import xai_lib
from xai_lib import params
from xai_lib.data import load_dataset
from xai_lib.gax import METHODS, co_score, first_conv, gax, heatmaps, mask_enrichment
from xai_lib.models import batched_logits
from xai_lib.plotting import animation_html, save_figure, save_table
from xai_lib.stats import bootstrap_mean_ci

prof = xai_lib.get_profile(profile)
pairs = [tuple(s.split("/", 1)) for s in params.str_list("systems", systems)]
spurious_pair, clean_pair = (tuple(s.split("/", 1)) for s in (spurious_system, clean_model))
if any(len(p) != 2 for p in [*pairs, spurious_pair, clean_pair]):
    raise ValueError("systems, spurious_system, clean_model: expected dataset/model pairs")
quantile = params.number("target_quantile", target_quantile, lo=0.0, hi=1.0)
fixed_target = None if target_co == "auto" else params.number("target_co", target_co, lo=0.0)
l_s = params.number("similarity", similarity, lo=0.0)
out = params.output_dir("output_dir", output_dir)
dev = xai_lib.setup(seed, device)
print(f"profile={prof.name} device={dev.type} systems={['/'.join(p) for p in pairs]} "
      f"images={prof.gax_opt_images} cap={prof.gax_max_steps}")  # fmt: skip


# %% [markdown]
# ## The images and the target
#
# GAX is run on correctly predicted test images only (the paper excludes wrong predictions). The paper sets
# the target to 48, "exceeding most CO scores of other methods" on ImageNet. CO scores depend on the model's
# output scale, so a fixed number does not transfer; with `target_co = "auto"` the target is the
# `target_quantile` (0.9) of the six methods' CO scores (raw outputs, $x + h$) on the same images, rounded up.
# A GAX heatmap that reaches it beats 90% of the existing heatmaps at the paper's own criterion.


# %%
def correct_images(ds: str, spec: str, n: int, index: torch.Tensor | None = None):
    """The first ``n`` correctly predicted test images of a system (restricted to ``index`` if given)."""
    data = load_dataset(ds, "test", prof, seed)
    if data.kind != "image":
        raise ValueError(f"systems: GAX heatmaps here need an image dataset, got {ds!r}")
    net = xai_lib.load_model(spec, ds, profile=prof, seed=seed, device=dev, progress=False)
    rows = torch.arange(len(data)) if index is None else index
    pred = batched_logits(net, data.inputs[rows]).argmax(1)
    keep = rows[pred == data.labels[rows]][:n]
    return net, data.subset(keep)


def auto_target(net, x, y) -> tuple[float, pd.DataFrame]:
    """The target CO and the existing methods' CO scores it was taken from."""
    scores = []
    for method in METHODS:
        if method == "LayerGradCam" and first_conv(net) is None:
            continue
        h = heatmaps(net, x, method)
        with torch.no_grad():
            co = co_score(net, x, h, y)
        scores.append(pd.DataFrame({"method": method, "co": co.cpu().numpy()}))
    table = pd.concat(scores, ignore_index=True)
    return float(np.ceil(table.co.quantile(quantile))), table


runs, method_scores = {}, []
for ds, spec in pairs:
    name = f"{ds}/{spec}"
    net, data = correct_images(ds, spec, prof.gax_opt_images)
    x, y = data.inputs.to(dev), data.labels.to(dev)
    target, scores = auto_target(net, x, y)
    target = fixed_target if fixed_target is not None else target
    method_scores.append(scores.assign(system=name))
    res = gax(net, x, y, target, max_steps=prof.gax_max_steps, similarity=l_s, snapshot_images=(0,), milestones=16)
    runs[name] = {"net": net, "data": data, "target": target, "result": res}
save_table(pd.concat(method_scores, ignore_index=True), out / "method_co_scores.csv")
print("targets:", {name: run["target"] for name, run in runs.items()})

# %% [markdown]
# ## CO curves to the target (paper Fig. 4)
#
# One curve per image: the CO score of $x + \tanh(w \odot x)$ at each iteration, until it reaches the target
# (dashed) or the cap. At iteration 0, $h = \tanh(x)$: brightening the whole image already moves the score.

# %%
colours = dict(zip(runs, ["tab:blue", "tab:red", "tab:green", "tab:purple"], strict=False))
fig, ax = plt.subplots(figsize=(7, 4))
curve_rows = []
for name, run in runs.items():
    hist = run["result"].history.numpy()
    for i in range(hist.shape[1]):
        valid = ~np.isnan(hist[:, i])
        ax.plot(np.flatnonzero(valid), hist[valid, i], color=colours[name], lw=0.7, alpha=0.6)
        curve_rows += [{"system": name, "image": i, "iteration": int(t), "co": float(hist[t, i])}
                       for t in np.flatnonzero(valid)]  # fmt: skip
    ax.axhline(run["target"], color=colours[name], ls="--", lw=1.2, label=f"{name}: target {run['target']:.0f}")
ax.set_xlabel("GAX iteration")
ax.set_ylabel("CO score (raw, x + h)")
ax.legend(fontsize=8)
ax.set_title("Generative AX: one curve per image", fontsize=10)
fig.tight_layout()
save_figure(fig, out / "co_curves.png")
save_table(pd.DataFrame(curve_rows), out / "co_curves.csv")
plt.show()

# %% [markdown]
# How many images reach the target within the cap, and how many iterations they need:

# %%
# NBVAL_CHECK_OUTPUT
summary_rows = []
for name, run in runs.items():
    res = run["result"]
    s = res.steps[res.reached].float()
    summary_rows.append({"system": name, "images": len(res.co), "target": run["target"],
                         "reached": int(res.reached.sum()), "share reached": float(res.reached.float().mean()),
                         "median steps": float(s.median()) if len(s) else float("nan"),
                         "90% of images within": float(s.quantile(0.9)) if len(s) else float("nan"),
                         "cap": prof.gax_max_steps})  # fmt: skip
summary = pd.DataFrame(summary_rows)
save_table(summary, out / "gax_summary.csv")
print(summary.round(3).to_string(index=False))

# %% [markdown]
# ## R/G/B heatmaps (paper Fig. 5 B-E)
#
# One row per image: the image, then the heatmap of each colour channel on a symmetric scale (red: increase
# the intensity, blue: decrease it), with the absolute maximum over the three channels (at most 1: tanh).


# %%
def rgb_rows(images: torch.Tensor, maps: torch.Tensor, titles: list[str]) -> plt.Figure:
    fig, axes = plt.subplots(len(images), 4, figsize=(7.2, 1.9 * len(images)), squeeze=False)
    for i in range(len(images)):
        axes[i, 0].imshow(images[i].permute(1, 2, 0).cpu().numpy())
        axes[i, 0].set_title(titles[i], fontsize=8)
        for c, channel in enumerate("RGB"):
            axes[i, c + 1].imshow(maps[i, c].cpu().numpy(), cmap="bwr", vmin=-1, vmax=1)
            axes[i, c + 1].set_title(f"{channel}  (abs max {float(maps[i].abs().max()):.2f})", fontsize=8)
    for a in axes.flat:
        a.axis("off")
    fig.tight_layout()
    return fig


n_rows = min(2, prof.gax_opt_images)
images, maps, titles = [], [], []
for name, run in runs.items():
    res, data = run["result"], run["data"]
    for i in range(min(n_rows, len(res.co))):
        images.append(data.inputs[i])
        maps.append(res.heatmaps[i].cpu())
        titles.append(f"{name}\n{data.class_names[int(data.labels[i])]}, CO {float(res.co[i]):.0f}")
fig = rgb_rows(torch.stack(images), torch.stack(maps), titles)
save_figure(fig, out / "rgb_heatmaps.png")
plt.show()

# %% [markdown]
# ## The heatmap's evolution (paper Fig. 5A)
#
# The paper ships a matplotlib GUI with a slider; ours is an HTML slider that works in the static book. To
# keep memory bounded (the paper's concern: a map per iteration grows without limit), GAX keeps a snapshot
# only when the CO score first passes each of 16 evenly spaced milestones up to the target.

# %%
first = next(iter(runs))
snaps = runs[first]["result"].snapshots[0]
img0 = runs[first]["data"].inputs[0]
fig, axes = plt.subplots(1, 4, figsize=(8, 2.3))
axes[0].imshow(img0.permute(1, 2, 0).numpy())
axes[0].set_title(first, fontsize=8)
ims = [axes[c + 1].imshow(snaps[0][2][c].numpy(), cmap="bwr", vmin=-1, vmax=1) for c in range(3)]
for a in axes:
    a.axis("off")
fig.tight_layout()


def update(k: int):
    t, co, h = snaps[k]
    for c, im in enumerate(ims):
        im.set_data(h[c].numpy())
        axes[c + 1].set_title(f"{'RGB'[c]}: iteration {t}, CO {co:.1f}", fontsize=7)
    return ims


display(HTML(animation_html(fig, update, frames=len(snaps), interval=300)))

# %% [markdown]
# ## False distinct feature: does GAX point at the spurious mark?
#
# Class-0 test images of `shapes_spurious` that carry the mark, predicted correctly by both models: the
# model trained on them (`spurious_system`) and the same architecture trained on clean `shapes`
# (`clean_model`, which has never seen a mark). First, does the spurious model *use* the mark? We paint it
# over with the image's mean colour and measure the drop in the class-0 logit.

# %%
# NBVAL_CHECK_OUTPUT
sp_data = load_dataset(spurious_pair[0], "test", prof, seed)
marked = torch.nonzero((sp_data.labels == 0) & sp_data.extra_masks["cue"].flatten(1).any(1)).flatten()
models = {
    "spurious": xai_lib.load_model(spurious_pair[1], spurious_pair[0], profile=prof, seed=seed, device=dev, progress=False),
    "clean": xai_lib.load_model(clean_pair[1], clean_pair[0], profile=prof, seed=seed, device=dev, progress=False),
}  # fmt: skip
both = marked
for net in models.values():
    both = both[batched_logits(net, sp_data.inputs[both]).argmax(1) == 0] if len(both) else both
if len(both) == 0:  # only with barely trained models (the smoke profile): fall back to every marked image
    print("no marked image is predicted correctly by both models: using the marked images regardless")
    both = marked
study = sp_data.subset(both[: prof.gax_opt_images])
cue = study.extra_masks["cue"]
x_sp, y_sp = study.inputs.to(dev), study.labels.to(dev)
mean_colour = (x_sp * (~cue).unsqueeze(1)).sum((2, 3), keepdim=True) / (~cue).sum((1, 2)).reshape(-1, 1, 1, 1)
x_unmarked = torch.where(cue.unsqueeze(1).to(dev), mean_colour, x_sp)
reliance_rows = []
for kind, net in models.items():
    drop = batched_logits(net, x_sp)[:, 0] - batched_logits(net, x_unmarked)[:, 0]
    still = float((batched_logits(net, x_unmarked).argmax(1) == 0).float().mean())
    reliance_rows.append({"model": kind, "images": len(study), "class-0 logit drop without the mark": float(drop.mean()),
                          "still predicted class 0": still})  # fmt: skip
reliance = pd.DataFrame(reliance_rows)
save_table(reliance, out / "mark_reliance.csv")
print(f"{len(marked)} marked class-0 test images; {len(both)} predicted correctly by both models; {len(study)} used")
print(reliance.round(3).to_string(index=False))

# %% [markdown]
# Now GAX on each model, to the same target: the one this architecture reached on clean `shapes` above (the
# `auto` rule). The **enrichment** of a heatmap on the mark is the share of its mass $\sum_c |h_c|$ on the mark
# divided by the mark's share of the image (1: no preference; the mark covers 25 of 4,096 pixels). Every run
# starts from $h = \tanh(x)$, the same for both models (its enrichment is printed as "start"), so what differs
# is where each model's optimisation moves the heatmap. We also report the enrichment of the *change*
# $|h - \tanh(x)|$ and the mean heatmap value on the mark in the red and blue channels (the magenta mark is
# $(1, 0, 1)$; its green channel is 0, and $\tanh(w \cdot 0) = 0$ cannot move: the paper's reason for the bias
# option). Means over images with 95% bootstrap intervals; "spurious - clean" is the paired difference.

# %%
# NBVAL_CHECK_OUTPUT
clean_name = "/".join(clean_pair)
if clean_name in runs:
    sp_target = runs[clean_name]["target"]
else:
    clean_net, clean_data = correct_images(*clean_pair, prof.gax_opt_images)
    sp_target, _ = auto_target(clean_net, clean_data.inputs.to(dev), clean_data.labels.to(dev))
    sp_target = fixed_target if fixed_target is not None else sp_target
start = torch.tanh(x_sp).cpu()
cue_c = cue.unsqueeze(1).float()
per_image, sp_runs = {}, {}
for kind, net in models.items():
    res = gax(net, x_sp, y_sp, sp_target, max_steps=prof.gax_max_steps, similarity=l_s)
    sp_runs[kind] = res
    h = res.heatmaps.cpu()
    on_mark = (h * cue_c).sum((2, 3)) / cue_c.sum((2, 3))
    per_image[kind] = pd.DataFrame({
        "model": kind, "image": np.arange(len(h)), "reached": res.reached.numpy(), "steps": res.steps.numpy(),
        "enrichment": mask_enrichment(h, cue).numpy(),
        "enrichment of change": mask_enrichment(h, cue, reference=start).numpy(),
        "h on mark (R)": on_mark[:, 0].numpy(), "h on mark (B)": on_mark[:, 2].numpy(),
    })  # fmt: skip
enrich = pd.concat(per_image.values(), ignore_index=True)
save_table(enrich, out / "mark_enrichment.csv")
print(f"target {sp_target:.0f}; start (h = tanh(x)) enrichment {float(mask_enrichment(start, cue).mean()):.2f}")
stat_rows = []
columns = ["enrichment", "enrichment of change", "h on mark (R)", "h on mark (B)"]
for kind in [*models, "spurious - clean"]:
    row = {"model": kind}
    for col in columns:
        v = per_image["spurious"][col] - per_image["clean"][col] if kind == "spurious - clean" else per_image[kind][col]
        mean, lo, hi = bootstrap_mean_ci(v.to_numpy(), n_boot=prof.n_boot, seed=seed)
        row[col] = f"{mean:.2f} [{lo:.2f}, {hi:.2f}]"
    row["reached"] = "-" if kind == "spurious - clean" else f"{int(per_image[kind].reached.sum())}/{len(study)}"
    stat_rows.append(row)
print(pd.DataFrame(stat_rows).to_string(index=False))

# %% [markdown]
# Paper Fig. 5F analogue: the red channel of the GAX heatmaps of the same marked images under both models,
# with the mark outlined (cyan).

# %%
n_show = min(4, len(study))
fig, axes = plt.subplots(3, n_show, figsize=(2.0 * n_show, 6.2), squeeze=False)
for i in range(n_show):
    axes[0, i].imshow(study.inputs[i].permute(1, 2, 0).numpy())
    axes[0, i].set_title("image (mark outlined)", fontsize=7)
    for r, kind in enumerate(("spurious", "clean"), start=1):
        axes[r, i].imshow(sp_runs[kind].heatmaps[i, 0].cpu().numpy(), cmap="bwr", vmin=-1, vmax=1)
        axes[r, i].set_title(f"{kind} model, R", fontsize=7)
    for r in range(3):
        axes[r, i].contour(cue[i].numpy().astype(float), levels=[0.5], colors="cyan", linewidths=0.8)
        axes[r, i].axis("off")
fig.tight_layout()
save_figure(fig, out / "false_distinct_feature.png")
plt.show()

# %% [markdown]
# ## Summary
#
# * GAX reaches a target above 90% of the existing methods' CO scores on most images within the cap, as the
#   paper reports on ImageNet (`book`: ResNet 32/32 images, median 84 iterations, target 42; VGG 30/32,
#   median 96, target 76). The images that do not are reported (`result.not_reached`), not silently
#   dropped: the reference code would loop on them forever.
# * The heatmaps are not localisation maps: they change the intensity of large regions (mostly darkening
#   the background), the paper's "extreme intensities" observation.
# * The spurious model relies on the mark: painting it over drops its class-0 logit by about 3.9 and only 3%
#   of those images stay class 0, while the clean model does not react. GAX shows it: the spurious model's
#   heatmap keeps positive values ("brighten this") on the mark and 1.8 times its area's share of the mass,
#   against 0.7 for the clean model, whose optimisation drains the mark (paired difference 1.1,
#   95% CI [0.9, 1.3]). What GAX *changes* is not concentrated on the mark for either model: the signal is
#   where the heatmap stays, not where it moves; a reader should look at the heatmap, not the update.
#
# ## Exercises
#
# 1. Set `target_co` to a fixed number (e.g. 48, the paper's) and re-run: what share of images reaches it on
#    each architecture, and why does a fixed target not transfer between models?
# 2. Lower `similarity` ($l_s$) to 0: how fast is the target reached now, and what do the heatmaps look like?
# 3. Use `xai_lib.gax.gax(..., bias=0.01)` (the paper's option for images with many zeros) on `digits`,
#    whose background is black: does the bias change how many images reach the target?
#
# ## Implementation notes
#
# * **Batched GAX**: every image has its own $w$ and its own Adam state (step count included), and only the
#   images still below the target are evaluated at each iteration; a batch gives the same heatmaps and stopping
#   steps as its images one at a time (tested on an exact small model, and against the reference loop with
#   `torch.optim.Adam`). On a CNN the two agree up to floating-point summation order, which Adam's normalised
#   steps can amplify near zero gradients.
# * **Iteration cap**: the reference code has none; ours is `gax_max_steps` (300 in `book`), and images that
#   do not reach the target are reported.
# * **Target rule** (`target_co = "auto"`): the 0.9 quantile of the six captum methods' CO scores on the same
#   images, rounded up (the paper's 48 plays this role on ImageNet).
# * **Bias**: the paper's $\tanh(w x + b)$ is an option (`bias`, inside or outside the tanh); the default is no
#   bias, as eq. (6) is written.
# * **Enrichment** measures $|h - \tanh(x)|$ summed over channels; removing the mark fills it with the mean
#   colour of the rest of the image.
# * **Benchmark** (`benchmarks/bench_gax.py`): time for 32 images to reach the target, batched vs one at a time
#   as the reference code runs it; the measured ratio is in the appendix of the book's benchmark page.
#
# ## Appendix: batched GAX against one image at a time
#
# `benchmarks/bench_gax.py` times 32 correctly predicted `shapes` test images optimised to a CO of 50 (cap
# 300), batched against the reference code's loop (one image at a time, `torch.optim.Adam`, `DNN(x)` computed
# once per image), same model and settings, in one process, on this book's 2-core CPU:
#
# | model | batched | one at a time | ratio (goal <= 0.2) |
# |---|---|---|---|
# | `shapes/resnet` | 5.5 s | 14.4 s | 0.38 |
# | `shapes/vgg` | 5.6 s | 15.6 s | 0.36 |
#
# The goal is missed: on this CPU a forward and backward pass of 32 images costs 0.85-1.3 ms per image
# against 2.5-3.5 ms for one image alone, so even a loop with no overhead could not beat about 0.3; the
# ratio falls with more images per batch and on a GPU. Both sides stop 91-97% of the images at the same
# iteration; the rest differ by floating-point summation order, which Adam's normalised steps amplify.
