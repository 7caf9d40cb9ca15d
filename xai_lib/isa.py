"""One instruction set for the book's computations on every x86-64 machine with AVX2.

PyTorch picks its kernels by CPU: its own vectorised kernels, oneDNN's convolutions and MKL's BLAS each choose a
code path by the CPU's extensions (AVX-512 or AVX2), and the paths sum in different orders. A model trained on
one CPU then differs from the same seed's model trained on another, and so does every number downstream of it
(measured: the default models trained with one seed on two machines of the same kind moved test accuracies by
up to 0.13). Capping all three at AVX2 gives every x86-64 CPU with AVX2 the same instruction set. On an AVX2
machine the caps change nothing (measured: identical weights for the default models with and without).

This module is their one owner. The ``Makefile`` exports what ``python xai_lib/isa.py`` prints (every ``make``
target); the repository's ``conftest.py`` loads this file by its path (importing the package would import torch)
and sets them for a bare ``pytest``. A value already in the environment wins. They must be set before torch runs
its first kernel, so this module imports nothing but the standard library.

MKL's stricter reproducibility mode ``MKL_CBWR`` is deliberately not used: under it a float64 matrix product
depends on the number of rows, so an attribution of a batch no longer equals that of its images one by one
(measured: Guided IG moved by 4e-4 of a 2e-3 map; 1e-18 without it), and on an AMD CPU it changed the trained
``digits`` models and the ``wine`` MLP. MKL may still choose differently on CPUs of different vendors.
"""

from __future__ import annotations

import os
from collections.abc import MutableMapping
from pathlib import Path

PINS = {"ATEN_CPU_CAPABILITY": "avx2", "ONEDNN_MAX_CPU_ISA": "AVX2", "MKL_ENABLE_INSTRUCTIONS": "AVX2"}


def cpu_has_avx2(cpuinfo: str | None = None) -> bool:
    """Whether the CPU lists the ``avx2`` flag (``cpuinfo``: the text of ``/proc/cpuinfo``; read when None)."""
    if cpuinfo is None:
        try:
            cpuinfo = Path("/proc/cpuinfo").read_text()
        except OSError:
            return False
    return any(line.startswith("flags") and "avx2" in line.split() for line in cpuinfo.splitlines())


def pin(environ: MutableMapping[str, str] = os.environ, cpuinfo: str | None = None) -> dict[str, str]:
    """Set :data:`PINS` in ``environ`` where the CPU has AVX2 (values already set are kept); return the
    variables in effect (empty elsewhere: other CPUs keep their libraries' defaults)."""
    if not cpu_has_avx2(cpuinfo):
        return {}
    for key, value in PINS.items():
        environ.setdefault(key, value)
    return {key: environ[key] for key in PINS}


if __name__ == "__main__":  # for the Makefile: the pins in effect here, as NAME=value words (none without AVX2)
    print(" ".join(f"{key}={value}" for key, value in pin().items()))
