"""How well a GAD support regression fits (Rodrigues et al. 2024, sec. 4.2): the fit to its shifted targets, the
share of the requested shift it realises, and whether it keeps the order of the samples, pooled over the pair's two
classes and inside each class (GAD's premise), each with a bootstrap interval over the held-out rows. The supports
themselves are trained in :mod:`xai_lib.gad_glue`."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..batching import batched_logits
from ..gad import alpha_pair, pair_rows, shifted_targets

#: the fit of a support: ``1 - MSE(support, targets) / MSE(original, targets)`` (see :func:`support_fit`)
FIT = "fit (1 - MSE ratio)"
#: the share of the requested shift a support realises (see :func:`support_fit`)
SHIFT = "shift realised"
#: the lowest rank correlation of a support's outputs with the original's inside one class (see
#: :func:`within_class_rank`)
WITHIN = "within-class rank corr"
#: the pooled rank correlation the class split alone gives (see :func:`class_split_rank`)
SPLIT_ONLY = "rank corr, class split only"


def _gap_changes(original: torch.Tensor, support: torch.Tensor, own_is_a: torch.Tensor, alpha):
    """Per sample: the change of its gap (own class's output minus the other's) from ``original`` to ``support``,
    and the change asked for (``alpha_a`` for the samples of class a, ``alpha_b`` for those of class b)."""
    alpha_a, alpha_b = alpha_pair(alpha)
    sign = torch.where(own_is_a, 1.0, -1.0).double()
    gap = lambda out: sign * (out[:, 0] - out[:, 1]).double()  # noqa: E731
    return gap(support) - gap(original), torch.where(own_is_a, alpha_a, alpha_b).double()


def shift_realised(original: torch.Tensor, support: torch.Tensor, own_is_a: torch.Tensor, alpha) -> float:
    """The share of the requested shift realised: the mean change, from the original's outputs to the support's, of
    each sample's **gap** (its own class's output minus the other class's) over the mean change asked for (``alpha_a``
    for the samples of class a, ``alpha_b`` for those of class b). ``original`` and ``support``: ``(N, 2)`` outputs of
    the pair (column 0: class a); ``own_is_a``: ``(N,)`` bool. 1 when the support moved the gaps apart by exactly the
    requested amount on average, 0 when it did not move them, above 1 when it overshot. When no shift is asked for
    (alpha 0): 1 if no gap moved, else NaN."""
    changes, asked = _gap_changes(original, support, own_is_a, alpha)
    realised, requested = float(changes.sum()), float(asked.sum())
    if requested == 0:
        return 1.0 if realised == 0 else float("nan")
    return realised / requested


def _row_bootstrap(top, bottom, statistic, n_boot: int, seed: int, level: float, names: str) -> tuple[float, float]:
    """Percentile bootstrap interval (``level``) of a statistic of two row sums: the rows of ``top`` and ``bottom``
    (``(N,)`` each) are resampled with replacement, together (``n_boot`` resamples drawn at once from
    ``default_rng(seed)``), and ``statistic(sum of top, sum of bottom)`` maps the ``(n_boot,)`` resampled sums to the
    resamples' values (it may leave resamples out); NaNs when it leaves every one out. ``names`` names the two
    arguments in the error of a bad shape. The one resampling of :func:`ratio_interval` and
    :func:`support_fit_interval`."""
    t, b = np.asarray(top, dtype=float), np.asarray(bottom, dtype=float)
    if t.shape != b.shape or t.ndim != 1 or not len(t):
        raise ValueError(f"{names}: expected two (N,) arrays of one shape with N > 0, got {t.shape} and {b.shape}")
    if not 0 < level < 1:
        raise ValueError(f"level: expected a share in (0, 1), got {level!r}")
    idx = np.random.default_rng(seed).integers(0, len(t), size=(n_boot, len(t)))
    values = statistic(t[idx].sum(1), b[idx].sum(1))
    if not len(values):
        return float("nan"), float("nan")
    tail = (1 - level) / 2
    return float(np.quantile(values, tail)), float(np.quantile(values, 1 - tail))


def _ratios(top: np.ndarray, bottom: np.ndarray) -> np.ndarray:
    """``top / bottom`` of the resamples whose ``bottom`` is not 0 (the others are left out)."""
    return top[bottom != 0] / bottom[bottom != 0]


def _fits(errors: np.ndarray, untrained: np.ndarray) -> np.ndarray:
    """``1 - errors / untrained``, and 1 where ``untrained`` is 0 (nothing asked for)."""
    return np.where(untrained > 0, 1.0 - errors / np.where(untrained > 0, untrained, 1.0), 1.0)


def ratio_interval(num, den, n_boot: int = 1000, seed: int = 0, level: float = 0.95) -> tuple[float, float]:
    """Percentile bootstrap interval of ``sum(num) / sum(den)`` over rows resampled with replacement (``(N,)`` each;
    the :data:`SHIFT` of :func:`support_fit` is such a ratio: the gaps' changes over the changes asked for). Resamples
    whose ``den`` sums to 0 are left out; NaNs when every one does."""
    return _row_bootstrap(num, den, _ratios, n_boot, seed, level, "num, den")


def _row_correlations(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Spearman correlation of each row of ``x`` with the same row of ``y`` (``(..., n)``; ties get their average
    rank, as :func:`scipy.stats.spearmanr` gives them); NaN where a row is constant."""
    from scipy.stats import rankdata  # imported on use: scipy.stats takes about 0.6 s to import

    rx, ry = rankdata(x, axis=-1), rankdata(y, axis=-1)
    rx, ry = rx - rx.mean(-1, keepdims=True), ry - ry.mean(-1, keepdims=True)
    den = np.sqrt((rx**2).sum(-1) * (ry**2).sum(-1))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, (rx * ry).sum(-1) / np.where(den > 0, den, 1.0), np.nan)


def within_class_rank(
    original, support, own_is_a, n_boot: int = 0, seed: int = 0, level: float = 0.95
) -> tuple[float, float, float]:
    """The lowest, over the two classes and the pair's two outputs, of the Spearman rank correlation between the
    support's output and the original's **among the samples of one class**: does the support keep the order of the
    samples inside each class (GAD's premise: the shifted outputs "preserve relations between samples from the same
    class")? The pooled correlation over both classes (``rank corr a/b`` of :func:`support_fit`) mostly measures the
    class split: with well separated classes of equal size the split alone gives about 0.75
    (:func:`class_split_rank`). ``original``, ``support``: ``(N, 2)`` outputs of the pair; ``own_is_a``: ``(N,)`` bool.
    Returns ``(lowest, low, high)``: with ``n_boot > 0`` the percentile bootstrap interval (``level``) of the lowest
    correlation, each class's samples resampled with replacement within the class (``seed``), else NaNs. NaN
    throughout when a class has fewer than 3 samples or an output is constant within a class."""
    o, s = np.asarray(original, dtype=float), np.asarray(support, dtype=float)
    is_a = np.asarray(own_is_a, dtype=bool)
    groups = [np.flatnonzero(is_a), np.flatnonzero(~is_a)]
    nan = (float("nan"),) * 3
    if o.shape != s.shape or o.ndim != 2 or o.shape[1] != 2 or len(is_a) != len(o):
        raise ValueError(f"original, support: expected two (N, 2) arrays and (N,) classes, got {o.shape}, {s.shape}, "
                         f"{is_a.shape}")  # fmt: skip
    if min(len(g) for g in groups) < 3:
        return nan
    point = min(float(_row_correlations(o[g, j], s[g, j])) for g in groups for j in (0, 1))
    if not np.isfinite(point):
        return nan
    if n_boot <= 0:
        return point, float("nan"), float("nan")
    rng = np.random.default_rng(seed)
    lowest = np.full(n_boot, np.inf)
    for g in groups:
        idx = g[rng.integers(0, len(g), size=(n_boot, len(g)))]
        for j in (0, 1):
            lowest = np.minimum(lowest, _row_correlations(o[idx, j], s[idx, j]))  # NaN (constant resample) stays NaN
    tail = (1 - level) / 2
    return point, float(np.nanquantile(lowest, tail)), float(np.nanquantile(lowest, 1 - tail))


def class_split_rank(original, own_is_a, n_perm: int = 20, seed: int = 0) -> float:
    """The pooled rank correlation (over both classes, as ``rank corr a/b`` of :func:`support_fit`) that the class split
    alone gives: the mean, over the pair's two outputs and ``n_perm`` random orders, of the Spearman correlation of
    the original's output with itself shuffled within each class. A support that kept the classes apart but put the
    samples of each class in a random order would score about this; with two well separated classes of ``n`` samples
    each it is ``3 n^2 / (4 n^2 - 1)``, about 0.75. NaN with fewer than 2 samples of either class."""
    o = np.asarray(original, dtype=float)
    is_a = np.asarray(own_is_a, dtype=bool)
    groups = [np.flatnonzero(is_a), np.flatnonzero(~is_a)]
    if min(len(g) for g in groups) < 2:
        return float("nan")
    rng = np.random.default_rng(seed)
    values = []
    for _ in range(n_perm):
        order = np.arange(len(o))
        for g in groups:
            order[g] = rng.permutation(g)
        values.extend(_row_correlations(o[:, j], o[order, j]) for j in (0, 1))
    return float(np.nanmean(values)) if np.isfinite(values).any() else float("nan")


def support_fit(
    original: nn.Module, support: nn.Module, images: torch.Tensor, labels: torch.Tensor, class_a: int, class_b: int,
    alpha, n_boot: int = 0, seed: int = 0, level: float = 0.95,
) -> dict[str, float]:  # fmt: skip
    """How well a support fits (held-out rows of the pair; the pair's two outputs only).

    * ``MSE to targets``: the support's outputs against the shifted targets; ``MSE original to targets``: the same for
      the original network (the support before training: ``alpha^2 / 2`` for a shift of one of the two outputs per
      row);
    * :data:`FIT` = ``1 - MSE to targets / MSE original to targets`` (1 for alpha 0): how much closer to its targets
      the support is than the untrained copy. It is **not** the share of the shift realised: a support that realises
      a share ``s`` of every sample's shift and leaves the unshifted outputs as they were has ``1 - (1 - s)^2`` (0.9
      for ``s`` = 0.68); moving those outputs or scatter around the targets lowers it further;
    * :data:`SHIFT` (:func:`shift_realised`): the share of the requested shift realised, the mean change of each
      sample's gap between its own class's output and the other's over the change asked for;
    * ``MSE to original outputs``: how far the support's outputs moved from the original's;
    * ``rank corr a/b``: the Spearman rank correlation of each class's output with the original's over the samples
      of **both** classes pooled; with separated classes the split alone gives a high value (:data:`SPLIT_ONLY`);
    * :data:`WITHIN`: the lowest Spearman correlation over the two classes and the two outputs, each among the
      samples of one class (:func:`within_class_rank`): is the order inside each class kept?
    * :data:`SPLIT_ONLY`: the pooled correlation that the class split alone would give (:func:`class_split_rank`);
    * with ``n_boot > 0``: ``fit CI low`` and ``fit CI high``, the percentile bootstrap interval (``level``) of the
      fit over the rows (the rows resampled with replacement, ``seed``; see :func:`support_fit_interval`);
      ``shift CI low`` and ``shift CI high``, the same for the shift realised (:func:`ratio_interval`);
      ``within-class CI low`` and ``within-class CI high``, that of :data:`WITHIN` (each class resampled within
      itself)."""
    from scipy.stats import spearmanr

    rows = pair_rows(labels, class_a, class_b)
    x, y = images[rows], labels[rows]
    pair = [class_a, class_b]
    orig = batched_logits(original, x)
    sup = batched_logits(support, x)
    target = shifted_targets(orig, y, class_a, class_b, alpha)[:, pair]
    orig, sup = orig[:, pair], sup[:, pair]
    untrained = float(F.mse_loss(orig, target))
    mse = float(F.mse_loss(sup, target))
    out = {
        "MSE to targets": mse,
        "MSE original to targets": untrained,
        FIT: 1.0 - mse / untrained if untrained > 0 else 1.0,
        SHIFT: shift_realised(orig, sup, (y == class_a).cpu(), alpha),
        "MSE to original outputs": float(F.mse_loss(sup, orig)),
        "rank corr a": float(spearmanr(orig[:, 0], sup[:, 0]).statistic),
        "rank corr b": float(spearmanr(orig[:, 1], sup[:, 1]).statistic),
    }
    own_is_a = (y == class_a).cpu()
    within = within_class_rank(orig.cpu().numpy(), sup.cpu().numpy(), own_is_a.numpy(), n_boot, seed, level)
    out[WITHIN] = within[0]
    out[SPLIT_ONLY] = class_split_rank(orig.cpu().numpy(), own_is_a.numpy(), seed=seed)
    if n_boot > 0:
        per_row = lambda out_: ((out_ - target).double() ** 2).mean(1).cpu().numpy()  # noqa: E731
        out["fit CI low"], out["fit CI high"] = support_fit_interval(per_row(sup), per_row(orig), n_boot, seed, level)
        changes, asked = (v.cpu().numpy() for v in _gap_changes(orig.cpu(), sup.cpu(), own_is_a, alpha))
        if not asked.any():  # nothing asked for: every resample has the point value (1, or NaN if a gap moved)
            out["shift CI low"] = out["shift CI high"] = out[SHIFT]
        else:
            out["shift CI low"], out["shift CI high"] = ratio_interval(changes, asked, n_boot, seed, level)
        out["within-class CI low"], out["within-class CI high"] = within[1], within[2]
    return out


def support_fit_interval(
    errors: np.ndarray, errors_untrained: np.ndarray, n_boot: int = 1000, seed: int = 0, level: float = 0.95
) -> tuple[float, float]:
    """Percentile bootstrap interval of the fit ``1 - sum(errors) / sum(errors_untrained)`` (the :data:`FIT` of
    :func:`support_fit`) over rows resampled with replacement: ``errors`` are the support's per-row squared errors to
    the shifted targets, ``errors_untrained`` the original's (``(N,)`` each). A resample whose untrained errors sum
    to 0 (nothing asked for) has a fit of 1, as :func:`support_fit` gives it."""
    return _row_bootstrap(errors, errors_untrained, _fits, n_boot, seed, level, "errors")
