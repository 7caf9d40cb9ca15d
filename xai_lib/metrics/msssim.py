"""Multi-scale SSIM (Wang, Simoncelli and Bovik 2003), as pytorch-msssim computes it, with the Gaussian window
applied by shifted sums instead of a grouped convolution (on CPU a 3-tap depthwise ``conv2d`` costs ~15 times
more than the slices here). Equal to ``pytorch_msssim.ms_ssim`` to 1e-6 (its window is built in float32; tested).

Per channel: SSIM and contrast-structure terms on a valid-filtered image (Gaussian window ``win_size``,
``sigma = 1.5``, ``K = (0.01, 0.03)``); 5 scales, 2x2 average pooling between scales (padding ``side % 2``);
``prod_l cs_l^{w_l}`` (ReLU-clamped, SSIM at the last scale) with weights
``(0.0448, 0.2856, 0.3001, 0.2363, 0.1333)``; the mean over channels.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from ..stopwatch import timed

WEIGHTS = (0.0448, 0.2856, 0.3001, 0.2363, 0.1333)


def gaussian_window(win_size: int, sigma: float = 1.5, dtype=torch.float64) -> torch.Tensor:
    coords = torch.arange(win_size, dtype=dtype) - win_size // 2
    g = torch.exp(-(coords**2) / (2 * sigma**2))
    return g / g.sum()


def _filter(x: torch.Tensor, win: torch.Tensor) -> torch.Tensor:
    """Valid (no padding) separable filtering along H then W."""
    k = len(win)
    h, w = x.shape[-2:]
    x = sum(win[i] * x[..., i : h - k + 1 + i, :] for i in range(k))
    return sum(win[i] * x[..., i : w - k + 1 + i] for i in range(k))


def _ssim(x: torch.Tensor, y: torch.Tensor, win: torch.Tensor, data_range: float, k=(0.01, 0.03)):
    c1, c2 = (k[0] * data_range) ** 2, (k[1] * data_range) ** 2
    mu1, mu2 = _filter(x, win), _filter(y, win)
    mu1_sq, mu2_sq, mu12 = mu1 * mu1, mu2 * mu2, mu1 * mu2
    s1 = _filter(x * x, win) - mu1_sq
    s2 = _filter(y * y, win) - mu2_sq
    s12 = _filter(x * y, win) - mu12
    cs_map = (2 * s12 + c2) / (s1 + s2 + c2)
    ssim_map = (2 * mu12 + c1) / (mu1_sq + mu2_sq + c1) * cs_map
    return ssim_map.flatten(2).mean(-1), cs_map.flatten(2).mean(-1)


def ms_ssim(x: torch.Tensor, y: torch.Tensor, data_range: float = 1.0, win_size: int = 11) -> torch.Tensor:
    """MS-SSIM per image ``(N,)`` of ``x`` ``(N, C, H, W)`` and ``y`` of the same shape or ``(1, C, H, W)`` (one
    reference for every image: its statistics are computed once); the smaller side must exceed
    ``(win_size - 1) * 16`` (four halvings)."""
    if x.dim() != 4 or y.shape not in (x.shape, (1, *x.shape[1:])):
        raise ValueError(f"y: expected the shape of x (N, C, H, W) {tuple(x.shape)}, got {tuple(y.shape)}")
    if win_size % 2 != 1:
        raise ValueError(f"win_size: expected an odd number, got {win_size}")
    if min(x.shape[-2:]) <= (win_size - 1) * 2 ** (len(WEIGHTS) - 1):
        raise ValueError(f"x: image side must be larger than {(win_size - 1) * 16} for win_size={win_size}")
    win = gaussian_window(win_size, dtype=x.dtype).to(x.device)
    weights = torch.tensor(WEIGHTS, dtype=x.dtype, device=x.device)
    terms = []
    for level in range(len(WEIGHTS)):
        ssim_pc, cs = _ssim(x, y, win, data_range)
        if level < len(WEIGHTS) - 1:
            terms.append(torch.relu(cs))
            pad = [s % 2 for s in x.shape[2:]]
            x, y = F.avg_pool2d(x, 2, padding=pad), F.avg_pool2d(y, 2, padding=pad)
    terms.append(torch.relu(ssim_pc))
    return torch.prod(torch.stack(terms) ** weights.reshape(-1, 1, 1), dim=0).mean(1).expand(x.shape[0])


#: the window used for small images (the default 11 needs a side above 160 pixels)
MSSSIM_WIN = 3


def ms_ssim_to(images: torch.Tensor, reference: torch.Tensor, win_size: int = MSSSIM_WIN) -> torch.Tensor:
    """MS-SSIM of each of ``images (N, C, H, W)`` to ``reference (C, H, W)``, data range 1, window ``win_size``;
    sides too small for four halvings are upsampled by nearest neighbour (x2 until they fit)."""
    side = min(images.shape[-2:])
    scale = 1
    while side * scale <= (win_size - 1) * 16:
        scale *= 2
    ref = reference[None]
    if scale > 1:
        images = F.interpolate(images, scale_factor=scale, mode="nearest")
        ref = F.interpolate(ref, scale_factor=scale, mode="nearest")
    with timed("MS-SSIM"):
        return ms_ssim(images.float(), ref.float(), data_range=1.0, win_size=win_size).double()
