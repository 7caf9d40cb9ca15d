"""Chapter 7's findings, from the shard tables of :mod:`xai_lib.experiments.co_gap`: the CO-score gap as AUROCs with
bootstrap intervals (:func:`gap_study`) and its heatmap controls (:func:`control_study`), the best-separating method
per system and per dataset (:func:`ranking_study`), better- against under-trained twins (:func:`twin_study`), the
accuracy after the AX process and InputXGradient's claims (:func:`accuracy_study`, :func:`network_input_study`,
:func:`scale_study`, :func:`paper_scale_study`), the reproduction card and the exercises (kappa from the
prediction, the variants against the true-class probability, a reviewer's flag threshold). Each takes the tables and
returns its tables, counts and sentences; the chapter glues and shows them."""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch

from .. import parallel, report
from ..batching import batched_logits
from ..plotting import finish
from ..stats import auroc_ci, bootstrap_mean_ci, youden_threshold
from . import common
from .co_gap import (
    best_methods,
    cells_verdict,
    dataset_dependence,
    heatmap_controls,
    interval_cells,
    paired_auroc_difference_ci,
    single_system_verdict,
)

#: the AUROC the card reads as the paper's "distinct gaps"
LARGE_AUROC = 0.9
#: the paper's v2 perturbation in pixel units: ImageNet's sigma is near a quarter
PAPER_SCALE = 0.25


def variant_name(combine: str, soft: bool) -> str:
    """A CO variant in words: ``("sum", False)`` is "raw outputs with x + h"."""
    return f"{'softmax' if soft else 'raw'} outputs with {'x + h' if combine == 'sum' else 'x * h'}"


def score_systems(loaded, prof, seed: int, device, runner, scales: Sequence[float], show_system: str) -> dict:
    """The CO scores, accuracies after AX, predictions, scale study (``show_system`` only) and network-input variant
    of every system, shard by shard (:func:`xai_lib.experiments.co_gap.scores`, cached, on ``runner``); each as one
    tidy table with a ``system`` column, and the methods skipped with their reasons."""
    payloads, sizes, owner = [], [], []
    for s in loaded:
        n = min(prof.gax_images, len(s.data("test")))
        for shard in parallel.shards_of(range(n), max(prof.shard_images, 64)):
            shard_scales = scales if s.name == show_system else []
            payloads.append(common.payload(s, prof, seed, device, runner, shard, scales=shard_scales))
            sizes.append(len(shard))
            owner.append(s.name)
    results = runner.map("xai_lib.experiments.co_gap:scores", payloads, desc="inputs", images=sizes)
    tables = {k: parallel.concat(results, k, owner) for k in ("co", "ax", "pred", "scaled", "model_input")}
    tables["skipped"] = parallel.concat(results, "skipped", owner).drop_duplicates()
    return tables


def plot_histograms(co_table: pd.DataFrame, show_system: str, path) -> None:
    """Figs. 2-3 style: the CO scores of correct and wrong predictions per method on one system (raw, x + h)."""
    part = co_table[(co_table.system == show_system) & (co_table.AX == "sum") & (~co_table.softmax)]
    methods_here = list(dict.fromkeys(part.method))
    fig, axes = plt.subplots(2, 3, figsize=(12, 6))
    for ax, method in zip(axes.flat, methods_here, strict=False):
        m = part[part.method == method]
        bins = np.histogram_bin_edges(m.co, bins=30)
        for sel, colour, label in ((m.correct, "tab:blue", "correct"), (~m.correct, "tab:red", "wrong")):
            if sel.any():
                ax.hist(m[sel].co, bins=bins, alpha=0.6, color=colour, density=True,
                        label=f"{label} ({int(sel.sum())})")  # fmt: skip
        ax.set_title(method, fontsize=9)
        ax.legend(fontsize=7)
    for ax in axes.flat[len(methods_here) :]:
        ax.axis("off")
    fig.suptitle(f"CO scores, {show_system}, raw outputs, x + h", fontsize=10)
    finish(fig, path)


def plot_boxplots(co_table: pd.DataFrame, names: Sequence[str], path) -> None:
    """The CO scores of correct and wrong predictions per method, one panel per system (raw, x + h)."""
    raw_sum = co_table[(co_table.AX == "sum") & (~co_table.softmax)]
    fig, axes = plt.subplots(1, len(names), figsize=(2.6 * len(names), 3.6), squeeze=False)
    for ax, system in zip(axes[0], names, strict=True):
        s = raw_sum[raw_sum.system == system]
        methods_s = list(dict.fromkeys(s.method))
        pos = np.arange(len(methods_s))
        for shift, sel, colour in ((-0.18, s.correct, "tab:blue"), (0.18, ~s.correct, "tab:red")):
            groups = [s[(s.method == m) & sel].co for m in methods_s]
            if all(len(g) for g in groups):
                ax.boxplot(groups, positions=pos + shift, widths=0.3, patch_artist=True,
                           boxprops={"facecolor": colour}, showfliers=False)  # fmt: skip
        ax.set_xticks(pos, [m[:6] for m in methods_s], rotation=70, fontsize=7)
        ax.set_title(system, fontsize=8)
    fig.suptitle("CO scores (raw, x + h): correct (blue) vs wrong (red)", fontsize=10)
    finish(fig, path)


def gap_study(co_table: pd.DataFrame, names: Sequence[str], few_wrong: int, n_boot: int, seed: int) -> dict:
    """The AUROC of the CO score as a detector of correct predictions per system, method and variant, with its
    bootstrap interval, thin flag and Youden threshold (``auc_table``); the counted cells (raw, x + h; not thin) against
    0.5 and against :data:`LARGE_AUROC` (the card's "distinct gaps"), and the gap sentence."""
    auc_rows = []
    for (system, method, combine, soft), g in co_table.groupby(["system", "method", "AX", "softmax"], sort=False):
        auc, lo, hi = auroc_ci(g.co.to_numpy(), g.correct.to_numpy(), n_boot=n_boot, seed=seed)
        wrong = int((~g.correct).sum())
        auc_rows.append({"system": system, "method": method, "AX": combine, "softmax": soft, "wrong": wrong,
                         "n": len(g), "AUROC": auc, "CI low": lo, "CI high": hi,
                         "thin": 5 <= wrong < few_wrong and len(g) - wrong >= 5,
                         "flag below": youden_threshold(g.co.to_numpy(), g.correct.to_numpy())})  # fmt: skip
    auc_table = pd.DataFrame(auc_rows)
    headline = auc_table[(auc_table.AX == "sum") & (~auc_table.softmax)]
    wide = headline.pivot(index="method", columns="system", values="AUROC")[
        [n for n in names if n in set(headline.system)]]  # fmt: skip
    # the estimable method-system cells (raw, x + h): every count of this section comes from this one table
    separating = headline[headline.AUROC.notna() & ~headline.thin]  # thin cells are shown, never counted
    separate_cells = interval_cells(separating, threshold=0.5, claimed="above")
    # how large the gap is (the interval only says beyond chance): cells whose AUROC reaches LARGE_AUROC
    n_large = int((separating.AUROC >= LARGE_AUROC).sum())
    large_systems = list(dict.fromkeys(separating[separating.AUROC >= LARGE_AUROC].system))
    if n_large == len(separating):
        size_text = f"the AUROC reaches {LARGE_AUROC:g} in every one of the {n_large} cells, a large gap everywhere"
    elif n_large == 0:
        size_text = f"the AUROC reaches {LARGE_AUROC:g} in none of the {len(separating)} cells"
    else:
        share = ("most" if n_large > len(separating) / 2 else "half" if 2 * n_large == len(separating)
                 else "a minority")  # fmt: skip
        size_text = (f"the AUROC reaches {LARGE_AUROC:g} in {n_large} of the {len(separating)} cells "
                     f"({share}; on {', '.join(large_systems)})")  # fmt: skip
    n_sep, n_rev = separate_cells.count("reproduced"), separate_cells.count("not reproduced")
    thin_cells = headline[headline.thin]
    no_estimate = sorted(set(headline[headline.AUROC.isna()].system))
    if len(separating):
        gap_text = (f"With raw outputs and x + h, in the {len(separating)} method-system cells with at least "
                    f"{few_wrong} wrong predictions, the AUROC's interval lies above 0.5 (separation beyond chance, "
                    f"correct predictions higher) in {n_sep}, below 0.5 (correct predictions lower) in {n_rev}, and "
                    f"spans 0.5 in {len(separating) - n_sep - n_rev}; the AUROCs range from "
                    f"{separating.AUROC.min():.3f} to {separating.AUROC.max():.3f} (median "
                    f"{separating.AUROC.median():.3f}).")  # fmt: skip
        gap_text += f" Beyond chance is not the paper's 'distinct gaps': {size_text}."
    else:
        gap_text = (
            report.not_measured(f"no system has {few_wrong} wrong and five correct predictions", start=True) + "."
        )
    thin_parts = [f"{sys_} ({int(g.wrong.iloc[0])} wrong, AUROC {report.span(g.AUROC, '.3f', '-')})"
                  for sys_, g in thin_cells.groupby("system", sort=False)]  # fmt: skip
    thin_text = (f"Left out as thin (fewer than {few_wrong} wrong predictions: an interval resting on a handful of "
                 f"wrong predictions says little about the next hundred): {'; '.join(thin_parts)}."
                 if thin_parts else f"No estimate rests on fewer than {few_wrong} wrong predictions.")  # fmt: skip
    none_text = (f"No estimate (fewer than five wrong or five correct predictions): {', '.join(no_estimate)}."
                 if no_estimate else "Every system has an estimate.")  # fmt: skip
    # the intervals whose end lies about one standard error from the threshold: against 0.5 (beyond chance, the
    # counts above) and against LARGE_AUROC (the card's test of distinct gaps; the sentence's count of 0.9 is of point
    # estimates)
    close_text = (report.close_calls(separating, 0.5, ["system", "method"])
                  + report.close_calls(separating, LARGE_AUROC, ["system", "method"],
                                       what=" of the card's test"))  # fmt: skip
    # the paper's "distinct gaps", tested: each counted cell's AUROC interval against LARGE_AUROC
    distinct_cells = interval_cells(separating, threshold=LARGE_AUROC, claimed="above")
    n_gap_above, n_gap_below = distinct_cells.count("reproduced"), distinct_cells.count("not reproduced")
    above = [v == "reproduced" for v in distinct_cells]  # read only where some cell lies above
    distinct_ours = (f"AUROC CI above {LARGE_AUROC:g} in {n_gap_above} of {len(separating)} cells, below in "
                     f"{n_gap_below}, spanning it in {len(separating) - n_gap_above - n_gap_below}"
                     + (f" (above on {', '.join(dict.fromkeys(separating[above].system))})" if n_gap_above else "")
                     + (f"; the verdict asks it of every cell, as Fig. 2's 'all distributions' does: A.3's 'some "
                        f"scores' alone would be met by these {n_gap_above}" if n_gap_above else "") if len(separating)
                     else report.not_measured(f"no system has {few_wrong} wrong predictions"))  # fmt: skip
    return {"auc_table": auc_table, "headline": headline, "wide": wide, "separating": separating,
            "separate_cells": separate_cells, "n_sep": n_sep, "n_rev": n_rev, "n_large": n_large, "text": gap_text,
            "sentence": f"{gap_text}{close_text} {thin_text} {none_text}",
            "distinct_verdict": cells_verdict(distinct_cells), "distinct_ours": distinct_ours}  # fmt: skip


#: the heatmap controls in words, and their AUROCs as the card says them
CONTROLS = {"shuffled": "the same values at shuffled positions", "rolled": "the heatmap moved by half the image"}
OWN = {"shuffled": "its shuffled values'", "rolled": "its rolled copy's"}
#: the controls table's display formats
CONTROL_FORMATS = {c: "{:.3f}" for c in ("AUROC, heatmap", "AUROC, control", "heatmap minus control", "CI low",
                                         "CI high")}  # fmt: skip


def control_study(scaled_table: pd.DataFrame, show_system: str, few_wrong: int, n_boot: int, seed: int) -> dict:
    """The heatmap controls on ``show_system`` at every scale (:func:`xai_lib.experiments.co_gap.heatmap_controls`):
    the AUROC of the CO score with the heatmap minus that with the same values at shuffled positions and with the
    heatmap moved by half the image, on the same images (paired bootstrap); at s = 1 (the tables' x + h) counted per
    control, and the sentence."""
    controls = heatmap_controls(scaled_table[scaled_table.system == show_system], few_wrong, n_boot=n_boot,
                                seed=seed)  # fmt: skip
    control = controls[controls.scale == 1.0].drop(columns="scale").reset_index(drop=True)
    n_control_images = int(scaled_table[(scaled_table.system == show_system) & (scaled_table.heatmap == "method")]
                           .image.nunique())  # fmt: skip
    control_counted = control[control["the heatmap"] != "thin"]
    ctrl_counts = {
        kind: {w: int((g["the heatmap"] == w).sum()) for w in ("separates better", "separates worse")} | {"n": len(g)}
        for kind, g in control_counted.groupby("control", sort=False)
    }  # fmt: skip
    control_reason = (  # why the controls cannot be read, if they cannot
        "the scale study has no s = 1" if not (scaled_table.scale == 1.0).any() else
        f"{show_system} has fewer than five wrong or five right predictions on x" if not len(control) else
        f"every cell of {show_system} is thin (fewer than {few_wrong} wrong predictions)"
    )  # fmt: skip
    out = {"controls": controls, "control": control, "counted": control_counted, "counts": ctrl_counts,
           "reason": control_reason}  # fmt: skip
    if not len(control_counted):
        out["text"] = "The heatmap controls are " + report.not_measured(control_reason) + "."
        return out
    parts = []
    for kind, c in ctrl_counts.items():
        spread = report.span(control_counted[control_counted.control == kind]["AUROC, control"], ".3f", "-")
        parts.append(
            f"against {CONTROLS[kind]}, the AUROC with the heatmap is higher for {c['separates better']} of "
            f"{c['n']} methods, lower for {c['separates worse']} and not measurably different for "
            f"{c['n'] - c['separates better'] - c['separates worse']} (control AUROC {spread})"
        )
    rolled = ctrl_counts.get("rolled")
    if rolled is None:
        reading = "the rolled control needs images, so only the shuffled one is measured."
    else:
        r_rows = control_counted[control_counted.control == "rolled"]
        lower = r_rows[r_rows["the heatmap"] == "separates better"]
        higher = r_rows[r_rows["the heatmap"] == "separates worse"]
        # how much of the heatmap's distance from chance (0.5) its rolled copy keeps, where the heatmap has one
        # (the methods the move hurts; for a method the move helps the share would exceed 1)
        far = lower[(lower["AUROC, heatmap"] - 0.5).abs() > 0.05]
        kept = ((far["AUROC, control"] - 0.5) / (far["AUROC, heatmap"] - 0.5)).clip(lower=0)
        reading = (
            f"moved by half the image, the heatmap separates less well for {len(lower)} of {rolled['n']} methods"
            + (f" (by {lower['heatmap minus control'].min():.2f} to {lower['heatmap minus control'].max():.2f})"
               if len(lower) else "")
            + f", better for {len(higher)}" + (f" ({', '.join(higher.method)})" if len(higher) else "")
            + f" and not measurably differently for {rolled['n'] - len(lower) - len(higher)}"
            + (f"; where it separates less well, the moved copy keeps {kept.min():.0%} to {kept.max():.0%} of the "
               "heatmap's distance from 0.5, so "
               + ("most of the separation does not need the heatmap in place: where it falls accounts for part of it"
                  if kept.median() > 0.5 else "where the heatmap falls accounts for most of the separation")
               + " (read from the median of these point estimates, without an interval)"
               if len(kept) else "")
            + " (at s = 1, where the perturbation is large: the scale study below shows the accuracy it leaves)."
        )  # fmt: skip
    # the smallest scale, where the heatmap barely moves the accuracy: the same comparison, counted
    s_small = controls.scale.min()
    small = controls[(controls.scale == s_small) & (controls["the heatmap"] != "thin")]
    small_parts = [
        f"against its {kind} copy better for {int((g['the heatmap'] == 'separates better').sum())} of {len(g)}, worse "
        f"for {int((g['the heatmap'] == 'separates worse').sum())}, undecided for "
        f"{int((g['the heatmap'] == 'undecided').sum())} (its AUROC {report.span(g['AUROC, control'], '.3f', '-')}, "
        f"the heatmap's {report.span(g['AUROC, heatmap'], '.3f', '-')})"
        for kind, g in small.groupby("control", sort=False)
    ]  # fmt: skip
    small_text = (f" At the smallest scale, s = {s_small:g}, the heatmap separates "
                  + "; ".join(small_parts) + " (heatmap_controls.csv has every scale)."
                  if s_small < 1.0 and small_parts else "")  # fmt: skip
    out["text"] = (
        f"The heatmap controls on {show_system} (s = 1, the tables' x + h, on the same {n_control_images} images, "
        "paired bootstrap): " + "; ".join(parts) + "."
        + report.close_calls(control_counted.assign(control=control_counted.control.map(
            {"shuffled": "against its shuffled values", "rolled": "against its moved copy"})), 0.0,
            ["method", "control"])
        + " Read together: " + reading + small_text
    )  # fmt: skip
    return out


#: the columns of the best cell per system
BEST_COLUMNS = ["system", "method", "AX", "softmax", "wrong", "AUROC", "CI low", "CI high", "direction",
                "runner-up cell", "top minus runner-up", "diff CI low", "diff CI high", "top cell", "flag if CO is",
                "threshold"]  # fmt: skip


def cell_of(co_table: pd.DataFrame, system: str, r) -> pd.DataFrame:
    """The CO scores of one cell (``system``, and the method and variant of the row ``r``), sorted by image."""
    return co_table[(co_table.system == system) & (co_table.method == r.method) & (co_table.AX == r.AX)
                    & (co_table.softmax == r.softmax)].sort_values("image")  # fmt: skip


def oriented(cell: pd.DataFrame, r) -> np.ndarray:
    """The CO scores of a cell (:func:`cell_of`), negated where the cell's AUROC (``r.AUROC``) is below 0.5: oriented
    so that correct predictions score higher, the orientation in which two cells' AUROCs are compared."""
    return cell.co.to_numpy(float) * (1.0 if r.AUROC >= 0.5 else -1.0)


def ranking_study(auc_table: pd.DataFrame, co_table: pd.DataFrame, names: Sequence[str], few_wrong: int,
                  n_boot: int, seed: int) -> dict:  # fmt: skip
    """The best-separating cell (method and variant) per system by ``|AUROC - 0.5|`` with its direction, its tie
    test against the runner-up and its flag threshold (``best``); the best method per system in the paper's variant
    (``best_raw``) and whether it depends on the dataset (``dependence``, established per dataset by at least two
    eligible systems); the sentences."""
    # every cell with an estimate that is not thin, with its distance from 0.5 and its direction
    ranked = auc_table[auc_table.AUROC.notna() & ~auc_table.thin].assign(
        distance=lambda t: (t.AUROC - 0.5).abs(),
        direction=lambda t: np.where(t.AUROC >= 0.5, "correct higher", "wrong higher"),
    )
    top_rows = []
    for system, g in ranked.groupby("system", sort=False):
        g = g.sort_values(["distance", "method", "AX", "softmax"], ascending=[False, True, True, True])
        top = g.iloc[0]
        cell = cell_of(co_table, system, top)
        # a tie at the top is statistical: the paired bootstrap CI of the top cell's distance minus the runner-up's
        # (each score oriented so its AUROC is >= 0.5, the same images resampled for both) reaches 0
        if len(g) > 1:
            second = g.iloc[1]
            cell_2 = cell_of(co_table, system, second)
            d_top = paired_auroc_difference_ci(oriented(cell, top), oriented(cell_2, second),
                                               cell.correct.to_numpy(bool), n_boot=n_boot, seed=seed)  # fmt: skip
            runner = f"{second.method}, {variant_name(second.AX, second.softmax)}"
            top_tie = "tie" if not d_top[1] > 0 else "distinct"
        else:
            d_top, runner, top_tie = (float("nan"),) * 3, "n/a", "one cell"
        up = top.AUROC >= 0.5  # flag low scores when correct predictions score higher, high scores otherwise
        threshold = (youden_threshold(cell.co.to_numpy(), cell.correct.to_numpy()) if up
                     else -youden_threshold(-cell.co.to_numpy(), cell.correct.to_numpy()))  # fmt: skip
        top_rows.append({"system": system, "method": top.method, "AX": top.AX, "softmax": bool(top.softmax),
                         "wrong": int(top.wrong), "AUROC": top.AUROC, "CI low": top["CI low"],
                         "CI high": top["CI high"], "direction": top.direction, "runner-up cell": runner,
                         "top minus runner-up": d_top[0], "diff CI low": d_top[1], "diff CI high": d_top[2],
                         "top cell": top_tie, "flag if CO is": "below" if up else "above",
                         "threshold": threshold})  # fmt: skip
    best = pd.DataFrame(top_rows, columns=BEST_COLUMNS)
    unranked = [n for n in names if n not in set(best.system)]
    ties = [f"{r.system} (with {r['runner-up cell']})" for _, r in best.iterrows() if r["top cell"] == "tie"]
    if len(best):
        top_text = (f"Ranked by the distance of the AUROC from 0.5, the top cell is a softmax variant on "
                    f"{int(best.softmax.sum())} of {len(best)} systems, and separates in reverse (wrong predictions "
                    f"score higher) on {int((best.direction == 'wrong higher').sum())}. "
                    + (f"The top cell is statistically tied with the runner-up (the paired interval of the difference "
                       f"of their distances from 0.5 reaches 0) on {len(ties)} of {len(best)} systems: "
                       f"{', '.join(ties)}. "
                       if ties else "On every ranked system the top cell separates more than the runner-up (paired "
                       "interval of the difference of their distances from 0.5 above 0; chosen on the same images, "
                       "so optimistic). ")
                    + (f"Not ranked (fewer than {few_wrong} wrong predictions): {', '.join(unranked)}."
                       if unranked else ""))  # fmt: skip
    else:
        top_text = "The ranking is " + report.not_measured(f"no system has {few_wrong} wrong predictions") + "."
    best_raw = best_methods(co_table[(co_table.AX == "sum") & (~co_table.softmax)], few_wrong, n_boot=n_boot,
                            seed=seed)  # fmt: skip
    dependence, established = dataset_dependence(best_raw)
    # one eligible system cannot establish a dataset's best method: a dataset needs at least two
    eligible_by = best_raw[best_raw.status != "too few wrong predictions"].system.str.split("/").str[0].value_counts()
    one_system = [str(d) for d, k in eligible_by.items() if k < 2]
    established = {d: m for d, m in established.items() if eligible_by.get(d, 0) >= 2}
    if dependence != "not comparable":
        dependence = ("inconclusive" if len(established) < 2
                      else "reproduced" if len({m[0] for m in established.values()}) > 1
                      else "not reproduced")  # fmt: skip
    one_system_text = (f" A dataset with a single eligible system has its best method not measured: "
                       f"{', '.join(one_system)}." if one_system else "")  # fmt: skip
    status = best_raw.status.value_counts()
    n_distinct, n_tie = int(status.get("distinct", 0)), int(status.get("tie", 0))
    n_few = int(status.get("too few wrong predictions", 0))
    listed = "; ".join(f"{d}: {', '.join(m)}" for d, m in established.items())
    listed_words = "; ".join(f"{' and '.join(m)} on {d}" for d, m in established.items())  # for sentences
    best_text = {
        "reproduced": f"Two datasets have different established best methods ({listed_words}), so the best method "
                      "depends on the dataset here.",
        "not reproduced": f"Every dataset with an established best method has the same one ({listed_words}), so here "
                          "the best method does not depend on the dataset.",
        "inconclusive": "Fewer than two datasets have an established best method (the distinct best of more than half "
                        "of their eligible systems, at least two of them"
                        + (f"; established: {listed_words}" if listed else "") + "), so the claim cannot be decided.",
        "not comparable": report.not_measured(f"fewer than two datasets have a system with {few_wrong} wrong "
                                              "predictions", start=True) + ".",
    }[dependence]  # fmt: skip
    return {"best": best, "best_raw": best_raw, "dependence": dependence, "one_system": one_system,
            "n_distinct": n_distinct, "n_tie": n_tie, "n_few": n_few, "listed": listed, "listed_words": listed_words,
            "top_text": top_text,
            "best_sentence": f"Of {report.numbered(len(best_raw), 'system', 'systems')}, "
                             f"{report.numbered(n_distinct, 'has', 'have')} a distinct best method, {n_tie} a tie "
                             f"and {n_few} too few wrong predictions. {best_text}{one_system_text}"}  # fmt: skip


#: the twin pairs' table
PAIR_COLUMNS = ["well-trained", "method", "images", "AUROC well - sub", "CI low", "CI high",
                "gap of the well-trained model"]  # fmt: skip


def twin_study(co_table: pd.DataFrame, names: Sequence[str], few_wrong: int, n_boot: int, seed: int) -> dict:
    """For every system whose ``_sub`` twin is also among ``names``: per method, the difference of their AUROCs (raw,
    x + h) on the same test images with a paired bootstrap interval (*wider*, *narrower*, *undecided*; *thin* or *not
    estimable* cells left out), the verdict and the sentence."""
    pair_rows = []
    raw = co_table[(co_table.AX == "sum") & (~co_table.softmax)]
    for name in names:
        twin = name + "_sub"
        if twin not in names:
            continue
        for method in sorted(set(raw[raw.system == name].method) & set(raw[raw.system == twin].method)):
            a = raw[(raw.system == name) & (raw.method == method)].set_index("image")
            b = raw[(raw.system == twin) & (raw.method == method)].set_index("image")
            shared = a.index.intersection(b.index)  # the same test images under both models
            a, b = a.loc[shared], b.loc[shared]
            d, lo, hi = paired_auroc_difference_ci(a.co.to_numpy(float), b.co.to_numpy(float),
                                                   a.correct.to_numpy(bool), n_boot=n_boot, seed=seed,
                                                   positives_b=b.correct.to_numpy(bool))  # fmt: skip
            wrong_both = min(int((~a.correct.astype(bool)).sum()), int((~b.correct.astype(bool)).sum()))
            verdict = ("not estimable" if np.isnan(d) else "thin" if wrong_both < few_wrong
                       else "wider" if lo > 0 else "narrower" if hi < 0 else "undecided")  # fmt: skip
            pair_rows.append({"well-trained": name, "method": method, "images": len(shared), "AUROC well - sub": d,
                              "CI low": lo, "CI high": hi, "gap of the well-trained model": verdict})  # fmt: skip
    pairs = pd.DataFrame(pair_rows, columns=PAIR_COLUMNS)
    # every count below comes from this table: the cells with an estimate that is not thin
    estimable = pairs[~pairs["gap of the well-trained model"].isin(["not estimable", "thin"])]
    wider_cells = interval_cells(estimable, threshold=0.0, claimed="above")
    wider_verdict = cells_verdict(wider_cells)
    half_width = float(((estimable["CI high"] - estimable["CI low"]) / 2).median()) if len(estimable) else float("nan")
    if not len(pairs):
        wider_text = report.not_measured("no well-trained system has its _sub twin among the systems", start=True) + "."
    elif not len(estimable):
        wider_text = report.not_measured(f"none of the {len(pairs)} method-pair cells has {few_wrong} wrong "
                                         "predictions per model", start=True) + "."  # fmt: skip
    else:
        # per twin pair: its six method cells share the images and the two models, so they are not independent
        # tests; the direction is stated per pair (signs of the point estimates, and the cells whose interval decides)
        pair_parts = []
        for name_p, g_p in estimable.groupby("well-trained", sort=False):
            cells_p = interval_cells(g_p, threshold=0.0, claimed="above")
            n_pos = int((g_p["AUROC well - sub"] > 0).sum())
            lean = ("every point estimate positive" if n_pos == len(g_p) else "every point estimate negative"
                    if n_pos == 0 else f"{n_pos} of {len(g_p)} point estimates positive")  # fmt: skip
            pair_parts.append(f"{name_p} against {name_p}_sub: {lean}; wider in {cells_p.count('reproduced')}, "
                              f"narrower in {cells_p.count('not reproduced')}, undecided in "
                              f"{cells_p.count('inconclusive')} of {len(g_p)} methods")  # fmt: skip
        wider_text = (f"Per twin pair (its method cells share the images and both models, so they are not "
                      f"independent tests): {'; '.join(pair_parts)} (the median paired interval reaches "
                      f"{half_width:.2f} either side of its estimate); {len(pairs) - len(estimable)} cells are not "
                      f"estimable or thin. Verdict over the {len(estimable)} cells: {wider_verdict}."
                      + report.close_calls(estimable, 0.0, ["well-trained", "method"]))  # fmt: skip
    return {"pairs": pairs, "estimable": estimable, "n_wider": wider_cells.count("reproduced"),
            "n_narrower": wider_cells.count("not reproduced"), "n_undecided": wider_cells.count("inconclusive"),
            "verdict": wider_verdict, "text": wider_text}  # fmt: skip


def accuracy_study(pred_table: pd.DataFrame, ax_table: pd.DataFrame, n_boot: int, seed: int) -> dict:
    """The accuracy on x (+) h per system, method and AX process against the accuracy on x (``acc``); InputXGradient's
    change of accuracy per system (``ixg``, paired per image), its change against the other methods' (``ixg_vs``, point
    changes) and its correctness minus theirs on the same images (``ixg_own``); the verdicts, counts and sentences."""
    base_acc = pred_table.groupby("system").correct.mean()
    acc = ax_table.groupby(["system", "method", "AX"], sort=False)["correct after"].mean().reset_index()
    acc["accuracy on x"] = acc.system.map(base_acc)
    acc["change"] = acc["correct after"] - acc["accuracy on x"]
    n_ax_better, n_ax_worse = int((acc.change > 0).sum()), int((acc.change < 0).sum())
    ax_sentence = (f"Accuracy after AX (x + h or x * h) is above the accuracy on x in {n_ax_better} of {len(acc)} "
                   f"method-variant-system cells and below it in {n_ax_worse}.")  # fmt: skip
    range_parts = []
    for dataset in dict.fromkeys(s.split("/")[0] for s in acc.system):
        part = acc[(acc.system.str.split("/").str[0] == dataset) & (acc.AX == "sum")]
        range_parts.append(f"on {dataset}, {report.span(part['correct after'], '.2f', '-')} on x + h against "
                           f"{report.span(part['accuracy on x'], '.2f', '-')} on x")  # fmt: skip
    per_image = ax_table.merge(pred_table[["system", "image", "correct"]], on=["system", "image"])
    ixg_rows = []
    ixg_images = per_image[(per_image.method == "InputXGradient") & (per_image.AX == "sum")]
    for system, g in ixg_images.groupby("system", sort=False):
        change = g["correct after"].astype(float).to_numpy() - g["correct"].astype(float).to_numpy()
        mean, lo, hi = bootstrap_mean_ci(change, n_boot=n_boot, seed=seed)
        moved = int((change != 0).sum())
        # no prediction moved: the accuracy provably did not fall on these images (not an undecided interval)
        cell = "not reproduced" if moved == 0 else report.interval_verdict(lo, hi, 0.0, claimed="below")
        ixg_rows.append({"system": system, "images": len(g), "predictions changed": moved, "accuracy change": mean,
                         "CI low": lo, "CI high": hi,
                         "lower on x + h": {"reproduced": "yes", "not reproduced": "no", "inconclusive": "undecided",
                                            "not comparable": "n/a"}[cell],
                         "cell": cell})  # fmt: skip
    ixg = pd.DataFrame(ixg_rows, columns=["system", "images", "predictions changed", "accuracy change", "CI low",
                                          "CI high", "lower on x + h", "cell"])  # fmt: skip
    # is the drop InputXGradient's own? its change of accuracy (x + h) minus the mean change of the other methods
    sums = acc[acc.AX == "sum"]
    ixg_vs_rows = []
    for system, g in sums.groupby("system", sort=False):
        own, others = g[g.method == "InputXGradient"].change, g[g.method != "InputXGradient"].change
        if len(own) and len(others):
            ixg_vs_rows.append({"system": system, "IXG change": float(own.iloc[0]),
                                "others' mean change": others.mean(), "IXG minus others": float(own.iloc[0])
                                - others.mean(), "falls further than every other": bool(own.iloc[0] < others.min()),
                                "every method falls": bool((g.change < 0).all())})  # fmt: skip
    ixg_vs = pd.DataFrame(ixg_vs_rows, columns=["system", "IXG change", "others' mean change", "IXG minus others",
                                                "falls further than every other", "every method falls"])  # fmt: skip
    # the same question tested on the images: per image, IXG's correctness on x + h minus the other methods' mean
    # correctness on x + h (the accuracy on x cancels), mean over the images with a bootstrap interval against 0
    ixg_own_rows = []
    for system, g in per_image[per_image.AX == "sum"].groupby("system", sort=False):
        wide = g.pivot_table(index="image", columns="method", values="correct after", aggfunc="mean").astype(float)
        if "InputXGradient" not in wide.columns or wide.shape[1] < 2:
            continue
        diff = (wide["InputXGradient"] - wide.drop(columns="InputXGradient").mean(axis=1)).to_numpy()
        mean, lo, hi = bootstrap_mean_ci(diff, n_boot=n_boot, seed=seed)
        # no image where IXG and the others' mean differ: provably not below (not an undecided interval)
        cell = "not reproduced" if not (diff != 0).any() else report.interval_verdict(lo, hi, 0.0, claimed="below")
        # four outcomes: lower (the claim), higher (IXG degrades less), no difference (no image differs), undecided
        side = ("no difference" if not (diff != 0).any() else "lower" if cell == "reproduced"
                else "higher" if cell == "not reproduced" else "undecided")  # fmt: skip
        ixg_own_rows.append({"system": system, "images": len(diff), "IXG minus others": mean, "CI low": lo,
                             "CI high": hi, "IXG against the others": side, "cell": cell})  # fmt: skip
    ixg_own = pd.DataFrame(ixg_own_rows, columns=["system", "images", "IXG minus others", "CI low", "CI high",
                                                  "IXG against the others", "cell"])  # fmt: skip
    n_own_lower, n_own_higher, n_own_same, n_own_undecided = (
        int((ixg_own["IXG against the others"] == v).sum()) for v in ("lower", "higher", "no difference", "undecided")
    )
    n_ixg_worst = int(ixg_vs["falls further than every other"].sum())
    n_all_fall = int(ixg_vs["every method falls"].sum())
    n_ixg_unmoved = int((ixg["predictions changed"] == 0).sum())
    ixg_vs_text = ", ".join(
        f"{round(d, 2) + 0.0:+.2f} ({sys_})" for sys_, d in zip(ixg_vs.system, ixg_vs["IXG minus others"], strict=True)
    )
    if len(ixg_vs):
        ixg_specific = (f"Every method's accuracy falls on x + h (point changes) on {n_all_fall} of {len(ixg_vs)} "
                        f"systems, where a drop is not InputXGradient's alone; its change minus the mean change of the "
                        f"other methods is {ixg_vs_text}, and it falls further than every other method on "
                        f"{n_ixg_worst} of {len(ixg_vs)} systems. No InputXGradient prediction changes on "
                        f"{n_ixg_unmoved} of {len(ixg)} systems.")  # fmt: skip
    else:
        ixg_specific = (
            "How its drop compares with the other methods' is " + report.not_measured("no other method ran") + "."
        )
    n_ixg_lower = int((ixg.cell == "reproduced").sum())
    n_ixg_undecided = int((ixg.cell == "inconclusive").sum())
    # whether the drop is InputXGradient's own is a question only where its accuracy fell
    fell = ixg_own[ixg_own.system.isin(set(ixg[ixg.cell == "reproduced"].system))]
    fell_verdict = cells_verdict(fell.cell.tolist())
    n_fell_lower = int((fell["IXG against the others"] == "lower").sum())
    n_fell_higher = int((fell["IXG against the others"] == "higher").sum())
    n_fell_same, n_fell_undecided = (
        int((fell["IXG against the others"] == v).sum()) for v in ("no difference", "undecided")
    )
    if n_fell_higher == len(fell):
        not_own = "there its drop is not its own: the other methods' heatmaps cost more."
    else:
        not_own = ("on none of them is its drop shown to be its own" if n_fell_lower == 0 else
                   f"its drop is shown to be its own on only {n_fell_lower} of them") + (
            f" (no different on {n_fell_same}, undecided on {n_fell_undecided}).")  # fmt: skip
    if len(ixg_own):
        ixg_own_text = (
            f"Tested on the same images (each image's correctness after InputXGradient's heatmap minus its mean "
            f"correctness after the other methods' heatmaps, with a 95% bootstrap interval), InputXGradient's "
            f"accuracy is lower than the other methods' on {n_own_lower} of {len(ixg_own)} systems, higher (it "
            f"degrades accuracy less than they do) on {n_own_higher}, no different (no image differs) on {n_own_same} "
            f"and undecided on {n_own_undecided}. "
            + (f"On the {len(fell)} systems where its own accuracy falls, it is lower than the others' on "
               f"{n_fell_lower} and higher on {n_fell_higher}: "
               + {"reproduced": "there its drop is its own on every system.",
                  "partly": "there its drop is its own on some systems only.",
                  "not reproduced": not_own,
                  "inconclusive": "there the images do not decide whether its drop is its own.",
                  "not comparable": "the images do not decide whether its drop is its own."}[fell_verdict]
               if len(fell) else "Its own accuracy falls on no system, so there is no drop to attribute.")
        )  # fmt: skip
    else:
        ixg_own_text = ("Whether its drop is its own is "
                        + report.not_measured("no other method ran on the same images") + ".")  # fmt: skip
    return {"acc": acc, "base_acc": base_acc, "ixg": ixg, "ixg_vs": ixg_vs, "ixg_own": ixg_own,
            "ixg_verdict": cells_verdict(ixg.cell.tolist()), "ixg_own_verdict": cells_verdict(ixg_own.cell.tolist()),
            "n_own_lower": n_own_lower, "n_own_higher": n_own_higher, "n_own_same": n_own_same,
            "n_own_undecided": n_own_undecided, "n_ixg_worst": n_ixg_worst, "n_all_fall": n_all_fall,
            "ixg_vs_text": ixg_vs_text, "n_ixg_lower": n_ixg_lower, "n_ixg_undecided": n_ixg_undecided,
            "ixg_own_text": ixg_own_text, "ax_sentence": ax_sentence,
            "acc_ranges": "Over the methods and models: " + "; ".join(range_parts) + ".",
            "ixg_sentence": f"InputXGradient with x + h lowers the accuracy (interval below 0) on {n_ixg_lower} of "
                            f"{len(ixg)} systems; {report.numbered(n_ixg_undecided, 'is', 'are')} undecided. "
                            f"{ixg_specific} {ixg_own_text}"}  # fmt: skip


def network_input_study(model_input_table: pd.DataFrame, headline: pd.DataFrame, acc: pd.DataFrame,
                        base_acc: pd.Series, n_boot: int, seed: int) -> dict:  # fmt: skip
    """For the systems with a normalisation: the paper's variant (heatmap computed on and added to the network's
    normalised input) against the pixel variant, accuracy and AUROC per method; the table (None without such a
    system) and the sentence."""
    normalised = sorted(set(model_input_table.system)) if len(model_input_table) else []
    if not normalised:
        return {"normalised": [], "table": None, "text": "The network-input variant is " + report.not_measured(
            "no system normalises its inputs, so for each the network's input is the pixel and "
            "the two variants are one computation") + "."}  # fmt: skip
    mi_rows = []
    for (system, method), g in model_input_table.groupby(["system", "method"], sort=False):
        auc_mi = auroc_ci(g.co.to_numpy(float), g.correct.to_numpy(bool), n_boot=n_boot, seed=seed)
        pix = headline[(headline.system == system) & (headline.method == method)].iloc[0]
        acc_pix = acc[(acc.system == system) & (acc.method == method) & (acc.AX == "sum")]["correct after"].iloc[0]
        mi_rows.append({"system": system, "method": method, "accuracy on x": base_acc[system],
                        "accuracy, pixels": acc_pix, "accuracy, network input": g["correct after"].mean(),
                        "AUROC, pixels": pix.AUROC, "AUROC, network input": auc_mi[0], "CI low": auc_mi[1],
                        "CI high": auc_mi[2]})  # fmt: skip
    mi = pd.DataFrame(mi_rows)
    n_mi_higher = int((mi["accuracy, network input"] > mi["accuracy, pixels"]).sum())
    return {"normalised": normalised, "table": mi,
            "text": f"For the systems with a normalisation ({', '.join(normalised)}), accuracy on x + h is higher with "
                    f"the heatmap added to the network's input than to the pixels for {n_mi_higher} of {len(mi)} "
                    "methods."}  # fmt: skip


#: the scale study's "keeps the accuracy": within this of the accuracy on x
WITHIN = 0.05
#: the scale study's table
SCALE_COLUMNS = ["method", "scale", "accuracy on x + s h", "accuracy, shuffled h", "difference", "diff CI low",
                 "diff CI high", "the heatmap's layout", "accuracy, rolled h", "rolled CI low", "rolled CI high",
                 "against rolled h", "AUROC", "CI low", "CI high"]  # fmt: skip
SCALE_FORMATS = {"scale": "{:g}", "accuracy on x + s h": "{:.2f}", "accuracy, shuffled h": "{:.2f}",
                 "difference": "{:.2f}", "diff CI low": "{:.2f}", "diff CI high": "{:.2f}",
                 "accuracy, rolled h": "{:.2f}",
                 "AUROC": "{:.3f}", "CI low": "{:.3f}", "CI high": "{:.3f}"}  # fmt: skip


def scale_study(scaled_table: pd.DataFrame, ax_table: pd.DataFrame, acc_x: float, chance: float, show_system: str,
                scales: Sequence[float], n_boot: int, seed: int, within: float = WITHIN) -> dict:  # fmt: skip
    """On ``show_system``, x + s h for each scale: the accuracy, against the same values at shuffled positions and
    against the heatmap moved by half the image (paired per image), and the CO score's AUROC (``table``); at s = 1 it
    must be the tables' x + h (asserted); the layout judged per method at the largest scale off ``chance``; the
    sentences and the predict-first answer (``auc_move``: does the AUROC rise as s shrinks)."""
    sc_all = scaled_table[scaled_table.system == show_system]
    sc = sc_all[sc_all.heatmap == "method"]
    # each image under the heatmap and under the control (the same values at shuffled positions), at the same scale
    paired_sc = sc.merge(sc_all[sc_all.heatmap == "shuffled"][["image", "method", "scale", "correct after"]],
                         on=["image", "method", "scale"], suffixes=("", " (shuffled)"))  # fmt: skip
    # and under the rolled control (the heatmap moved by half the image: its smoothness kept; images only)
    paired_sc = paired_sc.merge(sc_all[sc_all.heatmap == "rolled"][["image", "method", "scale", "correct after"]]
                                .rename(columns={"correct after": "correct after (rolled)"}),
                                on=["image", "method", "scale"], how="left")  # fmt: skip
    layout_words = {"reproduced": "costs more", "not reproduced": "costs less", "inconclusive": "undecided",
                    "not comparable": "n/a"}  # fmt: skip
    scale_rows = []
    for (method, scale), g in paired_sc.groupby(["method", "scale"], sort=False):
        auc = auroc_ci(g.co.to_numpy(float), g.correct.to_numpy(bool), n_boot=n_boot, seed=seed)
        diff = g["correct after"].astype(float).to_numpy() - g["correct after (shuffled)"].astype(float).to_numpy()
        d_mean, d_lo, d_hi = bootstrap_mean_ci(diff, n_boot=n_boot, seed=seed)
        # no image differs: the two accuracies are provably equal on these images (not an undecided interval)
        layout = ("no difference" if not (diff != 0).any()
                  else layout_words[report.interval_verdict(d_lo, d_hi, 0.0, "below")])  # fmt: skip
        rolled_after = g["correct after (rolled)"].astype(float).to_numpy()
        if np.isnan(rolled_after).any():
            acc_rolled, layout_rolled, r_lo, r_hi = float("nan"), "n/a", float("nan"), float("nan")
        else:
            diff_r = g["correct after"].astype(float).to_numpy() - rolled_after
            _, r_lo, r_hi = bootstrap_mean_ci(diff_r, n_boot=n_boot, seed=seed)
            acc_rolled = float(rolled_after.mean())
            layout_rolled = ("no difference" if not (diff_r != 0).any()
                             else layout_words[report.interval_verdict(r_lo, r_hi, 0.0, "below")])  # fmt: skip
        scale_rows.append({"method": method, "scale": float(scale),
                           "accuracy on x + s h": g["correct after"].astype(float).mean(),
                           "accuracy, shuffled h": g["correct after (shuffled)"].astype(float).mean(),
                           "difference": d_mean, "diff CI low": d_lo, "diff CI high": d_hi,
                           "the heatmap's layout": layout, "accuracy, rolled h": acc_rolled, "rolled CI low": r_lo,
                           "rolled CI high": r_hi, "against rolled h": layout_rolled, "AUROC": auc[0],
                           "CI low": auc[1], "CI high": auc[2]})  # fmt: skip
    scale_df = pd.DataFrame(scale_rows, columns=SCALE_COLUMNS)
    if 1.0 in scales and len(sc):  # s = 1 is the tables' x + h: the same computation, so the same predictions
        one = sc[sc.scale == 1.0].merge(ax_table[(ax_table.system == show_system) & (ax_table.AX == "sum")],
                                        on=["image", "method"], suffixes=("", " (table)"))  # fmt: skip
        assert len(one) and (one["correct after"].astype(bool) == one["correct after (table)"].astype(bool)).all()
    out = {"table": scale_df, "paired": paired_sc, "sc": sc, "auc_move": "not measured", "ixg_scale_text": ""}
    if len(scale_df):
        s_min, s_max = scale_df.scale.min(), scale_df.scale.max()
        acc_by = scale_df.pivot(index="method", columns="scale", values="accuracy on x + s h")
        auc_by = scale_df.pivot(index="method", columns="scale", values="AUROC")
        n_methods = len(acc_by)
        n_kept = int((acc_by[s_min] >= acc_x - within).sum())
        n_lost = int((acc_by[s_max] < acc_x - within).sum())
        n_fall = int((acc_by.diff(axis=1).iloc[:, 1:] <= 0).all(axis=1).sum())
        both = auc_by[[s_min, s_max]].dropna() if s_max > s_min else auc_by.iloc[:0]
        n_auc_kept = int((both[s_min] >= both[s_max]).sum())
        if n_lost == 0:
            lead = f"no method loses more than {within:.2f} of accuracy even at s = {s_max:g}"
        elif s_max == s_min:
            lead = f"with one scale, s = {s_max:g}, the study shows no trend"
        elif n_fall == n_methods:
            lead = "the accuracy falls as s grows (it never rises from one scale to the next) for every method"
        else:
            lead = f"the accuracy never rises from one scale to the next for {n_fall} of {n_methods} methods"
        at_max = scale_df[scale_df.scale == s_max]["the heatmap's layout"]
        max_more, max_less = int((at_max == "costs more").sum()), int((at_max == "costs less").sum())
        # the layout is judged per method at the largest scale at which neither accuracy (heatmap, shuffled) lies
        # within `within` of chance: where both sit at chance there is no accuracy left to lose, and no difference
        off_chance = scale_df[(scale_df["accuracy on x + s h"] > chance + within)
                              & (scale_df["accuracy, shuffled h"] > chance + within)]  # fmt: skip
        judged = off_chance.sort_values("scale").groupby("method", sort=False).tail(1)
        at_chance = [m for m in acc_by.index if m not in set(judged.method)]
        words = judged["the heatmap's layout"]
        n_more, n_less = int((words == "costs more").sum()), int((words == "costs less").sum())
        n_same = len(judged) - n_more - n_less
        # shuffling removes the heatmap's smoothness as well as its placement: this comparison alone concludes
        # nothing about where the heatmap falls; the rolled one below (smoothness kept) does, where the two agree
        layout_end = (": the loss comes with the perturbation's size and values, not with their arrangement"
                      if len(judged) and n_same == len(judged) else
                      " (shuffling removes the heatmap's smoothness as well as its placement)" if len(judged)
                      else "")  # fmt: skip
        judged_at = ", ".join(f"{m} {v:g}" for m, v in zip(judged.method, judged.scale, strict=True))
        # the same scales, against the heatmap moved by half the image: where it falls, its smoothness kept
        words_r = judged["against rolled h"]
        n_more_r, n_less_r = int((words_r == "costs more").sum()), int((words_r == "costs less").sum())
        n_judged_r = int((words_r != "n/a").sum())
        agree = judged[(words_r != "n/a") & (words == words_r) & words.isin(["costs more", "costs less"])]
        rolled_text = (
            f" Against the heatmap moved by half the image (the same values and smoothness elsewhere), at the same "
            f"scales, it costs more for {n_more_r} of {n_judged_r} methods, less for {n_less_r}, and no measurably "
            f"different amount for {n_judged_r - n_more_r - n_less_r}"
            + (": where the shuffled control finds the heatmap costing more, the rolled one finds no difference, so "
               "that cost comes with the perturbation's smoothness, not with where it falls." if n_more and not n_more_r
               and not n_less_r else
               f". Both controls agree for {len(agree)} of {n_judged_r} methods ({', '.join(agree.method)}): for "
               "them, at these scales, where the heatmap falls changes what it costs, its smoothness kept; smaller "
               "scales are judged in the table." if len(agree) else
               f". The rolled control alone finds that where the heatmap falls changes its cost for "
               f"{n_more_r + n_less_r} methods; the shuffled one does not confirm it for any of them, so placement is "
               "not shown to matter by both." if n_more_r + n_less_r else
               ". The two controls agree for no method, so where the heatmap falls is not shown to matter.")
            if n_judged_r else ""
        )  # fmt: skip
        layout_text = (
            (f"Judged per method at the largest s at which neither accuracy lies within {within:.2f} of chance "
             f"({chance:.3f}; s = {judged_at}), the heatmap costs more accuracy than its own values at shuffled "
             f"positions for {n_more} of {len(judged)} methods, less for {n_less}, and no measurably different amount "
             f"for {n_same} (paired intervals over the images){layout_end}." if len(judged)
             else "The heatmap's layout is " + report.not_measured(f"every accuracy lies within {within:.2f} of "
                                                                   "chance") + ".")
            + (f" Near chance at every scale, so not judged: {', '.join(at_chance)}." if at_chance and len(judged)
               else "")
            + f" (At s = {s_max:g} itself: costs more for {max_more}, less for {max_less}, of {len(at_max)}.)"
            + rolled_text
        )  # fmt: skip
        out["text"] = (
            f"On {show_system} (accuracy {acc_x:.2f} on x), {lead}. With s = {s_min:g} the accuracy stays within "
            f"{within:.2f} of the accuracy on x for {n_kept} of {n_methods} methods "
            f"({report.span(acc_by[s_min], '.2f', '-')}); with s = {s_max:g} it is "
            f"{report.span(acc_by[s_max], '.2f', '-')}, more than {within:.2f} below for {n_lost} of {n_methods}. "
            f"{layout_text} "
            + (f"The AUROC of the CO score at s = {s_min:g} is at least its value at s = {s_max:g} for {n_auc_kept} "
               f"of {len(both)} methods (point estimates)." if len(both)
               else "The AUROC across scales is " + report.not_measured("fewer than five wrong or five correct "
                                                                        "predictions, or one scale") + ".")
        )  # fmt: skip
        out["summary"] = f"In the scale study on {show_system}, {lead}. {layout_text}"
        if "InputXGradient" in acc_by.index and s_min < 1:
            small = [v for v in acc_by.columns if v < 1]
            out["ixg_scale_text"] = (f"in the scale study on {show_system}, InputXGradient with x + s h has an "
                                     "accuracy of "
                                     + ", ".join(f"{acc_by.loc['InputXGradient', v]:.2f} at s = {v:g}" for v in small)
                                     + f" against {acc_x:.2f} on x")  # fmt: skip
        out.update(s_min=s_min, s_max=s_max)
    else:
        out["text"] = "The scale study is " + report.not_measured(f"no method ran on {show_system}") + "."
        out["summary"] = out["text"]
    # the predict-first exercise: the CO score's AUROC at the smallest scale against the largest, per method
    if len(scale_df) and s_max > s_min and len(both):
        n_auc_higher, n_auc_lower = int((both[s_min] > both[s_max]).sum()), int((both[s_min] < both[s_max]).sum())
        out["auc_move"] = auc_move = ("higher" if n_auc_higher > len(both) / 2 else "lower"
                                      if n_auc_lower > len(both) / 2 else "mixed")  # fmt: skip
        out["predict_text"] = (
            f"On {show_system}, the AUROC of the CO score at s = {s_min:g} is larger than at s = {s_max:g} for "
            f"{n_auc_higher} of {len(both)} methods and smaller for {n_auc_lower} (point estimates): "
            + {"higher": "by these, the smaller perturbation separates correct from wrong predictions better.",
               "lower": "by these, the larger perturbation separates correct from wrong predictions better.",
               "mixed": "by these, neither scale separates better for most methods."}[auc_move]
        )  # fmt: skip
    else:
        out["predict_text"] = "The AUROC across scales is " + report.not_measured(
            f"one scale only, or fewer than five wrong or five correct predictions on {show_system}") + "."  # fmt: skip
    return out


def scale_tested(scale: dict, n_boot: int, seed: int) -> str:
    """The predict-first solution: per method, the AUROC at the smallest scale minus that at the largest on the same
    images (paired bootstrap), counted; checks that the glued direction and the paired estimates match the table."""
    scale_df, paired_sc = scale["table"], scale["paired"]
    s_min, s_max = scale.get("s_min"), scale.get("s_max")
    auc_at = (scale_df.pivot(index="method", columns="scale", values="AUROC")[[s_min, s_max]].dropna()
              if len(scale_df) and s_max > s_min else pd.DataFrame())  # fmt: skip
    if not len(auc_at):
        return "The paired test is " + report.not_measured("one scale only, or no AUROC at both ends") + "."
    n_up = int((auc_at[s_min] > auc_at[s_max]).sum())
    assert (scale["auc_move"] == "higher") == (n_up > len(auc_at) / 2), (scale["auc_move"], n_up, len(auc_at))
    scale_tests = []
    for method in auc_at.index:
        at_small = paired_sc[(paired_sc.method == method) & (paired_sc.scale == s_min)]
        at_large = paired_sc[(paired_sc.method == method) & (paired_sc.scale == s_max)][["image", "co"]]
        pair = at_small.merge(at_large, on="image", suffixes=("", " at the largest s"))
        d_auc = paired_auroc_difference_ci(pair.co.to_numpy(float), pair["co at the largest s"].to_numpy(float),
                                           pair.correct.to_numpy(bool), n_boot=n_boot, seed=seed)  # fmt: skip
        # the same images as the table's AUROCs: the paired estimate is their difference
        assert abs(d_auc[0] - (auc_at.loc[method, s_min] - auc_at.loc[method, s_max])) < 1e-9, (method, d_auc)
        scale_tests.append(report.interval_verdict(d_auc[1], d_auc[2], 0.0, "above"))
    n_sig_up, n_sig_down = scale_tests.count("reproduced"), scale_tests.count("not reproduced")
    return (f"Tested on the same images (a paired bootstrap interval of the AUROC at s = {s_min:g} minus the "
            f"AUROC at s = {s_max:g}), it is larger for {n_sig_up} of {len(scale_tests)} methods, smaller for "
            f"{n_sig_down}, and undecided for {len(scale_tests) - n_sig_up - n_sig_down}.")  # fmt: skip


def paper_scale_study(sc: pd.DataFrame, scales: Sequence[float], show_system: str, acc_x: float, n_boot: int,
                      seed: int) -> dict:  # fmt: skip
    """InputXGradient's two accuracy claims at the paper's perturbation size (the ``ax_scales`` value nearest
    :data:`PAPER_SCALE`, within 0.1) on ``show_system``: alone against the accuracy on x and against the other
    methods, each paired per image; the cells, the card's texts and the sentence."""
    near_paper = [v for v in scales if abs(v - PAPER_SCALE) <= 0.1]
    s_paper = min(near_paper, key=lambda v: abs(v - PAPER_SCALE)) if near_paper else None
    at_paper = sc[sc.scale.astype(float) == s_paper] if s_paper is not None else sc.iloc[:0]
    paper_cells = {"alone": "not comparable", "against the others": "not comparable"}
    paper_ours = {k: report.not_measured("no ax_scales value within 0.1 of 0.25, or no InputXGradient in the scale "
                                         "study") for k in paper_cells}  # fmt: skip
    ixg_at = at_paper[at_paper.method == "InputXGradient"].sort_values("image")
    if len(ixg_at):
        change_p = ixg_at["correct after"].astype(float).to_numpy() - ixg_at.correct.astype(float).to_numpy()
        m_p, lo_p, hi_p = bootstrap_mean_ci(change_p, n_boot=n_boot, seed=seed)
        paper_cells["alone"] = (
            "not reproduced" if not (change_p != 0).any() else report.interval_verdict(lo_p, hi_p, 0.0, "below")
        )
        paper_ours["alone"] = (f"{show_system}, s = {s_paper:g}: accuracy "
                               f"{ixg_at['correct after'].astype(float).mean():.2f} against {acc_x:.2f} on x, paired "
                               f"change {m_p:+.2f} [{lo_p:+.2f}, {hi_p:+.2f}]")  # fmt: skip
        wide_p = at_paper.assign(after=at_paper["correct after"].astype(float)).pivot_table(
            index="image", columns="method", values="after", aggfunc="mean"
        )
        if wide_p.shape[1] >= 2:
            diff_p = (wide_p["InputXGradient"] - wide_p.drop(columns="InputXGradient").mean(axis=1)).to_numpy()
            m_o, lo_o, hi_o = bootstrap_mean_ci(diff_p, n_boot=n_boot, seed=seed)
            paper_cells["against the others"] = ("not reproduced" if not (diff_p != 0).any()
                                                 else report.interval_verdict(lo_o, hi_o, 0.0, "below"))  # fmt: skip
            others = report.span(wide_p.drop(columns="InputXGradient").mean(), ".2f", "-")
            paper_ours["against the others"] = (f"{show_system}, s = {s_paper:g}: IXG's correctness minus the other "
                                                f"methods' mean {m_o:+.2f} [{lo_o:+.2f}, {hi_o:+.2f}] (their "
                                                f"accuracies {others})")  # fmt: skip
    paper_words = {"reproduced": "lowers the accuracy (interval below 0)",
                   "not reproduced": "does not lower the accuracy",
                   "inconclusive": "leaves the change of accuracy undecided (interval spans 0)",
                   "not comparable": "is not measured"}  # fmt: skip
    text = (
        (f"At s = {s_paper:g} on {show_system}, InputXGradient's heatmap {paper_words[paper_cells['alone']]} against "
         f"the accuracy on x ({paper_ours['alone']}), and against the other methods' heatmaps it "
         f"{paper_words[paper_cells['against the others']]} ({paper_ours['against the others']}).")
        if len(ixg_at) else "The test at the paper's scale is " + paper_ours["alone"] + "."
    )  # fmt: skip
    return {"cells": paper_cells, "ours": paper_ours, "measured": bool(len(ixg_at)), "text": text}


# --- the card ----------------------------------------------------------------------------------------------------


def card_claims(gap: dict, control: dict, ranking: dict, twins: dict, accuracy: dict, paper: dict, scale: dict,
                show_system: str, few_wrong: int) -> list[dict]:  # fmt: skip
    """The card's claims, from the studies' results."""
    separating, ctrl_counts = gap["separating"], control["counts"]
    ixg, ixg_vs, ixg_own = accuracy["ixg"], accuracy["ixg_vs"], accuracy["ixg_own"]
    ixg_scale_text = scale["ixg_scale_text"]
    n_ixg_not_lower = int((ixg.cell == "not reproduced").sum())
    return [
        {"artefact": "Figs. 2, 3, 7-16",
         "claim": "CO scores of correct and wrong predictions separate beyond chance (correct higher)",
         "paper": "Fig. 2 (ResNet34_1, pneumonia): 'all distributions show gaps'; A.3: 'some scores clearly "
                  "demonstrate distinct gaps'; ImageNet 'shows a smaller gap'",
         "ours": f"AUROC CI above 0.5 in {gap['n_sep']} of {len(separating)} cells, below in {gap['n_rev']}; AUROC "
                 f"{report.span(separating.AUROC, '.3f', '-')}, median {separating.AUROC.median():.3f}; AUROC >= "
                 f"{LARGE_AUROC:g} in {gap['n_large']} of {len(separating)} cells; heatmap controls on {show_system} "
                 "(s = 1): "
                 + ("; ".join(f"AUROC with h above {OWN[k]} for {c['separates better']}, below for "
                              f"{c['separates worse']}, of {c['n']} methods" for k, c in ctrl_counts.items())
                    or report.not_measured(control["reason"]))
                 if len(separating) else report.not_measured(f"no system has {few_wrong} wrong predictions"),
         "verdict": cells_verdict(gap["separate_cells"]),
         "test": f"AUROC of the CO score (raw, x + h) per method-system cell with >= {few_wrong} wrong predictions "
                 "(thin cells left out), 95% bootstrap CI against 0.5 (beyond chance, not a size of gap); reproduced "
                 "if every cell lies above, partly if at least half, not reproduced if fewer than half lie above and "
                 "at least half below, else inconclusive. Much weaker than the paper's 'distinct gaps', which the row "
                 "on AUROC >= 0.9 tests; the heatmap controls (the same values at shuffled positions; the heatmap "
                 "moved by half the image; paired AUROC differences) are reported in ours, not part of the verdict"},
        {"artefact": "sec. 4.1", "claim": "the best-separating method depends on the dataset",
         "paper": "Saliency (ImageNet), Deconvolution (X-rays)",
         "ours": (f"established best: {ranking['listed_words']}; " if ranking["listed"] else "no established best; ")
                 + (f"one eligible system only (not measured): {', '.join(ranking['one_system'])}; "
                    if ranking["one_system"] else "")
                 + f"{ranking['n_distinct']} distinct, {ranking['n_tie']} ties, {ranking['n_few']} systems with too "
                 "few wrong predictions",
         "verdict": ranking["dependence"],
         "test": f"per system (raw, x + h): the best |AUROC - 0.5| is distinct if the paired bootstrap 95% CI of best "
                 f"minus runner-up lies above 0 (chosen and tested on the same images, no correction for the choice); "
                 f"systems with < {few_wrong} wrong predictions excluded; a dataset's best is established when more "
                 f"than half of its eligible systems, at least two, name it; reproduced if two datasets' established "
                 f"bests differ, not reproduced if they are all the same, inconclusive if fewer than two datasets "
                 f"have one, not comparable if fewer than two have an eligible system"},
        {"artefact": "sec. 4.1 (Figs. 2, 3A)", "claim": "better-trained models give wider gaps",
         "paper": "one model pair, by eye",
         "ours": f"wider in {twins['n_wider']}, narrower in {twins['n_narrower']}, undecided in "
                 f"{twins['n_undecided']} of {len(twins['estimable'])} cells"
                 if len(twins["estimable"]) else report.not_measured("no estimable well-trained/_sub pair"),
         "verdict": twins["verdict"],
         "test": f"AUROC(well-trained) - AUROC(_sub) per method (raw, x + h) on the same images, paired bootstrap 95% "
                 f"CI against 0 (images resampled once for both models); cells where either model has < {few_wrong} "
                 f"wrong predictions left out; reproduced if every cell lies above, partly if at least half, not "
                 f"reproduced if fewer than half lie above and at least half below, else inconclusive"},
        {"artefact": "appendix Table 2", "claim": "InputXGradient (x + h) degrades accuracy",
         "paper": "every dataset and model",
         "ours": f"lower on {accuracy['n_ixg_lower']}, not lower on {n_ixg_not_lower}, undecided on "
                 f"{accuracy['n_ixg_undecided']} of {len(ixg)} systems; every method's accuracy falls on "
                 f"{accuracy['n_all_fall']} of {len(ixg_vs)} systems; IXG's change minus the other methods' mean "
                 f"change: {accuracy['ixg_vs_text'] or report.not_measured('no other method ran')}; IXG falls "
                 f"further than every other method on {accuracy['n_ixg_worst']}"
                 + (f"; {ixg_scale_text}" if ixg_scale_text else ""),
         "verdict": accuracy["ixg_verdict"],
         "test": "per system: mean paired change of correctness (x + h minus x), 95% bootstrap CI against 0 (no "
                 "changed prediction counts as not lower); reproduced if every system lies below, partly if at least "
                 "half, not reproduced if fewer than half lie below and at least half lie above 0 or have no changed "
                 "prediction, else inconclusive. InputXGradient's "
                 "drop is tested alone here; the next claim tests it against the other methods. Decided at s = 1 in "
                 "pixel space, about four times the paper's v2 perturbation (net(normalize(x) + h), sigma near 0.23; "
                 "the ours column says on how many systems every method lowers the accuracy): the rows at s near 0.25 "
                 "test the paper's size on one system"},
        {"artefact": "appendix Table 2",
         "claim": "InputXGradient (x + h) degrades accuracy more than the other methods",
         "paper": "IXG has the lowest accuracy after x + h in 5 of 8 rows of appendix Table 2 (not on COVID, "
                  "credit-card fraud or dry beans, where LayerGradCam, Deconvolution, GuidedBackprop or DeepLift is "
                  "lower); 'more than the other methods' is our reading of 'some other methods retain their "
                  "classification accuracy'",
         "ours": f"lower than the others on {accuracy['n_own_lower']}, higher (degrades less) on "
                 f"{accuracy['n_own_higher']}, no different on {accuracy['n_own_same']}, undecided on "
                 f"{accuracy['n_own_undecided']} of {len(ixg_own)} systems (IXG minus the others' mean correctness: "
                 + ", ".join(f"{r['IXG minus others']:+.2f} [{r['CI low']:+.2f}, {r['CI high']:+.2f}] {r['system']}"
                             for _, r in ixg_own.iterrows()) + ")"
                 if len(ixg_own) else report.not_measured("no other method ran on the same images"),
         "verdict": accuracy["ixg_own_verdict"],
         "test": "per system: per image, InputXGradient's correctness on x + h minus the mean correctness of the "
                 "other methods on x + h (same images; the accuracy on x cancels), mean with a 95% bootstrap CI "
                 "against 0 (no image where they differ counts as not lower); reproduced if every system lies below, "
                 "partly if at least half, not reproduced if fewer than half lie below and at least half lie above 0 "
                 "or have no image where they differ, else inconclusive. Decided "
                 "at s = 1 in pixel space, about four times the paper's v2 perturbation: see the row at s near 0.25"},
        {"artefact": "appendix Table 2",
         "claim": "InputXGradient degrades accuracy at the paper's size (x + s h, s near 0.25)",
         "paper": "every dataset and model, heatmap added to the normalised input (v2 code: x + sigma h in pixel "
                  "units)",
         "ours": paper["ours"]["alone"] + ("; one system (the paper claims every dataset and model)"
                                           if paper["measured"] else ""),
         "verdict": single_system_verdict(paper["cells"]["alone"], claim_about_every=True),
         "test": "on show_system only (the scale study), s the ax_scales value nearest 0.25 (within 0.1, else not "
                 "comparable): per image, correctness on x + s h minus on x, mean with a 95% bootstrap CI against 0; "
                 "reproduced if it lies below, not reproduced if above or if no prediction moves, else inconclusive; "
                 "one system for a claim about every dataset and model, so reproduced reads partly"},
        {"artefact": "appendix Table 2",
         "claim": "InputXGradient degrades accuracy more than the other methods at the paper's size (x + s h, s near "
                  "0.25)",
         "paper": "IXG has the lowest accuracy after x + h in 5 of 8 rows of appendix Table 2",
         "ours": paper["ours"]["against the others"],
         "verdict": single_system_verdict(paper["cells"]["against the others"], claim_about_every=False),
         "test": "on show_system only, s as in the row above: per image, InputXGradient's correctness on x + s h "
                 "minus the other methods' mean correctness on x + s h, mean with a 95% bootstrap CI against 0; "
                 "reproduced if it lies below, not reproduced if above or if no image differs, else inconclusive; one "
                 "system for a claim about most datasets (5 of 8 rows), so reproduced reads partly and not reproduced "
                 "inconclusive"},
        {"artefact": "appendix A.3 (Figs. 7-16)",
         "claim": "CO scores of correct and wrong predictions show distinct gaps (AUROC of at least 0.9)",
         "paper": "A.3: 'some scores clearly demonstrate distinct gaps'; Fig. 2: 'all distributions show gaps'",
         "ours": gap["distinct_ours"],
         "verdict": gap["distinct_verdict"],
         "test": f"AUROC of the CO score (raw, x + h) per method-system cell with >= {few_wrong} wrong predictions "
                 "(thin cells left out), 95% bootstrap CI against 0.9; reproduced if every cell lies above, partly if "
                 "at least half, not reproduced if fewer than half lie above and at least half below, else "
                 "inconclusive (the paper's 'some scores' is met by any cell above: see ours)"},
    ]  # fmt: skip


def card_settings(loaded, names: Sequence[str], gax_images: int, normalised: Sequence[str], show_system: str,
                  scales: Sequence[float]) -> list[tuple[str, str, str]]:  # fmt: skip
    """The card's settings rows: the paper's against this run's."""
    return [
        ("data", "ImageNet, chest X-ray pneumonia (+ COVID, fraud, dry beans)",
         ", ".join(dict.fromkeys(s.spec.dataset for s in loaded))),
        ("models", "ResNet34, AlexNet (pretrained / fine-tuned, _sub at 80%)", ", ".join(names)),
        ("inputs", "test sets", f"first {gax_images} test inputs per system (capped by the split)"),
        ("methods", "six captum methods, heatmap for the predicted class",
         "the same six (LayerGradCam skipped without a convolution)"),
        ("where h is added", "the network's normalised input (reference code)",
         "pixels [0, 1] in every table" + (f"; network input also for {', '.join(normalised)}" if normalised else "")
         + f"; scale study x + s h (and h at shuffled positions, and h moved by half the image) on {show_system}, "
         f"s = {', '.join(f'{v:g}' for v in scales)}"),
    ]  # fmt: skip


def summary_ax(accuracy: dict, scale: dict, paper: dict) -> str:
    """The summary's sentence on the accuracy after AX and InputXGradient."""
    ixg, ixg_vs = accuracy["ixg"], accuracy["ixg_vs"]
    ixg_scale_text = scale["ixg_scale_text"]
    # of the systems where InputXGradient's interval lies below 0, those where every method's accuracy falls
    lowered = set(ixg[ixg.cell == "reproduced"].system) & set(ixg_vs.system)
    n_all_fall_lowered = int(ixg_vs[ixg_vs.system.isin(lowered)]["every method falls"].sum())
    return (f"InputXGradient with x + h lowers the accuracy on {accuracy['n_ixg_lower']} of {len(ixg)} systems"
            + (f"; every method's accuracy falls (point changes) on {n_all_fall_lowered} of the "
               f"{len(lowered)} of them where the other methods ran" if lowered else "")
            + f", and InputXGradient falls further than every other method on {accuracy['n_ixg_worst']} of "
            f"{len(ixg_vs)}. {accuracy['ixg_own_text']} "
            + (f"{ixg_scale_text[0].upper()}{ixg_scale_text[1:]}. " if ixg_scale_text else "")
            + f"{paper['text']} {scale['summary']}")  # fmt: skip


# --- the exercises -----------------------------------------------------------------------------------------------

#: why the gap changes as it does without the label (exercise 1)
KAPPA_REASONS = {
    "shrinks": "The part of the gap that goes is what the label brings; the part that stays needs no label (a "
               "hypothesis for it: the model responds differently to its own heatmap on right and wrong predictions).",
    "grows": "Without the label the separation is larger: here the label's part works against the gap.",
    "survives": "The label adds no measurable separation here; the hypothesis that the gap comes from the model's own "
                "response to its heatmap is not contradicted.",
    "vanishes": "Without the label no separation beyond chance is left: the measurable gap needs the label.",
    "reverses": "Without the label the wrong predictions score higher: the direction of the gap needs the label.",
    "has no gap to start from": "With kappa from the truth the AUROC's interval does not lie above 0.5, so there is "
                                "no gap for the label to explain.",
    "not measured": "",
}  # fmt: skip


def kappa_study(co_truth: np.ndarray, co_pred: np.ndarray, right: np.ndarray, system, device, n_boot: int,
                seed: int) -> dict:  # fmt: skip
    """Exercise 1: the CO score's AUROC with kappa from the truth against kappa from the prediction on the same images
    (``right``: correctness), and the label-free score against the model's max softmax probability on x; the outcome
    (the gap *survives*, *shrinks*, *grows*, *vanishes*, *reverses*, or there is no gap to start from) and the
    sentences."""
    auc_truth = auroc_ci(co_truth, right, n_boot=n_boot, seed=seed)
    auc_pred = auroc_ci(co_pred, right, n_boot=n_boot, seed=seed)
    kappa_diff = paired_auroc_difference_ci(co_truth, co_pred, right, n_boot=n_boot, seed=seed)
    if np.isnan(auc_pred[0]):
        outcome = "not measured"
        text = report.not_measured(f"{system.name} has fewer than five wrong or five correct predictions among "
                                   f"these {len(right)} images")  # fmt: skip
        summary = "What kappa's label adds is " + text + "."
    else:
        truth_above = report.interval_verdict(auc_truth[1], auc_truth[2], 0.5, "above") == "reproduced"
        pred_above = report.interval_verdict(auc_pred[1], auc_pred[2], 0.5, "above") == "reproduced"
        truth_higher = report.interval_verdict(kappa_diff[1], kappa_diff[2], 0.0, "above") == "reproduced"
        truth_lower = report.interval_verdict(kappa_diff[1], kappa_diff[2], 0.0, "above") == "not reproduced"
        pred_below = report.interval_verdict(auc_pred[1], auc_pred[2], 0.5, "below") == "reproduced"
        outcome = ("has no gap to start from" if not truth_above else "reverses" if pred_below
                   else "vanishes" if not pred_above else "shrinks" if truth_higher else "grows" if truth_lower
                   else "survives")  # fmt: skip
        gap_words = "there is no gap to start from" if not truth_above else f"the gap {outcome}"
        # the label-free score's own baseline: the model's max softmax probability on x (needs no label, no heatmap)
        logits = batched_logits(system.model, system.data("test").inputs[: len(right)].to(device)).cpu().double()
        msp_k = torch.softmax(logits, 1).max(1).values.numpy()
        auc_msp_k = auroc_ci(msp_k, right, n_boot=n_boot, seed=seed)
        d_msp_k = paired_auroc_difference_ci(co_pred, msp_k, right, n_boot=n_boot, seed=seed)
        msp_k_word = {"reproduced": "higher than", "not reproduced": "lower than", "inconclusive":
                      "not measurably different from", "not comparable": "not comparable with"}[
            report.interval_verdict(d_msp_k[1], d_msp_k[2], 0.0, "above")]  # fmt: skip
        text = (
            f"{gap_words[0].upper()}{gap_words[1:]}: on {system.name} (Saliency, {len(right)} images, "
            f"{int((~right).sum())} wrong), the "
            f"AUROC is {auc_truth[0]:.3f} [{auc_truth[1]:.3f}, {auc_truth[2]:.3f}] with kappa from the truth and "
            f"{auc_pred[0]:.3f} [{auc_pred[1]:.3f}, {auc_pred[2]:.3f}] from the prediction; the paired difference is "
            f"{kappa_diff[0]:.3f} [{kappa_diff[1]:.3f}, {kappa_diff[2]:.3f}] (the same {len(right)} images as the "
            f"tables). Without the label, the baseline is the model's max softmax probability on x (AUROC "
            f"{auc_msp_k[0]:.3f} [{auc_msp_k[1]:.3f}, {auc_msp_k[2]:.3f}]): the label-free CO score's AUROC is "
            f"{msp_k_word} it (paired difference {d_msp_k[0]:.3f} [{d_msp_k[1]:.3f}, {d_msp_k[2]:.3f}])."
        )  # fmt: skip
        summary = (f"How much of it the label brings: with kappa from the prediction instead of the truth, the AUROC "
                   f"of Saliency on {system.name} is {auc_pred[0]:.3f} instead of {auc_truth[0]:.3f} ({gap_words}; "
                   f"see the exercise on kappa from the prediction), {msp_k_word} the model's max "
                   f"softmax probability ({auc_msp_k[0]:.3f}).")  # fmt: skip
    reason = KAPPA_REASONS[outcome]
    return {"outcome": outcome, "auc_truth": auc_truth, "text": text, "reason": reason,
            "summary": f"{summary} {reason}".strip()}  # fmt: skip


def variant_study(auc_table: pd.DataFrame, co_table: pd.DataFrame, best: pd.DataFrame, loaded, names: Sequence[str],
                  few_wrong: int, device, n_boot: int, seed: int) -> dict:  # fmt: skip
    """Exercise 2: over the twin pairs in which both models have ``few_wrong`` wrong predictions, the variant (AX
    process, softmax) that separates best per kind (``_sub``, well-trained; mean distance of the AUROC from 0.5,
    ``means`` table), how often softmax reverses the gap, and each ranked system's best cell against the true-class
    probability p_y(x) (``msp``, paired); the answer."""
    # the twin pairs in which both models have enough wrong predictions: each kind then holds the same architectures
    wrong_by = auc_table.groupby("system").wrong.max()
    twin_pairs = [(n, n + "_sub") for n in names if n + "_sub" in names
                  and wrong_by.get(n, 0) >= few_wrong and wrong_by.get(n + "_sub", 0) >= few_wrong]  # fmt: skip
    members = {m: kind for n, t in twin_pairs for m, kind in ((n, "well-trained"), (t, "_sub"))}
    variant = auc_table[auc_table.system.isin(list(members)) & auc_table.AUROC.notna()].assign(
        kind=lambda t: t.system.map(members), distance=lambda t: (t.AUROC - 0.5).abs()
    )
    means, best_variant, n_soft_below, n_soft = None, {}, 0, 0
    if len(variant):
        per_system = variant.pivot_table(index=["AX", "softmax"], columns="system", values="AUROC", aggfunc="mean")
        distance_by = variant.groupby(["AX", "softmax", "kind"]).distance.mean().unstack("kind")
        means = per_system.reindex(columns=list(members)).join(distance_by.add_prefix("mean |AUROC - 0.5|, "))
        means = means.reset_index()
        best_variant = {kind: distance_by[kind].idxmax() for kind in ("_sub", "well-trained") if kind in distance_by}

    def direction_of(kind: str, key) -> str:
        mean = variant[(variant.kind == kind) & (variant.AX == key[0]) & (variant.softmax == key[1])].AUROC.mean()
        return "correct predictions higher" if mean >= 0.5 else "wrong predictions higher"

    if len(best_variant) == 2:
        same = best_variant["_sub"] == best_variant["well-trained"]
        text = (f"Over the twin pairs with at least {few_wrong} wrong predictions on both sides "
                f"({', '.join(' and '.join(pair) for pair in twin_pairs)}), ranked by the mean distance of the AUROC "
                f"from 0.5 (mean point estimates, untested): for the _sub models the strongest separation comes from "
                f"{variant_name(*best_variant['_sub'])} ({direction_of('_sub', best_variant['_sub'])}), for the "
                f"well-trained ones from {variant_name(*best_variant['well-trained'])} "
                f"({direction_of('well-trained', best_variant['well-trained'])}): "
                + ("the same variant." if same else "the two kinds differ."))  # fmt: skip
        soft = variant[variant.softmax]
        soft_cells = interval_cells(soft, threshold=0.5, claimed="below")
        n_soft_below, n_soft_above, n_soft = soft_cells.count("reproduced"), soft_cells.count("not reproduced"), len(
            soft)  # fmt: skip
        text += (f" With softmax outputs the AUROC's interval lies below 0.5 (wrong predictions score higher) in "
                 f"{n_soft_below} of {len(soft)} cells of these systems and above 0.5 in {n_soft_above}"
                 + (": here the softmax variants reverse the gap, where the paper's appendix finds that 'some "
                    "softmax versions produce clear distribution gaps as well' and its main figures put correct "
                    "predictions higher." if n_soft_below > len(soft) / 2 else "."))  # fmt: skip
        text += (
            " These softmax cells are not comparable with the paper's: the reference code's softmax CO mixes "
            "softmax(DNN(x + h)) with the raw DNN(x), ours applies softmax to both. With kappa from the truth, our "
            "softmax CO is C/(C-1) times the change of the true-class probability, so the label and the true-class "
            "probability on x are inside the score: the second table compares each best cell with that probability "
            "alone."
        )  # fmt: skip
    else:
        text = report.not_measured(f"no well-trained system and its _sub twin both have {few_wrong} wrong "
                                   "predictions", start=True) + "."  # fmt: skip
    # the baseline a CO detector with kappa from the truth must beat: a score that uses the label too but needs no
    # heatmap, the true-class probability p_y(x), as a detector of correct predictions, against the best CO cell of
    # each ranked system (oriented so its AUROC is >= 0.5), on the same images with a paired bootstrap. (The model's
    # max softmax probability, which needs no label, is the comparator of a CO score with kappa from the prediction:
    # exercise ex-co-1.)
    msp_rows = []
    for _, top in best.iterrows():
        sys_ = next(x for x in loaded if x.name == top.system)
        cell = cell_of(co_table, top.system, top)
        rows_x = torch.as_tensor(cell.image.to_numpy().copy())
        logits_x = batched_logits(sys_.model, sys_.data("test").inputs[rows_x].to(device)).cpu()
        y_x = sys_.data("test").targets[rows_x].cpu().long()
        p_true = torch.softmax(logits_x.double(), 1).gather(1, y_x.reshape(-1, 1)).reshape(-1)
        right_c = cell.correct.to_numpy(bool)
        msp = auroc_ci(p_true.numpy(), right_c, n_boot=n_boot, seed=seed)
        d_msp = paired_auroc_difference_ci(oriented(cell, top), p_true.numpy(), right_c, n_boot=n_boot, seed=seed)
        msp_rows.append({"system": top.system, "best CO cell": f"{top.method}, {variant_name(top.AX, top.softmax)}",
                         "CO AUROC (oriented)": max(top.AUROC, 1 - top.AUROC), "p_y(x) AUROC": msp[0],
                         "CO minus p_y(x)": d_msp[0], "CI low": d_msp[1], "CI high": d_msp[2],
                         "the CO cell": {"reproduced": "beats it", "not reproduced": "falls short",
                                         "inconclusive": "undecided", "not comparable": "n/a"}[
                             report.interval_verdict(d_msp[1], d_msp[2], 0.0, "above")]})  # fmt: skip
    msp_table = pd.DataFrame(msp_rows, columns=["system", "best CO cell", "CO AUROC (oriented)", "p_y(x) AUROC",
                                                "CO minus p_y(x)", "CI low", "CI high", "the CO cell"])  # fmt: skip
    if len(msp_table):
        verdicts_msp = msp_table["the CO cell"]
        n_beats = int((verdicts_msp == "beats it").sum())
        text += (f" Every CO cell here takes kappa from the truth, so it uses the label; with the label in hand, "
                 f"whether the prediction equals it detects correct predictions perfectly (AUROC 1), so such a cell is "
                 f"a label checker, and its fair baseline is a score that uses the label but no heatmap: the "
                 f"true-class probability on x, p_y(x), detects the correct predictions with AUROC "
                 f"{report.span(msp_table['p_y(x) AUROC'], '.3f', '-')} on the {len(msp_table)} ranked systems. The "
                 f"best CO cell of each system (chosen on the same images, so optimistic) beats it on {n_beats}, falls "
                 f"short on {int((verdicts_msp == 'falls short').sum())} and is undecided on "
                 f"{int((verdicts_msp == 'undecided').sum())} (paired bootstrap interval of the difference of AUROCs "
                 "against 0)"
                 + (": no heatmap adds measurable separation to what the true-class probability on x already gives."
                    if n_beats == 0 else "."))  # fmt: skip
    else:
        text += (" The true-class probability baseline is "
                 + report.not_measured(f"no system has {few_wrong} wrong predictions") + ".")  # fmt: skip
    return {"means": means, "best_variant": best_variant, "n_soft_below": n_soft_below, "n_soft": n_soft,
            "msp": msp_table, "text": text}  # fmt: skip


def flag_cell(best: pd.DataFrame, co_table: pd.DataFrame, system: str):
    """Exercise 3: the flag cell of ``system`` (its row of ``best``) and its CO scores, correctness and image ids,
    sorted by image; None where the system is not ranked."""
    rows = best[best.system == system]
    if not len(rows):
        return None
    b = rows.iloc[0]
    g = cell_of(co_table, system, b)
    return b, g.co.to_numpy(float), g.correct.to_numpy(bool), g.image.to_numpy()


def flag_study(best: pd.DataFrame, co_table: pd.DataFrame, msp_table: pd.DataFrame, system: str,
               few_wrong: int) -> dict:  # fmt: skip
    """Exercise 3: the shares of wrong and correct predictions that the best cell's Youden threshold flags in sample,
    on held-out images (fitted on the even-numbered images, counted on the odd ones), and the cell against the
    true-class probability; the answer."""
    cell = flag_cell(best, co_table, system)
    if cell is None:
        return {"caught": None, "rechecked": None,
                "text": report.not_measured(f"{system} has fewer than {few_wrong} wrong predictions",
                                            start=True) + "."}  # fmt: skip
    b, co_v, right_v, image_v = cell
    sign = 1.0 if b["flag if CO is"] == "below" else -1.0  # flag sign * co below sign * threshold
    flagged = sign * co_v < sign * b.threshold
    caught, rechecked = float(flagged[~right_v].mean()), float(flagged[right_v].mean())
    text = (f"{b.method} ({variant_name(b.AX, b.softmax)}) on {system}, flagging CO scores {b['flag if CO is']} "
            f"{b.threshold:.3f}: in sample (the threshold fitted and counted on the same {len(co_v)} images) it flags "
            f"{caught:.0%} of the wrong predictions and {rechecked:.0%} of the correct ones "
            f"({int(flagged[right_v].sum())} images to re-check).")  # fmt: skip
    # Youden's threshold maximises TPR - FPR, which is 0 at an extreme threshold: in sample it never flags a smaller
    # share of the wrong predictions than of the correct ones (a property of the rule, on any model)
    assert caught >= rechecked
    fit = image_v % 2 == 0  # a held-out check: fit on the even-numbered images, count on the odd ones
    halves = [right_v[fit], right_v[~fit]]
    if min(min(int(h.sum()), int((~h).sum())) for h in halves) >= 5:
        t_fit = youden_threshold(sign * co_v[fit], right_v[fit])
        flag_out = sign * co_v[~fit] < t_fit
        text += (f" Fitted on the even-numbered images and counted on the odd ones, it flags "
                 f"{float(flag_out[~right_v[~fit]].mean()):.0%} of their wrong predictions and "
                 f"{float(flag_out[right_v[~fit]].mean()):.0%} of their correct ones (the cell itself was chosen "
                 f"on all images).")  # fmt: skip
    else:
        text += " The held-out check is " + report.not_measured("a half has fewer than five wrong or correct "
                                                                "predictions") + "."  # fmt: skip
    base = msp_table[msp_table.system == system]
    if len(base):
        base = base.iloc[0]
        compared = {"beats it": "is higher", "falls short": "is lower", "undecided": "is not measurably different",
                    "n/a": "cannot be compared"}[base["the CO cell"]]  # fmt: skip
        text += (f" The cell takes kappa from the truth, so it needs the label, as a label check does; against "
                 f"the baseline that uses the label but no heatmap (the true-class probability p_y(x), AUROC "
                 f"{base['p_y(x) AUROC']:.3f}), this cell's oriented AUROC of "
                 f"{base['CO AUROC (oriented)']:.3f} {compared} (paired difference "
                 f"{base['CO minus p_y(x)']:.3f} [{base['CI low']:.3f}, {base['CI high']:.3f}]).")  # fmt: skip
        if b.softmax:
            text += (" The cell is a softmax variant, whose CO (softmax on both outputs) is not the paper's: see "
                     "the previous exercise.")  # fmt: skip
    return {"caught": caught, "rechecked": rechecked, "text": text}
