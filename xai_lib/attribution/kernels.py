"""Pure kernels of path attribution: IDGI, Riemann sums, and their streaming (chunked) accumulators.

Notation (IDGI paper, sec. 3 and Algorithm 1): a path ``x_0`` (reference) .. ``x_N`` (input), ``f_j = f_c(x_j)``
and ``g_j = grad f_c(x_j)``. Integrated Gradients multiplies each gradient by the path step; IDGI keeps only
the gradient's own direction and the step's actual change in output::

    IDGI = sum_{j=0}^{N-1}  g_j * g_j * (f_{j+1} - f_j) / sum_over_features(g_j * g_j)

which telescopes: ``sum(IDGI) = f(x_N) - f(x_0)`` exactly, for any path and any ``N``.
"""

from __future__ import annotations

import torch


def check_finite(name: str, t: torch.Tensor) -> None:
    if not torch.is_tensor(t):
        raise ValueError(f"{name}: expected a torch.Tensor, got {type(t).__name__}")
    if not torch.isfinite(t).all():
        raise ValueError(f"{name}: contains NaN or infinite values")


def idgi(gradients: torch.Tensor, predictions: torch.Tensor) -> torch.Tensor:
    """IDGI attribution of one input from its path gradients and predictions.

    ``gradients``: ``(N, *F)``, the gradients at path points ``0..N-1``; ``predictions``: ``(N+1,)``, the
    target output at points ``0..N`` (the input's own gradient is not needed). Returns ``(*F)``.
    A step whose gradient is zero everywhere has no direction: it is skipped (its output change is lost
    to completeness; :class:`IDGIAccumulator` reports it).
    """
    check_finite("gradients", gradients)
    check_finite("predictions", predictions)
    if gradients.dim() < 2:
        raise ValueError(f"gradients: expected shape (N, *F) with N >= 1, got {tuple(gradients.shape)}")
    n = gradients.shape[0]
    if predictions.shape != (n + 1,):
        raise ValueError(f"predictions: expected shape ({n + 1},) for {n} gradients, got {tuple(predictions.shape)}")
    acc = IDGIAccumulator(gradients.shape[1:])
    acc.update(predictions[:-1], gradients)
    acc.finish(predictions[-1])
    return acc.total


def step_decomposition(
    x_j: torch.Tensor, x_next: torch.Tensor, g_j: torch.Tensor, f_j: float, f_next: float
) -> dict[str, torch.Tensor]:
    """One Riemann step split as in the IDGI paper (sec. 3.1, Fig. 2).

    ``ig``: IG's contribution ``g * (x_next - x_j)``; ``idgi``: IDGI's ``g * g * (f_next - f_j) / |g|^2``;
    ``projection``: the point ``x_j + g (f_next - f_j) / |g|^2`` reached along the important (gradient)
    direction, on the level set of ``x_next`` to first order; ``noise``: ``x_next - projection``, the part
    of the step that IG integrates but that explains no change of ``f``.
    """
    g2 = float((g_j * g_j).sum())
    if g2 == 0:
        raise ValueError("g_j: a zero gradient has no important direction")
    scale = (f_next - f_j) / g2
    projection = x_j + g_j * scale
    return {
        "ig": g_j * (x_next - x_j),
        "idgi": g_j * g_j * scale,
        "projection": projection,
        "noise": x_next - projection,
    }


class IDGIAccumulator:
    """IDGI over a path delivered in chunks of consecutive points (bounded memory).

    Call :meth:`update` with ``f`` of shape ``(C, *B)`` and ``g`` of shape ``(C, *B, *F)`` for points
    ``j..j+C-1`` in path order, then :meth:`finish` with the output at the last point ``x_N``. ``*B`` are
    batch dimensions (none, or one per image in a batch), read from ``f``. The result is :attr:`total`,
    ``(*B, *F)``; :attr:`lost` holds, per batch element, the output change of skipped zero-gradient steps
    and :attr:`skipped` their number.
    """

    def __init__(self, feature_shape: torch.Size | tuple[int, ...]) -> None:
        self.feature_shape = tuple(feature_shape)
        self.total: torch.Tensor | None = None
        self.lost: torch.Tensor | None = None
        self.skipped: torch.Tensor | None = None
        self._prev_w: torch.Tensor | None = None
        self._prev_f: torch.Tensor | None = None

    def _weights(self, g: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``g^2 / sum(g^2)`` per point and batch element (in a new tensor; ``g`` is left intact), and the
        mask of usable (non-zero) gradients."""
        nf = len(self.feature_shape)
        w = g.square()
        norm = w.flatten(-nf).sum(-1) if nf else w.clone()
        ok = norm > 0
        w.div_(torch.where(ok, norm, torch.ones_like(norm)).reshape(*norm.shape, *([1] * nf)))
        return w, ok

    def update(self, f: torch.Tensor, g: torch.Tensor) -> None:
        if self.total is None:
            batch_shape = f.shape[1:]
            self.total = torch.zeros(*batch_shape, *self.feature_shape, dtype=g.dtype, device=g.device)
            self.lost = torch.zeros(batch_shape, dtype=f.dtype, device=f.device)
            self.skipped = torch.zeros(batch_shape, dtype=torch.long, device=f.device)
        w, ok = self._weights(g)
        if self._prev_w is not None:  # close the interval left open by the previous chunk
            self._add(self._prev_w[None], self._prev_ok[None], f[:1] - self._prev_f[None])
        self._add(w[:-1], ok[:-1], f[1:] - f[:-1])
        self._prev_w, self._prev_ok, self._prev_f = w[-1], ok[-1], f[-1]

    def _add(self, w: torch.Tensor, ok: torch.Tensor, df: torch.Tensor) -> None:
        """``total += sum_j w_j * df_j`` over usable steps (a contraction: no ``w``-sized temporary)."""
        if w.shape[0] == 0:
            return
        use = df * ok
        c, rest = w.shape[0], w[0].numel()
        batch = use[0].numel()
        contrib = torch.einsum("cbf,cb->bf", w.reshape(c, batch, rest // batch), use.reshape(c, batch))
        self.total += contrib.reshape(self.total.shape)
        self.lost += (df * ~ok).sum(0)
        self.skipped += (~ok).sum(0)

    def finish(self, f_last: torch.Tensor) -> None:
        """Close the last interval with the output at the path's end (the input)."""
        if self._prev_w is None:
            raise ValueError("IDGIAccumulator.finish: no path point was given")
        self._add(self._prev_w[None], self._prev_ok[None], (f_last - self._prev_f)[None])
        self._prev_w = None
