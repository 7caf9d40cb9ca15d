"""The IDGI paper's Tables 1-4 (Yang et al. 2023, sec. 4.3-4.6), per shard of correctly classified images.

For every image: IG, Guided IG and Blur IG, each with and without IDGI (each base method and its IDGI version
from one pass over the path), and the vanilla gradient; then

* Table 1: insertion score (probability, and probability ratio) by the signed channel sum;
* Tables 2 and 3: SIC and AIC by the IDGI paper's protocol (:func:`xai_lib.metrics.pic_idgi`) with the normalised
  entropy (Table 2) and the MS-SSIM (Table 3) information level: per-image areas, and every bokeh image's
  (information, SIC, AIC) for the paper's aggregate over all images;
* insertion and SIC/AIC (entropy) with the absolute channel sum (``absolute=True`` in the payload): how much the
  sign convention decides the result;
* Table 4: weakly supervised localisation (best F1, ROC-AUC, MAE) where the data has masks;
* optionally (``pair_check``) SIC/AIC of IG and IG + IDGI by PAIR's own protocol, as a cross-check.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch

from ..attribution import IG, BlurIG, GuidedIG, VanillaGradient
from ..metrics import aggregate_pair, binned_curve, insertion_aucs, localisation, pair_random_mask, pic_idgi, pic_pair
from ..stopwatch import Stopwatch, timed
from .common import shard_data

METHODS = ("IG", "IG+IDGI", "GIG", "GIG+IDGI", "BlurIG", "BlurIG+IDGI", "VG")
BASES = {"IG+IDGI": "IG", "GIG+IDGI": "GIG", "BlurIG+IDGI": "BlurIG"}
INFORMATION = {"entropy": "entropy", "msssim": "MS-SSIM"}
PAIR_MAPS = ("IG", "IG+IDGI")


def attributions(model, x: torch.Tensor, y: torch.Tensor, output: str, steps: int, blur_steps: int) -> dict:
    """The seven maps of the tables (each base method and its IDGI version from one pass)."""
    maps = {}
    maps["IG"], maps["IG+IDGI"] = IG(model, output).attribute_with_idgi(x, y, n_steps=steps)
    maps["GIG"], maps["GIG+IDGI"] = GuidedIG(model, output).attribute_with_idgi(x, y, n_steps=steps)
    maps["BlurIG"], maps["BlurIG+IDGI"] = BlurIG(model, output).attribute_with_idgi(x, y, n_steps=blur_steps)
    maps["VG"] = VanillaGradient(model, output).attribute(x, y)
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
        for name, sal in maps.items():
            loc = localisation(sal.cpu(), object_masks)
            for key, label in (("best_f1", "F1"), ("roc_auc", "ROC-AUC"), ("mae", "MAE")):
                values[name, label, "signed"] = loc[key].values
    out = {"scores": _long(values, images), "bokeh": pd.concat(bokeh, ignore_index=True), "skips": pd.DataFrame(skips)}
    if p.get("pair_check"):
        h, w = x.shape[-2:]  # each image's random mask from (seed, image): independent of the sharding
        masks = np.stack([pair_random_mask(h, w, 0.01, np.random.default_rng([p["seed"], i])) for i in images])
        pair = pic_pair(model, x, {m: maps[m] for m in PAIR_MAPS}, y, random_masks=masks)
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
    "Table 4: localisation": ["F1", "ROC-AUC", "MAE"],
}


def table_value(scores: pd.DataFrame, bokeh: pd.DataFrame, system: str, method: str, metric: str, sign: str) -> float:
    """One cell as the paper computes it: the mean over images (insertion, localisation) or, for SIC and AIC,
    the area under the aggregate binned curve over all bokeh images of all kept images."""
    if metric.startswith(("SIC", "AIC")):
        kind, label = metric[:3].lower(), metric[5:-1]
        part = bokeh[(bokeh.system == system) & (bokeh.method == method) & (bokeh.information_level == label)
                     & (bokeh.sign == sign)]  # fmt: skip
        return binned_curve(part.information.to_numpy(), part[kind].to_numpy(), kind)[0]
    part = scores[(scores.system == system) & (scores.method == method) & (scores.metric == metric)
                  & (scores.sign == sign)]  # fmt: skip
    return float(part.value.mean()) if len(part) else float("nan")


def tables(
    scores: pd.DataFrame, bokeh: pd.DataFrame, systems: list[str], sign: str = "signed"
) -> dict[str, pd.DataFrame]:
    """Tables 1-4 (rows: metric x system with data for it; columns: the seven methods in the paper's order)."""
    out = {}
    for title, metrics in TABLES.items():
        rows = []
        for metric in metrics:
            for system in systems:
                if scores[(scores.system == system) & (scores.metric == metric)].empty:
                    continue
                rows.append({"metric": metric, "system": system,
                             **{m: table_value(scores, bokeh, system, m, metric, sign) for m in METHODS}})  # fmt: skip
        out[title] = pd.DataFrame(rows)
    return out


LOWER_IS_BETTER = frozenset({"MAE"})


def comparisons(scores: pd.DataFrame, alpha: float, n_boot: int, seed: int, sign: str = "signed") -> pd.DataFrame:
    """Per (system, metric, base method): does IDGI improve its base method on the same images? The mean per-image
    difference with its bootstrap CI, the Wilcoxon p-value and the verdict (:func:`xai_lib.stats.paired_comparison`)."""
    from ..stats import paired_comparison

    rows = []
    part = scores[scores.sign == sign]
    for (system, metric), g in part.groupby(["system", "metric"], sort=False):
        wide = g.pivot(index="image", columns="method", values="value")
        for new, base in BASES.items():
            res = paired_comparison(wide[new], wide[base], higher_is_better=metric not in LOWER_IS_BETTER,
                                    alpha=alpha, n_boot=n_boot, seed=seed)  # fmt: skip
            rows.append({"system": system, "metric": metric, "base": base, **res})
    return pd.DataFrame(rows)


def paper_cells() -> tuple[pd.DataFrame, pd.DataFrame]:
    """The paper's Tables 1-4 per (metric, method): mean, min and max over its 11 ImageNet models, and the share
    of models on which the IDGI version beats its base method."""
    from ..reference import idgi_tables as paper

    t = paper()
    summary = t.groupby(["metric", "method"]).value.agg(["mean", "min", "max"]).reset_index()
    wins = []
    for (metric, _model), g in t.groupby(["metric", "model"]):
        v = g.set_index("method").value
        for new, base in BASES.items():
            better = v[new] < v[base] if metric in LOWER_IS_BETTER else v[new] > v[base]
            wins.append({"metric": metric, "base": base, "better": bool(better)})
    wins = pd.DataFrame(wins).groupby(["metric", "base"]).better.agg(["sum", "size"]).reset_index()
    return summary, wins
