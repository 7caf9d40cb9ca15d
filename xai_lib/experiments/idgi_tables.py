"""The IDGI paper's Tables 1-4 (Yang et al. 2023, sec. 4.3-4.6), per shard of correctly classified images.

For every image: IG, Guided IG and Blur IG, each with and without IDGI (each base method and its IDGI version
from one pass over the path), and the vanilla gradient; then

* Table 1: insertion score (probability, and probability ratio) with pixels ranked by the signed channel sum;
* Tables 2 and 3: SIC and AIC by the IDGI paper's protocol (:func:`xai_lib.metrics.pic_idgi`) with the normalised
  entropy (Table 2) and the MS-SSIM (Table 3) information level: per-image areas, and every bokeh image's
  (information, SIC, AIC) for the paper's aggregate over all images;
* insertion and SIC/AIC (entropy) with the absolute channel sum (``absolute=True`` in the payload): how much the
  sign convention decides the result;
* Table 4: weakly supervised localisation (best F1, ROC-AUC, MAE of the continuous map and MAE at the best
  threshold) where the data has masks, with the channels combined three ways (absolute sum: the tables; signed sum;
  its positive part);
* optionally (``pair_check``) SIC/AIC of IG and IG + IDGI by PAIR's own protocol, as a cross-check.

The paper does not say how a map's channels are combined; the tables use the book's convention
(:func:`book_sign`): the signed sum for insertion and SIC/AIC, its absolute value for localisation. Each score row
carries its convention in ``sign``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch

from ..attribution import IG, BlurIG, GuidedIG, VanillaGradient
from ..metrics import (
    aggregate_pair,
    binned_curve,
    insertion_aucs,
    localisation,
    pair_random_mask,
    pic_idgi,
    pic_pair_saliency,
)
from ..stopwatch import Stopwatch, timed
from .common import shard_data

METHODS = ("IG", "IG+IDGI", "GIG", "GIG+IDGI", "BlurIG", "BlurIG+IDGI", "VG")
BASES = {"IG+IDGI": "IG", "GIG+IDGI": "GIG", "BlurIG+IDGI": "BlurIG"}
INFORMATION = {"entropy": "entropy", "msssim": "MS-SSIM"}
PAIR_MAPS = ("IG", "IG+IDGI")
#: the localisation metrics (key of :func:`xai_lib.metrics.localisation` -> the tables' label)
LOCALISATION = {"best_f1": "F1", "roc_auc": "ROC-AUC", "mae_best": "MAE (best threshold)", "mae": "MAE (continuous)"}
#: the channel conventions of the localisation scores (``sign`` of :func:`xai_lib.metrics.localisation`)
LOCALISATION_SIGNS = ("absolute", "signed", "positive")


def book_sign(metric: str) -> str:
    """The book's channel convention for ``metric`` (the paper states none): ``"absolute"`` (``|sum_c a_c|``) for
    localisation, ``"signed"`` (``sum_c a_c``) for insertion and SIC/AIC."""
    return "absolute" if metric in LOCALISATION.values() else "signed"


def convention(scores: pd.DataFrame, sign: str = "book") -> pd.DataFrame:
    """The score rows of one channel convention: ``"book"`` takes each metric's :func:`book_sign`; ``"signed"``,
    ``"absolute"`` or ``"positive"`` take that convention wherever it was computed."""
    if sign == "book":
        return scores[scores.sign == scores.metric.map(book_sign)]
    return scores[scores.sign == sign]


def attributions(model, x: torch.Tensor, y: torch.Tensor, output: str, steps: int, blur_steps: int) -> dict:
    """The seven maps of the tables (each base method and its IDGI version from one pass)."""
    maps = {}
    maps["IG"], maps["IG+IDGI"] = IG(model, output).attribute_with_idgi(x, target=y, n_steps=steps)
    maps["GIG"], maps["GIG+IDGI"] = GuidedIG(model, output).attribute_with_idgi(x, target=y, n_steps=steps)
    maps["BlurIG"], maps["BlurIG+IDGI"] = BlurIG(model, output).attribute_with_idgi(x, target=y, n_steps=blur_steps)
    maps["VG"] = VanillaGradient(model, output).attribute(x, target=y)
    return {k: v.detach() for k, v in maps.items()}


def _long(values: dict[tuple[str, str, str], torch.Tensor], images: list[int]) -> pd.DataFrame:
    rows = []
    for (method, metric, sign), v in values.items():
        rows += [{"image": i, "method": method, "metric": metric, "sign": sign, "value": float(x)}
                 for i, x in zip(images, v.tolist(), strict=True)]  # fmt: skip
    return pd.DataFrame(rows)


def scores(p: dict) -> dict[str, pd.DataFrame]:
    """Task: every metric of the four tables for the shard's images (see the module notes), and where the time
    went (:data:`TIME_COLUMNS`: the two phases and, inside them, the labelled sections of one stopwatch)."""
    system, data = shard_data(p)
    x, y = data.inputs.to(system.device), data.targets.to(system.device)
    with Stopwatch() as watch:
        with timed("attribution"):
            maps = attributions(system.model, x, y, p["output"], p["steps"], p["blur_steps"])
        attribution_model = watch.get("model")
        with timed("metrics"):
            out = _metrics(p, system.model, x, y, data.masks, maps)
    seconds = (watch.get("attribution"), watch.get("metrics"), attribution_model,
               watch.get("model") - attribution_model, watch.get("WebP"), watch.get("MS-SSIM"))  # fmt: skip
    out["timing"] = pd.DataFrame([{"images": len(p["indices"]), **dict(zip(TIME_COLUMNS, seconds, strict=True))}])
    return out


#: the shard's wall-clock seconds: the attributions and the metrics, and inside them the model's calls (forward,
#: and backward for the attributions), the WebP encodes and MS-SSIM of the SIC/AIC protocol
TIME_COLUMNS = ("attribution s", "metrics s", "attribution model s", "metrics model s", "WebP s", "MS-SSIM s")


def _metrics(p: dict, model, x: torch.Tensor, y: torch.Tensor, object_masks, maps: dict) -> dict[str, pd.DataFrame]:
    """Every metric of the four tables for the shard's maps (tidy tables: scores, bokeh images, skips, PAIR's);
    ``object_masks``: the images' object masks for localisation (``None``: the data has none)."""
    images = p["indices"]
    values: dict[tuple[str, str, str], torch.Tensor] = {}
    bokeh, skips = [], []
    signs = ("signed", "absolute") if p.get("absolute", True) else ("signed",)
    for sign in signs:
        absolute = sign == "absolute"
        for name, sal in maps.items():
            ins = insertion_aucs(model, x, sal, y, absolute=absolute)
            values[name, "insertion (prob)", sign] = ins["probability"].values
            values[name, "insertion (ratio)", sign] = ins["ratio"].values
        # the sign study ranks by |attribution| for insertion and the entropy level (MS-SSIM is the costly one)
        levels = tuple(INFORMATION) if not absolute else ("entropy",)
        both = pic_idgi(model, x, maps, y, information=levels, webp_method=p["webp_method"], absolute=absolute)
        for info, label in INFORMATION.items():
            if info not in both:
                continue
            res = both[info]
            for name in maps:
                for kind in ("sic", "aic"):
                    values[name, f"{kind.upper()} ({label})", sign] = res.per_image(name, kind).values
            table = pd.DataFrame(res.rows())
            table["image"] = [images[i] for i in table["image"]]
            bokeh.append(table.rename(columns={"map": "method"}).assign(information_level=label, sign=sign))
            if sign == "signed":
                skips += [{"image": images[i], "information": label, "reason": r} for i, r in res.skipped.items()]
    if object_masks is not None:
        for sign in LOCALISATION_SIGNS:
            for name, sal in maps.items():
                loc = localisation(sal.cpu(), object_masks, sign)
                for key, label in LOCALISATION.items():
                    values[name, label, sign] = loc[key].values
    out = {"scores": _long(values, images), "bokeh": pd.concat(bokeh, ignore_index=True), "skips": pd.DataFrame(skips)}
    # ``pair_check``: how many of the shard's first images PAIR's own code scores too (``True``: all of them)
    n_check = len(images) if p.get("pair_check") is True else int(p.get("pair_check") or 0)
    if n_check:
        h, w = x.shape[-2:]  # each image's random mask from (seed, image): independent of the sharding
        images = images[:n_check]
        masks = np.stack([pair_random_mask(h, w, 0.01, np.random.default_rng([p["seed"], i])) for i in images])
        pair = pic_pair_saliency(model, x[:n_check], {m: maps[m][:n_check] for m in PAIR_MAPS}, y[:n_check],
                                 random_masks=masks)  # fmt: skip
        rows, curves = [], []
        for name in PAIR_MAPS:
            for kind in ("sic", "aic"):
                r = pair[name][kind]
                rows += [{"image": images[i], "method": name, "kind": kind, "value": float(v),
                          "skipped": r.skipped.get(i, "")} for i, v in enumerate(r.values.tolist())]  # fmt: skip
                for i in range(len(images)):
                    if i not in r.skipped:
                        curves.append(pd.DataFrame({"image": images[i], "method": name, "kind": kind,
                                                    "point": range(r.curves.shape[1]),
                                                    "y": r.curves[i].numpy()}))  # fmt: skip
        out["pair"] = pd.DataFrame(rows)
        out["pair_curves"] = pd.concat(curves, ignore_index=True) if curves else pd.DataFrame()
    return out


def time_breakdown(timing: pd.DataFrame) -> pd.DataFrame:
    """Per system and over all (``"all"``): the images, the seconds of the attributions and of the metrics, and
    the shares of that time spent in the model's calls (both phases), the WebP encodes, MS-SSIM, and everything
    else (building path points and bokeh images, ranking pixels, the methods' own arithmetic, the tables)."""
    t = timing.groupby("system", sort=False)[["images", *TIME_COLUMNS]].sum()
    t.loc["all"] = t.sum()
    total = t["attribution s"] + t["metrics s"]
    shares = {
        "model calls": (t["attribution model s"] + t["metrics model s"]) / total,
        "WebP": t["WebP s"] / total,
        "MS-SSIM": t["MS-SSIM s"] / total,
    }
    shares["other"] = 1.0 - sum(shares.values())
    out = pd.DataFrame({"images": t["images"].astype(int), "attribution s": t["attribution s"],
                        "metrics s": t["metrics s"], **shares})  # fmt: skip
    return out.rename_axis("system").reset_index()


def pair_aggregate(curves: pd.DataFrame, method: str, kind: str) -> float:
    """PAIR's aggregate area (median or mean of the per-image curves) from the tidy curve rows."""
    from ..metrics import MetricResult

    if curves.empty:
        return float("nan")
    part = curves[(curves.method == method) & (curves.kind == kind)]
    if part.empty:
        return float("nan")
    wide = part.pivot(index="image", columns="point", values="y")
    result = MetricResult(torch.zeros(len(wide)), {}, torch.tensor(wide.to_numpy()))
    return aggregate_pair(result, kind)[0]


TABLES = {
    "Table 1: insertion": ["insertion (prob)", "insertion (ratio)"],
    "Table 2: SIC/AIC (entropy)": ["AIC (entropy)", "SIC (entropy)"],
    "Table 3: SIC/AIC (MS-SSIM)": ["AIC (MS-SSIM)", "SIC (MS-SSIM)"],
    "Table 4: localisation": ["F1", "ROC-AUC", "MAE (best threshold)", "MAE (continuous)"],
}


def table_value(
    scores: pd.DataFrame, bokeh: pd.DataFrame, system: str, method: str, metric: str, sign: str = "book"
) -> float:
    """One cell as the paper computes it: the mean over images (insertion, localisation) or, for SIC and AIC,
    the area under the aggregate binned curve over all bokeh images of all kept images."""
    sign = book_sign(metric) if sign == "book" else sign
    if metric.startswith(("SIC", "AIC")):
        kind, label = metric[:3].lower(), metric[5:-1]
        part = bokeh[(bokeh.system == system) & (bokeh.method == method) & (bokeh.information_level == label)
                     & (bokeh.sign == sign)]  # fmt: skip
        return binned_curve(part.information.to_numpy(dtype=float), part[kind].to_numpy(dtype=float), kind)[0]
    part = scores[(scores.system == system) & (scores.method == method) & (scores.metric == metric)
                  & (scores.sign == sign)]  # fmt: skip
    return float(part.value.mean()) if len(part) else float("nan")


def images_with_value(scores: pd.DataFrame, system: str, metric: str, sign: str = "book") -> int:
    """How many images of ``system`` have a value of ``metric`` for every method (the images a table's cell stands
    on; SIC/AIC (entropy) leaves out the images whose blurred base is not less informative than the original)."""
    sign = book_sign(metric) if sign == "book" else sign
    part = scores[(scores.system == system) & (scores.metric == metric) & (scores.sign == sign)]
    if part.empty:
        return 0
    finite = part.assign(ok=np.isfinite(part.value.to_numpy(dtype=float))).groupby("image").ok.all()
    return int(finite.sum())


def tables(
    scores: pd.DataFrame, bokeh: pd.DataFrame, systems: list[str], sign: str = "book"
) -> dict[str, pd.DataFrame]:
    """Tables 1-4 (rows: metric x system with data for it; columns: the images the row stands on, then the seven
    methods in the paper's order; ``sign``: the channel convention, :func:`convention`)."""
    out = {}
    for title, metrics in TABLES.items():
        rows = []
        for metric in metrics:
            for system in systems:
                if scores[(scores.system == system) & (scores.metric == metric)].empty:
                    continue
                rows.append({"metric": metric, "system": system,
                             "images": images_with_value(scores, system, metric, sign),
                             **{m: table_value(scores, bokeh, system, m, metric, sign) for m in METHODS}})  # fmt: skip
        out[title] = pd.DataFrame(rows, columns=["metric", "system", "images", *METHODS])
    return out


def images_per_table(scores: pd.DataFrame, systems: list[str]) -> pd.DataFrame:
    """Per system: the images scored, and how many of them enter each table (the fewest over the table's metrics;
    0 where the table has no row for the system, e.g. localisation without masks)."""
    rows = []
    for system in systems:
        row = {"system": system, "images scored": int(scores[scores.system == system].image.nunique())}
        for title, metrics in TABLES.items():
            row[title.split(":")[0]] = min(images_with_value(scores, system, m) for m in metrics)
        rows.append(row)
    return pd.DataFrame(rows)


LOWER_IS_BETTER = frozenset({"MAE (best threshold)", "MAE (continuous)"})


def comparisons(scores: pd.DataFrame, alpha: float, n_boot: int, seed: int, sign: str = "book") -> pd.DataFrame:
    """Per (system, metric, base method): does IDGI improve its base method on the same images? The mean per-image
    difference with its bootstrap CI, the Wilcoxon p-value, the signed-rank balance (``rank balance``: its sign
    decides the verdict's direction) and the verdict (:func:`xai_lib.stats.paired_comparison`), and the median
    difference for reference (it does not decide: with many tied differences it can be 0 while the ranks lean one
    way); ``sign``: the channel convention."""
    from ..stats import paired_comparison

    rows = []
    part = convention(scores, sign)
    for (system, metric), g in part.groupby(["system", "metric"], sort=False):
        wide = g.pivot(index="image", columns="method", values="value")
        for new, base in BASES.items():
            res = paired_comparison(wide[new], wide[base], higher_is_better=metric not in LOWER_IS_BETTER,
                                    alpha=alpha, n_boot=n_boot, seed=seed)  # fmt: skip
            d = (wide[new] - wide[base]).to_numpy(dtype=float)
            d = d[np.isfinite(d)]
            median = float(np.median(d)) if len(d) else float("nan")
            rows.append({"system": system, "metric": metric, "base": base, **res, "median diff": median})
    return pd.DataFrame(rows, columns=COMPARISON_COLUMNS)


#: the columns of :func:`comparisons` (also when no cell exists)
COMPARISON_COLUMNS = ["system", "metric", "base", "n", "mean diff", "CI low", "CI high", "p", "rank balance", "verdict",
                      "median diff"]  # fmt: skip
#: the verdicts of a tested cell (``"n/a"``: fewer than five pairs; ``"saturated"``: see :func:`mark_saturated`)
TESTED = ("better", "no difference", "worse")


def win_counts(comparison: pd.DataFrame) -> dict[str, int]:
    """The cells of a :func:`comparisons` table per verdict (``better``, ``no difference``, ``worse``, ``n/a``,
    ``saturated``) and the ``tested`` ones (better, no difference or worse)."""
    counts = {v: int((comparison.verdict == v).sum()) for v in (*TESTED, "n/a", "saturated")}
    return {**counts, "tested": sum(counts[v] for v in TESTED)}


def family_win_counts(comparison: pd.DataFrame) -> dict[str, int]:
    """:func:`win_counts` with the same metric computed two ways counted once: the tested cells grouped by (system,
    base method, metric family of :data:`METRIC_FAMILY`); a group is ``better``, ``worse`` or ``no difference`` when
    every tested cell of it says so, else ``split``. Also ``groups`` (the groups with a tested cell)."""
    tested = comparison[comparison.verdict.isin(TESTED)]
    family = metric_family(tested.metric)
    outcomes = tested.groupby([tested.system, tested.base, family], sort=False).verdict.agg(
        lambda v: v.iloc[0] if v.nunique() == 1 else "split"
    )
    counts = {v: int((outcomes == v).sum()) for v in (*TESTED, "split")}
    return {**counts, "groups": len(outcomes)}


def holm(p) -> np.ndarray:
    """Holm's step-down adjusted p-values (NaN stays NaN and does not count among the tests): the ``k``-th smallest of
    ``m`` p-values is multiplied by ``m - k + 1``, made non-decreasing along the order and capped at 1. A cell is
    significant at ``alpha`` after the correction when its adjusted p-value is below ``alpha``."""
    p = np.asarray(p, dtype=float)
    out = np.full(p.shape, np.nan)
    ok = np.flatnonzero(np.isfinite(p))
    if not len(ok):
        return out
    order = ok[np.argsort(p[ok], kind="stable")]
    m = len(order)
    adjusted = np.minimum(1.0, np.maximum.accumulate(p[order] * (m - np.arange(m))))
    out[order] = adjusted
    return out


#: an image's blurred base is *saturated* when the model already classifies it as the target: its SIC/AIC curve
#: then starts at (or near) the top, and every map, a random one too, scores close to 1. A (system, information
#: level) row of Tables 2-3 is saturated when more than this share of its images are.
SATURATED_FROM = 0.5


def saturated_rows(bokeh: pd.DataFrame, share: float = SATURATED_FROM) -> pd.DataFrame:
    """Per (system, information level) of the SIC/AIC tables: the ``images`` of the row (those with an information
    level), the ``base correct`` ones (the bokeh image at 0%, the blurred base itself, classified as the target:
    AIC 1 there) and ``saturated`` (True when more than ``share`` of the images have a correct base). PAIR's
    protocol skips an image whose blurred base keeps the original's probability; the IDGI paper's keeps every
    image, so a row where most bases are already correct cannot separate the maps: its cells are not comparable."""
    columns = ["system", "information_level", "images", "base correct", "saturated"]
    if bokeh.empty:
        return pd.DataFrame(columns=columns)
    per_image = _base_correct_per_image(bokeh)
    rows = per_image.groupby(level=["system", "information_level"], sort=False).agg(["size", "sum"]).reset_index()
    rows = rows.rename(columns={"size": "images", "sum": "base correct"})
    rows["base correct"] = rows["base correct"].astype(int)
    rows["saturated"] = rows["base correct"] > share * rows["images"]
    return rows[columns]


def _base_correct_per_image(bokeh: pd.DataFrame) -> pd.Series:
    """Per (system, information level, image) with an information level: 1 when its blurred base (the bokeh image at
    0%) is already classified as the target (AIC 1 there), else 0."""
    base = bokeh[(bokeh.percent == 0) & np.isfinite(bokeh.information.to_numpy(dtype=float))]
    return base.groupby(["system", "information_level", "image"], sort=False).aic.max()


def base_correct_images(bokeh: pd.DataFrame) -> set[tuple[str, str, int]]:
    """The (system, information level, image) triples whose blurred base is already classified as the target: the
    images :func:`saturated_rows` counts."""
    if bokeh.empty:
        return set()
    return {(str(s), str(level), int(i)) for (s, level, i), v in _base_correct_per_image(bokeh).items() if v > 0}


def without_base_correct(scores: pd.DataFrame, bokeh: pd.DataFrame) -> pd.DataFrame:
    """``scores`` (columns system, metric, image, ...) without the SIC and AIC values of the images whose blurred
    base is already classified as the target (:func:`base_correct_images`), per information level: a per-image
    rule in the spirit of PAIR's protocol (which skips an image whose blurred base keeps the original's
    probability), the alternative to marking whole rows (:func:`mark_saturated`). Other metrics are kept as they
    are."""
    skip = base_correct_images(bokeh)
    if not skip or scores.empty:
        return scores.copy()
    level = scores.metric.str.extract(r"^(?:SIC|AIC) \((.+)\)$", expand=False)
    drop = [isinstance(lv, str) and (str(s), lv, int(i)) in skip
            for s, lv, i in zip(scores.system, level, scores.image, strict=True)]  # fmt: skip
    return scores[~np.asarray(drop, dtype=bool)].copy()


def mark_saturated(comparison: pd.DataFrame, rows: pd.DataFrame) -> pd.DataFrame:
    """``comparison`` with the verdict of every SIC/AIC cell of a saturated (system, information level) row
    (:func:`saturated_rows`) set to ``"saturated"`` (not comparable: kept out of the counts of tested cells); a cell
    with too few images to test stays ``"n/a"``."""
    flagged = {(r.system, f"{kind} ({r.information_level})") for r in rows[rows.saturated].itertuples()
               for kind in ("SIC", "AIC")}  # fmt: skip
    out = comparison.copy()
    hit = [(s, m) in flagged and v != "n/a" for s, m, v in zip(out.system, out.metric, out.verdict, strict=True)]
    out.loc[hit, "verdict"] = "saturated"
    return out


def direction_conflicts(comparison: pd.DataFrame, tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """The cells whose significant verdict (better or worse) points against the table's own difference (the IDGI
    version minus its base method in the table: a mean over images, or for SIC/AIC the area of the aggregate binned
    curve; lower MAE is better). A paired test counts per-image differences by their signed ranks, a table averages
    or pools them: the two can disagree. Columns: system, metric, base, verdict, the table's two values (``table
    base``, ``table IDGI``) and their difference ``table diff``."""
    values = pd.concat([t.set_index(["metric", "system"]) for t in tables.values() if len(t)]) if tables else None
    rows = []
    for c in comparison[comparison.verdict.isin(["better", "worse"])].itertuples():
        if values is None or (c.metric, c.system) not in values.index:
            continue
        row = values.loc[(c.metric, c.system)]
        new = next(k for k, v in BASES.items() if v == c.base)
        diff = float(row[new] - row[c.base])
        gain = -diff if c.metric in LOWER_IS_BETTER else diff
        if np.isfinite(gain) and (gain < 0 if c.verdict == "better" else gain > 0):
            rows.append({"system": c.system, "metric": c.metric, "base": c.base, "verdict": c.verdict,
                         "table base": float(row[c.base]), "table IDGI": float(row[new]),
                         "table diff": diff})  # fmt: skip
    return pd.DataFrame(rows, columns=["system", "metric", "base", "verdict", "table base", "table IDGI", "table diff"])


def across_datasets(verdicts) -> str:
    """One claim's verdict from its datasets' verdicts (``not comparable`` ones left out): ``reproduced`` when every
    dataset reproduces it, ``partly`` when at least one reproduces it fully or partly but not all fully, else ``not
    reproduced`` when one does not reproduce it, else ``inconclusive`` (every interval spans the threshold); ``not
    comparable`` without a comparable dataset."""
    v = [x for x in verdicts if x != "not comparable"]
    if not v:
        return "not comparable"
    if all(x == "reproduced" for x in v):
        return "reproduced"
    if any(x in ("reproduced", "partly") for x in v):
        return "partly"
    return "not reproduced" if "not reproduced" in v else "inconclusive"


def architecture(model: str) -> str | None:
    """The family of a model spec for the residual-versus-plain comparison: ``"ResNet"`` when its name contains
    "resnet", ``"VGG"`` when it contains "vgg", else ``None`` (not classified)."""
    name = model.lower()
    return "ResNet" if "resnet" in name else "VGG" if "vgg" in name else None


def family_pairs(comparison: pd.DataFrame, systems: pd.DataFrame) -> pd.DataFrame:
    """Matched cells of a VGG-style and a ResNet system: same dataset, same training level (``level``), metric and
    base method, both tested (:data:`TESTED`). ``systems``: one row per system with ``system``, ``dataset``,
    ``level`` and ``family`` (:func:`architecture`; the first system of a (dataset, level, family) is used). Columns:
    the keys, the two verdicts, ``better VGG`` / ``better ResNet`` (1 when IDGI is better) and ``difference`` (VGG
    minus ResNet)."""
    keys = ["dataset", "level", "metric", "base"]
    info = systems.dropna(subset=["family"]).drop_duplicates(["dataset", "level", "family"])
    cells = comparison.loc[comparison.verdict.isin(TESTED), ["system", "metric", "base", "verdict"]]
    tested = cells.merge(info, on="system")
    sides = {
        fam: tested[tested.family == fam][[*keys, "system", "verdict"]].rename(
            columns={"system": f"system {fam}", "verdict": f"verdict {fam}"}
        )
        for fam in ("VGG", "ResNet")
    }
    pairs = sides["VGG"].merge(sides["ResNet"], on=keys)
    for fam in ("VGG", "ResNet"):
        pairs[f"better {fam}"] = (pairs[f"verdict {fam}"] == "better").astype(int)
    pairs["difference"] = pairs["better VGG"] - pairs["better ResNet"]
    return pairs.reset_index(drop=True)


def smallest_exact_p(discordant: int) -> float:
    """The smallest two-sided p-value McNemar's exact test can give with ``discordant`` pairs won by one side only
    (all of them on one side): ``min(1, 2^(1 - d))``, 1 for none. Below 6 pairs it is at least 0.0625, so no split
    can be significant at 0.05: a non-significant result then says the test had no power, not that the data lean
    weakly."""
    if isinstance(discordant, bool) or not isinstance(discordant, int | np.integer) or discordant < 0:
        raise ValueError(f"discordant: expected a count >= 0, got {discordant!r}")
    return 1.0 if discordant == 0 else min(1.0, 2.0 ** (1 - int(discordant)))


def family_by_dataset(pairs: pd.DataFrame, alpha: float = 0.05) -> pd.DataFrame:
    """Per dataset of :func:`family_pairs`: the matched ``cells``, IDGI's wins on each side, the discordant cells
    (``VGG only``: IDGI better on the VGG-style system and not on the ResNet; ``ResNet only``: the reverse), the exact
    two-sided binomial test of the discordant cells (McNemar's exact test; the cells share images, so its ``p`` is
    optimistic) and the ``verdict`` of "IDGI is better in fewer cells on the ResNet": ``reproduced`` when ``p <
    alpha`` and VGG only > ResNet only; ``not reproduced`` when ``p < alpha`` the other way, or when the discordant
    cells do not lean towards the claim (VGG only <= ResNet only); ``inconclusive`` when they lean towards it but
    ``p >= alpha``."""
    from scipy.stats import binomtest

    rows = []
    for dataset, g in pairs.groupby("dataset", sort=False):
        vgg_only = int((g["difference"] > 0).sum())
        resnet_only = int((g["difference"] < 0).sum())
        discordant = vgg_only + resnet_only
        p = float(binomtest(vgg_only, discordant, 0.5).pvalue) if discordant else 1.0
        if p < alpha:
            verdict = "reproduced" if vgg_only > resnet_only else "not reproduced"
        else:
            verdict = "inconclusive" if vgg_only > resnet_only else "not reproduced"
        rows.append({"dataset": dataset, "cells": len(g), "better VGG": int(g["better VGG"].sum()),
                     "better ResNet": int(g["better ResNet"].sum()), "VGG only": vgg_only,
                     "ResNet only": resnet_only, "p": p, "verdict": verdict})  # fmt: skip
    columns = ["dataset", "cells", "better VGG", "better ResNet", "VGG only", "ResNet only", "p", "verdict"]
    return pd.DataFrame(rows, columns=columns)


#: metrics that score one map twice over the same evidence (one insertion curve as probability and as ratio; one
#: set of bokeh images as SIC and AIC; one binary or continuous map as MAE): near-duplicates, one family each; every
#: other metric is its own family
METRIC_FAMILY = {
    "insertion (prob)": "insertion", "insertion (ratio)": "insertion",
    "SIC (entropy)": "SIC/AIC (entropy)", "AIC (entropy)": "SIC/AIC (entropy)",
    "SIC (MS-SSIM)": "SIC/AIC (MS-SSIM)", "AIC (MS-SSIM)": "SIC/AIC (MS-SSIM)",
    "MAE (best threshold)": "MAE", "MAE (continuous)": "MAE",
}  # fmt: skip


def metric_family(metrics: pd.Series) -> pd.Series:
    """Each metric's family in :data:`METRIC_FAMILY` (a metric not listed is its own family)."""
    return metrics.map(lambda m: METRIC_FAMILY.get(m, m))


def family_groups(pairs: pd.DataFrame, alpha: float = 0.05) -> pd.DataFrame:
    """:func:`family_by_dataset` with near-duplicate cells counted once: the matched cells of :func:`family_pairs`
    grouped by (dataset, training level, base method, metric family of :data:`METRIC_FAMILY`); a group is won on the
    VGG side only when the sum of its cells' ``difference`` is positive, on the ResNet side only when it is negative.
    Per dataset: ``groups``, ``VGG only``, ``ResNet only``, ``p`` (McNemar's exact test on the groups won on one
    side only) and ``verdict`` by :func:`family_by_dataset`'s rule."""
    columns = ["dataset", "groups", "VGG only", "ResNet only", "p", "verdict"]
    if not len(pairs):
        return pd.DataFrame(columns=columns)
    keyed = pairs.assign(family=metric_family(pairs.metric))
    lean = keyed.groupby(["dataset", "level", "base", "family"], sort=False).difference.sum().reset_index()
    side = np.sign(lean["difference"]).astype(int)
    grouped = pd.DataFrame({"dataset": lean["dataset"], "better VGG": (side > 0).astype(int),
                            "better ResNet": (side < 0).astype(int), "difference": side})  # fmt: skip
    out = family_by_dataset(grouped, alpha).rename(columns={"cells": "groups"})
    return out[columns]


def paper_cells() -> tuple[pd.DataFrame, pd.DataFrame]:
    """The paper's Tables 1-4 per (metric, method): mean, min and max over its 11 ImageNet models, and the share
    of models on which the IDGI version beats its base method. The paper's MAE is taken at the best threshold: it
    is named ``"MAE (best threshold)"`` here."""
    from ..reference import idgi_tables as paper

    t = paper().replace({"metric": {"MAE": "MAE (best threshold)"}})
    summary = t.groupby(["metric", "method"]).value.agg(["mean", "min", "max"]).reset_index()
    wins = []
    for (metric, _model), g in t.groupby(["metric", "model"]):
        v = g.set_index("method").value
        for new, base in BASES.items():
            better = v[new] < v[base] if metric in LOWER_IS_BETTER else v[new] > v[base]
            wins.append({"metric": metric, "base": base, "better": bool(better)})
    wins = pd.DataFrame(wins).groupby(["metric", "base"]).better.agg(["sum", "size"]).reset_index()
    return summary, wins


def bin_spread(information: np.ndarray, bins: int = 100) -> dict[str, float]:
    """How the bokeh images spread over the protocol's information bins (values clipped to [0, 1], as
    :func:`xai_lib.metrics.binned_curve` bins them; NaN dropped): the ``bokeh images``, the ``bins with a bokeh
    image``, the ``share in the fullest bin`` and the ``effective bins``, ``exp(H)`` of the Shannon entropy ``H`` of
    the bins' shares (``k`` for images spread evenly over ``k`` bins, 1 when one bin holds them all)."""
    v = np.asarray(information, dtype=float)
    v = v[np.isfinite(v)]
    if not len(v):
        nan = float("nan")
        return {"bokeh images": 0, "bins with a bokeh image": 0, "share in the fullest bin": nan, "effective bins": nan}
    occupied = np.bincount(np.minimum((np.clip(v, 0.0, 1.0) * bins).astype(int), bins - 1), minlength=bins)
    share = occupied[occupied > 0] / len(v)
    return {
        "bokeh images": len(v),
        "bins with a bokeh image": int((occupied > 0).sum()),
        "share in the fullest bin": float(share.max()),
        "effective bins": float(np.exp(-(share * np.log(share)).sum())),
    }


#: the outcomes of :func:`lowest_rows` as cell verdicts of :func:`xai_lib.experiments.co_gap.cells_verdict`
LOWEST_OUTCOMES = {"lowest": "reproduced", "not lowest": "not reproduced", "undecided": "inconclusive",
                   "not tested": "not comparable"}  # fmt: skip
#: the columns of :func:`lowest_rows` (also when no row exists)
LOWEST_COLUMNS = ["metric", "system", "images", "method mean", "lowest", "compared with", "other mean", "gap",
                  "rank balance", "p", "outcome"]  # fmt: skip


def lowest_rows(
    scores: pd.DataFrame, metrics, method: str = "VG", alpha: float = 0.05, n_boot: int = 1000, seed: int = 0,
    sign: str = "book",
) -> pd.DataFrame:  # fmt: skip
    """Per (metric, system) row of a table (the tidy ``scores`` of ``metrics`` under the channel convention ``sign``,
    :func:`convention`): is ``method``'s score the lowest of the row, tested on the same images? The methods' means
    over their images order the row (as the table shows them). When ``method``'s mean is the lowest, it is compared
    with the method of the second-lowest mean; otherwise the method of the lowest mean is compared with it. The test
    is the paired Wilcoxon signed-rank test of :func:`xai_lib.stats.paired_comparison` (direction by the signed
    ranks). ``outcome``: ``"lowest"`` when ``method`` is significantly lower than the second-lowest at ``alpha``;
    ``"not lowest"`` when the lowest is significantly lower than ``method``; ``"undecided"`` otherwise (no
    significant difference, or a significant one against the order of the means); ``"not tested"`` with fewer than
    five images with a value on both sides, or without a score of ``method`` or of another method. Columns
    (:data:`LOWEST_COLUMNS`): metric, system, ``images`` (the pairs tested), ``method mean``, ``lowest`` (the method
    of the lowest mean), ``compared with``, ``other mean`` (its mean), ``gap`` (``method``'s mean minus the row's
    lowest mean: 0 when it is the lowest), ``rank balance`` (of ``method`` minus the other: negative when
    ``method``'s scores are lower by the signed ranks), ``p`` and ``outcome``."""
    from ..stats import paired_comparison

    part = convention(scores, sign)
    part = part[part.metric.isin(list(metrics))]
    rows = []
    for metric in metrics:
        for system in dict.fromkeys(part.system):
            g = part[(part.metric == metric) & (part.system == system)]
            if g.empty:
                continue
            wide = g.pivot(index="image", columns="method", values="value")
            means = wide.mean().dropna().sort_values(kind="stable")
            row = {"metric": metric, "system": system, "images": 0, "method mean": float("nan"), "lowest": "",
                   "compared with": "", "other mean": float("nan"), "gap": float("nan"),
                   "rank balance": float("nan"), "p": float("nan"), "outcome": "not tested"}  # fmt: skip
            if method not in means.index or len(means) < 2:
                rows.append(row)
                continue
            lowest = str(means.index[0])
            other = str(means.index[1]) if lowest == method else lowest
            res = paired_comparison(wide[method], wide[other], higher_is_better=False, alpha=alpha, n_boot=n_boot,
                                    seed=seed)  # fmt: skip
            if res["verdict"] == "n/a":
                outcome = "not tested"
            elif lowest == method:
                outcome = "lowest" if res["verdict"] == "better" else "undecided"
            else:
                outcome = "not lowest" if res["verdict"] == "worse" else "undecided"
            row.update({"images": int(res["n"]), "method mean": float(means[method]), "lowest": lowest,
                        "compared with": other, "other mean": float(means[other]),
                        "gap": float(means[method] - means.iloc[0]), "rank balance": res.get("rank balance", np.nan),
                        "p": res["p"], "outcome": outcome})  # fmt: skip
            rows.append(row)
    return pd.DataFrame(rows, columns=LOWEST_COLUMNS)


def lowest_verdict(outcomes) -> str:
    """The verdict of "``method`` has the lowest score" from the outcomes of :func:`lowest_rows`, by
    :func:`xai_lib.experiments.co_gap.cells_verdict` on the rows (lowest: reproduced, not lowest: not reproduced,
    undecided: inconclusive, not tested: left out): ``reproduced`` when every tested row is ``lowest``, ``partly``
    when at least half are, ``not reproduced`` when fewer than half are and at least half are ``not lowest``, else
    ``inconclusive``; ``not comparable`` without a tested row."""
    from .co_gap import cells_verdict

    return cells_verdict([LOWEST_OUTCOMES[o] for o in outcomes])
