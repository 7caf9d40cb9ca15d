"""Weakly supervised localisation of a saliency map against a ground-truth mask (IDGI paper, sec. 4.6).

The paper gives no code and does not say how a map's channels are combined; the book's choice (``sign``) is
``S = |sum_c attribution|`` (``"absolute"``, the default), or the signed sum (``"signed"``) or its positive part
(``"positive"``), min-max normalised per image. Then: ROC-AUC of ``S`` as a score for mask pixels; the best F1 over
all thresholds of ``S``; and the mean absolute error (MAE) to the binary mask in two conventions: of the continuous
map ``S`` (``mae``), and of the binary mask ``S >= t`` at the best threshold ``t`` (``mae_best``: the paper's
"optimal ... MAE ... by finding the best threshold"; the thresholds are the distinct values of ``S``, the same as
F1's, so the selection is never empty; each metric takes its own best threshold). An image with an empty or full
mask is skipped (no localisation to measure).

ROC-AUC and the precision-recall curve are computed as scikit-learn's ``roc_auc_score`` and
``precision_recall_curve`` compute them (the same cumulative counts at each distinct threshold, the same
points kept on the ROC curve, the same trapezoid), so the values are scikit-learn's bit for bit (tested),
without its input validation, which cost 15 ms per image here (a tenth of a shard's metrics on ``shapes``).
"""

from __future__ import annotations

import numpy as np
import torch

from .common import MetricResult, saliency_2d

#: how a map's channels become one score per pixel (see the module notes)
SIGNS = ("absolute", "signed", "positive")


def normalised_saliency(saliency: torch.Tensor, sign: str = "absolute") -> torch.Tensor:
    """``|sum_c attribution|`` (or the signed sum, or its positive part: ``sign``) min-max normalised to [0, 1] per
    image (a constant map becomes zeros)."""
    if sign not in SIGNS:
        raise ValueError(f"sign: expected one of {list(SIGNS)}, got {sign!r}")
    s = saliency_2d(saliency, absolute=sign == "absolute").double()
    if sign == "positive":
        s = s.clamp_min(0.0)
    flat = s.flatten(1)
    lo, hi = flat.min(1, keepdim=True).values, flat.max(1, keepdim=True).values
    span = torch.where(hi > lo, hi - lo, torch.ones_like(hi))
    return ((flat - lo) / span).reshape(s.shape)


def _counts(positive: np.ndarray, score: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """True and false positives (float counts) when thresholding ``score`` at each of its distinct values, from
    the highest down (scikit-learn's ``confusion_matrix_at_thresholds`` without weights)."""
    order = np.argsort(score, kind="stable")[::-1]
    score, positive = score[order], positive[order]
    last_of_tie = np.r_[np.flatnonzero(np.diff(score)), positive.size - 1]
    tps = np.cumsum(positive, dtype=np.float64)[last_of_tie]
    return tps, 1 + last_of_tie - tps


def roc_auc(tps: np.ndarray, fps: np.ndarray) -> float:
    """Area under the ROC curve from :func:`_counts` (scikit-learn's points: those inside a straight segment
    dropped, (0, 0) prepended; trapezoidal area)."""
    if len(fps) > 2:
        keep = np.r_[True, np.logical_or(np.diff(fps, 2), np.diff(tps, 2)), True]
        tps, fps = tps[keep], fps[keep]
    tps, fps = np.r_[0.0, tps], np.r_[0.0, fps]
    return float(np.trapezoid(tps / tps[-1], fps / fps[-1]))


def best_f1(tps: np.ndarray, fps: np.ndarray) -> float:
    """The best F1 over every threshold of the precision-recall curve from :func:`_counts`."""
    ps = tps + fps
    precision = np.where(ps != 0, tps / np.where(ps != 0, ps, 1.0), 0.0)
    precision, recall = np.r_[precision, 1.0], np.r_[tps / tps[-1], 0.0]
    f1 = np.where(precision + recall > 0, 2 * precision * recall / np.maximum(precision + recall, 1e-12), 0.0)
    return float(f1.max())


def best_mae(tps: np.ndarray, fps: np.ndarray, n: int) -> float:
    """The smallest mean absolute error between the binary mask ``S >= t`` and the ground truth over the thresholds
    of :func:`_counts` (``n`` pixels): ``(false positives + false negatives) / n`` at the best one."""
    return float(((fps + (tps[-1] - tps)) / n).min())


def localisation(saliency: torch.Tensor, masks: torch.Tensor, sign: str = "absolute") -> dict[str, MetricResult]:
    """Per-image ``roc_auc``, ``best_f1``, ``mae`` (continuous map) and ``mae_best`` (binary map at the best
    threshold) of the saliency against ``masks (B, H, W)``; ``sign``: how channels are combined (module notes)."""
    if not torch.is_tensor(masks) or masks.dim() != 3:
        raise ValueError(f"masks: expected a tensor of shape (B, H, W), got {getattr(masks, 'shape', masks)}")
    s = normalised_saliency(saliency, sign)
    if s.shape != masks.shape:
        raise ValueError(f"masks: shape {tuple(masks.shape)} does not match the saliency's {tuple(s.shape)}")
    b = s.shape[0]
    out = {k: torch.full((b,), float("nan"), dtype=torch.float64) for k in ("roc_auc", "best_f1", "mae", "mae_best")}
    skipped: dict[int, str] = {}
    for i in range(b):
        m = masks[i].flatten().bool().numpy()
        si = s[i].flatten().numpy()
        if m.all() or not m.any():
            skipped[i] = "the mask is empty or covers the whole image"
            continue
        tps, fps = _counts(m, si)
        out["roc_auc"][i] = roc_auc(tps, fps)
        out["best_f1"][i] = best_f1(tps, fps)
        out["mae"][i] = np.abs(si - m).mean()
        out["mae_best"][i] = best_mae(tps, fps, m.size)
    return {k: MetricResult(v, dict(skipped)) for k, v in out.items()}


def mask_enrichment(h: torch.Tensor, mask: torch.Tensor, reference: torch.Tensor | None = None) -> torch.Tensor:
    """How much more heatmap mass lies in ``mask`` than its area predicts, per image ``(B,)``.

    ``(sum_{mask} |h - reference| / sum |h - reference|) / (|mask| / |image|)``, with ``|.|`` summed over
    channels: 1 means the mass is spread as the area is; 10 means the mask holds ten times its area's share.
    ``reference`` (e.g. GAX's starting map ``tanh(x)``) measures what the optimisation *changed*. Used for the
    false-distinct-feature study (GAX sec. 4.3 (3)). ``h`` is ``(B, C, H, W)``, ``mask`` ``(B, H, W)`` bool.
    """
    if h.dim() != 4 or mask.shape != (h.shape[0], *h.shape[2:]):
        raise ValueError(f"mask: expected shape {(h.shape[0], *h.shape[2:])} for h {tuple(h.shape)}")
    if reference is not None and reference.shape != h.shape:
        raise ValueError(f"reference: expected the shape of h {tuple(h.shape)}, got {tuple(reference.shape)}")
    m = mask.to(h.dtype)
    area = m.flatten(1).mean(1)
    if (area == 0).any():
        raise ValueError("mask: every image needs a non-empty mask")
    mass = (h if reference is None else h - reference).abs().sum(1)
    total = mass.flatten(1).sum(1)
    inside = (mass * m).flatten(1).sum(1)
    return torch.where(total > 0, inside / total.clamp_min(1e-30), torch.zeros_like(total)) / area
