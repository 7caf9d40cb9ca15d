"""GAD (Gradient Artificial Distancing): pure functions of the method (its metrics, RC and RS, are
:func:`xai_lib.metrics.hull.hull_complexity` and :func:`xai_lib.metrics.occlusion.occlusion_sensitivity`).

Sec. 4.1: for samples of class a, ``alpha_a`` is subtracted from the pre-softmax output of class b; for samples
of class b, ``alpha_b`` from the output of class a (``shifted_targets``). Sec. 4.2: support regressions are
trained to those targets (model glue, elsewhere). Sec. 4.3: a feature is kept only if it is important in every
map, the original's and each support model's (``gad_mask``). Sec. 5 scores the result by the convex hull of the
important pixels (RC, eq. 1) and the occlusion of that hull (RS, eq. 2): metrics, in :mod:`xai_lib.metrics`.

Choices (the paper is silent; no public code exists):

* **importance** of a pixel is ``|sum_c attribution|``; the **important** pixels of a map are its top
  ``keep`` share (50% by default, the paper's hull filter), ties included;
* the GAD mask is the intersection of the important masks of all maps, so it is a subset of the original's.
"""

from __future__ import annotations

import numpy as np
import torch


def alpha_pair(alpha) -> tuple[float, float]:
    """``alpha`` as ``(alpha_a, alpha_b)``: a number stands for the same shift of both classes."""
    pair = (alpha, alpha) if isinstance(alpha, int | float) else tuple(alpha)
    if len(pair) != 2 or any(not isinstance(a, int | float) or a < 0 or not np.isfinite(a) for a in pair):
        raise ValueError(f"alpha: expected a non-negative number or a pair of them, got {alpha!r}")
    return float(pair[0]), float(pair[1])


def shifted_targets(logits: torch.Tensor, labels: torch.Tensor, class_a: int, class_b: int, alpha) -> torch.Tensor:
    """The artificial pre-softmax targets of sec. 4.1 (a new tensor; other rows and columns unchanged).

    Rows labelled ``class_a`` get ``alpha_a`` subtracted from column ``class_b``; rows labelled ``class_b`` get
    ``alpha_b`` subtracted from column ``class_a``. ``alpha`` is a number or a pair ``(alpha_a, alpha_b)``.
    """
    if logits.dim() != 2:
        raise ValueError(f"logits: expected shape (N, C), got {tuple(logits.shape)}")
    n, c = logits.shape
    for name, k in (("class_a", class_a), ("class_b", class_b)):
        if not isinstance(k, int) or not 0 <= k < c:
            raise ValueError(f"{name}: expected a class id in [0, {c}), got {k!r}")
    if class_a == class_b:
        raise ValueError(f"class_b: must differ from class_a, both are {class_a}")
    if labels.shape != (n,):
        raise ValueError(f"labels: expected shape ({n},), got {tuple(labels.shape)}")
    alpha_a, alpha_b = alpha_pair(alpha)
    out = logits.clone()
    out[labels == class_a, class_b] -= alpha_a
    out[labels == class_b, class_a] -= alpha_b
    return out


def pair_rows(labels: torch.Tensor, class_a: int, class_b: int) -> torch.Tensor:
    """The positions of the samples of the pair's two classes in ``labels`` (``(N,)``), in order; a clear error when
    there is none."""
    rows = torch.nonzero((labels == class_a) | (labels == class_b)).flatten()
    if len(rows) == 0:
        raise ValueError(f"labels: no sample of class {class_a} or {class_b}")
    return rows


def importance(attribution: torch.Tensor) -> torch.Tensor:
    """``|sum_c attribution|``: ``(C, H, W)`` or ``(H, W)`` -> ``(H, W)``."""
    return (attribution.sum(0) if attribution.dim() == 3 else attribution).abs()


def important_mask(attribution: torch.Tensor, keep: float = 0.5) -> torch.Tensor:
    """The top ``keep`` share of pixels by importance (``(H, W)`` bool); an all-zero map keeps nothing."""
    if not 0 < keep <= 1:
        raise ValueError(f"keep: expected a share in (0, 1], got {keep!r}")
    imp = importance(attribution)
    if not (imp > 0).any():
        return torch.zeros_like(imp, dtype=torch.bool)
    cut = torch.quantile(imp.flatten().double(), 1.0 - keep)
    return (imp.double() >= cut) & (imp > 0)


def top_count_mask(attribution: torch.Tensor, count: int) -> torch.Tensor:
    """The ``count`` most important pixels of a map (``(H, W)`` bool; importance as in :func:`important_mask`), ties
    broken by position: a control of the same size as another mask (e.g. GAD's), drawn from the map's own ranking."""
    imp = importance(attribution)
    if not isinstance(count, int) or not 0 <= count <= imp.numel():
        raise ValueError(f"count: expected a pixel count in [0, {imp.numel()}], got {count!r}")
    mask = torch.zeros(imp.numel(), dtype=torch.bool)
    order = torch.sort(imp.flatten().double(), descending=True, stable=True).indices
    mask[order[:count]] = True
    return mask.view(imp.shape)


def gad_mask(original: torch.Tensor, supports: list[torch.Tensor], keep: float = 0.5) -> torch.Tensor:
    """Pixels important in the original map AND in every support map (sec. 4.3): never outside the original's."""
    mask = important_mask(original, keep)
    for s in supports:
        if s.shape != original.shape:
            raise ValueError(
                f"supports: a map of shape {tuple(s.shape)} does not match the original's {tuple(original.shape)}"
            )
        mask &= important_mask(s, keep)
    return mask


def gad_attribution(original: torch.Tensor, supports: list[torch.Tensor], keep: float = 0.5) -> torch.Tensor:
    """The original attribution restricted to the GAD mask (zero elsewhere)."""
    m = gad_mask(original, supports, keep)
    return original * (m if original.dim() == 2 else m[None])
