"""Benchmark: batched GAX (every image with its own ``w`` and its own stop) against one image at a time.

    .venv/bin/python benchmarks/bench_gax.py [--profile book] [--images 32] [--target 50] [--max-steps 300]

The peer is the reference code's loop: one image per run, ``torch.optim.Adam`` on ``w`` (lr 0.1, betas
0.9/0.999), ``h = tanh(w * x)``, stop when the CO score reaches the target (with the same iteration cap).
``DNN(x)`` is computed once per image on both sides. Both sides get the same model (the default ``shapes``
models, each architecture in turn), the same correctly predicted test images and the same settings; the
heatmaps and the stopping steps are checked to agree. Reported as time(batched) / time(one at a time).

The floor is measured in the same run: the forward+backward passes of exactly the images still optimising at
each iteration (recorded from our run), at the best batch size and memory layout, with no optimiser or
bookkeeping work; ours and the floor run in ``--repeat`` back-to-back pairs and the ratio is the median of the
per-pair ratios, goal <= 1.2. Results: ``benchmarks/results/gax.csv``.
"""

from __future__ import annotations

import argparse
import time
from functools import partial

import pandas as pd
import torch
from _timing import CallRecorder, interleaved, run_file, sequential_floor

import xai_lib
from xai_lib import batching
from xai_lib.data import load_dataset
from xai_lib.gax import gax
from xai_lib.metrics import kappa
from xai_lib.models import batched_logits
from xai_lib.plotting import save_table


def reference_loop(model, x, y, target, max_steps, lr=0.1, similarity=100.0, eps=1e-4):
    """GAX as the reference code runs it: one image at a time (``DNN(x)`` computed once per image)."""
    heatmaps, steps = [], []
    for i in range(len(x)):
        xi = x[i : i + 1]
        with torch.no_grad():
            out_x = model(xi)
        k = kappa(y[i : i + 1], out_x.shape[1])
        w = torch.ones_like(xi, requires_grad=True)
        opt = torch.optim.Adam([w], lr=lr, betas=(0.9, 0.999))
        for t in range(max_steps + 1):
            h = torch.tanh(w * xi)
            s = ((model(xi + h) - out_x) * k).sum(1)
            if float(s.detach()) >= target or t == max_steps:
                break
            loss = -s.sum() + similarity / ((h - xi + eps) ** 2 / (xi + eps)).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
        heatmaps.append(h.detach())
        steps.append(t)
    return torch.cat(heatmaps), torch.tensor(steps)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--profile", default="book")
    ap.add_argument("--images", type=int, default=32)
    ap.add_argument("--target", type=float, default=50.0)
    ap.add_argument("--max-steps", type=int, default=300)
    ap.add_argument("--models", default="resnet,vgg")
    ap.add_argument("--repeat", type=int, default=5, help="timed pairs (ours, floor); the ratio is their median")
    ap.add_argument("--out", default=str(run_file("gax")))
    args = ap.parse_args()
    prof = xai_lib.get_profile(args.profile)
    dev = xai_lib.setup(0, "cpu")
    data = load_dataset("shapes", "test", prof, 0)
    rows = []
    for spec in args.models.split(","):
        net = xai_lib.load_model(spec, "shapes", profile=prof, seed=0, device=dev, progress=False)
        for p in net.parameters():  # neither side needs the weights' gradients
            p.requires_grad_(False)
        pred = batched_logits(net, data.inputs).argmax(1)
        ok = torch.nonzero(pred == data.labels).flatten()[: args.images]
        x, y = data.inputs[ok], data.labels[ok]
        plan = batching.resolve("auto", net, x[:1], backward=True)  # calibrated once, outside the timed runs
        print(f"shapes/{spec}: calibrated plan {plan}", flush=True)
        t0 = time.perf_counter()
        h_ref, steps_ref = reference_loop(net, x, y, args.target, args.max_steps)
        t_ref = time.perf_counter() - t0
        recorder = CallRecorder(net)
        gax(recorder, x, y, args.target, max_steps=args.max_steps, batch_size=len(x))  # one call per iteration
        counts = recorder.counts
        _, best = sequential_floor(net, x, counts)
        # ours and the floor at its best plan in back-to-back pairs; the ratio is the median of the pairs' ratios
        t = interleaved(
            partial(gax, net, x, y, args.target, max_steps=args.max_steps),
            partial(sequential_floor, net, x, counts, sizes=(best.size,), layouts=(best.channels_last,)),
            args.repeat,
        )
        t_ours, res, t_floor = t.ours_s, t.ours_out, t.peer_s
        lo, hi = t.ratio_spread
        same_steps = float((res.steps == steps_ref).float().mean())
        diff = float((res.heatmaps - h_ref).abs().max())
        rows.append({"model": f"shapes/{spec}", "images": len(x), "target": args.target, "max_steps": args.max_steps,
                     "reached": float(res.reached.float().mean()), "median_steps": float(res.steps.float().median()),
                     "batched_s": t_ours, "one_at_a_time_s": t_ref, "ratio": t_ours / t_ref,
                     "floor_s": t_floor, "floor_plan": f"{best.size}{' channels_last' if best.channels_last else ''}",
                     "ours_over_floor": t.ratio,
                     "ours_over_floor_low": lo, "ours_over_floor_high": hi, "evaluations": sum(counts),
                     "same_stop_step": same_steps, "max_abs_heatmap_diff": diff})  # fmt: skip
        print(
            f"shapes/{spec}: batched {t_ours:.2f} s, one at a time {t_ref:.2f} s, ratio {t_ours / t_ref:.3f}; "
            f"floor {t_floor:.2f} s ({sum(counts)} evaluations, plan {best}), ours / floor "
            f"{t.ratio:.3f} (median of per-pair ratios {lo:.3f}-{hi:.3f}; goal <= 1.2); "
            f"reached {rows[-1]['reached']:.2f}; same stop step {same_steps:.2f}, max |dh| {diff:.1e}"
        )
    save_table(pd.DataFrame(rows), args.out)


if __name__ == "__main__":
    main()
