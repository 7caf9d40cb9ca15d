"""SIC and AIC by PAIR saliency's protocol (Kapishnikov et al. 2019; ``saliency.metrics.pic.compute_pic_metric``).

Per image (uint8, as PAIR takes it) and saliency map:

* a **random mask** of ``int(H * W * 0.01)`` pixels drawn without replacement (one per image, shared by every map
  of that image); the **fully blurred image** keeps those pixels and the four corners and fills every other
  pixel, per channel, by linear interpolation (``scipy`` Delaunay; outside the hull: the channel mean),
  rounded to uint8;
* for each of the 13 thresholds ``t`` (0.5% .. 75%): the kept pixels are ``saliency >= quantile(saliency, 1 - t)``
  OR the random mask, and the **bokeh image** is a *new* interpolation from all kept pixels (not the salient
  pixels pasted onto the fully blurred image);
* information = bytes of the lossless WebP (quality 100) of each image; prediction = softmax probability of
  the target (SIC) or 1/0 for "argmax is the target" (AIC); both normalised between the fully blurred image
  (0) and the original (1), clipped to [0, 1]; the prediction is a running maximum in threshold order;
  ``(0, 0)`` and ``(1, 1)`` are added; the curve is linearly interpolated at 1000 points of [0, 1) plus 1.0, and
  its trapezoidal area is the image's score;
* skipped images, in PAIR's order: prediction on the original below ``min_pred`` (0.8; for AIC this drops only
  misclassified images), the blurred image not less informative, the blurred image's prediction not below the
  original's (for AIC: an image whose fully blurred version is still classified correctly);
* aggregate: the median (SIC) or mean (AIC) of the per-image curves and the area under it.

Verified against PAIR's own code on the same images, masks, maps and prediction function (benchmark and the
``bench`` extra's test): per-image areas equal to 1e-6. PAIR is never a runtime dependency.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import torch
from scipy.interpolate import LinearNDInterpolator, interp1d
from torch import nn

from .common import MetricResult, check_batch, from_uint8, probabilities, saliency_2d, to_uint8, webp_sizes

PAIR_THRESHOLDS = (0.005, 0.01, 0.02, 0.03, 0.04, 0.05, 0.07, 0.10, 0.13, 0.21, 0.34, 0.5, 0.75)
CURVE_POINTS = 1000
KINDS = ("sic", "aic")


def pair_random_mask(h: int, w: int, fraction: float, rng: np.random.Generator) -> np.ndarray:
    """PAIR's ``generate_random_mask``: ``int(h * w * fraction)`` pixels without replacement (no corners)."""
    mask = np.zeros((h, w), dtype=bool)
    idx = rng.choice(h * w, replace=False, size=int(h * w * fraction))
    mask[np.unravel_index(idx, mask.shape)] = True
    return mask


def blurred_image(img: np.ndarray, pixel_mask: np.ndarray) -> np.ndarray:
    """PAIR's ``create_blurred_image`` (linear): the kept pixels and the corners, every other pixel interpolated
    (one Delaunay triangulation shared by the channels; the channel mean outside it), rounded, same dtype."""
    has_channels = img.ndim > 2
    full = img if has_channels else img[..., None]
    mask = pixel_mask.copy()
    h, w = mask.shape
    mask[[0, 0, h - 1, h - 1], [0, w - 1, 0, w - 1]] = True
    if mask.all():
        return img
    mean_colour = full.mean(axis=(0, 1))
    out = full * mask[..., None].astype(np.float32)
    known = np.argwhere(mask)
    unknown = np.argwhere(~mask)
    values = full[tuple(known.T)].astype(np.float64)
    filled = LinearNDInterpolator(known, values, fill_value=np.nan)(unknown)
    outside = np.isnan(filled)
    if outside.any():
        filled = np.where(outside, mean_colour[None, :], filled)
    out[tuple(unknown.T)] = filled
    out = out if has_channels else out[..., 0]
    if np.issubdtype(img.dtype, np.integer):
        out = np.round(out)
    return out.astype(img.dtype)


def pair_curve(norm_info: np.ndarray, norm_pred: np.ndarray) -> tuple[float, np.ndarray]:
    """PAIR's curve from the thresholds' normalised (information, running-max prediction): area, curve y."""
    x = np.concatenate([norm_info, [0.0, 1.0]])
    y = np.concatenate([norm_pred, [0.0, 1.0]])
    curve_x = np.linspace(0.0, 1.0, CURVE_POINTS, endpoint=False)
    curve_y = np.append(interp1d(x=x, y=y)(curve_x), 1.0)
    curve_x = np.append(curve_x, 1.0)
    return float(np.trapezoid(curve_y, curve_x)), curve_y


def pic_pair_saliency(
    model: nn.Module,
    images: torch.Tensor,
    saliencies: Mapping[str, torch.Tensor],
    targets,
    *,
    seed: int = 0,
    random_fraction: float = 0.01,
    random_masks: np.ndarray | None = None,
    min_pred: float = 0.8,
    webp_method: int = 4,
    absolute: bool = False,
    batch_size: int | None = None,
    threads: int | None = None,
) -> dict[str, dict[str, MetricResult]]:
    """SIC and AIC of several saliency maps of the same images by PAIR's protocol: ``{name: {"sic", "aic"}}``.

    Saliency is the signed channel sum of each map (``absolute=True``: its absolute value). ``random_masks``
    ``(B, H, W)`` fixes the random masks (default: drawn from ``seed``). ``result.curves`` holds the per-image
    curves (1001 points); aggregate them with :func:`aggregate_pair`.
    """
    if not saliencies:
        raise ValueError("saliencies: expected at least one saliency map")
    targets = [check_batch(model, images, sal, targets) for sal in saliencies.values()][0]
    b, _, h, w = images.shape
    if random_masks is not None and random_masks.shape != (b, h, w):
        raise ValueError(f"random_masks: expected shape {(b, h, w)}, got {random_masks.shape}")
    rng = np.random.default_rng(seed)
    s2d = {name: saliency_2d(sal, absolute).detach().cpu().numpy() for name, sal in saliencies.items()}
    values = {(n, k): torch.full((b,), float("nan"), dtype=torch.float64) for n in saliencies for k in KINDS}
    curves = {key: torch.full((b, CURVE_POINTS + 1), float("nan"), dtype=torch.float64) for key in values}
    skipped: dict[tuple[str, str], dict[int, str]] = {key: {} for key in values}
    n_t = len(PAIR_THRESHOLDS)
    for i in range(b):
        img = to_uint8(images[i])
        rmask = random_masks[i] if random_masks is not None else pair_random_mask(h, w, random_fraction, rng)
        stack = [img, blurred_image(img, rmask)]
        for name in saliencies:
            s = s2d[name][i]
            for t in PAIR_THRESHOLDS:
                stack.append(blurred_image(img, (s >= np.quantile(s, 1 - t)) | rmask))
        info = webp_sizes(stack, webp_method, threads)
        p = probabilities(model, from_uint8(stack).to(images.device), batch_size).double()
        pred = {"sic": p[:, targets[i]].numpy(), "aic": (p.argmax(1) == targets[i]).double().numpy()}
        for kind in KINDS:
            orig, base = pred[kind][0], pred[kind][1]
            reason = None
            if orig < min_pred:
                reason = f"prediction {orig:.3f} on the original is below min_pred={min_pred}"
            elif info[1] >= info[0]:
                reason = "the fully blurred image is not less informative than the original"
            elif base >= orig:
                reason = "the prediction on the fully blurred image is not below the original's"
            for j, name in enumerate(saliencies):
                if reason is not None:
                    skipped[name, kind][i] = reason
                    continue
                part = slice(2 + j * n_t, 2 + (j + 1) * n_t)
                n_info = np.clip((info[part] - info[1]) / (info[0] - info[1]), 0.0, 1.0)
                n_pred = np.maximum.accumulate(np.clip((pred[kind][part] - base) / (orig - base), 0.0, 1.0))
                values[name, kind][i], curve = pair_curve(n_info, n_pred)
                curves[name, kind][i] = torch.from_numpy(curve)
    return {
        name: {k: MetricResult(values[name, k], skipped[name, k], curves[name, k]) for k in KINDS}
        for name in saliencies
    }


def aggregate_pair(result: MetricResult, kind: str) -> tuple[float, np.ndarray]:
    """PAIR's aggregate: the median (SIC) or mean (AIC) of the kept images' curves, and its area."""
    if kind not in KINDS:
        raise ValueError(f"kind: expected 'sic' or 'aic', got {kind!r}")
    kept = result.curves[result.kept].numpy()
    if not len(kept):
        return float("nan"), np.full(CURVE_POINTS + 1, np.nan)
    curve = np.median(kept, 0) if kind == "sic" else kept.mean(0)
    x = np.append(np.linspace(0.0, 1.0, CURVE_POINTS, endpoint=False), 1.0)
    return float(np.trapezoid(curve, x)), curve
