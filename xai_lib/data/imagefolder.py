"""``imagefolder:PATH``: a user's own images, one subfolder per class.

Layout::

    PATH/<class>/<name>.png            an image (any format PIL reads)
    PATH/<class>/<name>_mask.png       optional ground-truth mask (non-zero = discriminative part)

or the same under ``PATH/train``, ``PATH/val``, ``PATH/test`` for explicit splits (no ``val``: the train split
serves as val). Without explicit splits the images are split 60/15/25 per class, deterministically from the
seed. Images are converted to RGB and
resized to ``size`` x ``size``; masks with nearest-neighbour resampling.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from .sklearn_sets import SPLIT_SHARES

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp"}
MASK_TAG = "_mask"


def _scan(root: Path) -> tuple[list[Path], list[int], tuple[str, ...]]:
    classes = tuple(sorted(p.name for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")))
    if len(classes) < 2:
        raise ValueError(f"dataset: imagefolder {root} needs >= 2 class subfolders, found {list(classes)}")
    files, labels = [], []
    for c, name in enumerate(classes):
        for f in sorted((root / name).iterdir()):
            if f.suffix.lower() in IMAGE_SUFFIXES and not f.stem.endswith(MASK_TAG):
                files.append(f)
                labels.append(c)
    if not files:
        raise ValueError(f"dataset: imagefolder {root} holds no images")
    return files, labels, classes


def _load(files: list[Path], size: int) -> dict[str, np.ndarray]:
    images = np.empty((len(files), size, size, 3), np.uint8)
    masks = np.zeros((len(files), size, size), bool)
    has_mask = np.zeros(len(files), bool)
    for i, f in enumerate(files):
        with Image.open(f) as im:
            images[i] = np.asarray(im.convert("RGB").resize((size, size), Image.BILINEAR))
        m = f.with_name(f.stem + MASK_TAG + ".png")
        if m.exists():
            with Image.open(m) as im:
                masks[i] = np.asarray(im.convert("L").resize((size, size), Image.NEAREST)) > 0
            has_mask[i] = True
    return {"images": images, "masks": masks, "has_mask": has_mask}


def per_class_split(labels: np.ndarray, seed: int) -> dict[str, np.ndarray]:
    """Shuffle each class (seeded) and cut it 60/15/25, with at least one image per split and class when the
    class has three or more; a class with fewer images goes to every split (a warning-free tiny-data case)."""
    rng = np.random.default_rng(seed)
    out: dict[str, list[int]] = {"train": [], "val": [], "test": []}
    for c in np.unique(labels):
        idx = rng.permutation(np.flatnonzero(labels == c))
        n = len(idx)
        if n < 3:
            for s in out:
                out[s] += idx.tolist()
            continue
        n_test = max(1, round(SPLIT_SHARES[2] * n))
        n_val = max(1, round(SPLIT_SHARES[1] * n))
        out["test"] += idx[:n_test].tolist()
        out["val"] += idx[n_test : n_test + n_val].tolist()
        out["train"] += idx[n_test + n_val :].tolist()
    return {s: np.sort(np.asarray(v, dtype=np.int64)) for s, v in out.items()}


def load(path: str | Path, size: int, seed: int) -> tuple[dict[str, dict[str, np.ndarray]], tuple[str, ...]]:
    root = Path(path).expanduser()
    if not root.is_dir():
        raise ValueError(f"dataset: imagefolder path {str(root)!r} is not a directory")
    if all((root / s).is_dir() for s in ("train", "test")):
        out, classes = {}, None
        for split in ("train", "val", "test"):
            if not (root / split).is_dir():
                continue
            files, labels, cls = _scan(root / split)
            if classes is not None and cls != classes:
                raise ValueError(f"dataset: imagefolder split {split!r} has classes {cls}, expected {classes}")
            classes = cls
            out[split] = {**_load(files, size), "labels": np.asarray(labels, np.int64)}
        if "val" not in out:
            out["val"] = out["train"]
        return out, classes
    files, labels, classes = _scan(root)
    data = {**_load(files, size), "labels": np.asarray(labels, np.int64)}
    parts = per_class_split(data["labels"], seed)
    return {s: {k: v[i] for k, v in data.items()} for s, i in parts.items()}, classes
