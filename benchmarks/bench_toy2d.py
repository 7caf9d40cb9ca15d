"""Benchmark: the closed-form GAX heatmap of eq. (4) against the autograd gradient ascent it replaces.

    python benchmarks/bench_toy2d.py [--n-theta 20001] [--k 12] [--repeat 5]

Both compute the same heatmaps (checked here to 1e-12) on the same theta grid in one run; the result is a
ratio (closed form time / autograd time), printed and written to ``benchmarks/results/toy2d.csv``.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd
from _timing import run_file  # benchmarks/ is the running script's directory

from xai_lib import toy2d
from xai_lib.plotting import save_table
from xai_lib.runtime import pin_threads


def best_of(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n-theta", type=int, default=20001)
    ap.add_argument("--k", type=int, default=12)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    pin_threads()
    theta = np.linspace(-np.pi, np.pi, args.n_theta)
    eta = 1.2 / args.k
    err = np.abs(toy2d.heatmap(theta, 0.7, 1.2) - toy2d.heatmap_autograd(theta, 0.7, k=args.k, eta=eta)).max()
    assert err < 1e-12, err
    t_closed = best_of(lambda: toy2d.heatmap(theta, 0.7, 1.2), args.repeat)
    t_auto = best_of(lambda: toy2d.heatmap_autograd(theta, 0.7, k=args.k, eta=eta), args.repeat)
    row = {
        "n_theta": args.n_theta, "k": args.k, "closed_form_s": t_closed, "autograd_s": t_auto,
        "ratio_closed_over_autograd": t_closed / t_auto, "max_abs_difference": err,
    }  # fmt: skip
    out = save_table(pd.DataFrame([row]), run_file("toy2d"))
    print(f"closed form {t_closed * 1e3:.2f} ms, autograd ascent {t_auto * 1e3:.2f} ms: ratio {t_closed / t_auto:.3f}")
    print(f"max |difference| {err:.1e}; written to {out}")


if __name__ == "__main__":
    main()
