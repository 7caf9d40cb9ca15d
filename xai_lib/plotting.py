"""Plotting and result-saving helpers shared by every chapter (no chapter re-implements these)."""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd
import torch
from matplotlib import animation
from matplotlib import pyplot as plt
from matplotlib.layout_engine import ConstrainedLayoutEngine

from .cache import atomic_write_bytes, atomic_write_text


def to_hwc(image: torch.Tensor | np.ndarray) -> np.ndarray:
    """``(C, H, W)`` tensor in [0, 1] -> ``(H, W, C)`` (or ``(H, W)`` for one channel) numpy for imshow."""
    arr = image.detach().cpu().numpy() if isinstance(image, torch.Tensor) else np.asarray(image)
    if arr.ndim == 3 and arr.shape[0] in (1, 3):
        arr = np.moveaxis(arr, 0, -1)
    return arr[..., 0] if arr.ndim == 3 and arr.shape[-1] == 1 else arr


def image_grid(
    images: Sequence[torch.Tensor] | torch.Tensor,
    titles: Sequence[str] | None = None,
    masks: Sequence[torch.Tensor] | torch.Tensor | None = None,
    ncols: int = 8,
    size: float = 1.6,
    mask_colour: str = "white",
) -> plt.Figure:
    """Images in a grid, optionally with a mask drawn as a contour on each."""
    n = len(images)
    nrows = max(1, (n + ncols - 1) // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(ncols * size, nrows * size * 1.1), squeeze=False)
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i >= n:
            continue
        img = to_hwc(images[i])
        ax.imshow(img, cmap="gray" if img.ndim == 2 else None, vmin=0, vmax=1)
        if masks is not None:
            m = np.asarray(masks[i], dtype=float)
            if m.any():
                ax.contour(m, levels=[0.5], colors=mask_colour, linewidths=0.8)
        if titles is not None:
            ax.set_title(titles[i], fontsize=8)
    fig.tight_layout()
    return fig


def visualise_saliency(attribution: torch.Tensor, percentile: float = 99.0) -> np.ndarray:
    """``(C, H, W)`` attribution -> ``(H, W)`` in [0, 1]: ``|sum_c|`` clipped at its ``percentile``
    (PAIR's grayscale visualisation, so one hot pixel does not wash out the map)."""
    s = attribution.detach().cpu().double()
    s = (s.sum(0) if s.dim() == 3 else s).abs().numpy()
    top = np.percentile(s, percentile)
    return np.clip(s / top, 0, 1) if top > 0 else np.zeros_like(s)


def saliency_grid(
    images: torch.Tensor, maps: dict[str, torch.Tensor], size: float = 1.5, cmap: str = "magma"
) -> plt.Figure:
    """Rows: images; columns: the image, then one visualised map per method (``maps[name]`` is ``(B, C, H, W)``)."""
    n, cols = images.shape[0], 1 + len(maps)
    fig, axes = plt.subplots(n, cols, figsize=(cols * size, n * size * 1.05), squeeze=False)
    for i in range(n):
        img = to_hwc(images[i])
        axes[i, 0].imshow(img, cmap="gray" if img.ndim == 2 else None, vmin=0, vmax=1)
        for j, (name, attr) in enumerate(maps.items(), start=1):
            axes[i, j].imshow(visualise_saliency(attr[i]), cmap=cmap, vmin=0, vmax=1)
            if i == 0:
                axes[i, j].set_title(name, fontsize=8)
        if i == 0:
            axes[i, 0].set_title("image", fontsize=8)
    for ax in axes.flat:
        ax.axis("off")
    fig.tight_layout()
    return fig


def confusion_matrix(labels: torch.Tensor, predictions: torch.Tensor, num_classes: int) -> np.ndarray:
    """``cm[i, j]`` = number of samples of true class ``i`` predicted as ``j``."""
    idx = labels.long() * num_classes + predictions.long()
    return torch.bincount(idx, minlength=num_classes**2).reshape(num_classes, num_classes).numpy()


def plot_confusion(cm: np.ndarray, class_names: Sequence[str], ax: plt.Axes, title: str = "") -> None:
    """Row-normalised confusion matrix with counts in the cells."""
    norm = cm / np.maximum(cm.sum(1, keepdims=True), 1)
    ax.imshow(norm, cmap="Blues", vmin=0, vmax=1)
    ticks = np.arange(len(class_names))
    ax.set_xticks(ticks, class_names, rotation=60, fontsize=7)
    ax.set_yticks(ticks, class_names, fontsize=7)
    ax.set_xlabel("predicted", fontsize=8)
    ax.set_ylabel("true", fontsize=8)
    for i in range(cm.shape[0]):
        for j in range(cm.shape[1]):
            if cm[i, j]:
                ax.text(j, i, int(cm[i, j]), ha="center", va="center", fontsize=6,
                        color="white" if norm[i, j] > 0.5 else "black")  # fmt: skip
    ax.set_title(title, fontsize=9)


def pi_axis(ax: plt.Axes, lo: float = -np.pi, hi: float = np.pi, dashed: bool = True) -> None:
    """Label the x axis in multiples of pi/4 and (optionally) draw dashed lines at k*pi/4 (GAX Fig. 1)."""
    ks = np.arange(int(np.ceil(lo / (np.pi / 4))), int(np.floor(hi / (np.pi / 4))) + 1)
    names = {0: "0", 4: "π", -4: "-π", 2: "π/2", -2: "-π/2"}
    ax.set_xticks(ks * np.pi / 4, [names.get(int(k), f"{k}π/4") for k in ks])
    ax.set_xlim(lo, hi)
    if dashed:
        for k in ks:
            ax.axvline(k * np.pi / 4, color="0.6", ls="--", lw=0.7, zorder=0)


def animation_html(
    fig: plt.Figure,
    update: Callable[[int], object],
    frames: int,
    interval: int = 120,
    default_mode: str = "once",
) -> str:
    """A slider that works in a static HTML page: the animation rendered to self-contained JS/HTML.

    ``update(i)`` draws frame ``i`` on ``fig``. The figure is closed afterwards.
    """
    with matplotlib.rc_context({"animation.embed_limit": 60.0}):
        anim = animation.FuncAnimation(fig, update, frames=frames, interval=interval, blit=False)
        html = anim.to_jshtml(default_mode=default_mode)
    plt.close(fig)
    return html


def save_figure(fig: plt.Figure, path: str | Path, dpi: int = 110) -> Path:
    """Save ``fig`` as PNG atomically (the chapter's outputs survive an interrupted run)."""
    path = Path(path)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight")
    atomic_write_bytes(path, buf.getvalue())
    return path


def finish(fig: plt.Figure, path: str | Path, tight: bool = True) -> None:
    """A chapter figure's epilogue: ``fig.tight_layout()`` (unless ``tight`` is False, or the figure has constrained
    layout, which lays itself out), :func:`save_figure` to ``path``, then ``plt.show()`` (which, inline in a
    notebook, shows and closes the figure). Pass ``tight=False`` for a figure already laid out by its maker
    (:func:`image_grid`, :func:`saliency_grid`) or meant to keep its own layout: a second layout pass can move it.
    Returns None, so a cell that ends with it prints nothing."""
    if tight and not isinstance(fig.get_layout_engine(), ConstrainedLayoutEngine):
        fig.tight_layout()
    save_figure(fig, path)
    plt.show()


def save_table(df: pd.DataFrame, path: str | Path) -> Path:
    """Save a tidy table as CSV atomically (gzip-compressed when the name ends in ``.gz``)."""
    path = Path(path)
    if path.suffix == ".gz":
        import gzip

        atomic_write_bytes(path, gzip.compress(df.to_csv(index=False).encode(), mtime=0))
    else:
        atomic_write_text(path, df.to_csv(index=False))
    return path
