"""What every attribution metric shares: the skip error, per-image results, 2D saliency, batched outputs."""

from __future__ import annotations

import hashlib
import io
import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..batching import batched_logits
from ..stopwatch import timed
from ..targets import as_targets


class SkippedImageError(ValueError):
    """An image the metric's protocol excludes (e.g. PIC: the model is not confident enough on it)."""

    def __init__(self, index: int, reason: str) -> None:
        super().__init__(f"image {index}: {reason}")
        self.index, self.reason = index, reason


@dataclass
class MetricResult:
    """Per-image values (NaN where the protocol skipped the image) and the reasons for the skips."""

    values: torch.Tensor
    skipped: dict[int, str] = field(default_factory=dict)
    curves: torch.Tensor | None = None  # per-image curves where the metric has them (NaN rows when skipped)

    @property
    def kept(self) -> torch.Tensor:
        return ~torch.isnan(self.values)

    def raise_if_skipped(self) -> None:
        """Raise :class:`SkippedImageError` for the first skipped image (for callers that need every image)."""
        if self.skipped:
            index = min(self.skipped)
            raise SkippedImageError(index, self.skipped[index])

    def mean(self) -> float:
        return float(self.values[self.kept].mean()) if self.kept.any() else float("nan")


def check_batch(model: nn.Module, images: torch.Tensor, saliency: torch.Tensor, targets) -> torch.Tensor:
    """Validate ``(model, images, saliency, targets)``; return targets as a ``(B,)`` long tensor."""
    if not isinstance(model, nn.Module):
        raise ValueError(f"model: expected a torch.nn.Module, got {type(model).__name__}")
    if not torch.is_tensor(images) or images.dim() != 4:
        raise ValueError(f"images: expected a tensor of shape (B, C, H, W), got {getattr(images, 'shape', images)}")
    if not torch.isfinite(images).all():
        raise ValueError("images: contains NaN or infinite values")
    b, _, h, w = images.shape
    if not torch.is_tensor(saliency) or saliency.shape not in (images.shape, (b, h, w)):
        raise ValueError(
            f"saliency: expected shape {tuple(images.shape)} or {(b, h, w)}, got {getattr(saliency, 'shape', saliency)}"
        )
    if not torch.isfinite(saliency).all():
        raise ValueError("saliency: contains NaN or infinite values")
    return as_targets(targets, b, name="targets")


def saliency_2d(saliency: torch.Tensor, absolute: bool = False) -> torch.Tensor:
    """``(B, C, H, W)`` -> ``(B, H, W)`` by summing the signed attribution over channels (``|.|`` after)."""
    s = saliency.sum(1) if saliency.dim() == 4 else saliency
    return s.abs() if absolute else s


def probabilities(model: nn.Module, images: torch.Tensor, batch_size: int | None = None) -> torch.Tensor:
    """Softmax outputs ``(N, C)`` in batches, without gradients (softmax is row-wise: batching is invisible)."""
    return F.softmax(batched_logits(model, images, batch_size), 1)


def trapezoid(y: torch.Tensor, dx: float) -> torch.Tensor:
    """Trapezoidal area under ``y`` sampled every ``dx`` along the last axis."""
    return dx * (y[..., 1:] + y[..., :-1]).sum(-1) / 2


def to_uint8(image: torch.Tensor) -> np.ndarray:
    """``(C, H, W)`` in [0, 1] -> uint8 ``(H, W, C)`` (``(H, W)`` for one channel), as PAIR's metrics take images."""
    arr = (image.detach().cpu().double().clamp(0, 1) * 255).round().to(torch.uint8).permute(1, 2, 0).numpy()
    return arr[..., 0] if arr.shape[-1] == 1 else arr


def from_uint8(arrays: Sequence[np.ndarray]) -> torch.Tensor:
    """uint8 ``(H, W[, C])`` arrays -> float ``(N, C, H, W)`` in [0, 1]."""
    stack = np.stack([a if a.ndim == 3 else a[..., None] for a in arrays])
    return torch.from_numpy(stack).permute(0, 3, 1, 2).float() / 255.0


def webp_bytes(arr: np.ndarray, method: int) -> int:
    """Size of the lossless WebP (quality 100, encoder effort ``method``) of a uint8 image: PAIR's entropy."""
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, format="WEBP", lossless=True, quality=100, method=method)
    return len(buf.getvalue())


def webp_sizes(arrays: Sequence[np.ndarray], method: int = 4, threads: int | None = None) -> np.ndarray:
    """:func:`webp_bytes` of many uint8 images: identical images are encoded once, and the encodes run on
    ``threads`` threads (default: the CPU count; Pillow releases the GIL while encoding)."""
    if method not in range(7):
        raise ValueError(f"webp_method: expected a WebP effort in 0..6, got {method!r}")
    keys = [hashlib.blake2b(a.tobytes() + str(a.shape).encode(), digest_size=16).digest() for a in arrays]
    unique = dict(zip(keys, arrays, strict=True))
    n_threads = threads or os.cpu_count() or 1
    with timed("WebP"):
        if n_threads > 1 and len(unique) > 1:
            with ThreadPoolExecutor(n_threads) as pool:
                sizes = dict(zip(unique, pool.map(lambda a: webp_bytes(a, method), unique.values()), strict=True))
        else:
            sizes = {k: webp_bytes(a, method) for k, a in unique.items()}
    return np.array([sizes[k] for k in keys], dtype=float)


def webp_size(image: torch.Tensor, method: int = 4) -> int:
    """Bytes of the lossless WebP of a ``(C, H, W)`` image in [0, 1] (uint8, PAIR's settings)."""
    if method not in range(7):
        raise ValueError(f"method: expected a WebP effort in 0..6, got {method!r}")
    with timed("WebP"):
        return webp_bytes(to_uint8(image), method)


def pixel_correlation(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Pearson correlation of ``a`` and ``b`` over each input's values (all channels and pixels), per input
    ``(B,)``: 1 when ``a`` is an increasing affine copy of ``b`` (e.g. a heatmap that merely copies its image),
    NaN where either input is constant. Used to measure how close a GAX heatmap is to its image."""
    if a.shape != b.shape or a.dim() < 2:
        raise ValueError(f"b: expected the shape of a {tuple(a.shape)} (batch first), got {tuple(b.shape)}")
    a, b = a.flatten(1).double(), b.flatten(1).double()
    a, b = a - a.mean(1, keepdim=True), b - b.mean(1, keepdim=True)
    den = (a.square().sum(1) * b.square().sum(1)).sqrt()
    return torch.where(den > 0, (a * b).sum(1) / den.clamp_min(1e-300), torch.full_like(den, float("nan")))
