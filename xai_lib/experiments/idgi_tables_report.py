"""Chapter 3's findings, from the shard tables of :mod:`xai_lib.experiments.idgi_tables`: which images enter which
table (:func:`image_study`), the four tables and what they can and cannot show (:func:`four_tables`), IDGI against its
base method cell by cell (:func:`verdict_study`), whether VG is the lowest (:func:`vg_study`), the channel convention
(:func:`sign_study`), the protocol cross-checks (:func:`pair_protocol`, :func:`protocol_checks`), the reproduction card
with the TMLR study's questions (:class:`Card`) and the exercises. Each takes the tables and returns its tables, counts
and sentences; the chapter glues and shows them."""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch
from scipy.stats import spearmanr

from .. import parallel, report, stats
from ..attribution import IG, BlurIG
from ..metrics import binned_curve, pic_idgi
from ..models.registry import split_registry_name
from ..plotting import finish
from ..reference import idgi_tables as paper_idgi_tables
from . import common
from . import idgi_tables as it
from .idgi_tables import BASES, METHODS, TABLES

#: why no cell could be tested, when none could (a run on a handful of images, or data without the tables' inputs)
UNTESTED_REASON = "fewer than five images with a value on both sides in every cell"


def score_systems(loaded, prof, seed: int, device, runner, output: str, webp_method: int) -> dict:
    """The seven maps and every metric of the first ``idgi_table_images`` correctly classified test images of each
    system, shard by shard (:func:`xai_lib.experiments.idgi_tables.scores`, cached, on ``runner``; the PAIR protocol's
    cross-check on the first system's first images): the predictions, payloads, raw results and their owners, and the
    ``scores``, ``bokeh`` and ``timing`` tables."""
    names = [s.name for s in loaded]
    pred = common.predictions(loaded, prof, seed, device, runner)
    payloads, sizes = [], []
    for i, s in enumerate(loaded):
        chosen = common.first_correct(pred, s.name, prof.idgi_table_images)
        for j, shard in enumerate(parallel.shards_of(chosen, prof.shard_images)):
            check = min(len(shard), max(0, prof.pair_check_images - j * prof.shard_images)) if i == 0 else 0
            payloads.append(common.payload(
                s, prof, seed, device, runner, shard, output=output, steps=prof.idgi_steps,
                blur_steps=prof.blur_steps, webp_method=webp_method, absolute=True, pair_check=check,
            ))  # fmt: skip
            sizes.append(len(shard))
    results = runner.map("xai_lib.experiments.idgi_tables:scores", payloads, desc="images", images=sizes)
    owner = [names[[s.spec.to_dict() for s in loaded].index(p["system"])] for p in payloads]
    scores, bokeh, timing = (parallel.concat(results, name, owner) for name in ("scores", "bokeh", "timing"))
    return {"pred": pred, "payloads": payloads, "results": results, "owner": owner, "scores": scores,
            "bokeh": bokeh, "timing": timing}  # fmt: skip


def time_shares(timing: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, float]]:
    """Where the time goes, per system (:func:`xai_lib.experiments.idgi_tables.time_breakdown`), and over all systems
    the attributions' share and the shares of the model's calls, WebP, MS-SSIM and the rest."""
    time_table = it.time_breakdown(timing)
    overall = time_table.set_index("system").loc["all"]
    shares = {"attribution_share": overall["attribution s"] / (overall["attribution s"] + overall["metrics s"])}
    for column, name in (("model calls", "model_share"), ("WebP", "webp_share"), ("MS-SSIM", "msssim_share"),
                         ("other", "other_share")):  # fmt: skip
        shares[name] = overall[column]
    return time_table, shares


def image_study(run: dict, loaded) -> dict:
    """Per system, the images scored and those each table stands on, the images left out of Table 2 by the entropy
    normalisation, whether the data has object masks, and the saturated (system, level) rows (``saturation``); the
    sentences."""
    names = [s.name for s in loaded]
    scores, bokeh = run["scores"], run["bokeh"]
    skips = parallel.concat(run["results"], "skips", run["owner"])
    entropy_skips = (skips[skips.information == "entropy"].groupby("system").size() if len(skips)
                     else pd.Series(dtype=int))  # fmt: skip
    image_counts = it.images_per_table(scores, names)
    image_counts.insert(4, "left out of Table 2", [int(entropy_skips.get(n, 0)) for n in names])
    image_counts["object masks"] = ["yes" if s.data("test").masks is not None else "no" for s in loaded]
    saturation = it.saturated_rows(bokeh)
    widest = saturation.sort_values("images", ascending=False, kind="stable").drop_duplicates("system")
    widest = widest.set_index("system")
    image_counts["blurred base correct"] = [int(widest["base correct"].get(n, 0)) for n in names]
    no_table2 = image_counts.loc[image_counts["Table 2"] == 0, "system"].tolist()
    fewer_table2 = image_counts.loc[(image_counts["Table 2"] > 0) & (image_counts["Table 2"] < image_counts["Table 1"]),
                                    "system"].tolist()  # fmt: skip
    no_masks = image_counts.loc[image_counts["object masks"] == "no", "system"].tolist()
    if no_table2:
        table2_text = (f"No image of {', '.join(no_table2)} enters Table 2: the entropy normalisation leaves out every "
                       "one of their images, so their Table 2 rows are n/a and these systems are not comparable "
                       "there.")  # fmt: skip
    elif fewer_table2:
        table2_text = f"Table 2 stands on fewer images than Table 1 for {', '.join(fewer_table2)}."
    else:
        table2_text = "Every scored image enters Table 2."
    if fewer_table2 and no_table2:
        table2_text += f" Table 2 stands on fewer images than Table 1 for {', '.join(fewer_table2)}."
    saturated = saturation[saturation.saturated]
    if len(saturated):
        saturation_text = (
            "The blurred base is already classified as the target for most images of "
            + ", ".join(
                f"{r['system']} ({r['information_level']}: {r['base correct']} of {r['images']} images)"
                for _, r in saturated.iterrows()
            )  # fmt: skip
            + ": these SIC/AIC rows are saturated, their cells not comparable."
        )
    else:
        saturation_text = ("No system has its blurred base classified as the target for most of its images: every "
                           "SIC/AIC row is comparable.")  # fmt: skip
    n_min, n_max = int(image_counts["Table 1"].min()), int(image_counts["Table 1"].max())
    return {"counts": image_counts, "saturation": saturation, "no_table2": no_table2, "no_masks": no_masks,
            "table2_text": table2_text,
            "table4_text": (f"Table 4 is not measured on {', '.join(no_masks)}: their data has no object masks."
                            if no_masks else "Every system has object masks: Table 4 covers them all."),
            "saturation_text": saturation_text,
            "n_images_text": f"{n_min}" if n_min == n_max else f"{n_min} to {n_max}"}  # fmt: skip


#: the four tables' captions
CAPTIONS = {
    "Table 1: insertion": "Table 1: insertion (pixels ranked by the signed channel sum)",
    "Table 2: SIC/AIC (entropy)": "Table 2: SIC/AIC (entropy), signed channel sum; images: those whose blurred base "
                                  "is less informative than the original (0 images: n/a, not comparable)",
    "Table 3: SIC/AIC (MS-SSIM)": "Table 3: SIC/AIC (MS-SSIM), signed channel sum; saturated rows: not comparable",
    "Table 4: localisation": "Table 4: localisation by the absolute channel sum; MAE (best threshold): of the binary "
                             "map at the best threshold, the paper's; MAE (continuous): of the normalised map",
}  # fmt: skip


def axis_cover(bokeh: pd.DataFrame, loaded, dataset: str, level: str) -> tuple[float, int, int] | None:
    """The bokeh images of ``dataset``'s systems at ``level`` (signed ranking, all methods): their lowest information,
    the empty bins of the 100, and how many of those lie below the lowest occupied bin; None without a bokeh image."""
    members = [x.name for x in loaded if x.spec.dataset == dataset]
    v = bokeh[(bokeh.sign == "signed") & (bokeh.information_level == level)
              & bokeh.system.isin(members)].information.to_numpy(float)  # fmt: skip
    v = v[np.isfinite(v)]
    if not len(v):
        return None
    occupied = np.bincount(np.minimum((np.clip(v, 0.0, 1.0) * 100).astype(int), 99), minlength=100)
    return float(v.min()), int((occupied == 0).sum()), int(np.flatnonzero(occupied)[0])


def four_tables(run: dict, images: dict, loaded, prof) -> dict:
    """The paper's four tables (``tables``; saturated SIC/AIC rows marked), the object's mean share of the scored
    images per system with masks (``object_share``, the MAE of an empty mask), Table 4's MAE rows at the best threshold
    (``mae_best_rows``), and the sentences on that reference and on how much of the information axis the bokeh images
    cover."""
    scores, bokeh = run["scores"], run["bokeh"]
    names = [s.name for s in loaded]
    tables = it.tables(scores, bokeh, names)
    flagged = {(r.system, r.information_level) for r in images["saturation"][images["saturation"].saturated]
               .itertuples()}  # fmt: skip
    for title in ("Table 2: SIC/AIC (entropy)", "Table 3: SIC/AIC (MS-SSIM)"):
        t = tables[title]
        t.insert(3, "saturated",
                 ["yes" if (sy, m[5:-1]) in flagged else ""
                  for sy, m in zip(t.system, t.metric, strict=True)])  # fmt: skip
    # a reference for the MAE at the best threshold: an empty mask's MAE is the object's share of the image, and the
    # best threshold can always be the map's maximum (a mask of almost no pixel), so that MAE is never much above it
    object_share = {}
    for s in loaded:
        if s.data("test").masks is not None:
            scored = torch.tensor(common.first_correct(run["pred"], s.name, prof.idgi_table_images), dtype=torch.long)
            if len(scored):
                object_share[s.name] = float(s.data("test").masks[scored].float().mean())
    mae_best_rows = tables["Table 4: localisation"]
    mae_best_rows = (mae_best_rows[mae_best_rows.metric == "MAE (best threshold)"] if len(mae_best_rows)
                     else mae_best_rows)  # fmt: skip
    mae_values = mae_best_rows[list(METHODS)].to_numpy(dtype=float) if len(mae_best_rows) else np.array([np.nan])
    if object_share and np.isfinite(mae_values).any():
        empty_mae = float(np.mean(list(object_share.values())))
        mae_lo, mae_hi = float(np.nanmin(mae_values)), float(np.nanmax(mae_values))
        below = f"at most {empty_mae - mae_lo:.3f} below it" if empty_mae > mae_lo else "none of them below it"
        mae_reference = (f"An empty mask (no pixel on the object) has an MAE equal to the object's share of the "
                         f"image: {empty_mae:.3f} on average over the scored images of {', '.join(object_share)}. The "
                         f"seven methods' MAE at the best threshold lies between {mae_lo:.3f} and {mae_hi:.3f}, "
                         f"{below}. The best threshold can always be set at the map's maximum, where the binary map "
                         "keeps almost no pixel, so this MAE can never be much above an empty mask's, whatever the map "
                         "(a perfect map reaches 0): read its differences against that reference.")  # fmt: skip
    else:
        mae_reference = ("The MAE of an empty mask, the reference for the MAE at the best threshold, is "
                         + report.not_measured("no system with object masks has a localisation row") + ".")  # fmt: skip
    # how much of the information axis the bokeh images cover: an empty bin's value is interpolated, and the bins
    # below the lowest occupied one take that bin's value (the curve is held flat there)
    coverage = []
    for level in ("entropy", "MS-SSIM"):
        for d in dict.fromkeys(x.spec.dataset for x in loaded):
            cover = axis_cover(bokeh, loaded, d, level)
            if cover is not None:
                low, empty, below = cover
                coverage.append(f"{d} at the {level} level, from {low:.2f} up, {empty} of the 100 bins empty"
                                + (f", the lowest {below} of them all below the lowest occupied bin" if below
                                   else ""))  # fmt: skip
    coverage_text = (
        "How much of the information axis the bokeh images cover (pooled over each dataset's systems and methods): "
        + "; ".join(coverage) + ". An empty bin takes the value interpolated between its occupied neighbours, and a "
        "bin below a curve's lowest occupied bin takes that bin's value: a curve whose bokeh images start high counts "
        "its first value once for each of those bins: that part of its area is filled in, not measured."
        if coverage else "How much of the information axis the bokeh images cover is "
        + report.not_measured("no bokeh image has an information level") + "."
    )  # fmt: skip
    return {"tables": tables, "object_share": object_share, "mae_best_rows": mae_best_rows,
            "mae_reference": mae_reference, "coverage": coverage_text}  # fmt: skip


def beside_paper(tables: dict) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The paper's mean, lowest and highest over its models beside ours over the systems, per metric and method
    (saturated and n/a rows left out), and the paper's per-cell wins of IDGI (``paper_wins``)."""
    paper_summary, paper_wins = it.paper_cells()
    comparable_rows = [t[t["saturated"] != "yes"] if "saturated" in t else t for t in tables.values() if len(t)]
    ours_long = pd.concat([t.drop(columns=["images", "saturated"], errors="ignore").melt(id_vars=["metric", "system"],
                                                                                         var_name="method")
                           for t in comparable_rows])  # fmt: skip
    ours_summary = ours_long.dropna().groupby(["metric", "method"]).value.agg(["mean", "min", "max"]).reset_index()
    beside = paper_summary.merge(ours_summary, on=["metric", "method"], suffixes=(" (paper)", " (ours)"))
    beside["method"] = pd.Categorical(beside.method, METHODS)
    return beside.sort_values(["metric", "method"]).reset_index(drop=True), paper_wins


def compare(scores: pd.DataFrame, saturation: pd.DataFrame, alpha: float, n_boot: int, seed: int) -> tuple:
    """IDGI against its base method per (system, metric, base) cell (paired tests, the book's channel convention):
    unmarked, and with saturated rows marked and Holm's adjusted p over the tested cells."""
    unmarked = it.comparisons(scores, alpha, n_boot, seed)
    comparison = it.mark_saturated(unmarked, saturation)
    tested_mask = comparison.verdict.isin(it.TESTED)
    comparison["p (Holm)"] = np.nan
    comparison.loc[tested_mask, "p (Holm)"] = it.holm(comparison.loc[tested_mask, "p"])
    return unmarked, comparison


def verdict_study(comparison: pd.DataFrame, unmarked: pd.DataFrame, run: dict, tables: dict, paper_wins: pd.DataFrame,
                  loaded, alpha: float, n_boot: int, seed: int) -> dict:  # fmt: skip
    """The cells per verdict and base method (``by_base``) and metric (``by_metric``); the two rules for images whose
    blurred base is already classified as the target (``rules``); the tables' differences that point against the
    per-image test (``conflicts``); and the sentences."""
    scores, bokeh = run["scores"], run["bokeh"]
    by_base = comparison.groupby(["base", "verdict"], sort=False).size().unstack(fill_value=0)
    by_metric = comparison.groupby(["metric", "verdict"], sort=False).size().unstack(fill_value=0)
    testable = comparison[comparison.verdict.isin(it.TESTED)]
    base_parts = []
    for base in BASES.values():
        part = testable[testable.base == base]
        if len(part):
            base_parts.append(f"better than {base} in {int((part.verdict == 'better').sum())} of {len(part)} tested "
                              f"cells (worse in {int((part.verdict == 'worse').sum())})")  # fmt: skip
    texts = {"base_sentence": "IDGI is " + ", ".join(base_parts) + "." if base_parts
             else report.not_measured(f"no cell could be tested ({UNTESTED_REASON})", start=True) + "."}  # fmt: skip
    na = comparison[comparison.verdict == "n/a"]
    if len(na):
        groups = na.groupby("metric", sort=False).system.agg(lambda s: ", ".join(dict.fromkeys(s)))
        where = "; ".join(f"{metric} on {systems_}" for metric, systems_ in groups.items())
        na_text = (f"{len(na)} cells cannot be tested (fewer than five images with a value on both sides), not "
                   f"comparable: {where}.")  # fmt: skip
    else:
        na_text = "Every cell has enough images to be tested."
    n_saturated = int((comparison.verdict == "saturated").sum())
    if n_saturated:
        na_text += (f" {report.numbered(n_saturated, 'cell', 'cells')} of saturated rows "
                    f"{'is' if n_saturated == 1 else 'are'} not comparable: their tests are counted in no "
                    "verdict.")  # fmt: skip
    texts["na_sentence"] = na_text
    # the two rules for images whose blurred base is already classified as the target, on the SIC/AIC cells: the
    # book's (keep the images, mark a row saturated when most of its images have such a base) and a per-image one
    # (leave those images out of their row, mark nothing), with what the saturated rows' cells would say unmarked
    is_sic_aic = comparison.metric.str.match(r"(SIC|AIC) ")
    per_image = it.comparisons(it.without_base_correct(scores[scores.metric.str.match(r"(SIC|AIC) ")], bokeh), alpha,
                               n_boot, seed)  # fmt: skip
    rules = {"book: rows marked saturated": comparison[is_sic_aic], "per image: those images left out": per_image,
             "none: every image, no row marked": unmarked[is_sic_aic]}  # fmt: skip
    rule_table = pd.DataFrame([{"rule": rule, "cells": len(c)} | it.win_counts(c) for rule, c in rules.items()])
    n_base_correct = len(it.base_correct_images(bokeh))
    if not is_sic_aic.any():
        rule_text = report.not_measured("no SIC/AIC cell was computed", start=True) + "."
    elif n_base_correct == 0:
        rule_text = "No blurred base is classified as the target, so the rules agree: nothing is marked or left out."
    else:
        book_c, img_c = it.win_counts(comparison[is_sic_aic]), it.win_counts(per_image)
        both = comparison[is_sic_aic].merge(per_image, on=["system", "metric", "base"], suffixes=("", " (per image)"))
        both = both[both.verdict.isin(it.TESTED) & both["verdict (per image)"].isin(it.TESTED)]
        n_moved = int((both.verdict != both["verdict (per image)"]).sum())
        # the cells the per-image rule tests that the book's rule marks saturated (tested on the images left)
        was_saturated = per_image.merge(comparison[comparison.verdict == "saturated"][["system", "metric", "base"]],
                                        on=["system", "metric", "base"])  # fmt: skip
        was_saturated = was_saturated[was_saturated.verdict.isin(it.TESTED)]
        flipped = int(((both.verdict == "better") & (both["verdict (per image)"] == "worse")).sum()
                      + ((both.verdict == "worse") & (both["verdict (per image)"] == "better")).sum())  # fmt: skip
        none_tested = "no tested cell"
        rule_text = (
            f"On the SIC/AIC cells, with the book's rule IDGI is better in "
            f"{report.counted(book_c['better'], book_c['tested'], 'tested cells', none=none_tested)} and worse in "
            f"{book_c['worse']}; with "
            f"a per-image rule instead (an image whose blurred base is already classified as the target left out of "
            f"that level's rows, {n_base_correct} pairs of image and level in all, no row marked), better in "
            f"{report.counted(img_c['better'], img_c['tested'], 'tested cells', none=none_tested)} and worse in "
            f"{img_c['worse']} "
            f"({img_c['n/a']} cells untestable with fewer than five images, against {book_c['n/a']} under the book's "
            f"rule; {len(was_saturated)} of its tested cells belong to the rows the book marks saturated, tested on "
            f"the images left: better in {int((was_saturated.verdict == 'better').sum())}, worse in "
            f"{int((was_saturated.verdict == 'worse').sum())}). "
            + (f"Of the {len(both)} cells both rules test, {n_moved} change their verdict"
               + (f", {flipped} of them from better to worse or back" if n_moved else "") + "."
               if len(both) else "No cell is tested under both rules, so whether a verdict changes is not measured.")
        )  # fmt: skip
    texts["saturation_rule_sentence"] = rule_text
    texts["paper_better"] = int(paper_wins["sum"].sum())
    texts["paper_cells"] = int(paper_wins["size"].sum())
    mae_counts = {m: it.win_counts(comparison[comparison.metric == m])
                  for m in ("MAE (best threshold)", "MAE (continuous)")}  # fmt: skip
    best, cont = mae_counts["MAE (best threshold)"], mae_counts["MAE (continuous)"]
    masked_systems = [s.name for s in loaded if s.data("test").masks is not None]
    if not masked_systems:
        mae_text = report.not_measured("no system has object masks, so neither MAE could be compared",
                                       start=True) + "."  # fmt: skip
    elif best["tested"] == 0 and cont["tested"] == 0:
        mae_text = report.not_measured(f"no MAE cell could be tested ({UNTESTED_REASON})", start=True) + "."
    else:
        mae_text = (f"With the MAE at the best threshold (the paper's convention), IDGI is better in "
                    f"{report.counted(best['better'], best['tested'], 'tested cells')} and worse in {best['worse']}; "
                    f"with the MAE of the continuous map, better in "
                    f"{report.counted(cont['better'], cont['tested'], 'tested cells')} and worse in "
                    f"{cont['worse']}.")  # fmt: skip
    texts["mae_sentence"] = mae_text
    conflicts = it.direction_conflicts(comparison, tables)
    n_significant = int(comparison.verdict.isin(["better", "worse"]).sum())
    if n_significant == 0:
        conflict_text = ("Whether the tables' differences and the per-image tests below point the same way is "
                         + report.not_measured("no cell has a significant verdict") + ".")  # fmt: skip
    elif len(conflicts) == 0:
        conflict_text = (f"In each of the {n_significant} cells with a significant verdict below, the tables' "
                         "difference (IDGI version minus its base method) points the way of the per-image "
                         "test (cells of saturated rows, which no verdict counts, are not checked).")  # fmt: skip
    else:
        listed_conflicts = "; ".join(
            f"{r['system']}, {r['metric']}, {r['base']}: {r['table base']:.3f} -> {r['table IDGI']:.3f} in the table, "
            f"{r['verdict']} by the test"
            for _, r in conflicts.iterrows()
        )
        conflict_text = (
            f"In {len(conflicts)} of the {n_significant} cells with a significant verdict below, the tables' "
            f"difference (IDGI version minus its base method) points against the per-image test: {listed_conflicts} "
            "(cells of saturated rows, which no verdict counts, are not checked). "
            "The two measure different things: a table's SIC/AIC is the area under one curve that pools every image's "
            "bokeh images, and its insertion or localisation score a mean, while the test compares each image's own "
            "area or score by the signed ranks of the differences (many small gains can outweigh a few large losses)."
        )
    texts["conflict_sentence"] = conflict_text
    # the count alone, for the instructor notes: how often the table and the test point opposite ways in this run
    if n_significant == 0:
        conflict_count = ("How often the two disagree here is "
                          + report.not_measured("no cell has a significant verdict") + ".")  # fmt: skip
    elif len(conflicts) == 0:
        conflict_count = (f"Here they never do: in each of the {n_significant} cells with a significant verdict, the "
                          "table's difference points the way of the test.")  # fmt: skip
    else:
        conflict_count = (f"Here such conflicts are {'rare' if 10 * len(conflicts) <= n_significant else 'not rare'}: "
                          f"{len(conflicts)} of the {n_significant} cells with a significant verdict, listed under "
                          "the four tables (cells of saturated rows not checked).")  # fmt: skip
    texts["conflict_count_sentence"] = conflict_count
    return {"by_base": by_base, "by_metric": by_metric, "rules": rule_table, "conflicts": conflicts, "texts": texts}


def plot_gain(comparison: pd.DataFrame, names: Sequence[str], path) -> None:
    """IDGI's per-image gain over each base method with its 95% bootstrap interval, per metric and system."""
    fig, axes = plt.subplots(1, 3, figsize=(13, 4.2), sharey=True)
    metric_order = list(dict.fromkeys(comparison.metric))
    for ax, base in zip(axes, BASES.values(), strict=True):
        part = comparison[(comparison.base == base) & (comparison.verdict != "saturated")]  # saturated: not comparable
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
    finish(fig, path)


#: the VG table's display formats
VG_FORMATS = {"VG mean": "{:.3f}", "other mean": "{:.3f}", "gap": "{:.3f}", "rank balance": "{:.1f}", "p": "{:.2g}"}


def vg_study(scores: pd.DataFrame, alpha: float, n_boot: int, seed: int) -> dict:
    """Is VG's insertion score the lowest of its Table 1 row, per (metric, system), by the paired test (``rows``); each
    system counted once, by the probability variant (``by_system``), the ratio variant's outcome beside it; the
    sentence."""
    vg_rows = it.lowest_rows(scores, TABLES["Table 1: insertion"], "VG", alpha, n_boot, seed)
    vg_rows = vg_rows.rename(columns={"method mean": "VG mean"})
    # each system counted once: the probability variant decides, the ratio variant (the same curve) is compared with it
    vg_metric, vg_ratio_metric = TABLES["Table 1: insertion"]
    vg_by_system = vg_rows[vg_rows.metric == vg_metric]
    vg_ratio_outcome = vg_rows[vg_rows.metric == vg_ratio_metric].set_index("system").outcome
    vg_counts = {o: int((vg_by_system.outcome == o).sum()) for o in it.LOWEST_OUTCOMES}
    vg_tested = len(vg_by_system) - vg_counts["not tested"]
    vg_same = int(sum(vg_ratio_outcome.get(s) == o for s, o in zip(vg_by_system.system, vg_by_system.outcome,
                                                                    strict=True)))  # fmt: skip
    if vg_tested == 0:
        text = report.not_measured("no system has five images with a value for VG and the method it is compared "
                                   "with", start=True) + "."  # fmt: skip
    else:
        text = (
            f"By the paired test at {alpha:g}, counting each system once (the probability variant), VG's insertion "
            f"score is significantly the lowest of its row for {vg_counts['lowest']} of {vg_tested} tested systems, "
            f"significantly above the row's lowest for {vg_counts['not lowest']}, and not separated from the method "
            f"it is compared with for {vg_counts['undecided']}"
            + (f"; {vg_counts['not tested']} have too few images to be tested" if vg_counts["not tested"] else "")
            + f". The ratio variant gives the same outcome for {vg_same} of {len(vg_by_system)} systems."
        )  # fmt: skip
    return {"rows": vg_rows, "by_system": vg_by_system, "ratio_outcome": vg_ratio_outcome, "metric": vg_metric,
            "text": text}  # fmt: skip


#: the channel conventions' table
SIGN_COLUMNS = ["table", "channels", "book", "IDGI better", "no difference", "IDGI worse", "tested"]


def sign_study(run: dict, comparison: pd.DataFrame, saturation: pd.DataFrame, image_counts: pd.DataFrame,
               alpha: float, n_boot: int, seed: int) -> dict:  # fmt: skip
    """IDGI against its base method under each channel convention (insertion and SIC/AIC entropy: signed and absolute
    sum; localisation: absolute, signed, positive part): the cells with the absolute ranking (``absolute``), the counts
    per table and convention (``table``), the predict-first answer (``shift``: does IDGI win a smaller share with the
    absolute sum) and the sentences."""
    scores, bokeh = run["scores"], run["bokeh"]
    ranking_metrics = TABLES["Table 1: insertion"] + TABLES["Table 2: SIC/AIC (entropy)"]
    loc_metrics = TABLES["Table 4: localisation"]
    absolute_comparison = it.mark_saturated(it.comparisons(
        scores[scores.metric.isin(ranking_metrics)], alpha, n_boot, seed, "absolute"), saturation)  # fmt: skip
    by_convention = {"signed": comparison, "absolute": absolute_comparison}  # insertion and SIC/AIC
    loc_by_convention = {"absolute": comparison}  # localisation: the book's is the absolute sum
    for sign in ("signed", "positive"):
        loc_by_convention[sign] = it.comparisons(scores[scores.metric.isin(loc_metrics)], alpha, n_boot, seed, sign)
    sign_rows = []
    for title, conventions in (("Table 1: insertion", by_convention), ("Table 2: SIC/AIC (entropy)", by_convention),
                               ("Table 4: localisation", loc_by_convention)):  # fmt: skip
        metrics = TABLES[title]
        for sign, comp in conventions.items():
            counts = it.win_counts(comp[comp.metric.isin(metrics)])
            if counts["tested"] + counts["n/a"] == 0:
                continue
            sign_rows.append({"table": title.split(":")[0], "channels": sign,
                              "book": "yes" if sign == it.book_sign(metrics[0]) else "",
                              "IDGI better": counts["better"], "no difference": counts["no difference"],
                              "IDGI worse": counts["worse"], "tested": counts["tested"]})  # fmt: skip
    sign_table = pd.DataFrame(sign_rows, columns=SIGN_COLUMNS)
    rank_sum = (
        sign_table[sign_table.table.isin(["Table 1", "Table 2"])].groupby("channels")[["IDGI better", "tested"]].sum()
    )
    sign_wins = {sign: (int(rank_sum.loc[sign, "IDGI better"]), int(rank_sum.loc[sign, "tested"]))
                 if sign in rank_sum.index else (0, 0) for sign in ("signed", "absolute")}  # fmt: skip
    (b_signed, n_signed), (b_abs, n_abs) = sign_wins["signed"], sign_wins["absolute"]
    if n_signed == 0 or n_abs == 0:
        sign_text = report.not_measured("too few images to test the insertion and SIC/AIC cells under both "
                                        "conventions", start=True) + "."  # fmt: skip
    else:
        depends = ("IDGI's win count depends on the channel convention" if b_signed != b_abs or n_signed != n_abs
                   else "IDGI's win count is the same under both channel conventions")  # fmt: skip
        sign_text = (f"{depends}: over the insertion and SIC/AIC (entropy) cells, IDGI is better than its base method "
                     f"in {b_signed} of {n_signed} tested cells with the signed sum (the book's tables) and in {b_abs} "
                     f"of {n_abs} with the absolute sum.")  # fmt: skip
    # the prediction's answer (exercise ex-tables-predict): IDGI's share of wins with the absolute sum against the
    # signed
    if n_signed == 0 or n_abs == 0:
        sign_shift = "not measured"
    else:
        sign_shift = ("fewer" if b_abs / n_abs < b_signed / n_signed else
                      "more" if b_abs / n_abs > b_signed / n_signed else "as many")  # fmt: skip
    direction_text = {
        "fewer": f"A smaller share: ranked by the absolute sum, IDGI is better than its base method in {b_abs} of "
                 f"{n_abs} tested insertion and SIC/AIC (entropy) cells, against {b_signed} of {n_signed} ranked by "
                 "the signed sum.",
        "more": f"A larger share: ranked by the absolute sum, IDGI is better than its base method in {b_abs} of "
                f"{n_abs} tested insertion and SIC/AIC (entropy) cells, against {b_signed} of {n_signed} ranked by "
                "the signed sum.",
        "as many": f"The same share: IDGI is better than its base method in {b_abs} of {n_abs} tested insertion and "
                   f"SIC/AIC (entropy) cells ranked by the absolute sum and in {b_signed} of {n_signed} by the signed "
                   "sum.",
        "not measured": "Not measured: too few images to test the insertion and SIC/AIC cells under both conventions.",
    }[sign_shift]  # fmt: skip
    loc_part = sign_table[sign_table.table == "Table 4"].set_index("channels")
    if len(loc_part) and loc_part["tested"].sum() == 0:
        loc_sign_text = report.not_measured(f"no localisation cell could be tested ({UNTESTED_REASON})",
                                            start=True) + "."  # fmt: skip
    elif len(loc_part):
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
        loc_sign_text = report.not_measured("localisation needs object masks, and no system has them",
                                            start=True) + "."  # fmt: skip
    table2_systems = image_counts.loc[image_counts["Table 2"] > 0, "system"].tolist()
    if table2_systems:
        first = table2_systems[0]
        sic = {sign: it.table_value(scores, bokeh, first, "IG", "SIC (entropy)", sign)
               for sign in ("signed", "absolute")}  # fmt: skip
        example_text = (f"On {first}, IG's SIC (entropy) is {sic['signed']:.3f} with the signed ranking and "
                        f"{sic['absolute']:.3f} with the absolute one.")  # fmt: skip
    else:
        example_text = ""
    return {"absolute": absolute_comparison, "table": sign_table, "shift": sign_shift,
            "texts": {"sign_sentence": sign_text, "sign_direction": direction_text, "loc_sign_sentence": loc_sign_text,
                      "sign_example": example_text}}  # fmt: skip


def sign_shift_of(sign_table: pd.DataFrame) -> str:
    """The predict-first answer recomputed from the convention table: IDGI's share of wins over the insertion and
    SIC/AIC cells with the absolute sum against the signed (*fewer*, *more*, *as many*, *not measured*)."""
    won = sign_table[sign_table.table.isin(["Table 1", "Table 2"])].groupby("channels")[["IDGI better", "tested"]].sum()
    if not ({"signed", "absolute"} <= set(won.index) and (won["tested"] > 0).all()):
        return "not measured"
    shares = won["IDGI better"] / won["tested"]
    return ("fewer" if shares["absolute"] < shares["signed"] else
            "more" if shares["absolute"] > shares["signed"] else "as many")  # fmt: skip


def pair_protocol(run: dict, names: Sequence[str]) -> tuple[pd.DataFrame, str]:
    """PAIR's SIC/AIC protocol against the IDGI paper's on the first system's first images, IG and IG + IDGI, each on
    the images PAIR keeps; whether the two agree on the direction of IDGI's effect."""
    bokeh = run["bokeh"]
    pair = parallel.concat(run["results"], "pair", run["owner"])
    pair_curves = parallel.concat(run["results"], "pair_curves", run["owner"])
    pair_rows = []
    for method in it.PAIR_MAPS:
        for kind in ("sic", "aic"):
            part = (pair[(pair.method == method) & (pair.kind == kind)] if len(pair)
                    else pd.DataFrame(columns=["image", "skipped"]))  # fmt: skip
            kept_pair = part.loc[part.skipped == "", "image"].tolist()  # both protocols on the images PAIR keeps
            idgi_part = bokeh[(bokeh.system == names[0]) & (bokeh.method == method) & bokeh.image.isin(kept_pair)
                              & (bokeh.information_level == "entropy") & (bokeh.sign == "signed")]  # fmt: skip
            idgi_part = idgi_part[np.isfinite(idgi_part.information.to_numpy(dtype=float))]
            pair_rows.append({
                "method": method, "kind": kind.upper(), "images": len(part), "kept by PAIR": len(kept_pair),
                "images (IDGI protocol)": int(idgi_part.image.nunique()),
                "PAIR protocol": it.pair_aggregate(pair_curves, method, kind),
                "IDGI protocol": binned_curve(idgi_part.information.to_numpy(dtype=float),
                                              idgi_part[kind].to_numpy(dtype=float), kind)[0],
            })  # fmt: skip
    pair_table = pd.DataFrame(pair_rows)
    pt = pair_table.set_index(["method", "kind"])
    agree, measured = 0, 0
    for k in ("SIC", "AIC"):
        d_pair = pt.loc[("IG+IDGI", k), "PAIR protocol"] - pt.loc[("IG", k), "PAIR protocol"]
        d_idgi = pt.loc[("IG+IDGI", k), "IDGI protocol"] - pt.loc[("IG", k), "IDGI protocol"]
        if np.isfinite(d_pair) and np.isfinite(d_idgi):
            measured += 1
            agree += int(np.sign(d_pair) == np.sign(d_idgi))
    protocols_text = report.counted(agree, measured, "kinds measured (SIC, AIC)",
                                    none=report.not_measured(f"no image of {names[0]} passes both protocols' "
                                                             "rules"))  # fmt: skip
    text = (f"The two protocols agree on the direction of IDGI's effect for {protocols_text}." if measured
            else f"Whether the two protocols agree on IDGI's direction is {protocols_text}.")  # fmt: skip
    return pair_table, text


def protocol_checks(system, shard: Sequence[int], output: str, prof, webp_method: int, device) -> dict:
    """On ``system``'s first shard of scored images: the entropy level's SIC/AIC of IG and IG + IDGI at this run's WebP
    effort against PAIR's (4) (``efforts``), Blur IG's completeness error at the profile's steps, and the share of each
    map's channel-sum mass that is negative (IG, Blur IG and their IDGI versions); the sentences."""
    data = system.data("test").subset(torch.tensor(shard))
    x_check, y_check = data.inputs.to(device), data.targets.to(device)
    ig_check = IG(system.model, output).attribute_with_idgi(x_check, target=y_check, n_steps=prof.idgi_steps)
    maps_check = dict(zip(("IG", "IG+IDGI"), ig_check, strict=True))  # the two maps compared, as the tables have them
    efforts = {e: pic_idgi(system.model, x_check, maps_check, y_check, information="entropy", webp_method=e)
               for e in sorted({webp_method, 4})}  # fmt: skip
    effort_rows = []
    for m in ("IG", "IG+IDGI"):
        for kind in ("sic", "aic"):
            a = efforts[webp_method].per_image(m, kind).values.numpy()
            b = efforts[4].per_image(m, kind).values.numpy()
            ok = np.isfinite(a) & np.isfinite(b)
            effort_rows.append({"method": m, "kind": kind.upper(), "images": int(ok.sum()),
                                "mean area": float(a[ok].mean()) if ok.any() else np.nan,
                                "max |difference|": float(np.abs(a[ok] - b[ok]).max()) if ok.any() else np.nan,
                                "Spearman": float(spearmanr(a[ok], b[ok]).statistic)
                                if ok.sum() > 2 and np.ptp(a[ok]) > 0 and np.ptp(b[ok]) > 0 else np.nan})  # fmt: skip
    effort_table = pd.DataFrame(effort_rows)
    if webp_method == 4:
        effort_text = "This run uses PAIR's effort itself: there is nothing to compare."
    elif not effort_table["images"].any():
        effort_text = report.not_measured(f"no image of {system.name}'s first shard passes the entropy normalisation",
                                          start=True) + "."  # fmt: skip
    else:
        largest = effort_table.loc[effort_table["max |difference|"].idxmax()]
        effort_text = (f"Between effort {webp_method} and effort 4 (PAIR's; the paper profile uses it), a per-image "
                       f"area moves by at most {largest['max |difference|']:.3f} ({largest['method']} "
                       f"{largest['kind']}, whose per-image areas average {largest['mean area']:.3f} "
                       "here).")  # fmt: skip
        rho = effort_table.dropna(subset=["Spearman"])
        if len(rho):
            low, high = rho.loc[rho["Spearman"].idxmin()], rho.loc[rho["Spearman"].idxmax()]
            effort_text += (f" The rank correlations of the per-image areas between the two efforts range from "
                            f"{low['Spearman']:.2f} ({low['method']} {low['kind']}) to {high['Spearman']:.2f} "
                            f"({high['method']} {high['kind']}).")  # fmt: skip
        else:
            effort_text += " Their rank correlation is not measured: too few images, or areas without spread."
        # what the paired tests compare: each image's IDGI-minus-base difference; does its sign change with the effort?
        flips = []
        for kind in ("sic", "aic"):
            d_run = (efforts[webp_method].per_image("IG+IDGI", kind).values.numpy()
                     - efforts[webp_method].per_image("IG", kind).values.numpy())  # fmt: skip
            d_pair = (efforts[4].per_image("IG+IDGI", kind).values.numpy()
                      - efforts[4].per_image("IG", kind).values.numpy())  # fmt: skip
            ok = np.isfinite(d_run) & np.isfinite(d_pair)
            if ok.any():
                flips.append(report.counted(int((np.sign(d_run[ok]) != np.sign(d_pair[ok])).sum()), int(ok.sum()),
                                            f"images ({kind.upper()})"))  # fmt: skip
        if flips:
            effort_text += (" The paired tests compare each image's difference IG + IDGI minus IG; its sign (positive, "
                            "zero or negative) changes between the two efforts for " + " and ".join(flips)
                            + ".")  # fmt: skip
    # Blur IG's base map at this run's steps: its sum against the output change it should explain (completeness error)
    blur_check = BlurIG(system.model, output)
    blurred = blur_check.reference(x_check)
    blur_change = (blur_check.forward_outputs(x_check, y_check) - blur_check.forward_outputs(blurred, y_check)).abs()
    blur_map, blur_idgi_map = blur_check.attribute_with_idgi(x_check, target=y_check, n_steps=prof.blur_steps)
    blur_miss = blur_check.completeness_error(x_check, blur_map, y_check, baselines=blurred).abs()
    blur_ratio = float(blur_miss.mean()) / max(float(blur_change.mean()), 1e-30)
    blur_riemann = (
        "its completeness error is larger than the output change it should explain" if blur_ratio >= 1 else
        "its completeness error is a sizeable part of the output change, an error its IDGI version does not have"
        if blur_ratio >= 0.1 else "its completeness error is small against the output change"
    )  # fmt: skip
    blur_text = (
        f"On the first {len(x_check)} scored images of {system.name}, Blur IG's map at {prof.blur_steps} steps "
        f"misses completeness by {float(blur_miss.mean()):.2f} on average, against a mean output change of "
        f"{float(blur_change.mean()):.2f} from the most blurred image to the input: {blur_riemann}. It is measured at "
        "one step count, so how much of it the discretisation causes is not separated."
    )  # fmt: skip
    # how one-signed the maps are (exercise ex-tables-predict): the share of each map's channel-sum mass that is
    # negative
    neg_maps = {"IG": ig_check[0], "IG+IDGI": ig_check[1], "BlurIG": blur_map, "BlurIG+IDGI": blur_idgi_map}
    neg_share = {}
    for m, a in neg_maps.items():
        summed = a.detach().double().sum(1).flatten(1).cpu()
        total = summed.abs().sum(1)
        keep = total > 0
        neg_share[m] = float(((-summed.clamp(max=0)).sum(1)[keep] / total[keep]).mean()) if keep.any() else float("nan")
    assert all(0 <= v <= 1 for v in neg_share.values() if np.isfinite(v)), neg_share  # a share, any map
    neg_pairs = [b for b in ("IG", "BlurIG") if np.isfinite(neg_share[b]) and np.isfinite(neg_share[f"{b}+IDGI"])]
    less_negative = [b for b in neg_pairs if neg_share[f"{b}+IDGI"] < neg_share[b]]
    named = {"IG": "IG", "BlurIG": "Blur IG"}
    if not neg_pairs:
        neg_verdict = "IDGI's version against its base map is " + report.not_measured("a zero map on every image") + "."
    elif len(less_negative) == len(neg_pairs):
        neg_verdict = ("IDGI's version carries less negative mass than its base map for "
                       + ("both IG and Blur IG." if len(neg_pairs) == 2 else f"{named[neg_pairs[0]]}."))  # fmt: skip
    elif less_negative:
        neg_verdict = f"IDGI's version carries less negative mass than its base map for {named[less_negative[0]]} only."
    else:
        neg_verdict = ("IDGI's version carries no less negative mass than its base map for "
                       + " or ".join(named[b] for b in neg_pairs) + ".")  # fmt: skip
    neg_text = (
        f"Measured on the first {len(x_check)} scored images of {system.name}, the share of a map's channel-sum "
        "mass (the sum of |sum_c a_c| over the pixels) that is negative, averaged over the images: "
        + ", ".join(f"{m} {v:.2f}" if np.isfinite(v) else f"{m} not measured (a zero map)"
                    for m, v in neg_share.items())
        + " (Guided IG's maps are not kept here). " + neg_verdict
    )  # fmt: skip
    return {"effort_table": effort_table,
            "texts": {"effort_sentence": effort_text, "blur_riemann_sentence": blur_text,
                      "neg_mass_sentence": neg_text}}  # fmt: skip


# --- the card ----------------------------------------------------------------------------------------------------

#: a verdict over the datasets, in the card's words
ACROSS = ("over the datasets: reproduced if every dataset is, partly if some dataset is reproduced or partly, else "
          "not reproduced if some dataset is not, else inconclusive")  # fmt: skip
#: the TMLR study's questions asked of this chapter's cells: the rule's outcome as this chapter's answer
ANSWER = {"reproduced": "yes", "partly": "yes on some datasets, not on all", "not reproduced": "no",
          "inconclusive": "leaning yes, not significantly", "not comparable": "not measured"}  # fmt: skip
#: the maps without IDGI
BASE_MAPS = ("IG", "GIG", "BlurIG", "VG")
#: the alternative explanation of IDGI's worse insertion cells against IG and Guided IG
ALTERNATIVE = ("; not separated, for the cells against IG and GIG: IDGI's mass on pixels equal to their black "
               "baseline, which IG and GIG leave at 0 and insertion onto a black canvas cannot reward")  # fmt: skip
#: PAIR's Blur IG default number of steps
PAIR_BLUR_STEPS = 100


def pasted_aic(bokeh: pd.DataFrame, level: str, sign: str) -> pd.DataFrame:
    """Per (system, method) at one information level and channel convention, on the images the table stands on: the
    mean AIC of the bokeh images over the thresholds strictly between none and all of the pixels pasted
    (``between``), and of the blurred base, where none is pasted (``blurred base``)."""
    part = bokeh[(bokeh.information_level == level) & (bokeh.sign == sign)]
    part = part[np.isfinite(part.information.to_numpy(dtype=float))]
    if part.empty:
        return pd.DataFrame(columns=["system", "method", "between", "blurred base"])
    none, full = part.percent.min(), part.percent.max()
    between = part[(part.percent > none) & (part.percent < full)].groupby(["system", "method"]).aic.mean()
    blurred = part[part.percent == none].groupby(["system", "method"]).aic.mean()
    return pd.DataFrame({"between": between, "blurred base": blurred}).reset_index()


class Card:
    """The card of chapter 3: the paper's four tables per dataset under both channel conventions, VG's lowest
    insertion score per dataset, and the TMLR study's questions asked of this chapter's cells (``claims``,
    ``settings``); the tables of the residual-network question (``family``, ``family_table``, ``family_once``); and,
    once the card is drawn, the sentences on what the verdicts stand on (:meth:`sentences`)."""

    def __init__(self, run: dict, loaded, comparison: pd.DataFrame, absolute: pd.DataFrame,
                 paper_wins: pd.DataFrame, images: dict, tables: dict, vg: dict, prof, alpha: float, seed: int,
                 output: str, webp_method: int) -> None:  # fmt: skip
        self.loaded, self.names = loaded, [s.name for s in loaded]
        self.comparison, self.absolute, self.paper_wins = comparison, absolute, paper_wins
        self.bokeh, self.pred, self.prof, self.alpha, self.seed = run["bokeh"], run["pred"], prof, alpha, seed
        self.no_masks, self.no_table2, self.table2_text = images["no_masks"], images["no_table2"], images["table2_text"]
        self.object_share, self.mae_best_rows = tables["object_share"], tables["mae_best_rows"]
        system_info = pd.DataFrame([{
            "system": s.name, "dataset": s.spec.dataset,
            "level": "under-trained" if (split_registry_name(s.spec.model) or ("", False))[1] else "trained",
            "family": it.architecture(s.spec.model),
        } for s in loaded])  # fmt: skip
        self.dataset_of = dict(zip(system_info.system, system_info.dataset, strict=True))
        self.datasets = list(dict.fromkeys(system_info.dataset))
        self.cell_test = (f"paired Wilcoxon signed-rank test at {alpha:g} per (system, metric, base) cell of the "
                          "dataset's systems, direction by the signed ranks; reproduced if every tested cell is "
                          "better, partly if at least half are, else not reproduced; not comparable without a tested "
                          "cell; n/a cells are not tested and saturated cells are not counted")  # fmt: skip
        # (table, what, dataset, worse, tested): a dataset where IDGI is worse in more tested cells than better
        self.reversals = []
        signed, absolute_ = comparison, absolute
        claims = [
            *self.table_claim("Table 1", TABLES["Table 1: insertion"], signed,
                              "insertion; pixels ranked by the signed channel sum"),
            *self.table_claim("Table 1", TABLES["Table 1: insertion"], absolute_,
                              "insertion; pixels ranked by the absolute channel sum"),
            *self.table_claim("Table 2", TABLES["Table 2: SIC/AIC (entropy)"], signed,
                              "SIC/AIC (entropy); signed channel sum", self.table2_signed_extra),
            *self.table_claim("Table 2", TABLES["Table 2: SIC/AIC (entropy)"], absolute_,
                              "SIC/AIC (entropy); absolute channel sum", self.table2_absolute_extra),
            *self.table_claim("Table 3", TABLES["Table 3: SIC/AIC (MS-SSIM)"], signed,
                              "SIC/AIC (MS-SSIM); signed channel sum", self.table3_extra),
            *self.table_claim("Table 4", ["F1", "ROC-AUC", "MAE (best threshold)"], signed,
                              "localisation; absolute channel sum; F1, ROC-AUC and MAE at the best threshold",
                              self.table4_extra,
                              "; the MAE at the best threshold can never be much above an empty mask's (the object "
                              "share): read its differences against it; 'ours' gives both"),
        ]  # fmt: skip
        claims += self.vg_claims(vg)
        claims.append(self.results_claim())
        claims.append(self.family_claim(system_info))
        claims.append({
            "artefact": "TMLR study, step count", "claim": "IDGI's results depend on the number of Riemann steps",
            "paper": "TMLR study: steps varied (ImageNet)",
            "ours": report.not_measured(f"one step count per method here (IG and GIG {prof.idgi_steps}, Blur IG "
                                        f"{prof.blur_steps}); chapter 02_idgi_noise measures how the maps change "
                                        "with the step count, not these metrics"),
            "verdict": "not comparable",
            "test": "none in this chapter; chapter 02_idgi_noise measures the maps' change between step counts, not "
                    "the metrics",
        })  # fmt: skip
        self.claims = claims
        masked = [s.name for s in loaded if s.data("test").masks is not None]
        self.settings = [
            ("models", "11 ImageNet CNNs (TensorFlow, pretrained)", ", ".join(self.names)),
            ("images", "correctly classified ImageNet validation images (33K-39K per model)",
             f"first {prof.idgi_table_images} correctly classified test images per system"),
            ("steps", "200 for IG, GIG and Blur IG",
             f"IG and GIG {prof.idgi_steps}, Blur IG {prof.blur_steps}"
             + (" (PAIR's default)" if prof.blur_steps == PAIR_BLUR_STEPS
                else f" (PAIR's default is {PAIR_BLUR_STEPS})")),
            ("attributed output", "softmax probability (reference code)", output),
            ("channels", "not stated",
             "signed sum for insertion and SIC/AIC, absolute sum for localisation (the book's); insertion and SIC/AIC "
             "(entropy) also by the absolute sum"),
            ("SIC/AIC", "IDGI protocol (PIL blur radius 20, 25 thresholds, 100 bins)",
             f"the same, radius scaled to the image side; WebP effort {webp_method}; rows whose blurred base is "
             "classified as the target for most images are saturated (not comparable); PAIR's protocol as cross-check "
             f"on {self.names[0]}"),
            ("localisation", "ImageNet bounding boxes; F1 and MAE at the best threshold",
             f"object masks of {', '.join(masked)}; MAE at the best threshold and of the continuous map" if masked
             else report.not_measured("no system has object masks")),
            ("tests", "none (means over the images)",
             f"paired Wilcoxon signed-rank per cell at {alpha:g}; Holm's correction for the worse-cell claim; "
             "McNemar's exact test for VGG-style against ResNet"),
        ]  # fmt: skip

    # --- the tables' claims, one row per dataset ---

    def members(self, dataset: str) -> list[str]:
        """The systems of ``dataset``."""
        return [n for n in self.names if self.dataset_of[n] == dataset]

    def untested_why(self, title: str, dataset: str, counts: dict) -> str:
        """Why no cell of ``title`` could be tested on ``dataset`` (its card row's 'not measured')."""
        members = self.members(dataset)
        if title == "Table 4" and set(members) <= set(self.no_masks):
            return f"the data of {', '.join(members)} has no object masks, so localisation was not scored"
        if title == "Table 2" and set(members) <= set(self.no_table2):
            return f"no image of {', '.join(members)} enters Table 2 (the entropy normalisation leaves them all out)"
        if counts["saturated"]:
            return (f"{counts['saturated']} cells lie in saturated rows (the blurred base is already classified as "
                    "the target for most images)"
                    + (f" and {counts['n/a']} have fewer than five images with a value on both sides"
                       if counts["n/a"] else ""))  # fmt: skip
        if counts["n/a"]:
            return UNTESTED_REASON
        return "no cell of these metrics was scored on its systems"

    def missing_note(self, title: str, dataset: str) -> str:
        """The systems of ``dataset`` that have no cell in ``title`` although others have (no Table 2 image, no
        masks)."""
        members = self.members(dataset)
        if title == "Table 2" and any(n in self.no_table2 for n in members):
            return (
                f"; not comparable on {', '.join(n for n in members if n in self.no_table2)} (no image enters Table 2)"
            )
        if title == "Table 4" and any(n in self.no_masks for n in members):
            return f"; not measured on {', '.join(n for n in members if n in self.no_masks)} (no object masks)"
        return ""

    def table_claim(self, title: str, metrics: list[str], comp: pd.DataFrame, what: str, extra=None,
                    test_note: str = "") -> list[dict]:  # fmt: skip
        """One table's claim, one card row per dataset: IDGI better than its base method, counted over the dataset's
        tested cells (``extra``: a function of the dataset giving what else its row says when cells were tested;
        ``test_note``: added to the test's description). A dataset without a tested cell gets a not comparable row
        that says why; a dataset where IDGI is worse in more tested cells than better is named as reversed (and noted
        in ``reversals``)."""
        cells = comp[comp.metric.isin(metrics)]
        paper_part = self.paper_wins[self.paper_wins.metric.isin(metrics)]
        paper_text = (f"better in {int(paper_part['sum'].sum())} of {int(paper_part['size'].sum())} model x metric x "
                      "base cells")  # fmt: skip
        rows = []
        for dataset in self.datasets:
            counts = it.win_counts(cells[cells.system.map(self.dataset_of) == dataset])
            if counts["tested"] == 0:
                ours = report.not_measured(self.untested_why(title, dataset, counts))
            else:
                ours = (f"better in {counts['better']} of {counts['tested']} tested cells, worse in {counts['worse']}"
                        + (f"; {counts['n/a']} cells with fewer than five images not tested" if counts["n/a"] else "")
                        + (f"; {counts['saturated']} saturated cells not comparable" if counts["saturated"] else "")
                        + self.missing_note(title, dataset) + (extra(dataset) if extra else ""))  # fmt: skip
                if counts["worse"] > counts["better"]:
                    ours += "; reversed: IDGI worse in more tested cells than better"
                    self.reversals.append((title, what, dataset, counts["worse"], counts["tested"]))
            rows.append({"artefact": f"{title} ({dataset})", "claim": f"IDGI improves IG, GIG and Blur IG ({what})",
                         "paper": paper_text, "ours": ours,
                         "verdict": report.verdict(counts["better"], counts["tested"]),
                         "test": self.cell_test + test_note})  # fmt: skip
        return rows

    def table4_extra(self, dataset: str) -> str:
        """Table 4's row of ``dataset``: the continuous MAE's count, and the MAE at the best threshold against an
        empty mask's (the mean object share of the dataset's scored images)."""
        comparison, dataset_of = self.comparison, self.dataset_of
        mine = comparison.system.map(dataset_of) == dataset
        cont_d = it.win_counts(comparison[mine & (comparison.metric == "MAE (continuous)")])
        text = (f"; with the continuous MAE in place of the thresholded one: better in {cont_d['better']} of "
                f"{cont_d['tested']} MAE cells" if cont_d["tested"] else "")  # fmt: skip
        shares = [v for n, v in self.object_share.items() if dataset_of[n] == dataset]
        rows_d = (self.mae_best_rows[self.mae_best_rows.system.map(dataset_of) == dataset] if len(self.mae_best_rows)
                  else self.mae_best_rows)  # fmt: skip
        values = rows_d[list(METHODS)].to_numpy(dtype=float) if len(rows_d) else np.array([np.nan])
        if shares and np.isfinite(values).any():
            text += (f"; MAE at the best threshold {np.nanmin(values):.3f} to {np.nanmax(values):.3f} against "
                     f"{np.mean(shares):.3f} for an empty mask (the mean object share)")  # fmt: skip
        return text

    def base_floor(self, dataset: str, level: str, signs: tuple[str, ...]) -> str:
        """How far the base maps' top-ranked pixels lift the AIC above the blurred base, per channel convention (the
        text a Table 2 or 3 row of ``dataset`` adds to 'ours'; empty without bokeh images)."""
        parts, against = [], ""
        idgi = pasted_aic(self.bokeh, level, "signed")
        idgi = idgi[(idgi.system.map(self.dataset_of) == dataset) & idgi.method.isin(list(BASES))]
        for sign in signs:
            t = pasted_aic(self.bokeh, level, sign)
            t = t[(t.system.map(self.dataset_of) == dataset) & t.method.isin(BASE_MAPS)]
            if t.empty:
                continue
            maps = ", ".join(f"{m} {report.span(t.loc[t.method == m, 'between'], '.2f')}" for m in BASE_MAPS
                             if (t.method == m).any())  # fmt: skip
            idgi_range = report.span(idgi["between"], ".2f")
            parts.append(f"ranked by the {sign} sum {maps}"
                         + (f" (the IDGI versions {idgi_range})" if sign == "signed" and len(idgi)
                            else ""))  # fmt: skip
            if sign == "signed":
                low = t[t["between"] <= t["blurred base"]]
                per_map = ", ".join(f"{m} {int((low.method == m).sum())}" for m in BASE_MAPS
                                    if (low.method == m).any())  # fmt: skip
                base_range = report.span(t["blurred base"], ".2f")
                against = (f"; the blurred base alone (no pixel pasted) has {base_range}, and "
                           f"{len(low)} of {len(t)} (system, base map) curves ranked by the signed sum stay at or "
                           "below their system's on average"
                           + (f" ({per_map}): under the signed convention their top-ranked pixels help the model no "
                              "more than leaving the image blurred" if len(low) else ""))  # fmt: skip
        if not parts:
            return ""
        return "; mean AIC of the bokeh images between none and all pixels pasted, " + "; ".join(parts) + against

    def other_convention(self, dataset: str, metrics: list[str], comp: pd.DataFrame, name: str) -> str:
        """The count and verdict the same table's row of ``dataset`` gets under the other channel convention
        ``name``."""
        counts = it.win_counts(comp[comp.metric.isin(metrics) & (comp.system.map(self.dataset_of) == dataset)])
        if counts["tested"] == 0:
            return f"; with the {name} channel sum: no tested cell"
        return (f"; with the {name} channel sum: better in {counts['better']} of {counts['tested']} tested cells, "
                f"worse in {counts['worse']} ({report.verdict(counts['better'], counts['tested'])})")  # fmt: skip

    def table2_signed_extra(self, dataset: str) -> str:
        """Table 2's signed row: the other convention's count, and what the signed ranking leaves of the base maps."""
        return (self.other_convention(dataset, TABLES["Table 2: SIC/AIC (entropy)"], self.absolute, "absolute")
                + self.base_floor(dataset, "entropy", ("signed", "absolute")))  # fmt: skip

    def table2_absolute_extra(self, dataset: str) -> str:
        """Table 2's absolute row: the signed convention's (the tables') count beside it."""
        return self.other_convention(dataset, TABLES["Table 2: SIC/AIC (entropy)"], self.comparison, "signed")

    def table3_extra(self, dataset: str) -> str:
        """Table 3's row (signed only): what the signed ranking leaves of the base maps, and the convention not
        scored."""
        cover = axis_cover(self.bokeh, self.loaded, dataset, "MS-SSIM")
        return (self.base_floor(dataset, "MS-SSIM", ("signed",))
                + (f"; the bokeh images start at MS-SSIM {cover[0]:.2f} and leave {cover[1]} of the 100 bins empty, "
                   f"{cover[2]} of them below the lowest occupied bin (values interpolated or held flat, not measured)"
                   if cover else "")
                + "; the MS-SSIM level is scored with the signed sum only: whether its verdict depends on the channel "
                "convention is not measured")  # fmt: skip

    # --- VG, per dataset ---

    def vg_claims(self, vg: dict) -> list[dict]:
        """VG's lowest insertion score: one outcome per system, a verdict per dataset. The ratio variant of a row is
        the same insertion curve divided by the image's own probability, not a second piece of evidence: the
        probability variant decides, the ratio variant's agreement is reported beside it (the paper's rows are counted
        the same way)."""
        alpha = self.alpha
        vg_by_system = vg["by_system"].assign(dataset=lambda t: t.system.map(self.dataset_of))
        vg_gap = vg_by_system.dropna(subset=["gap"])
        vg_gap_by = vg_gap.groupby("dataset", sort=False).gap.agg(["min", "max"])
        self.vg_by_system, self.vg_gap_by = vg_by_system, vg_gap_by
        paper = paper_idgi_tables()
        paper_rows = paper[(paper.table == 1) & (paper.metric == vg["metric"])].pivot_table(
            index="model", columns="method", values="value")  # fmt: skip
        paper_vg = int(paper_rows.idxmin(axis=1).eq("VG").sum())
        vg_claim_test = (
            f"one row per system (Table 1's probability variant; the ratio variant is the same curve rescaled), paired "
            f"Wilcoxon signed-rank test at {alpha:g} on the same images, direction by the signed ranks: when VG's mean "
            "is the row's lowest, VG against the second-lowest (significantly lower: lowest, else undecided); "
            "otherwise the lowest against VG (significantly lower: not lowest, else undecided); per dataset: "
            "reproduced if every tested system is lowest, partly if at least half are, not reproduced if fewer are and "
            "at least half are not lowest, else inconclusive"
        )
        claims = []
        for d, g in vg_by_system.groupby("dataset", sort=False):
            counts = {o: int((g.outcome == o).sum()) for o in it.LOWEST_OUTCOMES}
            tested = len(g) - counts["not tested"]
            if tested:
                same = int(sum(vg["ratio_outcome"].get(sys_) == o for sys_, o in zip(g.system, g.outcome,
                                                                                      strict=True)))  # fmt: skip
                ours = (f"lowest in {counts['lowest']}, not lowest in {counts['not lowest']}, undecided in "
                        f"{counts['undecided']} of {tested} tested systems"
                        + (f"; {counts['not tested']} not tested (too few images)" if counts["not tested"] else "")
                        + f"; the ratio variant gives the same outcome for {same} of {len(g)}"
                        + (f"; VG's mean minus the row's lowest: {vg_gap_by.loc[d, 'min']:.3f} to "
                           f"{vg_gap_by.loc[d, 'max']:.3f}" if d in vg_gap_by.index else ""))  # fmt: skip
            else:
                ours = report.not_measured("no system has five images with a value for VG and the method it is "
                                           "compared with")  # fmt: skip
            claims.append({
                "artefact": f"sec. 4.3 ({d})", "claim": "VG has the lowest insertion score",
                "paper": f"{paper_vg} of {len(paper_rows)} models", "ours": ours,
                "verdict": it.lowest_verdict(g.outcome), "test": vg_claim_test,
            })  # fmt: skip
        return claims

    # --- the TMLR study's questions ---

    def black_share(self, system) -> float:
        """The share of the scored images' pixels that equal the black image in every channel: IG's baseline and the
        insertion canvas (IG gives such a pixel exactly 0; IDGI's weight has no factor x - x' and can give it mass)."""
        scored = torch.tensor(common.first_correct(self.pred, system.name, self.prof.idgi_table_images),
                              dtype=torch.long)  # fmt: skip
        if not len(scored):
            return float("nan")
        return float((system.data("test").subset(scored).inputs == 0).all(1).float().mean())

    def share_range(self, systems_: list[str]) -> str:
        """The share of black pixels over ``systems_``, as one percentage or a range."""
        low, high = (f"{f(self.black_shares[n] for n in systems_):.0%}" for f in (min, max))
        return low if low == high else f"{low} to {high}"

    def results_claim(self) -> dict:
        """Is IDGI significantly worse than its base method in some cell after Holm's correction (all tables, the
        book's conventions)? The study's own results (ImageNet) are not quoted, so its row reproduces nothing: its
        verdict is "not comparable", and the rule's outcome is this chapter's answer to the study's question."""
        comparison, alpha, names, dataset_of = self.comparison, self.alpha, self.names, self.dataset_of
        all_cells = it.win_counts(comparison)
        holm_worse = int(((comparison["p (Holm)"] < alpha) & (comparison.verdict == "worse")).sum())
        # the same cells with the same metric computed two ways counted once: the distinct comparisons they stand for
        holm_once = it.family_win_counts(
            comparison[(comparison["p (Holm)"] < alpha) & (comparison.verdict == "worse")]
        )["groups"]
        self.untested_text = untested_text = report.not_measured(f"no cell could be tested ({UNTESTED_REASON})")
        if all_cells["tested"] == 0:
            results_outcome, results_ours = "not comparable", untested_text
        else:
            results_outcome = ("reproduced" if holm_worse else
                               "inconclusive" if all_cells["worse"] else "not reproduced")  # fmt: skip
            results_ours = (f"this chapter's answer: {ANSWER[results_outcome]} (the study's question asked of this "
                            f"chapter's cells; the study's own results are not quoted): significantly worse after the "
                            f"Holm correction in {holm_worse} of {all_cells['tested']} tested "
                            f"cells, {holm_once} distinct comparisons with the same metric computed two ways counted "
                            f"once (at {alpha:g} without a correction: worse in {all_cells['worse']}, better in "
                            f"{all_cells['better']})")  # fmt: skip
        self.all_cells, self.holm_worse, self.results_outcome = all_cells, holm_worse, results_outcome
        self.black_shares = {s.name: self.black_share(s) for s in self.loaded}
        holm_cells = comparison[(comparison["p (Holm)"] < alpha) & (comparison.verdict == "worse")]
        holm_insertion = holm_cells[holm_cells.metric.isin(TABLES["Table 1: insertion"])]
        insertion_systems = list(dict.fromkeys(holm_insertion.system))
        # the black-pixel explanation concerns the bases whose baseline is the black image (IG, Guided IG); Blur IG's
        # baseline is the blurred image, whose pixels are not black
        holm_black = holm_insertion[holm_insertion.base.isin(["IG", "GIG"])]
        black_systems = list(dict.fromkeys(holm_black.system))
        n_blur_holm = len(holm_insertion) - len(holm_black)
        self.holm_insertion, self.holm_black, self.black_systems = holm_insertion, holm_black, black_systems
        self.n_blur_holm = n_blur_holm
        black_share, share_range = self.black_shares, self.share_range
        if len(holm_black):
            by_dataset_share = "; ".join(
                f"{d}: {share_range([n for n in names if dataset_of[n] == d and np.isfinite(black_share[n])])}"
                for d in self.datasets
                if any(dataset_of[n] == d and np.isfinite(black_share[n]) for n in names)
            )
            insertion_cells = comparison[comparison.metric.isin(TABLES["Table 1: insertion"])]
            not_worse = [n for n in names if dataset_of[n] in {dataset_of[m] for m in black_systems}
                         and n in set(insertion_cells.system)
                         and not (insertion_cells[insertion_cells.system == n].verdict == "worse").any()]  # fmt: skip
            baseline_text = (
                f"{len(holm_insertion)} of the {holm_worse} cells where IDGI is significantly worse after the Holm "
                f"correction are insertion cells, on {', '.join(insertion_systems)}: {len(holm_black)} against IG or "
                "Guided IG, whose baseline is the black image"
                + (f", and {n_blur_holm} against Blur IG, whose baseline is the blurred image" if n_blur_holm else "")
                + f". The share of the scored images' pixels that equal the black image exactly is {by_dataset_share}. "
                "The black image is both the IG and Guided IG baseline and the insertion canvas: IG and Guided IG give "
                "such a pixel exactly 0 (their path does not move it), IDGI's weight g^2 / |g|^2 has no such factor "
                "and can give it mass, and inserting a pixel onto a canvas of its own value changes nothing. The book "
                f"proposes this as an explanation of the {len(holm_black)} cells against IG or Guided IG beside a "
                "worse map, IDGI's mass on pixels that insertion cannot reward, which the tests do not separate"
                + (f"; it does not apply to the {n_blur_holm} cells against Blur IG" if n_blur_holm else "")
                + (f"; and it is not the whole story: on {', '.join(not_worse)}, with {share_range(not_worse)} such "
                   "pixels, IDGI is worse in no insertion cell." if not_worse else ".")
            )  # fmt: skip
            baseline_card = (f"; {len(holm_insertion)} of them insertion cells, {len(holm_black)} of these against IG "
                             f"or GIG on images with {share_range(black_systems)} of pixels equal to their black "
                             "baseline and the insertion canvas (see the text)")  # fmt: skip
            # the other family of the same datasets scores the same test images: the black pixels alone cannot
            # separate them
            same_images = [n for n in names if dataset_of[n] in {dataset_of[m] for m in black_systems}
                           and n not in black_systems and np.isfinite(black_share[n])]  # fmt: skip
            self.family_card = (f"; IDGI's insertion cells against IG or GIG that are significantly worse after the "
                                f"Holm correction lie on "
                                f"{', '.join(black_systems)}; {', '.join(same_images)} score test images of the same "
                                f"data ({share_range(same_images)} of pixels equal to the black image), so these "
                                "pixels alone do not explain a difference between the families"
                                if same_images else "")  # fmt: skip
        elif len(holm_insertion):
            baseline_text = (f"{len(holm_insertion)} of the {holm_worse} cells where IDGI is significantly worse after "
                             f"the Holm correction are insertion cells, on {', '.join(insertion_systems)}, all against "
                             "Blur IG, whose baseline is the blurred image: pixels equal to a black baseline do not "
                             "bear on them.")  # fmt: skip
            baseline_card = self.family_card = ""
        else:
            baseline_text = (f"None of the {holm_worse} cells where IDGI is significantly worse after the Holm "
                             "correction is an insertion cell." if holm_worse else "")  # fmt: skip
            baseline_card = self.family_card = ""
        self.baseline_text = baseline_text
        return {
            "artefact": "TMLR study, results", "claim": "IDGI is worse than its base method in some cells",
            "paper": "IDGI paper: better in every cell; TMLR study: examines whether the gains hold on every model "
                     "(ImageNet)",
            "ours": results_ours + baseline_card, "verdict": "not comparable",
            "test": "not comparable: the study's results (ImageNet) are not quoted, so nothing is reproduced; its "
                    "question asked of this chapter's cells: paired "
                    f"Wilcoxon signed-rank test per (system, metric, base) cell, all four tables, Holm's correction "
                    f"over all tested cells at {alpha:g}; answer yes if at least one cell is significantly worse after "
                    f"it, leaning yes if none is but some cell is worse at {alpha:g} without the correction, no if no "
                    "cell is worse even then"
                    + (ALTERNATIVE if baseline_card else ""),
        }  # fmt: skip

    def power_note(self, r) -> str:
        """After a dataset's exact p: that no split of so few discordant groups could be significant, where so."""
        d = int(r["VGG only"] + r["ResNet only"])
        floor = it.smallest_exact_p(d)
        return (f"; no split of {d} groups can reach {self.alpha:g} (smallest possible p {floor:.2g}): the test had no "
                "power here" if floor >= self.alpha else "")  # fmt: skip

    def family_claim(self, system_info: pd.DataFrame) -> dict:
        """Does IDGI win fewer matched cells on the ResNet than on the VGG-style model of a dataset (residual
        networks, per dataset, the same metric computed two ways counted once)?"""
        alpha = self.alpha
        self.family = family = it.family_pairs(self.comparison, system_info)
        self.family_table = family_table = it.family_by_dataset(family, alpha)
        # the same metric computed two ways (insertion's probability and ratio, SIC and AIC of one set of bokeh images,
        # the two MAEs) counted once per (training level, base method, metric family): the groups the verdict stands on
        self.family_once = family_once = it.family_groups(family, alpha).set_index("dataset")
        self.per_cell = per_cell = family_table.set_index("dataset")
        if self.all_cells["tested"] == 0:
            family_outcome, family_ours = "not comparable", self.untested_text
        elif len(family_once) == 0:
            family_outcome = "not comparable"
            family_ours = report.not_measured("no VGG-style and ResNet system share a dataset and a training level")
        else:
            family_outcome = it.across_datasets(family_once.verdict)
            family_ours = (
                f"this chapter's answer: {ANSWER[family_outcome]} (the study's question asked of this chapter's "
                "models; the study's own results are not quoted): "
            )
            family_ours += "; ".join(
                f"{d}: counted once per (training level, base, metric family), won on one side only in "
                f"{r['VGG only']} groups on the VGG-style models and {r['ResNet only']} on the ResNets, of "
                f"{r['groups']} groups (exact p = {r['p']:.2g}; {ANSWER[r['verdict']]}{self.power_note(r)}); per "
                f"matched cell: IDGI better in {per_cell.loc[d, 'better VGG']} of "
                f"{per_cell.loc[d, 'cells']} on the VGG-style models, {per_cell.loc[d, 'better ResNet']} on the "
                f"ResNets, won on one side only {per_cell.loc[d, 'VGG only']} VGG, {per_cell.loc[d, 'ResNet only']} "
                f"ResNet (exact p = {per_cell.loc[d, 'p']:.2g}; {ANSWER[per_cell.loc[d, 'verdict']]} by the same rule "
                "if the cells were independent, which two ways of computing one metric are not)"
                for d, r in family_once.iterrows()
            )  # fmt: skip
            family_ours += self.family_card
        self.family_outcome, self.family_ours = family_outcome, family_ours
        return {
            "artefact": "TMLR study, residual networks",
            "claim": "IDGI is better in fewer matched cells on the ResNet models than on the VGG-style ones",
            "paper": "IDGI paper: better on its three ResNets as on the rest; TMLR study: examines residual networks "
                     "among its ImageNet models",
            "ours": family_ours, "verdict": "not comparable",
            "test": "not comparable: the study's results (ImageNet) are not quoted, so nothing is reproduced; its "
                    "question asked of this chapter's models: per "
                    "dataset, matched (training level, metric, base) cells of the VGG-style and the ResNet model, both "
                    "tested, grouped by (training level, base, metric family) so that the same metric computed two "
                    "ways (insertion's probability and ratio of one curve, SIC and AIC of one set of bokeh images, the "
                    "two MAEs of one map) counts once, a group won by "
                    f"the side whose cells win more of it: McNemar's exact test on the groups won by one side only, at "
                    f"{alpha:g} (optimistic: the groups share images; one model per family, dataset and training "
                    "level; 'ours' also gives the count per cell); answer yes if significant towards fewer ResNet "
                    "wins, leaning yes if leaning so without significance, else no; over the datasets: yes if every "
                    "dataset says yes, yes on some if some dataset does, else no if some dataset says no, else leaning "
                    "yes",
        }  # fmt: skip

    # --- what the verdicts stand on ---

    def sentences(self, card_df: pd.DataFrame) -> dict[str, str]:
        """The sentences on what the card's verdicts stand on (``card_df``: the drawn card, for each quoted verdict's
        stability across the seed study's trainings): reversed tables, VG per dataset, the residual-network counts,
        the summary's cells and TMLR answers, and the saturated rows' tests."""
        alpha, seed, comparison, all_cells = self.alpha, self.seed, self.comparison, self.all_cells
        family_once, per_cell, vg_by_system, vg_gap_by = (
            self.family_once,
            self.per_cell,
            self.vg_by_system,
            self.vg_gap_by,
        )

        def seed_tag(artefact: str, claim: str | None = None) -> str:
            """After a verdict quoted from the card: nothing when the seed study finds it the same with every seed,
            else ``" (seed 0)"`` (this run's seed) and, when the study's other seeds differ, says so."""
            row = card_df[(card_df.artefact == artefact) & ((card_df.claim == claim) if claim else True)]
            stability = set(row["across seeds"])
            if stability == {"stable"}:
                return ""
            return f" (seed {seed}; other seeds differ)" if "unstable" in stability else f" (seed {seed})"

        texts = {}
        if self.reversals:
            reversal_text = "Per dataset the tables can point opposite ways: " + "; ".join(
                f"{t} ({what}) is reversed on {d}, where IDGI is worse than its base method in {w} of {n} tested cells"
                + seed_tag(f"{t} ({d})", f"IDGI improves IG, GIG and Blur IG ({what})")
                for t, what, d, w, n in self.reversals
            ) + (". Each dataset has its own row on the card, so such a reversal is that row's verdict (not "
                 "reproduced) and no verdict over the datasets hides it.")  # fmt: skip
        elif all_cells["tested"]:
            reversal_text = "No table is reversed on a dataset: in none is IDGI worse in more tested cells than better."
        else:
            reversal_text = ""
        texts["reversal_sentence"] = reversal_text
        vg_system_tested = int((vg_by_system.outcome != "not tested").sum())
        if vg_system_tested:
            vg_parts = []
            for d, g in vg_by_system.groupby("dataset", sort=False):
                outcomes = ", ".join(f"{o} in {int((g.outcome == o).sum())}" for o in it.LOWEST_OUTCOMES
                                     if (g.outcome == o).any())  # fmt: skip
                gap = (f", VG's mean minus the row's lowest {vg_gap_by.loc[d, 'min']:.3f} to "
                       f"{vg_gap_by.loc[d, 'max']:.3f}" if d in vg_gap_by.index else "")  # fmt: skip
                vg_parts.append(f"{d}: {outcomes} of {len(g)} systems{gap}")
            vg_decided = int(vg_by_system.outcome.isin(["lowest", "not lowest"]).sum())
            vg_text = (
                "Whether VG has the lowest insertion score, per dataset (one row per system): " + "; ".join(vg_parts)
                + ". A system counts for or against the claim only where the paired test separates VG from the method "
                "it is compared with (the second-lowest mean where VG's is the lowest, else the row's lowest), "
                + ("which it does for every tested system." if vg_decided == vg_system_tested else
                   "which it does for no tested system." if not vg_decided
                   else f"which it does for {vg_decided} of the {vg_system_tested} tested systems.")
            )  # fmt: skip
        else:
            vg_text = ""
        texts["vg_sentence"] = vg_text
        if all_cells["tested"] and len(family_once):
            changed = [d for d, r in family_once.iterrows() if per_cell.loc[d, "verdict"] != r["verdict"]]
            family_once_text = (
                "The residual-network answer counts the matched cells once per (training level, base method, metric "
                "family): the same metric computed two ways (insertion's probability and ratio of one curve, SIC and "
                "AIC of one set of bokeh images, the two MAEs of one map) counts once, every other metric on its own. "
                "Counted cell by cell instead, the cells won on one side only are "
                + "; ".join(f"{d}: {r['VGG only']} VGG-style and {r['ResNet only']} ResNet of {r['cells']} (exact p = "
                            f"{r['p']:.2g}, {ANSWER[r['verdict']]} by the same rule if the cells were independent)"
                            for d, r in per_cell.iterrows())
                + (f". Counting each of the two ways separately would change the answer on {', '.join(changed)}; "
                   "the book does not count them so because the two ways of computing one metric are not "
                   "independent."
                   if changed else ". The count per cell gives every dataset the same answer.")
            )  # fmt: skip
        else:
            family_once_text = ""
        texts["family_once_sentence"] = family_once_text
        once = it.family_win_counts(comparison)
        summary_cells = (f"Over the four tables, IDGI is better than its base method in {all_cells['better']} of "
                         f"{all_cells['tested']} tested cells and worse in {all_cells['worse']} (paired tests at "
                         f"{alpha:g} without a correction); "
                         "with metrics computed from the same evidence counted once (insertion's probability and "
                         "ratio, SIC and AIC of one information level, the two MAEs; a group is split when its cells "
                         f"disagree), better in {once['better']} of {once['groups']} groups, no difference in "
                         f"{once['no difference']}, worse in {once['worse']}, split in {once['split']}; "
                         f"the paper's tables have it ahead in {int(self.paper_wins['sum'].sum())} of "
                         f"{int(self.paper_wins['size'].sum())} model x metric x base cells. {reversal_text} "
                         f"{self.table2_text}"
                         if all_cells["tested"] else report.not_measured(f"no cell could be tested ({UNTESTED_REASON})",
                                                                         start=True) + ".")  # fmt: skip
        if all_cells["saturated"]:
            summary_cells += (f" {report.numbered(all_cells['saturated'], 'cell', 'cells')} of saturated SIC/AIC rows "
                              f"{'is' if all_cells['saturated'] == 1 else 'are'} not comparable.")  # fmt: skip
        texts["summary_cells"] = summary_cells
        # saturated rows stay out of every verdict, but their per-image tests are computed: can they still separate
        # the maps?
        sat_cells = comparison[comparison.verdict == "saturated"]
        sat_sig = sat_cells[sat_cells["p"] < alpha]
        sat_ahead, sat_behind = sat_sig[sat_sig["rank balance"] > 0], sat_sig[sat_sig["rank balance"] < 0]
        if len(sat_cells):
            saturated_tests = (
                f"In the {len(sat_cells)} cells of saturated rows, which no verdict counts, the paired test at "
                f"{alpha:g} still finds IDGI ahead of its base method in {len(sat_ahead)}"
                + (" (" + "; ".join(f"{r['system']}, {r['metric']}, against {r['base']}: p = {r['p']:.1g}"
                                    for _, r in sat_ahead.iterrows()) + ")" if len(sat_ahead) else "")
                + f" and behind it in {len(sat_behind)}"
                + (": the per-image ranks separate some maps even in these rows, which the rule keeps out of the "
                   "verdicts because most of their images' curves start at the top." if len(sat_sig)
                   else ": there the tests do not separate the maps either.")
            )  # fmt: skip
        else:
            saturated_tests = ""
        texts["saturated_tests_sentence"] = saturated_tests
        if all_cells["tested"] == 0 or len(family_once) == 0:
            family_short = (f"Whether IDGI wins fewer cells on the ResNet than on the VGG-style model of a dataset is "
                            f"{self.family_ours}.")  # fmt: skip
        else:
            family_short = (f"Fewer wins on the ResNet than on the VGG-style model of a dataset, the same metric "
                            f"computed two ways counted once: {ANSWER[self.family_outcome]}, per dataset ("
                            + "; ".join(f"{d}: {ANSWER[r['verdict']]} ({r['VGG only']} to {r['ResNet only']} groups "
                                        f"won on one side only, p = {r['p']:.2g}{self.power_note(r)})"
                                        for d, r in family_once.iterrows())
                            + "), a comparison of these models, not of architectures; counted cell by cell (treating "
                            "the same metric computed two ways as independent, which it is not), the same rule would "
                            "give "
                            + "; ".join(f"{d}: {ANSWER[r['verdict']]}" for d, r in per_cell.iterrows())
                            + ".")  # fmt: skip
        holm_worse, holm_black = self.holm_worse, self.holm_black
        baseline_short = (f" {len(self.holm_insertion)} of those {holm_worse} cells are insertion cells; "
                          f"{len(holm_black)} of these, against IG or Guided IG, lie on images with "
                          f"{self.share_range(self.black_systems)} of pixels equal to their black baseline and the "
                          "insertion canvas, which IG and Guided IG leave at 0 and IDGI need not: the book proposes "
                          "this as an explanation beside a worse map, which the tests do not separate"
                          + (f"; it does not apply to the {self.n_blur_holm} against Blur IG, whose baseline is the "
                             "blurred image." if self.n_blur_holm else ".")
                          if len(holm_black) else "")  # fmt: skip
        texts["summary_family"] = (
            f"Beside the TMLR study: IDGI is significantly worse than its base method after a Holm correction in "
            f"{holm_worse} of {all_cells['tested']} tested cells (whether its gain fails somewhere: "
            f"{ANSWER[self.results_outcome]}).{baseline_short} {family_short} Both are this run's answers (seed "
            f"{seed}) to the study's questions, not verdicts: the study's own results are not quoted, so the card "
            "calls these rows not comparable, and the seed study, which compares verdicts, does not check them."
            if all_cells["tested"] else f"The two questions of the TMLR study are {self.untested_text}.")  # fmt: skip
        return texts


# --- the exercises -----------------------------------------------------------------------------------------------


def logit_study(ex1_scores: dict[str, pd.DataFrame], comparison: pd.DataFrame, system: str, alpha: float, n_boot: int,
                seed: int) -> dict:  # fmt: skip
    """Exercise 1: the insertion scores (probability variant) of the seven maps per image with the probability and
    with the logit attributed (``ex1_scores``, on ``system``): the means (``means``), the largest change of a mean
    (``change``), IDGI against each base under each output (``tests``, ``verdict_of``) and the change of IDGI's gain
    between the outputs (``gain_change``), Table 1's own verdicts on the system (``table1_verdicts``); the answer."""
    by_output = {kind: v.mean() for kind, v in ex1_scores.items()}
    means = pd.DataFrame(by_output).T.rename_axis("attributed output").reset_index()
    change = (by_output["logit"] - by_output["probability"]).abs()
    n_ex1 = len(ex1_scores["probability"])
    # IDGI against its base method under each output: the paired test of Table 1, on the scaffold's images
    ex1_tests = pd.DataFrame([
        {"attributed output": kind, "base": base, **{k: stats.paired_comparison(v[new], v[base], alpha=alpha,
                                                                              n_boot=n_boot, seed=seed)[k]
                                                  for k in ("n", "mean diff", "p", "verdict")}}
        for kind, v in ex1_scores.items() for new, base in BASES.items()
    ])  # fmt: skip
    verdict_of = {(r["attributed output"], r["base"]): r["verdict"] for _, r in ex1_tests.iterrows()}
    # whether IDGI's gain itself differs between the outputs: the paired test of (IDGI - base) with the logit against
    # (IDGI - base) with the probability, on the same images (one significant verdict beside one not is no such test)
    gain_change = {base: stats.paired_comparison(ex1_scores["logit"][new] - ex1_scores["logit"][base],
                                                 ex1_scores["probability"][new] - ex1_scores["probability"][base],
                                                 alpha=alpha, n_boot=n_boot, seed=seed)
                   for new, base in BASES.items()}  # fmt: skip
    status = {}
    as_adjective = {"no difference": "not different"}  # a verdict read after "IDGI's version is"
    for base in BASES.values():
        v_prob, v_logit = verdict_of["probability", base], verdict_of["logit", base]
        g = gain_change[base]
        change_text = (
            "whether the gain differs between the outputs is untested (fewer than five images)" if g["verdict"] == "n/a"
            else f"the paired test of the change in gain (logit minus probability) finds no difference (p = "
            f"{g['p']:.2g}): no difference between the outputs is detected at n = {g['n']} (a test of low power)"
            if g["verdict"] == "no difference"
            else "the paired test of the change in gain (logit minus probability) finds the gain "
            f"{'larger' if g['verdict'] == 'better' else 'smaller'} with the logit (p = {g['p']:.2g})"
        )  # fmt: skip
        status[base] = (
            "untested (fewer than five images)" if "n/a" in (v_prob, v_logit) else
            f"better under both outputs; {change_text}" if v_prob == v_logit == "better" else
            f"{as_adjective.get(v_prob, v_prob)} with the probability and {as_adjective.get(v_logit, v_logit)} with "
            f"the logit; {change_text}"
        )  # fmt: skip
    table1_here = comparison[(comparison.system == system) & (comparison.metric == "insertion (prob)")]
    table1_verdicts = dict(zip(table1_here.base, table1_here.verdict, strict=True))
    against = {"better": "better than", "worse": "worse than", "no difference": "not different from"}
    table1_text = (
        f" For comparison, Table 1's paired test on {int(table1_here['n'].max())} images of the same system "
        "(probability attributed) finds IDGI "
        + ", ".join(f"{against.get(table1_verdicts.get(b), 'untested against')} {b}" for b in BASES.values())
        + f": where the two disagree, the test on {n_ex1} images has less power than Table 1's."
        if any(v in it.TESTED for v in table1_verdicts.values()) and int(table1_here["n"].max()) > n_ex1 else ""
    )  # fmt: skip
    text = (
        f"The scaffold scores insertion in its probability variant only (Table 1's ratio variant is not computed), on "
        f"the first {n_ex1} correctly classified images of {system}. The largest change of a method's mean score "
        f"between the two outputs is {change.max():.3f} ({change.idxmax()}). By the paired Wilcoxon signed-rank test "
        f"at {alpha:g} on these images, IDGI's version is, "
        + "; ".join(f"against {b}, {status[b]}" for b in BASES.values()) + "." + table1_text
    )  # fmt: skip
    return {"means": means, "tests": ex1_tests, "change": change, "verdict_of": verdict_of, "gain_change": gain_change,
            "table1_verdicts": table1_verdicts, "text": text}  # fmt: skip


def effective_bins(information) -> float:
    """The effective number of bins of ``information`` (values in [0, 1], NaN dropped) over 100 equal bins: exp of the
    Shannon entropy of the occupied bins' shares (k for values spread evenly over k bins)."""
    return it.bin_spread(np.asarray(information, dtype=float))["effective bins"]


def spread_study(bokeh: pd.DataFrame, dataset_of: dict) -> dict:
    """Exercise 2: how evenly the entropy and the MS-SSIM levels spread the bokeh images over the 100 bins, on the same
    images (``spread``), which spreads them more evenly by the effective number of bins (``winner``); the answer."""
    signed_bokeh = bokeh[bokeh.sign == "signed"].dropna(subset=["information"])
    with_entropy = signed_bokeh[signed_bokeh.information_level == "entropy"][["system", "image"]].drop_duplicates()
    spread = pd.DataFrame([
        {"information": level, "images": len(with_entropy),
         **it.bin_spread(signed_bokeh[signed_bokeh.information_level == level]
                         .merge(with_entropy, on=["system", "image"]).information.to_numpy())}
        for level in ("entropy", "MS-SSIM")
    ]).set_index("information")  # fmt: skip
    for level in spread.index:  # a mathematical bound, any data: one bin <= exp(entropy) <= the occupied bins
        if spread.loc[level, "bokeh images"]:
            assert (
                1 - 1e-9 <= spread.loc[level, "effective bins"] <= spread.loc[level, "bins with a bokeh image"] + 1e-9
            )
    if len(with_entropy) == 0:
        return {"spread": spread, "winner": None, "ms_levels": signed_bokeh[signed_bokeh.information_level
                                                                             == "MS-SSIM"].information.to_numpy(float),
                "text": report.not_measured("no image passes the entropy level's normalisation, so the two levels "
                                            "cannot be compared on the same images", start=True) + "."}  # fmt: skip
    ent, ms = spread.loc["entropy"], spread.loc["MS-SSIM"]
    n_distinct = len(set(zip(with_entropy.system.map(dataset_of), with_entropy.image, strict=True)))
    # which level each simple measure favours (more occupied bins; a smaller share in the fullest), None on a tie
    more_bins = ("MS-SSIM" if ms["bins with a bokeh image"] > ent["bins with a bokeh image"] else
                 "entropy" if ms["bins with a bokeh image"] < ent["bins with a bokeh image"] else None)  # fmt: skip
    less_full = ("MS-SSIM" if ms["share in the fullest bin"] < ent["share in the fullest bin"] else
                 "entropy" if ms["share in the fullest bin"] > ent["share in the fullest bin"] else None)  # fmt: skip
    winner = ("MS-SSIM" if ms["effective bins"] > ent["effective bins"] else
              "entropy" if ms["effective bins"] < ent["effective bins"] else None)  # fmt: skip
    text = (
        f"On the same {len(with_entropy)} (system, image) pairs ({n_distinct} distinct test images, several scored "
        f"by more than one model), the entropy level fills {int(ent['bins with a bokeh image'])} bins "
        f"and puts {ent['share in the fullest bin']:.1%} of the bokeh images in its fullest bin; MS-SSIM fills "
        f"{int(ms['bins with a bokeh image'])} bins with {ms['share in the fullest bin']:.1%} in the fullest. "
        + (f"Both simple measures favour {more_bins}. " if more_bins is not None and more_bins == less_full else
           "The two levels tie on both simple measures. " if more_bins is None and less_full is None else
           f"One simple measure ties and the other favours {more_bins or less_full}. "
           if more_bins is None or less_full is None else "These two simple measures disagree. ")
        + "The effective number of bins (the exponential of the Shannon entropy of the bins' shares: k when the "
        "images spread evenly over k bins) weighs both, and is one choice among several: "
        + (f"by it {winner} spreads the bokeh images more evenly over the bins it occupies "
           f"({max(ms['effective bins'], ent['effective bins']):.1f} against "
           f"{min(ms['effective bins'], ent['effective bins']):.1f} effective bins). "
           if winner else "by it the two levels spread them equally evenly. ")
        + f"It does not count the empty bins: {100 - int(ent['bins with a bokeh image'])} of the 100 at the entropy "
        f"level and {100 - int(ms['bins with a bokeh image'])} at MS-SSIM, whose values the curve interpolates or "
        "holds flat instead of measuring"
        + (", so the more even spread of MS-SSIM comes with more of the axis filled in: the paper's Fig. 4 argument "
           "holds for the occupied bins only." if winner == "MS-SSIM" and ms["bins with a bokeh image"]
           < ent["bins with a bokeh image"] else ".")
    )  # fmt: skip
    return {"spread": spread, "winner": winner,
            "ms_levels": signed_bokeh[signed_bokeh.information_level == "MS-SSIM"].information.to_numpy(float),
            "text": text}  # fmt: skip


#: a paired verdict as exercise 3 says it
VERDICT_WORDS = {"better": "better", "no difference": "not different", "worse": "worse", "n/a": "untested"}


def loc_convention_study(scores: pd.DataFrame, alpha: float, n_boot: int, seed: int) -> dict:
    """Exercise 3: per method, the ROC-AUC of localisation by the signed sum and by its positive part against Table 4's
    absolute sum, paired over the (system, image) pairs with object masks (``table``); where the mean and the test
    point different ways (``mean_vs_test``); which method gains most by the mean (``gain``, ``best_row``); the
    answer."""
    roc = scores[scores.metric == "ROC-AUC"]
    loc_rows = []
    for m in METHODS:
        wide = roc[roc.method == m].pivot_table(index=["system", "image"], columns="sign", values="value").dropna()
        if wide.empty:
            continue
        vs = {alt: stats.paired_comparison(wide[alt], wide["absolute"], alpha=alpha, n_boot=n_boot, seed=seed)
              for alt in ("signed", "positive")}  # fmt: skip
        loc_rows.append({"method": m, "images": len(wide), "|sum| (Table 4)": wide["absolute"].mean(),
                         "signed sum": wide["signed"].mean(), "positive part": wide["positive"].mean(),
                         "signed vs |sum|": vs["signed"]["verdict"], "positive vs |sum|": vs["positive"]["verdict"],
                         "positive: images up": float((wide["positive"] > wide["absolute"]).mean())})  # fmt: skip
    loc_table = pd.DataFrame(loc_rows)

    def verdict_counts(column: str) -> str:
        """``"worse for 6 (IG, ...), not different for 1 (...)"``: the methods per verdict of one alternative."""
        groups = {w: loc_table.loc[loc_table[column] == v, "method"].tolist() for v, w in VERDICT_WORDS.items()}
        return ", ".join(f"{w} for {len(ms)} ({', '.join(ms)})" for w, ms in groups.items() if ms)

    out = {"table": loc_table, "mean_vs_test": [], "gain": None, "best_row": None}
    if not len(loc_table):
        out["text"] = report.not_measured("no system has object masks, so localisation was not scored",
                                          start=True) + "."  # fmt: skip
        return out
    # where the mean and the test point different ways: the test weighs the ranks of the per-image changes
    mean_vs_test = []
    for alt, column in (("signed sum", "signed vs |sum|"), ("positive part", "positive vs |sum|")):
        for _, r in loc_table.iterrows():
            gain = r[alt] - r["|sum| (Table 4)"]
            if (r[column] == "better" and gain < 0) or (r[column] == "worse" and gain > 0):
                mean_vs_test.append((r["method"], alt, r))
    text = (f"Against Table 4's absolute sum, on the {int(loc_table['images'].max())} (system, image) pairs with "
            "object masks (the systems of one dataset share its test images, which the tests treat as independent: "
            f"their p-values are optimistic), the paired tests find the signed sum "
            f"{verdict_counts('signed vs |sum|')}, and the positive part "
            f"{verdict_counts('positive vs |sum|')}.")  # fmt: skip
    gain = (loc_table["signed sum"] - loc_table["|sum| (Table 4)"]).to_numpy()
    best_row = loc_table.iloc[int(np.argmax(gain))]
    text += (
        (f" By the mean ROC-AUC, {best_row['method']} gains most from the signed sum" if gain.max() > 0
         else f" By the mean ROC-AUC, no method gains from the signed sum; {best_row['method']} loses least")
        + f" (from {best_row['|sum| (Table 4)']:.3f} to {best_row['signed sum']:.3f})."
    )  # fmt: skip
    if mean_vs_test:
        text += " The mean and the test disagree for " + "; ".join(
            f"{m} with the {alt}: its mean ROC-AUC moves from {r['|sum| (Table 4)']:.3f} to {r[alt]:.3f}, yet the "
            f"test finds it {r['signed vs |sum|' if alt == 'signed sum' else 'positive vs |sum|']}"
            + (f" ({r['positive: images up']:.0%} of the images go up)" if alt == "positive part" else "")
            for m, alt, r in mean_vs_test
        ) + (". The test weighs the ranks of the per-image changes, the mean their sizes: many small gains and a "
             "few large losses move them apart.")  # fmt: skip
    else:
        text += " The means and the tests point the same way for every method."
    out.update(mean_vs_test=mean_vs_test, gain=gain, best_row=best_row, text=text)
    return out
