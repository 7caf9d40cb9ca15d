"""Weakly supervised localisation of a saliency map against a ground-truth mask (IDGI paper, sec. 4.6).

The paper gives no code; we follow its description: ``S = |sum_c attribution|``, min-max normalised per
image; ROC-AUC of ``S`` as a score for mask pixels; the best F1 over all thresholds of ``S``; and the mean
absolute error between ``S`` and the binary mask. An image with an empty or full mask is skipped (no
localisation to measure).
"""

from __future__ import annotations

import numpy as np
import torch
from sklearn.metrics import precision_recall_curve, roc_auc_score

from .common import MetricResult, saliency_2d


def normalised_saliency(saliency: torch.Tensor) -> torch.Tensor:
    """``|sum_c attribution|`` min-max normalised to [0, 1] per image (a constant map becomes zeros)."""
    s = saliency_2d(saliency, absolute=True).double()
    flat = s.flatten(1)
    lo, hi = flat.min(1, keepdim=True).values, flat.max(1, keepdim=True).values
    span = torch.where(hi > lo, hi - lo, torch.ones_like(hi))
    return ((flat - lo) / span).reshape(s.shape)


def localisation(saliency: torch.Tensor, masks: torch.Tensor) -> dict[str, MetricResult]:
    """Per-image ``roc_auc``, ``best_f1`` and ``mae`` of the saliency against ``masks (B, H, W)``."""
    if not torch.is_tensor(masks) or masks.dim() != 3:
        raise ValueError(f"masks: expected a tensor of shape (B, H, W), got {getattr(masks, 'shape', masks)}")
    s = normalised_saliency(saliency)
    if s.shape != masks.shape:
        raise ValueError(f"masks: shape {tuple(masks.shape)} does not match the saliency's {tuple(s.shape)}")
    b = s.shape[0]
    out = {k: torch.full((b,), float("nan"), dtype=torch.float64) for k in ("roc_auc", "best_f1", "mae")}
    skipped: dict[int, str] = {}
    for i in range(b):
        m = masks[i].flatten().bool().numpy()
        si = s[i].flatten().numpy()
        if m.all() or not m.any():
            skipped[i] = "the mask is empty or covers the whole image"
            continue
        out["roc_auc"][i] = roc_auc_score(m, si)
        precision, recall, _ = precision_recall_curve(m, si)
        f1 = np.where(precision + recall > 0, 2 * precision * recall / np.maximum(precision + recall, 1e-12), 0.0)
        out["best_f1"][i] = f1.max()
        out["mae"][i] = np.abs(si - m).mean()
    return {k: MetricResult(v, dict(skipped)) for k, v in out.items()}
