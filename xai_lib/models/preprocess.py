"""Preprocessing folded into the model, so that everything else stays in pixel space.

A network trained on mean/std-normalised inputs is wrapped as ``Preprocessed(net, mean, std)``, a module that
takes images in [0, 1] and normalises them inside its forward pass. Every attribution, baseline (black = 0),
blur path, heatmap and metric then works on pixels in [0, 1], whatever the model expects: attributions of
different models are comparable, and a black baseline means a black image, not a "mean image". By the chain
rule, the gradient with respect to a pixel is the gradient with respect to the normalised input divided by
the channel's ``std`` (tested).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import torch
from torch import nn

#: named normalisations (torchvision's ImageNet statistics)
NORMALIZATIONS: dict[str, tuple[tuple[float, ...], tuple[float, ...]]] = {
    "imagenet": ((0.485, 0.456, 0.406), (0.229, 0.224, 0.225)),
}


class Preprocessed(nn.Module):
    """``x in [0, 1] -> net((x - mean) / std)`` with per-channel ``mean`` and ``std`` (buffers, not parameters)."""

    def __init__(self, net: nn.Module, mean: Sequence[float], std: Sequence[float]) -> None:
        super().__init__()
        if len(mean) != len(std) or not len(mean):
            raise ValueError(f"normalize: mean and std need one value per channel, got {list(mean)} and {list(std)}")
        if any(s <= 0 for s in std):
            raise ValueError(f"normalize: std must be positive, got {list(std)}")
        self.net = net
        self.register_buffer("mean", torch.tensor(list(mean), dtype=torch.float64).reshape(1, -1, 1, 1))
        self.register_buffer("std", torch.tensor(list(std), dtype=torch.float64).reshape(1, -1, 1, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # no shape check here: the forward stays traceable by torch.fx (the system loader checks the channels)
        return self.net((x - self.mean.to(x.dtype)) / self.std.to(x.dtype))

    def extra_repr(self) -> str:
        return f"mean={self.mean.flatten().tolist()}, std={self.std.flatten().tolist()}"


def parse_normalize(value: Any) -> tuple[tuple[float, ...], tuple[float, ...]] | None:
    """``"none"`` / ``None`` -> ``None``; ``"imagenet"`` -> its statistics; ``{"mean": [...], "std": [...]}``
    (or a pair of lists) -> those; anything else is a ValueError naming ``normalize``."""
    if value is None or value == "none":
        return None
    if isinstance(value, str):
        if value not in NORMALIZATIONS:
            raise ValueError(
                f"normalize: expected 'none', one of {sorted(NORMALIZATIONS)} or {{'mean': [...], 'std': [...]}}, "
                f"got {value!r}"
            )
        return NORMALIZATIONS[value]
    if isinstance(value, Mapping):
        if set(value) != {"mean", "std"}:
            raise ValueError(f"normalize: expected the keys 'mean' and 'std', got {sorted(value)}")
        mean, std = value["mean"], value["std"]
    elif isinstance(value, Sequence) and len(value) == 2:
        mean, std = value
    else:
        raise ValueError(f"normalize: expected 'none', 'imagenet' or {{'mean': [...], 'std': [...]}}, got {value!r}")
    try:
        mean_t, std_t = tuple(float(v) for v in mean), tuple(float(v) for v in std)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"normalize: mean and std must be lists of numbers, got {value!r}") from exc
    if len(mean_t) != len(std_t) or not mean_t or any(s <= 0 for s in std_t):
        raise ValueError(f"normalize: expected equally long mean and positive std lists, got {value!r}")
    return mean_t, std_t


def wrap(net: nn.Module, normalize: Any) -> nn.Module:
    """``net`` itself for no normalisation, else ``Preprocessed(net, mean, std)``."""
    stats = parse_normalize(normalize)
    return net if stats is None else Preprocessed(net, *stats)
