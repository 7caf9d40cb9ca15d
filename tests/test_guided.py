"""Guided IG's kernel (:mod:`xai_lib.attribution.guided`): its restructured inner loop gives, bit for bit, what
the direct formulation of PAIR's algorithm gives (one ``kthvalue`` per round on keys updated in place), on
gradients with ties, zeros, fixed features and blocked features; on both order-statistic paths."""

import numpy as np
import pytest
import torch

from xai_lib.attribution import guided
from xai_lib.attribution.guided import guided_ig


def direct_guided_ig(grad_fn, inputs, baselines, n_steps, fraction, max_dist):
    """PAIR's Guided IG in alpha space, written directly: per round, the ``k``-th smallest ``|gradient|`` of the
    features still selectable (``torch.kthvalue``), a boolean selection, and the selected features' keys set to
    the blocking value once they reach the window's edge."""
    shape, dtype = inputs.shape, inputs.dtype
    b = shape[0]
    x, base = inputs.reshape(b, -1).double(), baselines.reshape(b, -1).double()
    diff = x - base
    absdiff, fixed = diff.abs(), diff == 0
    total = absdiff.sum(1)
    alpha, acc = torch.zeros_like(x), torch.zeros_like(x)
    k = int(fraction * (x.shape[1] - 1)) + 1
    for step in range(n_steps):
        f, g = grad_fn((base + alpha * diff).to(dtype).reshape(shape))
        g = g.reshape(b, -1)
        big = min(1e30, torch.finfo(g.dtype).max)
        a = (step + 1.0) / n_steps
        a_min, a_max = max(a - max_dist, 0.0), min(a + max_dist, 1.0)
        start = alpha
        alpha = alpha.clamp_min(a_min)
        l1_target = total * (1.0 - a)
        key = g.abs().clamp_max(big).masked_fill(fixed | (alpha >= a_max), big)
        active = total > 0
        while True:
            l1_current = total - torch.linalg.vecdot(absdiff, alpha)
            active &= ~torch.isclose(l1_target, l1_current, rtol=1e-9, atol=1e-9)
            if not active.any():
                break
            threshold = key.kthvalue(k, dim=1).values[:, None]
            s = (key <= threshold) & (key < big) & active[:, None]
            room = (a_max - alpha) * s
            l1_s = torch.linalg.vecdot(absdiff, room)
            gamma = torch.where(l1_s > 0, (l1_current - l1_target) / torch.where(l1_s > 0, l1_s, 1.0), torch.inf)
            jump = gamma > 1.0
            alpha = torch.addcmul(alpha, gamma.clamp(max=1.0)[:, None], room).clamp(max=a_max)
            at_edge = s & jump[:, None]
            alpha = alpha.masked_fill(at_edge, a_max)
            key = key.masked_fill(at_edge, big)
            active &= jump
        acc += (alpha - start) * g.double()
    return (acc * diff).to(dtype).reshape(shape)


def quantised_quadratic(w: torch.Tensor, levels: float, zero_band: float):
    """``f(x) = sum(w x^2)``; its gradient rounded to ``1 / levels`` (many exactly equal values: ties at every
    order statistic) and set to 0 where ``w < zero_band`` (ties at zero, like a ReLU network's dead pixels)."""

    def grad_fn(z):
        g = torch.round(2 * w * z.double() * levels) / levels
        g = g.masked_fill(w < zero_band, 0.0)
        return (w * z.double() ** 2).flatten(1).sum(1).to(z.dtype), g.to(z.dtype)

    return grad_fn


@pytest.mark.parametrize("numpy_on_cpu", [True, False], ids=["numpy-partition", "sort-path"])
@pytest.mark.parametrize(
    "dtype, fraction, max_dist, levels",
    [
        (torch.float64, 0.25, 0.02, 8.0),
        (torch.float32, 0.25, 0.02, 4.0),
        (torch.float32, 0.1, 0.1, 1e6),  # few ties; wide window: many rounds per step
        (torch.float64, 0.5, 0.0, 8.0),  # no window: every feature blocked at its lower edge
        (torch.float32, 1.0, 0.05, 2.0),  # every selectable feature in the first round
    ],
)
def test_rounds_equal_the_direct_algorithm_bit_for_bit(monkeypatch, numpy_on_cpu, dtype, fraction, max_dist, levels):
    monkeypatch.setattr(guided._Selection, "numpy_on_cpu", numpy_on_cpu)
    gen = torch.Generator().manual_seed(11)
    w = torch.rand(3, 9, 9, generator=gen, dtype=torch.float64) + 0.2
    x = torch.rand(5, 3, 9, 9, generator=gen).to(dtype)
    base = torch.zeros_like(x)
    x[0, 0, :4] = 0.0  # fixed features (input equals baseline): never selected
    x[3] = 0.0  # an image equal to its baseline: no path at all
    grad_fn = quantised_quadratic(w, levels, zero_band=0.35)
    ours = guided_ig(grad_fn, x, base, 40, fraction, max_dist)
    direct = direct_guided_ig(grad_fn, x, base, 40, fraction, max_dist)
    assert torch.equal(ours, direct)
    assert torch.equal(ours[3], torch.zeros_like(ours[3]))
    assert ours.abs().sum() > 0


@pytest.mark.parametrize("numpy_on_cpu", [True, False], ids=["numpy-partition", "sort-path"])
def test_without_fixed_features_equal_the_direct_algorithm_bit_for_bit(monkeypatch, numpy_on_cpu):
    """No input equals its baseline anywhere (the usual photograph): the kernel skips the fixed-feature keys."""
    monkeypatch.setattr(guided._Selection, "numpy_on_cpu", numpy_on_cpu)
    gen = torch.Generator().manual_seed(12)
    w = torch.rand(3, 9, 9, generator=gen, dtype=torch.float64) + 0.2
    x = torch.rand(4, 3, 9, 9, generator=gen) + 0.01
    grad_fn = quantised_quadratic(w, 8.0, zero_band=0.35)
    base = torch.zeros_like(x)
    assert torch.equal(guided_ig(grad_fn, x, base, 50, 0.25, 0.03), direct_guided_ig(grad_fn, x, base, 50, 0.25, 0.03))


def test_round_selection_walks_through_the_order_statistics():
    """One step's rounds on hand-made keys: each round takes the next ``k`` smallest keys (all of a tie), never a
    blocked key, and, when fewer than ``k`` remain, all that remain."""
    g = torch.tensor([[0.5, 0.1, 0.1, 0.3, 0.2, 0.9, 0.0, 0.4]])
    fixed_keys = torch.zeros_like(g)
    fixed_keys[0, 5] = guided._big(g.dtype)[0]  # 0.9 is blocked
    alpha = torch.zeros(1, 8, dtype=torch.float64)
    for use_numpy in (True, False):
        guided._Selection.numpy_on_cpu = use_numpy
        try:
            sel = guided._Selection(g, alpha, 0.5, fixed_keys, k=2)
            rounds = [sel.next(np.array([True])).nonzero()[:, 1].tolist() for _ in range(4)]
        finally:
            guided._Selection.numpy_on_cpu = True
        # 0.0 and 0.1: rank 2 is 0.1, its tie comes along; then 0.2, 0.3; then 0.4, 0.5; then nothing is left
        assert rounds == [[1, 2, 6], [3, 4], [0, 7], []], (use_numpy, rounds)


def test_not_close_is_torch_isclose():
    gen = torch.Generator().manual_seed(3)
    current = torch.rand(100_000, generator=gen, dtype=torch.float64) * 10
    scale = torch.rand(100_000, generator=gen, dtype=torch.float64)
    target = current + (scale - 0.5) * 4e-9 * current  # both sides of the rtol boundary
    target[:100] = current[:100]
    expected = ~torch.isclose(target, current, rtol=guided.EPSILON, atol=guided.EPSILON)
    assert torch.equal(torch.from_numpy(guided._not_close(target.numpy(), current.numpy())), expected)
    assert 0 < int(expected.sum()) < len(expected)
