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

The inner loop's rounds (:class:`_Selection`) take each row's order statistics from one partition of the step's
keys that advances round by round, instead of a new ``kthvalue`` over keys rewritten after every round; the
per-row arithmetic (L1 distances, the interpolation share) runs on numpy arrays of ``B`` values; and a feature's
room to the window's edge is computed once per step (a feature moves at most once per step); the L1 distance is
not summed again once every row has stopped, nor the fixed features' keys built when no feature is fixed, nor
the upper-edge test made when no feature can be at the edge; a round's selection becomes a mask of 0 and 1 in the
path's dtype (a product with it is a value times 1 or 0, and ``lerp`` with it returns one end point: both exact);
the counts a row has selected are read only when another round comes; the step's float64 buffers are reused.
Every float is the same as in the direct formulation, bit for bit (tested against it on gradients with ties, zeros
and blocked features); the benchmarks README gives the bookkeeping's cost against the model's.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import numpy as np
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
    total = absdiff.sum(1).cpu().numpy()  # per-row quantities (L1 distances, gamma) live in numpy: B values
    fixed = diff == 0  # features that cannot move are never selected (PAIR's x == x_max)
    fixed = fixed if bool(fixed.any()) else None
    fixed_keys = None  # the blocking key where fixed, else 0, in the gradient's dtype (made at the first step)
    a_max_before = -1.0  # the previous step's upper edge: no feature lies beyond it
    alpha = torch.zeros_like(x)
    # buffers rewritten every step: the gradient in the path's dtype, each feature's room to the window's edge,
    # and a round's moves; and the edge itself as a tensor (lerp's end point)
    g64, room_buf, moved_buf, edge = torch.empty_like(x), torch.empty_like(x), torch.empty_like(x), x.new_empty(())
    acc = torch.zeros_like(x)  # sum over steps of (a_end - a_start) * g; the attribution is diff * acc
    d = x.shape[1]
    k_lower = int(fraction * (d - 1)) + 1  # numpy's quantile(method="lower") as a 1-based order statistic
    for step in range(n_steps):
        # the path point, computed in float64 and rounded once to the inputs' dtype (as ``.to(dtype)`` would)
        current = torch.addcmul(base, alpha, diff, out=torch.empty_like(x, dtype=dtype))
        f, g = grad_fn(current.reshape(shape))
        if on_step is not None:
            on_step(f, g)
        g = g.reshape(b_count, -1)
        a = (step + 1.0) / n_steps
        a_min, a_max = max(a - max_dist, 0.0), min(a + max_dist, 1.0)
        start = alpha
        alpha = alpha.clamp_min(a_min)  # features behind the window jump to its lower edge
        l1_target = total * (1.0 - a)
        if fixed is not None and (fixed_keys is None or fixed_keys.dtype != g.dtype):
            fixed_keys = torch.zeros_like(g).masked_fill_(fixed, _big(g.dtype)[0])
        # a feature can start the step at the upper edge only if the edge did not move (it stops at 1) or the
        # window is empty (max_dist = 0): every feature ends a step at or below that step's upper edge
        at_edge = a_max <= a_max_before or a_min >= a_max
        a_max_before = a_max
        selection = _Selection(g, alpha, a_max, fixed_keys, k_lower, at_edge)
        # a feature moves at most once per step, from where the step's start put it: its room to the edge is
        # known now (a round's ``room * s`` is ``(a_max - alpha) * s`` bit for bit: a selected feature has not
        # moved yet, and multiplying by 0 or 1 is exact)
        room = torch.sub(a_max, alpha, out=room_buf)
        edge.fill_(a_max)
        active = total > 0
        for _ in range(MAX_INNER_ITERATIONS):
            l1_current = total - _rows(torch.linalg.vecdot(absdiff, alpha))
            active &= _not_close(l1_target, l1_current)
            if not active.any():
                break
            s = selection.next(active).view(torch.uint8).to(_PATH_DTYPE)  # 1 where a feature moves this round
            moved = torch.mul(room, s, out=moved_buf)  # how far each selected feature can move (0 elsewhere)
            l1_s = _rows(torch.linalg.vecdot(moved, absdiff))  # the L1 distance the selected features cover
            moving = l1_s > 0
            gamma = np.where(moving, (l1_current - l1_target) / np.where(moving, l1_s, 1.0), np.inf)
            jump = gamma > 1.0
            stop = np.flatnonzero(active & ~jump)  # rows whose last move is interpolated: they stop here
            goes_on = bool((active & jump).any())  # some row moves its selected features to the edge
            if not goes_on and 4 * len(stop) >= b_count:
                # no row goes on and many stop: every row moves by its share, 0 where it does not stop (the rows
                # that do not stop have no selected feature, so their moves are 0 and they stay as they are)
                share = np.zeros(b_count)
                share[stop] = gamma[stop]
                alpha.addcmul_(torch.from_numpy(share).to(alpha.device)[:, None], moved).clamp_max_(a_max)
            else:
                if len(stop):
                    r = torch.from_numpy(stop).to(alpha.device)
                    share = torch.from_numpy(gamma[stop]).to(alpha.device)[:, None]
                    last = torch.addcmul(alpha.index_select(0, r), share, moved.index_select(0, r))
                    last.clamp_max_(a_max)
                if goes_on:
                    # selected features go to the edge, exactly (lerp with a weight of 0 or 1 returns an end point:
                    # ``start + 0 * (end - start)`` or ``end - (end - start) * 0``) ...
                    alpha.lerp_(edge, s)
                if len(stop):
                    alpha.index_copy_(0, r, last)  # ... except in the rows that stop, which move by their share
            active &= jump
            if not active.any():  # every row has stopped (an L1 check of stopped rows would not be read)
                break
        else:
            raise RuntimeError("Guided IG: the inner loop did not reach its L1 target")
        acc.addcmul_(torch.sub(alpha, start, out=start), g64.copy_(g))
    attr = acc * diff
    return attr.to(dtype).reshape(shape)


def _rows(t: torch.Tensor) -> np.ndarray:
    """A per-row tensor as a float64 numpy array (the inner loop's per-row arithmetic: numpy's IEEE operations
    give the same floats as torch's, with far less overhead per call on a few values)."""
    return t.cpu().numpy()


def _not_close(target: np.ndarray, current: np.ndarray) -> np.ndarray:
    """``~torch.isclose(target, current, rtol=EPSILON, atol=EPSILON)`` for finite values (the same comparison,
    ``|target - current| <= atol + |rtol * current|``, on the same floats)."""
    return np.abs(target - current) > np.abs(current * EPSILON) + EPSILON


#: a float dtype -> the torch and numpy integers of its width (order statistics are taken on the key's bits)
_INT_OF = {torch.float64: (torch.int64, np.int64), torch.float32: (torch.int32, np.int32),
           torch.float16: (torch.int16, np.int16), torch.bfloat16: (torch.int16, np.int16)}  # fmt: skip


@functools.cache
def _big_tensor(dtype: torch.dtype, device: torch.device) -> torch.Tensor:
    return torch.tensor(_big(dtype)[0], dtype=dtype, device=device)


@functools.cache
def _big(dtype: torch.dtype) -> tuple[float, int]:
    """``_BIG``, or the dtype's largest finite value where ``_BIG`` does not fit (float16), and its bit pattern
    as an integer of the dtype's width."""
    big = min(_BIG, torch.finfo(dtype).max)
    return big, int(torch.tensor(big, dtype=dtype).view(_INT_OF[dtype][0]))


class _Selection:
    """The rounds of one step's inner loop: in each round, every active row selects the features whose
    ``|gradient|`` is at most the row's ``k``-th smallest among the features it has not selected yet (PAIR's
    quantile, "lower"), only features that may move (not fixed, below the window's upper edge at the step's
    start); fewer than ``k`` left: all that remain.

    A selected feature leaves the candidates for good (it reaches the window's edge, or its row stops), so
    round ``j`` of a row selects the keys in ``(t_{j-1}, t_j]``, where ``t_j`` is the ``(c + k)``-th smallest key
    of the step and ``c`` the number already selected: the keys themselves never change within a step. Each
    row's keys are partitioned in place as the rounds advance (numpy's introselect on the CPU, several times
    faster than ``torch.kthvalue`` here; one sort per step on other devices), and a round's selection is the
    difference of two cumulative masks ``key <= t``. The keys are ``|gradient|`` in the gradient's own dtype,
    blocked features set to :func:`_big`; order statistics are taken on their bit patterns read as same-width
    integers (non-negative floats order exactly as those integers, and integer selection is faster)."""

    numpy_on_cpu = True  # False: the other devices' path (one sort per step), e.g. to test it on the CPU

    def __init__(
        self, g: torch.Tensor, alpha: torch.Tensor, a_max: float, fixed_keys: torch.Tensor | None, k: int,
        at_edge: bool = True,
    ) -> None:  # fmt: skip
        """``fixed_keys``: the blocking key where a feature is fixed, else 0 (``None``: no fixed feature);
        ``at_edge``: whether some feature may start the step at the window's upper edge (then it is blocked)."""
        big, self.big_bits = _big(g.dtype)
        if fixed_keys is None:
            self.key = g.abs().clamp_max_(big)
        else:  # min(max(|g|, fixed key), big) is max(min(|g|, big), fixed key): the fixed key is 0 or big
            self.key = torch.clamp(g.abs(), min=fixed_keys, max=_big_tensor(g.dtype, g.device))
        if at_edge and float(alpha.max()) >= a_max:  # features already at the window's upper edge
            self.key.masked_fill_(alpha >= a_max, big)
        self.itype, self.np_itype = _INT_OF[g.dtype]
        self.k, self.d, self.rows = k, g.shape[1], len(g)
        self.taken = np.zeros(self.rows, dtype=np.int64)  # per row, features selected so far (c)
        # t_{j-1} as key bits; -1 (all bits set: a NaN in every float dtype, so ``key <= t`` is false) before
        # a row's first round
        self.threshold = np.full(self.rows, -1, dtype=np.int64)
        self.cumulative: torch.Tensor | None = None  # True where key <= t_{j-1} (None: nothing selected yet)
        bits = self.key.view(self.itype)
        self.partitioned = g.device.type == "cpu" and self.numpy_on_cpu
        if self.partitioned:
            self.work = bits.numpy().copy()  # partitioned in place round by round
            self.done = np.zeros(self.rows, dtype=np.int64)  # work[row, :done] holds the row's smallest keys
        else:
            self.sorted = bits.sort(dim=1).values

    def _order_statistics(self, rows: np.ndarray, ranks: np.ndarray) -> np.ndarray:
        """The ``rank``-th smallest key bits (1-based, ``rank <= d``) of each row in ``rows``."""
        if not self.partitioned:
            dev = self.sorted.device
            idx = torch.as_tensor(ranks - 1, device=dev)[:, None]
            return self.sorted[torch.as_tensor(rows, device=dev)].gather(1, idx).flatten().cpu().numpy()
        if len(rows) == self.rows and not self.done.any() and (ranks == ranks[0]).all():
            self.work.partition(ranks[0] - 1, axis=1)  # every row at once: a step's first round
            self.done[:] = ranks[0]
            return self.work[:, ranks[0] - 1]
        out = np.empty(len(rows), dtype=np.int64)
        for i, (r, rank) in enumerate(zip(rows.tolist(), ranks.tolist(), strict=True)):
            done = int(self.done[r])
            rest = self.work[r, done:]  # work[r, :done] is at most what is asked for: only the rest moves
            rest.partition(rank - 1 - done)
            out[i] = rest[rank - 1 - done]
            self.done[r] = rank
        return out

    def next(self, active: np.ndarray) -> torch.Tensor:
        """This round's selection as a boolean mask, nothing in inactive rows."""
        rows = np.flatnonzero(active)
        if self.cumulative is not None:  # the features each row has selected so far
            self.taken = self.cumulative.view(torch.uint8).sum(1, dtype=torch.int64).cpu().numpy()
        ranks = self.taken[rows] + self.k
        inside = ranks <= self.d
        bits = np.full(len(rows), self.big_bits, dtype=np.int64)
        if inside.any():
            bits[inside] = self._order_statistics(rows[inside], ranks[inside])
        # at or beyond the blocking value: every remaining feature below it (the largest key below ``big``)
        self.threshold[rows] = np.minimum(bits, self.big_bits - 1)
        t = torch.from_numpy(self.threshold.astype(self.np_itype)).view(self.key.dtype)
        cumulative = torch.le(self.key, t.to(self.key.device)[:, None])
        s = cumulative if self.cumulative is None else cumulative.logical_xor(self.cumulative)  # previous ⊆ current
        self.cumulative = cumulative  # the counts selected (``taken``) are read from it if another round comes
        return s
