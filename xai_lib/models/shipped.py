"""The book's trained default models (and the GAD support regressions of its chapters), shipped as artefacts.

A model trained from a fixed seed is bit for bit the same only on CPUs that run the same kernels: PyTorch, oneDNN
and MKL pick their code paths (and so their summation orders) by CPU, and training amplifies a last-bit difference
into a different model (measured: the same seed's ``shapes`` VGG reached 0.929 on one CPU and 0.932 on another).
So the book does not train its default models on the reader's machine: they are trained once, under
``make models``, and shipped in ``xai_lib/models/shipped/<profile>/<dataset>-<arch>.pt`` with a manifest
(``manifest.json``) that records for each one its training configuration, the file's SHA-256, digests of the final
and ``_sub`` weights, their test accuracies, the fingerprints of the data it was trained and tested on, and the
machine that trained it.

:func:`xai_lib.models.default_model_info` takes a shipped model whenever the requested configuration (architecture,
dataset content, training settings, seed, training version) is a shipped one, whatever the torch version or thread
count; any other configuration (another seed, profile or image size) is trained and cached as before. A shipped
file whose SHA-256 differs from the manifest is refused with an error (never silently retrained).
``XAI_LIB_SHIPPED_MODELS=0`` turns the lookup off (training from scratch: what ``make models`` does to compare).

The GAD chapters' support regressions are trained too (Adam amplifies one CPU's last-bit differences into supports
that differ by 1e-5 of their weights, and the GAD tables' RS means moved by up to 6% between two kernel sets): the
supports of the book's own runs are shipped as well (``supports/``, keyed by the cache key of
:func:`xai_lib.gad_glue.support_models`: the original's weights, the training images, the pair, alpha and the
training settings), and taken whenever a run asks for one of them. ``make models SHIP=1`` ships them anew (it runs the
GAD chapters with ``XAI_LIB_SHIP_SUPPORTS=1``).
"""

from __future__ import annotations

import json
import os
import platform
from functools import lru_cache
from pathlib import Path
from typing import Any

import torch

from .. import settings
from ..cache import atomic_write_bytes, atomic_write_text, config_key, sha256_bytes

SHIPPED_DIR = Path(__file__).resolve().parent / "shipped"
MANIFEST = SHIPPED_DIR / "manifest.json"
#: the profiles whose default models are shipped (the ones the book and the tests execute)
SHIPPED_PROFILES = ("smoke", "book")
#: configuration entries that describe the machine that trained a model, not the model: not part of the lookup
_MACHINE_KEYS = ("torch", "threads")


class ShippedModelError(RuntimeError):
    """A shipped model file is missing or differs from its manifest entry."""


def enabled() -> bool:
    """Whether shipped models are used (``XAI_LIB_SHIPPED_MODELS``, default on; ``0``/``false``/``no``: off)."""
    return settings.flag("XAI_LIB_SHIPPED_MODELS", True)


def lookup_key(config: dict[str, Any]) -> str:
    """The key of a training configuration without the entries that describe the machine (torch version,
    threads): the identity of a shipped model."""
    return config_key({k: v for k, v in config.items() if k not in _MACHINE_KEYS})


def _read_manifest(path: Path, mtime: float) -> dict[str, Any]:
    del mtime  # part of the cache key only
    if not path.exists():
        return {"version": 1, "models": {}}
    return json.loads(path.read_text())


_read_manifest_cached = lru_cache(maxsize=4)(_read_manifest)


def manifest(path: Path = MANIFEST) -> dict[str, Any]:
    """The manifest (``{"version": 1, "models": {lookup key: entry}, "supports": {cache key: entry}}``); empty when
    nothing is shipped."""
    path = Path(path)
    return _read_manifest_cached(path, path.stat().st_mtime if path.exists() else 0.0)


def entries(path: Path = MANIFEST) -> list[dict[str, Any]]:
    """The shipped models' entries, ordered by profile, dataset and architecture."""
    return sorted(manifest(path)["models"].values(), key=lambda e: (e["profile"], e["dataset"], e["arch"]))


def find(config: dict[str, Any], path: Path = MANIFEST) -> dict[str, Any] | None:
    """The manifest entry of a training configuration, or ``None`` when it is not shipped (or shipping is off)."""
    if not enabled():
        return None
    return manifest(path)["models"].get(lookup_key(config))


def find_support(key: str, path: Path = MANIFEST) -> dict[str, Any] | None:
    """The manifest entry of a GAD support regression by its cache key (:func:`xai_lib.gad_glue.support_models`),
    or ``None`` when it is not shipped (or shipping is off)."""
    if not enabled():
        return None
    return manifest(path).get("supports", {}).get(key)


def read(entry: dict[str, Any], folder: Path = SHIPPED_DIR) -> bytes:
    """The shipped file's bytes, checked against the manifest's SHA-256."""
    path = Path(folder) / entry["file"]
    if not path.is_file():
        raise ShippedModelError(
            f"shipped file {entry['file']}: {path} is missing; restore it with "
            "`git checkout -- xai_lib/models/shipped` or rebuild it with `make models SHIP=1`"
        )
    data = path.read_bytes()
    got = sha256_bytes(data)
    if got != entry["sha256"]:
        raise ShippedModelError(
            f"shipped model {path}: SHA-256 {got[:16]}... differs from the manifest's {entry['sha256'][:16]}... "
            "(a damaged or hand-edited file); restore it with `git checkout -- xai_lib/models/shipped`"
        )
    return data


def machine() -> dict[str, Any]:
    """What trained a model: torch version, threads, CPU, the instruction-set caps in effect."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    caps = {
        k: os.environ[k]
        for k in ("ATEN_CPU_CAPABILITY", "ONEDNN_MAX_CPU_ISA", "MKL_ENABLE_INSTRUCTIONS")
        if k in os.environ
    }
    return {
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "cpu": cpu,
        "capability": torch.backends.cpu.get_cpu_capability(),
        "caps": caps,
    }


def _write_entry(section: str, key: str, entry: dict[str, Any], folder: Path) -> None:
    path = folder / "manifest.json"
    current = json.loads(path.read_text()) if path.exists() else {"version": 1, "models": {}}
    current.setdefault(section, {})[key] = entry
    current[section] = dict(sorted(current[section].items(), key=lambda kv: kv[1]["file"]))
    atomic_write_text(path, json.dumps(current, indent=1, sort_keys=True) + "\n")
    path.chmod(0o644)


def _write_file(folder: Path, rel: str, blob: bytes) -> None:
    atomic_write_bytes(folder / rel, blob)
    (folder / rel).chmod(0o644)


def ship(
    profile: str, dataset: str, arch: str, config: dict[str, Any], blob: bytes, facts: dict[str, Any],
    folder: Path = SHIPPED_DIR,
) -> dict[str, Any]:  # fmt: skip
    """Write one model's file and its manifest entry (atomically, file first); ``facts``: the digests, accuracies
    and data fingerprints recorded beside it. Returns the entry."""
    folder = Path(folder)
    rel = f"{profile}/{dataset}-{arch}.pt"
    _write_file(folder, rel, blob)
    entry = {
        "profile": profile, "dataset": dataset, "arch": arch, "seed": config["seed"], "file": rel,
        "sha256": sha256_bytes(blob), "bytes": len(blob),
        "config": {k: v for k, v in config.items() if k not in _MACHINE_KEYS}, "trained_with": machine(), **facts,
    }  # fmt: skip
    _write_entry("models", lookup_key(config), entry, folder)
    return entry


def clear_supports(folder: Path = SHIPPED_DIR) -> int:
    """Remove every shipped support (their keys name the original's weights: shipping new models orphans them);
    returns how many were removed."""
    folder = Path(folder)
    path = folder / "manifest.json"
    if not path.exists():
        return 0
    current = json.loads(path.read_text())
    removed = current.pop("supports", {})
    for entry in removed.values():
        (folder / entry["file"]).unlink(missing_ok=True)
    atomic_write_text(path, json.dumps(current, indent=1, sort_keys=True) + "\n")
    path.chmod(0o644)
    return len(removed)


def ship_support(key: str, blob: bytes, facts: dict[str, Any], folder: Path = SHIPPED_DIR) -> dict[str, Any]:
    """Write one GAD support regression (its state dict's file) and its manifest entry under its cache key; ``facts``:
    what it was trained from (the original's weights digest, the class pair, alpha, the training settings)."""
    folder = Path(folder)
    rel = f"supports/support-{key}.pt"
    _write_file(folder, rel, blob)
    entry = {"file": rel, "sha256": sha256_bytes(blob), "bytes": len(blob), "trained_with": machine(), **facts}
    _write_entry("supports", key, entry, folder)
    return entry
