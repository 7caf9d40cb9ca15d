"""GAX paper: Generative Augmentative eXplanation (GAX), batched, and its target rule.

The CO score GAX optimises (eq. 5) is a metric, :mod:`xai_lib.metrics.co`; the heatmaps of the existing methods it
is compared with are :func:`xai_lib.captum_glue.heatmaps`.

GAX (sec. 3, eq. 6): ``h = tanh(w * x)`` with ``w`` initialised to ones, optimised by Adam (lr 0.1) on
``loss = -s_co + l_s / mean((h - x + eps)^2 / (x + eps))`` until ``s_co`` reaches a target.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

from . import batching
from .captum_glue import GAX_METHODS, heatmaps
from .metrics.co import COMBINE, augment, co_scores, kappa
from .targets import as_targets


@dataclass
class GAXResult:
    """Heatmaps and their run: ``co`` at the end, ``steps`` taken, whether the target was ``reached``,
    the CO history ``(iterations, B)`` and, for the images in ``snapshot_images``, ``(iteration, CO, heatmap)``
    at the start, each time the CO first passes one of ``milestones`` levels evenly spaced from the starting CO
    to the target, and at the stop (bounded memory: ``milestones + 2`` maps per image at most). ``weights``: the
    parameters ``w`` that gave the final heatmaps (``h = tanh(w * x)``; ones at the start); ``biases``: the
    per-pixel ``b`` at the end when the bias was trained (``train_bias=True``), else ``None``."""

    heatmaps: torch.Tensor
    co: torch.Tensor
    steps: torch.Tensor
    reached: torch.Tensor
    history: torch.Tensor
    snapshots: dict[int, list[tuple[int, float, torch.Tensor]]] = field(default_factory=dict)
    weights: torch.Tensor | None = None
    biases: torch.Tensor | None = None

    @property
    def not_reached(self) -> list[int]:
        return torch.nonzero(~self.reached).flatten().tolist()

    def still_rising(self, tail: float = 0.25) -> torch.Tensor:
        """Per image ``(B,)``: whether its best CO score in the last ``tail`` share of its iterations exceeds its
        best before them (an image stopped by the cap while still climbing); False for an image that reached the
        target or ran fewer than 4 iterations. Oscillations do not count as a rise: only a new best does."""
        if not 0 < tail < 1:
            raise ValueError(f"tail: expected a share in (0, 1), got {tail!r}")
        out = torch.zeros(self.history.shape[1], dtype=torch.bool)
        for i in torch.nonzero(~self.reached).flatten().tolist():
            h = self.history[:, i]
            h = h[~torch.isnan(h)]
            cut = len(h) - max(1, int(round(tail * len(h))))
            if len(h) >= 4 and cut >= 1:
                out[i] = bool(h[cut:].max() > h[:cut].max())
        return out


def gax_heatmap(w: torch.Tensor, x: torch.Tensor, bias: float | torch.Tensor | None, bias_inside: bool) -> torch.Tensor:
    """``tanh(w * x)``, with an optional bias ``b`` (a number or per pixel) inside (``tanh(w * x + b)``) or outside
    (``+ b``)."""
    return _tanh_and_heatmap(w, x, bias, bias_inside)[1]


def _tanh_and_heatmap(w, x, bias, bias_inside) -> tuple[torch.Tensor, torch.Tensor]:
    """The tanh term (its derivative is ``1 - tanh^2``) and the heatmap of :func:`gax_heatmap`."""
    th = torch.tanh(w * x if bias is None or not bias_inside else w * x + bias)
    return th, th if bias is None or bias_inside else th + bias


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
    train_bias: bool = False,
    combine: str = "sum",
    snapshot_images: tuple[int, ...] = (),
    milestones: int = 8,
    batch_size: int | str | None = None,
    stop_at: torch.Tensor | None = None,
) -> GAXResult:
    """Generative AX for a batch, each image with its own ``w``, each stopping when its CO reaches ``target_co``.

    Iteration ``t``: ``h = tanh(w * x)``, ``s = s_co(x, h)``; images with ``s >= target_co`` stop (their ``h`` is
    kept); the others take one Adam step on ``-s + l_s / mean((h - x + eps)^2 / (x + eps))``. After
    ``max_steps`` iterations the remaining images are reported in ``result.not_reached``. Only the images still
    below the target are evaluated, in calls of at most ``batch_size`` (``None``: the process plan; ``"auto"``:
    a calibrated one, :mod:`xai_lib.batching`); each image's loss is its own, so the chunking changes nothing but
    floating-point summation order. Autograd runs through the model only: the rest of eq. 6's gradient is
    written out (:func:`_loss_grad`), and the Adam step is ``torch.optim.Adam``'s, row by row (:class:`_Adam`).

    ``bias``: an optional ``b`` inside (``tanh(w x + b)``, ``bias_inside``) or outside (``tanh(w x) + b``) the
    tanh, the reference code's fix for images with many zeros. With ``train_bias=False`` it is a fixed constant; with
    ``train_bias=True`` it is a per-pixel parameter initialised to ``bias`` and optimised by its own Adam with the
    same settings, as in the authors' v1 ``Generator`` (``nn.Parameter``, 0.01); only there can ``h`` move on a
    pixel where ``x = 0``.

    ``stop_at``: optional per-image iteration caps ``(B,)`` in ``[0, max_steps]``: image ``i`` also stops at
    iteration ``stop_at[i]`` (its ``h`` and ``w`` there are kept), whether or not it reached the target. The path does
    not depend on the target until an image stops, so a second run with ``stop_at`` set to the steps of another run
    gives the heatmaps of two runs at a matched iteration (a comparison that an unequal number of steps would confound).
    """
    if not torch.is_tensor(x) or not torch.isfinite(x).all():
        raise ValueError("x: expected a finite tensor")
    if x.min() < 0 or x.max() > 1:
        raise ValueError(f"x: GAX expects inputs in [0, 1], got values in [{float(x.min()):.3f}, {float(x.max()):.3f}]")
    if not isinstance(max_steps, int) or max_steps < 1:
        raise ValueError(f"max_steps: expected an int >= 1, got {max_steps!r}")
    if stop_at is not None:
        stop_at = torch.as_tensor(stop_at)
        if stop_at.shape != (x.shape[0],) or stop_at.dtype.is_floating_point or stop_at.dtype == torch.bool:
            raise ValueError(f"stop_at: expected integer iteration caps of shape ({x.shape[0]},), got "
                             f"{tuple(stop_at.shape)} {stop_at.dtype}")  # fmt: skip
        if len(stop_at) and (int(stop_at.min()) < 0 or int(stop_at.max()) > max_steps):
            raise ValueError(f"stop_at: expected caps in [0, max_steps={max_steps}], got "
                             f"[{int(stop_at.min())}, {int(stop_at.max())}]")  # fmt: skip
        stop_at = stop_at.to(device=x.device, dtype=torch.long)
    if train_bias and bias is None:
        raise ValueError("train_bias: a trained bias needs its starting value, e.g. bias=0.01 (the reference code's)")
    b = x.shape[0]
    plan = batching.resolve(batch_size, model, x[:1], backward=True, name="batch_size")
    out_x = batching.batched_logits(model, x, plan.size).to(x.device)
    y = as_targets(y, b, out_x.shape[1], name="y")
    k = kappa(y, out_x.shape[1], out_x.dtype, out_x.device)
    # the images still optimising, compacted: their global indices, inputs, DNN(x), kappa rows and Adam state
    # are kept contiguous and shrunk only when some image stops (no gather or scatter in a plain iteration)
    idx = torch.arange(b, device=x.device)
    xs, outs, ks = x, out_x, k
    adam = _Adam(torch.ones_like(x), lr)
    adam_b = _Adam(torch.full_like(x, float(bias)), lr) if train_bias else None
    bias_grad = None if not train_bias else "inside" if bias_inside else "outside"
    final, final_w = torch.zeros_like(x), torch.ones_like(x)
    final_b = torch.full_like(x, float(bias)) if train_bias else None
    co_final = torch.full((b,), float("nan"), device=x.device)
    steps = torch.full((b,), max_steps, dtype=torch.long)
    history = torch.full((max_steps + 1, b), float("nan"))
    snaps: dict[int, list] = {i: [] for i in snapshot_images}
    marks: dict[int, list[float]] = {}
    per_image = float(np.prod(x.shape[1:]))
    for t in range(max_steps + 1):
        n = len(idx)
        h = x.new_empty((n, *x.shape[1:]))
        s_now = torch.empty(n, dtype=out_x.dtype, device=x.device)
        grad = torch.empty_like(h)
        grad_b = torch.empty_like(h) if train_bias else None
        for a, c in batching.chunks(n, plan.size):
            xa = xs[a:c]
            with torch.no_grad():
                th, hp = _tanh_and_heatmap(adam.param[a:c], xa, adam_b.param[a:c] if train_bias else bias, bias_inside)
                inp = augment(xa, hp, combine).requires_grad_(True)
            sp = ((model(plan.layout(inp)) - outs[a:c]) * ks[a:c]).sum(1)
            s_now[a:c], h[a:c] = sp.detach(), hp
            going = (sp.detach() < target_co) if t < max_steps else torch.zeros_like(sp, dtype=torch.bool)
            if stop_at is not None:
                going &= t < stop_at[idx[a:c]]
            if going.any():
                (g,) = torch.autograd.grad((sp * going).sum(), inp)  # d s / d(x (+) h), zero on stopped rows
                grads = _loss_grad(g, xa, hp, th, going, combine, similarity, eps, per_image, bias_grad)
                if train_bias:
                    grad[a:c], grad_b[a:c] = grads
                else:
                    grad[a:c] = grads
            else:
                grad[a:c] = 0.0
                if train_bias:
                    grad_b[a:c] = 0.0
        history[t, idx.cpu()] = s_now.cpu()
        done = s_now >= target_co if t < max_steps else torch.ones_like(s_now, dtype=torch.bool)
        if stop_at is not None:
            done |= t >= stop_at[idx]
        for j, i in enumerate(idx.tolist()):
            if i in snaps:
                co_i = float(s_now[j])
                if t == 0:
                    marks[i] = torch.linspace(co_i, target_co, milestones + 1)[1:].tolist()
                passed = [m for m in marks[i] if co_i >= m]
                marks[i] = [m for m in marks[i] if co_i < m]
                if t == 0 or passed or bool(done[j]):
                    snaps[i].append((t, co_i, h[j].cpu().clone()))
        if done.any():
            final[idx[done]] = h[done]
            final_w[idx[done]] = adam.param[done]
            if train_bias:
                final_b[idx[done]] = adam_b.param[done]
            co_final[idx[done]] = s_now[done]
            steps[idx[done].cpu()] = t
            keep = ~done
            if not keep.any():
                break
            idx, xs, outs, ks, grad = idx[keep], xs[keep], outs[keep], ks[keep], grad[keep]
            adam.keep(keep)
            if train_bias:
                grad_b = grad_b[keep]
                adam_b.keep(keep)
        adam.step(grad)
        if train_bias:
            adam_b.step(grad_b)
    reached = co_final >= target_co
    return GAXResult(final, co_final, steps, reached.cpu(), history[: t + 1], snaps, final_w, final_b)


class GAX:
    """GAX in captum's shape: ``GAX(model).attribute(inputs, target=..., target_co=...)`` returns the heatmaps ``h``
    (the inputs' shape) that raise each input's CO score to ``target_co`` (:func:`gax`, eq. 6); ``target`` is the
    ground truth of the CO score (eq. 5). ``return_result=True`` also returns the :class:`GAXResult` (CO scores,
    steps, whether each input reached the target, history), as captum's ``return_convergence_delta`` does its
    delta. The optimiser's settings are the constructor's."""

    def __init__(self, model: nn.Module, *, max_steps: int = 200, lr: float = 0.1, similarity: float = 100.0,
                 eps: float = 1e-4, bias: float | None = None, bias_inside: bool = True, train_bias: bool = False,
                 combine: str = "sum", batch_size: int | str | None = None) -> None:  # fmt: skip
        if not isinstance(model, nn.Module):
            raise ValueError(f"model: expected a torch.nn.Module, got {type(model).__name__}")
        if combine not in COMBINE:
            raise ValueError(f"combine: expected one of {list(COMBINE)}, got {combine!r}")
        self.model = model
        self.settings = {
            "max_steps": max_steps, "lr": lr, "similarity": similarity, "eps": eps, "bias": bias,
            "bias_inside": bias_inside, "train_bias": train_bias, "combine": combine, "batch_size": batch_size,
        }  # fmt: skip

    def attribute(self, inputs: torch.Tensor, target, *, target_co: float, return_result: bool = False):
        """GAX heatmaps of ``inputs`` (in [0, 1]) for the classes ``target`` (an int or one per input)."""
        if target is None:
            raise ValueError("target: GAX needs each input's class (the CO score's ground truth), got None")
        if not isinstance(target_co, int | float) or isinstance(target_co, bool) or not np.isfinite(target_co):
            raise ValueError(f"target_co: expected a finite number, got {target_co!r}")
        res = gax(self.model, inputs, target, float(target_co), **self.settings)
        return (res.heatmaps, res) if return_result else res.heatmaps


def _loss_grad(
    g: torch.Tensor, x: torch.Tensor, h: torch.Tensor, th: torch.Tensor, going: torch.Tensor, combine: str,
    similarity: float, eps: float, per_image: float, bias_grad: str | None = None,
) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:  # fmt: skip
    """``d loss / d w`` of eq. 6 per image from ``g = d s_co / d(x (+) h)`` (the model's backward pass), by the
    chain rule written out: ``loss = -s_co + l_s / sim`` with ``sim = mean((h - x + eps)^2 / (x + eps))`` and
    ``h = tanh(w x [+ b]) [+ b]``, so ``d loss / d h = -g d(x (+) h)/dh - 2 l_s (h - x + eps) / ((x + eps) N
    sim^2)`` and ``d h / d w = (1 - tanh^2) x``. Rows with ``going`` False get zero. Equal to autograd through
    the same expression up to floating-point rounding (tested) without autograd's graph of elementwise
    steps. ``bias_grad`` (``"inside"`` or ``"outside"``: where a trained ``b`` sits) also returns ``d loss / d b``:
    ``d loss / d h`` times ``1 - tanh^2`` inside, times 1 outside."""
    view = (-1, *([1] * (x.dim() - 1)))
    d = (h - x).add_(eps)
    r = d / (x + eps)  # (h - x + eps) / (x + eps)
    sim = (r * d).flatten(1).mean(1)
    coef = torch.where(going, -2.0 * similarity / (per_image * sim * sim), torch.zeros_like(sim))
    dh = r.mul_(coef.reshape(view)).sub_(g if combine == "sum" else g * x)
    grad_b = dh.clone() if bias_grad == "outside" else None
    dpre = dh.mul_(th.mul(th).neg_().add_(1.0))
    if bias_grad == "inside":
        grad_b = dpre.clone()
    elif bias_grad not in (None, "outside"):
        raise ValueError(f"bias_grad: expected None, 'inside' or 'outside', got {bias_grad!r}")
    grad_w = dpre.mul_(x)
    return grad_w if bias_grad is None else (grad_w, grad_b)


class _Adam:
    """Adam on the rows of one parameter tensor, written as ``torch.optim.Adam`` computes it (betas 0.9, 0.999;
    eps 1e-8; ``lerp``, ``addcmul``, ``addcdiv``), so a batch of images optimises as each image would alone
    with ``torch.optim.Adam``. The step count is shared: every row still optimising has taken the same number
    of steps (all start together and each takes one step per iteration), and :meth:`keep` drops the rows of
    images that stopped."""

    def __init__(self, param: torch.Tensor, lr: float, betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8):
        self.param, self.lr, self.betas, self.eps = param, lr, betas, eps
        self.m, self.v = torch.zeros_like(param), torch.zeros_like(param)
        self.t = 0

    def keep(self, rows: torch.Tensor) -> None:
        self.param, self.m, self.v = self.param[rows], self.m[rows], self.v[rows]

    def step(self, grad: torch.Tensor) -> None:
        b1, b2 = self.betas
        self.t += 1
        with torch.no_grad():
            self.m.lerp_(grad, 1 - b1)
            self.v.mul_(b2).addcmul_(grad, grad, value=1 - b2)
            denom = (self.v.sqrt() / (1 - b2**self.t) ** 0.5).add_(self.eps)
            self.param.addcdiv_(self.m, denom, value=-self.lr / (1 - b1**self.t))


def method_co_scores(model: nn.Module, x: torch.Tensor, y, methods: tuple[str, ...] = GAX_METHODS):
    """CO scores (raw outputs, ``x + h``) of the normalised heatmaps of ``methods`` for the predicted class, as a
    tidy table ``(method, co)``; a method the model cannot run is left out."""
    import pandas as pd

    from .captum_glue import unsupported_reason

    parts = []
    for method in methods:
        if unsupported_reason(model, method, x) is not None:
            continue
        co = co_scores(model, x, heatmaps(model, x, method), y)
        parts.append(pd.DataFrame({"method": method, "co": co.cpu().numpy()}))
    return pd.concat(parts, ignore_index=True)


def auto_target(model: nn.Module, x: torch.Tensor, y, quantile: float = 0.9):
    """GAX's target rule when the model's output scale is unknown: the ``quantile`` of the existing methods' CO
    scores on the same images, rounded up (the paper's 48 plays this role on ImageNet); returns (target, table)."""
    if not 0 <= quantile <= 1:
        raise ValueError(f"quantile: expected a number in [0, 1], got {quantile!r}")
    table = method_co_scores(model, x, y)
    return float(np.ceil(table.co.quantile(quantile))), table


def similarity_distance(h: torch.Tensor, x: torch.Tensor, eps: float = 1e-4) -> torch.Tensor:
    """The distance in eq. (6)'s similarity loss, ``mean((h - x + eps)^2 / (x + eps))`` over each input's values
    ``(B,)``: small when ``h`` copies ``x``; the loss adds ``l_s`` divided by it. A pixel where ``h = x = 0``
    adds ``eps`` to the mean; ``h = 0.01`` over ``x = 0`` adds about 1."""
    if h.shape != x.shape or h.dim() < 2:
        raise ValueError(f"x: expected the shape of h {tuple(h.shape)} (batch first), got {tuple(x.shape)}")
    d = h - x + eps
    return (d * d / (x + eps)).flatten(1).mean(1)
