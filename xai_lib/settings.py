"""The library's environment variables, in one place. Each is read here, when it is used: a change of
``os.environ`` takes effect at the next call.

=================================  ===================================================================================
``XAI_LIB_THREADS``                torch's intra-op threads of a process (:func:`xai_lib.setup`; default 2)
``XAI_LIB_EVALS_PER_CALL``         inputs per model call: ``N``, ``N,channels_last`` or ``auto`` (wins over a
                                   profile's plan; :mod:`xai_lib.batching`)
``XAI_LIB_CALIBRATION_BUDGET``     seconds one batch-size calibration may spend (default 10; ``inf``: no bound)
``XAI_LIB_MEMORY_FRACTION``        share of the free memory a calibrated model call may use (default 0.25)
``XAI_LIB_CACHE``                  the cache folder (default ``<repo>/.cache`` in a checkout, else
                                   ``~/.cache/xai_lib``)
``XAI_LIB_SHIPPED_MODELS``         use the shipped default models and supports (default 1; 0: train them here)
``XAI_LIB_SHIP_SUPPORTS``          also ship every GAD support trained (default 0; ``make models SHIP=1``)
``XAI_LIB_WORKER_THREADS``         torch threads of each task on a Dask worker (default: the driver's count)
=================================  ===================================================================================
"""

from __future__ import annotations

import os

#: every variable the library reads, with what it sets
VARIABLES: dict[str, str] = {
    "XAI_LIB_THREADS": "torch's intra-op threads of a process (default 2)",
    "XAI_LIB_EVALS_PER_CALL": "inputs per model call: N, 'N,channels_last' or 'auto'",
    "XAI_LIB_CALIBRATION_BUDGET": "seconds one batch-size calibration may spend (default 10)",
    "XAI_LIB_MEMORY_FRACTION": "share of the free memory a calibrated model call may use (default 0.25)",
    "XAI_LIB_CACHE": "the cache folder",
    "XAI_LIB_SHIPPED_MODELS": "use the shipped default models and supports (default 1)",
    "XAI_LIB_SHIP_SUPPORTS": "also ship every GAD support trained (default 0)",
    "XAI_LIB_WORKER_THREADS": "torch threads of each task on a Dask worker",
}
_TRUE, _FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off")


def raw(name: str, default: str = "") -> str:
    """The value of the library's variable ``name``, stripped (``default`` where unset)."""
    if name not in VARIABLES:
        raise KeyError(f"name: expected one of the library's variables {sorted(VARIABLES)}, got {name!r}")
    return os.environ.get(name, default).strip()


def flag(name: str, default: bool) -> bool:
    """A yes/no variable: ``1``/``true``/``yes``/``on`` or ``0``/``false``/``no``/``off`` (any case; ``default``
    where unset or empty); anything else is a ValueError naming the variable."""
    value = raw(name).lower()
    if not value:
        return default
    if value in _TRUE or value in _FALSE:
        return value in _TRUE
    raise ValueError(f"{name}: expected 1 or 0, got {value!r}")


def positive_int(name: str, default: int | None) -> int | None:
    """A positive whole number (``default`` where unset or empty); anything else is a ValueError naming it."""
    value = raw(name)
    if not value:
        return default
    if not value.isdigit() or int(value) < 1:
        raise ValueError(f"{name}: expected a positive whole number, got {value!r}")
    return int(value)


__all__ = ["VARIABLES", "flag", "positive_int", "raw"]
