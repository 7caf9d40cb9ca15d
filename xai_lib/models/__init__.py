"""Models by spec.

A chapter names its model by one string:

* a registry name: ``vgg``, ``resnet`` (image data) or ``mlp`` (tabular data), each optionally ``_sub`` for
  the deliberately under-trained variant; trained on the chapter's dataset by ``data_scripts/`` (or on first
  use), cached by configuration;
* ``package.module:factory`` plus ``weights=PATH`` (a state dict): your own architecture and weights;
* ``torchvision:NAME`` (plus optional ``weights=PATH``) where torchvision imports.

Models come back in eval mode with frozen parameters; their output shape is checked against the dataset.
"""

from __future__ import annotations

import importlib
import inspect
import io
import json
from pathlib import Path
from typing import Any

import torch
from torch import nn

from ..cache import cache_dir, config_key, load_checked, save_checked
from ..data import Dataset, dataset_config, load_dataset
from ..profiles import Profile, get_profile
from .architectures import MLP, SmallResNet, SmallVGG
from .training import TrainResult, accuracy, batched_logits, train_classifier

__all__ = [
    "MLP", "SmallResNet", "SmallVGG", "REGISTRY", "DEFAULT_MODELS", "build_architecture", "load_model", "default_model",
    "default_model_info", "batched_logits", "accuracy", "train_classifier", "TrainResult",
]  # fmt: skip

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


def _split_registry_name(spec: str) -> tuple[str, bool] | None:
    arch, sub = (spec[:-4], True) if spec.endswith("_sub") else (spec, False)
    return (arch, sub) if arch in REGISTRY else None


def _training_config(arch: str, dataset: str, profile: Profile, seed: int) -> dict[str, Any]:
    tc = profile.training_config()
    if arch == "mlp":
        tc["epochs"] = tc.pop("tabular_epochs")
        tc["batch_size"] = 32
    else:
        tc.pop("tabular_epochs")
    return {
        "arch": arch,
        "data": dataset_config(dataset, profile, seed),
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
    arch: str, dataset: str, profile: str | Profile = "book", seed: int = 0, progress: bool = True
) -> dict[str, Any]:
    """Train (or load from the cache) the default ``arch`` on ``dataset``; return weights and metadata."""
    prof = get_profile(profile)
    cfg = _training_config(arch, dataset, prof, seed)
    path = _model_path(arch, dataset, cfg)
    data = load_checked(path)
    if data is not None:
        try:
            return torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
        except Exception:  # an unreadable file is rebuilt, like a corrupted one
            pass
    train, val = load_dataset(dataset, "train", prof, seed), load_dataset(dataset, "val", prof, seed)
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
                and abs(res.sub_val_accuracy - tc["sub_target"]) <= 0.05,
            }
        ),
    }
    buf = io.BytesIO()
    torch.save(info, buf)
    save_checked(path, buf.getvalue())
    return info


def default_model(
    spec: str, dataset: str, profile: str | Profile = "book", seed: int = 0, progress: bool = True
) -> nn.Module:
    """The registry model ``spec`` (e.g. ``resnet_sub``) trained on ``dataset``, in eval mode."""
    parsed = _split_registry_name(spec)
    if parsed is None:
        raise ValueError(f"model: expected one of {[*REGISTRY, *(r + '_sub' for r in REGISTRY)]}, got {spec!r}")
    arch, sub = parsed
    info = default_model_info(arch, dataset, profile, seed, progress)
    model = build_architecture(arch, load_dataset(dataset, "val", profile, seed).subset(slice(0, 1)))
    model.load_state_dict(info["sub" if sub else "final"])
    return model


def _call_factory(factory: Any, data: Dataset) -> nn.Module:
    offered = {
        "num_classes": data.num_classes,
        "in_channels": data.input_shape[0] if data.kind == "image" else None,
        "in_features": data.input_shape[0] if data.kind == "tabular" else None,
        "image_size": data.input_shape[-1] if data.kind == "image" else None,
    }
    params = inspect.signature(factory).parameters
    takes_any = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())
    kwargs = {k: v for k, v in offered.items() if v is not None and (takes_any or k in params)}
    return factory(**kwargs)


def _import_factory(spec: str) -> Any:
    module_name, _, attr = spec.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ValueError(f"model: cannot import module {module_name!r} of spec {spec!r}: {exc}") from exc
    factory = getattr(module, attr, None)
    if not callable(factory):
        raise ValueError(f"model: {module_name!r} has no callable {attr!r} (spec {spec!r})")
    return factory


def _torchvision_model(name: str, data: Dataset) -> nn.Module:
    try:
        import torchvision
    except Exception as exc:  # ImportError, or a CUDA build that fails against a CPU torch
        raise ValueError(f"model: 'torchvision:{name}' needs torchvision, which does not import here: {exc}") from exc
    try:
        return torchvision.models.get_model(name, weights=None, num_classes=data.num_classes)
    except ValueError as exc:
        raise ValueError(f"model: torchvision has no model {name!r}: {exc}") from exc


def load_weights(model: nn.Module, weights: str | Path) -> None:
    """Load a state dict file into ``model``, strictly, with errors that name the ``weights`` parameter."""
    path = Path(weights).expanduser()
    if not path.is_file():
        raise ValueError(f"weights: file {str(path)!r} does not exist")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        raise ValueError(f"weights: {str(path)!r} is not a readable torch state dict: {exc}") from exc
    if isinstance(state, dict) and "state_dict" in state and isinstance(state["state_dict"], dict):
        state = state["state_dict"]
    if not isinstance(state, dict):
        raise ValueError(f"weights: {str(path)!r} holds a {type(state).__name__}, expected a state dict")
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as exc:
        raise ValueError(f"weights: {str(path)!r} does not fit the model: {exc}") from exc


def check_output_shape(model: nn.Module, data: Dataset, device: torch.device) -> None:
    """The model must map ``(B, *input_shape)`` to ``(B, num_classes)``."""
    x = data.inputs[:2].to(device)
    try:
        with torch.no_grad():
            out = model(x)
    except Exception as exc:
        raise ValueError(f"model: fails on inputs of shape {tuple(x.shape)} from dataset {data.name!r}: {exc}") from exc
    if not isinstance(out, torch.Tensor) or tuple(out.shape) != (x.shape[0], data.num_classes):
        got = tuple(out.shape) if isinstance(out, torch.Tensor) else type(out).__name__
        raise ValueError(
            f"model: output {got} does not match dataset {data.name!r}: expected ({x.shape[0]}, {data.num_classes})"
        )


def load_model(
    spec: str,
    dataset: str,
    *,
    weights: str | Path | None = None,
    profile: str | Profile = "book",
    seed: int = 0,
    device: str | torch.device = "cpu",
    progress: bool = True,
) -> nn.Module:
    """Resolve a model spec for ``dataset`` (a dataset spec), check its output shape, return it in eval mode."""
    from ..runtime import resolve_device

    dev = resolve_device(device)
    if not isinstance(spec, str) or not spec:
        raise ValueError(f"model: expected a spec string, got {spec!r}")
    probe = load_dataset(dataset, "val", profile, seed)
    if _split_registry_name(spec) is not None:
        if weights is not None:
            raise ValueError(f"weights: registry model {spec!r} takes its weights from the cache, not a file")
        model = default_model(spec, dataset, profile, seed, progress)
    elif spec.startswith("torchvision:"):
        model = _torchvision_model(spec.split(":", 1)[1], probe)
        if weights is not None:
            load_weights(model, weights)
    elif ":" in spec:
        model = _call_factory(_import_factory(spec), probe)
        if not isinstance(model, nn.Module):
            raise ValueError(f"model: factory {spec!r} returned {type(model).__name__}, expected a torch.nn.Module")
        if weights is not None:
            load_weights(model, weights)
    else:
        raise ValueError(
            f"model: expected a registry name {list(REGISTRY)} (optionally '_sub'), 'package.module:factory' "
            f"or 'torchvision:NAME', got {spec!r}"
        )
    model = model.to(dev).eval()
    check_output_shape(model, probe, dev)  # also materialises lazy modules before they are frozen
    for p in model.parameters():
        p.requires_grad_(False)
    return model
