"""Validation of chapter parameters (papermill passes strings and numbers): clear errors that name them."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any


def choice(name: str, value: Any, options: Sequence[Any]) -> Any:
    if value not in options:
        raise ValueError(f"{name}: expected one of {list(options)}, got {value!r}")
    return value


def positive_int(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name}: expected a positive int, got {value!r}")
    return value


def non_negative_int(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{name}: expected a non-negative int, got {value!r}")
    return value


def number(name: str, value: Any, lo: float | None = None, hi: float | None = None) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{name}: expected a number, got {value!r}")
    if (lo is not None and value < lo) or (hi is not None and value > hi):
        raise ValueError(f"{name}: expected a number in [{lo}, {hi}], got {value!r}")
    return float(value)


def positive_number(name: str, value: Any) -> float:
    """``value`` as a float, which must be above 0."""
    value = number(name, value)
    if not value > 0:
        raise ValueError(f"{name}: expected a number above 0, got {value!r}")
    return value


def float_list(name: str, value: Any, lo: float | None = None, hi: float | None = None) -> list[float]:
    """A comma-separated string (papermill-friendly) or a sequence of numbers."""
    items = value.split(",") if isinstance(value, str) else value
    try:
        out = [float(v) for v in items]
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name}: expected comma-separated numbers, got {value!r}") from exc
    if not out:
        raise ValueError(f"{name}: expected at least one number")
    for v in out:
        number(name, v, lo, hi)
    return out


def step_sweep(name: str, value: Any) -> list[int]:
    """A comma-separated sweep of step counts: at least two distinct positive integers, returned sorted (a study of
    how something changes with the number of steps needs two counts to compare, in increasing order)."""
    counts = float_list(name, value, lo=1)
    if any(c != int(c) for c in counts):
        raise ValueError(f"{name}: expected whole step counts, got {value!r}")
    counts = sorted({int(c) for c in counts})
    if len(counts) < 2:
        raise ValueError(f"{name}: expected at least two distinct step counts to compare, got {value!r}")
    return counts


def str_list(name: str, value: Any) -> list[str]:
    items = value.split(",") if isinstance(value, str) else value
    out = [str(v).strip() for v in items if str(v).strip()]
    if not out:
        raise ValueError(f"{name}: expected at least one name, got {value!r}")
    return out


def output_dir(name: str, value: Any) -> Path:
    """Create the output folder (relative paths are relative to the notebook's working directory)."""
    if not isinstance(value, str | Path) or not str(value):
        raise ValueError(f"{name}: expected a folder path, got {value!r}")
    path = Path(value).expanduser()
    if path.exists() and not path.is_dir():
        raise ValueError(f"{name}: {str(path)!r} exists and is not a folder")
    path.mkdir(parents=True, exist_ok=True)
    return path
