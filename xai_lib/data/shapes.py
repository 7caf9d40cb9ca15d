"""``shapes``: procedurally generated RGB scenes with a ground-truth mask of the class-discriminative part.

Three variants share one renderer:

* ``multi``: 8 object classes (disk, ring, square, triangle, cross, star, crescent, hexagon) on textured
  backgrounds with distractors and partial occlusion. The class is the object's shape, so the
  discriminative part is the whole visible object.
* ``pair``: the binary "cat vs dog" of the GAD chapters. Both classes are the same face (disk, eyes, muzzle);
  they differ only in the ears (pointed triangles vs round lobes). The mask is the ears.
* ``spurious``: ``multi`` plus a small magenta corner mark present in most images of class 0 and few others
  (GAX's "false distinct feature" study); the mark's pixels are the ``cue`` mask.

Each image is drawn from its own random stream ``(seed, split, index)``: image ``i`` is the same whatever
the number of images requested, and the whole set is bit-identical for a seed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage
from skimage.draw import polygon2mask

GENERATOR_VERSION = 1
MULTI_CLASSES = ("disk", "ring", "square", "triangle", "cross", "star", "crescent", "hexagon")
PAIR_CLASSES = ("cat", "dog")
SPLIT_IDS = {"train": 0, "val": 1, "test": 2}
CUE_CLASS = 0
CUE_RATE_CLASS = 0.9  # share of class-0 images that carry the spurious mark
CUE_RATE_OTHER = 0.03
CUE_COLOUR = np.array([1.0, 0.0, 1.0])
OBJECT_CONTRAST = 0.5  # minimum RGB distance between the object and the background at its centre


@dataclass
class Scene:
    image: np.ndarray  # (H, W, 3) float in [0, 1]
    part: np.ndarray  # (H, W) bool: class-discriminative part
    obj: np.ndarray  # (H, W) bool: visible object
    cue: np.ndarray  # (H, W) bool: spurious mark


def _rng(seed: int, split: str, index: int) -> np.random.Generator:
    return np.random.default_rng([seed, SPLIT_IDS[split], index, GENERATOR_VERSION])


def _colour(rng: np.random.Generator, avoid: np.ndarray | None = None, min_dist: float = 0.35) -> np.ndarray:
    """A random RGB colour at least ``min_dist`` (Euclidean) from ``avoid``."""
    for _ in range(50):
        c = rng.uniform(0.05, 0.95, size=3)
        if avoid is None or np.linalg.norm(c - avoid) >= min_dist:
            return c
    return c


def _background(rng: np.random.Generator, size: int) -> np.ndarray:
    """Smooth colour field + an oriented grating + blotches: a cluttered texture."""
    base = rng.uniform(0.2, 0.8, size=3)
    coarse = rng.normal(0.0, 1.0, size=(6, 6, 3))
    field = ndimage.zoom(coarse, (size / 6, size / 6, 1), order=1)[:size, :size]
    yy, xx = np.mgrid[0:size, 0:size] / size
    angle = rng.uniform(0, np.pi)
    freq = rng.uniform(3, 9)
    grating = np.sin(2 * np.pi * freq * (np.cos(angle) * xx + np.sin(angle) * yy) + rng.uniform(0, 6.3))
    tint = rng.uniform(-1, 1, size=3)
    img = base + 0.1 * field + 0.06 * grating[..., None] * tint
    return np.clip(img, 0, 1)


def _rotated_grid(size: int, cx: float, cy: float, angle: float) -> tuple[np.ndarray, np.ndarray]:
    yy, xx = np.mgrid[0:size, 0:size].astype(float) + 0.5
    dx, dy = xx - cx, yy - cy
    c, s = np.cos(angle), np.sin(angle)
    return c * dx + s * dy, -s * dx + c * dy


def _regular_polygon(size, cx, cy, r, n, angle, star_ratio=None) -> np.ndarray:
    k = np.arange(n * (2 if star_ratio else 1))
    step = np.pi / n if star_ratio else 2 * np.pi / n
    radii = np.where(k % 2 == 0, r, r * star_ratio) if star_ratio else np.full(len(k), r)
    theta = angle + k * step - np.pi / 2
    rows = cy + radii * np.sin(theta)
    cols = cx + radii * np.cos(theta)
    return polygon2mask((size, size), np.stack([rows, cols], axis=1))


def _shape_mask(name: str, size: int, cx: float, cy: float, r: float, angle: float) -> np.ndarray:
    u, v = _rotated_grid(size, cx, cy, angle)
    rad = np.hypot(u, v)
    if name == "disk":
        return rad < r
    if name == "ring":
        return (rad < r) & (rad > 0.55 * r)
    if name == "square":
        return np.maximum(np.abs(u), np.abs(v)) < 0.8 * r
    if name == "triangle":
        return _regular_polygon(size, cx, cy, 1.1 * r, 3, angle)
    if name == "cross":
        arm, half = 0.32 * r, 1.0 * r
        return ((np.abs(u) < arm) & (np.abs(v) < half)) | ((np.abs(v) < arm) & (np.abs(u) < half))
    if name == "star":
        return _regular_polygon(size, cx, cy, 1.15 * r, 5, angle, star_ratio=0.45)
    if name == "crescent":
        return (rad < r) & (np.hypot(u - 0.45 * r, v) > 0.8 * r)
    if name == "hexagon":
        return _regular_polygon(size, cx, cy, r, 6, angle)
    raise ValueError(f"shape: unknown shape {name!r}")


def _distractors(rng: np.random.Generator, img: np.ndarray, count: int, scale: float) -> None:
    """Paint ``count`` small generic shapes (blobs, bars, rings) onto ``img`` in place."""
    size = img.shape[0]
    for _ in range(count):
        kind = rng.integers(0, 3)
        cx, cy = rng.uniform(0, size, size=2)
        r = rng.uniform(0.04, 0.1) * size * scale
        u, v = _rotated_grid(size, cx, cy, rng.uniform(0, np.pi))
        if kind == 0:
            m = np.hypot(u / 1.6, v) < r
        elif kind == 1:
            m = (np.abs(u) < 2.2 * r) & (np.abs(v) < 0.35 * r)
        else:
            m = (np.hypot(u, v) < r) & (np.hypot(u, v) > 0.6 * r)
        img[m] = _colour(rng)


def _outline(img: np.ndarray, mask: np.ndarray, colour: np.ndarray) -> None:
    """Darken the one-pixel rim of ``mask``: objects have edges, whatever their colour."""
    rim = mask & ~ndimage.binary_erosion(mask)
    img[rim] = colour * 0.3


def _finish(rng: np.random.Generator, img: np.ndarray) -> np.ndarray:
    img = img + rng.normal(0.0, 0.03, size=img.shape)
    return np.clip(img, 0.0, 1.0)


def _occluder(rng: np.random.Generator, size: int, cx: float, cy: float, r: float) -> np.ndarray:
    """A bar crossing the object's rim: hides part of it without erasing the class."""
    ang = rng.uniform(0, np.pi)
    off = rng.uniform(0.6, 1.0) * r
    ox, oy = cx + off * np.cos(ang), cy + off * np.sin(ang)
    u, v = _rotated_grid(size, ox, oy, ang + np.pi / 2)
    return (np.abs(u) < rng.uniform(0.6, 1.0) * r) & (np.abs(v) < rng.uniform(0.12, 0.2) * r)


def render_multi(rng: np.random.Generator, label: int, size: int) -> Scene:
    img = _background(rng, size)
    _distractors(rng, img, int(rng.integers(3, 7)), scale=1.0)
    r = rng.uniform(0.14, 0.24) * size
    cx, cy = rng.uniform(r + 2, size - r - 2, size=2)
    obj = _shape_mask(MULTI_CLASSES[label], size, cx, cy, r, rng.uniform(0, 2 * np.pi))
    colour = _colour(rng, avoid=img[int(cy), int(cx)], min_dist=OBJECT_CONTRAST)
    img[obj] = colour
    _outline(img, obj, colour)
    if rng.uniform() < 0.35:
        occ = _occluder(rng, size, cx, cy, r)
        img[occ] = _colour(rng)
        obj = obj & ~occ
    return Scene(_finish(rng, img), obj.copy(), obj, np.zeros_like(obj))


def render_pair(rng: np.random.Generator, label: int, size: int) -> Scene:
    img = _background(rng, size)
    _distractors(rng, img, int(rng.integers(3, 7)), scale=1.0)
    r = rng.uniform(0.17, 0.23) * size
    cx = rng.uniform(1.6 * r, size - 1.6 * r)
    cy = rng.uniform(1.9 * r, size - 1.3 * r)
    tilt = rng.uniform(-0.5, 0.5)
    u, v = _rotated_grid(size, cx, cy, tilt)
    face = np.hypot(u, v) < r
    ears = np.zeros_like(face)
    for side in (-1, 1):
        # ear anchor on the upper rim, in the face's rotated frame
        ex, ey = side * 0.62 * r, -0.72 * r
        if label == 0:  # cat: pointed triangle
            tri = np.array(
                [
                    [ex - 0.42 * r, ey + 0.1 * r],
                    [ex + 0.42 * r, ey + 0.1 * r],
                    [ex + side * 0.15 * r, ey - 0.95 * r],
                ]
            )
            c, s = np.cos(tilt), np.sin(tilt)
            cols = cx + c * tri[:, 0] - s * tri[:, 1]
            rows = cy + s * tri[:, 0] + c * tri[:, 1]
            ear = polygon2mask((size, size), np.stack([rows, cols], axis=1))
        else:  # dog: round lobe of about the same area
            ear = np.hypot((u - ex - side * 0.05 * r) / 0.42, (v - ey + 0.3 * r) / 0.5) < r
        ears |= ear
    ears &= ~face
    colour = _colour(rng, avoid=img[int(cy), int(cx)], min_dist=OBJECT_CONTRAST)
    ear_colour = np.clip(colour * rng.uniform(0.7, 1.1), 0, 1)
    img[face] = colour
    img[ears] = ear_colour
    _outline(img, face | ears, colour)
    # shared features: eyes and muzzle, same for both classes
    for side in (-1, 1):
        img[np.hypot(u - side * 0.38 * r, v + 0.15 * r) < 0.13 * r] = colour * 0.2
    img[np.hypot(u / 1.3, v - 0.38 * r) < 0.2 * r] = np.clip(colour * 0.5 + 0.3, 0, 1)
    obj = face | ears
    if rng.uniform() < 0.25:
        occ = _occluder(rng, size, cx, cy, r)
        img[occ] = _colour(rng)
        obj &= ~occ
        ears &= ~occ
    return Scene(_finish(rng, img), ears, obj, np.zeros_like(obj))


def _paint_cue(rng: np.random.Generator, scene: Scene, size: int) -> None:
    side = max(2, size // 12)
    r0, c0 = rng.integers(1, 4, size=2)
    cue = np.zeros((size, size), dtype=bool)
    cue[r0 : r0 + side, c0 : c0 + side] = True
    scene.image[cue] = CUE_COLOUR
    scene.cue = cue
    scene.obj &= ~cue
    scene.part &= ~cue


def generate(variant: str, n: int, size: int, seed: int, split: str) -> dict[str, np.ndarray]:
    """Render ``n`` scenes of ``variant``; labels cycle over the classes (balanced).

    Returns uint8 ``images (n, size, size, 3)``, int64 ``labels``, bool ``masks`` (discriminative part),
    ``object_masks`` and ``cue_masks``.
    """
    if variant not in ("multi", "pair", "spurious"):
        raise ValueError(f"variant: expected 'multi', 'pair' or 'spurious', got {variant!r}")
    if split not in SPLIT_IDS:
        raise ValueError(f"split: expected one of {sorted(SPLIT_IDS)}, got {split!r}")
    if size < 16:
        raise ValueError(f"size: expected an image side >= 16 pixels, got {size}")
    n_classes = len(PAIR_CLASSES) if variant == "pair" else len(MULTI_CLASSES)
    render = render_pair if variant == "pair" else render_multi
    out = {
        "images": np.empty((n, size, size, 3), np.uint8),
        "labels": np.empty(n, np.int64),
        "masks": np.empty((n, size, size), bool),
        "object_masks": np.empty((n, size, size), bool),
        "cue_masks": np.zeros((n, size, size), bool),
    }
    for i in range(n):
        rng = _rng(seed, split, i)
        label = i % n_classes
        scene = render(rng, label, size)
        if variant == "spurious":
            rate = CUE_RATE_CLASS if label == CUE_CLASS else CUE_RATE_OTHER
            if rng.uniform() < rate:
                _paint_cue(rng, scene, size)
        out["images"][i] = np.round(scene.image * 255).astype(np.uint8)
        out["labels"][i] = label
        out["masks"][i] = scene.part
        out["object_masks"][i] = scene.obj
        out["cue_masks"][i] = scene.cue
    return out
