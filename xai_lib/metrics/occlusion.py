"""Occlusion sensitivity of a region: RS of the GAD paper (eq. 2), ``|N_a(I) - N_a(I * (1 - M))| / sum(M)``.

Choice (the paper is silent): occluded pixels (all channels) are replaced by ``fill`` (0: the paper's
``I * (1 - M)``).
"""

from __future__ import annotations

import torch
from torch import nn

from ..batching import batched_logits


def occlusion_sensitivity(
    model: nn.Module, images: torch.Tensor, masks: torch.Tensor, output: int, fill: float = 0.0
) -> torch.Tensor:
    """RS, GAD eq. (2), per image: ``|N_a(I) - N_a(I occluded by M)| / sum(M)``, ``N_a`` the raw output ``a``.

    ``images (B, C, H, W)``, ``masks (B, H, W)``; occluded pixels (all channels) are set to ``fill``.
    """
    if masks.shape != (images.shape[0], *images.shape[2:]):
        raise ValueError(f"masks: expected shape {(images.shape[0], *images.shape[2:])}, got {tuple(masks.shape)}")
    area = masks.flatten(1).sum(1).double()
    if (area == 0).any():
        raise ValueError("masks: an empty mask has no area (RS divides by it)")
    m = masks[:, None].to(images.dtype)
    occluded = images * (1 - m) + fill * m
    diff = batched_logits(model, images)[:, output] - batched_logits(model, occluded)[:, output]
    return diff.abs().double() / area.cpu()
