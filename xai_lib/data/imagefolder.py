"""``imagefolder:PATH``: a user's own images, one subfolder per class, as they really come.

Layout::

    PATH/<class>/<name>.<ext>          an image (any format and mode PIL reads: PNG, JPEG, WebP, TIFF, BMP, GIF)
    PATH/<class>/<name>_mask.png       optional ground-truth mask (non-zero = discriminative part)

or the same under ``PATH/train``, ``PATH/val``, ``PATH/test`` for explicit splits (no ``val``: the train split
serves as val). Without explicit splits the images are split 60/15/25 per class, deterministically from the
seed.

Every image is brought to ``size x size`` pixels in [0, 1]:

* EXIF orientation is applied; 16-bit and float grayscale are scaled to 8 bits; transparent images (RGBA, LA,
  palette with transparency) are composited onto a **white** background; CMYK, YCbCr, palette and 1-bit
  images are converted; then to RGB (``channels=3``) or luminance (``channels=1``).
* ``resize="crop"`` (default): the shorter side is scaled to ``size / crop_fraction`` (bilinear, antialiased)
  and the central ``size x size`` square is cut out (torchvision's ImageNet evaluation is
  ``crop_fraction=0.875``: resize to 256, crop 224). ``resize="stretch"``: scaled to ``size x size``,
  ignoring the aspect ratio. Masks take the same geometry with nearest-neighbour sampling.

A file PIL cannot read stops with an error naming it. The decoded arrays are cached under the cache folder,
keyed by the folder's listing (paths, sizes, modification times) and these options, so a second load of an
unchanged folder reads one file.
"""

from __future__ import annotations

import io
import warnings
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from ..cache import cache_dir, cached_bytes, config_key, npz_bytes
from .sklearn_sets import SPLIT_SHARES

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp"}
MASK_TAG = "_mask"
RESIZE_MODES = ("crop", "stretch")
LOADER_VERSION = 2


def _scan(root: Path) -> tuple[list[Path], list[int], tuple[str, ...]]:
    classes = tuple(sorted(p.name for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")))
    if len(classes) < 2:
        raise ValueError(f"dataset: imagefolder {root} needs >= 2 class subfolders, found {list(classes)}")
    files, labels = [], []
    for c, name in enumerate(classes):
        found = [
            f
            for f in sorted((root / name).iterdir())
            if f.is_file() and f.suffix.lower() in IMAGE_SUFFIXES and not f.stem.endswith(MASK_TAG)
        ]
        if not found:
            raise ValueError(f"dataset: class folder {str(root / name)!r} holds no image ({sorted(IMAGE_SUFFIXES)})")
        files += found
        labels += [c] * len(found)
    return files, labels, classes


def _to_8bit(im: Image.Image) -> Image.Image:
    """16-bit / 32-bit integer and float grayscale -> 8-bit 'L' (integers by their type's range, floats as
    [0, 1] unless their maximum exceeds 1, then by their maximum)."""
    arr = np.asarray(im)
    if im.mode == "F":
        top = float(arr.max()) if arr.size and float(arr.max()) > 1.0 else 1.0
        arr = arr / top * 255.0
    else:
        top = 65535.0 if arr.max(initial=0) > 255 else 255.0
        arr = arr.astype(np.float64) / top * 255.0
    return Image.fromarray(np.clip(np.round(arr), 0, 255).astype(np.uint8), mode="L")


def normalise_mode(im: Image.Image, channels: int) -> Image.Image:
    """Any PIL image -> 'RGB' (``channels=3``) or 'L' (``channels=1``), transparency composited onto white."""
    im = ImageOps.exif_transpose(im)
    if im.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        im = _to_8bit(im)
    if im.mode == "P":
        im = im.convert("RGBA" if "transparency" in im.info else "RGB")
    if im.mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        rgba = im.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        im = Image.alpha_composite(white, rgba)
    return im.convert("RGB" if channels == 3 else "L")


def fit(im: Image.Image, size: int, resize: str, crop_fraction: float, resample: int) -> Image.Image:
    """Bring an image to ``size x size`` (see the module notes)."""
    if resize == "stretch":
        return im.resize((size, size), resample)
    w, h = im.size
    short = size / crop_fraction
    scale = short / min(w, h)
    nw, nh = max(size, round(w * scale)), max(size, round(h * scale))
    im = im.resize((nw, nh), resample)
    left, top = (nw - size) // 2, (nh - size) // 2
    return im.crop((left, top, left + size, top + size))


def read_image(
    path: Path, size: int, channels: int = 3, resize: str = "crop", crop_fraction: float = 1.0
) -> np.ndarray:
    """One image file as uint8 ``(size, size, channels)``; an unreadable file is a ValueError naming it."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # e.g. PIL's "palette images with transparency" notice
            with Image.open(path) as im:
                im.load()
                out = fit(normalise_mode(im, channels), size, resize, crop_fraction, Image.BILINEAR)
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        raise ValueError(f"dataset: cannot read image file {str(path)!r}: {exc}") from exc
    arr = np.asarray(out, dtype=np.uint8)
    return arr[..., None] if arr.ndim == 2 else arr


def read_mask(path: Path, size: int, resize: str, crop_fraction: float) -> np.ndarray:
    try:
        with Image.open(path) as im:
            im.load()
            m = fit(normalise_mode(im, 1), size, resize, crop_fraction, Image.NEAREST)
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise ValueError(f"dataset: cannot read mask file {str(path)!r}: {exc}") from exc
    return np.asarray(m) > 0


def _load(files: list[Path], size: int, channels: int, resize: str, crop_fraction: float) -> dict[str, np.ndarray]:
    images = np.empty((len(files), size, size, channels), np.uint8)
    masks = np.zeros((len(files), size, size), bool)
    has_mask = np.zeros(len(files), bool)
    for i, f in enumerate(files):
        images[i] = read_image(f, size, channels, resize, crop_fraction)
        m = f.with_name(f.stem + MASK_TAG + ".png")
        if m.exists():
            masks[i] = read_mask(m, size, resize, crop_fraction)
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


def check_options(size: int, channels: int, resize: str, crop_fraction: float) -> None:
    if isinstance(size, bool) or not isinstance(size, int) or size < 8:
        raise ValueError(f"image_size: expected an int >= 8 pixels, got {size!r}")
    if channels not in (1, 3):
        raise ValueError(f"channels: expected 1 or 3, got {channels!r}")
    if resize not in RESIZE_MODES:
        raise ValueError(f"resize: expected one of {list(RESIZE_MODES)}, got {resize!r}")
    if not isinstance(crop_fraction, int | float) or not 0 < crop_fraction <= 1:
        raise ValueError(f"crop_fraction: expected a number in (0, 1], got {crop_fraction!r}")


def _listing_key(root: Path, options: dict) -> str:
    """Content key of a folder: every file's relative path, size and modification time, and the options."""
    entries = []
    for f in sorted(root.rglob("*")):
        if f.is_file() and f.suffix.lower() in IMAGE_SUFFIXES:
            st = f.stat()
            entries.append([f.relative_to(root).as_posix(), st.st_size, st.st_mtime_ns])
    return config_key({"root": str(root), "files": entries, "options": options, "version": LOADER_VERSION})


def _read_all(root: Path, size: int, seed: int, channels: int, resize: str, crop_fraction: float) -> dict:
    if all((root / s).is_dir() for s in ("train", "test")):
        out: dict[str, np.ndarray] = {}
        classes = None
        for split in ("train", "val", "test"):
            if not (root / split).is_dir():
                continue
            files, labels, cls = _scan(root / split)
            if classes is not None and cls != classes:
                raise ValueError(f"dataset: imagefolder split {split!r} has classes {cls}, expected {classes}")
            classes = cls
            for k, v in {**_load(files, size, channels, resize, crop_fraction), "labels": labels}.items():
                out[f"{split}/{k}"] = np.asarray(v)
            out[f"{split}/files"] = np.asarray([f.relative_to(root).as_posix() for f in files])
        if "val/images" not in out:
            for k in [k for k in out if k.startswith("train/")]:
                out["val/" + k.split("/", 1)[1]] = out[k]
        out["classes"] = np.asarray(classes)
        return out
    files, labels, classes = _scan(root)
    data = {**_load(files, size, channels, resize, crop_fraction), "labels": np.asarray(labels, np.int64)}
    data["files"] = np.asarray([f.relative_to(root).as_posix() for f in files])
    out = {"classes": np.asarray(classes)}
    for split, idx in per_class_split(data["labels"], seed).items():
        for k, v in data.items():
            out[f"{split}/{k}"] = v[idx]
    return out


def load(
    path: str | Path, size: int, seed: int, channels: int = 3, resize: str = "crop", crop_fraction: float = 1.0
) -> tuple[dict[str, dict[str, np.ndarray]], tuple[str, ...]]:
    """The three splits ``{split: {"images", "masks", "has_mask", "labels", "files"}}`` and the class names."""
    check_options(size, channels, resize, crop_fraction)
    root = Path(path).expanduser().resolve()
    if not root.is_dir():
        raise ValueError(f"dataset: imagefolder path {str(root)!r} is not a directory")
    options = {"size": size, "seed": seed, "channels": channels, "resize": resize, "crop_fraction": crop_fraction}
    cache_file = cache_dir() / "datasets" / f"imagefolder-{_listing_key(root, options)}.npz"
    blob = cached_bytes(cache_file, lambda: npz_bytes(**_read_all(root, size, seed, channels, resize, crop_fraction)))
    with np.load(io.BytesIO(blob)) as z:
        flat = {k: z[k] for k in z.files}
    parts: dict[str, dict[str, np.ndarray]] = {}
    for key, value in flat.items():
        if "/" in key:
            split, name = key.split("/", 1)
            parts.setdefault(split, {})[name] = value
    return parts, tuple(str(c) for c in flat["classes"])
