"""Chapter 8, generative GAX (paper secs. 4.2-4.3): the chapter's runs to a target CO score and what it reports of
them. How many images reach the target (Fig. 4, :func:`reach_study`); where GAX changes an image, by pixel groups of
extreme intensity against the middle ones (sec. 4.3: GAX "seems to be more sensitive to changes in extreme values";
:func:`extreme_study`, with absolute groups :func:`absolute_study` and at one iteration :func:`timing_study`);
whether GAX points at a spurious mark a model relies on (Fig. 5F, :func:`mark_reliance`, :func:`fdf_study`); the card
and the exercises (a fixed target, no similarity term, a bias). Runs that stop after different numbers of iterations
are also compared at a matched iteration (:func:`stopped_rerun`, :func:`matched_reading`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch

from .. import report
from ..batching import batched_logits
from ..gax import GAXResult, auto_target, gax, gax_heatmap, similarity_distance
from ..metrics import co_gradient, mask_enrichment, pixel_correlation
from ..plotting import animation_html, finish, to_hwc
from ..stats import bootstrap_mean_ci, paired_comparison
from .co_gap import cells_verdict

#: the absolute thresholds of :func:`absolute_sides` on inputs in [0, 1]
DARK_BELOW, BRIGHT_ABOVE = 0.2, 0.8
#: the fewest values a group of one image needs for its ratio (fewer: NaN, the image is left out)
MIN_VALUES = 20


def absolute_sides(
    x: torch.Tensor, lo: float = DARK_BELOW, hi: float = BRIGHT_ABOVE
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Per channel value of ``x`` (any shape, values in [0, 1]): dark where ``0 < x < lo``, bright where ``x > hi``,
    middle where ``lo <= x <= hi``. Exact zeros are in no group: GAX's ``w`` cannot move there (``h = tanh(w x)``
    has a zero gradient in ``w`` at ``x = 0``)."""
    if not 0.0 < lo < hi < 1.0:
        raise ValueError(f"lo, hi: expected 0 < lo < hi < 1, got {lo!r}, {hi!r}")
    dark, bright = (x > 0) & (x < lo), x > hi
    return dark, bright, (x >= lo) & (x <= hi)


def group_ratio(
    values: torch.Tensor, side: torch.Tensor, middle: torch.Tensor, min_values: int = MIN_VALUES
) -> torch.Tensor:
    """Per image (first dimension): the mean of ``values`` over its ``side`` entries over their mean over its
    ``middle`` entries; NaN where either group has fewer than ``min_values`` entries or the middle's mean is 0."""
    side_f, middle_f = side.flatten(1).to(values.dtype), middle.flatten(1).to(values.dtype)
    v = values.flatten(1)
    n_side, n_middle = side_f.sum(1), middle_f.sum(1)
    on_side = (v * side_f).sum(1) / n_side.clamp_min(1)
    in_middle = (v * middle_f).sum(1) / n_middle.clamp_min(1)
    ratio = on_side / in_middle
    enough = (n_side >= min_values) & (n_middle >= min_values) & (in_middle > 0)
    return torch.where(enough, ratio, torch.full_like(ratio, float("nan")))


#: verdicts of :func:`xai_lib.report.interval_verdict` that decide a direction
DECIDED = ("reproduced", "not reproduced")


def matched_reading(at_target: str, at_matched: str) -> str:
    """What a difference between two GAX runs measured at the target (``at_target``, an interval verdict) becomes when
    both runs are stopped at a matched iteration (``at_matched``): *persists*, *reverses*, *does not persist* (the
    unequal number of steps accounts for part of it), *appears only at a matched iteration* (the unequal steps hid
    it) or *undecided either way*."""
    if at_target in DECIDED:
        if at_matched == at_target:
            return "persists at a matched iteration"
        if at_matched in DECIDED:
            return "reverses at a matched iteration"
        return "does not persist at a matched iteration (the unequal number of steps accounts for part of it)"
    if at_matched in DECIDED:
        return "appears only at a matched iteration (the unequal number of steps hid it)"
    return "is undecided either way"


#: the largest difference of a heatmap value (``h`` in [-1, 1]) allowed between a run stopped at ``stop_at`` and the
#: full run, on an image the cap did not cut. Only rounding differs (float32 batches of other sizes once other images
#: stop sooner), but Adam's steps carry it along: measured 0 on the book's models and up to 1.1e-3 on a model of the
#: seed study. Another path (other settings, a bug) differs by far more.
RERUN_ATOL = 0.05


def stopped_rerun(
    full: GAXResult, model: torch.nn.Module, x: torch.Tensor, y, target_co: float, stop_at: torch.Tensor, **gax_kwargs
) -> GAXResult:
    """GAX again on ``x`` with per-image caps ``stop_at`` (:func:`xai_lib.gax.gax`), checked against the ``full``
    run it repeats: every image whose cap is at or beyond its own stop in ``full`` must stop at the same iteration
    with the same heatmap (within :data:`RERUN_ATOL`), since GAX's path does not depend on when the other images
    stop. Raises ``RuntimeError`` naming the images otherwise: a matched-iteration comparison would then compare
    other paths, not other stopping points."""
    stop_at = torch.as_tensor(stop_at).cpu()
    rerun = gax(model, x, y, target_co, stop_at=stop_at, **gax_kwargs)
    uncut = stop_at >= full.steps.cpu()
    if uncut.any():
        gap = (rerun.heatmaps.cpu() - full.heatmaps.cpu()).flatten(1).abs().amax(1)
        bad = uncut & ((rerun.steps.cpu() != full.steps.cpu()) | ~(gap <= RERUN_ATOL))
        if bad.any():
            raise RuntimeError(
                f"stop_at: the rerun does not reproduce the full run on images {bad.nonzero().flatten().tolist()} "
                f"that no cap cut (largest heatmap difference {float(gap[uncut].max()):.2g}, allowed {RERUN_ATOL:g}; "
                f"steps differ on {int((uncut & (rerun.steps.cpu() != full.steps.cpu())).sum())} of them)"
            )
    return rerun


# --- the chapter's runs -------------------------------------------------------------------------------------------


@dataclass
class Setup:
    """What every study of chapter 8 shares: the profile (iteration cap, bootstrap size), the seed, the device and the
    similarity weight ``l_s`` of eq. (6)."""

    prof: Any
    seed: int
    device: Any
    similarity: float

    def ci(self, values) -> tuple[float, float, float]:
        """The mean of ``values`` with its 95% percentile bootstrap interval."""
        return bootstrap_mean_ci(values, n_boot=self.prof.n_boot, seed=self.seed)

    def paired(self, new, base) -> dict:
        """:func:`xai_lib.stats.paired_comparison` of ``new`` against ``base``."""
        return paired_comparison(new, base, n_boot=self.prof.n_boot, seed=self.seed)

    def gax(self, model, x, y, target: float, **kwargs) -> GAXResult:
        """:func:`xai_lib.gax.gax` with the profile's cap and, unless given, the chapter's similarity weight."""
        kwargs.setdefault("similarity", self.similarity)
        return gax(model, x, y, target, max_steps=self.prof.gax_max_steps, **kwargs)

    def rerun(self, full: GAXResult, model, x, y, target: float, stop_at, **kwargs) -> GAXResult:
        """:func:`stopped_rerun` of ``full`` with the profile's cap and, unless given, the chapter's similarity
        weight (the settings :meth:`gax` runs with)."""
        kwargs.setdefault("similarity", self.similarity)
        return stopped_rerun(full, model, x, y, target, stop_at, max_steps=self.prof.gax_max_steps, **kwargs)


def correct_images(system, n: int, index: torch.Tensor | None = None):
    """The first ``n`` correctly predicted test images of a system (restricted to ``index`` if given)."""
    data = system.data("test")
    rows = torch.arange(len(data)) if index is None else index
    pred = batched_logits(system.model, data.inputs[rows]).argmax(1)
    return data.subset(rows[pred == data.targets[rows]][:n])


def optimise(loaded, setup: Setup, quantile: float, fixed_target: float | None) -> tuple[dict, pd.DataFrame]:
    """GAX on the first correctly predicted test images of each system, to the ``quantile`` of the six methods' CO
    scores (or ``fixed_target``): per system its data, target and :class:`~xai_lib.gax.GAXResult` (one image's
    snapshots kept at 16 milestones), and the methods' CO scores that set the automatic target."""
    dev = setup.device
    runs, method_scores = {}, []
    for s in loaded:
        data = correct_images(s, setup.prof.gax_opt_images)
        x, y = data.inputs.to(dev), data.targets.to(dev)
        target, scores = auto_target(s.model, x, y, quantile)
        target = fixed_target if fixed_target is not None else target
        method_scores.append(scores.assign(system=s.name))
        res = setup.gax(s.model, x, y, target, snapshot_images=(0,), milestones=16)
        runs[s.name] = {"system": s, "data": data, "target": target, "result": res}
    return runs, pd.concat(method_scores, ignore_index=True)


def plot_co_curves(runs: dict, path) -> pd.DataFrame:
    """Fig. 4: one CO curve per image to its system's target (dashed); returns the curves as a tidy table."""
    colours = dict(zip(runs, ["tab:blue", "tab:red", "tab:green", "tab:purple"], strict=False))
    fig, ax = plt.subplots(figsize=(7, 4))
    curve_rows = []
    for name, run in runs.items():
        hist = run["result"].history.numpy()
        for i in range(hist.shape[1]):
            valid = ~np.isnan(hist[:, i])
            ax.plot(np.flatnonzero(valid), hist[valid, i], color=colours.get(name, "0.3"), lw=0.7, alpha=0.6)
            curve_rows += [
                {"system": name, "image": i, "iteration": int(t), "co": float(hist[t, i])}
                for t in np.flatnonzero(valid)
            ]
        ax.axhline(
            run["target"], color=colours.get(name, "0.3"), ls="--", lw=1.2, label=f"{name}: target {run['target']:.0f}"
        )
    ax.set_xlabel("GAX iteration")
    ax.set_ylabel("CO score (raw, x + h)")
    ax.legend(fontsize=8)
    ax.set_title("Generative AX: one curve per image", fontsize=10)
    finish(fig, path)
    return pd.DataFrame(curve_rows)


# --- how many images reach the target ----------------------------------------------------------------------------

#: the reach table's display formats
REACH_FORMATS = {"target": "{:.0f}", "share reached": "{:.2f}", "median steps": "{:.0f}",
                 "90% of images within": "{:.0f}", "median CO at start": "{:.1f}",
                 "missed: median gap to target": "{:.1f}", "missed: largest gap": "{:.1f}",
                 "missed: median share of climb left": "{:.2f}"}  # fmt: skip


def reach_study(runs: dict, cap: int) -> dict:
    """Per system: how many images reach the target within ``cap`` iterations, in how many, where the CO score starts,
    and for the misses whether they were still rising and how far they stay; the claim's verdict (every image:
    reproduced; every miss still rising: inconclusive; else by the count) and its sentences."""
    summary_rows = []
    for name, run in runs.items():
        res = run["result"]
        s = res.steps[res.reached].float()
        start_co = res.history[0] if len(res.co) else torch.empty(0)
        rising = res.still_rising() if len(res.co) else torch.zeros(0, dtype=torch.bool)
        # how far the images that miss the target stay from it: the target minus their best CO score, also as a share
        # of their climb from the start (the "still rising" rule only asks for a new best in the last quarter)
        missed_px = ~res.reached.cpu()
        best_co = res.history.max(0).values.cpu() if len(res.co) else torch.empty(0)
        gap_left = (run["target"] - best_co[missed_px]).float()
        climb_left = gap_left / (run["target"] - start_co.cpu()[missed_px]).float().clamp_min(1e-12)
        summary_rows.append({"system": name, "images": len(res.co), "target": run["target"],
                             "reached": int(res.reached.sum()),
                             "missed, still rising": int(rising.sum()),
                             "missed, stalled": int((~res.reached & ~rising).sum()),
                             "share reached": float(res.reached.float().mean()) if len(res.co) else float("nan"),
                             "median steps": float(s.median()) if len(s) else float("nan"),
                             # over every image, a miss counted as beyond the cap (the higher median: inf when at
                             # least half miss)
                             "median steps, misses beyond the cap": float(np.quantile(
                                 res.steps.float().masked_fill(~res.reached, float("inf")).numpy(), 0.5,
                                 method="higher")) if len(res.co) else float("nan"),
                             "90% of images within": float(s.quantile(0.9)) if len(s) else float("nan"),
                             "cap": cap,
                             "median CO at start": float(start_co.median()) if len(start_co) else float("nan"),
                             "CO ends below start": int((res.co.cpu() < start_co).sum()) if len(start_co) else 0,
                             "missed: median gap to target": float(gap_left.median()) if len(gap_left)
                             else float("nan"),
                             "missed: largest gap": float(gap_left.max()) if len(gap_left) else float("nan"),
                             "missed: median share of climb left": float(climb_left.median()) if len(gap_left)
                             else float("nan")})  # fmt: skip
    summary = pd.DataFrame(summary_rows)
    all_reached, all_images = int(summary.reached.sum()), int(summary.images.sum())
    all_rising, all_stalled = int(summary["missed, still rising"].sum()), int(summary["missed, stalled"].sum())
    # every image reached: reproduced; every image that missed was still rising when the cap stopped it: inconclusive
    # (whether it would reach the target without the cap is not measured); some image stalled below the target: the
    # count decides (partly / not reproduced)
    reach_verdict = ("not comparable" if all_images == 0 else "reproduced" if all_reached == all_images
                     else "inconclusive" if all_stalled == 0 else report.verdict(all_reached, all_images))  # fmt: skip
    reach_parts = []
    for r in summary_rows:
        if r["images"] == 0:
            reach_parts.append(f"{r['system']}: " + report.not_measured("no correctly predicted test image"))
            continue
        steps_text = f" (median {r['median steps']:.0f} iterations)" if r["reached"] else ""
        missed = r["images"] - r["reached"]
        missed_text = (f"; of the {missed} that miss it, "
                       f"{report.numbered(r['missed, still rising'], 'was', 'were')} still rising at the cap and "
                       f"{r['missed, stalled']} had stalled, and their best CO score stays a median "
                       f"{r['missed: median gap to target']:.1f} below the target (the farthest "
                       f"{r['missed: largest gap']:.1f}; a median {r['missed: median share of climb left']:.0%} of "
                       f"their climb from the start left)" if missed else "")  # fmt: skip
        reach_parts.append(f"{r['system']}: {r['reached']} of {r['images']} reach the target {r['target']:.0f} within "
                           f"{r['cap']} iterations{steps_text}{missed_text}, and the CO score ends below its start on "
                           f"{r['CO ends below start']}")  # fmt: skip
    if all_images == 0:
        reach_lead = report.not_measured("no system has a correctly predicted test image")
    else:
        reach_lead = ("every image reaches the target" if all_reached == all_images
                      else "no image reaches the target" if all_reached == 0
                      else "most images reach the target" if all_reached > all_images / 2
                      else "at most half of the images reach the target")  # fmt: skip
    reach_end = {"reproduced": "", "not comparable": "",
                 "inconclusive": " Every image that misses the target was still rising when the cap stopped it (a new "
                                 "best CO score in the last quarter of its iterations, a weak sign of progress: their "
                                 "distance to the target above says how far they are); whether it would reach the "
                                 "target without the cap is not measured.",
                 "partly": f" {all_stalled} of the images that miss it had stalled below the target.",
                 "not reproduced": f" {all_stalled} of the images that miss it had stalled below the target.",
                 }[reach_verdict]  # fmt: skip
    sentence = (f"Over the systems, {reach_lead} ({all_reached} of {all_images} images). " + "; ".join(reach_parts)
                + "." + reach_end if all_images else f"Over the systems, {reach_lead}.")  # fmt: skip
    start_parts = [f"{round(r['median CO at start'], 1) + 0.0:.1f} on {r['system']}" for r in summary_rows
                   if r["images"]]  # fmt: skip
    start_sentence = (f"At iteration 0 the median CO score of h = tanh(x) is {'; '.join(start_parts)}."
                      if start_parts else "")  # fmt: skip
    return {"summary": summary, "rows": summary_rows, "verdict": reach_verdict, "reached": all_reached,
            "images": all_images, "rising": all_rising, "stalled": all_stalled, "lead": reach_lead,
            "sentence": sentence, "start_sentence": start_sentence}  # fmt: skip


def plot_rgb_rows(images: torch.Tensor, maps: torch.Tensor, titles: list[str], path) -> None:
    """Fig. 5 B-E: one row per image, the image then each channel's heatmap on a symmetric scale."""
    channels = maps.shape[1]
    fig, axes = plt.subplots(
        len(images), 1 + channels, figsize=(1.8 * (1 + channels), 1.9 * len(images)), squeeze=False
    )
    for i in range(len(images)):
        axes[i, 0].imshow(to_hwc(images[i]).squeeze(), cmap="gray" if channels == 1 else None)
        axes[i, 0].set_title(titles[i], fontsize=8)
        for c in range(channels):
            label = "RGB"[c] if channels == 3 else "gray"
            axes[i, c + 1].imshow(maps[i, c].cpu().numpy(), cmap="bwr", vmin=-1, vmax=1)
            axes[i, c + 1].set_title(f"{label}  (abs max {float(maps[i].abs().max()):.2f})", fontsize=8)
    for a in axes.flat:
        a.axis("off")
    finish(fig, path)


def evolution_html(run: dict, name: str) -> str:
    """Fig. 5A: the first image's heatmap at each kept snapshot, as an HTML slider."""
    snaps = run["result"].snapshots[0]
    img0 = run["data"].inputs[0]
    n_ch = img0.shape[0]
    fig, axes = plt.subplots(1, 1 + n_ch, figsize=(2 * (1 + n_ch), 2.3))
    axes[0].imshow(to_hwc(img0).squeeze(), cmap="gray" if n_ch == 1 else None)
    axes[0].set_title(name, fontsize=8)
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

    return animation_html(fig, update, frames=len(snaps), interval=300)


# --- "optimised through extreme intensities" (sec. 4.3) ----------------------------------------------------------

#: an interval verdict against 1 (or 0) in the words of the extreme-intensity tables
EXTREME_WORDS = {"reproduced": "more", "not reproduced": "less", "inconclusive": "undecided", "not comparable": "n/a"}
#: those words in a sentence
SIDE_WORDS = {"more": "more", "less": "less", "undecided": "neither measurably more nor less"}
#: the extreme-intensity table's columns
EXTREME_COLUMNS = [
    "system", "side", "sensitivity at start", "change of h", "h CI low", "h CI high", "change of w", "CI low",
    "CI high", "model sensitivity", "sens. CI low", "sens. CI high", "h changes at the extreme",
    "w changes at the extreme", "model more sensitive there", "cell",
]  # fmt: skip


def side_ratio(values: torch.Tensor, side: torch.Tensor, middle: torch.Tensor) -> torch.Tensor:
    """Per image: the mean of ``values`` (B, H, W) over the ``side`` pixels over its mean over the ``middle`` ones."""
    on_side = (values * side).flatten(1).sum(1) / side.flatten(1).sum(1).clamp_min(1)
    in_middle = (values * middle).flatten(1).sum(1) / middle.flatten(1).sum(1).clamp_min(1)
    return on_side / in_middle.clamp_min(1e-12)


def side_cell(cell_w: str, cell_h: str, cell_g: str) -> str:
    """One system's side: *not reproduced* when the change of w and the change of h both lie below 1 (GAX changes the
    extreme pixels' parameters and heatmap values less than the middle ones); *reproduced* when the change of w and the
    model's sensitivity both lie above 1 and the change of h, what the heatmap itself shows, does not lie below 1;
    else *inconclusive* (an interval spans 1, or the measures point different ways)."""
    if "not comparable" in (cell_w, cell_h, cell_g):
        return "not comparable"
    if cell_w == cell_h == "not reproduced":
        return "not reproduced"
    if cell_w == cell_g == "reproduced" and cell_h != "not reproduced":
        return "reproduced"
    return "inconclusive"


def extreme_masks(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Per image (B, C, H, W): the darkest and the brightest 20% of its pixels by the mean over channels, and the
    middle 60% (B, H, W each)."""
    bright = x.mean(1)
    lo_q, hi_q = torch.quantile(bright.flatten(1), 0.2, dim=1), torch.quantile(bright.flatten(1), 0.8, dim=1)
    dark_px, bright_px = bright <= lo_q[:, None, None], bright >= hi_q[:, None, None]
    return dark_px, bright_px, ~(dark_px | bright_px)


def side_summary(side_name: str, counts: tuple[int, int, int]) -> str:
    """One side's agreeing and contradicting systems (``counts``: agree, contradict, systems), in words."""
    more, less, total = counts
    if total == 0:
        return f"the {side_name} side is " + report.not_measured("no optimised image")
    return (f"the {side_name} side agrees with the paper (GAX changes its parameters more, its heatmap values not "
            f"less, and the model is more sensitive there) on {more} of {total} systems and contradicts it (GAX "
            f"changes its parameters and its heatmap values less than the middle's) on {less}")  # fmt: skip


def extreme_study(runs: dict, setup: Setup) -> dict:
    """Per system and side (dark, bright): three side-over-middle ratios with bootstrap intervals (GAX's change
    ``|w - 1|``, the heatmap's change ``|h - tanh(x)|``, the model's sensitivity at the start), each system-side's
    cell (:func:`side_cell`), each side's verdict, the stricter reading with the change of w alone, and the sentences.
    Keeps each run's quantile masks in ``run["masks"]`` for the studies that read the same groups."""
    dev = setup.device
    extreme_rows, w_alone_cells = [], {"dark": [], "bright": []}  # w_alone: the stricter reading, for comparison
    for name, run in runs.items():
        x_r, res = run["data"].inputs, run["result"]
        if len(x_r) == 0:
            continue
        change_h = (res.heatmaps.cpu() - torch.tanh(x_r)).abs().sum(1)
        change_w = (res.weights.cpu() - 1.0).abs().sum(1)
        sensitivity = (x_r * (1 - torch.tanh(x_r) ** 2)).sum(1)
        # the model's own sensitivity: |d s_co / d(x + h)| at GAX's start h = tanh(x), summed over channels
        x_dev = x_r.to(dev)
        model_grad = co_gradient(run["system"].model, x_dev, torch.tanh(x_dev), run["data"].targets.to(dev))
        model_sens = model_grad.abs().sum(1).cpu()
        run["masks"] = dark_px, bright_px, middle = extreme_masks(x_r)  # kept for the studies below
        for side_name, side in (("dark", dark_px), ("bright", bright_px)):
            mean, lo, hi = setup.ci(side_ratio(change_w, side, middle).numpy())
            cell_w = report.interval_verdict(lo, hi, 1.0, claimed="above")
            h_mean, h_lo, h_hi = setup.ci(side_ratio(change_h, side, middle).numpy())
            cell_h = report.interval_verdict(h_lo, h_hi, 1.0, claimed="above")
            g_mean, g_lo, g_hi = setup.ci(side_ratio(model_sens, side, middle).numpy())
            cell_g = report.interval_verdict(g_lo, g_hi, 1.0, claimed="above")
            extreme_rows.append({"system": name, "side": side_name,
                                 "sensitivity at start": float(side_ratio(sensitivity, side, middle).mean()),
                                 "change of h": h_mean, "h CI low": h_lo, "h CI high": h_hi,
                                 "change of w": mean, "CI low": lo, "CI high": hi,
                                 "model sensitivity": g_mean, "sens. CI low": g_lo, "sens. CI high": g_hi,
                                 "h changes at the extreme": EXTREME_WORDS[cell_h],
                                 "w changes at the extreme": EXTREME_WORDS[cell_w],
                                 "model more sensitive there": EXTREME_WORDS[cell_g],
                                 "cell": side_cell(cell_w, cell_h, cell_g)})  # fmt: skip
            # the stricter reading: a contradiction on the change of w alone, whatever the heatmap's change says
            w_alone_cells[side_name].append(
                "not reproduced" if cell_w == "not reproduced" else side_cell(cell_w, cell_h, cell_g)
            )
    extreme_table = pd.DataFrame(extreme_rows, columns=EXTREME_COLUMNS)
    side_verdicts = {side_name: cells_verdict(extreme_table[extreme_table.side == side_name].cell.tolist())
                     for side_name in ("dark", "bright")}  # fmt: skip
    extreme_parts = [
        f"on {r['system']}, the {r['side']} pixels' parameters change {SIDE_WORDS[r['w changes at the extreme']]} than "
        f"the middle's (ratio {r['change of w']:.2f} [{r['CI low']:.2f}, {r['CI high']:.2f}]), their heatmap values "
        f"change {SIDE_WORDS[r['h changes at the extreme']]} (ratio {r['change of h']:.2f} [{r['h CI low']:.2f}, "
        f"{r['h CI high']:.2f}]; parametrisation's sensitivity {r['sensitivity at start']:.2f}) and the model is "
        f"{SIDE_WORDS[r['model more sensitive there']]} sensitive there (ratio {r['model sensitivity']:.2f} "
        f"[{r['sens. CI low']:.2f}, {r['sens. CI high']:.2f}])"
        for r in extreme_rows if r["w changes at the extreme"] in SIDE_WORDS
        and r["model more sensitive there"] in SIDE_WORDS and r["h changes at the extreme"] in SIDE_WORDS
    ]  # fmt: skip
    dark_rows = extreme_table[extreme_table.side == "dark"]
    limited = int((dark_rows["sensitivity at start"] < 1).sum())
    limited_systems = list(dark_rows.system[dark_rows["sensitivity at start"] < 1])
    side_counts = {}
    for side_name in ("dark", "bright"):
        cells = extreme_table[extreme_table.side == side_name].cell
        side_counts[side_name] = (int((cells == "reproduced").sum()), int((cells == "not reproduced").sum()),
                                  len(cells))  # fmt: skip
    dark_more, dark_less, n_dark = side_counts["dark"]
    bright_more, bright_less, n_bright = side_counts["bright"]
    if n_dark and n_bright:
        halves = (("the dark half of the observation (X-ray dark regions) holds" if dark_more == n_dark
                   else "the dark half is contradicted" if dark_less == n_dark
                   else "the dark half is undecided" if dark_more == dark_less == 0 else "the dark half is mixed")
                  + ", "
                  + ("the bright half (the dog's white hair) holds" if bright_more == n_bright
                     else "the bright half (the dog's white hair) is contradicted" if bright_less == n_bright
                     else "the bright half is undecided (its measures disagree or an interval spans 1)"
                     if bright_more == bright_less == 0
                     else "the bright half is mixed"))  # fmt: skip
        sides_text = (f"Dark and bright apart: {side_summary('dark', side_counts['dark'])}; "
                      f"{side_summary('bright', side_counts['bright'])}: {halves}. ")  # fmt: skip
    else:
        sides_text = ""
    extreme_text = (
        sides_text
        + "; ".join(extreme_parts)[0].upper() + "; ".join(extreme_parts)[1:] + ". "
        + (f"On {limited} of {len(dark_rows)} systems ({', '.join(limited_systems)}) the dark pixels start less "
           "sensitive than the middle ones (the x (1 - tanh^2) factor; sensitivity ratio "
           f"{report.span(dark_rows.loc[dark_rows['sensitivity at start'] < 1, 'sensitivity at start'], '.2f')}): "
           "there the parametrisation damps their change of h by about that factor, so a ratio of the change of h "
           "below 1 is weak evidence against them and the change of w shows a preference more directly; the verdict "
           "still asks that the change of h not lie below 1, since the paper's observation is about what the heatmap "
           "shows."
           if limited else f"On none of the {len(dark_rows)} systems do the dark pixels start less sensitive than the "
           "middle ones." if len(dark_rows) else "")
        + " Verdicts, each side on its three ratios: the dark side "
        + side_verdicts["dark"] + ", the bright side " + side_verdicts["bright"] + "."
        if extreme_parts else "The extreme-intensity measure is " + report.not_measured("no optimised image") + "."
    )  # fmt: skip
    w_alone = {side_name: cells_verdict(c) for side_name, c in w_alone_cells.items()}
    w_alone_text = (
        "With the change of w alone deciding a contradiction, the verdicts would be the same here (dark side "
        f"{w_alone['dark']}, bright side {w_alone['bright']})."
        if w_alone == side_verdicts else
        f"With the change of w alone deciding a contradiction, the dark side would read {w_alone['dark']} and the "
        f"bright side {w_alone['bright']} (with this chapter's rule: {side_verdicts['dark']} and "
        f"{side_verdicts['bright']})."
    ) + (" On both sides the change of w includes the similarity term's push (the term divides by x + eps), not only "
         "the model's: exercise ex-gax-2 reads the |w - 1| ratios of a run without the term, which stops after other "
         "numbers of iterations.") if extreme_rows else ""  # fmt: skip
    return {"table": extreme_table, "rows": extreme_rows, "verdicts": side_verdicts, "counts": side_counts,
            "text": extreme_text, "w_alone_text": w_alone_text}  # fmt: skip


#: the absolute-groups table's columns
ABS_COLUMNS = ["system", "side", "quantile group's mean intensity", "images measured", "images",
               "change of w, absolute groups", "CI low", "CI high", "absolute groups", "quantile groups"]  # fmt: skip


def absolute_study(runs: dict, extreme_table: pd.DataFrame, setup: Setup) -> tuple[pd.DataFrame, str]:
    """The change-of-w ratio with each channel value grouped by absolute levels (:func:`absolute_sides`) instead of
    each image's quantiles, beside the quantile reading of ``extreme_table``, and each quantile group's mean
    intensity; the table and its sentence."""
    abs_rows = []
    for name, run in runs.items():
        x_r, res = run["data"].inputs, run["result"]
        if len(x_r) == 0:
            continue
        change_w_values = (res.weights.cpu() - 1.0).abs()  # per channel value, not summed over channels
        dark_a, bright_a, middle_a = absolute_sides(x_r)
        dark_q, bright_q, _ = run["masks"]
        for side_name, side_a, side_q in (("dark", dark_a, dark_q), ("bright", bright_a, bright_q)):
            ratios = group_ratio(change_w_values, side_a, middle_a).numpy()
            ratios = ratios[np.isfinite(ratios)]
            mean, lo, hi = setup.ci(ratios) if len(ratios) >= 5 else (float("nan"),) * 3
            quantile_row = extreme_table[(extreme_table.system == name) & (extreme_table.side == side_name)].iloc[0]
            abs_rows.append({
                "system": name, "side": side_name,
                "quantile group's mean intensity": float((x_r.mean(1) * side_q).sum() / side_q.sum().clamp_min(1)),
                "images measured": len(ratios), "images": len(x_r),
                "change of w, absolute groups": mean, "CI low": lo, "CI high": hi,
                "absolute groups": EXTREME_WORDS[report.interval_verdict(lo, hi, 1.0, claimed="above")]
                if len(ratios) >= 5 else "n/a",
                "quantile groups": quantile_row["w changes at the extreme"],
            })  # fmt: skip
    abs_table = pd.DataFrame(abs_rows, columns=ABS_COLUMNS)
    both_measured = abs_table[(abs_table["absolute groups"] != "n/a") & (abs_table["quantile groups"] != "n/a")]
    same_direction = both_measured[both_measured["absolute groups"] == both_measured["quantile groups"]]
    differ = both_measured[both_measured["absolute groups"] != both_measured["quantile groups"]]
    if len(abs_table) == 0:
        return abs_table, "The absolute reading is " + report.not_measured("no optimised image") + "."
    abs_parts = [
        f"{r['system']} {r['side']}: " + (
            f"{r['change of w, absolute groups']:.2f} [{r['CI low']:.2f}, {r['CI high']:.2f}] on "
            f"{r['images measured']} of {r['images']} images "
            f"({SIDE_WORDS.get(r['absolute groups'], r['absolute groups'])})"
            if r["absolute groups"] != "n/a" else
            report.not_measured(f"only {r['images measured']} of {r['images']} images hold at least "
                                f"{MIN_VALUES} values in both groups (5 images needed)")
        )
        for _, r in abs_table.iterrows()
    ]  # fmt: skip
    intensity = {
        side: abs_table[abs_table.side == side]["quantile group's mean intensity"] for side in ("dark", "bright")
    }
    abs_text = (
        "With absolute groups, GAX's change of w on the extreme channel values over the middle's: "
        + "; ".join(abs_parts) + ". "
        + (f"The direction (more, less or undecided) is the same as with each image's quantiles on "
           f"{len(same_direction)} of {len(both_measured)} system-sides measured both ways"
           + (": " + ", ".join(f"{r['system']} {r['side']} ({r['quantile groups']} with quantiles, "
                                 f"{r['absolute groups']} with absolute groups)" for _, r in differ.iterrows())
              + " differ" if len(differ) else "")
           + ". " if len(both_measured) else "No system-side is measured both ways. ")
        + f"The quantile groups' mean intensities: dark {report.span(intensity['dark'], '.2f', '-')}, bright "
        f"{report.span(intensity['bright'], '.2f', '-')}"
        + (
            f": by the absolute thresholds the quantiles' darkest fifth is on average not dark (its mean over pixels "
            f"and channels at or above {DARK_BELOW:g}) on "
            f"{int((intensity['dark'] >= DARK_BELOW).sum())} of {len(intensity['dark'])} systems, and "
            f"their brightest fifth on average not bright (at or below {BRIGHT_ABOVE:g}) on "
            f"{int((intensity['bright'] <= BRIGHT_ABOVE).sum())}."
        )
    )  # fmt: skip
    return abs_table, abs_text


def ratio_reading(values: np.ndarray, setup: Setup) -> tuple[float, float, float, str]:
    """The mean of per-image side-over-middle ratios with its bootstrap interval and its word against 1 (*more*,
    *less*, *undecided*; *n/a* below five images)."""
    values = values[np.isfinite(values)]
    if len(values) < 5:
        return float("nan"), float("nan"), float("nan"), "n/a"
    mean, lo, hi = setup.ci(values)
    return mean, lo, hi, EXTREME_WORDS[report.interval_verdict(lo, hi, 1.0, claimed="above")]


def kept_direction(table: pd.DataFrame, now: str, before: str, what: str, where: str = " at the iteration") -> str:
    """How many system-sides read the same word (more, less, undecided) in column ``now`` as in ``before``, and
    which do not; *not measured* when no row has both (fewer than five images ``where``)."""
    both_read = table[(table[now] != "n/a") & (table[before] != "n/a")]
    if not len(both_read):
        return f"{what}: " + report.not_measured(f"fewer than five images{where} on every system-side")
    moved = both_read[both_read[now] != both_read[before]]
    return (f"{what} reads the same (more, less or undecided) on {len(both_read) - len(moved)} of {len(both_read)} "
            "system-sides"
            + (" (" + ", ".join(f"{r['system']} {r['side']}: {r[before]} -> {r[now]}" for _, r in moved.iterrows())
               + ")" if len(moved) else ""))  # fmt: skip


def timing_study(runs: dict, extreme_table: pd.DataFrame, setup: Setup) -> tuple[pd.DataFrame, str]:
    """The change-of-w and change-of-h ratios at one iteration per system (the median of its images' steps; GAX run
    again with every image stopped there, :func:`stopped_rerun`) beside the full runs' on the same images, and the
    model's sensitivity at the final heatmap beside that at the start; the table and its sentence."""
    dev = setup.device
    timing_rows = []
    for name, run in runs.items():
        x_r, res = run["data"].inputs, run["result"]
        if len(x_r) == 0:
            continue
        steps = res.steps.cpu()
        fixed_at = int(steps.float().median().floor())  # the median number of steps: every kept image reaches it
        kept = steps >= fixed_at
        x_dev, y_dev = x_r.to(dev), run["data"].targets.to(dev)
        at_fixed = setup.rerun(
            res, run["system"].model, x_dev, y_dev, run["target"], torch.full_like(res.steps, fixed_at)
        )
        change_w_f = (at_fixed.weights.cpu() - 1.0).abs().sum(1)[kept]
        change_h_f = (at_fixed.heatmaps.cpu() - torch.tanh(x_r)).abs().sum(1)[kept]
        # the full runs' ratios on the same (kept) images, so that a change of reading is one of time, not of images
        change_w_s = (res.weights.cpu() - 1.0).abs().sum(1)[kept]
        change_h_s = (res.heatmaps.cpu() - torch.tanh(x_r)).abs().sum(1)[kept]
        end_sens = co_gradient(run["system"].model, x_dev, res.heatmaps.to(dev), y_dev).abs().sum(1).cpu()
        dark_px, bright_px, middle = run["masks"]
        for side_name, side in (("dark", dark_px), ("bright", bright_px)):
            full = extreme_table[(extreme_table.system == name) & (extreme_table.side == side_name)].iloc[0]
            # iteration 0: nothing has moved, no ratio to read
            w_f, h_f, w_s, h_s = (
                ratio_reading(side_ratio(v, side[kept], middle[kept]).numpy() if fixed_at > 0 else np.array([]), setup)
                for v in (change_w_f, change_h_f, change_w_s, change_h_s)
            )
            g_e = ratio_reading(side_ratio(end_sens, side, middle).numpy(), setup)
            timing_rows.append({
                "system": name, "side": side_name, "iteration": fixed_at,
                "images at it": int(kept.sum()) if fixed_at else 0,
                "images": len(x_r), "change of w at it": w_f[0], "w CI low": w_f[1], "w CI high": w_f[2],
                "w at it": w_f[3], "w at the stop": w_s[3], "change of h at it": h_f[0], "h CI low": h_f[1],
                "h CI high": h_f[2], "h at it": h_f[3], "h at the stop": h_s[3],
                "model sensitivity at the end": g_e[0], "sens. CI low": g_e[1], "sens. CI high": g_e[2],
                "sensitive at the end": g_e[3], "sensitive at the start": full["model more sensitive there"],
            })  # fmt: skip
    timing_table = pd.DataFrame(timing_rows)
    if not len(timing_table):
        return timing_table, "The timing check is " + report.not_measured("no optimised image") + "."
    iterations = timing_table.drop_duplicates("system")
    timing_text = (
        "At one iteration per system ("
        + ", ".join(f"{r['system']}: iteration {r['iteration']}, {r['images at it']} of {r['images']} images"
                    for _, r in iterations.iterrows())
        + "), against the full runs on the same images: "
        + kept_direction(timing_table, "w at it", "w at the stop", "the change of w")
        + "; " + kept_direction(timing_table, "h at it", "h at the stop", "the change of h")
        + ". At the final heatmap instead of the start, "
        + kept_direction(timing_table, "sensitive at the end", "sensitive at the start", "the model's sensitivity", "")
        + "."
    )  # fmt: skip
    return timing_table, timing_text


# --- false distinct feature (Fig. 5F) ----------------------------------------------------------------------------


def mark_reliance(sp_sys, cl_sys, setup: Setup) -> dict:
    """The study images (marked class-0 test images that both models classify correctly; every marked one where none
    is, ``fallback``) and how much each model relies on the mark: the class-0 logit drop and the share still predicted
    class 0 with the mark painted over by the image's mean colour; the table and its sentences."""
    dev = setup.device
    sp_data = sp_sys.data("test")
    marked = torch.nonzero((sp_data.labels == 0) & sp_data.extra_masks["cue"].flatten(1).any(1)).flatten()
    models = {"spurious": sp_sys.model, "clean": cl_sys.model}
    both = marked
    for net in models.values():
        both = both[batched_logits(net, sp_data.inputs[both]).argmax(1) == 0] if len(both) else both
    fallback = len(both) == 0
    if fallback:  # only with barely trained models (the smoke profile): fall back to every marked image
        print("no marked image is predicted correctly by both models: using the marked images regardless")
        both = marked
    study = sp_data.subset(both[: setup.prof.gax_opt_images])
    cue = study.extra_masks["cue"]
    x_sp, y_sp = study.inputs.to(dev), study.labels.to(dev)
    mean_colour = (x_sp * (~cue).unsqueeze(1)).sum((2, 3), keepdim=True) / (~cue).sum((1, 2)).reshape(-1, 1, 1, 1)
    x_unmarked = torch.where(cue.unsqueeze(1).to(dev), mean_colour, x_sp)
    reliance_rows = []
    for kind, net in models.items():
        drop = batched_logits(net, x_sp)[:, 0] - batched_logits(net, x_unmarked)[:, 0]
        still = float((batched_logits(net, x_unmarked).argmax(1) == 0).float().mean())
        reliance_rows.append({"model": kind, "images": len(study),
                              "class-0 logit drop without the mark": float(drop.mean()),
                              "still predicted class 0": still})  # fmt: skip
    reliance = pd.DataFrame(reliance_rows)
    rel = reliance.set_index("model")

    def logit_move(kind: str) -> str:
        d = rel.loc[kind, "class-0 logit drop without the mark"]
        if abs(d) < 0.05:  # prints as 0.0 (or -0.0) at one decimal
            return "does not change (by less than 0.05)"
        return f"falls by {d:.1f}" if d > 0 else f"rises by {-d:.1f}"

    are_class0 = "are predicted class 0" if fallback else "stay class 0"  # fallback: not all class 0 with the mark
    text = (
        (f"Of {len(marked)} marked class-0 test images, none is predicted class 0 by both models: the study uses the "
         f"first {len(study)} marked images, right or wrong" if fallback
         else f"Of {len(marked)} marked class-0 test images, {len(both)} are predicted class 0 by both models; the "
              f"study uses the first {len(study)} of them")
        + f". Without its mark, an image's class-0 logit {logit_move('spurious')} on average under the spurious model "
        f"and {rel.loc['spurious', 'still predicted class 0']:.0%} of the images {are_class0}; under the clean model "
        f"it {logit_move('clean')} and {rel.loc['clean', 'still predicted class 0']:.0%} {are_class0}."
    )  # fmt: skip
    summary = (f"With the mark painted over, {rel.loc['spurious', 'still predicted class 0']:.0%} of the study "
               f"images {'are' if fallback else 'are still'} predicted class 0 by the model trained with the "
               f"mark and {rel.loc['clean', 'still predicted class 0']:.0%} by the clean model"
               + (" (the study images were marked class-0 images, right or wrong, as no marked image is "
                  "classified correctly by both models)." if fallback else "."))  # fmt: skip
    return {"study": study, "cue": cue, "x": x_sp, "y": y_sp, "models": models, "fallback": fallback,
            "table": reliance, "text": text, "summary": summary}  # fmt: skip


def study_target(runs: dict, cl_sys, setup: Setup, quantile: float, fixed_target: float | None) -> float:
    """The false-distinct-feature study's target: the one the clean model's architecture reached on clean images in
    the chapter's runs, or its ``auto`` rule on the clean system's images (``fixed_target`` where given)."""
    if cl_sys.name in runs:
        return runs[cl_sys.name]["target"]
    clean_data = correct_images(cl_sys, setup.prof.gax_opt_images)
    dev = setup.device
    target = auto_target(cl_sys.model, clean_data.inputs.to(dev), clean_data.targets.to(dev), quantile)[0]
    return fixed_target if fixed_target is not None else target


#: the false-distinct-feature study's per-image measures
ENRICH_COLUMNS = ["enrichment", "enrichment of change", "h on mark (R)", "h on mark (B)", "h on mark - start (R, B)"]
#: its paired tests (spurious minus clean); the first and the last decide the claim
FDF_COLUMNS = ("enrichment", "enrichment of change", "h on mark - start (R, B)")
#: an interval verdict on a paired difference in words
MORE_LESS = {"reproduced": "more", "not reproduced": "less", "inconclusive": "neither measurably more nor less",
             "not comparable": "not measurably more or less"}  # fmt: skip
SIGNED_WORDS = {"reproduced": "keeps more of its start (or adds more)", "not reproduced": "keeps less of its start",
                "inconclusive": "keeps neither measurably more nor less of its start",
                "not comparable": "keeps not measurably more or less of its start"}  # fmt: skip


def fdf_study(rel: dict, target: float, setup: Setup) -> dict:
    """GAX on the study images under both models to ``target``: per image the enrichment of h and of its change
    ``|h - tanh(x)|`` on the mark and the signed change of h on the mark (red and blue) from its start; paired tests
    (spurious minus clean) at the stop and at a matched iteration; the verdict (enrichment of h and signed change)
    and its sentences."""
    study, cue, x_sp, y_sp, models = rel["study"], rel["cue"], rel["x"], rel["y"], rel["models"]
    start = torch.tanh(x_sp).cpu()
    cue_c = cue.unsqueeze(1).float()
    rb = [0, 2] if start.shape[1] >= 3 else [0]  # the mark's lit channels (red and blue)
    start_on = (start * cue_c).sum((2, 3)) / cue_c.sum((2, 3))
    per_image, sp_runs = {}, {}
    for kind, net in models.items():
        res = setup.gax(net, x_sp, y_sp, target)
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
    # per image the two models' runs stop after different numbers of iterations, and both deciding measures move with
    # the number of Adam steps: both runs again, each image stopped where the sooner of its two runs stopped (GAX's
    # path does not depend on when it stops), for the same measures at a matched iteration
    matched_sp = torch.minimum(sp_runs["spurious"].steps, sp_runs["clean"].steps)
    at_matched = {}
    for kind, net in models.items():
        h_m = setup.rerun(sp_runs[kind], net, x_sp, y_sp, target, matched_sp).heatmaps.cpu()
        on_mark_m = (h_m * cue_c).sum((2, 3)) / cue_c.sum((2, 3))
        at_matched[kind] = {"enrichment": mask_enrichment(h_m, cue).numpy(),
                            "h on mark - start (R, B)": (on_mark_m - start_on)[:, rb].mean(1).numpy()}  # fmt: skip
    matched_tests = {col: setup.paired(at_matched["spurious"][col], at_matched["clean"][col])
                     for col in ("enrichment", "h on mark - start (R, B)")}  # fmt: skip
    matched_cells = {
        col: "not comparable"
        if np.abs(at_matched["spurious"][col] - at_matched["clean"][col]).max() < report.ROUNDOFF
        else report.interval_verdict(t["CI low"], t["CI high"], 0.0, claimed="above")
        for col, t in matched_tests.items()
    }
    stat_rows, cis = [], {}
    for kind in [*models, "spurious - clean"]:
        row = {"model": kind}
        for col in ENRICH_COLUMNS:
            v = (per_image["spurious"][col] - per_image["clean"][col] if kind == "spurious - clean"
                 else per_image[kind][col])  # fmt: skip
            cis[kind, col] = setup.ci(v.to_numpy())
            row[col] = "{:.2f} [{:.2f}, {:.2f}]".format(*cis[kind, col])
        row["reached"] = "-" if kind == "spurious - clean" else f"{int(per_image[kind].reached.sum())}/{len(study)}"
        stat_rows.append(row)
    tests = {col: setup.paired(per_image["spurious"][col], per_image["clean"][col]) for col in FDF_COLUMNS}
    # two models whose maps agree to round-off (e.g. barely trained ones) cannot be told apart: not comparable
    cells = {
        col: "not comparable"
        if (per_image["spurious"][col] - per_image["clean"][col]).abs().max() < report.ROUNDOFF
        else report.interval_verdict(t["CI low"], t["CI high"], 0.0, claimed="above")
        for col, t in tests.items()
    }
    # the verdict: the enrichment of h (what Fig. 5F shows) and the signed change of h on the mark from its start
    # (spurious minus clean); the enrichment of |h - tanh(x)| is reported only: it counts a model's suppression of
    # the mark as change on the mark
    verdict = cells_verdict([cells["enrichment"], cells["h on mark - start (R, B)"]])
    change_test, h_test = tests["enrichment of change"], tests["enrichment"]
    signed_test = tests["h on mark - start (R, B)"]
    fdf_end = {
        "reproduced": "both deciding measures (the enrichment of h and its signed change on the mark) favour the mark "
                      "more for the spurious model than for the clean one: the claim is reproduced here.",
        "partly": "one deciding measure favours the mark more for the spurious model than for the clean one and the "
                  "other does not: the claim is partly reproduced here.",
        "not reproduced": "neither deciding measure favours the mark more for the spurious model than for the clean "
                          "one: the claim is not reproduced here.",
        "inconclusive": "the intervals leave the claim undecided here.",
        "not comparable": "the claim is not comparable here.",
    }[verdict]  # fmt: skip
    enrich_text = (
        f"Target {target:.0f}, reached by {int(per_image['spurious'].reached.sum())} of {len(study)} images under "
        f"the spurious model and {int(per_image['clean'].reached.sum())} under the clean one. The heatmap itself (what "
        f"Fig. 5F shows) has enrichment {cis['spurious', 'enrichment'][0]:.2f} on the mark under the spurious model "
        f"and {cis['clean', 'enrichment'][0]:.2f} under the clean one (paired difference {h_test['mean diff']:.2f} "
        f"[{h_test['CI low']:.2f}, {h_test['CI high']:.2f}]): the spurious model's heatmap shows the mark "
        f"{MORE_LESS[cells['enrichment']]} than the clean model's. The signed change of h on the mark from its "
        f"start (red and blue), spurious minus clean, is {signed_test['mean diff']:.2f} "
        f"[{signed_test['CI low']:.2f}, {signed_test['CI high']:.2f}]: on the mark the spurious model's heatmap "
        f"{SIGNED_WORDS[cells['h on mark - start (R, B)']]} than the clean model's. The unsigned change "
        f"|h - tanh(x)|, reported but not deciding (it counts a lowering of the mark as change on the mark), has "
        f"enrichment {cis['spurious', 'enrichment of change'][0]:.2f} under the spurious model and "
        f"{cis['clean', 'enrichment of change'][0]:.2f} under the clean one (paired difference "
        f"{change_test['mean diff']:.2f} [{change_test['CI low']:.2f}, {change_test['CI high']:.2f}]). So {fdf_end}"
    )  # fmt: skip
    m_enr, m_sig = matched_tests["enrichment"], matched_tests["h on mark - start (R, B)"]
    enrich_text += (
        # the iteration at which a run crosses its target moves with rounding: the counts are in the table, not here
        (" Per image the two runs stop after different numbers of iterations (the `steps` column of "
         "`mark_enrichment.csv`)" if bool((sp_runs["spurious"].steps != sp_runs["clean"].steps).any()) else
         " The two runs stop after the same number of iterations on every image")
        + f"; run again to a matched iteration (each "
        f"image stopped where the sooner of its two runs stopped), the paired differences are "
        f"{m_enr['mean diff']:.2f} [{m_enr['CI low']:.2f}, {m_enr['CI high']:.2f}] for the enrichment and "
        f"{m_sig['mean diff']:.2f} [{m_sig['CI low']:.2f}, {m_sig['CI high']:.2f}] for the signed change: the "
        f"enrichment's difference {matched_reading(cells['enrichment'], matched_cells['enrichment'])}"
        f", the signed change's "
        f"{matched_reading(cells['h on mark - start (R, B)'], matched_cells['h on mark - start (R, B)'])}."
    )  # fmt: skip

    def moves(kind: str) -> str:
        m, lo, hi = cis[kind, "h on mark - start (R, B)"]
        v = report.interval_verdict(lo, hi, 0.0, claimed="below")
        return {"reproduced": f"lowers h by {-m:.2f} [{-hi:.2f}, {-lo:.2f}]",
                "not reproduced": f"raises h by {m:.2f} [{lo:.2f}, {hi:.2f}]"}.get(
            v, "does not measurably move h")  # fmt: skip

    both_lower = all(moves(k).startswith("lowers") for k in models)
    keeps_more = cells["h on mark - start (R, B)"] == "reproduced"
    h_text = (
        f"The starting map alone has enrichment {float(mask_enrichment(start, cue).mean()):.2f}. On the mark (red and "
        f"blue), the spurious model's GAX {moves('spurious')} and the clean model's {moves('clean')}"
        + (": both lower the mark from its start, the clean model's more, so the spurious model's heatmap keeps more "
           "of it; the unsigned change |h - tanh(x)| counts the clean model's larger lowering as more change on the "
           "mark, which is why it cannot decide the claim."
           if both_lower and keeps_more else ".")
    )  # fmt: skip
    predict_text = (f"Compared with the clean model's, the spurious model's heatmap h shows the mark "
                    f"{MORE_LESS[cells['enrichment']]} (the sign of the first difference), and on the mark it "
                    f"{SIGNED_WORDS[cells['h on mark - start (R, B)']]} (the sign of the second), by paired "
                    f"95% intervals over the {len(study)} images; the unsigned change |h - tanh(x)| is enriched "
                    f"{MORE_LESS[cells['enrichment of change']]} on the mark under the spurious model.")  # fmt: skip
    return {"per_image": per_image, "table": enrich, "stats": pd.DataFrame(stat_rows), "runs": sp_runs,
            "tests": tests, "cells": cells, "verdict": verdict, "text": enrich_text, "h_text": h_text,
            "predict_text": predict_text}  # fmt: skip


def plot_fdf(rel: dict, fdf: dict, path) -> None:
    """Fig. 5F analogue: the red channel of the GAX heatmaps of the first marked images under both models, the mark
    outlined."""
    study, cue = rel["study"], rel["cue"]
    n_show = min(4, len(study))
    fig, axes = plt.subplots(3, n_show, figsize=(2.0 * n_show, 6.2), squeeze=False)
    for i in range(n_show):
        axes[0, i].imshow(to_hwc(study.inputs[i]))
        axes[0, i].set_title("image (mark outlined)", fontsize=7)
        for r, kind in enumerate(("spurious", "clean"), start=1):
            axes[r, i].imshow(fdf["runs"][kind].heatmaps[i, 0].cpu().numpy(), cmap="bwr", vmin=-1, vmax=1)
            axes[r, i].set_title(f"{kind} model, R", fontsize=7)
        for r in range(3):
            axes[r, i].contour(cue[i].numpy().astype(float), levels=[0.5], colors="cyan", linewidths=0.8)
            axes[r, i].axis("off")
    finish(fig, path)


# --- the card ----------------------------------------------------------------------------------------------------


def card_claims(reach: dict, extreme: dict, fdf: dict | None, cap: int, fdf_reason: str) -> list[dict]:
    """The card's claims: Fig. 4's reach, sec. 4.3's extreme intensities per side, Fig. 5F's false distinct feature
    (``fdf`` None: not measured, for ``fdf_reason``)."""
    summary, summary_rows = reach["summary"], reach["rows"]
    all_reached, all_images = reach["reached"], reach["images"]
    reached_steps = summary["median steps"].dropna()
    all_steps = summary["median steps, misses beyond the cap"].dropna()
    beyond = summary.system[np.isinf(summary["median steps, misses beyond the cap"])].tolist()
    finite = all_steps[np.isfinite(all_steps)]
    all_steps_text = ", ".join(
        ([f"{finite.min():.0f}-{finite.max():.0f}"] if len(finite) else [])
        + ([f"beyond the cap on {', '.join(beyond)} (at least half miss)"] if beyond else [])
    )
    side_counts, extreme_rows = extreme["counts"], extreme["rows"]
    if fdf is not None:
        per_image, tests = fdf["per_image"], fdf["tests"]
        change_test, h_test = tests["enrichment of change"], tests["enrichment"]
        signed_test = tests["h on mark - start (R, B)"]
    return [
        {"artefact": "Fig. 4, sec. 4.2", "claim": "GAX reaches the target for every image",
         "paper": "all tested images reach CO 48, some after a few hundred iterations (ResNet34: most within 50; "
                  "AlexNet more)",
         "ours": (f"{all_reached} of {all_images} within {cap}" if all_images else
                  report.not_measured("no system has a correctly predicted test image"))
                 + (f"; median {reached_steps.min():.0f}-{reached_steps.max():.0f} it. over the images that reach it, "
                    f"{all_steps_text} over all (a miss counted as beyond the cap)" if len(reached_steps) else "")
                 + (f"; of those that miss, {reach['rising']} still rising, {reach['stalled']} stalled, median gap "
                    "to target "
                    + ", ".join(f"{r['missed: median gap to target']:.1f} ({r['system']})" for r in summary_rows
                                if r["images"] > r["reached"]) if all_images > all_reached else ""),
         "verdict": reach["verdict"],
         "test": "count of images whose CO reaches the target within the iteration cap; reproduced if every image; "
                 "inconclusive if every image that misses was still rising at the cap (a new best CO in its last "
                 "quarter of iterations); else partly if at least half reach it, not reproduced below"},
        *[{"artefact": f"sec. 4.3 ({side_name})",
           "claim": f"GAX optimises through extreme intensities ({side_name}est pixels)",
           "paper": "observed (Fig. 5 B-E): " + ("the dark regions of a chest X-ray" if side_name == "dark"
                                               else "a dog's white hair"),
           "ours": (f"agrees on {side_counts[side_name][0]}, contradicts on {side_counts[side_name][1]}, undecided on "
                    f"{side_counts[side_name][2] - side_counts[side_name][0] - side_counts[side_name][1]} of "
                    f"{side_counts[side_name][2]} systems (|w - 1| ratio; |h - tanh(x)| ratio; model sensitivity "
                    "ratio: "
                    + ", ".join(f"{r['system']} {r['change of w']:.2f} [{r['CI low']:.2f}, {r['CI high']:.2f}]; "
                                f"{r['change of h']:.2f} [{r['h CI low']:.2f}, {r['h CI high']:.2f}]; "
                                f"{r['model sensitivity']:.2f} [{r['sens. CI low']:.2f}, {r['sens. CI high']:.2f}]"
                                for r in extreme_rows if r["side"] == side_name) + ")")
                   if side_counts[side_name][2] else report.not_measured("no optimised image"),
           "verdict": extreme["verdicts"][side_name],
           "test": f"per system: the {side_name}est 20% of each image's pixels against the middle 60%, three ratios "
                   "per image, each with a 95% bootstrap CI over the images against 1: GAX's change |w - 1| (what the "
                   "optimisation did), the heatmap's change |h - tanh(x)| (what the heatmap shows) and the model's "
                   "sensitivity |d s_co / d(x + h)| at GAX's start h = tanh(x) (the paper's reason); a system "
                   "contradicts if the |w - 1| and |h - tanh(x)| ratios both lie below 1, agrees if the |w - 1| and "
                   "sensitivity ratios lie above 1 and the "
                   "|h - tanh(x)| ratio does not lie below 1, else is undecided; reproduced if every system agrees, "
                   "partly if at least half, not reproduced if fewer than "
                   "half agree and at least half contradict, else inconclusive"
                   + ("; on the dark side the similarity term, which divides by x + eps, also pushes w: the |w - 1| "
                      "excess is not the model's alone" if side_name == "dark" else "")}
          for side_name in ("dark", "bright")],
        {"artefact": "Fig. 5F, sec. 4.3", "claim": "GAX can reveal a false distinct feature",
         "paper": "one X-ray, by eye",
         "ours": (f"enrichment of h on the mark {per_image['spurious']['enrichment'].mean():.2f} (spurious) vs "
                  f"{per_image['clean']['enrichment'].mean():.2f} (clean), difference [{h_test['CI low']:.2f}, "
                  f"{h_test['CI high']:.2f}]; of the change |h - tanh(x)| "
                  f"{per_image['spurious']['enrichment of change'].mean():.2f} vs "
                  f"{per_image['clean']['enrichment of change'].mean():.2f}, difference [{change_test['CI low']:.2f}, "
                  f"{change_test['CI high']:.2f}] (reported, not deciding); signed change of h on the mark from its "
                  f"start (R, B), spurious minus clean, {signed_test['mean diff']:.2f} [{signed_test['CI low']:.2f}, "
                  f"{signed_test['CI high']:.2f}]") if fdf is not None
                 else report.not_measured(fdf_reason),
         "verdict": fdf["verdict"] if fdf is not None else "not comparable",
         "test": "spurious model minus clean model, paired per image, 95% bootstrap CI against 0, for two measures: "
                 "the enrichment of h on the mark (mass share over area share; what Fig. 5F shows) and the signed "
                 "change of h on the mark from its start tanh(x) (mean over the mark's red and blue values); "
                 "reproduced if both lie above, partly if one does, not reproduced if neither does and at least one "
                 "lies below, else inconclusive. The enrichment of the unsigned change |h - tanh(x)| is reported "
                 "only: it counts a model's lowering of the mark as change on the mark"},
    ]  # fmt: skip


def card_settings(loaded, runs: dict, fixed_target: float | None, quantile: float, similarity: float, cap: int,
                  spurious_system: str, clean_system: str, fdf_ok: bool, fdf_reason: str,
                  fallback: bool) -> list[tuple[str, str, str]]:  # fmt: skip
    """The card's settings rows: the paper's against this run's."""
    return [
        ("data", "ImageNet, chest X-rays", ", ".join(dict.fromkeys(s.spec.dataset for s in loaded))),
        ("models", "ResNet34, AlexNet", ", ".join(runs)),
        ("target", "CO 48 (ImageNet)",
         "fixed" if fixed_target is not None else f"auto: {quantile:.0%} quantile of six methods"),
        ("optimiser", "Adam lr 0.1, l_s 100, no iteration cap", f"Adam lr 0.1, l_s {similarity:g}, cap {cap}"),
        ("where h is added", "x + h on [0, 1] pixels", "x + h on [0, 1] pixels (normalisation inside the model)"),
        ("false distinct feature (Fig. 5F)", "one pneumonia X-ray with an irregular posture",
         "not run (spurious_system = none)" if spurious_system == "none" else f"not run: {fdf_reason}" if not fdf_ok
         else f"{spurious_system} (a planted mark) against {clean_system}, on the marked class-0 test images "
         + ("right or wrong (no marked image is classified correctly by both)" if fallback
            else "both classify correctly")),
    ]  # fmt: skip


#: a verdict in a summary sentence
VERDICT_PHRASE = {"reproduced": "reproduced", "partly": "partly reproduced", "not reproduced": "not reproduced",
                  "inconclusive": "undecided (inconclusive)", "not comparable": "not comparable"}  # fmt: skip


def summary_reach(reach: dict, fixed_target: float | None, cap: int) -> str:
    """The summary's sentence on how many images reach the target."""
    kind = "fixed" if fixed_target is not None else "auto"
    if not reach["images"]:
        return f"GAX ({kind} target): {reach['lead']}."
    return (f"GAX ({kind} target): {reach['lead']} within the cap of {cap} iterations ({reach['reached']} of "
            f"{reach['images']} images)"
            + (f"; of the rest, {report.numbered(reach['rising'], 'was', 'were')} still rising at the cap and "
               f"{reach['stalled']} had stalled."
               if reach["images"] > reach["reached"] else "."))  # fmt: skip


def summary_extreme(extreme: dict) -> str:
    """The summary's sentence on the extreme-intensity observation."""
    v = extreme["verdicts"]
    return (f"The paper's extreme-intensity observation is {VERDICT_PHRASE[v['dark']]} on the dark side and "
            f"{VERDICT_PHRASE[v['bright']]} on the bright side here. {extreme['text']}")  # fmt: skip


# --- the exercises -----------------------------------------------------------------------------------------------


def median_steps(res: GAXResult) -> float:
    """The median number of iterations of the images that reach the target (NaN if none does)."""
    return float(res.steps[res.reached].float().median()) if res.reached.any() else float("nan")


def fixed_target_study(runs: dict, setup: Setup, fixed_target: float | None, paper_target: float = 48.0) -> dict:
    """Exercise 1: GAX on every system to the paper's fixed target beside the chapter's: how many images reach each,
    and on the images that reach both, in how many iterations; the table and the answer."""
    dev = setup.device
    fixed_parts, fixed_rows = [], []
    for name, run in runs.items():  # the paper's fixed target on every system of the chapter
        if len(run["data"]) == 0:
            fixed_parts.append(f"{name}: " + report.not_measured("no correctly predicted test image"))
            continue
        res48 = setup.gax(run["system"].model, run["data"].inputs.to(dev), run["data"].targets.to(dev), paper_target)
        res_t = run["result"]
        # the steps are compared on the images that reach both targets (medians over two different sets of images
        # would mix which images reach with how fast)
        both = res48.reached & res_t.reached
        fixed_rows.append({"system": name, "images": len(res48.co), "reach 48": int(res48.reached.sum()),
                           "target": run["target"], "reach the target": int(res_t.reached.sum()),
                           "reach both": int(both.sum()),
                           "median steps to 48 (both)": float(res48.steps[both].float().median()) if both.any()
                           else float("nan"),
                           "median steps to the target (both)": float(res_t.steps[both].float().median())
                           if both.any() else float("nan")})  # fmt: skip
        r = fixed_rows[-1]
        fixed_parts.append(
            f"{name}: {r['reach 48']} of {r['images']} reach 48 and {r['reach the target']} its "
            f"{'auto' if fixed_target is None else 'chosen'} target {r['target']:.0f}"
            + (f" (on the {r['reach both']} images that reach both, a median of {r['median steps to 48 (both)']:.0f} "
               f"iterations to 48 and {r['median steps to the target (both)']:.0f} to the target)" if r["reach both"]
               else " (no image reaches both)")
        )  # fmt: skip
    fixed = pd.DataFrame(fixed_rows)
    above_48 = [r["system"] for r in fixed_rows if r["target"] >= 48]
    text = (
        f"Within {setup.prof.gax_max_steps} iterations: " + "; ".join(fixed_parts) + "."
        + (f" The targets of {', '.join(above_48)} are at least 48, so an image that reaches its target passes 48 on "
           "the way (GAX's path does not depend on the target until the image stops): there, at least as many images "
           "reach 48 by construction (up to a batch's floating-point summation order), and the steps show how much "
           "sooner."
           if above_48 else "")
        + (f" The targets of the systems range from {min(fixed.target):.0f} to {max(fixed.target):.0f}."
           if len(fixed) > 1 and f"{min(fixed.target):.0f}" != f"{max(fixed.target):.0f}" else "")
    )  # fmt: skip
    return {"table": fixed, "rows": fixed_rows, "text": text}


def similarity_study(run: dict, name: str, setup: Setup) -> dict:
    """Exercise 2: GAX without the similarity term (l_s = 0) beside the chapter's run on the same images: how many
    reach the target and how fast, how close the heatmap is to its image by the penalised distance and by
    correlation (paired tests, at the stop and at a matched iteration), the extreme-intensity |w - 1| ratio of both
    runs; the answer (``text``) and what decides it (``nearer``, ``closer``: interval verdicts)."""
    dev, l_s = setup.device, setup.similarity
    x0 = run["data"].inputs
    free = setup.gax(run["system"].model, x0.to(dev), run["data"].targets.to(dev), run["target"], similarity=0.0)
    kept = run["result"]
    r_free = pixel_correlation(free.heatmaps.cpu(), x0).numpy()
    r_kept = pixel_correlation(kept.heatmaps.cpu(), x0).numpy()
    r_start = float(np.nanmean(pixel_correlation(torch.tanh(x0), x0).numpy())) if len(x0) else float("nan")
    r_test = setup.paired(r_free, r_kept)
    # the distance the similarity term divides l_s by: small when h copies x
    d_free = similarity_distance(free.heatmaps.cpu(), x0).numpy()
    d_kept = similarity_distance(kept.heatmaps.cpu(), x0).numpy()
    d_start = float(similarity_distance(torch.tanh(x0), x0).mean()) if len(x0) else float("nan")
    d_test = setup.paired(d_free, d_kept)
    m_free, m_kept = median_steps(free), median_steps(kept)
    # the two runs stop after different numbers of iterations, and every quantity compared here moves with the number
    # of Adam steps: both are run again to the sooner of the two stops of each image (GAX's path does not depend on
    # when it stops), so that the heatmaps are also compared at a matched iteration
    matched_at = torch.minimum(free.steps, kept.steps)
    free_m, kept_m = (setup.rerun(full, run["system"].model, x0.to(dev), run["data"].targets.to(dev), run["target"],
                                  matched_at, similarity=sim)
                      for full, sim in ((free, 0.0), (kept, l_s)))  # fmt: skip
    d_test_m = setup.paired(similarity_distance(free_m.heatmaps.cpu(), x0).numpy(),
                            similarity_distance(kept_m.heatmaps.cpu(), x0).numpy())  # fmt: skip
    r_test_m = setup.paired(pixel_correlation(free_m.heatmaps.cpu(), x0).numpy(),
                            pixel_correlation(kept_m.heatmaps.cpu(), x0).numpy())  # fmt: skip
    # per image, which run stops first; a run stopped by the cap only bounds its image's iterations from below
    free_sooner = int((free.reached & (free.steps < kept.steps)).sum())
    kept_sooner = int((kept.reached & (kept.steps < free.steps)).sum())
    out = {"free": free, "kept": kept, "m_free": m_free, "m_kept": m_kept, "nearer": None, "closer": None}
    if len(x0) == 0:
        out["text"] = report.not_measured(f"{name} has no correctly predicted test image")
        return out
    nearer = report.interval_verdict(d_test["CI low"], d_test["CI high"], 0.0, claimed="below")
    nearer_text = {"reproduced": "closer to its image", "not reproduced": "further from its image",
                   "inconclusive": "neither measurably closer to nor further from its image",
                   "not comparable": "not comparable"}[nearer]  # fmt: skip
    closer = report.interval_verdict(r_test["CI low"], r_test["CI high"], 0.0, claimed="above")
    corr_text = {"reproduced": "more correlated with its image", "not reproduced": "less correlated with its image",
                 "inconclusive": "neither measurably more nor less correlated with its image",
                 "not comparable": "not comparable"}[closer]  # fmt: skip
    # the paper's reason for the term: without it, heatmaps come closer to copies of the image. The distance the term
    # penalises answers it almost by construction (the term pushes exactly that distance up); correlation, which the
    # term does not penalise, is the independent check: the reason holds only when both say closer
    yes_no = {"reproduced": "yes", "not reproduced": "no", "inconclusive": "undecided", "not comparable": "undecided"}
    if nearer == closer == "reproduced":
        reason_holds = "holds by both measures"
    elif nearer == closer == "not reproduced":
        reason_holds = "does not hold by either measure"
    else:
        reason_holds = f"is undecided: by the penalised distance {yes_no[nearer]}, by correlation {yes_no[closer]}"
    if np.isfinite(m_free) and np.isfinite(m_kept):
        sooner = "the target is reached " + ("sooner" if m_free < m_kept else "later" if m_free > m_kept else "as fast")
    else:
        sooner = "the median iterations cannot be compared"
    sooner += (f" (those medians are over the images each run brings to the target; per image, the run without the "
               f"term stops first on {free_sooner} of {len(free.co)} and the run with it on "
               f"{kept_sooner})")  # fmt: skip
    nearer_m = report.interval_verdict(d_test_m["CI low"], d_test_m["CI high"], 0.0, claimed="below")
    closer_m = report.interval_verdict(r_test_m["CI low"], r_test_m["CI high"], 0.0, claimed="above")
    nearer_text_m = {"reproduced": "closer to", "not reproduced": "further from",
                     "inconclusive": "neither measurably closer to nor further from",
                     "not comparable": "not comparable with"}[nearer_m]  # fmt: skip
    corr_text_m = {"reproduced": "more correlated", "not reproduced": "less correlated",
                   "inconclusive": "neither measurably more nor less correlated",
                   "not comparable": "not comparable"}[closer_m]  # fmt: skip
    matched_text = (
        f" At a matched iteration (each image stopped where the sooner of its two runs stopped: a median of "
        f"{float(matched_at.float().median()):.0f} iterations), the heatmap without the term is "
        f"{nearer_text_m} its image by the penalised distance (paired difference {d_test_m['mean diff']:.2g} "
        f"[{d_test_m['CI low']:.2g}, {d_test_m['CI high']:.2g}]) and {corr_text_m} with it (paired difference "
        f"{r_test_m['mean diff']:.2f} [{r_test_m['CI low']:.2f}, {r_test_m['CI high']:.2f}]): the difference in "
        f"distance {matched_reading(nearer, nearer_m)}, the difference in correlation "
        f"{matched_reading(closer, closer_m)}. This matches the number of steps, not the CO score: at "
        f"that iteration the run with the term is still short of its own stop on "
        f"{int((matched_at < kept.steps).sum())} of {len(kept.co)} images, the run without it on "
        f"{int((matched_at < free.steps).sum())}."
    )  # fmt: skip
    text = (
        f"With l_s = 0, {int(free.reached.sum())} of {len(free.co)} images reach the target"
        + (f" (median {m_free:.0f} iterations)" if np.isfinite(m_free) else "")
        + f" against {int(kept.reached.sum())} with l_s = {l_s:g}"
        + (f" (median {m_kept:.0f})" if np.isfinite(m_kept) else "")
        + f": {sooner}. The distance the similarity term penalises, mean((h - x + eps)^2 / (x + eps)), averages "
        f"{np.mean(d_free):.2g} with l_s = 0 and {np.mean(d_kept):.2g} with l_s = {l_s:g} "
        f"(paired difference {d_test['mean diff']:.2g} [{d_test['CI low']:.2g}, {d_test['CI high']:.2g}]; the "
        f"starting map tanh(x): {d_start:.2g}): without the term the heatmap is {nearer_text} by that distance, the "
        f"one the term itself pushes up. By correlation over pixels and channels, which the term does not penalise, "
        f"the heatmap is {corr_text} without the term ({np.nanmean(r_free):.2f} against {np.nanmean(r_kept):.2f}; "
        f"paired difference {r_test['mean diff']:.2f} [{r_test['CI low']:.2f}, {r_test['CI high']:.2f}]; the starting "
        f"map: {r_start:.2f}).{matched_text} So, at each run's stop (the target, or the cap for an image that "
        f"missed it), the paper's reason for the term (without it, heatmaps "
        f"that cannot be told from the image) {reason_holds}."
    )  # fmt: skip
    # the extreme-intensity section's |w - 1| ratio (extreme pixels over the middle ones) without the similarity term,
    # which divides by x + eps and so weighs dark pixels up: does the dark side's excess persist without it?
    dark_0, bright_0, middle_0 = extreme_masks(x0)
    w_parts = []
    for side_name, side in (("dark", dark_0), ("bright", bright_0)):
        r_f = setup.ci(side_ratio((free.weights.cpu() - 1.0).abs().sum(1), side, middle_0).numpy())
        r_k = setup.ci(side_ratio((kept.weights.cpu() - 1.0).abs().sum(1), side, middle_0).numpy())
        side_word = {"reproduced": "above 1", "not reproduced": "below 1", "inconclusive": "spanning 1",
                     "not comparable": "not comparable"}[
            report.interval_verdict(r_f[1], r_f[2], 1.0, "above")]  # fmt: skip
        w_parts.append(f"{side_name} {r_f[0]:.2f} [{r_f[1]:.2f}, {r_f[2]:.2f}] with l_s = 0 ({side_word}) against "
                       f"{r_k[0]:.2f} [{r_k[1]:.2f}, {r_k[2]:.2f}] with l_s = {l_s:g}")  # fmt: skip
    text += (" The extreme-intensity section's ratio of |w - 1| on the extreme pixels over the middle ones, on "
             f"these images: {'; '.join(w_parts)} (each run at its own stop; the ratio compares pixels within each "
             "image, and the section on extreme intensities reads it at one iteration as well).")  # fmt: skip
    out.update(text=text, nearer=nearer, closer=closer)
    return out


def significant(v: float, digits: int) -> str:
    """``v`` rounded to ``digits`` significant digits, written without an exponent (15943 -> "15900" for 3)."""
    rounded = float(f"{v:.{digits}g}")
    return f"{rounded:.0f}" if abs(rounded) >= 10 ** (digits - 1) else f"{rounded:.{digits}g}"


#: exercise 3's bias settings: label -> (bias, trained)
BIASES = {"none": (None, False), "fixed 0.01": (0.01, False), "trained from 0.01": (0.01, True)}
BIAS_FORMATS = {"median CO at the start": "{:.2f}", "similarity term at the start": "{:.3g}",
                "similarity term at the end": "{:.2g}"}  # fmt: skip


def bias_study(dg, setup: Setup, quantile: float) -> dict:
    """Exercise 3: GAX on ``dg`` (a system with black backgrounds) without a bias, with a fixed bias 0.01 and with a
    per-pixel bias trained from 0.01: how many images reach the target, the CO score and the similarity term at the
    start and the end, how many black pixels a trained bias moves, and the term's difference with and without the
    bias at the stop and at a matched iteration; the table and the answer."""
    dev, l_s = setup.device, setup.similarity
    dg_data = correct_images(dg, setup.prof.gax_opt_images)
    x_dg, y_dg = dg_data.inputs.to(dev), dg_data.targets.to(dev)
    dg_target = auto_target(dg.model, x_dg, y_dg, quantile)[0]
    zero_share = float((dg_data.inputs == 0).float().mean()) if len(dg_data) else float("nan")
    dg_rows, dg_runs, moved_background = {}, {}, float("nan")
    for label, (b, trained_b) in BIASES.items():
        r = setup.gax(dg.model, x_dg, y_dg, dg_target, bias=b, train_bias=trained_b)
        dg_runs[label] = r
        start = gax_heatmap(torch.ones_like(x_dg), x_dg, b, True).cpu()  # h at iteration 0 (w = 1)
        dg_rows[label] = {"bias": label, "images": len(r.co), "reached": int(r.reached.sum()),
                          "median CO at the start": float(r.history[0].median()) if len(r.co) else float("nan"),
                          "similarity term at the start": float(
                              (l_s / similarity_distance(start, dg_data.inputs)).median()),
                          "similarity term at the end": float(
                              (l_s / similarity_distance(r.heatmaps.cpu(), dg_data.inputs)).median())}  # fmt: skip
        if trained_b:  # the black pixels of the images that took a step: how many has the trained bias moved?
            stepped = (r.steps > 0).cpu()
            black = dg_data.inputs[stepped] == 0
            change = (r.heatmaps.cpu()[stepped] - torch.tanh(torch.tensor(0.01))).abs()
            moved_background = float((change[black] > 1e-3).float().mean()) if black.any() else float("nan")
    no_b, with_b, trained = dg_rows["none"], dg_rows["fixed 0.01"], dg_rows["trained from 0.01"]
    bias_effect = ("raises" if with_b["reached"] > no_b["reached"] else "lowers" if with_b["reached"] < no_b["reached"]
                   else "does not change")  # fmt: skip
    text = (
        f"On {dg.name} (target {dg_target:.0f}), {no_b['reached']} of {len(dg_data)} images reach the target without "
        f"a bias and {with_b['reached']} with the fixed bias 0.01: the bias {bias_effect} the count. {zero_share:.0%} "
        f"of these images' pixels are exactly 0, and on them the bias changes the model's input x + h from 0 to "
        f"tanh(0.01): the median CO score at the start is {no_b['median CO at the start']:.2f} without the bias and "
        f"{with_b['median CO at the start']:.2f} with it. The similarity term l_s / mean((h - x + eps)^2 / (x + eps)) "
        f"is {significant(no_b['similarity term at the start'], 3)} at the start without the bias and "
        f"{significant(with_b['similarity term at the start'], 3)} with it (medians over the images), "
        f"{significant(no_b['similarity term at the end'], 2)} and "
        f"{significant(with_b['similarity term at the end'], 2)} at the end. With the bias trained from 0.01 per "
        f"pixel, as in the authors' code, {trained['reached']} of {len(dg_data)} reach the target"
        + (f", and {moved_background:.0%} of the black pixels of the images that took a step moved by more than 0.001 "
           "(a fixed bias moves none of them)." if np.isfinite(moved_background)
           else "; " + report.not_measured("no image took a step or none has a black pixel") + ".")
    )  # fmt: skip
    # the runs without and with the fixed bias stop after different numbers of steps, and the similarity term moves
    # with every step: both again, each image stopped where the sooner of its two runs stopped; the difference of the
    # term (without minus with the bias) per image, at the stop and at that matched iteration, each with a paired
    # interval
    if len(dg_data):
        matched_dg = torch.minimum(dg_runs["none"].steps, dg_runs["fixed 0.01"].steps)
        term_end, term_m = {}, {}
        for label in ("none", "fixed 0.01"):
            b = BIASES[label][0]
            h_m = setup.rerun(dg_runs[label], dg.model, x_dg, y_dg, dg_target, matched_dg, similarity=l_s,
                              bias=b).heatmaps.cpu()  # fmt: skip
            term_m[label] = (l_s / similarity_distance(h_m, dg_data.inputs)).numpy()
            term_end[label] = (l_s / similarity_distance(dg_runs[label].heatmaps.cpu(), dg_data.inputs)).numpy()
        diff_cells = {}
        for when, terms in (("stop", term_end), ("matched", term_m)):
            d_mean, d_lo, d_hi = setup.ci(terms["none"] - terms["fixed 0.01"])
            diff_cells[when] = (d_mean, d_lo, d_hi, report.interval_verdict(d_lo, d_hi, 0.0, claimed="above"))
        term_words = {"reproduced": "larger without the bias", "not reproduced": "smaller without the bias",
                      "inconclusive": "not measurably different", "not comparable": "not measured"}  # fmt: skip
        text += (
            f" The term's difference, without minus with the bias, per image: {diff_cells['stop'][0]:.3g} "
            f"[{diff_cells['stop'][1]:.3g}, {diff_cells['stop'][2]:.3g}] at the stop "
            f"({term_words[diff_cells['stop'][3]]}); with each image stopped where the sooner of its two runs stopped "
            f"(a median of {float(matched_dg.float().median()):.0f} iterations), {diff_cells['matched'][0]:.3g} "
            f"[{diff_cells['matched'][1]:.3g}, {diff_cells['matched'][2]:.3g}] "
            f"({term_words[diff_cells['matched'][3]]}; 95% bootstrap intervals): the difference "
            + matched_reading(diff_cells["stop"][3], diff_cells["matched"][3]) + "."
            + (" (Every image's matched iteration is the bias run's own stop, so only the run without the bias is "
               "read again.)" if bool((matched_dg == dg_runs["fixed 0.01"].steps).all()) else "")
        )  # fmt: skip
    return {"table": pd.DataFrame(dg_rows.values()), "rows": dg_rows, "effect": bias_effect,
            "moved_background": moved_background, "text": text}  # fmt: skip
