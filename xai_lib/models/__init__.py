"""Models: the book's architectures and their training (``registry``, ``architectures``, ``training``), building
a model from a spec with its weights (``loading``), preprocessing folded into the model (``preprocess``), and
copies with one activation module per use for captum (``activations``). Systems (model + data + weights +
preprocessing + class mapping) are named and loaded by :mod:`xai_lib.systems`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from torch import nn

from .architectures import MLP, SmallResNet, SmallVGG
from .preprocess import NORMALIZATIONS, Preprocessed
from .registry import DEFAULT_MODELS, REGISTRY, build_architecture, default_model, default_model_info
from .training import TrainResult, accuracy, batched_logits, train_classifier

__all__ = [
    "MLP", "SmallResNet", "SmallVGG", "REGISTRY", "DEFAULT_MODELS", "NORMALIZATIONS", "Preprocessed",
    "build_architecture", "load_model", "default_model", "default_model_info", "batched_logits", "accuracy",
    "train_classifier", "TrainResult",
]  # fmt: skip


def load_model(
    spec: str,
    dataset: str,
    *,
    weights: str | Path | None = None,
    profile: Any = "book",
    seed: int = 0,
    device: str | torch.device = "cpu",
    progress: bool = True,
    **system: Any,
) -> nn.Module:
    """The model of the system ``{"dataset": dataset, "model": spec, "weights": weights, **system}`` (see
    :mod:`xai_lib.systems` for the keys), in eval mode with frozen parameters, preprocessing folded in."""
    from ..systems import load_system, spec_from_mapping

    keys = {"dataset": dataset, "model": spec, **({"weights": str(weights)} if weights is not None else {}), **system}
    return load_system(spec_from_mapping(keys, "model"), profile, seed, device, progress).model
