"""Embedded datasets, by spec: ``load_dataset("shapes", split="test", profile="book")``.

Specs: ``shapes`` (8 classes), ``shapes_pair`` (binary cat/dog, differing in the ears), ``shapes_spurious``
(``shapes`` with a class-correlated corner mark), ``digits`` (scikit-learn, upscaled), ``breast_cancer`` and
``wine`` (scikit-learn, tabular), ``imagefolder:PATH`` (your own images). Generated sets are cached on disk,
keyed by their configuration, written atomically and checked on load.
"""

from __future__ import annotations

import io

import numpy as np
import torch

from ..cache import cache_dir, cached_bytes, config_key, npz_bytes
from ..profiles import Profile, get_profile
from . import imagefolder, shapes, sklearn_sets
from .base import Dataset

SHAPES_VARIANTS = {"shapes": "multi", "shapes_pair": "pair", "shapes_spurious": "spurious"}
EMBEDDED = (*SHAPES_VARIANTS, "digits", *sklearn_sets.TABULAR)
SPLITS = ("train", "val", "test")

__all__ = ["Dataset", "EMBEDDED", "load_dataset", "dataset_config"]


#: options of ``imagefolder:`` datasets (see :mod:`.imagefolder`) and their defaults
FOLDER_OPTIONS = {"channels": 3, "resize": "crop", "crop_fraction": 1.0}


def dataset_config(
    spec: str, profile: str | Profile = "book", seed: int = 0, size: int | None = None, **options
) -> dict:
    """Everything that determines the dataset's content (its cache key). ``options``: image-folder options
    (``channels``, ``resize``, ``crop_fraction``), refused for the embedded datasets."""
    prof = get_profile(profile)
    _check_spec(spec)
    unknown = set(options) - set(FOLDER_OPTIONS)
    if unknown:
        raise ValueError(f"dataset options: unknown {sorted(unknown)}; expected some of {sorted(FOLDER_OPTIONS)}")
    if options and not spec.startswith("imagefolder:"):
        raise ValueError(f"dataset options: {sorted(options)} only apply to imagefolder datasets, not {spec!r}")
    if spec in SHAPES_VARIANTS:
        return {
            "spec": spec,
            "generator": shapes.GENERATOR_VERSION,
            "size": size or prof.image_size,
            "n": [prof.n_train, prof.n_val, prof.n_test],
            "seed": seed,
        }
    if spec == "digits":
        return {"spec": spec, "size": size or prof.digits_size, "seed": seed}
    if spec.startswith("imagefolder:"):
        return {"spec": spec, "size": size or prof.image_size, "seed": seed, **FOLDER_OPTIONS, **options}
    if size is not None:
        raise ValueError(f"image_size: the tabular dataset {spec!r} has no image size")
    return {"spec": spec, "seed": seed}


def _check_spec(spec: str) -> None:
    if not isinstance(spec, str) or not (spec in EMBEDDED or spec.startswith("imagefolder:")):
        raise ValueError(f"dataset: expected one of {list(EMBEDDED)} or 'imagefolder:PATH', got {spec!r}")


def _to_images(arr: np.ndarray) -> torch.Tensor:
    """uint8 (N, H, W, C) or (N, C, H, W) -> float (N, C, H, W) in [0, 1]."""
    t = torch.from_numpy(np.ascontiguousarray(arr))
    if t.shape[-1] in (1, 3):
        t = t.permute(0, 3, 1, 2)
    return t.contiguous().float() / 255.0


def _shapes_split(spec: str, cfg: dict, split: str) -> dict[str, np.ndarray]:
    n = dict(zip(SPLITS, cfg["n"], strict=True))[split]
    path = cache_dir() / "datasets" / f"{spec}-{split}-{config_key(cfg)}.npz"

    def build() -> bytes:
        return npz_bytes(**shapes.generate(SHAPES_VARIANTS[spec], n, cfg["size"], cfg["seed"], split))

    with np.load(io.BytesIO(cached_bytes(path, build))) as z:
        return {k: z[k] for k in z.files}


def load_dataset(
    spec: str, split: str = "test", profile: str | Profile = "book", seed: int = 0, size: int | None = None, **options
) -> Dataset:
    """Load one split (``train``, ``val`` or ``test``) of a dataset given by spec; ``size`` overrides the
    profile's image side, ``options`` are image-folder options (see :mod:`.imagefolder`)."""
    cfg = dataset_config(spec, profile, seed, size, **options)
    if split not in SPLITS:
        raise ValueError(f"split: expected one of {list(SPLITS)}, got {split!r}")
    if spec in SHAPES_VARIANTS:
        d = _shapes_split(spec, cfg, split)
        classes = shapes.PAIR_CLASSES if spec == "shapes_pair" else shapes.MULTI_CLASSES
        extra = {"object": torch.from_numpy(d["object_masks"])}
        if spec == "shapes_spurious":
            extra["cue"] = torch.from_numpy(d["cue_masks"])
        return Dataset(
            spec, split, _to_images(d["images"]), torch.from_numpy(d["labels"]), classes,
            masks=torch.from_numpy(d["masks"]), extra_masks=extra,
        )  # fmt: skip
    if spec == "digits":
        d = sklearn_sets.digits(cfg["size"], seed)[split]
        classes = tuple(str(i) for i in range(10))
        return Dataset(spec, split, _to_images(d["images"]), torch.from_numpy(d["labels"]), classes)
    if spec in sklearn_sets.TABULAR:
        parts, classes, features = sklearn_sets.tabular(spec, seed)
        d = parts[split]
        return Dataset(
            spec, split, torch.from_numpy(d["features"]), torch.from_numpy(d["labels"]), classes,
            feature_names=features,
        )  # fmt: skip
    parts, classes = imagefolder.load(
        spec.split(":", 1)[1], cfg["size"], seed, cfg["channels"], cfg["resize"], cfg["crop_fraction"]
    )
    d = parts[split]
    masks = torch.from_numpy(d["masks"]) if d["has_mask"].all() and len(d["has_mask"]) else None
    return Dataset(
        spec, split, _to_images(d["images"]), torch.from_numpy(d["labels"]).long(), classes, masks=masks,
        files=tuple(str(f) for f in d["files"]),
    )  # fmt: skip
