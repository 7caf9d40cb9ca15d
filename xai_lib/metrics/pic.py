"""Performance-information curves: SIC and AIC (Kapishnikov et al. 2019, PAIR protocol), with the information
level measured either by WebP-compressed size ("entropy", PAIR) or by MS-SSIM to the original (IDGI paper).

For each threshold ``t`` (a share of the most salient pixels) a "bokeh" image keeps the original where the
saliency is in the top ``t`` (plus a fixed random 1% of pixels) and the blurred base elsewhere. Its
information level and the model's prediction are normalised between the base image (0) and the original
(1) and clipped to [0, 1]; the prediction is made monotone (running maximum along increasing information),
(0, 0) and (1, 1) are added, the curve is interpolated on 1000 points and its area is the score.
SIC uses the softmax probability of the class, AIC whether the class is the argmax. Aggregate curves are the
median (SIC) or mean (AIC) of the per-image curves. Images are skipped (with the reason) when the model's
probability on the original is below ``min_pred``, or the base is not less informative or less predictive
than the original.

Choices where the references are silent or our images differ: the entropy variant's base is PAIR's
(1% random pixels and the four corners kept, the rest filled per channel by linear interpolation); the
MS-SSIM variant's base is a Gaussian blur (the IDGI paper's PIL radius 20 scaled to our image size:
``sigma = 20 * side / 224``) with 25 thresholds from 0 to 1. MS-SSIM (:mod:`.msssim`, equal to
pytorch-msssim) needs an image side above ``(win - 1) * 16``: we use ``win = 3`` and upsample sides of 32 px
or less by nearest neighbour until they fit.
"""

from __future__ import annotations

import io
from collections.abc import Mapping

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from scipy.interpolate import griddata
from torch import nn

from ..attribution.paths import gaussian_blur
from .common import MetricResult, check_batch, probabilities, saliency_2d, trapezoid
from .msssim import ms_ssim

PAIR_THRESHOLDS = (0.005, 0.01, 0.02, 0.03, 0.04, 0.05, 0.07, 0.10, 0.13, 0.21, 0.34, 0.5, 0.75)
MSSSIM_THRESHOLDS = tuple(np.linspace(0.0, 1.0, 25)[1:-1])
CURVE_POINTS = 1000
MSSSIM_WIN = 3


def webp_size(image: torch.Tensor, method: int = 4) -> int:
    """Bytes of the lossless WebP of the uint8 version of a ``(C, H, W)`` image in [0, 1].

    PAIR's settings (``lossless=True, quality=100``, PIL's default ``method=4``); ``method=0`` is the fastest
    encoder effort (about 25 times faster, files about 10% larger)."""
    if method not in range(7):
        raise ValueError(f"method: expected a WebP effort in 0..6, got {method!r}")
    arr = (image.clamp(0, 1) * 255).round().byte().permute(1, 2, 0).numpy()
    pil = Image.fromarray(arr[..., 0] if arr.shape[-1] == 1 else arr)
    buf = io.BytesIO()
    pil.save(buf, format="WEBP", lossless=True, quality=100, method=method)
    return len(buf.getvalue())


def random_keep_mask(h: int, w: int, fraction: float, rng: np.random.Generator) -> np.ndarray:
    """A fixed random ``fraction`` of pixels plus the four corners."""
    mask = rng.random((h, w)) < fraction
    mask[[0, 0, -1, -1], [0, -1, 0, -1]] = True
    return mask


def interpolated_base(image: torch.Tensor, keep: np.ndarray) -> torch.Tensor:
    """PAIR's blurred base: the kept pixels, the rest filled by linear interpolation per channel."""
    arr = image.numpy()
    rows, cols = np.nonzero(keep)
    grid_r, grid_c = np.mgrid[0 : keep.shape[0], 0 : keep.shape[1]]
    out = np.stack([griddata((rows, cols), ch[keep], (grid_r, grid_c), method="linear") for ch in arr])
    return torch.from_numpy(np.nan_to_num(out).astype(arr.dtype))


def ms_ssim_to(images: torch.Tensor, reference: torch.Tensor) -> torch.Tensor:
    """MS-SSIM of each of ``images (N, C, H, W)`` to ``reference (C, H, W)``, data range 1."""
    side = min(images.shape[-2:])
    scale = 1
    while side * scale <= (MSSSIM_WIN - 1) * 16:
        scale *= 2
    ref = reference[None]
    if scale > 1:
        images = F.interpolate(images, scale_factor=scale, mode="nearest")
        ref = F.interpolate(ref, scale_factor=scale, mode="nearest")
    return ms_ssim(images.float(), ref.float(), data_range=1.0, win_size=MSSSIM_WIN).double()


def curve_area(info: np.ndarray, pred: np.ndarray) -> tuple[float, np.ndarray]:
    """Normalised points -> (AUC, curve on ``CURVE_POINTS`` points in [0, 1])."""
    order = np.argsort(info, kind="stable")
    x = np.concatenate([[0.0], info[order], [1.0]])
    y = np.maximum.accumulate(np.concatenate([[0.0], pred[order], [1.0]]))
    grid = np.linspace(0.0, 1.0, CURVE_POINTS)
    curve = np.interp(grid, x, y)
    return float(trapezoid(torch.from_numpy(curve), 1.0 / (CURVE_POINTS - 1))), curve


def pic_metric(
    model: nn.Module,
    images: torch.Tensor,
    saliency: torch.Tensor,
    targets,
    kind: str = "sic",
    information: str = "entropy",
    min_pred: float = 0.8,
    random_fraction: float = 0.01,
    seed: int = 0,
    batch_size: int = 256,
) -> MetricResult:
    """Per-image SIC or AIC AUC (``kind``) with the ``entropy`` or ``msssim`` information level.

    ``result.curves`` holds the per-image curves; aggregate them with :func:`aggregate_curve`.
    """
    if kind not in ("sic", "aic"):
        raise ValueError(f"kind: expected 'sic' or 'aic', got {kind!r}")
    return pic_metrics(
        model, images, {"saliency": saliency}, targets, information, min_pred, random_fraction, seed, batch_size
    )["saliency"][kind]


def pic_metrics(
    model: nn.Module,
    images: torch.Tensor,
    saliencies: Mapping[str, torch.Tensor],
    targets,
    information: str = "entropy",
    min_pred: float = 0.8,
    random_fraction: float = 0.01,
    seed: int = 0,
    batch_size: int = 256,
    webp_method: int = 4,
) -> dict[str, dict[str, MetricResult]]:
    """SIC and AIC of several saliency maps of the same images: ``{name: {"sic": ..., "aic": ...}}``.

    Each image's base (blurred) image, random mask and information levels of the original and the base are
    computed once and shared by every map and both kinds: the same values as separate :func:`pic_metric`
    calls, at a fraction of the cost. ``webp_method``: the WebP encoder effort of the entropy level (see
    :func:`webp_size`; 4 is PAIR's).
    """
    if not saliencies:
        raise ValueError("saliencies: expected at least one saliency map")
    checked = [check_batch(model, images, sal, targets) for sal in saliencies.values()]
    if information not in ("entropy", "msssim"):
        raise ValueError(f"information: expected 'entropy' or 'msssim', got {information!r}")
    targets = checked[0]
    b, _, h, w = images.shape
    s2d = {name: saliency_2d(sal).numpy() for name, sal in saliencies.items()}
    rng = np.random.default_rng(seed)
    thresholds = PAIR_THRESHOLDS if information == "entropy" else MSSSIM_THRESHOLDS
    values = {(n, k): torch.full((b,), float("nan"), dtype=torch.float64) for n in saliencies for k in ("sic", "aic")}
    curves = {key: torch.full((b, CURVE_POINTS), float("nan"), dtype=torch.float64) for key in values}
    skipped: dict[tuple[str, str], dict[int, str]] = {key: {} for key in values}
    n_t = len(thresholds)
    for i in range(b):
        keep = random_keep_mask(h, w, random_fraction, rng)
        if information == "entropy":
            base = interpolated_base(images[i], keep)
        else:
            base = gaussian_blur(images[i : i + 1], 20.0 * max(h, w) / 224)[0]
        bokeh = []
        for name in saliencies:
            for t in thresholds:
                m = torch.from_numpy((s2d[name][i] >= np.quantile(s2d[name][i], 1.0 - t)) | keep)
                bokeh.append(torch.where(m[None], images[i], base))
        stack = torch.stack([images[i], base, *bokeh])
        p = probabilities(model, stack, batch_size)
        if information == "entropy":
            info = np.array([webp_size(im, webp_method) for im in stack], dtype=float)
        else:
            info = ms_ssim_to(stack, images[i]).numpy()
        p_orig = float(p[0, targets[i]])
        preds = {"sic": p[:, targets[i]].double().numpy(), "aic": (p.argmax(1) == targets[i]).double().numpy()}
        for kind, pred in preds.items():
            reason = None
            if p_orig < min_pred:
                reason = f"probability {p_orig:.3f} on the original is below min_pred={min_pred}"
            elif info[1] >= info[0]:
                reason = "the base image is not less informative than the original"
            elif pred[1] >= pred[0]:
                reason = "the prediction on the base image is not below the original's"
            for j, name in enumerate(saliencies):
                if reason is not None:
                    skipped[name, kind][i] = reason
                    continue
                part = slice(2 + j * n_t, 2 + (j + 1) * n_t)
                n_info = np.clip((info[part] - info[1]) / (info[0] - info[1]), 0.0, 1.0)
                n_pred = np.clip((pred[part] - pred[1]) / (pred[0] - pred[1]), 0.0, 1.0)
                values[name, kind][i], curve = curve_area(n_info, n_pred)
                curves[name, kind][i] = torch.from_numpy(curve)
    return {
        name: {k: MetricResult(values[name, k], skipped[name, k], curves[name, k]) for k in ("sic", "aic")}
        for name in saliencies
    }


def aggregate_curve(result: MetricResult, kind: str) -> tuple[float, np.ndarray]:
    """The aggregate curve over kept images (median for SIC, mean for AIC) and its area."""
    kept = result.curves[result.kept].numpy()
    if not len(kept):
        return float("nan"), np.full(CURVE_POINTS, np.nan)
    curve = np.median(kept, 0) if kind == "sic" else kept.mean(0)
    return float(trapezoid(torch.from_numpy(curve), 1.0 / (CURVE_POINTS - 1))), curve
