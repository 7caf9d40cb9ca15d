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
``sigma = 20 * side / 224``) with 25 thresholds from 0 to 1. pytorch-msssim needs an image side above
``(win - 1) * 16``: we use ``win = 3`` and upsample sides of 32 px or less by nearest neighbour until they fit.
"""

from __future__ import annotations

import io

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from scipy.interpolate import griddata
from torch import nn

from ..attribution.paths import gaussian_blur
from .common import MetricResult, check_batch, probabilities, saliency_2d, trapezoid

PAIR_THRESHOLDS = (0.005, 0.01, 0.02, 0.03, 0.04, 0.05, 0.07, 0.10, 0.13, 0.21, 0.34, 0.5, 0.75)
MSSSIM_THRESHOLDS = tuple(np.linspace(0.0, 1.0, 25)[1:-1])
CURVE_POINTS = 1000
MSSSIM_WIN = 3


def webp_size(image: torch.Tensor) -> int:
    """Bytes of the lossless WebP of the uint8 version of a ``(C, H, W)`` image in [0, 1]."""
    arr = (image.clamp(0, 1) * 255).round().byte().permute(1, 2, 0).numpy()
    pil = Image.fromarray(arr[..., 0] if arr.shape[-1] == 1 else arr)
    buf = io.BytesIO()
    pil.save(buf, format="WEBP", lossless=True)
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
    from pytorch_msssim import ms_ssim

    side = min(images.shape[-2:])
    scale = 1
    while side * scale <= (MSSSIM_WIN - 1) * 16:
        scale *= 2
    ref = reference[None].expand_as(images)
    if scale > 1:
        images = F.interpolate(images, scale_factor=scale, mode="nearest")
        ref = F.interpolate(ref, scale_factor=scale, mode="nearest")
    return ms_ssim(images.double(), ref.double(), data_range=1.0, size_average=False, win_size=MSSSIM_WIN)


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
    targets = check_batch(model, images, saliency, targets)
    if kind not in ("sic", "aic"):
        raise ValueError(f"kind: expected 'sic' or 'aic', got {kind!r}")
    if information not in ("entropy", "msssim"):
        raise ValueError(f"information: expected 'entropy' or 'msssim', got {information!r}")
    b, _, h, w = images.shape
    s2d = saliency_2d(saliency).numpy()
    rng = np.random.default_rng(seed)
    thresholds = PAIR_THRESHOLDS if information == "entropy" else MSSSIM_THRESHOLDS
    values = torch.full((b,), float("nan"), dtype=torch.float64)
    curves = torch.full((b, CURVE_POINTS), float("nan"), dtype=torch.float64)
    skipped: dict[int, str] = {}
    for i in range(b):
        keep = random_keep_mask(h, w, random_fraction, rng)
        if information == "entropy":
            base = interpolated_base(images[i], keep)
        else:
            base = gaussian_blur(images[i : i + 1], 20.0 * max(h, w) / 224)[0]
        bokeh = []
        for t in thresholds:
            cut = np.quantile(s2d[i], 1.0 - t)
            m = torch.from_numpy((s2d[i] >= cut) | keep)
            bokeh.append(torch.where(m[None], images[i], base))
        stack = torch.stack([images[i], base, *bokeh])
        p = probabilities(model, stack, batch_size)
        if kind == "sic":
            pred = p[:, targets[i]].double().numpy()
        else:
            pred = (p.argmax(1) == targets[i]).double().numpy()
        if information == "entropy":
            info = np.array([webp_size(im) for im in stack], dtype=float)
        else:
            info = ms_ssim_to(stack, images[i]).numpy()
        p_orig = float(p[0, targets[i]])
        if p_orig < min_pred:
            skipped[i] = f"probability {p_orig:.3f} on the original is below min_pred={min_pred}"
            continue
        if info[1] >= info[0]:
            skipped[i] = "the base image is not less informative than the original"
            continue
        if pred[1] >= pred[0]:
            skipped[i] = "the prediction on the base image is not below the original's"
            continue
        n_info = np.clip((info[2:] - info[1]) / (info[0] - info[1]), 0.0, 1.0)
        n_pred = np.clip((pred[2:] - pred[1]) / (pred[0] - pred[1]), 0.0, 1.0)
        values[i], curve = curve_area(n_info, n_pred)
        curves[i] = torch.from_numpy(curve)
    return MetricResult(values, skipped, curves)


def aggregate_curve(result: MetricResult, kind: str) -> tuple[float, np.ndarray]:
    """The aggregate curve over kept images (median for SIC, mean for AIC) and its area."""
    kept = result.curves[result.kept].numpy()
    if not len(kept):
        return float("nan"), np.full(CURVE_POINTS, np.nan)
    curve = np.median(kept, 0) if kind == "sic" else kept.mean(0)
    return float(trapezoid(torch.from_numpy(curve), 1.0 / (CURVE_POINTS - 1))), curve
