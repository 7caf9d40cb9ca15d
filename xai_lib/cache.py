"""Content-keyed cache with atomic writes and corruption detection.

Every cached artefact lives at ``<cache_dir>/<kind>/<name>-<key>.<ext>`` where ``key`` hashes the full
configuration that produced it. A sidecar ``.sha256`` holds the file's checksum: a file whose checksum does
not match (a torn write, a disk error, a hand edit) is treated as missing and rebuilt.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from . import settings

_REPO_ROOT = Path(__file__).resolve().parents[1]


def cache_dir() -> Path:
    """``$XAI_LIB_CACHE``, else ``<repo>/.cache`` for a source checkout, else ``~/.cache/xai_lib``."""
    env = settings.raw("XAI_LIB_CACHE")
    if env:
        return Path(env).expanduser().resolve()
    if (_REPO_ROOT / "pyproject.toml").exists():
        return _REPO_ROOT / ".cache"
    return Path.home() / ".cache" / "xai_lib"


def config_key(config: dict[str, Any]) -> str:
    """Stable 16-hex-digit key of a JSON-serialisable configuration."""
    blob = json.dumps(config, sort_keys=True, default=str).encode()
    return hashlib.sha256(blob).hexdigest()[:16]


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so that a reader sees either the old file or the whole new one."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write_bytes(path, text.encode())


def save_checked(path: Path, data: bytes) -> None:
    """Atomically write ``data`` and its checksum sidecar (data first: a missing sidecar means 'rebuild')."""
    path = Path(path)
    atomic_write_bytes(path, data)
    atomic_write_text(path.with_name(path.name + ".sha256"), sha256_bytes(data))


def load_checked(path: Path) -> bytes | None:
    """The file's bytes if it exists and matches its checksum sidecar, else ``None``."""
    path = Path(path)
    side = path.with_name(path.name + ".sha256")
    if not path.exists() or not side.exists():
        return None
    data = path.read_bytes()
    if sha256_bytes(data) != side.read_text().strip():
        return None
    return data


def cached_bytes(path: Path, build: Callable[[], bytes]) -> bytes:
    """Return the checked bytes at ``path``, building and saving them first when missing or corrupt."""
    data = load_checked(path)
    if data is None:
        data = build()
        save_checked(path, data)
    return data


def npz_bytes(**arrays: Any) -> bytes:
    buf = io.BytesIO()
    import numpy as np

    np.savez_compressed(buf, **arrays)
    return buf.getvalue()
