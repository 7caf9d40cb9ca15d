"""Timing shared by the benchmarks (run as scripts: ``benchmarks/`` is on ``sys.path``)."""

from __future__ import annotations

import time


def interleaved(ours, peer, repeat: int) -> tuple[float, object, float, object]:
    """Best-of-``repeat`` times of both, alternating which runs first (the first run of a process pays
    allocator warm-up, which a fixed order would charge to one side)."""
    best = {"ours": (float("inf"), None), "peer": (float("inf"), None)}
    for i in range(repeat):
        for name, fn in [("ours", ours), ("peer", peer)][:: 1 if i % 2 else -1]:
            t0 = time.perf_counter()
            out = fn()
            dt = time.perf_counter() - t0
            if dt < best[name][0]:
                best[name] = (dt, out)
    return (*best["ours"], *best["peer"])
