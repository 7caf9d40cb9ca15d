"""SIC and AIC by the IDGI paper's protocol (Yang et al. 2023, sec. 4.4-4.5: its Tables 2 and 3).

Per image (uint8, as the paper's PIL pipeline sees it):

* **base**: PIL's Gaussian blur of radius 20 at 224 pixels, scaled with the image side (``20 * side / 224``);
* **25 thresholds**: percentiles ``t`` evenly spaced from 0 to 100 (``numpy.linspace(0, 100, 25)``); the bokeh
  image at ``t`` takes the top ``t``% pixels by saliency from the original and every other pixel from the base
  (here the paste *is* the protocol): ``t = 0`` is the base, ``t = 100`` the original;
* **information level** of each bokeh image: the normalised entropy, ``(webp(bokeh) - webp(base)) /
  (webp(original) - webp(base))`` clipped to [0, 1] with PAIR's WebP estimate (Table 2), or its MS-SSIM to the
  original (Table 3);
* **prediction**: for SIC the softmax probability of the target relative to the original's,
  ``p(bokeh) / p(original)`` clipped to [0, 1]; for AIC 1 when the target is the argmax, else 0;
* **aggregation** over all bokeh images of all test images: 100 equal bins of the information level in [0, 1];
  per bin the mean (AIC) or median (SIC) prediction; the area under that curve.

Choices where the paper is silent (also in the chapter's notes): pixels are ranked by the signed channel sum of
the attribution (``absolute=True``: its absolute value), ties by position; a bin with no bokeh image takes the
value interpolated linearly between its nearest non-empty neighbours (flat beyond the outermost), and the area
is the mean over the 100 bins (each of width 0.01); the same binning applied to one image's 25 points gives a
per-image area for paired tests. An image whose base is not less informative than the original has no
normalised entropy: it is skipped for the entropy level (reported). Every other image is kept, also one whose
blurred base the model already classifies as the target (PAIR's protocol skips an image whose blurred base keeps the
original's probability): its curve starts at the top whatever the map, and
:func:`xai_lib.experiments.idgi_tables.saturated_rows` flags the rows where most images are so.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import torch
from PIL import Image, ImageFilter
from torch import nn

from .common import MetricResult, check_batch, from_uint8, probabilities, saliency_2d, to_uint8, webp_sizes
from .msssim import MSSSIM_WIN, ms_ssim_to

IDGI_THRESHOLDS = tuple(float(t) for t in np.linspace(0.0, 100.0, 25))
BINS = 100
INFORMATION = ("entropy", "msssim")
KINDS = ("sic", "aic")


def pil_blur(img: np.ndarray, radius: float) -> np.ndarray:
    """PIL's ``GaussianBlur(radius)`` of a uint8 image (``radius`` is the Gaussian's standard deviation)."""
    return np.asarray(Image.fromarray(img).filter(ImageFilter.GaussianBlur(radius)))


def saliency_ranks(saliency2d: np.ndarray) -> np.ndarray:
    """Each pixel's rank by decreasing saliency (0 = most salient; ties in pixel order), shaped like the map."""
    order = np.argsort(-saliency2d.ravel(), kind="stable")
    ranks = np.empty(order.size, dtype=np.int64)
    ranks[order] = np.arange(order.size)
    return ranks.reshape(saliency2d.shape)


def top_pixels(saliency2d: np.ndarray, percent: float, ranks: np.ndarray | None = None) -> np.ndarray:
    """The ``round(percent / 100 * H * W)`` most salient pixels (stable order for ties); ``ranks`` from
    :func:`saliency_ranks` when the caller has them."""
    ranks = saliency_ranks(saliency2d) if ranks is None else ranks
    return ranks < int(round(percent / 100.0 * saliency2d.size))


def binned_curve(info: np.ndarray, pred: np.ndarray, kind: str, bins: int = BINS) -> tuple[float, np.ndarray]:
    """The protocol's aggregate: per information bin the mean (AIC) or median (SIC) prediction, empty bins
    interpolated; returns (area, curve over the bins)."""
    ok = np.isfinite(info) & np.isfinite(pred)
    info, pred = info[ok], pred[ok]
    if not len(info):
        return float("nan"), np.full(bins, np.nan)
    which = np.minimum((np.clip(info, 0.0, 1.0) * bins).astype(int), bins - 1)
    centres = (np.arange(bins) + 0.5) / bins
    reduce = np.median if kind == "sic" else np.mean
    # each bin's predictions in their original order (a stable sort by bin); a bin of one or two values needs no
    # call: the mean and the median of [a] are a, of [a, b] both are (a + b) / 2, as numpy computes them
    order = np.argsort(which, kind="stable")
    pred = pred[order]
    filled, first, count = np.unique(which[order], return_index=True, return_counts=True)
    values = pred[first].astype(np.float64)
    two = count == 2
    values[two] = (pred[first[two]] + pred[first[two] + 1]) / 2
    for j in np.flatnonzero(count > 2):
        values[j] = reduce(pred[first[j] : first[j] + count[j]])
    curve = np.interp(centres, centres[filled], values)
    return float(curve.mean()), curve


@dataclass
class IDGIPicResult:
    """Per image and map: the information level and both predictions at each of the 25 thresholds
    (``(B, 25)`` arrays; NaN rows for skipped images) and the skip reasons per image."""

    information: str
    thresholds: tuple[float, ...]
    info: dict[str, np.ndarray]
    pred: dict[str, dict[str, np.ndarray]]
    skipped: dict[int, str] = field(default_factory=dict)

    def aggregate(self, name: str, kind: str, bins: int = BINS) -> tuple[float, np.ndarray]:
        """The paper's number: the area under the binned curve over all bokeh images of all kept images."""
        return binned_curve(self.info[name].ravel(), self.pred[name][kind].ravel(), kind, bins)

    def per_image(self, name: str, kind: str, bins: int = BINS) -> MetricResult:
        """Each image's own binned area (for paired tests), NaN for skipped images."""
        n = self.info[name].shape[0]
        values = torch.full((n,), float("nan"), dtype=torch.float64)
        for i in range(n):
            if i not in self.skipped:
                values[i] = binned_curve(self.info[name][i], self.pred[name][kind][i], kind, bins)[0]
        return MetricResult(values, dict(self.skipped))

    def rows(self) -> list[dict]:
        """Tidy rows: one per (image, map, threshold) with the information level and both predictions."""
        out = []
        for name, info in self.info.items():
            for i in range(info.shape[0]):
                sic, aic = self.pred[name]["sic"][i], self.pred[name]["aic"][i]
                for j, t in enumerate(self.thresholds):
                    out.append({"map": name, "image": i, "percent": t, "information": float(info[i, j]),
                                "sic": float(sic[j]), "aic": float(aic[j])})  # fmt: skip
        return out


def pic_idgi(
    model: nn.Module,
    images: torch.Tensor,
    saliencies: Mapping[str, torch.Tensor],
    targets,
    *,
    information: str | Sequence[str] = "entropy",
    blur_radius: float | None = None,
    webp_method: int = 4,
    absolute: bool = False,
    batch_size: int | None = None,
    threads: int | None = None,
) -> IDGIPicResult | dict[str, IDGIPicResult]:
    """The IDGI paper's SIC/AIC protocol for several saliency maps of the same images (see the module notes).
    ``blur_radius`` defaults to ``20 * side / 224``; ``webp_method`` is the WebP encoder effort of the entropy
    level (4: PAIR's; lower is faster). ``information`` may list both levels: the bokeh images and the model's
    predictions are then computed once, and a ``{level: result}`` dict comes back."""
    levels = [information] if isinstance(information, str) else list(information)
    for level in levels:
        if level not in INFORMATION:
            raise ValueError(f"information: expected one of {list(INFORMATION)}, got {level!r}")
    if not saliencies:
        raise ValueError("saliencies: expected at least one saliency map")
    targets = [check_batch(model, images, sal, targets) for sal in saliencies.values()][0]
    b, _, h, w = images.shape
    radius = 20.0 * max(h, w) / 224.0 if blur_radius is None else float(blur_radius)
    if not radius > 0:
        raise ValueError(f"blur_radius: expected > 0, got {blur_radius!r}")
    s2d = {name: saliency_2d(sal, absolute).detach().cpu().numpy() for name, sal in saliencies.items()}
    n_t = len(IDGI_THRESHOLDS)
    results = {
        level: IDGIPicResult(level, IDGI_THRESHOLDS, {n: np.full((b, n_t), np.nan) for n in saliencies},
                             {n: {k: np.full((b, n_t), np.nan) for k in KINDS} for n in saliencies})
        for level in levels
    }  # fmt: skip
    for i in range(b):
        img = to_uint8(images[i])
        base = pil_blur(img, radius)
        stack = [img]
        for name in saliencies:
            ranks = saliency_ranks(s2d[name][i])
            for t in IDGI_THRESHOLDS:
                keep = top_pixels(s2d[name][i], t, ranks)
                stack.append(np.where(keep if img.ndim == 2 else keep[..., None], img, base))
        x = from_uint8(stack).to(images.device)
        p = probabilities(model, x, batch_size).double()
        p_orig = float(p[0, targets[i]])
        sic = np.clip(p[1:, targets[i]].numpy() / max(p_orig, 1e-30), 0.0, 1.0)
        aic = (p[1:].argmax(1) == targets[i]).double().numpy()
        for level, res in results.items():
            if level == "entropy":
                sizes = webp_sizes([*stack, base], webp_method, threads)
                e_orig, e_base = sizes[0], sizes[-1]
                if e_base >= e_orig:
                    res.skipped[i] = "the blurred base is not less informative than the original"
                    continue
                info = np.clip((sizes[1:-1] - e_base) / (e_orig - e_base), 0.0, 1.0)
            else:
                info = np.clip(ms_ssim_to(x[1:], x[0]).cpu().numpy(), 0.0, 1.0)
            for j, name in enumerate(saliencies):
                part = slice(j * n_t, (j + 1) * n_t)
                res.info[name][i] = info[part]
                res.pred[name]["sic"][i] = sic[part]
                res.pred[name]["aic"][i] = aic[part]
    return results[information] if isinstance(information, str) else results


__all__ = [
    "IDGI_THRESHOLDS", "IDGIPicResult", "binned_curve", "pic_idgi", "pil_blur", "saliency_ranks", "top_pixels",
    "MSSSIM_WIN",
]  # fmt: skip
