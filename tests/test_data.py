"""Embedded datasets: determinism, masks on their objects, caching, and the user's image folder."""

import numpy as np
import pytest
import torch
from PIL import Image

from xai_lib.cache import cache_dir
from xai_lib.data import EMBEDDED, load_dataset, shapes


@pytest.mark.parametrize("variant", ["multi", "pair", "spurious"])
def test_shapes_bit_identical_for_a_seed(variant):
    a = shapes.generate(variant, 24, 48, seed=3, split="train")
    b = shapes.generate(variant, 24, 48, seed=3, split="train")
    for k in a:
        assert np.array_equal(a[k], b[k]), k
    c = shapes.generate(variant, 24, 48, seed=4, split="train")
    assert not np.array_equal(a["images"], c["images"])


def test_image_i_does_not_depend_on_n_or_other_splits():
    small = shapes.generate("multi", 5, 32, seed=0, split="val")
    large = shapes.generate("multi", 17, 32, seed=0, split="val")
    assert np.array_equal(small["images"], large["images"][:5])
    test = shapes.generate("multi", 5, 32, seed=0, split="test")
    assert not np.array_equal(small["images"], test["images"])


@pytest.mark.parametrize("variant", ["multi", "pair", "spurious"])
def test_every_mask_lies_on_its_object(variant):
    d = shapes.generate(variant, 64, 64, seed=1, split="test")
    part, obj = d["masks"], d["object_masks"]
    assert np.all(part <= obj), "part pixels outside the object"
    assert np.all(part.sum((1, 2)) > 0), "an image with an empty discriminative part"
    assert np.all(~(obj & d["cue_masks"])), "the spurious mark overlaps the object mask"
    if variant == "pair":  # the ears are a strict, small part of the animal
        assert np.all(part.sum((1, 2)) < 0.5 * obj.sum((1, 2)))
    else:  # the part is the whole visible object
        assert np.array_equal(part, obj)


def test_object_pixels_differ_from_background():
    d = shapes.generate("multi", 32, 64, seed=0, split="train")
    img = d["images"].astype(float) / 255
    for i in range(32):
        inside = img[i][d["object_masks"][i]].mean(0)
        outside = img[i][~d["object_masks"][i]].mean(0)
        assert np.linalg.norm(inside - outside) > 0.05


def test_labels_are_balanced_and_pair_is_binary():
    d = shapes.generate("multi", 80, 32, seed=0, split="train")
    assert np.array_equal(np.bincount(d["labels"]), np.full(8, 10))
    p = shapes.generate("pair", 10, 32, seed=0, split="train")
    assert set(p["labels"]) == {0, 1}


def test_spurious_cue_is_class_correlated_and_magenta():
    d = shapes.generate("spurious", 400, 48, seed=0, split="train")
    has = d["cue_masks"].any((1, 2))
    rate0 = has[d["labels"] == shapes.CUE_CLASS].mean()
    rate_other = has[d["labels"] != shapes.CUE_CLASS].mean()
    assert rate0 > 0.75 and rate_other < 0.1
    pix = d["images"][d["cue_masks"]].astype(int)
    assert np.all(np.abs(pix - np.array([255, 0, 255])) <= 40)  # magenta up to pixel noise


def test_shapes_bad_arguments():
    with pytest.raises(ValueError, match="variant"):
        shapes.generate("triangles", 2, 32, 0, "train")
    with pytest.raises(ValueError, match="split"):
        shapes.generate("multi", 2, 32, 0, "holdout")
    with pytest.raises(ValueError, match="size"):
        shapes.generate("multi", 2, 8, 0, "train")


@pytest.mark.parametrize("spec", EMBEDDED)
def test_every_embedded_dataset_loads_in_range(spec):
    d = load_dataset(spec, "test", "smoke")
    assert d.inputs.dtype == torch.float32
    assert 0.0 <= d.inputs.min() and d.inputs.max() <= 1.0
    assert d.labels.min() >= 0 and d.labels.max() < d.num_classes
    assert d.kind == ("tabular" if spec in ("breast_cancer", "wine") else "image")


def test_tabular_train_split_spans_unit_interval():
    d = load_dataset("wine", "train", "smoke")
    np.testing.assert_allclose(d.inputs.min(0).values, 0.0)
    np.testing.assert_allclose(d.inputs.max(0).values, 1.0)


def test_splits_are_disjoint_for_sklearn_sets():
    rows = [load_dataset("digits", s, "smoke").inputs.flatten(1) for s in ("train", "val", "test")]
    assert sum(len(r) for r in rows) == 1797


def test_cache_corruption_is_detected_and_rebuilt(fresh_cache):
    first = load_dataset("shapes", "val", "smoke")
    files = sorted((cache_dir() / "datasets").glob("shapes-val-*.npz"))
    assert len(files) == 1
    files[0].write_bytes(files[0].read_bytes()[:-100] + b"x" * 100)  # torn / corrupted
    again = load_dataset("shapes", "val", "smoke")
    assert torch.equal(first.inputs, again.inputs)
    assert torch.equal(first.masks, again.masks)


def test_load_dataset_errors_name_the_parameter():
    with pytest.raises(ValueError, match="dataset"):
        load_dataset("imagenet")
    with pytest.raises(ValueError, match="split"):
        load_dataset("shapes", "holdout", "smoke")
    with pytest.raises(ValueError, match="profile"):
        load_dataset("shapes", "test", "huge")


def _write_folder(root, classes=("ant", "bee"), per_class=5, size=20, masks=True):
    rng = np.random.default_rng(0)
    for c in classes:
        (root / c).mkdir(parents=True)
        for i in range(per_class):
            Image.fromarray(rng.integers(0, 256, (size, size, 3), dtype=np.uint8)).save(root / c / f"im{i}.png")
            if masks:
                m = np.zeros((size, size), np.uint8)
                m[2:8, 3:9] = 255
                Image.fromarray(m).save(root / c / f"im{i}_mask.png")


def test_imagefolder_with_masks(tmp_path):
    _write_folder(tmp_path / "imgs")
    spec = f"imagefolder:{tmp_path / 'imgs'}"
    parts = {s: load_dataset(spec, s, "smoke") for s in ("train", "val", "test")}
    assert sum(len(p) for p in parts.values()) == 10
    d = parts["train"]
    assert d.class_names == ("ant", "bee") and d.input_shape == (3, 32, 32)
    assert d.masks is not None and d.masks.any()
    assert not d.masks[:, 20:, :].any()  # the mask was resized with its image (rows 2..8 of 20 -> 3..13 of 32)


def test_imagefolder_explicit_splits_and_no_masks(tmp_path):
    _write_folder(tmp_path / "f" / "train", masks=False)
    _write_folder(tmp_path / "f" / "test", per_class=2, masks=False)
    d = load_dataset(f"imagefolder:{tmp_path / 'f'}", "test", "smoke", size=16)
    assert len(d) == 4 and d.masks is None and d.input_shape == (3, 16, 16)


def test_imagefolder_errors(tmp_path):
    with pytest.raises(ValueError, match="not a directory"):
        load_dataset(f"imagefolder:{tmp_path / 'missing'}", "test", "smoke")
    _write_folder(tmp_path / "one", classes=("only",))
    with pytest.raises(ValueError, match="2 class"):
        load_dataset(f"imagefolder:{tmp_path / 'one'}", "test", "smoke")
