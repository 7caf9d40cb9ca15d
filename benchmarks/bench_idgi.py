"""Benchmark: IG, IG + IDGI, Blur IG and Guided IG against the model's floor, captum and PAIR saliency.

    .venv/bin/pip install -e ".[bench]"          # benchmark-only peer (PAIR-code/saliency 0.2.1)
    .venv/bin/python benchmarks/bench_idgi.py [--profile book] [--images 16] [--steps 200] [--methods ig,gig]

One process, one model (the default VGG of ``shapes``), the same test images and settings for every row. The
library's calibration (``internal_batch_size="auto"``) is timed once and printed; against the floor, our methods run
at the floor's plan (the size and layout found best in this run), so that the ratio measures the method's own
overhead and not whether a timing-based calibration happened to find the best plan. Two kinds of ratio:

* **ours / floor**: the floor is the same forward+backward evaluations our method made (recorded from its
  run), replayed at the best batch size and layout found in this run, with no attribution bookkeeping; ours
  and the floor at that plan are then timed in ``--repeat`` back-to-back pairs (alternating which runs first);
  the ratio is the median of the per-pair ratios (the lowest and highest are printed beside it).
  Goals: IG, IG + IDGI, Blur IG <= 1.15; Guided IG <= 1.3. Guided IG's floor is sequential: a call holds
  one step's evaluations at most (the next step's points depend on this step's gradients, so no method can
  merge steps); its ratio to the merged floor is printed too, for reference.
* **ours / peer**: captum ``IntegratedGradients`` (riemann_right, given our evaluations per call),
  PAIR Guided IG (one image per call: PAIR cannot batch images), PAIR Blur IG at its default ``batch_size=1``
  and at its best ``batch_size`` among ``--pair-blur-batches``.

Every pair is checked for agreement (max relative difference). The fast rows are timed in ``--repeat`` pairs
(median of the per-pair ratios; the seconds shown are each side's best); PAIR's rows are one run each.

Compatibility patch: PAIR's Guided IG calls ``np.quantile(..., interpolation=...)``, removed in numpy 2.4;
we give that one module the numpy proxy of :func:`xai_lib.reference.pair.numpy_for_pair`, which translates the
keyword to ``method=``. Nothing else is changed.
Results: ``benchmarks/results/idgi.csv``.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd
import torch
from _timing import Recorder, floor, interleaved, replay, run_file  # benchmarks/ is the running script's directory

import xai_lib
from xai_lib import batching
from xai_lib.attribution import IG, BlurIG, GuidedIG
from xai_lib.data import load_dataset
from xai_lib.plotting import save_table
from xai_lib.reference.pair import call_model_function, numpy_for_pair


def rel_diff(a: torch.Tensor, b: torch.Tensor) -> float:
    return float((a - b).abs().max() / b.abs().max())


def timed(fn) -> tuple[float, object]:
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--profile", default="book")
    ap.add_argument("--images", type=int, default=16)
    ap.add_argument("--steps", type=int, default=200)
    ap.add_argument("--blur-steps", type=int, default=100)
    ap.add_argument("--repeat", type=int, default=5, help="timed pairs (ours, peer); the ratio is their median")
    ap.add_argument("--pair-blur-batches", default="1,10,25,50,100", help="PAIR Blur IG batch sizes to try")
    ap.add_argument("--output", default="probability", choices=["logit", "probability"])
    ap.add_argument("--no-peers", action="store_true", help="floors only (no captum / PAIR rows)")
    ap.add_argument("--methods", default="ig,idgi,blur,gig", help="floor rows to run: any of ig,idgi,blur,gig")
    ap.add_argument("--out", default=str(run_file("idgi")))
    args = ap.parse_args()
    xai_lib.setup(0, "cpu")
    model = xai_lib.load_model("vgg", "shapes", profile=args.profile, progress=False)
    for p in model.parameters():
        p.requires_grad_(False)
    data = load_dataset("shapes", "test", args.profile)
    x, y = data.inputs[: args.images], data.labels[: args.images]
    t_cal, plan = timed(lambda: batching.resolve("auto", model, x[:1], backward=True))
    print(f"calibrated plan {plan} in {t_cal:.1f} s (once per model and shape; not in the timings below)")
    rows = []

    def record(name, kind, ours_s, other_s, goal, agreement=float("nan"), note="", ratio=None, spread=None):
        ratio = ours_s / other_s if ratio is None else ratio
        lo, hi = spread if spread else (float("nan"), float("nan"))
        rows.append({"comparison": name, "against": kind, "images": len(x), "ours_s": ours_s, "other_s": other_s,
                     "ratio": ratio, "ratio_low": lo, "ratio_high": hi, "goal": goal,
                     "meets_goal": (ratio <= goal) if goal else None, "max_rel_difference": agreement,
                     "note": note})  # fmt: skip
        goal_text = f" (goal <= {goal})" if goal else ""
        agree_text = f"max rel. difference {agreement:.1e}" if agreement == agreement else ""
        print(f"{name:44s} ours {ours_s:7.2f} s  {kind} {other_s:7.2f} s  ratio {ratio:5.3f}{goal_text}  "
              f"{agree_text} {note}", flush=True)  # fmt: skip

    def against_floor(name, method, run, goal, sequential=False):
        rec = Recorder(method)
        run()
        del method.grad_fn  # back to the class method
        inputs, targets = rec.stacked()
        # a sequential method's calls hold one step's evaluations at most (its next step depends on them)
        group = len(x) if sequential else None
        _, best = floor(model, inputs, targets, args.output, repeat=1, sizes=(8, 16, 32, 64, 128), group=group)
        # ours at the floor's plan (size and layout): the ratio is then the method's own overhead, not the luck of a
        # calibration (a timing-based choice that differs from run to run; without a size the methods would take the
        # library's default, 32 per call and contiguous)
        method.internal_batch_size, method.channels_last = best.size, best.channels_last
        # ours and the floor at its best plan in back-to-back pairs; the ratio is the median of the pairs' ratios
        t = interleaved(run, lambda: replay(model, inputs, targets, best, args.output, group), args.repeat)
        lo, hi = t.ratio_spread
        kind = "sequential floor" if sequential else "floor"
        note = f"{len(inputs)} evaluations; floor plan {best}; per-pair ratios {lo:.3f}-{hi:.3f}"
        record(name, kind, t.ours_s, t.peer_s, goal, note=note, ratio=t.ratio, spread=t.ratio_spread)
        if sequential:  # for reference: the same evaluations with steps merged into larger calls (no goal)
            _, merged = floor(model, inputs, targets, args.output, repeat=1, sizes=(8, 16, 32, 64, 128))
            m = interleaved(run, lambda: replay(model, inputs, targets, merged, args.output), args.repeat)
            note = f"steps merged into calls (no method can: reference only); floor plan {merged}"
            record(name, "merged floor", m.ours_s, m.peer_s, None, note=note, ratio=m.ratio, spread=m.ratio_spread)
        return t.ours_s, t.ours_out

    methods = set(args.methods.split(","))
    if not methods <= {"ig", "idgi", "blur", "gig"}:
        ap.error(f"--methods: expected names among ig,idgi,blur,gig, got {args.methods!r}")
    ig, blur, gig = IG(model, args.output), BlurIG(model, args.output), GuidedIG(model, args.output)
    if "ig" in methods:
        against_floor(f"IG {args.steps} steps", ig, lambda: ig.attribute(x, target=y, n_steps=args.steps), 1.15)
    if "idgi" in methods:
        against_floor(
            f"IG + IDGI {args.steps} steps", ig, lambda: ig.attribute(x, target=y, n_steps=args.steps, idgi=True), 1.15
        )
    if "blur" in methods or not args.no_peers:
        t_blur, a_blur = against_floor(
            f"Blur IG {args.blur_steps} steps", blur, lambda: blur.attribute(x, target=y, n_steps=args.blur_steps), 1.15
        )
    if "gig" in methods or not args.no_peers:
        t_gig, a_gig = against_floor(
            f"Guided IG {args.steps} steps", gig, lambda: gig.attribute(x, target=y, n_steps=args.steps), 1.3, True
        )
    if not args.no_peers:
        from captum.attr import IntegratedGradients

        fwd = model if args.output == "logit" else (lambda inp: torch.softmax(model(inp), 1))
        captum_ig = IntegratedGradients(fwd)
        size = ig.internal_batch_size or plan.size  # ours' evaluations per call (the IG row's floor plan, if it ran)
        t = interleaved(
            lambda: ig.attribute(x, target=y, n_steps=args.steps),
            lambda: captum_ig.attribute(
                x, target=y, n_steps=args.steps, method="riemann_right", internal_batch_size=size
            ),
            args.repeat,
        )
        record("IG", "captum", t.ours_s, t.peer_s, None, rel_diff(t.ours_out, t.peer_out),
               f"captum at {size} per call", ratio=t.ratio, spread=t.ratio_spread)  # fmt: skip

        import saliency.core as sc
        import saliency.core.guided_ig as pair_gig

        pair_gig.np = numpy_for_pair()
        hwc = x.permute(0, 2, 3, 1).numpy()
        t_pgig, p_gig = timed(
            lambda: np.stack([
                sc.GuidedIG().GetMask(hwc[i], call_model_function(model, int(y[i]), args.output), None,
                                      x_baseline=np.zeros_like(hwc[i]), x_steps=args.steps, fraction=0.25,
                                      max_dist=0.02)
                for i in range(len(hwc))
            ])
        )  # fmt: skip
        record("Guided IG", "PAIR", t_gig, t_pgig, None, rel_diff(a_gig, torch.as_tensor(p_gig).permute(0, 3, 1, 2)))

        pair_blur = {}
        for size in [int(v) for v in args.pair_blur_batches.split(",")]:
            pair_blur[size] = timed(
                lambda size=size: np.stack([
                    sc.BlurIG().GetMask(hwc[i], call_model_function(model, int(y[i]), args.output), None, max_sigma=50,
                                        steps=args.blur_steps, grad_step=0.01, batch_size=size)
                    for i in range(len(hwc))
                ])
            )  # fmt: skip
            print(f"  PAIR Blur IG batch_size={size}: {pair_blur[size][0]:.2f} s", flush=True)
        best_size = min(pair_blur, key=lambda k: pair_blur[k][0])
        for size, label in ((1, "its default batch_size=1"), (best_size, f"its best batch_size={best_size}")):
            t_pblur, p_blur = pair_blur[size]
            agreement = rel_diff(a_blur, torch.as_tensor(p_blur).permute(0, 3, 1, 2))
            record(f"Blur IG ({label})", "PAIR", t_blur, t_pblur, None, agreement)
    out = save_table(pd.DataFrame(rows), args.out)
    print(f"{args.images} images, {args.steps} steps ({args.blur_steps} for Blur IG), output={args.output}; -> {out}")


if __name__ == "__main__":
    main()
