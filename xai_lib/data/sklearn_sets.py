"""Real data that scikit-learn bundles: ``digits`` (upscaled images), ``breast_cancer`` and ``wine`` (tabular)."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

#: the tabular sets, by name: scikit-learn's loader of each (imported on first use: scikit-learn takes about 1.5 s
#: to import, which every process that imports the library would otherwise pay)
TABULAR = {"breast_cancer": "load_breast_cancer", "wine": "load_wine"}
SPLIT_SHARES = (0.6, 0.15, 0.25)  # train, val, test


def split_indices(labels: np.ndarray, seed: int) -> dict[str, np.ndarray]:
    """Deterministic stratified 60/15/25 split of row indices."""
    from sklearn.model_selection import train_test_split

    idx = np.arange(len(labels))
    train, rest = train_test_split(idx, train_size=SPLIT_SHARES[0], stratify=labels, random_state=seed)
    val_share = SPLIT_SHARES[1] / (SPLIT_SHARES[1] + SPLIT_SHARES[2])
    val, test = train_test_split(rest, train_size=val_share, stratify=labels[rest], random_state=seed)
    return {"train": np.sort(train), "val": np.sort(val), "test": np.sort(test)}


def digits(size: int, seed: int) -> dict[str, dict[str, np.ndarray]]:
    """8x8 digits (values 0..16) bilinearly upscaled to ``size``; one channel in [0, 1]."""
    from sklearn import datasets

    bunch = datasets.load_digits()
    x = torch.from_numpy(bunch.images.astype(np.float32) / 16.0)[:, None]
    x = F.interpolate(x, size=(size, size), mode="bilinear", align_corners=False).clamp(0, 1)
    images = np.round(x.numpy() * 255).astype(np.uint8)
    labels = bunch.target.astype(np.int64)
    return {s: {"images": images[i], "labels": labels[i]} for s, i in split_indices(labels, seed).items()}


def tabular(name: str, seed: int) -> tuple[dict[str, dict[str, np.ndarray]], tuple[str, ...], tuple[str, ...]]:
    """Features min-max scaled to [0, 1] with the train split's range (clipped), per split."""
    from sklearn import datasets

    bunch = getattr(datasets, TABULAR[name])()
    x = bunch.data.astype(np.float32)
    y = bunch.target.astype(np.int64)
    parts = split_indices(y, seed)
    lo, hi = x[parts["train"]].min(0), x[parts["train"]].max(0)
    x = np.clip((x - lo) / np.where(hi > lo, hi - lo, 1.0), 0.0, 1.0)
    out = {s: {"features": x[i], "labels": y[i]} for s, i in parts.items()}
    return out, tuple(str(c) for c in bunch.target_names), tuple(str(f) for f in bunch.feature_names)
