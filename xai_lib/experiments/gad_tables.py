"""The GAD paper's Tables 1 and 2 (Rodrigues et al. 2024, sec. 5-6), per shard of test images of a class pair.

For every image, method (the paper's five) and class output ``a`` of the pair: the original map and the GAD map
(pixels in the top ``keep`` share of the original's and of every support's map), their convex hulls, RC (eq. 1;
NaN where the GAD mask is empty: it has no hull), RS (eq. 2) of the GAD hull and of the supplementary region on
output ``a`` with the occluded pixels set to ``fill`` and, as a second occlusion value, to ``other_fill``, the
regions' areas in pixels, the kept shares of the image, and, where the data has masks of the part that separates
the classes, the share of the important pixels on it and the share of its pixels among the important ones. The
support regressions come from the content-keyed cache (the chapter trains them before sharding: every worker loads
the same supports). Also the paper's cells that stand beside ours
(:func:`paper_cells`), Holm's adjustment of a family of p-values (:func:`holm_adjusted`) and the level of the images'
background (:func:`border_level`), which an occlusion value can match or not.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch

from .. import report
from ..batching import batched_logits
from ..captum_glue import unsupported_reason
from ..gad_glue import GAD_METHODS, SupportConfig, gad_maps, share_inside, support_models
from ..metrics.occlusion import occlusion_sensitivity
from ..metrics.support_fit import FIT, SHIFT, SPLIT_ONLY, WITHIN, support_fit
from ..stats import paired_comparison
from .common import shard_data

ROW_COLUMNS = ("image", "method", "output", "class", "logit", "RC", "GAD empty", "RS GAD", "RS Sup",
               "RS GAD other fill", "RS Sup other fill", "area GAD", "area Sup", "part share original",
               "part share GAD", "part kept original", "part kept GAD", "kept share",
               "kept share original")  # fmt: skip
#: the share of a cell's images whose GAD hull must be smaller than the original's (RC < 1) for the paper's "nearly
#: all images" (Table 1's claim); the paper gives no number, and the book reads "nearly all" as at least 90%
NEARLY_ALL = 0.9
#: the methods of the paper's Table 2 claim (GAD's region matters more per pixel for these; not for Saliency)
CLAIM_METHODS = ("Deconvolution", "InputXGradient", "GuidedBackprop", "IntegratedGradients")
#: the paper's dataset that stands beside each of ours (``shapes_pair``: cat vs dog faces, our cat x dog); datasets
#: not named here are compared with all of the paper's cells
PAPER_DATASET = {"shapes_pair": "cat x dog"}


def per_class_available(labels: torch.Tensor, classes, wanted: int) -> int:
    """``wanted`` images per class of ``classes``, or fewer where a class of ``labels`` has fewer."""
    return min(wanted, *(int((labels == c).sum()) for c in classes))


def train_per_class_used(system, p: dict) -> int:
    """The training images per class the supports of the pair ``p["classes"]`` are trained on: ``p["train_per_class"]``,
    or fewer where a class of the training split has fewer."""
    return per_class_available(system.data("train").labels, p["classes"], p["train_per_class"])


def median_difference(new, base) -> float:
    """The median of the paired differences ``new - base`` over the pairs where both are finite (NaN without any
    pair). Not what sets the direction of :func:`xai_lib.stats.paired_comparison`'s verdict: the signed ranks do
    (its ``rank balance``), and the median can even be 0 where the ranks lean one way."""
    a, b = np.asarray(new, dtype=float), np.asarray(base, dtype=float)
    ok = np.isfinite(a) & np.isfinite(b)
    return float(np.median(a[ok] - b[ok])) if ok.any() else float("nan")


def holm_adjusted(pvalues) -> np.ndarray:
    """Holm's step-down adjusted p-values of a family of tests (NaN entries are not part of the family and stay NaN):
    the k-th smallest of the m p-values is multiplied by ``m - k + 1``, made non-decreasing along that order and
    capped at 1. A test is significant at level ``alpha`` over the whole family when its adjusted p is below it."""
    p = np.asarray(pvalues, dtype=float)
    out = np.full(p.shape, np.nan)
    ok = np.flatnonzero(np.isfinite(p))
    order = ok[np.argsort(p[ok], kind="stable")]
    m = len(order)
    scaled = np.minimum(1.0, np.maximum.accumulate(p[order] * (m - np.arange(m)))) if m else np.array([])
    out[order] = scaled
    return out


def border_level(images: torch.Tensor, width: int = 2) -> np.ndarray:
    """Per image, the mean value of its outer ring of ``width`` pixels over every channel (``images``: ``(N, C, H,
    W)``, in pixel space, where the occlusion fills are set): the level of the background where the object does not
    reach the border. An occlusion value near it adds little of its own to the occluded region; one far from it paints
    a patch."""
    if images.ndim != 4 or min(images.shape[-2:]) <= 2 * width or width < 1:
        raise ValueError(f"images: expected (N, C, H, W) larger than twice width={width}, got {tuple(images.shape)}")
    ring = torch.ones(images.shape[-2:], dtype=torch.bool)
    ring[width:-width, width:-width] = False
    return images[..., ring].double().mean((1, 2)).cpu().numpy()


def paper_cells(paper: pd.DataFrame, table: int, dataset: str | None = None) -> pd.DataFrame:
    """The paper's cells of ``table`` (1 or 2) for the paper's dataset that stands beside ``dataset`` (all of them
    when ``dataset`` has none, see :data:`PAPER_DATASET`), one row per (dataset, arch, method, output) with the
    columns of its rows (Table 1: ``Orig.``, ``GAD`` counts of 512; Table 2: ``Sup.``, ``GAD`` mean RS x 100)."""
    part = paper[paper.table == table]
    if dataset in PAPER_DATASET:
        part = part[part.dataset == PAPER_DATASET[dataset]]
    part = part.assign(output=part.row.str.extract(r"(\d)$", expand=False).astype(int),
                       kind=part.row.str.replace(r"\s*\d$", "", regex=True))  # fmt: skip
    return part.pivot_table(index=["dataset", "arch", "method", "output"], columns="kind", values="value").reset_index()


def paper_label(dataset: str | None) -> str:
    """The paper's datasets :func:`paper_cells` compares ``dataset`` with, in words."""
    return PAPER_DATASET.get(dataset, "cat x dog and birds")


def supports_for(system, p: dict) -> tuple[dict, tuple[int, int]]:
    """The system's support regressions for the pair (trained once, then from the cache) and the pair's outputs."""
    a, b = p["classes"]
    out_a, out_b = system.data("train").output_of(a), system.data("train").output_of(b)
    train = system.data("train")
    rows = train.class_balanced_index(train_per_class_used(system, p), (a, b))
    dev = system.device
    sups = support_models(
        system.model, train.inputs[rows].to(dev), train.targets[rows].to(dev), out_a, out_b, tuple(p["alphas"]),
        SupportConfig(**p["support"]), progress=False,
    )  # fmt: skip
    return sups, (out_a, out_b)


def scores(p: dict) -> dict[str, pd.DataFrame]:
    """Task: RC, RS (under ``p["fill"]`` and ``p["other_fill"]``; NaN without it), the kept shares of the image
    (GAD's and the original's), and, with masks of the discriminative part, the share of each map's important pixels
    on the part (``part share ...``) and the share of the part's pixels among them (``part kept ...``) for the
    shard's images (see the module notes)."""
    system, data = shard_data(p)
    sups, outputs = supports_for(system, p)
    dev = system.device
    x = data.inputs.to(dev)
    logits = batched_logits(system.model, x)
    rows, skipped = [], []
    for method in GAD_METHODS:
        reason = unsupported_reason(system.model, method, x)
        if reason is not None:
            skipped.append({"method": method, "reason": reason})
            continue
        for k, out in enumerate(outputs, start=1):
            g = gad_maps(system.model, list(sups.values()), x, out, method, p["keep"], n_steps=p["ig_steps"])
            zero = torch.zeros_like(g.gad[0])
            m_gad = torch.stack([h if h is not None else zero for h in g.hull_gad])
            m_orig = torch.stack([h if h is not None else zero for h in g.hull_original])
            m_sup = m_orig & ~m_gad
            fills = {"": p["fill"], " other fill": p.get("other_fill")}
            scores_rs = {f"RS {r}{suffix}": np.full(len(x), np.nan) for r in ("GAD", "Sup") for suffix in fills}
            for region, masks in (("GAD", m_gad), ("Sup", m_sup)):
                ok = masks.flatten(1).any(1)
                for suffix, value in fills.items():
                    if ok.any() and value is not None:
                        values = occlusion_sensitivity(
                            system.model, x[ok.to(dev)], masks[ok].to(dev), out, value
                        ).numpy()
                        scores_rs[f"RS {region}{suffix}"][ok.numpy()] = values
            area_o = m_orig.flatten(1).sum(1).double()
            area_g, area_s = m_gad.flatten(1).sum(1).numpy(), m_sup.flatten(1).sum(1).numpy()
            # an empty GAD mask has no hull: no RC (NaN), counted apart through "GAD empty"
            rc = (m_gad.flatten(1).sum(1).double() / area_o.clamp_min(1)).numpy()
            rc[~g.gad.flatten(1).any(1).numpy()] = np.nan
            if data.masks is not None:
                on_part = (share_inside(g.important, data.masks), share_inside(g.gad, data.masks))
                part_kept = (share_inside(data.masks, g.important), share_inside(data.masks, g.gad))
            else:
                on_part = part_kept = (np.full(len(x), np.nan),) * 2
            for i, img in enumerate(p["indices"]):
                rows.append({"image": img, "method": method, "output": k, "class": int(data.labels[i]),
                             "logit": float(logits[i, out]), "RC": float(rc[i]), "GAD empty": not bool(g.gad[i].any()),
                             **{name: values[i] for name, values in scores_rs.items()}, "area GAD": int(area_g[i]),
                             "area Sup": int(area_s[i]), "part share original": on_part[0][i],
                             "part share GAD": on_part[1][i], "part kept original": part_kept[0][i],
                             "part kept GAD": part_kept[1][i], "kept share": float(g.gad[i].float().mean()),
                             "kept share original": float(g.important[i].float().mean())})  # fmt: skip
    return {"rows": pd.DataFrame(rows, columns=list(ROW_COLUMNS)),
            "skipped": pd.DataFrame(skipped, columns=["method", "reason"])}  # fmt: skip


# --- the chapter's reading of the tables ----------------------------------------------------------------------------

#: the methods' short names in the tables
SHORT = {"Saliency": "S", "Deconvolution": "D", "InputXGradient": "GxI", "GuidedBackprop": "GB",
         "IntegratedGradients": "IG"}  # fmt: skip
#: the fit columns of the fit table, from :func:`~xai_lib.metrics.support_fit.support_fit`
FIT_MEASURES = (FIT, SHIFT, "rank corr a", "rank corr b", WITHIN, "within-class CI low", "within-class CI high",
                SPLIT_ONLY)  # fmt: skip
#: how the fit table prints
GATE_FORMATS = {"alpha": "{:g}", FIT: "{:.3f}", SHIFT: "{:.3f}", "rank corr a": "{:.3f}", "rank corr b": "{:.3f}",
               WITHIN: "{:.3f}", "within-class CI low": "{:.3f}", "within-class CI high": "{:.3f}",
               SPLIT_ONLY: "{:.2f}"}  # fmt: skip


def factor(value: float) -> str:
    """A ratio of mask-derived means with at most 3 significant digits: 2 decimals from 0.1 up, else 2 significant
    digits (0.032, 0.99, 3.57)."""
    return f"{value:.2f}" if abs(value) >= 0.1 else f"{value:.2g}"


def factors(values) -> str:
    """The range of the ratios ``values`` (see :func:`factor`)."""
    lo, hi = factor(min(values)), factor(max(values))
    return lo if lo == hi else f"{lo} to {hi}"


def fit_gate(loaded, base: dict, alpha: float, min_fit: float, fit_threshold: float, rank_threshold: float,
              n_boot: int, seed: int, device) -> tuple[pd.DataFrame, list]:  # fmt: skip
    """Per system, the fit of the support of ``alpha`` (the sweep's largest) on the validation images of its pair:
    the chapter's gate (fit at least ``min_fit``: tabulated), chapter 04's stricter point tests, and the within-class
    order by its interval; and the systems that pass the gate."""
    rows, usable = [], []
    for s in loaded:
        a, b = s.class_pair()
        p = {**base, "classes": [a, b]}
        sups, (out_a, out_b) = supports_for(s, p)
        val = s.data("val")
        f = support_fit(s.model, sups[alpha], val.inputs.to(device), val.targets.to(device), out_a, out_b, alpha,
                        n_boot=n_boot, seed=seed)  # fmt: skip
        rows.append({"system": s.name, "classes": f"{val.class_names[a]} vs {val.class_names[b]}",
                     "train per class": train_per_class_used(s, p), "alpha": alpha,
                     **{k: f[k] for k in FIT_MEASURES},
                     "tabulated": f[FIT] >= min_fit, "fit test (04)": f[FIT] >= fit_threshold,
                     # a NaN correlation (a constant output) fails: np.min propagates it
                     "rank test (04)": bool(np.min([f["rank corr a"], f["rank corr b"]]) >= rank_threshold),
                     "within-class test": report.interval_verdict(f["within-class CI low"], f["within-class CI high"],
                                                                  rank_threshold, "above")})  # fmt: skip
        if f[FIT] >= min_fit:
            usable.append(s)
    return pd.DataFrame(rows), usable


def fit_sentence(fits: pd.DataFrame, n_usable: int, n_loaded: int, min_fit: float, alpha: float,
                 fit_threshold: float, rank_threshold: float) -> str:  # fmt: skip
    """The fit section's finding: the gate, chapter 04's stricter tests and the within-class order, in words."""
    left_out = fits[~fits.tabulated]
    text = (
        f"{report.counted(n_usable, n_loaded, 'systems')} pass this chapter's gate (fit at least {min_fit:g} at "
        f"alpha = {alpha:g}"
        + (f"; their shift realised {report.span(fits.loc[fits.tabulated, SHIFT], '.0%')}" if n_usable else "")
        + ") and are tabulated below"
    )
    if len(left_out):
        text += "; not tabulated: " + ", ".join(
            f"{name} (fit {value:.2f})" for name, value in left_out[["system", FIT]].itertuples(index=False, name=None)
        )
    strict_ok = fits["fit test (04)"] & fits["rank test (04)"]
    text += (
        f". By the stricter tests of chapter 04's automatic rule (fit at least {fit_threshold:g}, rank correlation of "
        f"each output at least {rank_threshold:g}, pooled over both classes), "
        f"{report.counted(int(strict_ok.sum()), len(fits), 'systems')} pass"
    )
    failing = []
    for row in fits[~strict_ok].to_dict("records"):
        why = [f"fit {row[FIT]:.3f}"] if not row["fit test (04)"] else []
        if not row["rank test (04)"]:
            low = min(row["rank corr a"], row["rank corr b"])
            close = f", within 0.01 of {rank_threshold:g}: a close call" if rank_threshold - low < 0.01 else ""
            why.append(f"rank correlation {low:.3f}{close}")
        failing.append(f"{row['system']} ({' and '.join(why)}{'' if row['tabulated'] else ', not tabulated'})")
    if failing:
        text += "; below them: " + ", ".join(failing)
        tabulated_failing = fits[~strict_ok & fits.tabulated].system.tolist()
        if tabulated_failing:
            text += (
                f". The rows of {', '.join(tabulated_failing)} in the tables below rest on supports that chapter 04's "
                f"automatic rule would not use at alpha = {alpha:g}"
            )
    within_ok = fits["within-class test"] == "reproduced"
    within_listed = ", ".join(
        f"{r.system} ({r[WITHIN]:.3f}, interval {r['within-class CI low']:.3f} to {r['within-class CI high']:.3f}"
        + (", spanning it" if r["within-class test"] == "inconclusive" else "") + ")"
        if np.isfinite(r["within-class CI low"]) else
        f"{r.system} (not measured: a class has fewer than 3 validation images or a constant output)"
        for _, r in fits[~within_ok].iterrows()
    )  # fmt: skip
    split_level = f"{fits[SPLIT_ONLY].mean():.2f}" if fits[SPLIT_ONLY].notna().any() else "not measured"
    text += (
        f". The pooled correlation is raised by the class split alone (about {split_level} here); "
        f"within each class, GAD's premise, {report.counted(int(within_ok.sum()), len(fits), 'systems')} keep the "
        f"order above {rank_threshold:g} by the 95% interval of the lowest within-class rank correlation"
        + (f"; the others: {within_listed}" if within_listed else "")
    )
    return text + "."


def fit_advice(fits: pd.DataFrame, support: dict, min_fit: float, rank_threshold: float, alpha: float) -> str:
    """What to change where the supports do not fit (``support``: their training settings)."""
    left_out = fits[~fits.tabulated]
    strict_ok = fits["fit test (04)"] & fits["rank test (04)"]
    by_count = fits.groupby("train per class", sort=False).system.apply(", ".join)
    used_text = "; ".join(f"{n} training images per class for {names}" for n, names in by_count.items())
    if len(left_out):
        advice = (
            f"On this run the supports of {', '.join(left_out.system)} do not fit: GAD would return nearly the "
            f"original's pixels. Train them longer (support_epochs, now {support['epochs']}), with a larger step "
            f"(support_lr, now {support['lr']:g}) or on more images (train_per_class; the supports used {used_text})."
        )
    else:
        advice = (
            f"On this run every system's supports pass the gate (fit at least {min_fit:g}), trained for "
            f"{support['epochs']} epochs at lr {support['lr']:g} on {used_text}. Where a system's do not, train them "
            "longer (support_epochs), with a larger step (support_lr) or on more images (train_per_class)."
        )
    if not strict_ok.all():
        advice += (
            f" The supports of {', '.join(fits[~strict_ok].system)} fail chapter 04's stricter tests at alpha = "
            f"{alpha:g}: its automatic rule chooses the sweep (alphas) from those tests."
        )
    within_ok = fits["within-class test"] == "reproduced"
    within_below = fits[fits["within-class test"] == "not reproduced"].system.tolist()
    within_open = fits[~within_ok & (fits["within-class test"] != "not reproduced")].system.tolist()
    if within_below or within_open:
        advice += (
            " Within a class, "
            + "; ".join(([f"the supports of {', '.join(within_below)} do not keep the samples' order above "
                          f"{rank_threshold:g} (interval below it)"] if within_below else [])
                        + ([f"whether those of {', '.join(within_open)} do is undecided (the interval spans "
                            f"{rank_threshold:g}, or cannot be computed)"] if within_open else []))
            + f" at alpha = {alpha:g}"
        )  # fmt: skip
        # the rule's pooled test misses the order only where it passes: name those systems
        unseen = [s for s in within_below + within_open if bool(fits.loc[fits.system == s, "rank test (04)"].iloc[0])]
        advice += (
            f", which the rule's pooled test does not see for {', '.join(unseen)} (they pass it)" if unseen else ""
        ) + "; chapter 04 measures it for every alpha."
    return advice


# --- Table 1 --------------------------------------------------------------------------------------------------------


#: RC's statistics over a group of images, for ``groupby(...).agg``: images, empty GAD masks (no hull: RC is NaN),
#: RC < 1 (a count), mean RC and median shrink 1 - RC over the images with a hull (:func:`rc_summary` adds the shares)
RC_AGGREGATES = {"n": ("RC", "size"), "empty": ("RC", lambda v: int(v.isna().sum())),
                 "RC < 1": ("RC", lambda v: int((v < 1).sum())), "mean RC": ("RC", "mean"),
                 "median shrink": ("RC", lambda v: float((1 - v).median()))}  # fmt: skip


def rc_summary(groups, **more) -> pd.DataFrame:
    """:data:`RC_AGGREGATES` of each group of ``groups`` (a ``DataFrameGroupBy`` with an ``RC`` column; ``more``: other
    named aggregations), with the images that have a hull and the share of them with RC < 1 (NaN without one): the
    one summary of RC that Table 1 (chapter 05) and the kept-region study (chapter 04) share."""
    t = groups.agg(**more, **RC_AGGREGATES)
    t["with a hull"] = t["n"] - t["empty"]
    t["share RC < 1"] = t["RC < 1"] / t["with a hull"].where(t["with a hull"] > 0)
    return t


def table1(rows: pd.DataFrame, paper: pd.DataFrame, dataset_of: dict, arch_of: dict) -> pd.DataFrame:
    """Table 1 per (system, output, method): images, empty GAD masks, RC < 1 counts and shares (over the images with a
    GAD hull, and over all images: an empty GAD mask counts against), mean RC, median shrink 1 - RC, the card's test
    (``nearly all``) and the paper's cat x dog share of the same architecture family."""
    # an empty GAD mask has no hull, so no RC: the rows' "GAD empty" and a NaN RC are the same images
    assert (rows["GAD empty"].astype(bool) == rows["RC"].isna()).all(), "an RC without a GAD hull, or the reverse"
    t1 = rc_summary(rows.groupby(["system", "output", "method"], sort=False)).reset_index()
    t1["share RC < 1, all images"] = t1["RC < 1"] / t1["n"].where(t1["n"] > 0)  # an empty GAD mask counts against
    t1["nearly all"] = t1["share RC < 1, all images"] >= NEARLY_ALL
    t1["dataset"] = t1.system.map(dataset_of)
    cells = paper_cells(paper, 1, "shapes_pair")

    def paper_share(system: str, output: int, method: str) -> float:
        arch = arch_of.get(system)
        if arch is None or dataset_of.get(system) != "shapes_pair":
            return float("nan")
        cell = cells[(cells.arch == arch) & (cells.output == output) & (cells.method == method)]
        return float(cell.GAD.iloc[0]) / 512 if len(cell) else float("nan")

    t1["paper cat x dog share"] = [paper_share(s, o, m) for s, o, m in zip(t1.system, t1.output, t1.method,
                                                                            strict=True)]  # fmt: skip
    return t1


def table1_wide(t1: pd.DataFrame) -> pd.DataFrame:
    """Table 1 as the paper prints it: per (system, output), ``RC < 1 / with a hull`` per method."""
    return (
        t1.assign(cell=t1["RC < 1"].astype(str) + "/" + t1["with a hull"].astype(str))
        .pivot_table(index=["system", "output"], columns="method", values="cell", aggfunc="first", sort=False)[
            [m for m in GAD_METHODS if m in set(t1.method)]
        ]
        .rename(columns=SHORT)
    )


def empty_text(g: pd.DataFrame) -> str:
    """How many GAD masks of the cells ``g`` are empty, in words."""
    n_empty = int(g["empty"].sum())
    if not n_empty:
        return "no GAD mask is empty"
    return (f"{report.numbered(n_empty, 'GAD mask is', 'GAD masks are')} empty (no pixel important in every map; "
            "left out of RC), in "
            f"{report.counted(int((g['empty'] > 0).sum()), len(g), 'cells')}")  # fmt: skip


def table1_sentence(t1: pd.DataFrame) -> str:
    """Table 1's finding per dataset, in words."""
    sentences = []
    for d, g in t1.groupby("dataset", sort=False):
        measured = g[g["with a hull"] > 0]
        if not len(measured):
            sentences.append(f"On {d}: {report.not_measured('every GAD mask is empty')}.")
            continue
        worst = g.loc[g["share RC < 1, all images"].idxmin()]
        tied = g[(g["share RC < 1, all images"] == worst["share RC < 1, all images"]) & (g.index != worst.name)]
        tied_text = ("; tied with " + report.listed(f"{r.method} on {r.system}, output {r.output}"
                                                      for r in tied.itertuples()) if len(tied) else "")  # fmt: skip
        nearly = int(g["nearly all"].sum())
        most = int((g["share RC < 1, all images"] > 0.5).sum())
        ties = int((g["with a hull"] - g["RC < 1"]).sum())
        sentences.append(
            f"On {d}, RC never exceeds 1 (by construction) and is below 1 for at least "
            f"{NEARLY_ALL:.0%} of the images in {report.counted(nearly, len(g), 'cells')} "
            f"({report.verdict(nearly, len(g))} by the card's reading; for more than half of them in {most}); the "
            f"lowest cell is {worst['method']} on {worst['system']}, output {worst['output']} (RC < 1 for "
            f"{worst['share RC < 1, all images']:.0%} of its {worst['n']} images, {worst['empty']} of them with an "
            f"empty GAD mask{tied_text}). The hull "
            f"shrinks by a median {report.span(measured['median shrink'], '.1%')} of its area per cell (1 - RC; mean "
            f"RC {report.span(measured['mean RC'], '.2f')}); "
            f"{report.counted(ties, int(g['with a hull'].sum()), 'maps')} with a GAD hull are ties (RC = 1), and "
            f"{empty_text(g)}."
        )
    return " ".join(sentences) or report.not_measured("no system was tabulated")


# --- Table 2 --------------------------------------------------------------------------------------------------------

#: Table 2's columns
T2_COLUMNS = ["system", "output", "method", "Sup.", "GAD", "rank balance", "p", "GAD > Sup.", "Sup. (other fill)",
              "GAD (other fill)", "rank balance (other fill)", "p (other fill)", "GAD > Sup. (other fill)",
              "paper Sup.", "paper GAD"]  # fmt: skip
#: how Table 2 prints: RS means are means of mask-derived ratios (3 significant digits); p and rank balance: 2
T2_FORMATS = {"Sup.": "{:.3g}", "GAD": "{:.3g}", "rank balance": "{:.2f}", "p": "{:.2g}", "p Holm": "{:.2g}",
              "Sup. (other fill)": "{:.3g}", "GAD (other fill)": "{:.3g}", "p (other fill)": "{:.2g}",
              "paper Sup.": "{:.4f}", "paper GAD": "{:.4f}"}  # fmt: skip


def table2(rows: pd.DataFrame, paper: pd.DataFrame, dataset_of: dict, arch_of: dict, n_boot: int,
           seed: int) -> pd.DataFrame:  # fmt: skip
    """Table 2 per (system, output, method): mean RS (x 100) of the supplementary region and of the GAD hull under
    both fills, the paired Wilcoxon test of RS(GAD) against RS(Sup.) per fill (with Holm's adjustment over each
    dataset's tested cells) and the paper's cat x dog cell of the same architecture family."""
    cells = paper_cells(paper, 2, "shapes_pair")
    out = []
    for (system, k, method), g in rows.groupby(["system", "output", "method"], sort=False):
        test = paired_comparison(g["RS GAD"], g["RS Sup"], n_boot=n_boot, seed=seed)
        other = paired_comparison(g["RS GAD other fill"], g["RS Sup other fill"], n_boot=n_boot, seed=seed)
        cell = cells[(cells.arch == arch_of[system]) & (cells.output == k) & (cells.method == method)]
        is_pair = dataset_of[system] == "shapes_pair" and arch_of[system] is not None and len(cell) > 0
        out.append({"system": system, "output": k, "method": method, "Sup.": 100 * g["RS Sup"].mean(),
                    "GAD": 100 * g["RS GAD"].mean(), "rank balance": test.get("rank balance", np.nan),
                    "p": test["p"], "GAD > Sup.": test["verdict"],
                    "Sup. (other fill)": 100 * g["RS Sup other fill"].mean(),
                    "GAD (other fill)": 100 * g["RS GAD other fill"].mean(),
                    "rank balance (other fill)": other.get("rank balance", np.nan), "p (other fill)": other["p"],
                    "GAD > Sup. (other fill)": other["verdict"],
                    "paper Sup.": float(cell["Sup."].iloc[0]) if is_pair else np.nan,
                    "paper GAD": float(cell.GAD.iloc[0]) if is_pair else np.nan})  # fmt: skip
    t2 = pd.DataFrame(out, columns=T2_COLUMNS)
    t2["dataset"] = t2.system.map(dataset_of)
    for p_column in ("p", "p (other fill)"):  # Holm over each dataset's tested cells (an untested cell's p is NaN)
        t2[p_column.replace("p", "p Holm", 1)] = np.nan
        for index in t2.groupby("dataset", sort=False).groups.values():
            t2.loc[index, p_column.replace("p", "p Holm", 1)] = holm_adjusted(t2.loc[index, p_column])
    return t2


def claim_counts(part: pd.DataFrame, column: str = "GAD > Sup.", holm: str = "p Holm") -> dict:
    """Cells of ``part`` by verdict in ``column``, on the paper's four claim methods (with how many of the better and
    worse ones stay significant after Holm's correction, column ``holm``) and on all five."""
    tested = part[part[column] != "n/a"]
    claim = tested[tested.method.isin(CLAIM_METHODS)]
    kept = claim[holm] < 0.05
    return {"cells": len(claim), "better": int((claim[column] == "better").sum()),
            "no difference": int((claim[column] == "no difference").sum()),
            "worse": int((claim[column] == "worse").sum()),
            "better (Holm)": int(((claim[column] == "better") & kept).sum()),
            "worse (Holm)": int(((claim[column] == "worse") & kept).sum()),
            "better, all five": int((tested[column] == "better").sum()), "cells, all five": len(tested)}  # fmt: skip


def tested_both(part: pd.DataFrame) -> pd.DataFrame:
    """The cells of ``part`` (Table 2 rows) tested under both fills."""
    return part[(part["GAD > Sup."] != "n/a") & (part["GAD > Sup. (other fill)"] != "n/a")]


def fill_summary(part: pd.DataFrame) -> dict:
    """A dataset's Table 2 counts under both fills, the cells of the four methods whose verdict changes with the
    fill, each fill's verdict and the card's: that of ``fill`` (the paper's I (1 - M) at its default 0) where the other
    fill gives the same verdict or could not be tested, *inconclusive* where the two fills give different verdicts
    (the claim then turns on an occlusion value the paper's formula fixes but its claim does not name)."""
    c = claim_counts(part)
    co = claim_counts(part, "GAD > Sup. (other fill)", "p Holm (other fill)")
    both = tested_both(part[part.method.isin(CLAIM_METHODS)])
    v, vo = report.verdict(c["better"], c["cells"]), report.verdict(co["better"], co["cells"])
    card = "inconclusive" if co["cells"] and c["cells"] and v != vo else v
    return {"fill": c, "other fill": co, "changed": int((both["GAD > Sup."] != both["GAD > Sup. (other fill)"]).sum()),
            "compared": len(both), "verdict": v, "verdict (other fill)": vo, "card verdict": card}  # fmt: skip


def fill_summaries(t2: pd.DataFrame) -> dict[str, dict]:
    """:func:`fill_summary` per dataset."""
    return {d: fill_summary(g) for d, g in t2.groupby("dataset", sort=False)}


def by_dataset(summaries: dict[str, dict]) -> pd.DataFrame:
    """The counts of :func:`fill_summaries`, one row per dataset."""
    return pd.DataFrame(
        [{"dataset": d, "cells": f["fill"]["cells"],
          **{k: f["fill"][k] for k in ("better", "no difference", "worse", "better (Holm)", "worse (Holm)")},
          **{f"{k} (other fill)": f["other fill"][k] for k in ("better", "no difference", "worse")},
          "verdict changes": f["changed"], "verdict": f["verdict"], "verdict (other fill)": f["verdict (other fill)"],
          "card verdict": f["card verdict"]}
         for d, f in summaries.items()],
        columns=["dataset", "cells", "better", "no difference", "worse", "better (Holm)", "worse (Holm)",
                 "better (other fill)", "no difference (other fill)", "worse (other fill)", "verdict changes",
                 "verdict", "verdict (other fill)", "card verdict"],
    )  # fmt: skip


def fill_prediction(summaries: dict[str, dict], fill: float, other_fill: float) -> tuple[dict[str, str], str]:
    """The prediction exercise's answer: per dataset, under which occlusion value GAD's region wins more cells of
    the four methods (``"fill"``, ``"other fill"`` or ``"tie"``), and the answer in words."""
    more_better, parts = {}, []
    for d, f in summaries.items():
        n_b, n_bo = f["fill"]["better"], f["other fill"]["better"]
        more_better[d] = "other fill" if n_bo > n_b else "fill" if n_b > n_bo else "tie"
        if not (f["fill"]["cells"] or f["other fill"]["cells"]):
            parts.append(f"On {d}: {report.not_measured('no cell of the four methods has five paired images')}.")
            continue
        which = {"other fill": f"fill {other_fill:g} wins more cells", "fill": f"fill {fill:g} wins more cells",
                 "tie": "both values win as many cells"}[more_better[d]]  # fmt: skip
        parts.append(
            f"On {d}, GAD's region matters more per pixel than the supplementary one in {n_b} of {f['fill']['cells']} "
            f"cells of the four methods with the occluded pixels set to {fill:g} and in {n_bo} of "
            f"{f['other fill']['cells']} set to {other_fill:g}: {which}."
        )
    if fill == other_fill:
        return more_better, report.not_measured("fill and other_fill are the same value", start=True) + "."
    return more_better, " ".join(parts) or report.not_measured("no system was tabulated", start=True) + "."


def holm_text(c: dict, fill_value: float) -> str:
    """How many of the significant cells (better, worse) of the counts ``c`` stay so after Holm's correction, in
    words; empty when no cell is significant."""
    kept = [f"{c[f'{k} (Holm)']} of the {c[k]} {k}" for k in ("better", "worse") if c[k]]
    if not kept:
        return ""
    return (f" After Holm's correction over the dataset's {c['cells, all five']} tested cells, {' and '.join(kept)} "
            f"cells (fill {fill_value:g}) stay significant.")  # fmt: skip


def table2_sentence(summaries: dict[str, dict], rows: pd.DataFrame, background: dict, fill: float,
                    other_fill: float) -> tuple[str, dict]:  # fmt: skip
    """Table 2's finding per dataset in words, and per dataset how the better cells follow the background level
    (``background``: per dataset, each test image's border level)."""
    sentences, fill_pattern = [], {}
    for d, f in summaries.items():
        c, co = f["fill"], f["other fill"]
        r = rows[(rows.dataset == d) & rows.method.isin(CLAIM_METHODS) & rows["RS GAD"].notna()
                 & rows["RS Sup"].notna()]  # fmt: skip
        if not c["cells"]:
            sentences.append(f"On {d}: {report.not_measured('no cell of the four methods has five paired images')}.")
            continue
        text = (
            f"On {d}, on the paper's four methods, GAD's region matters more per pixel than the supplementary one in "
            f"{c['better']} of {c['cells']} cells and less in {c['worse']} with the occluded pixels set to {fill:g} "
            f"({f['verdict']}), and in {co['better']} of {co['cells']}, less in {co['worse']}, set "
            f"to {other_fill:g} ({f['verdict (other fill)']}); the card's verdict: {f['card verdict']}."
        )
        if fill != other_fill:
            if not f["compared"]:
                text += " " + report.not_measured("no cell is tested under both fills", start=True) + "."
            else:
                changed = report.counted(f["changed"], f["compared"], "cells")
                text += f" {changed} change their verdict with the fill" + (
                    ": the verdict depends on the occlusion value (fill-dependent), so the card cannot decide the "
                    "claim (inconclusive)."
                    if f["verdict"] != f["verdict (other fill)"] else "; both fills give the same verdict."
                )  # fmt: skip
            level = background.get(d)
            if level is not None and len(level):
                med, lo, hi = (float(np.quantile(level, q)) for q in (0.5, 0.05, 0.95))
                near_is_fill = abs(fill - med) <= abs(other_fill - med)
                (near, b_near), (far, b_far) = (((fill, c["better"]), (other_fill, co["better"])) if near_is_fill
                                                else ((other_fill, co["better"]), (fill, c["better"])))  # fmt: skip
                pattern = (
                    "in this run GAD's region wins more cells where the occlusion is closer to the background"
                    if b_near > b_far
                    else "in this run GAD's region wins more cells where the occlusion differs from the background"
                    if b_near < b_far
                    else "the count of better cells does not follow the background"
                )
                if b_near != b_far:  # one pair of fills on one dataset: a pattern to look at, not a tested rule
                    pattern += " (one pair of fills, no test of the difference)"  # fmt: skip
                fill_pattern[d] = {"background": med, "near": near, "better near": b_near, "better far": b_far,
                                   "follows": b_near > b_far}  # fmt: skip
                text += (
                    f" The images' background (their outer ring of pixels) lies at a median {med:.2f} (5% to 95% of "
                    f"the images: {lo:.2f} to {hi:.2f}); the fill closer to it, {near:g}, gives better in "
                    f"{report.numbered(b_near, 'cell', 'cells')}, the other, {far:g}, in {b_far}: {pattern}."
                )
            text += fill_factors(rows[rows.dataset == d], fill, other_fill)
        text += holm_text(c, fill)
        if len(r):
            sup_share = float((1 - r.RC).median())
            text += (
                f" RS divides each region's change of the output by its area: the GAD hull is a median "
                f"{1 - sup_share:.0%} of the original hull, the supplementary region (the original hull outside "
                f"GAD's) {sup_share:.0%}."
            )
        sentences.append(text)
    return " ".join(sentences) or report.not_measured("no system was tabulated"), fill_pattern


def fill_factors(rr: pd.DataFrame, fill: float, other_fill: float) -> str:
    """By what factor the second fill multiplies each region's mean RS over a dataset's rows ``rr``, and per cell."""
    ratio_sup = rr["RS Sup other fill"].mean() / rr["RS Sup"].mean()
    ratio_gad = rr["RS GAD other fill"].mean() / rr["RS GAD"].mean()
    if not (np.isfinite(ratio_sup) and np.isfinite(ratio_gad) and ratio_sup > 0 and ratio_gad > 0):
        return ""
    mover = "the supplementary region's" if abs(np.log(ratio_sup)) > abs(np.log(ratio_gad)) else "the GAD hull's"
    # the same factors per cell (system, output, method): the pooled ones can hide cells moving both ways
    per_cell = rr.groupby(["system", "output", "method"])[
        ["RS Sup other fill", "RS Sup", "RS GAD other fill", "RS GAD"]].mean()  # fmt: skip
    cell_sup = (per_cell["RS Sup other fill"] / per_cell["RS Sup"]).replace([np.inf, -np.inf], np.nan).dropna()
    cell_gad = (per_cell["RS GAD other fill"] / per_cell["RS GAD"]).replace([np.inf, -np.inf], np.nan).dropna()
    return (
        f" Going from fill {fill:g} to {other_fill:g} multiplies the mean RS of the supplementary region by "
        f"{factor(ratio_sup)} and that of the GAD hull by {factor(ratio_gad)} over the dataset ({mover} moves more)"
        + (f"; per cell the factors range over {factors(cell_sup)} and {factors(cell_gad)}."
           if len(cell_sup) and len(cell_gad) else ".")
    )  # fmt: skip


# --- beyond the paper: the part that separates the classes ----------------------------------------------------------

#: the per-image columns of the part study
PART_COLUMNS = ["part share original", "part share GAD", "part kept original", "part kept GAD", "kept share original",
                "kept share"]  # fmt: skip
#: a larger share on the part only where it shows at the printed precision (half a percentage point); else a tie
PRINTED = 0.005


def part_table(rows: pd.DataFrame, n_boot: int, seed: int) -> pd.DataFrame:
    """Per (system, method), over the images (each image's shares averaged over its two outputs): the share of the
    important pixels on the part that separates the classes, original against GAD (paired Wilcoxon test), the share
    of the part's pixels each map keeps, and the share of the original's pixels GAD keeps on the part and overall."""
    with_part = rows[rows["part share GAD"].notna() & rows["part share original"].notna()]
    per_image = with_part.groupby(["system", "method", "image"], sort=False)[PART_COLUMNS].mean().reset_index()
    out = []
    for (system, method), g in per_image.groupby(["system", "method"], sort=False):
        test = paired_comparison(g["part share GAD"], g["part share original"], n_boot=n_boot, seed=seed)
        out.append({"system": system, "method": method, "images": test["n"],
                    "original": g["part share original"].mean(), "GAD": g["part share GAD"].mean(),
                    "GAD - original": test["mean diff"], "CI low": test["CI low"], "CI high": test["CI high"],
                    "p": test["p"], "verdict": test["verdict"],
                    "part kept original": g["part kept original"].mean(), "part kept GAD": g["part kept GAD"].mean(),
                    "image kept original": g["kept share original"].mean(),
                    "image kept GAD": g["kept share"].mean()})  # fmt: skip
    part = pd.DataFrame(out, columns=["system", "method", "images", "original", "GAD", "GAD - original", "CI low",
                                      "CI high", "p", "verdict", "part kept original", "part kept GAD",
                                      "image kept original", "image kept GAD"])  # fmt: skip
    # of the original's important pixels, the share GAD keeps on the part and off it (per cell: the ratio of the means)
    part["retained on part"] = part["part kept GAD"] / part["part kept original"]
    part["retained overall"] = part["image kept GAD"] / part["image kept original"]
    return part


def part_text(dataset: str, cells: pd.DataFrame, cover: float) -> str:
    """The part sentence of one dataset (``cells``: its tested rows of :func:`part_table`; ``cover``: the part's mean
    share of an image)."""
    n_prefer = int((cells["retained on part"] - cells["retained overall"] > PRINTED).sum())
    n_ties = int(((cells["retained on part"] - cells["retained overall"]).abs() <= PRINTED).sum())
    return (
        f"On {dataset}, the part that separates the classes covers {cover:.3f} of an image on average. GAD's kept "
        f"pixels lie on it more than the original's important pixels in "
        f"{report.counted(int((cells.verdict == 'better').sum()), len(cells), 'method/architecture cells')}, "
        f"less in {int((cells.verdict == 'worse').sum())} (paired Wilcoxon signed-rank test over the images at "
        f"5%), by a mean {report.span(100 * cells['GAD - original'], '+.2g')} percentage points per cell. Of the "
        f"part's own pixels, the original's important pixels hold {report.span(cells['part kept original'], '.0%')} "
        f"per cell and GAD's kept pixels {report.span(cells['part kept GAD'], '.0%')}: GAD keeps "
        f"{report.span(cells['retained on part'], '.0%')} of the original's pixels on the part against "
        f"{report.span(cells['retained overall'], '.0%')} of them over the whole image, a larger share on the part in "
        f"{report.counted(n_prefer, len(cells), 'cells')} (the same share, to half a percentage point, in "
        f"{n_ties}). GAD keeps only part of the original's pixels ({report.span(cells['retained overall'], '.0%')} "
        "per cell), and a smaller set of the original map's own top pixels could sit on the part more as well: these "
        "numbers do not separate GAD's choice of pixels from the smaller size of its set."
    )  # fmt: skip


def part_sentence(part: pd.DataFrame, masked, dataset_of: dict) -> str:
    """The part study's finding per dataset with masks (``masked``: the tabulated systems whose data has them)."""
    tested = part[part.verdict != "n/a"]
    if not masked or not len(tested):
        return report.not_measured("no tabulated system has masks of the part that separates its classes")
    datasets = list(dict.fromkeys(s.spec.dataset for s in masked))
    return " ".join(
        part_text(d, tested[tested.system.map(dataset_of) == d],
                  float(next(s for s in masked if s.spec.dataset == d).data("test").masks.float().mean()))
        for d in datasets if (tested.system.map(dataset_of) == d).any()
    )  # fmt: skip


# --- the card -------------------------------------------------------------------------------------------------------


def premise_kept(fits: pd.DataFrame, dataset_of: dict) -> dict[str, tuple[int, int]]:
    """Per dataset, how many tabulated systems' supports keep the within-class order (GAD's premise), of how many."""
    return {
        d: (int((g["within-class test"] == "reproduced").sum()), len(g))
        for d, g in fits[fits.tabulated].assign(d=lambda t: t.system.map(dataset_of)).groupby("d")
    }


def premise_caveat(kept: tuple[int, int]) -> str:
    """The caveat a dataset's GAD counts carry when some tabulated support does not keep the within-class order:
    ``""`` when every one does."""
    n_kept, n = kept
    if n_kept == n:
        return ""
    return (f"; the supports keep the within-class order (GAD's premise) on {report.counted(n_kept, n, 'systems')}, "
            "so these counts describe GAD with this run's supports, not a GAD whose premise holds")  # fmt: skip


def card_claims(fits: pd.DataFrame, t1: pd.DataFrame, summaries: dict[str, dict], fill_pattern: dict,
                part: pd.DataFrame, paper: pd.DataFrame, dataset_of: dict, fill: float, other_fill: float,
                normalised: bool = False) -> list[dict]:  # fmt: skip
    """The card's claims: Table 1 and Table 2 per dataset, and the part study (beyond the paper); ``normalised``:
    some system normalises its pixels (the fills are pixel values, so 0 is then not the paper's zero)."""
    claims = []
    premise = premise_kept(fits, dataset_of)
    for d, g in t1.groupby("dataset", sort=False):
        measured = g[g["with a hull"] > 0]
        nearly = int(g["nearly all"].sum())
        cells1 = paper_cells(paper, 1, d)
        shrink = (f"; median shrink (1 - RC) {report.span(measured['median shrink'], '.1%')} per cell" if len(measured)
                  else "")  # fmt: skip
        ties = int((g["with a hull"] - g["RC < 1"]).sum())
        kept_order = premise.get(d, (0, 0))
        claims.append(
            {"artefact": f"Table 1 ({d})",
             "claim": "GAD reduces the interest area (RC < 1) for nearly all images and methods",
             "paper": f"at least {NEARLY_ALL:.0%} of 512 images in "
                      f"{int((cells1.GAD >= NEARLY_ALL * 512).sum())} of {len(cells1)} cells, more than half "
                      f"in {int((cells1.GAD > 256).sum())} ({paper_label(d)})",
             "ours": f"RC < 1 for at least {NEARLY_ALL:.0%} of the images in "
                     f"{report.counted(nearly, len(g), 'cells')} (lowest share "
                     f"{g['share RC < 1, all images'].min():.0%})"
                     + shrink + f"; {ties} ties (RC = 1); {int(g['empty'].sum())} empty GAD masks, counted against; RC "
                     f"<= 1 in every image (by construction); supports that keep the within-class order (GAD's "
                     f"premise): {report.counted(*kept_order, 'systems', none='none tabulated')}"
                     if len(measured) else report.not_measured("every GAD mask is empty"),
             "verdict": report.verdict(nearly, len(g)) if len(measured) else "not comparable",
             "test": f"per cell (system, output, method): the share of all its images whose RC < 1 (an empty GAD mask "
                     f"counts against) must reach {NEARLY_ALL:.0%} (the paper's \"nearly all\"; it gives no "
                     "number); reproduced if every cell does, partly if at least half: the rule tests the paper's "
                     "words, which its own table meets in the cells its column counts. RC <= 1 itself holds by "
                     "construction (GAD's pixels are a subset of the original's important pixels, so its hull lies "
                     "inside the original's; an assert checks every image). The paper's Orig. counts (RC >= 1: "
                     f"{report.span(cells1['Orig.'], '.0f')} of 512 per cell) can include GAD hulls larger than the "
                     "original's, which its hull of each map's own top half allows (how many are ties it does not "
                     "say) and the book's intersection does not"}
        )  # fmt: skip
    for d, f in summaries.items():
        c, co = f["fill"], f["other fill"]
        cells2 = paper_cells(paper, 2, d)
        claim2 = cells2[cells2.method.isin(CLAIM_METHODS)]
        claims.append(
            {"artefact": f"Table 2 ({d})",
             "claim": "GAD's region matters more per pixel than the supplementary one (D, GxI, GB, IG)",
             "paper": f"GAD > Sup. in {int((claim2.GAD > claim2['Sup.']).sum())} of {len(claim2)} cells "
                      f"({paper_label(d)}; with Saliency {int((cells2.GAD > cells2['Sup.']).sum())} of {len(cells2)})",
             "ours": (f"fill-dependent: {f['verdict']} with fill {fill:g}, {f['verdict (other fill)']} with fill "
                      f"{other_fill:g}; " if f["verdict"] != f["verdict (other fill)"] else "")
                     + f"fill {fill:g}: better in {c['better']} of {c['cells']} tested cells, worse in {c['worse']} "
                     f"(after Holm: {c['better (Holm)']} better, {c['worse (Holm)']} worse; with Saliency: better in "
                     f"{c['better, all five']} of {c['cells, all five']}); reported beside, fill {other_fill:g}: "
                     f"better in {co['better']} of {co['cells']}, worse in {co['worse']}; {f['changed']} cells change "
                     "their verdict with the fill"
                     + (f"; background at a median {fill_pattern[d]['background']:.2f}: better in "
                        f"{fill_pattern[d]['better near']} cells under the fill closer to it "
                        f"({fill_pattern[d]['near']:g}), {fill_pattern[d]['better far']} under the other"
                        if d in fill_pattern else "")
                     + f"; supports that keep the within-class order (GAD's premise): "
                     f"{report.counted(*premise.get(d, (0, 0)), 'systems', none='none tabulated')}",
             "verdict": f["card verdict"],
             "test": "per cell (system, output, method) of D, GxI, GB, IG: paired Wilcoxon signed-rank test of RS(GAD) "
                     "against RS(Sup.) at 5% per cell (direction by the signed ranks), with the occluded pixels set "
                     f"to fill {fill:g}"
                     + (" (the paper's I (1 - M): zero in the model's input space)" if fill == 0 and not normalised
                        else " (black; for a normalised model the paper's I (1 - M) is its mean colour)" if fill == 0
                        else "")
                     + "; reproduced if every cell is better, partly if at least half. The same test with other_fill "
                     "decides only whether the verdict holds: where the two fills give different verdicts the claim "
                     "turns on the occlusion value, which the paper's formula fixes but its claim does not name, so "
                     "the verdict is inconclusive (fill-dependent; the chapter compares both fills with the level of "
                     "the images' background)"}
        )  # fmt: skip
    tested = part[part.verdict != "n/a"]
    claims.append(
        {"artefact": "beyond the paper", "claim": "GAD moves towards the part that separates the classes",
         "paper": "-",
         "ours": "higher share on the part in "
                 f"{report.counted(int((tested.verdict == 'better').sum()), len(tested), 'cells')}, "
                 f"by {report.span(100 * tested['GAD - original'], '+.2g')} percentage points; GAD keeps "
                 f"{report.span(tested['part kept GAD'], '.0%')} of the part's pixels, the original "
                 f"{report.span(tested['part kept original'], '.0%')}; these shares do not separate GAD's choice of "
                 "pixels from the smaller size of its set (chapter 04's size-matched control does)"
                 if len(tested) else report.not_measured("no system with masks of the separating part"),
         "verdict": "not comparable",
         "test": "per cell (system, method): paired Wilcoxon signed-rank test over the images (each image's share "
                 "averaged over the two outputs) of the share on the part, GAD against the original, at 5%; no paper "
                 "claim to compare with"}
    )  # fmt: skip
    return claims


def card_settings(loaded, images_per_class: int, sweep, support: dict, keep: float, fill: float,
                  other_fill: float) -> list[tuple[str, str, str]]:  # fmt: skip
    """The card's settings rows: the paper's against this run's."""
    return [
        ("data", "cats vs dogs; CUB birds", ", ".join(dict.fromkeys(s.spec.dataset for s in loaded))),
        ("models", "VGG16, ResNet18", ", ".join(s.name for s in loaded)),
        ("images", "256 per class (512)", f"{images_per_class} per class (capped by the test split)"),
        ("supports", "alpha 0-8, Adam 4e-5, 10 epochs",
         f"alpha {sweep}, Adam {support['lr']:g}, {support['epochs']} epochs"),
        ("hull", "top 50% of the pixels", f"top {keep:.0%}, pixel-count areas"),
        ("occlusion", "I (1 - M): zero in the model's input space",
         f"occluded pixels set to {fill:g} and to {other_fill:g}"),
    ]  # fmt: skip


def summary_t1(t1: pd.DataFrame, premise: dict[str, tuple[int, int]] | None = None) -> str:
    """The summary's sentence on Table 1 (``premise``: :func:`premise_kept`, whose caveat each dataset carries)."""
    premise = premise or {}
    return " ".join(
        f"On {d}, GAD's hull never exceeds the original's (by construction) and is smaller for at least "
        f"{NEARLY_ALL:.0%} of the images in {report.counted(int(g['nearly all'].sum()), len(g), 'cells')} "
        f"({report.verdict(int(g['nearly all'].sum()), len(g))}), by a median "
        f"{report.span(g['median shrink'].dropna(), '.1%')} of its area per cell"
        f"{premise_caveat(premise[d]) if d in premise else ''}."
        if g["median shrink"].notna().any() else f"On {d}: {report.not_measured('every GAD mask is empty')}."
        for d, g in t1.groupby("dataset", sort=False)
    ) or report.not_measured("no system was tabulated")  # fmt: skip


def summary_t2(summaries: dict[str, dict], fill_pattern: dict, fill: float, other_fill: float) -> str:
    """The summary's sentence on Table 2."""
    return " ".join(
        f"On {d}: {report.not_measured('no cell of the four methods has five paired images')}."
        if not (f["fill"]["cells"] or f["other fill"]["cells"]) else
        f"On {d}, GAD's region matters more per pixel in {f['fill']['better']} of {f['fill']['cells']} cells of the "
        f"paper's four methods and less in {f['fill']['worse']} with the occluded pixels set to {fill:g} (after "
        f"Holm's correction: {f['fill']['better (Holm)']} better, {f['fill']['worse (Holm)']} worse; the card: "
        f"{f['card verdict']}), and more in {f['other fill']['better']} of {f['other fill']['cells']} and less in "
        f"{f['other fill']['worse']} with them set to {other_fill:g} (after Holm's correction: "
        f"{f['other fill']['better (Holm)']} better, {f['other fill']['worse (Holm)']} worse)"
        + (f"; in this run the better cells went with the fill closer to the background ({fill_pattern[d]['near']:g}): "
           "an observation on one pair of fills, not a tested rule."
           if d in fill_pattern and fill_pattern[d]["follows"] else ".")
        for d, f in summaries.items()
    ) or report.not_measured("no system was tabulated")  # fmt: skip


# --- the exercises --------------------------------------------------------------------------------------------------

#: a region's mean RS "changes" with the fill when the second fill moves it by more than this share
MOVE = 0.1


def fill_changes(t2: pd.DataFrame, fill: float, other_fill: float) -> dict:
    """Exercise 1: the cells tested under both fills (``both``, with each region's RS ratio between the fills and the
    change of verdict), those whose verdict changes (``moved``), per dataset how many cells each region's RS moved by
    more than :data:`MOVE` (``moves``), and the answer in words (``text``)."""
    both = tested_both(t2)
    both = both.assign(change=both["GAD > Sup."] + " to " + both["GAD > Sup. (other fill)"],
                       **{"Sup. ratio": both["Sup. (other fill)"] / both["Sup."],
                          "GAD ratio": both["GAD (other fill)"] / both["GAD"]})  # fmt: skip
    moved = both[both["GAD > Sup."] != both["GAD > Sup. (other fill)"]]
    parts, moves = [], {}
    for d, g in both.groupby("dataset", sort=False):
        m = moved[moved.dataset == d]
        kinds = ", ".join(f"{n} {k}" for k, n in m.change.value_counts().items())
        shifted = g[(g["GAD ratio"] - 1).abs() > MOVE]
        named = "; ".join(f"{system} output {o} ({', '.join(SHORT[m] for m in h.method)}: "
                          f"{report.span(h['GAD ratio'] - 1, '+.0%')})"
                          for (system, o), h in shifted.groupby(["system", "output"], sort=False))  # fmt: skip
        sup_moved = int(((g["Sup. ratio"] - 1).abs() > MOVE).sum())
        moves[d] = {"cells": len(g), "Sup. moved": sup_moved, "GAD moved": len(shifted)}
        parts.append(
            f"On {d}, {report.counted(len(m), len(g), 'cells')} "
            f"({report.numbered(g.system.nunique(), 'system', 'systems')}, "
            f"{report.numbered(g.method.nunique(), 'method', 'methods')}, "
            f"{report.numbered(g.output.nunique(), 'output', 'outputs')}) change their verdict "
            f"from fill {fill:g} to {other_fill:g}{f' ({kinds})' if kinds else ''}. Per cell, the second fill "
            f"multiplies the mean RS of the supplementary region by {factors(g['Sup. ratio'])} (by more than 10% in "
            f"{report.counted(sup_moved, len(g), 'cells')}) and that of the GAD hull by {factors(g['GAD ratio'])}"
            + (f"; the GAD hull's moves by more than 10% in {report.counted(len(shifted), len(g), 'cells')}: {named}."
               if len(shifted) else
               "; the GAD hull's moves by more than 10% in no cell.")
        )  # fmt: skip
    if fill == other_fill:
        text = report.not_measured("fill and other_fill are the same value")
    else:
        text = " ".join(parts) or report.not_measured("no cell was tested under both fills")
    return {"both": both, "moved": moved, "moves": moves, "text": text}


def pair_fits(systems: dict, base: dict, alpha: float, n_boot: int, seed: int, device) -> pd.DataFrame:
    """Exercise 3: the fit of the support of ``alpha`` for each pair (``systems``: label -> system of one pair), with
    its intervals over the pair's validation images."""
    rows = []
    for label, s in systems.items():
        a, b = s.class_pair()
        sups, (oa, ob) = supports_for(s, {**base, "classes": [a, b], "alphas": [alpha]})
        val = s.data("val")
        f = support_fit(s.model, sups[alpha], val.inputs.to(device), val.targets.to(device), oa, ob, alpha,
                        n_boot=n_boot, seed=seed)  # fmt: skip
        n_val = int(((val.labels == a) | (val.labels == b)).sum())
        rows.append({"pair": label, "images": n_val,
                     **{k: f[k] for k in (FIT, "fit CI low", "fit CI high", SHIFT, "shift CI low", "shift CI high",
                                          "rank corr a", "rank corr b", WITHIN)}})  # fmt: skip
    return pd.DataFrame(rows).set_index("pair")


def higher_pair(first: pd.Series, second: pd.Series, low: str, high: str) -> str:
    """Which of two pairs (rows of :func:`pair_fits`) is higher by a measure: the one whose interval ``[low, high]``
    lies wholly above the other's (the pairs' validation images are independent); ``"none"`` when the intervals
    overlap, which is not a test of the difference (overlapping 95% intervals can hide a difference significant at
    5%)."""
    if second[low] > first[high]:
        return str(second.name)
    if first[low] > second[high]:
        return str(first.name)
    return "none"


def pairs_answer(fits: pd.DataFrame, alpha: float) -> tuple[str, str, str]:
    """Exercise 3's answer for the pairs 3 vs 8 and 1 vs 7: the pair higher by fit and by shift realised (or
    ``"none"``), and the answer in words."""
    p38, p17 = fits.loc["3 vs 8"], fits.loc["1 vs 7"]
    overlap = "the intervals overlap, so neither lies above the other (overlap is not a test of the difference)"
    fit_winner = higher_pair(p38, p17, "fit CI low", "fit CI high")
    shift_winner = higher_pair(p38, p17, "shift CI low", "shift CI high")
    fit_text, shift_text = (f"{w} higher" if w != "none" else overlap for w in (fit_winner, shift_winner))
    if fit_winner == shift_winner == "none":
        verdict = "neither pair's interval lies above the other's by either measure on these validation images"
    elif fit_winner == shift_winner:
        verdict = f"{fit_winner} fits better by both measures"
    elif "none" in (fit_winner, shift_winner):
        verdict = f"{fit_winner if fit_winner != 'none' else shift_winner} is ahead by one measure only"
    else:
        verdict = "the two measures disagree on which pair fits better"
    text = (
        f"At alpha = {alpha:g}, the digits VGG's support for 1 vs 7 has a fit of {p17[FIT]:.3f} (95% interval "
        f"{p17['fit CI low']:.3f} to {p17['fit CI high']:.3f}, {int(p17['images'])} validation images) and realises "
        f"{p17[SHIFT]:.0%} of its shift ({p17['shift CI low']:.0%} to {p17['shift CI high']:.0%}); for 3 vs 8, "
        f"{p38[FIT]:.3f} ({p38['fit CI low']:.3f} to {p38['fit CI high']:.3f}, {int(p38['images'])} images) and "
        f"{p38[SHIFT]:.0%} ({p38['shift CI low']:.0%} to {p38['shift CI high']:.0%}). Fit: {fit_text}; shift "
        f"realised: {shift_text}; so {verdict}."
    )
    return fit_winner, shift_winner, text


def keep_study(system, base: dict, n_steps: int, n_boot: int, seed: int, device, cuts=(0.5, 0.1)) -> dict:
    """Exercise 2: on up to 8 test images per class of ``system`` (Saliency, output 1), the mean RC, the empty GAD
    masks and the share of each map's important pixels on the part that separates the classes, at two ``cuts`` (the
    share of each map's pixels kept); per cut under ``by_keep``."""
    from ..stats import bootstrap_mean_ci

    a, b = system.class_pair()
    sups, (oa, _ob) = supports_for(system, {**base, "classes": [a, b]})
    test = system.data("test")
    n_keep = min(8, *(int((test.labels == c).sum()) for c in (a, b)))
    idx = test.class_balanced_index(n_keep, (a, b))
    by_keep = {}
    for k_share in cuts:
        g = gad_maps(system.model, list(sups.values()), test.inputs[idx].to(device), oa, "Saliency", k_share,
                     n_steps=n_steps)  # fmt: skip
        has_hull = np.array([h is not None for h in g.hull_gad])

        def area(hulls):
            return np.array([h.sum().item() if h is not None else 0 for h in hulls])

        rc_k = np.where(has_hull, area(g.hull_gad) / np.maximum(area(g.hull_original), 1), np.nan)
        assert (rc_k[has_hull] <= 1).all()  # the GAD hull lies inside the original's (by construction)
        on_orig, on_gad = share_inside(g.important, test.masks[idx]), share_inside(g.gad, test.masks[idx])
        by_keep[k_share] = {"mean RC": float(rc_k[has_hull].mean()) if has_hull.any() else np.nan,
                            "empty": int((~has_hull).sum()), "original": float(np.nanmean(on_orig)),
                            "GAD": float(np.nanmean(on_gad[has_hull])) if has_hull.any() else np.nan,
                            "gain": float(np.nanmean((on_gad - on_orig)[has_hull])) if has_hull.any() else np.nan,
                            "per image": (on_orig, np.where(has_hull, on_gad, np.nan))}  # fmt: skip
    out = {"by_keep": by_keep, "n_keep": n_keep, "origin_kind": "not measured"}
    if not all(np.isfinite(by_keep[k]["gain"]) for k in by_keep):
        out["text"] = report.not_measured("every GAD mask is empty at one of the two cuts")
        return out
    k5, k1 = by_keep[cuts[0]], by_keep[cuts[1]]
    (o5, g5), (o1, g1) = k5["per image"], k1["per image"]
    both_ok = np.isfinite(o5) & np.isfinite(g5) & np.isfinite(o1) & np.isfinite(g1)  # a GAD hull at both cuts
    if both_ok.sum() < 2:
        out["text"] = report.not_measured("fewer than two images have a GAD hull at both cuts")
        return out
    # paired over the images: GAD's gain over the original at each cut, and how the rise of GAD's share splits into
    # the cut's own (the original's rise) and GAD's: the cut's own is most of it when rise_o - rise_g / 2 > 0
    gain5 = bootstrap_mean_ci((g5 - o5)[both_ok], n_boot, seed=seed)
    gain1 = bootstrap_mean_ci((g1 - o1)[both_ok], n_boot, seed=seed)
    rise_o, rise_g = (o1 - o5)[both_ok], (g1 - g5)[both_ok]
    split = bootstrap_mean_ci(rise_o - rise_g / 2, n_boot, seed=seed)
    gad_rise = float(rise_g.mean())
    interval = f"{split[0]:+.2g}, 95% interval {split[1]:+.2g} to {split[2]:+.2g}"
    if gad_rise <= 0:
        origin, kind = "GAD's share does not rise with the stricter cut.", "no rise"
    elif split[1] > 0:
        origin = ("most of the rise of GAD's share is the stricter cut's own, not GAD's (the original's rise minus "
                  f"half of GAD's: {interval}).")  # fmt: skip
        kind = "the cut's own"
    elif split[2] < 0:
        origin = ("most of the rise of GAD's share is GAD's own gain over the original (the original's rise minus "
                  f"half of GAD's: {interval}).")  # fmt: skip
        kind = "GAD's own"
    else:
        origin = ("these images cannot tell whether most of the rise of GAD's share is the stricter cut's own or "
                  f"GAD's (the original's rise minus half of GAD's: {interval}, which spans 0).")  # fmt: skip
        kind = "undecided"

    def moves(before: float, after: float) -> str:
        """How a share moves from the first cut to the second, as printed at two decimals."""
        a, b = round(after, 2), round(before, 2)
        return "rises" if a > b else "falls" if a < b else "stays"

    out["origin_kind"] = kind
    out["text"] = (
        f"On these {2 * n_keep} images of {system.name} (Saliency, output 1; {int(both_ok.sum())} with a GAD "
        f"hull at both cuts), keeping the top {cuts[1]:.0%} instead of the top {cuts[0]:.0%} of each map moves the "
        f"mean RC from {k5['mean RC']:.2f} to {k1['mean RC']:.2f} "
        f"({'lower' if k1['mean RC'] < k5['mean RC'] else 'not lower'}; over the images with a GAD hull: "
        f"{report.numbered(k1['empty'], 'GAD mask is', 'GAD masks are')} empty at the stricter cut). The original's "
        f"own share on the part that separates the classes {moves(k5['original'], k1['original'])} from "
        f"{k5['original']:.2f} to {k1['original']:.2f}, GAD's {moves(k5['GAD'], k1['GAD'])} from {k5['GAD']:.2f} to "
        f"{k1['GAD']:.2f}: GAD adds {gain5[0]:+.2g} to the original's share at the top "
        f"{cuts[0]:.0%} (paired bootstrap 95% interval {gain5[1]:+.2g} to {gain5[2]:+.2g}) and {gain1[0]:+.2g} at the "
        f"top {cuts[1]:.0%} ({gain1[1]:+.2g} to {gain1[2]:+.2g}), so {origin}"
    )  # fmt: skip
    return out


# --- the figures ----------------------------------------------------------------------------------------------------


def plot_maps(system, base: dict, skipped: pd.DataFrame, keep: float, n_steps: int, n_images: int, device,
              paths: tuple) -> None:  # fmt: skip
    """Paper Fig. 4 (one IG map's top ``keep`` pixels and their convex hull) and Fig. 5 (per method, the original and
    the GAD map of ``n_images`` test images per class, each attributed for its own class) for ``system``; ``skipped``:
    the (system, method) pairs a model cannot run; ``paths``: the two figures' files."""
    import matplotlib.pyplot as plt

    from ..gad import importance
    from ..plotting import finish, to_hwc

    a, b = system.class_pair()
    sups, (out_a, out_b) = supports_for(system, {**base, "classes": [a, b]})
    test = system.data("test")
    show_idx = torch.cat([torch.nonzero(test.labels == c).flatten()[:n_images] for c in (a, b)])
    sub = test.subset(show_idx)
    x_show = sub.inputs.to(device)
    cannot = set(zip(skipped.get("system", []), skipped.get("method", []), strict=True))
    fig_maps = {(m, k): gad_maps(system.model, list(sups.values()), x_show, o, m, keep, n_steps=n_steps)
                for m in GAD_METHODS if (system.name, m) not in cannot
                for k, o in ((1, out_a), (2, out_b))}  # fmt: skip
    g = fig_maps["IntegratedGradients", 1]
    fig, axes = plt.subplots(1, 3, figsize=(7.5, 2.6))
    axes[0].imshow(to_hwc(sub.inputs[0]), cmap="gray")
    axes[0].set_title("image", fontsize=8)
    axes[1].imshow(importance(g.original[0]).numpy(), cmap="magma")
    axes[1].set_title("IG importance", fontsize=8)
    axes[2].imshow(g.important[0].numpy(), cmap="gray")
    if g.hull_original[0] is not None:
        axes[2].contour(g.hull_original[0].numpy().astype(float), levels=[0.5], colors="red", linewidths=1.0)
    axes[2].set_title(f"top {keep:.0%} and its convex hull", fontsize=8)
    for ax in axes:
        ax.axis("off")
    finish(fig, paths[0])
    methods_shown = sorted({m for m, _ in fig_maps}, key=GAD_METHODS.index)
    n_rows = 1 + 2 * len(methods_shown)
    fig, axes = plt.subplots(n_rows, len(sub), figsize=(1.5 * len(sub), 1.45 * n_rows), squeeze=False)
    for j in range(len(sub)):
        axes[0, j].imshow(to_hwc(sub.inputs[j]), cmap="gray")
        axes[0, j].set_title(sub.class_names[int(sub.labels[j])], fontsize=7)
        k = 1 if int(sub.labels[j]) == a else 2  # each image attributed for its own class
        for r, m in enumerate(methods_shown):
            gm = fig_maps[m, k]
            imp = importance(gm.original[j])
            axes[1 + 2 * r, j].imshow(imp.numpy(), cmap="Blues")
            axes[2 + 2 * r, j].imshow((imp * gm.gad[j]).numpy(), cmap="Reds")
            if j == 0:
                axes[1 + 2 * r, j].set_ylabel(f"{SHORT[m]} orig.", fontsize=7)
                axes[2 + 2 * r, j].set_ylabel(f"{SHORT[m]} GAD", fontsize=7)
    for ax in axes.flat:
        ax.set_xticks([])
        ax.set_yticks([])
    finish(fig, paths[1])


def plot_least_activated(systems, rows: pd.DataFrame, base: dict, keep: float, n_steps: int, device, path) -> None:
    """Paper Fig. 6: per system, the test image of each class whose own output is lowest, with the IG map's original
    hull (red) and GAD hull (green)."""
    import matplotlib.pyplot as plt

    from ..plotting import finish, to_hwc

    fig, axes = plt.subplots(len(systems), 2, figsize=(4.4, 2.2 * len(systems)), squeeze=False)
    for r, s in enumerate(systems):
        a, b = s.class_pair()
        sups, outs = supports_for(s, {**base, "classes": [a, b]})
        test = s.data("test")
        for c, (cls, k) in enumerate(((a, 1), (b, 2))):
            res = rows[(rows.system == s.name) & (rows.method == "IntegratedGradients") & (rows.output == k)
                       & (rows["class"] == cls)]  # fmt: skip
            i = int(res.sort_values("logit").image.iloc[0])
            g = gad_maps(s.model, list(sups.values()), test.inputs[i : i + 1].to(device), outs[k - 1],
                         "IntegratedGradients", keep, n_steps=n_steps)  # fmt: skip
            axes[r, c].imshow(to_hwc(test.inputs[i]), cmap="gray")
            for hull, colour in ((g.hull_original[0], "red"), (g.hull_gad[0], "lime")):
                if hull is not None:
                    axes[r, c].contour(hull.numpy().astype(float), levels=[0.5], colors=colour, linewidths=1.0)
            axes[r, c].set_title(f"{s.name}: {test.class_names[cls]}", fontsize=7)
            axes[r, c].axis("off")
    finish(fig, path)
