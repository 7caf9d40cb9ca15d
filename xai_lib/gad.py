"""GAD (Gradient Artificial Distancing): pure functions of the method and its metrics.

Sec. 4.1: for samples of class a, ``alpha_a`` is subtracted from the pre-softmax output of class b; for samples
of class b, ``alpha_b`` from the output of class a (``shifted_targets``). Sec. 4.2: support regressions are
trained to those targets (model glue, elsewhere). Sec. 4.3: a feature is kept only if it is important in every
map, the original's and each support model's (``gad_mask``). Sec. 5: the convex hull of the important pixels,
``RC = A(CH_GAD) / A(CH_orig)`` (eq. 1) and ``RS(I, M, a) = |N_a(I) - N_a(I * (1 - M))| / sum(M)`` (eq. 2).

Choices (the paper is silent; no public code exists):

* **importance** of a pixel is ``|sum_c attribution|``; the **important** pixels of a map are its top
  ``keep`` share (50% by default, the paper's hull filter), ties included;
* the GAD mask is the intersection of the important masks of all maps, so it is a subset of the original's;
* **hull area** is the number of pixels inside the convex hull of the important pixels (scikit-image's
  ``convex_hull_image``), which is also the occlusion mask ``M`` of RS; ``hull_area(..., kind="geometric")``
  gives the polygon area of the hull of the pixel centres;
* **occlusion** replaces masked pixels by ``fill`` (0: the paper's ``I * (1 - M)``).
"""

from __future__ import annotations

import numpy as np
import torch
from scipy.spatial import ConvexHull, QhullError
from skimage.morphology import convex_hull_image
from torch import nn


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


def hull_mask(mask: torch.Tensor) -> torch.Tensor:
    """The convex hull of the ``True`` pixels as a mask (``(H, W)`` bool)."""
    m = np.asarray(mask, dtype=bool)
    if not m.any():
        raise ValueError("mask: empty (no important pixel to wrap in a convex hull)")
    return torch.from_numpy(convex_hull_image(m))


def hull_area(mask: torch.Tensor, kind: str = "pixels") -> float:
    """Area of the convex hull of the ``True`` pixels: pixel count inside it, or the geometric polygon area of
    the hull of the pixel centres (0 for fewer than three non-collinear pixels)."""
    if kind == "pixels":
        return float(hull_mask(mask).sum())
    if kind != "geometric":
        raise ValueError(f"kind: expected 'pixels' or 'geometric', got {kind!r}")
    pts = np.argwhere(np.asarray(mask, dtype=bool)).astype(float)
    if len(pts) == 0:
        raise ValueError("mask: empty (no important pixel to wrap in a convex hull)")
    if len(pts) < 3:
        return 0.0
    try:
        return float(ConvexHull(pts).volume)  # in 2D, "volume" is the area
    except QhullError:  # collinear points
        return 0.0


def rc(gad: torch.Tensor, original: torch.Tensor, kind: str = "pixels") -> float:
    """Eq. (1): ``A(CH_GAD) / A(CH_orig)`` for the two important-pixel masks."""
    return hull_area(gad, kind) / hull_area(original, kind)


def rs(model: nn.Module, images: torch.Tensor, masks: torch.Tensor, output: int, fill: float = 0.0) -> torch.Tensor:
    """Eq. (2) per image: ``|N_a(I) - N_a(I occluded by M)| / sum(M)``, ``N_a`` the raw output ``a``.

    ``images (B, C, H, W)``, ``masks (B, H, W)``; occluded pixels (all channels) are set to ``fill``.
    """
    if masks.shape != (images.shape[0], *images.shape[2:]):
        raise ValueError(f"masks: expected shape {(images.shape[0], *images.shape[2:])}, got {tuple(masks.shape)}")
    area = masks.flatten(1).sum(1).double()
    if (area == 0).any():
        raise ValueError("masks: an empty mask has no area (RS divides by it)")
    from .batching import batched_logits

    m = masks[:, None].to(images.dtype)
    occluded = images * (1 - m) + fill * m
    diff = batched_logits(model, images)[:, output] - batched_logits(model, occluded)[:, output]
    return diff.abs().double() / area.cpu()
