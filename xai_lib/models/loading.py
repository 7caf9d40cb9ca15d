"""Building a model from its spec: a registry name, ``module:factory`` or ``path/to/file.py:factory`` (your own
architecture), or ``torchvision:NAME``; loading a weights file into it; checking its output shape."""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import inspect
import sys
from pathlib import Path
from typing import Any

import torch
from torch import nn

from ..data import Dataset


def import_factory(spec: str) -> Any:
    """The callable named by ``package.module:factory`` or ``/path/to/file.py:factory``."""
    module_name, _, attr = spec.rpartition(":")
    if not module_name or not attr:
        raise ValueError(f"model: expected 'package.module:factory' or 'path/to/file.py:factory', got {spec!r}")
    if module_name.endswith(".py"):
        path = Path(module_name).expanduser().resolve()
        if not path.is_file():
            raise ValueError(f"model: factory file {str(path)!r} of spec {spec!r} does not exist")
        name = f"xai_lib_user_{path.stem}_{abs(hash(str(path)))}"
        module = sys.modules.get(name)
        if module is None:
            loader_spec = importlib.util.spec_from_file_location(name, path)
            module = importlib.util.module_from_spec(loader_spec)
            try:
                loader_spec.loader.exec_module(module)
            except Exception as exc:
                raise ValueError(f"model: cannot import {str(path)!r} of spec {spec!r}: {exc}") from exc
            sys.modules[name] = module
    else:
        try:
            module = importlib.import_module(module_name)
        except ImportError as exc:
            raise ValueError(f"model: cannot import module {module_name!r} of spec {spec!r}: {exc}") from exc
    factory = getattr(module, attr, None)
    if not callable(factory):
        raise ValueError(f"model: {module_name!r} has no callable {attr!r} (spec {spec!r})")
    return factory


def call_factory(factory: Any, data: Dataset, num_outputs: int) -> nn.Module:
    """Call a factory with whichever of ``num_classes``, ``in_channels``, ``in_features``, ``image_size`` it takes."""
    offered = {
        "num_classes": num_outputs,
        "in_channels": data.input_shape[0] if data.kind == "image" else None,
        "in_features": data.input_shape[0] if data.kind == "tabular" else None,
        "image_size": data.input_shape[-1] if data.kind == "image" else None,
    }
    try:
        params = inspect.signature(factory).parameters
    except (TypeError, ValueError):
        params = {}
    takes_any = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())
    kwargs = {k: v for k, v in offered.items() if v is not None and (takes_any or k in params)}
    model = factory(**kwargs)
    if not isinstance(model, nn.Module):
        raise ValueError(f"model: the factory returned {type(model).__name__}, expected a torch.nn.Module")
    return model


def torchvision_model(name: str, num_outputs: int) -> nn.Module:
    try:
        import torchvision
    except Exception as exc:  # ImportError, or a CUDA build that fails against a CPU torch
        raise ValueError(f"model: 'torchvision:{name}' needs torchvision, which does not import here: {exc}") from exc
    try:
        return torchvision.models.get_model(name, weights=None, num_classes=num_outputs)
    except ValueError as exc:
        raise ValueError(f"model: torchvision has no model {name!r}: {exc}") from exc


def read_state_dict(weights: str | Path) -> dict[str, torch.Tensor]:
    """A state dict from a file (``torch.save(model.state_dict())`` or a checkpoint with a ``state_dict`` key)."""
    path = Path(weights).expanduser()
    if not path.is_file():
        raise ValueError(f"weights: file {str(path)!r} does not exist")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        raise ValueError(f"weights: {str(path)!r} is not a readable torch state dict: {exc}") from exc
    for key in ("state_dict", "model_state_dict", "model"):
        if isinstance(state, dict) and isinstance(state.get(key), dict):
            state = state[key]
            break
    if not isinstance(state, dict) or not all(torch.is_tensor(v) for v in state.values()):
        raise ValueError(f"weights: {str(path)!r} holds a {type(state).__name__}, expected a state dict of tensors")
    if all(k.startswith("module.") for k in state):  # saved from nn.DataParallel / DDP
        state = {k[len("module.") :]: v for k, v in state.items()}
    return state


def outputs_in_state(state: dict[str, torch.Tensor]) -> int | None:
    """The number of outputs a state dict was trained with: rows of its last 2-D weight (the classifier)."""
    last = [v for k, v in state.items() if k.endswith("weight") and v.dim() == 2]
    return int(last[-1].shape[0]) if last else None


def load_weights(model: nn.Module, state: dict[str, torch.Tensor], weights: str | Path) -> None:
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as exc:
        raise ValueError(f"weights: {str(weights)!r} does not fit the model: {exc}") from exc


def output_width(model: nn.Module, data: Dataset, device: torch.device) -> int:
    """Run two inputs through the model and return its number of outputs (a ValueError if it fails)."""
    x = data.inputs[:2].to(device)
    try:
        with torch.no_grad():
            out = model(x)
    except Exception as exc:
        raise ValueError(f"model: fails on inputs of shape {tuple(x.shape)} from dataset {data.name!r}: {exc}") from exc
    if not isinstance(out, torch.Tensor) or out.dim() != 2 or out.shape[0] != x.shape[0]:
        got = tuple(out.shape) if isinstance(out, torch.Tensor) else type(out).__name__
        raise ValueError(
            f"model: expected outputs of shape ({x.shape[0]}, outputs) on dataset {data.name!r}, got {got}"
        )
    return int(out.shape[1])


def state_digest(state: dict[str, torch.Tensor]) -> str:
    """A digest of a state dict's content (names, dtypes, shapes and values; independent of the serialisation
    format and of the memory layout): equal digests, equal weights."""
    h = hashlib.sha256()
    for name in sorted(state):
        t = state[name].detach().cpu().contiguous()
        h.update(f"{name}|{t.dtype}|{tuple(t.shape)}|".encode())
        h.update(t.reshape(-1).view(torch.uint8).numpy().tobytes() if t.numel() else b"")
    return h.hexdigest()[:16]


def weights_digest(model: nn.Module) -> str:
    """:func:`state_digest` of a model's weights: equal digests, equal weights."""
    return state_digest(model.state_dict())
