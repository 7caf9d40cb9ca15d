"""IDGI's conditioning (chapter 2): where a path's gradients are tiny, how far IG and IDGI maps move under
rounding-level changes of the gradients, what the norm guard buys and costs, and the lossy-input measure of the
TMLR reproduction study (Singhi & Kumari, arXiv 2409.09043).

IDGI weights step ``j`` by ``g_j^2 / |g_j|^2``: the gradient's direction. Moving the gradient by ``dg`` moves those
weights by at most ``4 |dg| / |g_j|`` in L1 (:func:`condition_bound`), and a gradient computed in floating point
carries an error of the size of the larger gradients around it (the ``1 - p`` of a saturated softmax is known only to
the precision of ``p``): where ``|g_j|`` is tiny, the step's direction is rounding noise. IG multiplies each gradient
by the step, so its error stays proportional to the gradient's.

The measurements here compare the same maps computed three ways: in float32 (the chapters' default), in float64 (a
rounding level 10^9 times smaller), and in float32 with another CPU's kernels (PyTorch's scalar kernels and oneDNN
capped at SSE4.1, or AVX2 when the chapter itself runs on those), in a subprocess (:func:`maps_with_other_kernels`).
"""

from __future__ import annotations

import io
import json
import math
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from PIL import Image
from torch import nn

from ..attribution import IG, BlurIG, GuidedIG

#: the kernels of "another CPU" for a process that runs the book's AVX2 kernels: PyTorch's scalar kernels and
#: oneDNN's SSE4.1 convolutions (available on every x86-64 CPU); a process already on those gets the AVX2 caps
OTHER_KERNELS = {"ATEN_CPU_CAPABILITY": "default", "ONEDNN_MAX_CPU_ISA": "SSE41"}
AVX2_KERNELS = {"ATEN_CPU_CAPABILITY": "avx2", "ONEDNN_MAX_CPU_ISA": "AVX2"}
METHODS = {"IG": IG, "Guided IG": GuidedIG, "Blur IG": BlurIG}


def other_kernels() -> dict[str, str]:
    """The kernel set unlike this process's (see :data:`OTHER_KERNELS`)."""
    return AVX2_KERNELS if torch.backends.cpu.get_cpu_capability() == "DEFAULT" else OTHER_KERNELS


def tiny_steps(norms: torch.Tensor, changes: torch.Tensor, thresholds: tuple[float, ...]) -> pd.DataFrame:
    """Per threshold ``tau``: the path steps whose squared gradient norm is below ``tau`` times their path's largest
    (by the guard's rule, :func:`skipped_by_guard`, zero gradients included), the images that have such steps, the
    share of all the output change they carry, and the largest share of one image's ``|f(x) - f(x')|`` they carry
    (what IDGI with ``min_norm=tau`` no longer attributes); ``lost per image``: their output change, per image.
    ``norms``, ``changes``: ``(B, N)`` per image and step (the IDGI report's ``["step_norms"]`` and
    ``["output_changes"]``)."""
    moved = changes.abs()
    total = changes.sum(1).abs().clamp_min(1e-300)
    rows = []
    for tau in thresholds:
        below = skipped_by_guard(norms, tau)
        lost = (changes * below).sum(1)
        rows.append({
            "threshold": tau, "steps below": int(below.sum()), "of steps": int(below.numel()),
            "images with such steps": int(below.any(1).sum()),
            "share of all output change": float((moved * below).sum() / moved.sum().clamp_min(1e-300)),
            "largest share of an image's": float((lost.abs() / total).max()), "lost per image": lost.tolist(),
        })  # fmt: skip
    return pd.DataFrame(rows)


def skipped_by_guard(norms: torch.Tensor, tau: float) -> torch.Tensor:
    """The steps IDGI's guard ``min_norm=tau`` skips (``(B, N)`` bool): a zero gradient, or a squared norm whose
    binade lies below the path's largest by more than ``-floor(log2 tau)`` binades (see
    :class:`~xai_lib.attribution.IDGIAccumulator`)."""
    binade = torch.frexp(norms).exponent - 1
    top = torch.where(norms > 0, binade, torch.full_like(binade, -(2**30))).amax(1, keepdim=True)
    low = norms == 0
    if tau > 0:
        low |= binade < top + math.floor(math.log2(tau))
    return low


def relative_change(maps: torch.Tensor, reference: torch.Tensor) -> np.ndarray:
    """Per image: ``|maps - reference|_1 / |reference|_1`` (float64)."""
    a, b = maps.double().flatten(1), reference.double().flatten(1)
    return ((a - b).abs().sum(1) / b.abs().sum(1).clamp_min(1e-300)).numpy()


def condition_bound(norms: torch.Tensor, changes: torch.Tensor, gradient_error: torch.Tensor) -> torch.Tensor:
    """Per image, the most IDGI's map can move in L1 when each step's gradient moves by ``gradient_error``
    (``(B, N)``, L2): ``sum_j |df_j| min(2, 4 |dg_j| / |g_j|)``."""
    direction = torch.where(norms > 0, 4 * gradient_error / norms.sqrt().clamp_min(1e-300), torch.full_like(norms, 2.0))
    return (changes.abs() * direction.clamp(max=2.0)).sum(1)


def ig_maps(
    model: nn.Module, images: torch.Tensor, targets: torch.Tensor, n_steps: int, output: str,
    dtype: torch.dtype = torch.float32, min_norms: tuple[float, ...] = (0.0,),
) -> dict[str, torch.Tensor]:  # fmt: skip
    """IG and IG + IDGI (once per guard threshold) of ``images`` in ``dtype`` (the model cast to it, in a copy):
    ``{"IG": ..., "IG + IDGI": ..., "IG + IDGI, tau": ..., "step_norms": ..., "output_changes": ..., "lost, tau":
    ...}``, float64 on the CPU."""
    import copy

    net = copy.deepcopy(model).to(dtype)
    method = IG(net, output)
    x = images.to(dtype)
    out: dict[str, torch.Tensor] = {}
    for tau in min_norms:
        base, with_idgi, report = method.attribute_with_idgi(
            x, target=targets, n_steps=n_steps, min_norm=tau, return_report=True
        )
        key = "IG + IDGI" if tau == 0 else f"IG + IDGI, tau={tau:g}"
        out["IG"], out[key] = base.double().cpu(), with_idgi.double().cpu()
        out[f"lost, tau={tau:g}"] = report["lost"].double().cpu()
        if tau == 0:
            out["step_norms"] = report["step_norms"].cpu()
            out["output_changes"] = report["output_changes"].cpu()
    return out


_SUBPROCESS = """
import json, sys, torch
from xai_lib.experiments.conditioning import _job
_job(json.loads(sys.argv[1]))
"""


def _job(job: dict) -> None:
    """The subprocess of :func:`maps_with_other_kernels`: load the system, compute the maps, save them."""
    from ..runtime import setup
    from ..systems import load_system, spec_from_mapping

    setup(job["seed"], job["device"], profile=job["profile"])
    system = load_system(spec_from_mapping(job["system"], "system"), job["profile"], job["seed"], job["device"])
    test = system.data("test")
    images = test.inputs[job["indices"]].to(system.device)
    targets = torch.tensor(job["targets"], dtype=torch.long, device=system.device)
    maps = ig_maps(system.model, images, targets, job["n_steps"], job["output"], min_norms=tuple(job["min_norms"]))
    buf = io.BytesIO()
    torch.save({**maps, "capability": torch.backends.cpu.get_cpu_capability()}, buf)
    Path(job["out"]).write_bytes(buf.getvalue())


def maps_with_other_kernels(
    system, profile: str, seed: int, indices: list[int], targets: torch.Tensor, n_steps: int, output: str,
    min_norms: tuple[float, ...] = (0.0,),
) -> tuple[dict[str, torch.Tensor], dict[str, str]]:  # fmt: skip
    """:func:`ig_maps` of the test images ``indices`` computed in a subprocess with :func:`other_kernels` (on the
    CPU, float32); returns the maps and the kernel settings used."""
    env_kernels = other_kernels()
    with tempfile.TemporaryDirectory() as tmp:
        job = {
            "system": system.spec.to_dict(), "profile": profile, "seed": seed, "device": "cpu",
            "indices": [int(i) for i in indices], "targets": [int(t) for t in targets.tolist()], "n_steps": n_steps,
            "output": output, "min_norms": list(min_norms), "out": str(Path(tmp) / "maps.pt"),
        }  # fmt: skip
        env = {**os.environ, **env_kernels}
        done = subprocess.run([sys.executable, "-c", _SUBPROCESS, json.dumps(job)], env=env, capture_output=True,
                              text=True)  # fmt: skip
        if done.returncode != 0:
            raise RuntimeError(f"the other-kernels run failed:\n{done.stderr[-2000:]}")
        maps = torch.load(Path(job["out"]), weights_only=True)
    capability = maps.pop("capability")
    return maps, {**env_kernels, "capability": capability}


def jpeg(images: torch.Tensor, quality: int = 75) -> torch.Tensor:
    """Each ``(C, H, W)`` image in [0, 1] saved as a JPEG of ``quality`` and read back (the TMLR study's lossy
    inputs: PIL, quality 75)."""
    out = []
    for img in images.detach().cpu():
        arr = (img.clamp(0, 1) * 255).round().to(torch.uint8).permute(1, 2, 0).numpy()
        pil = Image.fromarray(arr[..., 0] if arr.shape[-1] == 1 else arr)
        buf = io.BytesIO()
        pil.save(buf, format="JPEG", quality=quality)
        back = np.asarray(Image.open(io.BytesIO(buf.getvalue())).convert("L" if arr.shape[-1] == 1 else "RGB"))
        back = back[..., None] if back.ndim == 2 else back
        out.append(torch.from_numpy(back.copy()).permute(2, 0, 1).float() / 255)
    return torch.stack(out).to(images.device, images.dtype)


def tmlr_mse(clean: torch.Tensor, lossy: torch.Tensor) -> float:
    """The TMLR study's stability measure: each map summed over channels (signed) and divided by its own sum, then
    the mean squared difference between the clean and the lossy input's maps over pixels and images."""
    a, b = clean.double().sum(1), lossy.double().sum(1)
    a = a / a.sum((1, 2), keepdim=True)
    b = b / b.sum((1, 2), keepdim=True)
    return float((a - b).square().mean())


def order_of(value: float) -> str:
    """A rounding-level measurement as the nearest power of ten (``3.2e-06`` -> ``~1e-06``, ``6.9e-07`` ->
    ``~1e-06``): the digits themselves differ from CPU to CPU."""
    if not value > 0 or not math.isfinite(value):
        return "0" if value == 0 else "n/a"
    return f"~1e{round(math.log10(value)):+03d}"
