"""The confidence-optimisation (CO) score of the GAX paper (eq. 5) and its gradient.

``s_co(x, h) = kappa . [DNN(x (+) h) - DNN(x)]`` on raw outputs, with ``kappa_y = 1`` for the ground truth and
``-1/(C-1)`` for every other class (so ``sum(kappa) = 0`` and a heatmap that shifts every output equally scores 0).
``(+)`` is the AX process: ``x + h`` (``combine="sum"``) or ``x * h`` (``"mul"``). The closed form of the 2D
rotation toy is :func:`xai_lib.toy2d.co_closed_form`; GAX, which optimises a heatmap to a target score, is
:mod:`xai_lib.gax`.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .. import batching
from ..targets import as_targets

COMBINE = ("sum", "mul")


def kappa(y: torch.Tensor, num_classes: int, dtype: torch.dtype = torch.float32, device=None) -> torch.Tensor:
    """Score constants ``(B, C)``: 1 at the ground truth, ``-1/(C-1)`` elsewhere (eq. 5), built directly in
    ``dtype`` (the model outputs' dtype: a float32 constant cast to float64 would be off by ~1e-8)."""
    if num_classes < 2:
        raise ValueError(f"num_classes: the CO score needs C >= 2 classes, got {num_classes}")
    k = torch.full((y.shape[0], num_classes), -1.0 / (num_classes - 1), dtype=dtype, device=device)
    k[torch.arange(y.shape[0], device=k.device), y.to(k.device)] = 1.0
    return k


def augment(x: torch.Tensor, h: torch.Tensor, combine: str) -> torch.Tensor:
    """The AX process: ``x + h`` or ``x * h``."""
    if combine not in COMBINE:
        raise ValueError(f"combine: expected one of {list(COMBINE)}, got {combine!r}")
    return x + h if combine == "sum" else x * h


def co_score(
    model: nn.Module, x: torch.Tensor, h: torch.Tensor, y, combine: str = "sum", softmax: bool = False
) -> torch.Tensor:
    """CO score per input ``(B,)`` (eq. 5). ``softmax=True`` applies softmax to BOTH outputs.

    (The reference code's softmax variant mixes ``softmax(DNN(x + h))`` with the raw ``DNN(x)``; we do not.)
    """
    if not torch.is_tensor(x) or not torch.is_tensor(h) or h.shape != x.shape:
        raise ValueError(
            f"h: expected the shape of x {tuple(getattr(x, 'shape', ()))}, got {tuple(getattr(h, 'shape', ()))}"
        )
    if not torch.isfinite(h).all():
        raise ValueError("h: contains NaN or infinite values")
    out_x, out_ax = model(x), model(augment(x, h, combine))
    if out_x.dim() != 2:
        raise ValueError(f"model: expected outputs (B, C), got {tuple(out_x.shape)}")
    y = as_targets(y, x.shape[0], out_x.shape[1], name="y")
    if softmax:
        out_x, out_ax = F.softmax(out_x, 1), F.softmax(out_ax, 1)
    return ((out_ax - out_x) * kappa(y, out_x.shape[1], out_x.dtype, out_x.device)).sum(1)


def co_scores(
    model: nn.Module, x: torch.Tensor, h: torch.Tensor, y, combine: str = "sum", softmax: bool = False,
    batch_size: int | str | None = None,
) -> torch.Tensor:  # fmt: skip
    """:func:`co_score` of many inputs without gradients, in calls of ``batch_size`` (``None``: the process plan;
    ``"auto"``: a calibrated forward-only one)."""
    y = as_targets(y, len(x), name="y", device=x.device)  # co_score checks the range per chunk
    plan = batching.resolve(batch_size, model, x[:1], backward=False, name="batch_size")
    return batching.map_chunks(
        lambda a, b: co_score(model, plan.layout(x[a:b]), plan.layout(h[a:b]), y[a:b], combine, softmax),
        len(x), plan.size,
    )  # fmt: skip


def co_gradient(
    model: nn.Module, x: torch.Tensor, h: torch.Tensor, y, combine: str = "sum", batch_size: int | str | None = None
) -> torch.Tensor:
    """``d s_co / d(x (+) h)`` per input, the shape of ``x``: how sensitive the CO score (eq. 5) is to a change of
    the model's input ``x (+) h`` at each pixel (``DNN(x)`` is a constant of eq. 5, so this is ``kappa . d DNN /
    d input``). Each image's score depends on its own input only, so the calls of ``batch_size`` change nothing
    but rounding."""
    if not torch.is_tensor(x) or not torch.is_tensor(h) or h.shape != x.shape:
        raise ValueError(
            f"h: expected the shape of x {tuple(getattr(x, 'shape', ()))}, got {tuple(getattr(h, 'shape', ()))}"
        )
    y = as_targets(y, len(x), name="y", device=x.device)
    plan = batching.resolve(batch_size, model, x[:1], backward=True, name="batch_size")
    parts = []
    for a, b in batching.chunks(len(x), plan.size):
        inp = augment(x[a:b], h[a:b], combine).detach().requires_grad_(True)
        out = model(plan.layout(inp))
        if out.dim() != 2:
            raise ValueError(f"model: expected outputs (B, C), got {tuple(out.shape)}")
        k = kappa(as_targets(y[a:b], b - a, out.shape[1], name="y"), out.shape[1], out.dtype, out.device)
        (g,) = torch.autograd.grad((out * k).sum(), inp)
        parts.append(g.contiguous())
    return torch.cat(parts)
