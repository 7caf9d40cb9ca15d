"""One instruction set for the book's computations on every x86-64 machine with AVX2.

PyTorch picks its kernels by CPU: its own vectorised kernels, oneDNN's convolutions and MKL's BLAS each use
AVX-512 where the CPU has it and AVX2 where it does not, and the two sum in different orders. A model trained on
one CPU then differs from the same seed's model trained on another, and so does every number downstream of
it (measured: the default models trained with one seed on two machines of the same kind, one CPU with
AVX2 only, moved test accuracies by up to 0.13, a VGG and a ResNet on ``shapes`` alike). Fixing the three
libraries at AVX2 makes the chapters, the default models and the checked outputs reproduce bit for bit on
any x86-64 CPU with AVX2, whichever extensions it has beyond. The ``Makefile`` exports the same variables
(every ``make`` target); the repository's ``conftest.py`` sets them for a bare ``pytest``. A value already
in the environment wins. They must be set before torch runs its first kernel.
"""

from __future__ import annotations

import os
from collections.abc import MutableMapping
from pathlib import Path

PINS = {"ATEN_CPU_CAPABILITY": "avx2", "ONEDNN_MAX_CPU_ISA": "AVX2", "MKL_CBWR": "AVX2"}


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
