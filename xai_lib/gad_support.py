"""GAD model glue: support regressions (sec. 4.2) and GAD maps of captum methods (sec. 4.3).

A **support regression** is a copy of the classifier, starting from its weights, whose pre-softmax outputs
are regressed (MSE) onto :func:`xai_lib.gad.shifted_targets` of the original outputs: Adam, lr 4e-5,
10 epochs (the paper's settings). Our classifiers already end in raw logits (no softmax layer), so "softmax
replaced by identity" changes nothing in the network.

Choices (the paper is silent): the supports train on the training images of the two classes only, with
BatchNorm in **eval mode** (running statistics frozen), so a support is the original network with moved
weights and an ``alpha = 0`` support reproduces the original exactly (its loss and gradients start at zero);
each support is attributed for the same output ``a`` as the original map; supports are cached by the
original's weights and the training configuration. The regression loss and the fit measures use the pair's
two outputs only: the paper's classifiers are binary, and on a model with more outputs (an ImageNet model's
1,000) the others play no part in the maps, while regressing them too would let their drift on held-out
images swamp the fit of the two that matter.
"""

from __future__ import annotations

import copy
import hashlib
import io
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from . import settings
from .batching import batched_logits
from .cache import cache_dir, config_key, load_checked, save_checked
from .captum_glue import attributions
from .gad import alpha_pair, gad_mask, shifted_targets
from .metrics.hull import hull_mask
from .models import shipped
from .models.loading import weights_digest
from .runtime import progress as progress_bar

#: the five gradient methods of the GAD paper (captum names)
GAD_METHODS = ("Saliency", "Deconvolution", "InputXGradient", "GuidedBackprop", "IntegratedGradients")


@dataclass(frozen=True)
class SupportConfig:
    """How a support regression is trained: the paper's Adam, lr 4e-5, 10 epochs; batches of ``batch_size``
    shuffled by ``seed``; in ``precision``: ``"model"`` (the model's own dtype, the default) or ``"float64"`` (see
    :func:`train_support`)."""

    epochs: int = 10
    lr: float = 4e-5
    batch_size: int = 32
    seed: int = 0
    precision: str = "model"

    def __post_init__(self) -> None:
        if self.precision not in ("float64", "model"):
            raise ValueError(f"precision: expected 'float64' or 'model', got {self.precision!r}")
        if not isinstance(self.epochs, int) or self.epochs < 0:
            raise ValueError(f"epochs: expected an int >= 0, got {self.epochs!r}")
        if not self.lr > 0:
            raise ValueError(f"lr: expected > 0, got {self.lr!r}")
        if not isinstance(self.batch_size, int) or self.batch_size < 1:
            raise ValueError(f"batch_size: expected an int >= 1, got {self.batch_size!r}")


def _pair_rows(labels: torch.Tensor, class_a: int, class_b: int) -> torch.Tensor:
    rows = torch.nonzero((labels == class_a) | (labels == class_b)).flatten()
    if len(rows) == 0:
        raise ValueError(f"labels: no sample of class {class_a} or {class_b}")
    return rows


def train_support(
    model: nn.Module,
    images: torch.Tensor,
    labels: torch.Tensor,
    class_a: int,
    class_b: int,
    alpha,
    config: SupportConfig = SupportConfig(),
    progress: bool = False,
) -> nn.Module:
    """A support regression for one ``alpha`` (sec. 4.2), trained on the rows of ``class_a`` and ``class_b``.

    ``alpha = 0`` (or ``(0, 0)``) asks for no shift: its targets are the original's own outputs, so the support is
    the original itself, returned as a frozen copy without training. (Trained, it would not stay put on every CPU:
    the targets and the support's outputs come from calls of different batch sizes, whose last bits can differ; Adam
    divides each step by the gradient's own magnitude, so a rounding-level gradient becomes a learning-rate-sized
    step.)

    **Precision.** Training amplifies the last-bit differences between one CPU's kernels and another's: trained in
    float32, the same support differed between two kernel sets by 1e-5 of its weights (Adam divides each step by the
    gradient's own size, so the rounding noise of a near-zero gradient becomes a visible step), which moved the GAD
    tables' RS means by up to 6%. With ``config.precision="float64"`` the targets and the training are computed in
    float64 and the support is rounded to the model's dtype at the end: the same weights, bit for bit, under both
    kernel sets (tested). It costs about six times the float32 training on these models on a CPU (58 s against about
    10 s per support of the book's VGG), so the default is the model's own precision and the book ships the supports
    of its own runs instead (:mod:`xai_lib.models.shipped`).
    """
    rows = _pair_rows(labels, class_a, class_b)
    if all(a == 0 for a in alpha_pair(alpha)):
        support = copy.deepcopy(model).eval()
        for p in support.parameters():
            p.requires_grad_(False)
        return support
    dtype = next(model.parameters()).dtype
    work = torch.float64 if config.precision == "float64" else dtype
    device = next(model.parameters()).device
    x, y = images[rows].to(device, work), labels[rows].to(device)
    pair = [class_a, class_b]
    support = copy.deepcopy(model).eval().to(work)  # BatchNorm statistics stay frozen (see the module notes)
    with torch.no_grad():
        original = torch.cat([support(x[i : i + 256]) for i in range(0, len(x), 256)])
    targets = shifted_targets(original, y, class_a, class_b, alpha)[:, pair]
    for p in support.parameters():
        p.requires_grad_(True)
    opt = torch.optim.Adam(support.parameters(), lr=config.lr)
    gen = torch.Generator().manual_seed(config.seed)
    epochs = range(config.epochs)
    for _ in progress_bar(epochs, desc=f"support alpha={alpha}") if progress else epochs:
        order = torch.randperm(len(x), generator=gen)
        for i in range(0, len(x), config.batch_size):
            idx = order[i : i + config.batch_size]
            loss = F.mse_loss(support(x[idx])[:, pair], targets[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
    for p in support.parameters():
        p.requires_grad_(False)
    return support.to(dtype).eval()


#: the fit of a support: ``1 - MSE(support, targets) / MSE(original, targets)`` (see :func:`fidelity`)
FIT = "fit (1 - MSE ratio)"
#: the share of the requested shift a support realises (see :func:`fidelity`)
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
    arguments in the error of a bad shape. The one resampling of :func:`ratio_interval` and :func:`fit_interval`."""
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
    the :data:`SHIFT` of :func:`fidelity` is such a ratio: the gaps' changes over the changes asked for). Resamples
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
    class")? The pooled correlation over both classes (``rank corr a/b`` of :func:`fidelity`) mostly measures the
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
    """The pooled rank correlation (over both classes, as ``rank corr a/b`` of :func:`fidelity`) that the class split
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


def fidelity(
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
      fit over the rows (the rows resampled with replacement, ``seed``; see :func:`fit_interval`); ``shift CI low``
      and ``shift CI high``, the same for the shift realised (:func:`ratio_interval`); ``within-class CI low`` and
      ``within-class CI high``, that of :data:`WITHIN` (each class resampled within itself)."""
    from scipy.stats import spearmanr

    rows = _pair_rows(labels, class_a, class_b)
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
        out["fit CI low"], out["fit CI high"] = fit_interval(per_row(sup), per_row(orig), n_boot, seed, level)
        changes, asked = (v.cpu().numpy() for v in _gap_changes(orig.cpu(), sup.cpu(), own_is_a, alpha))
        if not asked.any():  # nothing asked for: every resample has the point value (1, or NaN if a gap moved)
            out["shift CI low"] = out["shift CI high"] = out[SHIFT]
        else:
            out["shift CI low"], out["shift CI high"] = ratio_interval(changes, asked, n_boot, seed, level)
        out["within-class CI low"], out["within-class CI high"] = within[1], within[2]
    return out


def fit_interval(
    errors: np.ndarray, errors_untrained: np.ndarray, n_boot: int = 1000, seed: int = 0, level: float = 0.95
) -> tuple[float, float]:
    """Percentile bootstrap interval of the fit ``1 - sum(errors) / sum(errors_untrained)`` (the :data:`FIT` of
    :func:`fidelity`) over rows resampled with replacement: ``errors`` are the support's per-row squared errors to
    the shifted targets, ``errors_untrained`` the original's (``(N,)`` each). A resample whose untrained errors sum
    to 0 (nothing asked for) has a fit of 1, as :func:`fidelity` gives it."""
    return _row_bootstrap(errors, errors_untrained, _fits, n_boot, seed, level, "errors")


def support_models(
    model: nn.Module,
    images: torch.Tensor,
    labels: torch.Tensor,
    class_a: int,
    class_b: int,
    alphas: tuple[float, ...] = (0, 2, 4, 6, 8),
    config: SupportConfig = SupportConfig(),
    progress: bool = True,
) -> dict[float, nn.Module]:
    """One support per alpha: the shipped one when this original, data, pair, alpha and training configuration are
    one of the book's own runs (:mod:`xai_lib.models.shipped`), else loaded from the cache when the same
    configuration produced it before (an interrupted sweep keeps the supports already trained), else trained.
    ``XAI_LIB_SHIP_SUPPORTS=1`` also ships every support returned that is not shipped yet (``make models SHIP=1``)."""
    if any(not isinstance(a, int | float) or a < 0 for a in alphas):
        raise ValueError(f"alphas: expected non-negative numbers, got {alphas!r}")
    rows = _pair_rows(labels, class_a, class_b)
    data_digest = hashlib.sha256(images[rows].cpu().numpy().tobytes() + labels[rows].cpu().numpy().tobytes())
    base = {"weights": weights_digest(model), "data": data_digest.hexdigest()[:16], "pair": [class_a, class_b],
            "loss": "pair outputs", **config.__dict__}  # fmt: skip
    out = {}
    shipping = settings.flag("XAI_LIB_SHIP_SUPPORTS", False)
    for alpha in progress_bar(alphas, desc="support regressions") if progress else alphas:
        key = config_key({**base, "alpha": float(alpha)})
        path = cache_dir() / "supports" / f"support-{key}.pt"
        entry = shipped.find_support(key) if alpha != 0 else None  # alpha 0 is the original itself
        data = shipped.read(entry) if entry is not None else load_checked(path) if alpha != 0 else None
        if data is not None:
            support = copy.deepcopy(model).eval()
            support.load_state_dict(torch.load(io.BytesIO(data), map_location="cpu", weights_only=True))
        else:
            support = train_support(model, images, labels, class_a, class_b, alpha, config)
            if alpha != 0:
                buf = io.BytesIO()
                torch.save({k: v.cpu() for k, v in support.state_dict().items()}, buf)
                data = buf.getvalue()
                save_checked(path, data)
        if shipping and alpha != 0 and entry is None:
            facts = {"alpha": float(alpha), "original_weights": base["weights"], "data": base["data"],
                     "pair": base["pair"], "config": {k: v for k, v in config.__dict__.items()},
                     "weights": weights_digest(support)}  # fmt: skip
            shipped.ship_support(key, data, facts)
        for p in support.parameters():
            p.requires_grad_(False)
        out[float(alpha)] = support.to(next(model.parameters()).device).eval()
    return out


@dataclass
class GADMaps:
    """For one method and output: the original attributions ``(B, C, H, W)``, the important-pixel masks of the
    original and of GAD ``(B, H, W)``, and their convex-hull masks (``None`` where a mask is empty)."""

    original: torch.Tensor
    important: torch.Tensor
    gad: torch.Tensor
    hull_original: list[torch.Tensor | None]
    hull_gad: list[torch.Tensor | None]


def gad_maps(
    original: nn.Module,
    supports: list[nn.Module],
    images: torch.Tensor,
    output: int,
    method: str,
    keep: float = 0.5,
    n_steps: int = 20,
    batch_size: int | None = None,
) -> GADMaps:
    """GAD for a batch (sec. 4.3): ``method``'s map of output ``output`` on the original and on every support;
    a pixel is kept only if it is among the top ``keep`` of every map (never outside the original's)."""
    if method not in GAD_METHODS:
        raise ValueError(f"method: expected one of {list(GAD_METHODS)}, got {method!r}")
    maps = [attributions(m, images, method, output, batch_size, n_steps=n_steps).cpu() for m in [original, *supports]]
    important, gad = [], []
    for i in range(len(images)):
        important.append(gad_mask(maps[0][i], [], keep))
        gad.append(gad_mask(maps[0][i], [m[i] for m in maps[1:]], keep))
    important, gad = torch.stack(important), torch.stack(gad)

    def hulls(masks: torch.Tensor) -> list[torch.Tensor | None]:
        return [hull_mask(m) if m.any() else None for m in masks]

    return GADMaps(maps[0], important, gad, hulls(important), hulls(gad))


def share_inside(masks: torch.Tensor, region: torch.Tensor) -> np.ndarray:
    """Per image: the share of the ``True`` pixels of ``masks`` that lie inside ``region`` (NaN if none)."""
    n = masks.flatten(1).sum(1).double()
    inside = (masks & region).flatten(1).sum(1).double()
    return torch.where(n > 0, inside / n.clamp_min(1), torch.full_like(n, float("nan"))).numpy()


class GAD:
    """GAD in captum's shape: ``GAD(model, supports, base_method).attribute(inputs, target=...)``.

    The base method's map of output ``target`` on the original model, restricted to the pixels important in every
    map (the original's and each support model's, sec. 4.3; :func:`gad_maps`), zero elsewhere: a tensor of the
    inputs' shape, like captum's ``attribute``. ``supports`` are the support regressions (:func:`support_models`);
    with ``return_maps=True`` the :class:`GADMaps` (original maps, masks and convex hulls) come with it, one per
    target class present in the batch."""

    def __init__(self, model: nn.Module, supports: list[nn.Module], base_method: str = "Saliency", *,
                 keep: float = 0.5, n_steps: int = 20, batch_size: int | None = None) -> None:  # fmt: skip
        if not isinstance(model, nn.Module):
            raise ValueError(f"model: expected a torch.nn.Module, got {type(model).__name__}")
        if not isinstance(supports, list | tuple) or not all(isinstance(s, nn.Module) for s in supports):
            raise ValueError("supports: expected a list of torch.nn.Module support models")
        if base_method not in GAD_METHODS:
            raise ValueError(f"base_method: expected one of {list(GAD_METHODS)}, got {base_method!r}")
        if not 0 < keep <= 1:
            raise ValueError(f"keep: expected a share in (0, 1], got {keep!r}")
        self.model, self.supports, self.base_method = model, list(supports), base_method
        self.keep, self.n_steps, self.batch_size = keep, n_steps, batch_size

    def attribute(self, inputs: torch.Tensor, target, *, return_maps: bool = False):
        """GAD attributions ``(B, C, H, W)`` of output ``target`` (an int or one per input)."""
        if not torch.is_tensor(inputs) or inputs.dim() != 4:
            raise ValueError(f"inputs: expected images (B, C, H, W), got {tuple(getattr(inputs, 'shape', ()))}")
        t = torch.as_tensor(target).long().reshape(-1)
        t = t.expand(len(inputs)) if t.numel() == 1 else t
        if t.shape != (len(inputs),):
            raise ValueError(f"target: expected an int or one per input ({len(inputs)}), got {tuple(t.shape)}")
        out = torch.zeros(inputs.shape, dtype=inputs.dtype)
        maps = {}
        for c in t.unique().tolist():
            rows = torch.nonzero(t == c).flatten()
            m = gad_maps(self.model, self.supports, inputs[rows.to(inputs.device)], int(c), self.base_method,
                         self.keep, self.n_steps, self.batch_size)  # fmt: skip
            out[rows] = (m.original * m.gad[:, None]).to(out.dtype)
            maps[int(c)] = m
        return (out, maps) if return_maps else out
