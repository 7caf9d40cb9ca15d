"""GAD model glue: support regressions (sec. 4.2) and GAD maps of captum methods (sec. 4.3). How well a support fits
its targets is a metric: :mod:`xai_lib.metrics.support_fit`.

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
from .cache import cache_dir, config_key, load_checked, save_checked
from .captum_glue import attributions
from .gad import alpha_pair, gad_mask, pair_rows, shifted_targets
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
    rows = pair_rows(labels, class_a, class_b)
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
    rows = pair_rows(labels, class_a, class_b)
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
