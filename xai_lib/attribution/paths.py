"""Path builders: the straight line of Integrated Gradients and the blur path of Blur IG (pure tensor code).

Guided IG's adaptive path depends on gradients along the way; it lives in :mod:`.guided`.
"""

from __future__ import annotations

import functools

import torch


def straight_line(inputs: torch.Tensor, baselines: torch.Tensor, alphas: torch.Tensor) -> torch.Tensor:
    """Points ``baselines + alpha * (inputs - baselines)`` for each alpha: ``(len(alphas), *inputs.shape)``."""
    shape = (-1,) + (1,) * inputs.dim()
    return baselines[None] + alphas.to(inputs.dtype).reshape(shape) * (inputs - baselines)[None]


def riemann_alphas(n_steps: int, method: str, device=None, dtype=torch.float32) -> torch.Tensor:
    """The ``n_steps`` alphas of a Riemann sum over [0, 1]: right ``k/N`` (k=1..N), left ``k/N`` (k=0..N-1),
    middle ``(k+1/2)/N``; the same as captum's ``riemann_right``, ``riemann_left``, ``riemann_middle``."""
    k = torch.arange(n_steps, device=device, dtype=torch.float64)
    if method == "riemann_right":
        a = (k + 1) / n_steps
    elif method == "riemann_left":
        a = k / n_steps
    elif method == "riemann_middle":
        a = (k + 0.5) / n_steps
    else:
        raise ValueError(f"method: expected 'riemann_right', 'riemann_left' or 'riemann_middle', got {method!r}")
    return a.to(dtype)


def gaussian_radius(sigma: float, truncate: float = 4.0) -> int:
    """scipy.ndimage's truncation radius of a Gaussian: ``int(truncate * sigma + 0.5)``."""
    return int(truncate * float(sigma) + 0.5)


def gaussian_kernel1d(
    sigma: float, truncate: float = 4.0, dtype=torch.float32, device=None, radius: int | None = None
) -> torch.Tensor:
    """Normalised 1D Gaussian of radius :func:`gaussian_radius` (scipy.ndimage's convention) or ``radius``."""
    radius = gaussian_radius(sigma, truncate) if radius is None else radius
    x = torch.arange(-radius, radius + 1, dtype=torch.float64, device=device)
    k = torch.exp(-0.5 * (x / sigma) ** 2)
    return (k / k.sum()).to(dtype)


@functools.lru_cache(maxsize=4096)
def blur_matrix(n: int, sigma: float, truncate: float = 4.0, radius: int | None = None, dtype=torch.float32,
                device=None) -> torch.Tensor:  # fmt: skip
    """The ``(n, n)`` matrix of a 1D Gaussian blur with zero padding: ``M[i, j] = k[j - i]`` for ``|j - i| <= r``.

    Blurring an image side of ``n`` pixels is ``M @ column``; with zero padding the matrix form is exact and,
    for kernels as long as the image (Blur IG's sigma reaches 50 on 64-pixel images), far cheaper than a
    convolution with a ``2r + 1`` tap kernel. Cached (a Blur IG path reuses its matrices for every image):
    the returned tensor must not be modified.
    """
    k = gaussian_kernel1d(sigma, truncate, torch.float64, device, radius)
    r = (k.numel() - 1) // 2
    offset = torch.arange(n, device=device)[None, :] - torch.arange(n, device=device)[:, None]
    inside = offset.abs() <= r
    return torch.where(inside, k[(offset + r).clamp(0, 2 * r)], torch.zeros((), dtype=torch.float64)).to(dtype)


def gaussian_blur(images: torch.Tensor, sigma: float, truncate: float = 4.0, radius: int | None = None) -> torch.Tensor:
    """Per-channel Gaussian blur of ``(B, C, H, W)`` with zero padding (scipy ``mode='constant'``).

    ``sigma == 0`` returns the images unchanged. Separable, as two matrix products: ``M_h @ X @ M_w^T``.
    ``radius`` overrides the kernel's radius (``ceil(truncate * sigma)`` by default).
    """
    if images.dim() != 4:
        raise ValueError(f"inputs: Blur IG needs images of shape (B, C, H, W), got {tuple(images.shape)}")
    if sigma < 0:
        raise ValueError(f"sigma: expected >= 0, got {sigma}")
    if sigma == 0:
        return images
    h, w = images.shape[-2:]
    m_h = blur_matrix(h, sigma, truncate, radius, images.dtype, images.device)
    m_w = m_h if w == h else blur_matrix(w, sigma, truncate, radius, images.dtype, images.device)
    return m_h @ images @ m_w.T


def derivative_radius(sigma: float, step: float, truncate: float = 4.0) -> int:
    """The one kernel radius both blurs of :func:`blur_derivative` use: the larger sigma's."""
    return gaussian_radius(sigma + step, truncate)


def blur_derivative(
    images: torch.Tensor, sigma: float, step: float, truncate: float = 4.0, low: torch.Tensor | None = None
) -> torch.Tensor:
    """``(blur(x, sigma + step) - blur(x, sigma)) / step`` with one kernel radius for both blurs.

    scipy's truncation radius ``int(truncate * sigma + 0.5)`` jumps with sigma; a forward difference across a
    jump would measure the truncation, not the blur (a relative error ~ 1e-4 / step). Sharing the larger
    sigma's radius keeps the derivative smooth in sigma; where the two radii agree (always on PAIR's schedule
    ``sigma_i = i * max_sigma / N`` with the default step) this is exactly PAIR's difference of two scipy blurs.
    ``low``: the lower blur when the caller has it already (the path point itself, when its radius agrees).
    """
    radius = derivative_radius(sigma, step, truncate)
    if low is None:
        low = images if sigma == 0 else gaussian_blur(images, sigma, truncate, radius)
    return (gaussian_blur(images, sigma + step, truncate, radius) - low) / step


def blur_sigmas(n_steps: int, max_sigma: float) -> list[float]:
    """``sigma_i = i * max_sigma / N`` for ``i = 0..N`` (PAIR's Blur IG schedule)."""
    return [i * max_sigma / n_steps for i in range(n_steps + 1)]
