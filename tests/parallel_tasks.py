"""Pure shard tasks for tests/test_parallel.py, importable by Dask worker processes (``tests.parallel_tasks:NAME``).

Each task computes Integrated Gradients of a fixed analytic function, so a shard's numbers are known in closed
form and equal on every process: ``f(x) = sum(w * x**2)`` from a zero baseline has attributions ``w * x**2``
(the midpoint Riemann rule is exact here: the path integrand ``2 w a x**2`` is linear in ``a``).
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pandas as pd
import torch


def _inputs(indices: list[int]) -> torch.Tensor:
    g = torch.Generator().manual_seed(0)
    table = torch.rand(64, 5, generator=g, dtype=torch.float64)
    return table[indices]


W = torch.arange(1, 6, dtype=torch.float64)


def _quadratic(x: torch.Tensor) -> torch.Tensor:
    return (W * x**2).sum(dim=1)


def ig_rows(payload: dict) -> dict[str, pd.DataFrame]:
    """IG of ``sum(w * x**2)`` for the shard's images; logs each call in ``payload["log_dir"]`` (one file per
    call) and sleeps ``payload["sleep"]`` seconds (so a test can kill a worker in the middle of a shard)."""
    from xai_lib.attribution import IG, AnalyticModel

    log_dir = Path(payload["log_dir"])
    (log_dir / f"{payload['shard']}-{os.getpid()}-{time.monotonic_ns()}").write_text(str(os.getpid()))
    time.sleep(payload.get("sleep", 0.0))
    x = _inputs(payload["images"])
    model = AnalyticModel(_quadratic).double()
    attr = IG(model).attribute(x, target=0, baselines=torch.zeros_like(x), n_steps=16, method="riemann_middle")
    rows = [{"image": i, "feature": j, "attribution": float(attr[k, j]), "closed form": float(W[j] * x[k, j] ** 2)}
            for k, i in enumerate(payload["images"]) for j in range(5)]  # fmt: skip
    return {"rows": pd.DataFrame(rows)}
