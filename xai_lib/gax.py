"""GAX paper: the confidence-optimisation (CO) score of a heatmap, heatmaps of existing methods, and
Generative Augmentative eXplanation (GAX), batched.

CO score (eq. 5): ``s_co(x, h) = kappa . [DNN(x (+) h) - DNN(x)]`` on raw outputs, with ``kappa_y = 1`` for
the ground truth and ``-1/(C-1)`` for every other class (so ``sum(kappa) = 0`` and a heatmap that shifts every
output equally scores 0). ``(+)`` is the AX process: ``x + h`` (``combine="sum"``) or ``x * h`` (``"mul"``).

GAX (sec. 3, eq. 6): ``h = tanh(w * x)`` with ``w`` initialised to ones, optimised by Adam (lr 0.1) on
``loss = -s_co + l_s / mean((h - x + eps)^2 / (x + eps))`` until ``s_co`` reaches a target.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import nn

COMBINE = ("sum", "mul")


def kappa(y: torch.Tensor, num_classes: int) -> torch.Tensor:
    """Score constants ``(B, C)``: 1 at the ground truth, ``-1/(C-1)`` elsewhere (eq. 5)."""
    if num_classes < 2:
        raise ValueError(f"num_classes: the CO score needs C >= 2 classes, got {num_classes}")
    k = torch.full((y.shape[0], num_classes), -1.0 / (num_classes - 1))
    k[torch.arange(y.shape[0]), y] = 1.0
    return k


def augment(x: torch.Tensor, h: torch.Tensor, combine: str) -> torch.Tensor:
    """The AX process: ``x + h`` or ``x * h``."""
    if combine not in COMBINE:
        raise ValueError(f"combine: expected one of {list(COMBINE)}, got {combine!r}")
    return x + h if combine == "sum" else x * h


def _check_labels(y, b: int, num_classes: int) -> torch.Tensor:
    y = torch.as_tensor(y).long().reshape(-1)
    if y.numel() == 1:
        y = y.expand(b)
    if y.shape != (b,):
        raise ValueError(f"y: expected an int or shape ({b},), got {tuple(y.shape)}")
    if (y < 0).any() or (y >= num_classes).any():
        raise ValueError(f"y: labels must lie in [0, {num_classes}), got {y.tolist()}")
    return y


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
    y = _check_labels(y, x.shape[0], out_x.shape[1])
    if softmax:
        out_x, out_ax = F.softmax(out_x, 1), F.softmax(out_ax, 1)
    return ((out_ax - out_x) * kappa(y, out_x.shape[1]).to(out_x)).sum(1)


def normalise(attributions: torch.Tensor) -> torch.Tensor:
    """``h = a / max|a|`` per input, into [-1, 1] (an all-zero map stays zero)."""
    m = attributions.flatten(1).abs().max(1).values
    m = torch.where(m > 0, m, torch.ones_like(m))
    return attributions / m.reshape(-1, *([1] * (attributions.dim() - 1)))


def first_conv(model: nn.Module) -> nn.Conv2d | None:
    """The model's first ``Conv2d`` (LayerGradCam's layer in the GAX paper), or None."""
    return next((m for m in model.modules() if isinstance(m, nn.Conv2d)), None)


METHODS = ("Saliency", "InputXGradient", "LayerGradCam", "Deconvolution", "GuidedBackprop", "DeepLift")


def heatmaps(
    model: nn.Module, x: torch.Tensor, method: str, target: torch.Tensor | None = None, batch_size: int = 128
) -> torch.Tensor:
    """Normalised heatmap of one of the paper's six captum methods for the PREDICTED class (by default).

    Saliency is signed (``abs=False``); LayerGradCam is taken on the first convolution and upsampled to the
    input (image models only). Computed in chunks of ``batch_size``; captum's notices about the hooks it sets
    are silenced (they would land in every notebook's stderr).
    """
    if method not in METHODS:
        raise ValueError(f"method: expected one of {list(METHODS)}, got {method!r}")
    if target is None:
        with torch.no_grad():
            target = torch.cat([model(x[i : i + batch_size]).argmax(1) for i in range(0, len(x), batch_size)])
    parts = []
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=UserWarning, module=r"captum\..*")
        warnings.filterwarnings("ignore", message=r".*(hooks|require gradients|requires_grad).*")
        for i in range(0, len(x), batch_size):
            parts.append(_heatmap_chunk(model, x[i : i + batch_size], method, target[i : i + batch_size]))
    return torch.cat(parts)


def captum_attr():
    """``captum.attr``, imported without the TqdmWarning that captum's ``tqdm.auto`` import emits where
    ipywidgets is absent (it would land in the notebooks' stderr)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r".*IProgress not found.*")
        import captum.attr as ca
    return ca


def _heatmap_chunk(model: nn.Module, x: torch.Tensor, method: str, target: torch.Tensor) -> torch.Tensor:
    ca = captum_attr()

    x = x.detach().clone().requires_grad_(True)
    if method == "Saliency":
        attr = ca.Saliency(model).attribute(x, target=target, abs=False)
    elif method == "LayerGradCam":
        layer = first_conv(model)
        if layer is None or x.dim() != 4:
            raise ValueError("method: LayerGradCam needs an image model with a Conv2d layer")
        cam = ca.LayerGradCam(model, layer).attribute(x, target=target)
        attr = ca.LayerAttribution.interpolate(cam, x.shape[-2:]).expand_as(x)
    else:
        attr = getattr(ca, method)(model).attribute(x, target=target)
    return normalise(attr.detach())


@dataclass
class GAXResult:
    """Heatmaps and their run: ``co`` at the end, ``steps`` taken, whether the target was ``reached``,
    the CO history ``(iterations, B)`` and, for the images in ``snapshot_images``, the heatmap each time the
    CO first passed a milestone (bounded memory: ``len(milestones)`` maps per image at most)."""

    heatmaps: torch.Tensor
    co: torch.Tensor
    steps: torch.Tensor
    reached: torch.Tensor
    history: torch.Tensor
    snapshots: dict[int, list[tuple[int, float, torch.Tensor]]] = field(default_factory=dict)

    @property
    def not_reached(self) -> list[int]:
        return torch.nonzero(~self.reached).flatten().tolist()


def gax_heatmap(w: torch.Tensor, x: torch.Tensor, bias: float | None, bias_inside: bool) -> torch.Tensor:
    """``tanh(w * x)``, with an optional bias ``b`` inside (``tanh(w * x + b)``) or outside (``+ b``)."""
    if bias is None:
        return torch.tanh(w * x)
    return torch.tanh(w * x + bias) if bias_inside else torch.tanh(w * x) + bias


def gax(
    model: nn.Module,
    x: torch.Tensor,
    y,
    target_co: float,
    max_steps: int = 200,
    lr: float = 0.1,
    similarity: float = 100.0,
    eps: float = 1e-4,
    bias: float | None = None,
    bias_inside: bool = True,
    combine: str = "sum",
    snapshot_images: tuple[int, ...] = (),
    milestones: int = 8,
) -> GAXResult:
    """Generative AX for a batch, each image with its own ``w``, each stopping when its CO reaches ``target_co``.

    Iteration ``t``: ``h = tanh(w * x)``, ``s = s_co(x, h)``; images with ``s >= target_co`` stop (their ``h`` is
    kept); the others take one Adam step on ``-s + l_s / mean((h - x + eps)^2 / (x + eps))``. After
    ``max_steps`` iterations the remaining images are reported in ``result.not_reached``.
    """
    if not torch.is_tensor(x) or not torch.isfinite(x).all():
        raise ValueError("x: expected a finite tensor")
    if x.min() < 0 or x.max() > 1:
        raise ValueError(f"x: GAX expects inputs in [0, 1], got values in [{float(x.min()):.3f}, {float(x.max()):.3f}]")
    if not isinstance(max_steps, int) or max_steps < 1:
        raise ValueError(f"max_steps: expected an int >= 1, got {max_steps!r}")
    b = x.shape[0]
    with torch.no_grad():
        out_x = model(x)
    y = _check_labels(y, b, out_x.shape[1])
    k = kappa(y, out_x.shape[1]).to(out_x)
    w = torch.ones_like(x, requires_grad=True)
    opt = torch.optim.Adam([w], lr=lr, betas=(0.9, 0.999))
    active = torch.ones(b, dtype=torch.bool, device=x.device)
    final = torch.zeros_like(x)
    co_final = torch.full((b,), float("nan"), device=x.device)
    steps = torch.full((b,), max_steps, dtype=torch.long)
    history = []
    marks = torch.linspace(target_co / milestones, target_co, milestones).tolist() if milestones else []
    snaps: dict[int, list] = {i: [] for i in snapshot_images}
    dims = tuple(range(1, x.dim()))
    for t in range(max_steps + 1):
        h = gax_heatmap(w, x, bias, bias_inside)
        s = ((model(augment(x, h, combine)) - out_x) * k).sum(1)
        s_now = s.detach()
        history.append(s_now.where(active, torch.full_like(s_now, float("nan"))).cpu())
        for i in snaps:
            while active[i] and len(snaps[i]) < len(marks) and float(s_now[i]) >= marks[len(snaps[i])]:
                snaps[i].append((t, float(s_now[i]), h[i].detach().cpu().clone()))
        done = active & (s_now >= target_co)
        if t == max_steps:
            done = active.clone()
        final[done] = h.detach()[done]
        co_final[done] = s_now[done]
        steps[done.cpu()] = t
        active &= ~done
        if not active.any():
            break
        sim = ((h - x + eps) ** 2 / (x + eps)).mean(dims)
        loss = ((-s + similarity / sim) * active).sum()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        with torch.no_grad():
            frozen = w.detach().clone()
        opt.step()
        with torch.no_grad():
            w[~active] = frozen[~active]
    reached = co_final >= target_co
    return GAXResult(final, co_final, steps, reached.cpu(), torch.stack(history), snaps)
