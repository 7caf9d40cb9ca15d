"""What every attribution metric shares: the skip error, per-image results, 2D saliency, batched outputs."""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import nn


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
    targets = torch.as_tensor(targets).long().reshape(-1)
    if targets.numel() == 1:
        targets = targets.expand(b)
    if targets.shape != (b,):
        raise ValueError(f"targets: expected an int or shape ({b},), got {tuple(targets.shape)}")
    return targets


def saliency_2d(saliency: torch.Tensor, absolute: bool = False) -> torch.Tensor:
    """``(B, C, H, W)`` -> ``(B, H, W)`` by summing the signed attribution over channels (``|.|`` after)."""
    s = saliency.sum(1) if saliency.dim() == 4 else saliency
    return s.abs() if absolute else s


def probabilities(model: nn.Module, images: torch.Tensor, batch_size: int = 256) -> torch.Tensor:
    """Softmax outputs ``(N, C)`` in batches, without gradients (softmax is row-wise: batching is invisible)."""
    from ..models.training import batched_logits

    return F.softmax(batched_logits(model, images, batch_size), 1)


def trapezoid(y: torch.Tensor, dx: float) -> torch.Tensor:
    """Trapezoidal area under ``y`` sampled every ``dx`` along the last axis."""
    return dx * (y[..., 1:] + y[..., :-1]).sum(-1) / 2
