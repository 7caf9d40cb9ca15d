"""The book's own models: the registry architectures (``vgg``, ``resnet``, ``mlp``), each trained once per
dataset and profile by :func:`default_model_info` (shipped for the book's profiles, see :mod:`.shipped`; cached by
configuration otherwise); ``<arch>_sub`` is the same run's under-trained snapshot (see :mod:`.training`)."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import torch
from torch import nn

from ..cache import cache_dir, config_key, load_checked, save_checked
from ..data import Dataset, dataset_config, load_dataset
from ..profiles import Profile, get_profile
from . import shipped
from .architectures import MLP, SmallResNet, SmallVGG
from .training import train_classifier

#: a `_sub` snapshot *reached* its target when its check accuracy lies within this of the target
SUB_TOLERANCE = 0.05


REGISTRY = ("vgg", "resnet", "mlp")
#: the (dataset, architecture) pairs that ``data_scripts/build.py`` trains for the book
DEFAULT_MODELS = (
    ("shapes", "vgg"),
    ("shapes", "resnet"),
    ("shapes_pair", "vgg"),
    ("shapes_pair", "resnet"),
    ("shapes_spurious", "resnet"),
    ("digits", "vgg"),
    ("digits", "resnet"),
    ("breast_cancer", "mlp"),
    ("wine", "mlp"),
)
TRAINING_VERSION = 4


def build_architecture(arch: str, data: Dataset) -> nn.Module:
    """A freshly initialised registry architecture sized for ``data``."""
    if arch not in REGISTRY:
        raise ValueError(f"model: expected one of {list(REGISTRY)}, got {arch!r}")
    if (arch == "mlp") != (data.kind == "tabular"):
        want = "tabular" if arch == "mlp" else "image"
        raise ValueError(f"model: {arch!r} needs {want} data, dataset {data.name!r} is {data.kind}")
    if arch == "mlp":
        return MLP(data.input_shape[0], data.num_classes)
    cls = SmallVGG if arch == "vgg" else SmallResNet
    return cls(in_channels=data.input_shape[0], num_classes=data.num_classes)


def split_registry_name(spec: str) -> tuple[str, bool] | None:
    """``"resnet_sub"`` -> ``("resnet", True)``; ``None`` for a spec that is not a registry name."""
    arch, sub = (spec[:-4], True) if spec.endswith("_sub") else (spec, False)
    return (arch, sub) if arch in REGISTRY else None


def training_config(arch: str, dataset: str, profile: Profile, seed: int, size: int | None) -> dict[str, Any]:
    tc = profile.training_config()
    if arch == "mlp":
        tc["epochs"] = tc.pop("tabular_epochs")
        tc["batch_size"] = 32
    else:
        tc.pop("tabular_epochs")
    return {
        "arch": arch,
        "data": dataset_config(dataset, profile, seed, size),
        "train": tc,
        "seed": seed,
        "version": TRAINING_VERSION,
        "torch": torch.__version__.split("+")[0],
        "threads": torch.get_num_threads(),
    }


def _model_path(arch: str, dataset: str, cfg: dict[str, Any]) -> Path:
    safe = dataset.replace(":", "_").replace("/", "_")
    return cache_dir() / "models" / f"{safe}-{arch}-{config_key(cfg)}.pt"


def default_model_info(
    arch: str, dataset: str, profile: str | Profile = "book", seed: int = 0, progress: bool = True,
    size: int | None = None,
) -> dict[str, Any]:  # fmt: skip
    """The default ``arch`` on ``dataset`` (at image side ``size``, default the profile's): the shipped model when
    this configuration is shipped (:mod:`.shipped`), else trained (or loaded from the cache); returns the final and
    ``_sub`` weights and the training metadata."""
    prof = get_profile(profile)
    cfg = training_config(arch, dataset, prof, seed, size)
    entry = shipped.find(cfg)
    if entry is not None:  # the book's artefact: the same model on every machine (see :mod:`.shipped`)
        return torch.load(io.BytesIO(shipped.read(entry)), map_location="cpu", weights_only=True)
    path = _model_path(arch, dataset, cfg)
    data = load_checked(path)
    if data is not None:
        try:
            return torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
        except Exception:  # an unreadable file is rebuilt, like a corrupted one
            pass
    train, val = (load_dataset(dataset, s, prof, seed, size) for s in ("train", "val"))
    torch.manual_seed(seed)
    model = build_architecture(arch, train)
    tc = cfg["train"]
    res = train_classifier(
        model, train, val, epochs=tc["epochs"], batch_size=tc["batch_size"], lr=tc["lr"], seed=seed,
        sub_target=tc["sub_target"], progress=progress, desc=f"{arch} on {dataset}",
    )  # fmt: skip
    info = {
        "final": res.final,
        "sub": res.sub if res.sub is not None else res.final,
        "meta": json.dumps(
            {
                "config": cfg,
                "history": res.history,
                "sub_val_accuracy": res.sub_val_accuracy,
                "sub_step": res.sub_step,
                "sub_reached": res.sub_val_accuracy is not None
                and abs(res.sub_val_accuracy - tc["sub_target"]) <= SUB_TOLERANCE,
            }
        ),
    }
    buf = io.BytesIO()
    torch.save(info, buf)
    save_checked(path, buf.getvalue())
    return info


def default_model(
    spec: str, dataset: str, profile: str | Profile = "book", seed: int = 0, progress: bool = True,
    size: int | None = None,
) -> nn.Module:  # fmt: skip
    """The registry model ``spec`` (e.g. ``resnet_sub``) trained on ``dataset``, in eval mode."""
    parsed = split_registry_name(spec)
    if parsed is None:
        raise ValueError(f"model: expected one of {[*REGISTRY, *(r + '_sub' for r in REGISTRY)]}, got {spec!r}")
    arch, sub = parsed
    info = default_model_info(arch, dataset, profile, seed, progress, size)
    model = build_architecture(arch, load_dataset(dataset, "val", profile, seed, size).subset(slice(0, 1)))
    model.load_state_dict(info["sub" if sub else "final"])
    return model.eval()
