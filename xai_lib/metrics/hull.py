"""Convex-hull complexity of an important-pixel mask: RC of the GAD paper (eq. 1), ``A(CH_GAD) / A(CH_orig)``.

Choices (the paper is silent; no public code exists): the **hull area** is the number of pixels inside the convex
hull of the important pixels (scikit-image's ``convex_hull_image``), which is also the occlusion mask ``M`` of RS
(:mod:`xai_lib.metrics.occlusion`); ``hull_area(..., kind="geometric")`` gives the polygon area of the hull of the
pixel centres.
"""

from __future__ import annotations

import numpy as np
import torch
from scipy.spatial import ConvexHull, QhullError
from skimage.morphology import convex_hull_image


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


def hull_complexity(gad: torch.Tensor, original: torch.Tensor, kind: str = "pixels") -> float:
    """RC, GAD eq. (1): ``A(CH_GAD) / A(CH_orig)`` for the two important-pixel masks."""
    return hull_area(gad, kind) / hull_area(original, kind)
