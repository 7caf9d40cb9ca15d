"""Reproducibility glue: pinned torch threads, seeding and device resolution."""

from __future__ import annotations

import os
import random

import numpy as np
import torch

from . import settings
from .isa import PINS

DEFAULT_THREADS = 2


def pin_threads(n: int | None = None) -> int:
    """Pin torch's intra-op threads (``XAI_LIB_THREADS`` or 2) so float reductions reproduce bit for bit."""
    if n is None:
        n = settings.positive_int("XAI_LIB_THREADS", DEFAULT_THREADS)
    if n < 1:
        raise ValueError(f"n: expected a thread count >= 1, got {n}")
    torch.set_num_threads(n)
    return n


#: glibc's malloc thresholds set by :func:`tune_allocator` (bytes): blocks up to this size come from the heap
ALLOCATOR_THRESHOLD = 1 << 30
_ALLOCATOR_TUNED = False


def tune_allocator() -> bool:
    """Let freed tensors' memory be reused instead of unmapped (glibc only; once per process): the mmap and trim
    thresholds of glibc's malloc set to :data:`ALLOCATOR_THRESHOLD`. By default glibc maps every block above
    32 MB (far less in a Dask worker, whose nanny sets ``MALLOC_TRIM_THRESHOLD_=65536``) afresh and unmaps it
    when it is freed, so a model call whose activations exceed that faults every page in again, call after call.
    Where memory comes from does not change the arithmetic (trained weights and chapter outputs are bit for bit the
    same with and without it; see ``benchmarks/README.md`` for its effect on speed). The cost: up to that much freed
    memory stays with the process instead of going back to the system. Returns whether the thresholds were set
    (``False``: already, or not glibc)."""
    global _ALLOCATOR_TUNED
    if _ALLOCATOR_TUNED:
        return False
    import ctypes
    import ctypes.util

    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
        libc.gnu_get_libc_version  # noqa: B018 -- glibc has it; musl and macOS's libc do not
    except (OSError, AttributeError):  # not glibc (macOS, musl): nothing to tune
        return False
    m_trim_threshold, m_mmap_threshold = -1, -3  # glibc's malloc.h
    ok = bool(mallopt(m_trim_threshold, ALLOCATOR_THRESHOLD)) and bool(mallopt(m_mmap_threshold, ALLOCATOR_THRESHOLD))
    _ALLOCATOR_TUNED = ok
    return ok


#: the environment variables that choose PyTorch's, oneDNN's and MKL's CPU kernels (see How to run)
KERNEL_VARIABLES = tuple(PINS)


def numerics() -> dict[str, str]:
    """What decides this process's rounding besides the code and the data: the torch version, the CPU kernels
    PyTorch runs (``torch.backends.cpu.get_cpu_capability()``) and the kernel variables that are set."""
    return {
        "torch": torch.__version__,
        "capability": torch.backends.cpu.get_cpu_capability(),
        **{k: os.environ[k] for k in KERNEL_VARIABLES if k in os.environ},
    }


def seed_everything(seed: int) -> torch.Generator:
    """Seed python, numpy and torch; return a fresh ``torch.Generator`` seeded with ``seed``."""
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise ValueError(f"seed: expected a non-negative int, got {seed!r}")
    random.seed(seed)
    np.random.seed(seed % 2**32)  # noqa: NPY002 -- seeds the legacy global RNG that user code may use
    torch.manual_seed(seed)
    return torch.Generator().manual_seed(seed)


def resolve_device(device: str | torch.device = "auto") -> torch.device:
    """``"auto"`` -> CUDA where available, else CPU; anything else must name an available device."""
    if isinstance(device, torch.device):
        return device
    if not isinstance(device, str):
        raise ValueError(f"device: expected 'auto', 'cpu', 'cuda' or 'cuda:N', got {device!r}")
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        dev = torch.device(device)
    except RuntimeError as exc:
        raise ValueError(f"device: expected 'auto', 'cpu', 'cuda' or 'cuda:N', got {device!r}") from exc
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device: {device!r} was requested but CUDA is not available on this machine")
    return dev


def setup(seed: int = 0, device: str = "auto", threads: int | None = None, profile=None) -> torch.device:
    """One call at the top of every chapter: pin threads, let freed tensors' memory be reused
    (:func:`tune_allocator`), seed everything, resolve the device, and (with a
    ``profile``) fix or free the model-call plan of every call site (:func:`xai_lib.batching.set_default`),
    unless ``XAI_LIB_EVALS_PER_CALL`` chooses it (the environment wins: a user's explicit choice)."""
    from . import batching

    pin_threads(threads)
    tune_allocator()
    seed_everything(seed)
    if settings.raw("XAI_LIB_EVALS_PER_CALL"):
        plan = batching.env_default()
        batching.set_default(*(plan if plan is not None else ("auto",)))
    elif profile is not None:
        from .profiles import get_profile

        prof = get_profile(profile)
        batching.set_default(prof.evals_per_call, prof.channels_last)
    return resolve_device(device)


def progress(iterable, desc: str, total: int | None = None, **kwargs):
    """A tqdm progress bar on stdout (a chapter's stderr stays empty for nbval; no ipywidgets needed)."""
    import sys

    from tqdm.std import tqdm

    return tqdm(iterable, desc=desc, total=total, file=sys.stdout, ascii=True, mininterval=5.0, **kwargs)
