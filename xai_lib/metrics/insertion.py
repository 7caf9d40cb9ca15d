"""Insertion score (Petsiuk et al. 2018), as the IDGI paper describes it (sec. 4.3).

Saliency = signed attribution summed over channels (``absolute=True``: its absolute value; the paper does not say
how channels are combined, so this is the book's choice); pixels sorted by it, descending; for ``k = 0..steps``
the top ``k / steps`` of the pixels (all channels) are copied from the image onto a black base and the
softmax probability of the label is read. The score is the trapezoidal area with ``dx = 1 / steps``; the
"probability ratio" variant divides each probability by that of the full image. Only correctly predicted
images are scored (the others are skipped with that reason).
"""

from __future__ import annotations

import torch
from torch import nn

from .common import MetricResult, check_batch, probabilities, saliency_2d, trapezoid


def insertion_images(image: torch.Tensor, saliency2d: torch.Tensor, steps: int, base: torch.Tensor) -> torch.Tensor:
    """``(steps + 1, C, H, W)``: ``base`` with the top ``k / steps`` salient pixels of ``image`` inserted."""
    _, h, w = image.shape
    n = h * w
    order = torch.argsort(saliency2d.flatten(), descending=True, stable=True)
    rank = torch.empty(n, dtype=torch.long)
    rank[order] = torch.arange(n)
    counts = torch.round(torch.arange(steps + 1, dtype=torch.float64) * n / steps).long()
    keep = (rank[None, :] < counts[:, None]).reshape(steps + 1, 1, h, w)
    return torch.where(keep, image[None], base[None])


def insertion_auc(
    model: nn.Module,
    images: torch.Tensor,
    saliency: torch.Tensor,
    targets,
    steps: int = 20,
    ratio: bool = False,
    batch_size: int | None = None,
    absolute: bool = False,
) -> MetricResult:
    """Per-image insertion AUC (``ratio=True``: probabilities divided by the full image's)."""
    variant = "ratio" if ratio else "probability"
    return insertion_aucs(model, images, saliency, targets, steps, batch_size, absolute)[variant]


def insertion_aucs(
    model: nn.Module,
    images: torch.Tensor,
    saliency: torch.Tensor,
    targets,
    steps: int = 20,
    batch_size: int | None = None,
    absolute: bool = False,
) -> dict[str, MetricResult]:
    """Both insertion variants from one pass: ``{"probability": ..., "ratio": ...}``."""
    targets = check_batch(model, images, saliency, targets)
    if not isinstance(steps, int) or isinstance(steps, bool) or steps < 1:
        raise ValueError(f"steps: expected an int >= 1, got {steps!r}")
    s2d = saliency_2d(saliency, absolute)
    full = probabilities(model, images, batch_size)
    correct = full.argmax(1) == targets
    skipped = {int(i): "wrong prediction" for i in torch.nonzero(~correct).flatten()}
    kept = torch.nonzero(correct).flatten().tolist()
    out = {}
    for variant in ("probability", "ratio"):
        values = torch.full((images.shape[0],), float("nan"), dtype=torch.float64)
        curves = torch.full((images.shape[0], steps + 1), float("nan"), dtype=torch.float64)
        out[variant] = MetricResult(values, dict(skipped), curves)
    if kept:
        stack = torch.cat([insertion_images(images[i], s2d[i], steps, torch.zeros_like(images[i])) for i in kept])
        p = probabilities(model, stack, batch_size).reshape(len(kept), steps + 1, -1)
        idx = torch.tensor(kept)
        prob = p[torch.arange(len(kept)), :, targets[idx]].double()
        for variant, curve in (("probability", prob), ("ratio", prob / full[idx, targets[idx]].double()[:, None])):
            out[variant].curves[idx] = curve
            out[variant].values[idx] = trapezoid(curve, 1.0 / steps)
    return out
