"""The shipped default models: every default model of the shipped profiles is shipped, taken without training,
checked against its manifest, refused when damaged; the data generated here is the data they were trained on."""

import json
import shutil

import pytest
import torch

from xai_lib.data import load_dataset
from xai_lib.models import DEFAULT_MODELS, default_model_info, shipped
from xai_lib.models import registry as registry_module
from xai_lib.models.loading import state_digest
from xai_lib.models.registry import training_config
from xai_lib.profiles import get_profile


@pytest.mark.parametrize("profile", [*shipped.SHIPPED_PROFILES, "class"])
def test_every_default_model_of_the_shipped_profiles_is_shipped(profile):
    """A change of a profile's training settings, a dataset's generator or the training version that is not
    followed by ``make models`` (retrain and ship) would silently make the book train its models again. ``class``
    ships nothing of its own: it takes the book's models (the same configuration)."""
    missing = [
        f"{d}/{a}" for d, a in DEFAULT_MODELS
        if shipped.find(training_config(a, d, get_profile(profile), 0, None)) is None
    ]  # fmt: skip
    assert not missing, f"not shipped for {profile}: {missing}; run `make models SHIP=1`"


def test_shipped_models_are_taken_without_training(monkeypatch, fresh_cache):
    def no_training(*args, **kwargs):
        raise AssertionError("a shipped model was trained")

    monkeypatch.setattr(registry_module, "train_classifier", no_training)
    for entry in shipped.entries():
        info = default_model_info(entry["arch"], entry["dataset"], entry["profile"], entry["seed"], progress=False)
        assert {w: state_digest(info[w]) for w in ("final", "sub")} == entry["weights"]
        assert json.loads(info["meta"])["config"]["seed"] == entry["seed"]
    assert not (fresh_cache / "models").exists()  # nothing trained, nothing cached


def test_the_lookup_ignores_the_machine_but_not_the_model():
    cfg = training_config("vgg", "shapes", get_profile("book"), 0, None)
    entry = shipped.find(cfg)
    assert entry is not None
    assert shipped.find({**cfg, "torch": "9.9.9", "threads": 64}) is entry  # another machine: the same model
    assert shipped.find(training_config("vgg", "shapes", get_profile("book"), 1, None)) is None  # another seed
    assert shipped.find(training_config("vgg", "shapes", get_profile("book"), 0, 48)) is None  # another size


def test_shipping_can_be_turned_off(monkeypatch):
    cfg = training_config("mlp", "wine", get_profile("smoke"), 0, None)
    monkeypatch.setenv("XAI_LIB_SHIPPED_MODELS", "0")
    assert shipped.find(cfg) is None
    monkeypatch.setenv("XAI_LIB_SHIPPED_MODELS", "perhaps")
    with pytest.raises(ValueError, match="XAI_LIB_SHIPPED_MODELS"):
        shipped.find(cfg)


def test_a_damaged_or_missing_shipped_file_is_refused_by_name(tmp_path):
    folder = tmp_path / "shipped"
    shutil.copytree(shipped.SHIPPED_DIR, folder)
    entry = next(e for e in shipped.entries() if e["profile"] == "smoke" and e["dataset"] == "wine")
    path = folder / entry["file"]
    assert shipped.read(entry, folder) == path.read_bytes()
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 1  # one flipped bit
    path.write_bytes(bytes(data))
    with pytest.raises(shipped.ShippedModelError, match=r"wine-mlp\.pt: SHA-256 .* differs from the manifest"):
        shipped.read(entry, folder)
    path.unlink()
    with pytest.raises(shipped.ShippedModelError, match="is missing"):
        shipped.read(entry, folder)


def test_the_data_generated_here_is_the_data_the_smoke_models_saw():
    """Bit for bit the same splits as on the machine that trained the shipped models (the book profile's are
    checked by ``make data``)."""
    for entry in (e for e in shipped.entries() if e["profile"] == "smoke"):
        for split, fingerprint in entry["data_fingerprints"].items():
            assert load_dataset(entry["dataset"], split, "smoke", entry["seed"]).fingerprint() == fingerprint, (
                f"{entry['dataset']}/{split}"
            )


def test_the_manifest_records_what_a_reader_needs():
    for entry in shipped.entries():
        assert (shipped.SHIPPED_DIR / entry["file"]).stat().st_size == entry["bytes"]
        assert set(entry["test_accuracy"]) == {"final", "sub"}
        assert 0 <= entry["test_accuracy"]["final"] <= 1
        assert entry["trained_with"]["torch"] and entry["config"]["train"]["epochs"] >= 1
    weights = torch.load(shipped.SHIPPED_DIR / shipped.entries()[0]["file"], weights_only=True)
    assert set(weights) == {"final", "sub", "meta"}
