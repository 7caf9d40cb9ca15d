"""Models: the book's architectures and their training (``registry``, ``architectures``, ``training``), building
a model from a spec with its weights (``loading``), preprocessing folded into the model (``preprocess``), and
copies with one activation module per use for captum (``activations``). Systems (model + data + weights +
preprocessing + class mapping) are named and loaded by :mod:`xai_lib.systems`, which also holds ``load_model`` (a
system's model): this package imports nothing above it."""

from __future__ import annotations

from .architectures import MLP, SmallResNet, SmallVGG
from .preprocess import NORMALIZATIONS, Preprocessed
from .registry import DEFAULT_MODELS, REGISTRY, build_architecture, default_model, default_model_info
from .training import TrainResult, accuracy, batched_logits, train_classifier

__all__ = [
    "MLP", "SmallResNet", "SmallVGG", "REGISTRY", "DEFAULT_MODELS", "NORMALIZATIONS", "Preprocessed",
    "build_architecture", "default_model", "default_model_info", "batched_logits", "accuracy",
    "train_classifier", "TrainResult",
]  # fmt: skip
