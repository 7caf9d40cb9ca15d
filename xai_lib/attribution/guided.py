"""Guided Integrated Gradients (Kapishnikov et al. 2021), batched over images.

The path adapts to the gradient: at step ``s`` (``alpha = (s+1)/N``) the features with the smallest
``|gradient|`` (a ``fraction`` of them) move first, inside a window ``[alpha - max_dist, alpha + max_dist]``
of the straight line, until the L1 distance to the input has fallen to ``l1_total * (1 - alpha)``; the last
move is interpolated so the target is met exactly. Each step uses one gradient, taken at the start of the
step, and adds ``(x_new - x_old) * gradient``. ``max_dist = 0`` or ``fraction = 1`` gives plain IG with a
left Riemann sum.

Implementation: PAIR saliency's algorithm, computed in "alpha space": every feature ``i`` is kept as its
position ``a_i`` on its own straight line, ``x_i = x'_i + a_i (x_i - x'_i)``, so the window is ``[a_min, a_max]``
for every feature at once, the L1 distance to the input is ``sum_i |x_i - x'_i| (1 - a_i)``, and a step's
attribution is ``(a_end - a_start) (x - x') g`` (the inner moves telescope). Features with ``x_i = x'_i`` never
move (PAIR excludes them the same way). All images advance together, each with its own inner-loop state; the
model sees the whole batch once per step. The path is computed in float64; the result equals PAIR's to
float64 round-off (tested against PAIR's code in the ``bench`` extra).
"""

from __future__ import annotations

from collections.abc import Callable

import torch

GradFn = Callable[[torch.Tensor], tuple[torch.Tensor, torch.Tensor]]
EPSILON = 1e-9
MAX_INNER_ITERATIONS = 100_000
_PATH_DTYPE = torch.float64
_BIG = 1e30  # added to the |gradient| of features that may not be selected (finite, unlike inf: 0 * inf)


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
    (IDGI uses it).
    """
    shape, dtype = inputs.shape, inputs.dtype
    b_count = shape[0]
    x = inputs.reshape(b_count, -1).to(_PATH_DTYPE)
    base = baselines.reshape(b_count, -1).to(_PATH_DTYPE)
    diff = x - base
    absdiff = diff.abs()
    total = absdiff.sum(1)
    fixed = diff == 0  # features that cannot move are never selected (PAIR's x == x_max)
    alpha = torch.zeros_like(x)
    acc = torch.zeros_like(x)  # sum over steps of (a_end - a_start) * g; the attribution is diff * acc
    d = x.shape[1]
    k_lower = int(fraction * (d - 1)) + 1  # numpy's quantile(method="lower") as a 1-based order statistic
    current = torch.empty_like(x)
    for step in range(n_steps):
        torch.addcmul(base, alpha, diff, out=current)
        f, g = grad_fn(current.to(dtype).reshape(shape))
        if on_step is not None:
            on_step(f, g)
        g = g.reshape(b_count, -1)
        a = (step + 1.0) / n_steps
        a_min, a_max = max(a - max_dist, 0.0), min(a + max_dist, 1.0)
        start = alpha
        alpha = alpha.clamp_min(a_min)  # features behind the window jump to its lower edge
        l1_target = total * (1.0 - a)
        # selection key: the bit pattern of |gradient| in the gradient's own dtype (non-negative floats order
        # exactly as their bits read as integers, and integer selection is faster), _BIG for features that may
        # not move (fixed, or at the window's upper edge); features that reach the edge during the step are set
        # to _BIG as they get there
        blocked = alpha >= a_max
        blocked |= fixed
        key, big = _bits(g.abs().masked_fill_(blocked, _big(g.dtype)))
        active = total > 0
        for _ in range(MAX_INNER_ITERATIONS):
            l1_current = total - torch.linalg.vecdot(absdiff, alpha)
            active &= ~torch.isclose(l1_target, l1_current, rtol=EPSILON, atol=EPSILON)
            if not active.any():
                break
            s = _selection(key, k_lower, active, big)
            room = torch.sub(a_max, alpha).mul_(s)
            l1_s = torch.linalg.vecdot(absdiff, room)
            gamma = torch.where(l1_s > 0, (l1_current - l1_target) / torch.where(l1_s > 0, l1_s, 1.0), torch.inf)
            jump = gamma > 1.0
            if jump.all():  # every selected feature goes to the edge, exactly
                alpha = alpha.masked_fill(s, a_max)
                key.masked_fill_(s, big)
            else:  # a row's last move is interpolated so that its L1 target is met exactly
                at_edge = s.logical_and_(jump[:, None])
                alpha = torch.addcmul(alpha, gamma.clamp(max=1.0)[:, None], room).clamp_max_(a_max)
                alpha.masked_fill_(at_edge, a_max)
                key.masked_fill_(at_edge, big)
            active &= jump
        else:
            raise RuntimeError("Guided IG: the inner loop did not reach its L1 target")
        acc.addcmul_(alpha - start, g)
    attr = acc * diff
    return attr.to(dtype).reshape(shape)


_INT_OF = {torch.float64: torch.int64, torch.float32: torch.int32, torch.float16: torch.int16,
           torch.bfloat16: torch.int16}  # fmt: skip


def _big(dtype: torch.dtype) -> float:
    """``_BIG``, or the dtype's largest finite value where ``_BIG`` does not fit (float16)."""
    return min(_BIG, torch.finfo(dtype).max)


def _bits(key: torch.Tensor) -> tuple[torch.Tensor, int]:
    """``key`` (non-negative floats) as same-width integers that order the same way, and the blocking value's
    integer (:func:`_big`)."""
    itype = _INT_OF[key.dtype]
    big = torch.tensor(_big(key.dtype), dtype=key.dtype).view(itype).item()
    return key.view(itype), big


def _selection(key: torch.Tensor, k: int, active: torch.Tensor, big: int | float = _BIG) -> torch.Tensor:
    """Per active row, the features whose key is at most the row's ``k``-th smallest (PAIR's quantile, "lower")
    and below ``big`` when fewer than ``k`` may move; nothing in inactive rows. The order statistic is computed
    for the active rows only."""
    if active.all():
        rows, sub = None, key
    else:
        rows = torch.nonzero(active).flatten()
        sub = key[rows]
    threshold = sub.kthvalue(k, dim=1).values
    s = sub <= threshold[:, None]
    if (threshold >= big).any():  # fewer than k selectable features: take those that remain
        s &= sub < big
    if rows is None:
        return s
    full = torch.zeros_like(key, dtype=torch.bool)
    full[rows] = s
    return full
