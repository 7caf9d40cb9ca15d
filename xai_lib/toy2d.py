"""The GAX paper's 2D rotation toy (section 2, Fig. 1 and 6, appendix A.1), in closed form and by autograd.

Output space: ``y = a1 e1 + a2 e2`` with ``a2 = 1 - a1``; sample space ``x = W y`` with ``W`` the rotation by
``theta``. The perfect classifier is ``f(x) = sigma(W^-1 x)``; the true class is ``argmax(a1, a2)`` (class 1
when ``a1 > a2``). GAX's heatmap is ``h = w * x`` with ``w`` initialised to ones and tuned by gradient ascent
on ``Delta = A - B`` where ``(A, B) = W^-1 (w * x)`` (eq. 3). ``Delta`` is linear in ``w``, so ``k`` steps of
rate ``eta`` give the closed form of eq. (4)::

    h = (w + k eta g) * x,   g = ((W^-1_11 - W^-1_21) x1,  -(W^-1_22 - W^-1_12) x2)

Implementation choice (the reference plot applies eta twice, an effective factor eta^2): we follow eq. (4)
as printed, with a single product ``k_eta = k * eta`` (the paper's figures use ``k_eta = 1.2``).
"""

from __future__ import annotations

import numpy as np
import torch
from numpy.typing import ArrayLike


def _theta(theta: ArrayLike) -> np.ndarray:
    t = np.asarray(theta, dtype=float)
    if not np.all(np.isfinite(t)):
        raise ValueError("theta: expected finite angles (radians)")
    return t


def _a1(a1: float) -> float:
    if not np.isscalar(a1) or not np.isfinite(a1) or not 0.0 <= float(a1) <= 1.0:
        raise ValueError(f"a1: expected a number in [0, 1] (a2 = 1 - a1), got {a1!r}")
    return float(a1)


def rotation(theta: ArrayLike) -> np.ndarray:
    """``W(theta) = [[cos, -sin], [sin, cos]]``, shape ``theta.shape + (2, 2)``."""
    t = _theta(theta)
    c, s = np.cos(t), np.sin(t)
    return np.stack([np.stack([c, -s], -1), np.stack([s, c], -1)], -2)


def sample(theta: ArrayLike, a1: float) -> np.ndarray:
    """``x = W(theta) [a1, 1 - a1]``, shape ``theta.shape + (2,)``."""
    a1 = _a1(a1)
    return rotation(theta) @ np.array([a1, 1.0 - a1])


def ascent_direction(theta: ArrayLike, a1: float) -> np.ndarray:
    """``g = d Delta / d w`` (constant in ``w``): the bracket of eq. (4), shape ``theta.shape + (2,)``."""
    w_inv = np.swapaxes(rotation(theta), -1, -2)  # a rotation's inverse is its transpose
    x = sample(theta, a1)
    g1 = (w_inv[..., 0, 0] - w_inv[..., 1, 0]) * x[..., 0]
    g2 = -(w_inv[..., 1, 1] - w_inv[..., 0, 1]) * x[..., 1]
    return np.stack([g1, g2], -1)


def heatmap(theta: ArrayLike, a1: float, k_eta: float, w0: float = 1.0) -> np.ndarray:
    """Closed-form GAX heatmap of eq. (4) after ``k`` ascent steps of rate ``eta`` (``k_eta = k * eta``).

    Returns ``h = (w0 + k_eta * g) * x`` with shape ``theta.shape + (2,)``.
    """
    if not np.isscalar(k_eta) or not np.isfinite(k_eta):
        raise ValueError(f"k_eta: expected a finite number, got {k_eta!r}")
    return (w0 + k_eta * ascent_direction(theta, a1)) * sample(theta, a1)


def sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))


def classifier(x: np.ndarray, theta: ArrayLike) -> np.ndarray:
    """The perfect classifier ``f(x) = sigmoid(W^-1 x)`` for ``x`` of shape ``theta.shape + (2,)``."""
    w_inv = np.swapaxes(rotation(theta), -1, -2)
    return sigmoid(np.einsum("...ij,...j->...i", w_inv, x))


def co_closed_form(theta: ArrayLike, a1: float, h: np.ndarray) -> np.ndarray:
    """The toy's CO score in closed form, vectorised over angles (eq. (1); :mod:`xai_lib.metrics.co` with C = 2):
    ``kappa . [f(x + h) - f(x)]`` with ``kappa = (1, -1)`` for class 1 (``a1 > a2``), else ``(-1, 1)``."""
    a1 = _a1(a1)
    x = sample(theta, a1)
    kappa = np.array([1.0, -1.0]) if a1 >= 0.5 else np.array([-1.0, 1.0])
    return (classifier(x + h, theta) - classifier(x, theta)) @ kappa


class RotationClassifier(torch.nn.Module):
    """The 2D model ``f(x) = sigmoid(Theta x)`` with ``Theta = W(theta)^-1``, one ``theta`` per batch row."""

    def __init__(self, theta: ArrayLike) -> None:
        super().__init__()
        w_inv = np.swapaxes(rotation(_theta(theta).reshape(-1)), -1, -2)
        self.register_buffer("theta_matrix", torch.as_tensor(w_inv, dtype=torch.float64))

    def pre_activation(self, x: torch.Tensor) -> torch.Tensor:
        return torch.einsum("bij,bj->bi", self.theta_matrix, x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.pre_activation(x))


def heatmap_autograd(theta: ArrayLike, a1: float, k: int, eta: float) -> np.ndarray:
    """The same heatmap by ``k`` steps of autograd gradient ascent on ``Delta = A - B`` (float64).

    ``w`` starts at ones; each step is ``w <- w + eta * grad_w Delta`` where ``(A, B)`` is the
    model's pre-activation of ``w * x``. Equals :func:`heatmap` with ``k_eta = k * eta``.
    """
    if not isinstance(k, int) or k < 0:
        raise ValueError(f"k: expected a non-negative int, got {k!r}")
    t = _theta(theta).reshape(-1)
    model = RotationClassifier(t)
    x = torch.as_tensor(sample(t, a1), dtype=torch.float64)
    w = torch.ones_like(x, requires_grad=True)
    for _ in range(k):
        ab = model.pre_activation(w * x)
        delta = (ab[:, 0] - ab[:, 1]).sum()  # rows are independent: the sum's gradient is per row
        (grad,) = torch.autograd.grad(delta, w)
        with torch.no_grad():
            w += eta * grad
    h = (w * x).detach().numpy()
    return h.reshape(np.shape(theta) + (2,))


def homogeneous_angles(lo: float = -np.pi, hi: float = np.pi) -> np.ndarray:
    """The angles ``k * pi / 4`` in ``[lo, hi]`` drawn as dashed lines in Fig. 1 (odd k: homogeneous)."""
    k = np.arange(np.ceil(lo / (np.pi / 4)), np.floor(hi / (np.pi / 4)) + 1)
    return k * np.pi / 4
