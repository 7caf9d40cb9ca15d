"""Analytic models for teaching and testing: a scalar function of the input wrapped as a 2-class classifier."""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn


class AnalyticModel(nn.Module):
    """``x (B, D) -> (f(x), -f(x))``: attribute class 0 to explain ``f``."""

    def __init__(self, fn: Callable[[torch.Tensor], torch.Tensor]) -> None:
        super().__init__()
        self.fn = fn
        self.anchor = nn.Parameter(torch.zeros(()), requires_grad=False)  # gives the module a device

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        f = self.fn(x)
        return torch.stack([f, -f], 1)


def curved_valley(x: torch.Tensor) -> torch.Tensor:
    """A 2D function whose level sets bend across the straight path from 0 to (1, 1): a sigmoid ridge
    plus a bump, so the gradient rarely points along the path (IDGI paper, Fig. 2)."""
    x1, x2 = x[:, 0], x[:, 1]
    ridge = torch.sigmoid(6 * (x1 + 0.35 * x2**2 - 0.55))
    bump = 0.5 * torch.exp(-((x1 - 0.3) ** 2 + (x2 - 0.75) ** 2) / 0.04)
    return ridge + bump
