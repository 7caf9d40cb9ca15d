"""Pure kernels of path attribution: IDGI, Riemann sums, and their streaming (chunked) accumulators.

Notation (IDGI paper, sec. 3 and Algorithm 1): a path ``x_0`` (reference) .. ``x_N`` (input), ``f_j = f_c(x_j)``
and ``g_j = grad f_c(x_j)``. Integrated Gradients multiplies each gradient by the path step; IDGI keeps only
the gradient's own direction and the step's actual change in output::

    IDGI = sum_{j=0}^{N-1}  g_j * g_j * (f_{j+1} - f_j) / sum_over_features(g_j * g_j)

which telescopes: ``sum(IDGI) = f(x_N) - f(x_0)`` exactly, for any path and any ``N``.
"""

from __future__ import annotations

import math

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
    ``(*B, *F)``; :attr:`lost` holds, per batch element, the output change of skipped steps and :attr:`skipped`
    their number; :meth:`steps` gives every step's squared gradient norm and output change (its conditioning).

    **Which steps are skipped.** A step whose gradient is zero everywhere has no direction and is always skipped.
    ``min_norm = tau > 0`` also skips the steps whose squared gradient norm is below ``tau`` times the largest on
    the path, compared at power-of-two resolution: step ``j`` is skipped when
    ``floor(log2 |g_j|^2) < floor(log2 max_k |g_k|^2) + floor(log2 tau)``. The reason: a step's weights
    ``g_j^2 / |g_j|^2`` are the gradient's direction, and a gradient computed in floating point carries a rounding
    error of the size of the larger gradients it was computed beside (e.g. the ``1 - p`` of a saturated softmax),
    so where ``|g_j|`` is tiny its direction is rounding noise; its output change is then reported as lost
    instead of spread along that noise. The guard streams: contributions are kept in one bin per power of two of
    the squared norm, within ``-floor(log2 tau) + 1`` binades of the largest norm seen so far, and the bins that
    fall below the threshold as larger norms arrive are moved to :attr:`lost`.
    """

    def __init__(self, feature_shape: torch.Size | tuple[int, ...], min_norm: float = 0.0) -> None:
        if not (isinstance(min_norm, int | float) and 0 <= min_norm < 1):
            raise ValueError(f"min_norm: expected a relative threshold in [0, 1), got {min_norm!r}")
        self.feature_shape = tuple(feature_shape)
        self.min_norm = float(min_norm)
        # the guard's window: binades k with k >= top + offset are kept (offset = floor(log2 tau) <= -1)
        self._offset = math.floor(math.log2(min_norm)) if min_norm > 0 else None
        self.total: torch.Tensor | None = None
        self.lost: torch.Tensor | None = None
        self.skipped: torch.Tensor | None = None
        self._prev: tuple[torch.Tensor, torch.Tensor, torch.Tensor] | None = None
        self._prev_f: torch.Tensor | None = None
        self._norms: list[torch.Tensor] = []
        self._changes: list[torch.Tensor] = []

    def _weights(self, g: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """``g^2 / sum(g^2)`` per point and batch element (in a new tensor; ``g`` is left intact), the squared
        norms, and the mask of usable (non-zero) gradients."""
        nf = len(self.feature_shape)
        w = g.square()
        norm = w.flatten(-nf).sum(-1) if nf else w.clone()
        ok = norm > 0
        w.div_(torch.where(ok, norm, torch.ones_like(norm)).reshape(*norm.shape, *([1] * nf)))
        return w, norm, ok

    def update(self, f: torch.Tensor, g: torch.Tensor) -> None:
        if self.total is None:
            batch_shape = f.shape[1:]
            self.total = torch.zeros(*batch_shape, *self.feature_shape, dtype=g.dtype, device=g.device)
            self.lost = torch.zeros(batch_shape, dtype=f.dtype, device=f.device)
            self.skipped = torch.zeros(batch_shape, dtype=torch.long, device=f.device)
            if self._offset is not None:
                n_bins = 1 - self._offset
                self._bins = torch.zeros(n_bins, *batch_shape, *self.feature_shape, dtype=g.dtype, device=g.device)
                self._bin_df = torch.zeros(n_bins, *batch_shape, dtype=f.dtype, device=f.device)
                self._bin_count = torch.zeros(n_bins, *batch_shape, dtype=torch.long, device=f.device)
                self._top = torch.full(batch_shape, -(2**62), dtype=torch.long, device=f.device)
        w, norm, ok = self._weights(g)
        if self._prev is not None:  # close the interval left open by the previous chunk
            pw, pn, pok = self._prev
            self._add(pw[None], pn[None], pok[None], f[:1] - self._prev_f[None])
        self._add(w[:-1], norm[:-1], ok[:-1], f[1:] - f[:-1])
        self._prev, self._prev_f = (w[-1], norm[-1], ok[-1]), f[-1]

    def _add(self, w: torch.Tensor, norm: torch.Tensor, ok: torch.Tensor, df: torch.Tensor) -> None:
        """``total += sum_j w_j * df_j`` over usable steps (a contraction: no ``w``-sized temporary)."""
        if w.shape[0] == 0:
            return
        self._norms.append(norm.detach().to(torch.float64))
        self._changes.append(df.detach().to(torch.float64))
        self.lost += (df * ~ok).sum(0)
        self.skipped += (~ok).sum(0)
        if self._offset is not None:
            self._add_guarded(w, norm, ok, df)
            return
        use = df * ok
        c, rest = w.shape[0], w[0].numel()
        batch = use[0].numel()
        contrib = torch.einsum("cbf,cb->bf", w.reshape(c, batch, rest // batch), use.reshape(c, batch))
        self.total += contrib.reshape(self.total.shape)

    def _add_guarded(self, w: torch.Tensor, norm: torch.Tensor, ok: torch.Tensor, df: torch.Tensor) -> None:
        """Bin each usable step by the binade of its squared norm, relative to the largest binade seen so far."""
        binade = torch.where(ok, torch.frexp(norm.to(torch.float64)).exponent.long() - 1, torch.full_like(df, 0).long())
        top = torch.maximum(self._top, torch.where(ok, binade, self._top).amax(0))
        self._shift(top - self._top)
        self._top = top
        n_bins = self._bins.shape[0]
        index = top[None] - binade  # 0: the top binade; n_bins - 1: the lowest kept
        keep = ok & (index < n_bins)
        drop = ok & ~keep  # usable, but certainly below the threshold (the top only grows)
        self.lost += (df * drop).sum(0)
        self.skipped += drop.sum(0)
        nf = len(self.feature_shape)
        for c in range(w.shape[0]):
            idx = index[c].clamp(0, n_bins - 1)
            use = (df[c] * keep[c]).to(w.dtype)
            contrib = w[c] * use.reshape(*use.shape, *([1] * nf))
            self._bins.scatter_add_(0, idx.reshape(1, *idx.shape, *([1] * nf)).expand(1, *contrib.shape), contrib[None])
            self._bin_df.scatter_add_(0, idx[None], (df[c] * keep[c])[None])
            self._bin_count.scatter_add_(0, idx[None], keep[c].long()[None])

    def _shift(self, by: torch.Tensor) -> None:
        """Move each batch element's bins down by ``by`` binades (its top grew); what leaves the window is lost.
        Only the elements whose top grew are touched (the bins of one element at a time)."""
        grew = torch.nonzero(by.reshape(-1) > 0).flatten().tolist()
        if not grew:
            return
        n_bins = self._bins.shape[0]
        bins = self._bins.reshape(n_bins, -1, *self.feature_shape)
        bin_df, bin_count = self._bin_df.reshape(n_bins, -1), self._bin_count.reshape(n_bins, -1)
        lost, skipped, first = self.lost.reshape(-1), self.skipped.reshape(-1), self._top.reshape(-1) > -(2**62)
        for b in grew:
            shift = min(int(by.reshape(-1)[b]), n_bins)
            if first[b]:  # the lowest ``shift`` bins fall out of the window: their steps are skipped
                lost[b] += bin_df[n_bins - shift :, b].sum()
                skipped[b] += bin_count[n_bins - shift :, b].sum()
            for t in (bins, bin_df, bin_count):
                column = t[:, b]
                column[shift:] = column[: n_bins - shift].clone()
                column[:shift] = 0

    def steps(self) -> tuple[torch.Tensor, torch.Tensor]:
        """Per batch element and step in path order: the squared gradient norm ``|g_j|^2`` and the output change
        ``f_{j+1} - f_j`` (float64, ``(*B, N)`` each; complete after :meth:`finish`)."""
        norms, changes = torch.cat(self._norms), torch.cat(self._changes)
        return norms.movedim(0, -1), changes.movedim(0, -1)

    def report(self) -> dict[str, torch.Tensor]:
        """What a method reports per input: skipped steps, the output change they carried, every step's squared
        gradient norm and output change."""
        norms, changes = self.steps()
        return {"skipped_steps": self.skipped, "lost": self.lost, "step_norms": norms, "output_changes": changes}

    def finish(self, f_last: torch.Tensor) -> None:
        """Close the last interval with the output at the path's end (the input)."""
        if self._prev is None:
            raise ValueError("IDGIAccumulator.finish: no path point was given")
        pw, pn, pok = self._prev
        self._add(pw[None], pn[None], pok[None], (f_last - self._prev_f)[None])
        self._prev = None
        if self._offset is not None:
            self.total += self._bins.sum(0)
