"""Where a computation's time goes: wall-clock seconds accumulated per label while a :class:`Stopwatch` is active.

The library marks its costly parts with :func:`timed`: ``"model"`` (every forward or forward+backward call of
the model made by the attribution methods and the metrics), ``"WebP"`` (the entropy level's encodes) and
``"MS-SSIM"``. Outside a stopwatch :func:`timed` does nothing but look up a context variable. The stopwatch is
per context (thread, task): a chapter's shard times only its own work, also on a Dask worker that runs
several tasks at once. A label entered again inside itself (a model call inside a model call) is counted once.
On a GPU the model's kernels run asynchronously: a timed section waits for the device when it starts and when
it stops (only while a stopwatch is active), so the device's work is charged to the section that launched it.

    with Stopwatch() as watch:
        maps = IG(model).attribute(x, target=y)
    watch.seconds  # {"model": 1.93}
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

import torch

_ACTIVE: ContextVar[Stopwatch | None] = ContextVar("xai_lib_stopwatch", default=None)


class Stopwatch:
    """Seconds per label (:attr:`seconds`) of the :func:`timed` sections run while it is active."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self._running: set[str] = set()
        self._tokens: list = []

    def __enter__(self) -> Stopwatch:
        self._tokens.append(_ACTIVE.set(self))
        return self

    def __exit__(self, *exc) -> None:
        _ACTIVE.reset(self._tokens.pop())

    def get(self, label: str) -> float:
        """Seconds spent in ``label`` so far (0 if never entered)."""
        return self.seconds.get(label, 0.0)


@contextmanager
def timed(label: str) -> Iterator[None]:
    """Add the time spent inside the block to ``label`` of the active stopwatch, if any."""
    watch = _ACTIVE.get()
    if watch is None or label in watch._running:
        yield
        return
    watch._running.add(label)
    _synchronize()
    t0 = time.perf_counter()
    try:
        yield
    finally:
        _synchronize()
        watch.seconds[label] = watch.seconds.get(label, 0.0) + time.perf_counter() - t0
        watch._running.discard(label)


def _synchronize() -> None:
    """Wait for the GPU's queued work, where one is in use (nothing on the CPU)."""
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        torch.cuda.synchronize()
    elif torch.backends.mps.is_available():
        torch.mps.synchronize()
