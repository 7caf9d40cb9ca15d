"""xai_lib: attribution noise in gradient explanations (IDGI, GAD, GAX/CO score) on PyTorch.

Pure functions over tensors first (``toy2d``), model glue second (``models``, ``data``); ``profiles`` and
``runtime`` make every chapter reproducible.
"""

from . import (
    attribution,
    cache,
    captum_glue,
    data,
    gad,
    gad_glue,
    gax,
    metrics,
    models,
    profiles,
    runtime,
    stats,
    systems,
    toy2d,
)
from .attribution import IG, BlurIG, GuidedIG, VanillaGradient, idgi
from .data import load_dataset
from .metrics.co import co_score
from .profiles import PROFILES, Profile, computes_as_book, get_profile
from .runtime import pin_threads, resolve_device, seed_everything, setup
from .systems import SystemSpec, load_model, load_system, parse_systems

__version__ = "0.1.0"

__all__ = [
    "IG", "BlurIG", "GuidedIG", "VanillaGradient", "idgi", "attribution", "co_score", "gad", "gad_glue", "gax",
    "metrics", "captum_glue", "stats",
    "cache", "data", "models", "profiles", "runtime", "systems", "toy2d", "SystemSpec", "load_system",
    "parse_systems", "load_dataset", "load_model", "PROFILES", "Profile", "computes_as_book",
    "get_profile", "pin_threads", "resolve_device", "seed_everything", "setup", "__version__",
]  # fmt: skip
