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
# {term}`false distinct feature` (Fig. 5F): a magenta mark a model learned to rely on.
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
profile = "book"  # smoke | book | paper
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
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch
from IPython.display import HTML, display

import xai_lib
from xai_lib import params, report
from xai_lib.experiments.co_gap import cells_verdict
from xai_lib.gax import auto_target, gax, mask_enrichment, pixel_correlation
from xai_lib.models import batched_logits
from xai_lib.plotting import animation_html, save_figure, save_table
from xai_lib.stats import bootstrap_mean_ci, paired_comparison
from xai_lib.systems import load_system, load_systems, parse_system

prof = xai_lib.get_profile(profile)
quantile = params.number("target_quantile", target_quantile, lo=0.0, hi=1.0)
fixed_target = None if target_co == "auto" else params.number("target_co", target_co, lo=0.0)
l_s = params.number("similarity", similarity, lo=0.0)
# the solutions' asserts on empirical facts hold for the book's own run (these defaults, seed 0, book profile) only
book_run = (
    prof.name == "book" and seed == 0 and systems == "shapes/resnet,shapes/vgg" and target_co == "auto"
    and quantile == 0.9 and spurious_system == "shapes_spurious/resnet" and clean_system == "shapes/resnet"
    and l_s == 100.0
)  # fmt: skip
out = params.output_dir("output_dir", output_dir)
dev = xai_lib.setup(seed, device, profile=prof)
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
# where the second term (the *similarity loss*, $\langle\cdot\rangle$ the mean over pixels, $\epsilon = 10^{-4}$) keeps
# the heatmap from simply copying the image; an image stops as soon as its score reaches the target.


# %%
def correct_images(system, n: int, index: torch.Tensor | None = None):
    """The first ``n`` correctly predicted test images of a system (restricted to ``index`` if given)."""
    data = system.data("test")
    rows = torch.arange(len(data)) if index is None else index
    pred = batched_logits(system.model, data.inputs[rows]).argmax(1)
    return data.subset(rows[pred == data.targets[rows]][:n])


runs, method_scores = {}, []
for s in loaded:
    data = correct_images(s, prof.gax_opt_images)
    x, y = data.inputs.to(dev), data.targets.to(dev)
    target, scores = auto_target(s.model, x, y, quantile)
    target = fixed_target if fixed_target is not None else target
    method_scores.append(scores.assign(system=s.name))
    res = gax(s.model, x, y, target, max_steps=prof.gax_max_steps, similarity=l_s, snapshot_images=(0,), milestones=16)
    runs[s.name] = {"system": s, "data": data, "target": target, "result": res}
save_table(pd.concat(method_scores, ignore_index=True), out / "method_co_scores.csv")
print("targets:", {name: run["target"] for name, run in runs.items()})

# %% [markdown]
# ## CO curves to the target (paper Fig. 4)
#
# One curve per image: the CO score of $x + \tanh(w \odot x)$ at each iteration, until it reaches the target (dashed)
# or the cap. At iteration 0, $h = \tanh(x)$.

# %% tags=["hide-input"]
colours = dict(zip(runs, ["tab:blue", "tab:red", "tab:green", "tab:purple"], strict=False))
fig, ax = plt.subplots(figsize=(7, 4))
curve_rows = []
for name, run in runs.items():
    hist = run["result"].history.numpy()
    for i in range(hist.shape[1]):
        valid = ~np.isnan(hist[:, i])
        ax.plot(np.flatnonzero(valid), hist[valid, i], color=colours.get(name, "0.3"), lw=0.7, alpha=0.6)
        curve_rows += [
            {"system": name, "image": i, "iteration": int(t), "co": float(hist[t, i])} for t in np.flatnonzero(valid)
        ]
    ax.axhline(
        run["target"], color=colours.get(name, "0.3"), ls="--", lw=1.2, label=f"{name}: target {run['target']:.0f}"
    )
ax.set_xlabel("GAX iteration")
ax.set_ylabel("CO score (raw, x + h)")
ax.legend(fontsize=8)
ax.set_title("Generative AX: one curve per image", fontsize=10)
fig.tight_layout()
save_figure(fig, out / "co_curves.png")
save_table(pd.DataFrame(curve_rows), out / "co_curves.csv")
plt.show()

# %% [markdown]
# How many images reach the target within the cap, how many iterations they need, where their CO score starts
# ($h = \tanh(x)$) and on how many it ends below its start:

# %%
# NBVAL_CHECK_OUTPUT
summary_rows = []
for name, run in runs.items():
    res = run["result"]
    s = res.steps[res.reached].float()
    start_co = res.history[0] if len(res.co) else torch.empty(0)
    summary_rows.append({"system": name, "images": len(res.co), "target": run["target"],
                         "reached": int(res.reached.sum()),
                         "share reached": float(res.reached.float().mean()) if len(res.co) else float("nan"),
                         "median steps": float(s.median()) if len(s) else float("nan"),
                         "90% of images within": float(s.quantile(0.9)) if len(s) else float("nan"),
                         "cap": prof.gax_max_steps,
                         "median CO at start": float(start_co.median()) if len(start_co) else float("nan"),
                         "CO ends below start": int((res.co.cpu() < start_co).sum()) if len(start_co) else 0})  # fmt: skip
summary = pd.DataFrame(summary_rows)
save_table(summary, out / "gax_summary.csv")
all_reached, all_images = int(summary.reached.sum()), int(summary.images.sum())
reach_parts = []
for r in summary_rows:
    if r["images"] == 0:
        reach_parts.append(f"{r['system']}: " + report.not_measured("no correctly predicted test image"))
        continue
    steps_text = f" (median {r['median steps']:.0f} iterations)" if r["reached"] else ""
    reach_parts.append(f"{r['system']}: {r['reached']} of {r['images']} reach the target {r['target']:.0f} within "
                       f"{r['cap']} iterations{steps_text}, and the CO score ends below its start on "
                       f"{r['CO ends below start']}")  # fmt: skip
if all_images == 0:
    reach_lead = report.not_measured("no system has a correctly predicted test image")
else:
    reach_lead = ("every image reaches the target" if all_reached == all_images
                  else "no image reaches the target" if all_reached == 0
                  else "most images reach the target" if all_reached > all_images / 2
                  else "at most half of the images reach the target")  # fmt: skip
report.glue("reach_sentence", f"Over the systems, {reach_lead} ({all_reached} of {all_images} images). "
                              + "; ".join(reach_parts) + ".")  # fmt: skip
start_parts = [f"{round(r['median CO at start'], 1) + 0.0:.1f} on {r['system']}" for r in summary_rows if r["images"]]
report.glue("start_sentence", f"At iteration 0 the median CO score of h = tanh(x) is {'; '.join(start_parts)}."
                              if start_parts else "")  # fmt: skip
report.show(summary, {"target": "{:.0f}", "share reached": "{:.2f}", "median steps": "{:.0f}",
                      "90% of images within": "{:.0f}", "median CO at start": "{:.1f}"})  # fmt: skip

# %% [markdown]
# {glue:text}`reach_sentence` {glue:text}`start_sentence` The images that do not reach the target are reported
# (`result.not_reached`), not dropped: the reference code, which has no cap, would loop on them forever.

# %% [markdown]
# ## R/G/B heatmaps (paper Fig. 5 B-E)
#
# One row per image: the image, then the heatmap of each colour channel on a symmetric scale (red: increase the
# intensity, blue: decrease it), with the absolute maximum over the three channels (at most 1: tanh).


# %% tags=["hide-input"]
def rgb_rows(images: torch.Tensor, maps: torch.Tensor, titles: list[str]) -> plt.Figure:
    channels = maps.shape[1]
    fig, axes = plt.subplots(
        len(images), 1 + channels, figsize=(1.8 * (1 + channels), 1.9 * len(images)), squeeze=False
    )
    for i in range(len(images)):
        img = images[i].permute(1, 2, 0).cpu().numpy()
        axes[i, 0].imshow(img.squeeze(), cmap="gray" if channels == 1 else None)
        axes[i, 0].set_title(titles[i], fontsize=8)
        for c in range(channels):
            label = "RGB"[c] if channels == 3 else "gray"
            axes[i, c + 1].imshow(maps[i, c].cpu().numpy(), cmap="bwr", vmin=-1, vmax=1)
            axes[i, c + 1].set_title(f"{label}  (abs max {float(maps[i].abs().max()):.2f})", fontsize=8)
    for a in axes.flat:
        a.axis("off")
    fig.tight_layout()
    return fig


n_rows = min(2, prof.gax_opt_images)
for name, run in runs.items():
    res, data = run["result"], run["data"]
    k = min(n_rows, len(res.co))
    titles = [f"{name}\n{data.class_names[int(data.labels[i])]}, CO {float(res.co[i]):.0f}" for i in range(k)]
    fig = rgb_rows(data.inputs[:k], res.heatmaps[:k].cpu(), titles)
    save_figure(fig, out / f"rgb_heatmaps_{name.replace('/', '_')}.png")
    plt.show()

# %% [markdown]
# ## The heatmap's evolution (paper Fig. 5A)
#
# The paper ships a matplotlib GUI with a slider; ours is an HTML slider that works in the static book. To keep memory
# bounded (the paper's concern: a map per iteration grows without limit), GAX keeps a snapshot only when the CO score
# first passes each of 16 evenly spaced milestones up to the target.

# %% tags=["hide-input"]
first = next(iter(runs))
snaps = runs[first]["result"].snapshots[0]
img0 = runs[first]["data"].inputs[0]
n_ch = img0.shape[0]
fig, axes = plt.subplots(1, 1 + n_ch, figsize=(2 * (1 + n_ch), 2.3))
axes[0].imshow(img0.permute(1, 2, 0).numpy().squeeze(), cmap="gray" if n_ch == 1 else None)
axes[0].set_title(first, fontsize=8)
ims = [axes[c + 1].imshow(snaps[0][2][c].numpy(), cmap="bwr", vmin=-1, vmax=1) for c in range(n_ch)]
for a in axes:
    a.axis("off")
fig.tight_layout()


def update(k: int):
    t, co, h = snaps[k]
    for c, im in enumerate(ims):
        im.set_data(h[c].numpy())
        axes[c + 1].set_title(f"{'RGB'[c] if n_ch == 3 else 'gray'}: iteration {t}, CO {co:.1f}", fontsize=7)
    return ims


display(HTML(animation_html(fig, update, frames=len(snaps), interval=300)))

# %% [markdown]
# ## "Optimised through extreme intensities" (sec. 4.3), measured
#
# The paper observes that GAX changes the brightest and darkest regions most. Here: how much the heatmap moved from
# its start $\tanh(x)$, $|h - \tanh(x)|$ summed over channels, per pixel in the pixels of extreme intensity (the
# darkest and brightest $20\%$ of each image) over the same in the middle $60\%$: above 1, the extremes change more.
# The mean over images has a $95\%$ bootstrap interval; a system whose interval lies above 1 agrees with the paper,
# below 1 contradicts it, and across 1 is undecided.

# %%
# NBVAL_CHECK_OUTPUT
extreme_rows = []
for name, run in runs.items():
    x_r = run["data"].inputs
    change = (run["result"].heatmaps.cpu() - torch.tanh(x_r)).abs().sum(1)
    bright = x_r.mean(1)
    lo_q, hi_q = torch.quantile(bright.flatten(1), 0.2, dim=1), torch.quantile(bright.flatten(1), 0.8, dim=1)
    extreme = (bright <= lo_q[:, None, None]) | (bright >= hi_q[:, None, None])
    ratio = (change * extreme).flatten(1).sum(1) / extreme.flatten(1).sum(1) / (
        (change * ~extreme).flatten(1).sum(1) / (~extreme).flatten(1).sum(1)).clamp_min(1e-12)  # fmt: skip
    mean, lo, hi = bootstrap_mean_ci(ratio.numpy(), n_boot=prof.n_boot, seed=seed)
    cell = report.interval_verdict(lo, hi, 1.0, claimed="above")
    extreme_rows.append({"system": name, "change at extremes / change in the middle": mean, "CI low": lo, "CI high": hi,
                         "extremes change": {"reproduced": "more", "not reproduced": "less", "inconclusive": "undecided",
                                             "not comparable": "n/a"}[cell], "cell": cell})  # fmt: skip
extreme_table = pd.DataFrame(extreme_rows, columns=["system", "change at extremes / change in the middle", "CI low",
                                                    "CI high", "extremes change", "cell"])  # fmt: skip
save_table(extreme_table, out / "extreme_intensities.csv")
extreme_verdict = cells_verdict(extreme_table.cell.tolist())
extreme_words = {"reproduced": "more", "not reproduced": "less", "inconclusive": "neither measurably more nor less"}
extreme_parts = [
    f"on {r['system']} it changes {extreme_words[r['cell']]} there than in the middle range (ratio "
    f"{r['change at extremes / change in the middle']:.2f} [{r['CI low']:.2f}, {r['CI high']:.2f}])"
    if r["cell"] in extreme_words else f"on {r['system']} " + report.not_measured("no optimised image")
    for r in extreme_rows
]  # fmt: skip
extreme_text = ("Where the image is darkest or brightest, " + "; ".join(extreme_parts) + "."
                if extreme_parts else report.not_measured("no system"))  # fmt: skip
report.glue("extreme_sentence", extreme_text)
report.show(extreme_table.drop(columns="cell"), "{:.2f}")

# %% [markdown]
# {glue:text}`extreme_sentence`
#
# ## False distinct feature: does GAX point at the spurious mark?
#
# Class-0 test images of `shapes_spurious` that carry the magenta mark, predicted correctly by both the model trained
# on them (`spurious_system`) and the same architecture trained on clean `shapes` (`clean_system`, which has never
# seen a mark). First, does the spurious model *use* the mark? We paint it over with the image's mean colour and
# measure the change in the class-0 logit.

# %%
# NBVAL_CHECK_OUTPUT
study_ok, study_reason = spurious_system != "none", "spurious_system is 'none'"
if study_ok:
    sp_sys = load_system(parse_system(spurious_system, "spurious_system"), prof, seed, dev)
    cl_sys = load_system(parse_system(clean_system, "clean_system"), prof, seed, dev)
    sp_data = sp_sys.data("test")
    study_ok = "cue" in sp_data.extra_masks
    study_reason = f"{sp_sys.name} has no 'cue' masks (a mark's location): the study needs shapes_spurious"
    if not study_ok:
        print(f"spurious_system: {study_reason}")
if study_ok:
    marked = torch.nonzero((sp_data.labels == 0) & sp_data.extra_masks["cue"].flatten(1).any(1)).flatten()
    models = {"spurious": sp_sys.model, "clean": cl_sys.model}
    both = marked
    for net in models.values():
        both = both[batched_logits(net, sp_data.inputs[both]).argmax(1) == 0] if len(both) else both
    fallback = len(both) == 0
    if fallback:  # only with barely trained models (the smoke profile): fall back to every marked image
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
    rel = reliance.set_index("model")

    def logit_move(kind: str) -> str:
        d = rel.loc[kind, "class-0 logit drop without the mark"]
        return f"falls by {d:.1f}" if d > 0 else f"rises by {-d:.1f}"

    reliance_text = (
        f"Of {len(marked)} marked class-0 test images, {len(study)} are used"
        + (" (none is predicted class 0 by both models: these are the first marked images, right or wrong)"
           if fallback else " (predicted class 0 by both models)")
        + f". Without its mark, an image's class-0 logit {logit_move('spurious')} on average under the spurious model and "
        f"{rel.loc['spurious', 'still predicted class 0']:.0%} of the images stay class 0; under the clean model it "
        f"{logit_move('clean')} and {rel.loc['clean', 'still predicted class 0']:.0%} stay class 0."
    )  # fmt: skip
    summary_reliance = (f"With the mark painted over, {rel.loc['spurious', 'still predicted class 0']:.0%} of the study "
                        f"images are still predicted class 0 by the model trained with the mark and "
                        f"{rel.loc['clean', 'still predicted class 0']:.0%} by the clean model.")  # fmt: skip
    report.show(reliance, {"class-0 logit drop without the mark": "{:.1f}", "still predicted class 0": "{:.2f}"})
else:
    reliance_text = "The false-distinct-feature study is " + report.not_measured(study_reason) + "."
    summary_reliance = ""
report.glue("reliance_sentence", reliance_text)
report.glue("summary_reliance", summary_reliance)

# %% [markdown]
# {glue:text}`reliance_sentence`
#
# Now GAX on each model, to the same target: the one this architecture reached on clean `shapes` above (the `auto`
# rule). The **enrichment** of a map on the mark is the share of its mass $\sum_c |\cdot|$ on the mark divided by the
# mark's share of the image (1: no preference). Every run starts from $h = \tanh(x)$, the same for both models, so
# what differs is where each model's optimisation moves the heatmap: the claim is tested on the enrichment of the
# *change* $|h - \tanh(x)|$, paired per image (spurious model minus clean model, $95\%$ bootstrap interval against 0:
# above 0 reproduces the paper, below contradicts it, across 0 is undecided). We also report the enrichment of $h$
# itself (starting map included) and how $h$ moves on the mark in the red and blue channels (the magenta mark is
# $(1, 0, 1)$; its green channel is 0, and $\tanh(w \cdot 0) = 0$ cannot move: the paper's reason for its bias
# option).

# %%
# NBVAL_CHECK_OUTPUT
enrich_columns = ["enrichment", "enrichment of change", "h on mark (R)", "h on mark (B)", "h on mark - start (R, B)"]
if study_ok:
    if cl_sys.name in runs:
        sp_target = runs[cl_sys.name]["target"]
    else:
        clean_data = correct_images(cl_sys, prof.gax_opt_images)
        sp_target = auto_target(cl_sys.model, clean_data.inputs.to(dev), clean_data.targets.to(dev), quantile)[0]
        sp_target = fixed_target if fixed_target is not None else sp_target
    start = torch.tanh(x_sp).cpu()
    cue_c = cue.unsqueeze(1).float()
    rb = [0, 2] if start.shape[1] >= 3 else [0]  # the mark's lit channels (red and blue)
    start_on = (start * cue_c).sum((2, 3)) / cue_c.sum((2, 3))
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
            "h on mark (R)": on_mark[:, 0].numpy(), "h on mark (B)": on_mark[:, rb[-1]].numpy(),
            "h on mark - start (R, B)": (on_mark - start_on)[:, rb].mean(1).numpy(),
        })  # fmt: skip
    enrich = pd.concat(per_image.values(), ignore_index=True)
    save_table(enrich, out / "mark_enrichment.csv")
    stat_rows, cis = [], {}
    for kind in [*models, "spurious - clean"]:
        row = {"model": kind}
        for col in enrich_columns:
            v = (per_image["spurious"][col] - per_image["clean"][col] if kind == "spurious - clean"
                 else per_image[kind][col])  # fmt: skip
            cis[kind, col] = bootstrap_mean_ci(v.to_numpy(), n_boot=prof.n_boot, seed=seed)
            row[col] = "{:.2f} [{:.2f}, {:.2f}]".format(*cis[kind, col])
        row["reached"] = "-" if kind == "spurious - clean" else f"{int(per_image[kind].reached.sum())}/{len(study)}"
        stat_rows.append(row)
    change_test = paired_comparison(per_image["spurious"]["enrichment of change"],
                                    per_image["clean"]["enrichment of change"], n_boot=prof.n_boot, seed=seed)  # fmt: skip
    fdf_verdict = report.interval_verdict(change_test["CI low"], change_test["CI high"], 0.0, claimed="above")
    h_diff = cis["spurious - clean", "enrichment"]
    more_less = {"reproduced": "more", "not reproduced": "less", "inconclusive": "neither measurably more nor less",
                 "not comparable": "not measurably more or less"}  # fmt: skip
    enrich_text = (
        f"Target {sp_target:.0f}, reached by {int(per_image['spurious'].reached.sum())} of {len(study)} images under "
        f"the spurious model and {int(per_image['clean'].reached.sum())} under the clean one. What the optimisation "
        f"changes, |h - tanh(x)|, has enrichment {cis['spurious', 'enrichment of change'][0]:.2f} on the mark under "
        f"the spurious model and {cis['clean', 'enrichment of change'][0]:.2f} under the clean one (paired difference "
        f"{change_test['mean diff']:.2f} [{change_test['CI low']:.2f}, {change_test['CI high']:.2f}]): the spurious "
        f"model's GAX changes the heatmap {more_less[fdf_verdict]} on the mark than the clean model's, so the "
        f"false-distinct-feature claim is {fdf_verdict} here."
    )  # fmt: skip

    def moves(kind: str) -> str:
        m, lo, hi = cis[kind, "h on mark - start (R, B)"]
        v = report.interval_verdict(lo, hi, 0.0, claimed="below")
        return {"reproduced": f"lowers h by {-m:.2f} [{-hi:.2f}, {-lo:.2f}]",
                "not reproduced": f"raises h by {m:.2f} [{lo:.2f}, {hi:.2f}]"}.get(v, "does not measurably move h")  # fmt: skip

    both_lower = all(moves(k).startswith("lowers") for k in models)
    shows_more = report.interval_verdict(h_diff[1], h_diff[2], 0.0, claimed="above") == "reproduced"
    h_text = (
        f"The heatmap itself, starting map included, has enrichment {cis['spurious', 'enrichment'][0]:.2f} under the "
        f"spurious model and {cis['clean', 'enrichment'][0]:.2f} under the clean one (paired difference {h_diff[0]:.2f} "
        f"[{h_diff[1]:.2f}, {h_diff[2]:.2f}]; the starting map alone: {float(mask_enrichment(start, cue).mean()):.2f}). "
        f"On the mark (red and blue), the spurious model's GAX {moves('spurious')} and the clean model's "
        f"{moves('clean')}"
        + (": the mark stands out more in the spurious model's heatmap because its optimisation removes less of the "
           "starting map there, not because it adds to the mark." if both_lower and shows_more and fdf_verdict != "reproduced"
           else ".")
    )  # fmt: skip
    report.show(pd.DataFrame(stat_rows), None)
else:
    fdf_verdict = "not comparable"
    enrich_text = "The false-distinct-feature study is " + report.not_measured(study_reason) + "."
    h_text = ""
report.glue("enrich_sentence", enrich_text)
report.glue("h_sentence", h_text)

# %% [markdown]
# {glue:text}`enrich_sentence` {glue:text}`h_sentence`
#
# Paper Fig. 5F analogue: the red channel of the GAX heatmaps of the same marked images under both models, with the
# mark outlined (cyan).

# %% tags=["hide-input"]
if study_ok:
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

# %% tags=["hide-input"]
# NBVAL_CHECK_OUTPUT
reached_steps = summary["median steps"].dropna()
n_more, n_less = int((extreme_table.cell == "reproduced").sum()), int((extreme_table.cell == "not reproduced").sum())
n_undecided = int((extreme_table.cell == "inconclusive").sum())
claims = [
    {"artefact": "Fig. 4, sec. 4.2", "claim": "GAX reaches the target for every image",
     "paper": "all images reach CO 48 (most within ~50 iterations)",
     "ours": f"{all_reached} of {all_images} within {prof.gax_max_steps}"
             + (f"; median {reached_steps.min():.0f}-{reached_steps.max():.0f} it." if len(reached_steps) else ""),
     "verdict": report.verdict(all_reached, all_images),
     "test": "count of images whose CO reaches the target within the iteration cap; reproduced if every image, partly "
             "if at least half, else not reproduced"},
    {"artefact": "sec. 4.3", "claim": "GAX optimises through extreme intensities",
     "paper": "observed (Fig. 5 B-E)",
     "ours": f"more change at extremes on {n_more}, less on {n_less}, undecided on {n_undecided} of {len(extreme_table)} systems",
     "verdict": extreme_verdict,
     "test": "per system: mean over images of the per-pixel |h - tanh(x)| in the darkest and brightest 20% over that in "
             "the middle 60%, 95% bootstrap CI against 1; reproduced if every system lies above, partly if at least "
             "half, not reproduced if fewer than half lie above and at least half below, else inconclusive"},
    {"artefact": "Fig. 5F, sec. 4.3", "claim": "GAX can reveal a false distinct feature",
     "paper": "one X-ray, by eye",
     "ours": (f"enrichment of the change on the mark {per_image['spurious']['enrichment of change'].mean():.2f} "
              f"(spurious) vs {per_image['clean']['enrichment of change'].mean():.2f} (clean); difference "
              f"[{change_test['CI low']:.2f}, {change_test['CI high']:.2f}]") if study_ok
             else report.not_measured(study_reason),
     "verdict": fdf_verdict,
     "test": "enrichment of |h - tanh(x)| on the mark (mass share over area share), spurious model minus clean model "
             "paired per image, 95% bootstrap CI against 0: reproduced above, not reproduced below, inconclusive "
             "across 0"},
]  # fmt: skip
settings = [
    ("data", "ImageNet, chest X-rays", ", ".join(dict.fromkeys(s.spec.dataset for s in loaded))),
    ("models", "ResNet34, AlexNet", ", ".join(runs)),
    ("target", "CO 48 (ImageNet)", "fixed" if fixed_target is not None else f"auto: {quantile:.0%} quantile of six methods"),
    ("optimiser", "Adam lr 0.1, l_s 100, no iteration cap", f"Adam lr 0.1, l_s {l_s:g}, cap {prof.gax_max_steps}"),
    ("where h is added", "x + h on [0, 1] pixels", "x + h on [0, 1] pixels (normalisation inside the model)"),
]  # fmt: skip
print(report.card("08_gax_generative", settings, claims, out, seed=seed).verdict.value_counts().to_string())
report.glue("summary_reach", f"GAX ({'fixed' if fixed_target is not None else 'auto'} target): {reach_lead} within the "
                             f"cap of {prof.gax_max_steps} iterations ({all_reached} of {all_images} images).")  # fmt: skip
report.glue("summary_extreme", f"The paper's extreme-intensity observation is {extreme_verdict} here. {extreme_text}")
report.glue("summary_fdf", enrich_text)

# %% [markdown]
# ## Summary
#
# * {glue:text}`summary_reach` Images that do not reach the target are reported, not dropped.
# * GAX heatmaps are optimised for the score, not for localisation. {glue:text}`summary_extreme`
# * {glue:text}`summary_reliance` Whether GAX's heatmap points at the mark is a paired measurement against the same
#   architecture trained on clean data. {glue:text}`summary_fdf`
#
# ## Exercises
#
# ````{exercise-start}
# :label: ex-gax-1
# ````
# Set `target_co` to a fixed number (the paper's 48) for the first system: what share of images reaches it, and why
# does a fixed target not transfer between models? *Time: 15 min.*
# ````{exercise-end}
# ````
#
# ````{solution-start} ex-gax-1
# :class: dropdown
# ````

# %% tags=["solution"]
# NBVAL_CHECK_OUTPUT
run0 = runs[first]
fixed_run = gax(run0["system"].model, run0["data"].inputs.to(dev), run0["data"].targets.to(dev), 48.0,
                max_steps=prof.gax_max_steps, similarity=l_s)  # fmt: skip
n48, n_auto = int(fixed_run.reached.sum()), int(run0["result"].reached.sum())
compared = "more than" if n48 > n_auto else "fewer than" if n48 < n_auto else "as many as"
targets = [run["target"] for run in runs.values()]
fixed_text = (f"On {first}, {n48} of {len(fixed_run.co)} images reach the fixed target 48, {compared} the {n_auto} "
              f"that reach its {'auto' if fixed_target is None else 'chosen'} target {run0['target']:.0f}"
              + (f"; the auto targets of the systems here range from {min(targets):.0f} to {max(targets):.0f}."
                 if len(targets) > 1 and f"{min(targets):.0f}" != f"{max(targets):.0f}" else "."))  # fmt: skip
print(fixed_text)
report.glue("fixed_sentence", fixed_text)
if book_run:  # GAX's path does not depend on the target: a lower target (48 < 51) is met on the way to the higher one
    assert run0["target"] >= 48 and n48 >= n_auto, fixed_text

# %% [markdown]
# {glue:text}`fixed_sentence` The CO score is a difference of raw outputs, so its scale is the model's logit scale: a
# model with small logits may never reach 48, one with large logits reaches it at once. A quantile of the existing
# methods' scores adapts the target to the model.
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
#
# ````{solution-start} ex-gax-2
# :class: dropdown
# ````

# %% tags=["solution"]
# NBVAL_CHECK_OUTPUT
x0 = run0["data"].inputs
free = gax(run0["system"].model, x0.to(dev), run0["data"].targets.to(dev), run0["target"],
           max_steps=prof.gax_max_steps, similarity=0.0)  # fmt: skip
kept = run0["result"]


def median_steps(res) -> float:
    return float(res.steps[res.reached].float().median()) if res.reached.any() else float("nan")


r_free = pixel_correlation(free.heatmaps.cpu(), x0).numpy()
r_kept = pixel_correlation(kept.heatmaps.cpu(), x0).numpy()
r_start = float(np.nanmean(pixel_correlation(torch.tanh(x0), x0).numpy())) if len(x0) else float("nan")
r_test = paired_comparison(r_free, r_kept, n_boot=prof.n_boot, seed=seed)
m_free, m_kept = median_steps(free), median_steps(kept)
if len(x0) == 0:
    free_text = report.not_measured(f"{first} has no correctly predicted test image")
else:
    closer = report.interval_verdict(r_test["CI low"], r_test["CI high"], 0.0, claimed="above")
    closer_text = {"reproduced": "closer to a copy of its image", "not reproduced": "further from a copy of its image",
                   "inconclusive": "neither measurably closer to nor further from a copy of its image",
                   "not comparable": "not comparable to the other"}[closer]  # fmt: skip
    if np.isfinite(m_free) and np.isfinite(m_kept):
        sooner = "the target is reached " + ("sooner" if m_free < m_kept else "later" if m_free > m_kept else "as fast")
    else:
        sooner = "the median iterations cannot be compared"
    free_text = (
        f"With l_s = 0, {int(free.reached.sum())} of {len(free.co)} images reach the target"
        + (f" (median {m_free:.0f} iterations)" if np.isfinite(m_free) else "")
        + f" against {int(kept.reached.sum())} with l_s = {l_s:g}"
        + (f" (median {m_kept:.0f})" if np.isfinite(m_kept) else "")
        + f": {sooner}. The heatmap's correlation with its image (over pixels and channels) is "
        f"{np.nanmean(r_free):.2f} with l_s = 0 and {np.nanmean(r_kept):.2f} with l_s = {l_s:g} (paired difference "
        f"{r_test['mean diff']:.2f} [{r_test['CI low']:.2f}, {r_test['CI high']:.2f}]; the starting map tanh(x): "
        f"{r_start:.2f}): without the similarity term the heatmap is {closer_text}."
    )  # fmt: skip
print(free_text)
report.glue("free_sentence", free_text)
if book_run:
    assert m_free < m_kept, free_text

# %% [markdown]
# {glue:text}`free_sentence` The similarity term penalises heatmaps close to the image (a copy $h \approx x$ would score
# without explaining anything, {doc}`06_rotation_toy`); with $l_s = 0$ nothing does, and the score alone steers $w$.
# ````{solution-end}
# ````
#
# ````{exercise-start}
# :label: ex-gax-3
# ````
# Use GAX's bias option (`gax(..., bias=0.01)`, the paper's fix for images with many zeros) on `digits`, whose background
# is black: does the bias change how many images reach the target? *Time: 15 min.*
# ````{exercise-end}
# ````
#
# ````{solution-start} ex-gax-3
# :class: dropdown
# ````

# %% tags=["solution"]
# NBVAL_CHECK_OUTPUT
dg = load_system(parse_system("digits/resnet"), prof, seed, dev)
dg_data = correct_images(dg, prof.gax_opt_images)
dg_target = auto_target(dg.model, dg_data.inputs.to(dev), dg_data.targets.to(dev), quantile)[0]
dg_reached = {}
for b in (None, 0.01):
    r = gax(dg.model, dg_data.inputs.to(dev), dg_data.targets.to(dev), dg_target, max_steps=prof.gax_max_steps, bias=b)
    dg_reached[b] = int(r.reached.sum())
    print(f"bias {b}: {dg_reached[b]} of {len(r.co)} images reach {dg_target:.0f}")
bias_effect = ("raises" if dg_reached[0.01] > dg_reached[None] else "lowers" if dg_reached[0.01] < dg_reached[None]
               else "does not change")  # fmt: skip
bias_text = (f"On digits/resnet (target {dg_target:.0f}), {dg_reached[None]} of {len(dg_data)} images reach the target "
             f"without a bias and {dg_reached[0.01]} with the bias 0.01: the bias {bias_effect} the count.")  # fmt: skip
report.glue("bias_sentence", bias_text)
if book_run:
    assert bias_effect == "raises", bias_text

# %% [markdown]
# {glue:text}`bias_sentence` On a black pixel $\tanh(w \cdot 0) = 0$ whatever $w$ is: without a bias the heatmap
# cannot change the background at all. The bias gives those pixels a handle; whether that matters depends on whether
# the model's evidence lies in the background.
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
# * **Bias**: the paper's $\tanh(w x + b)$ is an option (`bias`, inside or outside the tanh); the default is no bias, as
#   eq. (6) is written.
# * **Extremes**: a pixel's intensity is its mean over channels; extremes are its image's darkest and brightest $20\%$.
# * **Enrichment** measures $\sum_c |h_c|$ (or $|h - \tanh(x)|$) on the mark over its area share; painting the mark over
#   fills it with the mean colour of the rest of the image. The false-distinct-feature verdict uses the enrichment of
#   the change, since the starting map $\tanh(x)$ is the same under both models.
# * **Where the heatmap is added**: GAX needs inputs in $[0, 1]$ (eq. 6 divides by $x + \epsilon$) and adds $h$ to those
#   pixels, as the paper's GAX does; a system's normalisation is part of its model, so $\mathrm{DNN}(x)$ and
#   $\mathrm{DNN}(x + h)$ are the same model on pixels. (The reference code's ImageNet GAX computes $\mathrm{DNN}(x)$ on
#   the normalised image but $\mathrm{DNN}(x + h)$ on the un-normalised one; we do not.) The book's own models take
#   pixels, so their input is the network's input. {doc}`07_gax_co_gap` compares the two places for the existing
#   methods' heatmaps.
# * **Correlation with the image** (ex. 2): Pearson's correlation of $h$ and $x$ over each image's pixels and
#   channels (`pixel_correlation`).
