"""Benchmark: our batched IG / Guided IG / Blur IG (with and without IDGI) against captum and PAIR saliency.

    .venv/bin/pip install saliency==0.2.1        # benchmark-only peer (PAIR-code/saliency)
    .venv/bin/python benchmarks/bench_idgi.py [--profile book] [--images 16] [--steps 200]

One process, one model (the default VGG of ``shapes``), the same test images and settings for every pair;
each pair is checked for agreement, timed (best of ``--repeat``), and reported as a ratio ours / peer:

* IDGI cost / IG cost (same 200-step straight line)                      goal <= 1.05
* our IG / captum ``IntegratedGradients`` (riemann_right, same batch)    goal <= 1.0
* our Guided IG (batched) / PAIR Guided IG (one image per call, torch callback)   goal <= 0.25
* our Blur IG (batched) / PAIR Blur IG (one image per call, its default batch_size=1)   goal <= 0.2

Compatibility patch: PAIR's Guided IG calls ``np.quantile(..., interpolation=...)``, removed in numpy 2.4;
we give that one module a numpy proxy that translates the keyword to ``method=``. Nothing else is changed.
Results: ``benchmarks/results/idgi.csv``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from _timing import interleaved  # benchmarks/ is the running script's directory

import xai_lib
from xai_lib.attribution import IG, BlurIG, GuidedIG
from xai_lib.data import load_dataset
from xai_lib.plotting import save_table


class _NumpyQuantileCompat:
    """``numpy`` for PAIR's guided_ig module, with ``quantile(interpolation=...)`` mapped to ``method=``."""

    def __getattr__(self, name):
        return getattr(np, name)

    @staticmethod
    def quantile(a, q, *args, interpolation=None, **kwargs):
        if interpolation is not None:
            kwargs["method"] = interpolation
        return np.quantile(a, q, *args, **kwargs)


def rel_diff(a: torch.Tensor, b: torch.Tensor) -> float:
    return float((a - b).abs().max() / b.abs().max())


def pair_callback(model: torch.nn.Module, target: int, output: str):
    """PAIR's ``call_model_function``: HWC numpy batch in, gradients of the target output out."""
    import saliency.core as sc

    def call(x_value_batch, call_model_args=None, expected_keys=None):
        x = torch.as_tensor(np.asarray(x_value_batch, dtype=np.float32)).permute(0, 3, 1, 2).requires_grad_(True)
        out = model(x)
        if output == "probability":
            out = torch.softmax(out, 1)
        (g,) = torch.autograd.grad(out[:, target].sum(), x)
        return {sc.base.INPUT_OUTPUT_GRADIENTS: g.permute(0, 2, 3, 1).numpy()}

    return call


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--profile", default="book")
    ap.add_argument("--images", type=int, default=16)
    ap.add_argument("--steps", type=int, default=200)
    ap.add_argument("--blur-steps", type=int, default=100)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--pair-blur-batch", type=int, default=1, help="PAIR Blur IG's batch_size (its default: 1)")
    ap.add_argument("--output", default="probability", choices=["logit", "probability"])
    args = ap.parse_args()
    xai_lib.setup(0, "cpu")
    model = xai_lib.load_model("vgg", "shapes", profile=args.profile, progress=False)
    data = load_dataset("shapes", "test", args.profile)
    x, y = data.inputs[: args.images], data.labels[: args.images]
    rows = []

    def record(name, ours_s, peer_s, goal, agreement):
        rows.append({"comparison": name, "ours_s": ours_s, "peer_s": peer_s, "ratio": ours_s / peer_s,
                     "goal": goal, "meets_goal": ours_s / peer_s <= goal, "max_rel_difference": agreement})  # fmt: skip
        print(f"{name:34s} ours {ours_s:7.2f} s  peer {peer_s:7.2f} s  ratio {ours_s / peer_s:5.3f} "
              f"(goal <= {goal})  max rel. difference {agreement:.1e}", flush=True)  # fmt: skip

    # IDGI cost / IG cost, and our IG / captum's IG: same steps, same points per forward pass
    chunk = 32
    ig = IG(model, args.output, internal_batch_size=chunk)
    t_idgi, a_idgi, t_ig, a_ig = interleaved(
        lambda: ig.attribute(x, y, n_steps=args.steps, idgi=True),
        lambda: ig.attribute(x, y, n_steps=args.steps),
        args.repeat,
    )
    record("IG + IDGI / IG", t_idgi, t_ig, 1.05, float("nan"))
    from captum.attr import IntegratedGradients

    fwd = model if args.output == "logit" else (lambda inp: torch.softmax(model(inp), 1))
    captum_ig = IntegratedGradients(fwd)
    t_ig, a_ig, t_cap, a_cap = interleaved(
        lambda: ig.attribute(x, y, n_steps=args.steps),
        lambda: captum_ig.attribute(
            x, target=y, n_steps=args.steps, method="riemann_right", internal_batch_size=chunk * len(x)
        ),  # fmt: skip
        args.repeat,
    )
    record("our IG / captum IG", t_ig, t_cap, 1.0, rel_diff(a_ig, a_cap))

    import saliency.core as sc
    import saliency.core.guided_ig as pair_gig

    pair_gig.np = _NumpyQuantileCompat()
    gig = GuidedIG(model, args.output)
    hwc = x.permute(0, 2, 3, 1).numpy()

    def pair_guided():
        return np.stack([
            sc.GuidedIG().GetMask(hwc[i], pair_callback(model, int(y[i]), args.output), None,
                                  x_baseline=np.zeros_like(hwc[i]), x_steps=args.steps, fraction=0.25, max_dist=0.02)
            for i in range(len(hwc))
        ])  # fmt: skip

    t_gig, a_gig, t_pgig, p_gig = interleaved(lambda: gig.attribute(x, y, n_steps=args.steps), pair_guided, 1)
    record(
        "our Guided IG / PAIR Guided IG",
        t_gig,
        t_pgig,
        0.25,
        rel_diff(a_gig, torch.as_tensor(p_gig).permute(0, 3, 1, 2)),
    )

    blur = BlurIG(model, args.output, internal_batch_size=25)

    def pair_blur():
        return np.stack([
            sc.BlurIG().GetMask(hwc[i], pair_callback(model, int(y[i]), args.output), None, max_sigma=50,
                                steps=args.blur_steps, grad_step=0.01, batch_size=args.pair_blur_batch)
            for i in range(len(hwc))
        ])  # fmt: skip

    t_blur, a_blur, t_pblur, p_blur = interleaved(lambda: blur.attribute(x, y, n_steps=args.blur_steps), pair_blur, 1)
    record(
        f"our Blur IG / PAIR Blur IG (batch {args.pair_blur_batch})",
        t_blur,
        t_pblur,
        0.2,
        rel_diff(a_blur, torch.as_tensor(p_blur).permute(0, 3, 1, 2)),
    )
    out = save_table(pd.DataFrame(rows), Path(__file__).parent / "results" / "idgi.csv")
    print(f"{args.images} images, {args.steps} steps ({args.blur_steps} for Blur IG), output={args.output}; -> {out}")


if __name__ == "__main__":
    main()
