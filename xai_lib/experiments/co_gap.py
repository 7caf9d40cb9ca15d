"""The GAX paper's CO-score gap (Tjoa et al. 2021, sec. 4.1), per shard of test inputs, and the statistics that
decide its claims.

For every input: the model's prediction; the normalised heatmap of each of the paper's six captum methods for the
**predicted** class; its CO score (eq. 5, kappa from the **ground truth**) in four variants (AX by ``x + h`` or
``x * h``, on raw or softmax outputs); and whether the model is right on ``x (+) h``. A method that cannot run on
the model (LayerGradCam without a convolution, a hooked method on a model whose activations cannot be separated)
is skipped with its reason.

**Where the heatmap is added.** The book's models take pixels in [0, 1] (a system's normalisation is folded into
its model, :class:`~xai_lib.models.preprocess.Preprocessed`), so the main tables compute heatmaps on pixels and add
them to pixels. The paper's reference code computes the heatmap on the network's *normalised* input and adds it
there: ``net(normalise(x) + h)``, a perturbation of ``std * h`` in pixel units. :func:`model_input` gives that
network and input; for a system with a normalisation the task also returns this variant (``"model_input"``),
for a system without one the two variants are the same computation. The **scale study** (``"scaled"``) adds
``s * h`` for a few scales ``s``, and the same for a control of the same values without the heatmap's layout
(:func:`shuffle_positions`: ``h``'s values moved to random positions), so that the effect of the perturbation's
size can be told from the effect of where the heatmap puts its values. Shuffling also destroys the heatmap's
smoothness; a second control, :func:`roll_half` (``h`` moved by half the image, wrapping around), keeps its values
and its smoothness and changes only where they fall.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from torch import nn

from ..batching import batched_logits
from ..captum_glue import GAX_METHODS, heatmaps, unsupported_reason
from ..metrics.co import kappa
from ..models.preprocess import Preprocessed
from ..report import PARTLY_FROM, interval_verdict, verdict
from ..stats import mann_whitney_auc, paired_auroc_difference_ci  # re-exported: the chapters import it from here
from .common import shard_data

VARIANTS = (("sum", False), ("sum", True), ("mul", False), ("mul", True))  # (AX process, softmax)
SCALED_COLUMNS = ["image", "method", "heatmap", "scale", "correct", "co", "correct after"]
MODEL_INPUT_COLUMNS = ["image", "method", "correct", "co", "correct after"]


def model_input(model: nn.Module, x: torch.Tensor) -> tuple[nn.Module, torch.Tensor]:
    """The network and the input it computes on: for a :class:`Preprocessed` model its inner network and
    ``(x - mean) / std`` (where the paper's code computes and adds the heatmap), else ``model`` and ``x``."""
    if isinstance(model, Preprocessed):
        return model.net, (x - model.mean.to(x.dtype)) / model.std.to(x.dtype)
    return model, x


def co_from_outputs(out_x: torch.Tensor, out_ax: torch.Tensor, y: torch.Tensor, softmax: bool = False) -> torch.Tensor:
    """CO score (eq. 5) from the outputs on ``x`` and on ``x (+) h`` (``(B, C)`` each): the same number as
    :func:`xai_lib.metrics.co.co_score`, without calling the model again. ``softmax`` applies softmax to both."""
    if out_x.shape != out_ax.shape or out_x.dim() != 2:
        raise ValueError(f"out_ax: expected the shape of out_x {tuple(out_x.shape)}, got {tuple(out_ax.shape)}")
    if softmax:
        out_x, out_ax = F.softmax(out_x, 1), F.softmax(out_ax, 1)
    return ((out_ax - out_x) * kappa(y.to(out_x.device), out_x.shape[1], out_x.dtype, out_x.device)).sum(1)


def scaled_ax(
    model: nn.Module, x: torch.Tensor, h: torch.Tensor, y, scales: Sequence[float], out_x: torch.Tensor | None = None
) -> pd.DataFrame:
    """The scale study: for each ``s`` in ``scales``, the CO score (raw outputs) of ``x + s * h`` and whether the
    model is right on it, one row per input and scale (``scale``, ``item``, ``co``, ``correct after``; ``item``
    is the input's position). ``out_x``: the model's outputs on ``x`` when already computed."""
    y = torch.as_tensor(y).long().reshape(-1).cpu()
    if h.shape != x.shape or y.shape != (len(x),):
        raise ValueError(
            f"h, y: expected shapes {tuple(x.shape)} and ({len(x)},), got {tuple(h.shape)}, {tuple(y.shape)}"
        )
    out_x = batched_logits(model, x) if out_x is None else out_x.cpu()
    parts = []
    for s in scales:
        out = batched_logits(model, x + float(s) * h)
        parts.append(pd.DataFrame({"scale": float(s), "item": np.arange(len(x)),
                                   "co": co_from_outputs(out_x, out, y).numpy(),
                                   "correct after": (out.argmax(1) == y).numpy()}))  # fmt: skip
    return pd.concat(parts, ignore_index=True)


def shuffle_positions(h: torch.Tensor, keys: Sequence[int]) -> torch.Tensor:
    """``h`` with each input's positions permuted at random (the same permutation for every channel of an image
    ``(B, C, H, W)``; the features of a ``(B, F)`` input), input ``i`` by a generator seeded with ``keys[i]``: the
    same values (so the same norm and histogram) without the heatmap's layout. Deterministic per key, whatever the
    batch it sits in."""
    if h.dim() < 2 or len(keys) != len(h):
        raise ValueError(f"keys: expected one key per input of h {tuple(h.shape)} (batch first), got {len(keys)}")
    flat = h.reshape(h.shape[0], h.shape[1], -1) if h.dim() >= 3 else h.reshape(h.shape[0], 1, -1)
    out = torch.empty_like(flat)
    for i, key in enumerate(keys):
        perm = torch.randperm(flat.shape[2], generator=torch.Generator().manual_seed(int(key))).to(h.device)
        out[i] = flat[i][:, perm]
    return out.reshape(h.shape)


def roll_half(h: torch.Tensor) -> torch.Tensor:
    """Each image's heatmap ``(B, C, H, W)`` moved by half its height and half its width, wrapping around (a torus
    shift): the same values and, except along the two seams, the same neighbours, so the same smoothness, at other
    places. The control that keeps what :func:`shuffle_positions` destroys besides the layout."""
    if h.dim() != 4:
        raise ValueError(f"h: expected images (B, C, H, W), got shape {tuple(h.shape)}")
    return torch.roll(h, shifts=(h.shape[2] // 2, h.shape[3] // 2), dims=(2, 3))


def shuffle_key(seed: int, image: int, method: str) -> int:
    """The generator seed of :func:`shuffle_positions` for one image and method of a run (stable across
    processes, unlike ``hash`` of a string)."""
    return (int(seed) * 1_000_003 + int(image)) * 16 + GAX_METHODS.index(method)


def scores(p: dict) -> dict[str, pd.DataFrame]:
    """Task: CO scores of every method and variant, and accuracy after AX, for the shard's inputs; with
    ``p["scales"]`` (a list) also the scale study, for the heatmap (``heatmap == "method"``) and for its values
    at shuffled positions (``"shuffled"``, :func:`shuffle_positions`) and, for images, moved by half the image
    (``"rolled"``, :func:`roll_half`); for a system with a normalisation also the
    paper's variant (heatmap computed on and added to the normalised input: ``"model_input"``)."""
    system, data = shard_data(p)
    dev = system.device
    x, y = data.inputs.to(dev), data.targets.to(dev)
    y_cpu = y.cpu()
    out_x = batched_logits(system.model, x)
    pred = out_x.argmax(1).to(dev)
    images = p["indices"]
    correct = (pred.cpu() == y_cpu).tolist()
    scales = [float(s) for s in p.get("scales") or []]
    net, xn = model_input(system.model, x)
    normalised = net is not system.model
    out_xn = batched_logits(net, xn) if normalised else None
    co_rows, ax_rows, skipped, scaled, inner = [], [], [], [], []
    for method in GAX_METHODS:
        reason = unsupported_reason(system.model, method, x)
        if reason is not None:
            skipped.append({"method": method, "reason": reason})
            continue
        h = heatmaps(system.model, x, method, target=pred)
        for combine in ("sum", "mul"):
            out = batched_logits(system.model, x + h if combine == "sum" else x * h)
            for soft in (False, True):
                co = co_from_outputs(out_x, out, y_cpu, soft)
                co_rows += [{"image": i, "method": method, "AX": combine, "softmax": soft, "correct": c,
                             "co": float(v)}
                            for i, c, v in zip(images, correct, co.tolist(), strict=True)]  # fmt: skip
            right = (out.argmax(1) == y_cpu).tolist()
            ax_rows += [{"image": i, "method": method, "AX": combine, "correct after": r}
                        for i, r in zip(images, right, strict=True)]  # fmt: skip
        if scales:
            shuffled = shuffle_positions(h, [shuffle_key(p["seed"], i, method) for i in images])
            controls = [("method", h), ("shuffled", shuffled)] + ([("rolled", roll_half(h))] if h.dim() == 4 else [])
            for kind, hk in controls:
                s = scaled_ax(system.model, x, hk, y_cpu, scales, out_x)
                s["image"] = [images[k] for k in s.item]
                s = s.assign(method=method, heatmap=kind, correct=[correct[k] for k in s.item])
                scaled.append(s.drop(columns="item"))
        if normalised:
            hn = heatmaps(net, xn, method, target=pred)
            out = batched_logits(net, xn + hn)
            inner.append(pd.DataFrame({"image": images, "method": method, "correct": correct,
                                       "co": co_from_outputs(out_xn, out, y_cpu).numpy(),
                                       "correct after": (out.argmax(1) == y_cpu).numpy()}))  # fmt: skip
    base = pd.DataFrame({"image": images, "target": y_cpu.tolist(), "pred": pred.tolist(), "correct": correct})
    return {
        "co": pd.DataFrame(co_rows), "ax": pd.DataFrame(ax_rows), "pred": base, "skipped": pd.DataFrame(skipped),
        "scaled": pd.concat(scaled, ignore_index=True)[SCALED_COLUMNS] if scaled else empty(SCALED_COLUMNS),
        "model_input": pd.concat(inner, ignore_index=True) if inner else empty(MODEL_INPUT_COLUMNS),
    }  # fmt: skip


def empty(columns: Sequence[str]) -> pd.DataFrame:
    """A table without rows with these columns."""
    return pd.DataFrame(columns=list(columns))


# -- statistics that decide the chapter's claims -----------------------------------------------------------------


def cells_verdict(cell_verdicts: Sequence[str]) -> str:
    """A claim's verdict from its cells' interval verdicts (:func:`xai_lib.report.interval_verdict`): cells that
    are *not comparable* are left out; *reproduced* when every other cell's interval lies on the claimed side,
    *partly* when at least half do (:func:`xai_lib.report.verdict`, the book's one rule); below that *not
    reproduced* when at least half lie on the other side, else *inconclusive* (the remaining intervals span the
    threshold: too few data to decide); *not comparable* without a comparable cell."""
    cells = [v for v in cell_verdicts if v != "not comparable"]
    unknown = set(cells) - {"reproduced", "not reproduced", "inconclusive"}
    if unknown:
        raise ValueError(f"cell_verdicts: expected interval verdicts, got {sorted(unknown)}")
    agree, against = cells.count("reproduced"), cells.count("not reproduced")
    base = verdict(agree, len(cells))
    if base == "not reproduced" and against < PARTLY_FROM * len(cells):
        return "inconclusive"
    return base


def single_system_verdict(cell: str, claim_about_every: bool) -> str:
    """The card's verdict of a claim about many datasets and models tested on one system: *reproduced* reads *partly*
    (one system supports such a claim only in part); *not reproduced* stands against a claim about every dataset and
    model (one counterexample contradicts it) and reads *inconclusive* against a claim about most of them (one system
    can be an exception); the other verdicts stand."""
    if cell == "reproduced":
        return "partly"
    if cell == "not reproduced" and not claim_about_every:
        return "inconclusive"
    return cell


def best_methods(co: pd.DataFrame, few_wrong: int, n_boot: int = 1000, seed: int = 0) -> pd.DataFrame:
    """Per system of ``co`` (columns system, image, method, correct, co: one variant), the method whose CO score
    separates correct from wrong predictions best (the largest ``|AUROC - 0.5|``, in either direction), the
    runner-up, and the paired bootstrap CI of the difference of their separations (:func:`paired_auroc_difference_ci`
    on the scores oriented so that each method's AUROC is at least 0.5). ``direction``: "correct higher" (AUROC
    above 0.5) or "wrong higher". ``status``: *distinct* (the CI lies above 0), *tie* (it does not), *too few wrong
    predictions* (fewer than ``few_wrong``: not comparable), *one method*. The best and the runner-up are chosen on
    the same images the CI is computed on, so a *distinct* best is an optimistic call (no correction for the
    choice among the methods)."""
    rows = []
    for system, g in co.groupby("system", sort=False):
        wide = g.pivot(index="image", columns="method", values="co")
        right = g.drop_duplicates("image").set_index("image").correct.reindex(wide.index).to_numpy(bool)
        wrong = int((~right).sum())
        row = {"system": system, "wrong": wrong, "best": "n/a", "AUROC": float("nan"), "direction": "n/a",
               "runner-up": "n/a", "runner-up AUROC": float("nan"), "difference": float("nan"),
               "CI low": float("nan"), "CI high": float("nan")}  # fmt: skip
        if wrong < few_wrong or right.all():
            rows.append({**row, "status": "too few wrong predictions"})
            continue
        aucs = {m: mann_whitney_auc(wide[m].to_numpy()[right], wide[m].to_numpy()[~right]) for m in wide.columns}
        order = sorted(aucs, key=lambda m: (-abs(aucs[m] - 0.5), m))
        row.update({"best": order[0], "AUROC": aucs[order[0]],
                    "direction": "correct higher" if aucs[order[0]] >= 0.5 else "wrong higher"})  # fmt: skip
        if len(order) < 2:
            rows.append({**row, "status": "one method"})
            continue
        oriented = [wide[m].to_numpy() * (1.0 if aucs[m] >= 0.5 else -1.0) for m in order[:2]]
        d, lo, hi = paired_auroc_difference_ci(*oriented, right, n_boot=n_boot, seed=seed)
        row.update({"runner-up": order[1], "runner-up AUROC": aucs[order[1]], "difference": d, "CI low": lo,
                    "CI high": hi})  # fmt: skip
        rows.append({**row, "status": "distinct" if lo > 0 else "tie"})
    return pd.DataFrame(rows)


def dataset_dependence(best: pd.DataFrame) -> tuple[str, dict[str, list[str]]]:
    """The verdict of "the best-separating method depends on the dataset" from :func:`best_methods` (``system``
    named ``dataset/model``). A dataset's systems with at least ``few_wrong`` wrong predictions are *eligible*; a
    dataset has an **established** best method when more than half of its eligible systems name the same method
    as their *distinct* best (one system's distinct best against ties elsewhere establishes nothing). *Not
    comparable* when fewer than two datasets have an eligible system; *inconclusive* when fewer than two datasets
    have an established best; else *reproduced* when two datasets' established bests differ, *not reproduced*
    when they are all the same. Also returns each dataset's established best (a list of one method)."""
    best = best.assign(dataset=best.system.str.split("/").str[0])
    eligible = best[best.status != "too few wrong predictions"]
    established = {}
    for dataset, g in eligible.groupby("dataset", sort=False):
        counts = g[g.status == "distinct"].best.value_counts()
        if len(counts) and counts.iloc[0] > len(g) / 2:
            established[dataset] = [str(counts.index[0])]
    if eligible.dataset.nunique() < 2:
        return "not comparable", established
    if len(established) < 2:
        return "inconclusive", established
    methods = {m[0] for m in established.values()}
    return ("reproduced" if len(methods) > 1 else "not reproduced"), established


def interval_cells(table: pd.DataFrame, threshold: float = 0.0, claimed: str = "above") -> list[str]:
    """:func:`xai_lib.report.interval_verdict` of each row's ``CI low`` and ``CI high``."""
    return [
        interval_verdict(lo, hi, threshold, claimed) for lo, hi in zip(table["CI low"], table["CI high"], strict=True)
    ]


#: the words of a heatmap-minus-control AUROC interval (:func:`xai_lib.report.interval_verdict` against 0)
CONTROL_WORDS = {"reproduced": "separates better", "not reproduced": "separates worse", "inconclusive": "undecided",
                 "not comparable": "n/a"}  # fmt: skip
CONTROL_COLUMNS = ["scale", "method", "control", "wrong", "AUROC, heatmap", "AUROC, control", "heatmap minus control",
                   "CI low", "CI high", "the heatmap"]  # fmt: skip


def heatmap_controls(scaled: pd.DataFrame, few_wrong: int, n_boot: int = 1000, seed: int = 0) -> pd.DataFrame:
    """Does the CO score separate correct from wrong predictions better with the heatmap than with a control of it?

    ``scaled``: one system's scale study (:data:`SCALED_COLUMNS`), whose ``heatmap`` column is ``"method"`` for the
    heatmap itself and names a control otherwise (``"shuffled"``, ``"rolled"``). Per (scale, method, control): the
    AUROC of the CO score for telling correct predictions (``correct``, the prediction on ``x``) from wrong ones with
    the heatmap and with the control, on the same images, and their difference with a paired bootstrap interval
    (:func:`xai_lib.stats.paired_auroc_difference_ci`); ``the heatmap`` says whether the interval lies above 0
    (*separates better*), below (*separates worse*) or spans it (*undecided*), and is *thin* when fewer than
    ``few_wrong`` predictions are wrong. Cells with fewer than five wrong or five correct predictions, or whose
    control lacks an image, are left out. The AUROC with the heatmap is the control's plus the paired difference, so
    the two columns and the difference always agree."""
    from ..stats import auroc_ci

    missing = set(SCALED_COLUMNS) - set(scaled.columns)
    if missing:
        raise ValueError(f"scaled: missing columns {sorted(missing)}")
    rows = []
    for (scale, method, kind), g in scaled[scaled.heatmap != "method"].groupby(["scale", "method", "heatmap"],
                                                                               sort=False):  # fmt: skip
        with_h = scaled[(scaled.scale == scale) & (scaled.method == method) & (scaled.heatmap == "method")]
        with_h = with_h.set_index("image").sort_index()
        control = g.set_index("image").reindex(with_h.index)
        right = with_h.correct.astype(bool).to_numpy()
        n_wrong = int((~right).sum())
        if control.co.isna().any() or n_wrong < 5 or right.sum() < 5:
            continue
        co_h, co_c = with_h.co.to_numpy(float), control.co.to_numpy(float)
        auc_c = auroc_ci(co_c, right, n_boot=n_boot, seed=seed)[0]
        diff, low, high = paired_auroc_difference_ci(co_h, co_c, right, n_boot=n_boot, seed=seed)
        rows.append({"scale": float(scale), "method": method, "control": kind, "wrong": n_wrong,
                     "AUROC, heatmap": diff + auc_c, "AUROC, control": auc_c, "heatmap minus control": diff,
                     "CI low": low, "CI high": high,
                     "the heatmap": "thin" if n_wrong < few_wrong else
                     CONTROL_WORDS[interval_verdict(low, high, 0.0, "above")]})  # fmt: skip
    return pd.DataFrame(rows, columns=CONTROL_COLUMNS)
