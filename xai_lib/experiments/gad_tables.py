"""The GAD paper's Tables 1 and 2 (Rodrigues et al. 2024, sec. 5-6), per shard of test images of a class pair.

For every image, method (the paper's five) and class output ``a`` of the pair: the original map and the GAD map
(pixels in the top ``keep`` share of the original's and of every support's map), their convex hulls, RC (eq. 1;
NaN where the GAD mask is empty: it has no hull), RS (eq. 2) of the GAD hull and of the supplementary region on
output ``a`` with the occluded pixels set to ``fill`` and, as a second occlusion value, to ``other_fill``, the
regions' areas in pixels, the kept shares of the image, and, where the data has masks of the part that separates
the classes, the share of the important pixels on it and the share of its pixels among the important ones. The
support regressions come from the content-keyed cache (the chapter trains them before sharding: every worker loads
the same supports). Also the paper's cells that stand beside ours
(:func:`paper_cells`), Holm's adjustment of a family of p-values (:func:`holm_adjusted`), the verdict of a count
with undecided members (:func:`verdict_with_undecided`) and the level of the images' background (:func:`border_level`),
which an occlusion value can match or not.
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


def train_per_class_used(system, p: dict) -> int:
    """The training images per class the supports of the pair ``p["classes"]`` are trained on: ``p["train_per_class"]``,
    or fewer where a class of the training split has fewer."""
    a, b = p["classes"]
    train = system.data("train")
    return min(p["train_per_class"], *(int((train.labels == c).sum()) for c in (a, b)))


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


def verdict_with_undecided(passing: int, undecided: int, total: int) -> str:
    """The card verdict (:func:`xai_lib.report.verdict`) of a claim tested member by member when ``undecided`` of the
    ``total`` members could not be decided (an interval that spans the threshold): the verdict if it is the same
    whether they all pass or all fail, else ``inconclusive``."""
    if passing < 0 or undecided < 0 or passing + undecided > total:
        raise ValueError(f"passing, undecided: expected non-negative counts within total {total}, got {passing}, "
                         f"{undecided}")  # fmt: skip
    low, high = report.verdict(passing, total), report.verdict(passing + undecided, total)
    return low if low == high else "inconclusive"


def border_level(images: torch.Tensor, width: int = 2) -> np.ndarray:
    """Per image, the mean value of its outer ring of ``width`` pixels over every channel (``images``: ``(N, C, H,
    W)``, in the model's input space): the level of the background where the object does not reach the border. An
    occlusion value near it adds little of its own to the occluded region; one far from it paints a patch."""
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
