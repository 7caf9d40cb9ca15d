"""Guided Integrated Gradients (Kapishnikov et al. 2021), batched over images.

The path adapts to the gradient: at step ``s`` (``alpha = (s+1)/N``) the features with the smallest
``|gradient|`` (a ``fraction`` of them) move first, inside a window ``[alpha - max_dist, alpha + max_dist]``
of the straight line, until the L1 distance to the input has fallen to ``l1_total * (1 - alpha)``; the last
move is interpolated so the target is met exactly. Each step uses one gradient, taken at the start of the
step, and adds ``(x_new - x_old) * gradient``. ``max_dist = 0`` or ``fraction = 1`` gives plain IG with a
left Riemann sum.

The algorithm is sequential in its steps but independent across images: every image of the batch keeps its
own inner loop state, and the model sees the whole batch once per step.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

GradFn = Callable[[torch.Tensor], tuple[torch.Tensor, torch.Tensor]]
EPSILON = 1e-9
MAX_INNER_ITERATIONS = 100_000


def guided_ig(
    grad_fn: GradFn,
    inputs: torch.Tensor,
    baselines: torch.Tensor,
    n_steps: int,
    fraction: float,
    max_dist: float,
    on_step: Callable[[torch.Tensor, torch.Tensor], None] | None = None,
) -> torch.Tensor:
    """Guided IG attributions ``(B, *F)``.

    ``grad_fn(x)`` maps a batch ``(B, *F)`` to ``(f, g)``: the target outputs ``(B,)`` and their gradients.
    ``on_step(f, g)`` (optional) sees each step's output and gradient at the step's start, in path order
    (IDGI uses it). The path itself is computed in float64.
    """
    shape, dtype = inputs.shape, inputs.dtype
    b_count = shape[0]
    x = inputs.reshape(b_count, -1).double()
    base = baselines.reshape(b_count, -1).double()
    diff = x - base
    total = diff.abs().sum(1)
    rising = diff > 0
    falling = diff < 0
    current = base.clone()
    attr = torch.zeros_like(x)
    d = x.shape[1]
    k_lower = int(fraction * (d - 1)) + 1  # numpy's quantile(method="lower") as a 1-based order statistic
    for step in range(n_steps):
        f, g = grad_fn(current.to(dtype).reshape(shape))
        if on_step is not None:
            on_step(f, g)
        g_actual = g.reshape(b_count, -1).double()
        grad = g_actual.clone()
        alpha = (step + 1.0) / n_steps
        a_min, a_max = max(alpha - max_dist, 0.0), min(alpha + max_dist, 1.0)
        x_min, x_max = base + a_min * diff, base + a_max * diff
        l1_target = total * (1.0 - alpha)
        active = total > 0
        for _ in range(MAX_INNER_ITERATIONS):
            if not active.any():
                break
            old = current
            # a feature is behind the window when its own alpha, (current - base) / diff, is below a_min
            behind = ((rising & (current < x_min)) | (falling & (current > x_min))) & active[:, None]
            current = torch.where(behind, x_min, current)
            l1_current = (current - x).abs().sum(1)
            done = active & torch.isclose(l1_target, l1_current, rtol=EPSILON, atol=EPSILON)
            active = active & ~done
            if active.any():
                grad = torch.where(current == x_max, torch.full_like(grad, float("inf")), grad)
                threshold = grad.abs().kthvalue(k_lower, dim=1).values
                s = (grad.abs() <= threshold[:, None]) & torch.isfinite(grad) & active[:, None]
                l1_s = ((current - x_max).abs() * s).sum(1)
                gamma = torch.where(l1_s > 0, (l1_current - l1_target) / torch.where(l1_s > 0, l1_s, 1.0), torch.inf)
                jump = gamma > 1.0
                towards = current + gamma.clamp(max=1.0)[:, None] * (x_max - current)
                current = torch.where(s & jump[:, None], x_max, torch.where(s, towards, current))
                active = active & jump
            attr += (current - old) * g_actual
        else:
            raise RuntimeError("Guided IG: the inner loop did not reach its L1 target")
    return attr.to(dtype).reshape(shape)
