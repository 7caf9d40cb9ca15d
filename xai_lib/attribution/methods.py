"""Model glue: IG, Guided IG, Blur IG (each optionally with IDGI) and the vanilla gradient, captum-style.

``model`` is any module mapping ``(B, *F)`` to ``(B, C)``. ``output="logit"`` attributes the raw output of
the target class, ``"probability"`` its softmax probability (the IDGI reference code's choice).
``.attribute(inputs, baselines=None, target=None, *, n_steps=..., idgi=False, ...)`` (captum's argument order; every
option after ``target`` is keyword-only) returns a tensor shaped like ``inputs``; with ``return_report=True`` it
returns ``(attributions, report)``, the report holding, per input, the IDGI steps skipped and the output change they
carried (the completeness IDGI loses there): steps with a zero gradient, and with ``min_norm = tau > 0`` those whose
squared gradient norm is below ``tau`` times the path's largest (see :class:`.kernels.IDGIAccumulator`); and every
IDGI step's squared gradient norm and output change (``step_norms``, ``output_changes``: ``(B, N)``).

**Calls to the model.** ``internal_batch_size`` is, as in captum, the number of model evaluations per
forward/backward call (images x path points). ``None`` (the default) takes the process's plan (a profile's, or
32 per call: :mod:`xai_lib.batching`); ``"auto"`` calibrates it on the model, input shape and device, together with
the memory layout (``channels_last``); an int fixes it (contiguous layout unless ``channels_last=True``). A batch
of more images than one call holds is processed in groups of images; within a group, path points are evaluated in
chunks for all its images at once. Memory is bounded, and the result equals that of the images one by one, whatever
the size, up to floating-point summation order (tested).
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn

from .. import batching
from ..stopwatch import timed
from ..targets import as_targets
from .guided import guided_ig
from .kernels import IDGIAccumulator, check_finite
from .paths import (
    blur_derivative,
    blur_sigmas,
    derivative_radius,
    gaussian_blur,
    gaussian_radius,
    riemann_alphas,
    straight_line,
)

OUTPUTS = ("logit", "probability")


def _feed_path(acc: IDGIAccumulator, f: torch.Tensor, g: torch.Tensor, last_chunk: bool) -> None:
    """Give IDGI a chunk of path points in order; the path's last point (the input) only closes the path:
    its output ends the last interval and its gradient is unused."""
    if last_chunk:
        f_end, f, g = f[-1], f[:-1], g[:-1]
    if len(f):
        acc.update(f, g)
    if last_chunk:
        acc.finish(f_end)


class _PathMethod:
    """Shared validation, target selection, planned model calls and grouping of images."""

    def __init__(
        self,
        model: nn.Module,
        output: str = "logit",
        internal_batch_size: int | str | None = None,
        channels_last: bool | None = None,
    ) -> None:
        if not isinstance(model, nn.Module):
            raise ValueError(f"model: expected a torch.nn.Module, got {type(model).__name__}")
        if output not in OUTPUTS:
            raise ValueError(f"output: expected one of {list(OUTPUTS)}, got {output!r}")
        if internal_batch_size not in (None, "auto") and (
            isinstance(internal_batch_size, bool) or not isinstance(internal_batch_size, int) or internal_batch_size < 1
        ):
            raise ValueError(f"internal_batch_size: expected a positive int or 'auto', got {internal_batch_size!r}")
        self.model, self.output = model, output
        self.internal_batch_size, self.channels_last = internal_batch_size, channels_last
        self.plan = batching.Plan(1)
        self._report: dict[str, torch.Tensor] = {}

    # -- glue ---------------------------------------------------------------------------------------------
    def outputs(self, x: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """The attributed output ``f_c(x)`` per row (logit or probability of row's target)."""
        out = self.model(x)
        if out.dim() != 2:
            raise ValueError(f"model: expected outputs of shape (B, C), got {tuple(out.shape)}")
        if self.output == "probability":
            out = F.softmax(out, dim=1)
        return out.gather(1, target[:, None]).squeeze(1)

    def grad_fn(self, x: torch.Tensor, target: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """PAIR-style kernel interface: ``x (M, *F) -> (f (M,), grad f (M, *F))``, one model call."""
        x = self.plan.layout(x.detach()).requires_grad_(True)
        with timed("model"), torch.enable_grad():
            f = self.outputs(x, target)
            (g,) = torch.autograd.grad(f.sum(), x)
        return f.detach(), g.contiguous()

    def forward_outputs(self, x: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """``f_c(x)`` without gradients, in calls of at most the plan's size."""
        with timed("model"):
            return batching.map_chunks(
                lambda a, b: self.outputs(self.plan.layout(x[a:b]), target[a:b]), len(x), self.plan.size
            )

    def _make_plan(self, inputs: torch.Tensor) -> batching.Plan:
        self.plan = batching.resolve(self.internal_batch_size, self.model, inputs[:1], True, self.channels_last)
        return self.plan

    def _grouped(self, inputs: torch.Tensor, target: torch.Tensor, baselines, run: Callable):
        """``run(inputs, target, baselines)`` on groups of at most ``plan.size`` images; tensors (or tuples of
        them) and the IDGI report's entries are concatenated in order."""
        size = self.plan.size
        if len(inputs) <= size:
            return run(inputs, target, baselines)
        parts, reports = [], []
        for a, b in batching.chunks(len(inputs), size):
            parts.append(run(inputs[a:b], target[a:b], None if baselines is None else baselines[a:b]))
            reports.append(self._report)
        self._report = {k: torch.cat([r[k] for r in reports]) for k in reports[0]}
        if isinstance(parts[0], tuple):
            return tuple(torch.cat(p) for p in zip(*parts, strict=True))
        return torch.cat(parts)

    def _returned(self, result, return_report: bool):
        """``result`` alone, or ``(*result, report)`` with ``return_report`` (the IDGI report of this call: empty
        for a method without IDGI)."""
        if not return_report:
            return result
        return (*result, self._report) if isinstance(result, tuple) else (result, self._report)

    # -- validation ---------------------------------------------------------------------------------------
    def _check(self, inputs, target, baselines, n_steps):
        check_finite("inputs", inputs)
        if inputs.dim() < 2 or inputs.shape[0] < 1:
            raise ValueError(f"inputs: expected shape (B, *F) with B >= 1, got {tuple(inputs.shape)}")
        if not isinstance(n_steps, int) or isinstance(n_steps, bool) or n_steps < 1:
            raise ValueError(f"n_steps: expected an int >= 1, got {n_steps!r}")
        b = inputs.shape[0]
        with torch.no_grad():
            n_classes = self.model(inputs[:1]).shape[1]
        if target is None:
            raise ValueError(
                "target: required, an int or an integer tensor of shape (B,); the argument order is captum's: "
                "attribute(inputs, baselines=None, target=...)"
            )
        target = as_targets(target, b, n_classes, device=inputs.device)
        if baselines is None:
            baselines = torch.zeros_like(inputs)
        elif isinstance(baselines, int | float):
            baselines = torch.full_like(inputs, float(baselines))
        else:
            check_finite("baselines", baselines)
            if baselines.shape == inputs.shape[1:]:
                baselines = baselines.expand_as(inputs)
            if baselines.shape != inputs.shape:
                raise ValueError(
                    f"baselines: expected shape {tuple(inputs.shape)} or {tuple(inputs.shape[1:])}, "
                    f"got {tuple(baselines.shape)}"
                )
            baselines = baselines.to(inputs.dtype)
        self._make_plan(inputs)
        return target, baselines

    def _point_chunks(self, n_points: int, n_images: int):
        """Chunks of path points such that one call holds at most ``plan.size`` evaluations."""
        return batching.chunks(n_points, max(1, self.plan.size // n_images))

    def _points_grads(self, points: torch.Tensor, target: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Outputs ``(C, B)`` and gradients ``(C, B, *F)`` at ``C`` path points for all ``B`` images."""
        c, b = points.shape[:2]
        f, g = self.grad_fn(points.reshape(c * b, *points.shape[2:]), target.repeat(c))
        return f.reshape(c, b), g.reshape(points.shape)

    def completeness_error(
        self, inputs: torch.Tensor, attributions: torch.Tensor, target, baselines: torch.Tensor | None = None
    ) -> torch.Tensor:
        """Per input: ``sum(attributions) - (f(inputs) - f(baselines))`` (0 for a complete method)."""
        target, baselines = self._check(inputs, target, baselines, 1)
        diff = self.forward_outputs(inputs, target) - self.forward_outputs(baselines, target)
        return attributions.flatten(1).sum(1) - diff


class IG(_PathMethod):
    """Integrated Gradients (Sundararajan et al. 2017) on the straight line, optionally with IDGI.

    ``idgi=False``: ``(x - x') * mean_k grad f(x' + a_k (x - x'))`` over the Riemann alphas of ``method``
    (default ``riemann_right``, as captum's). ``idgi=True``: IDGI (IDGI paper, Algorithm 1) on the points
    ``x' + (j/N)(x - x')``, ``j = 0..N``: gradients at ``0..N-1``, outputs at ``0..N``.
    """

    def attribute(
        self, inputs, baselines=None, target=None, *, n_steps: int = 50, idgi: bool = False,
        method: str = "riemann_right", min_norm: float = 0.0, return_convergence_delta: bool = False,
        return_report: bool = False,
    ):  # fmt: skip
        """IG (or IG + IDGI) of ``target``'s output; ``return_convergence_delta``: also captum's delta, per input
        ``sum(attributions) - (f(inputs) - f(baselines))``; ``return_report``: also the IDGI report (last)."""
        target, baselines = self._check(inputs, target, baselines, n_steps)
        if not idgi:
            riemann_alphas(1, method)  # validates ``method`` before any work
        attr = self._grouped(
            inputs, target, baselines, lambda x, t, b: self._ig(x, t, b, n_steps, idgi, method, min_norm)
        )
        report = self._report
        if return_convergence_delta:
            attr = (attr, self.completeness_error(inputs, attr, target, baselines))
        self._report = report
        return self._returned(attr, return_report)

    def _ig(self, inputs, target, baselines, n_steps, idgi, method, min_norm):
        if idgi:
            alphas = torch.arange(n_steps + 1, dtype=torch.float64) / n_steps
            acc = IDGIAccumulator(inputs.shape[1:], min_norm)
            for lo, hi in self._point_chunks(n_steps, len(inputs)):
                f, g = self._points_grads(straight_line(inputs, baselines, alphas[lo:hi].to(inputs.device)), target)
                acc.update(f, g)
            acc.finish(self.forward_outputs(inputs, target))
            self._report = acc.report()
            return acc.total
        alphas = riemann_alphas(n_steps, method, device=inputs.device, dtype=inputs.dtype)
        total = torch.zeros_like(inputs)
        for lo, hi in self._point_chunks(n_steps, len(inputs)):
            _, g = self._points_grads(straight_line(inputs, baselines, alphas[lo:hi]), target)
            total += g.sum(0)
        self._report = {}
        return (inputs - baselines) * total / n_steps

    def attribute_with_idgi(
        self, inputs, baselines=None, target=None, *, n_steps: int = 50, min_norm: float = 0.0,
        return_report: bool = False,
    ):  # fmt: skip
        """``(IG, IG + IDGI)`` from one pass over the ``N + 1`` points ``x' + (j/N)(x - x')``, ``j = 0..N``:
        IG (right Riemann sum) uses the gradients at ``1..N``, IDGI those at ``0..N-1`` and every output.
        Equal to two :meth:`attribute` calls at ``(N + 1) / 2N`` of their cost."""
        target, baselines = self._check(inputs, target, baselines, n_steps)
        both = self._grouped(inputs, target, baselines, lambda x, t, b: self._ig_both(x, t, b, n_steps, min_norm))
        return self._returned(both, return_report)

    def _ig_both(self, inputs, target, baselines, n_steps, min_norm=0.0):
        alphas = torch.arange(n_steps + 1, dtype=torch.float64) / n_steps
        acc, total = IDGIAccumulator(inputs.shape[1:], min_norm), torch.zeros_like(inputs)
        for lo, hi in self._point_chunks(n_steps + 1, len(inputs)):
            f, g = self._points_grads(straight_line(inputs, baselines, alphas[lo:hi].to(inputs.device)), target)
            total += g[1:].sum(0) if lo == 0 else g.sum(0)
            _feed_path(acc, f, g, hi == n_steps + 1)
        self._report = acc.report()
        return (inputs - baselines) * total / n_steps, acc.total


class GuidedIG(_PathMethod):
    """Guided IG (Kapishnikov et al. 2021), optionally with IDGI on its own path; batched over images (the
    model sees a group of images once per step)."""

    def attribute(
        self, inputs, baselines=None, target=None, *, n_steps: int = 200, idgi: bool = False,
        fraction: float = 0.25, max_dist: float = 0.02, min_norm: float = 0.0, return_report: bool = False,
    ):  # fmt: skip
        target, baselines = self._check(inputs, target, baselines, n_steps)
        self._check_guided(fraction, max_dist)

        def run(x, t, b):
            if not idgi:
                self._report = {}
                return guided_ig(lambda z: self.grad_fn(z, t), x, b, n_steps, fraction, max_dist)
            return self._gig_both(x, t, b, n_steps, fraction, max_dist, min_norm)[1]

        return self._returned(self._grouped(inputs, target, baselines, run), return_report)

    def attribute_with_idgi(
        self, inputs, baselines=None, target=None, *, n_steps: int = 200, fraction: float = 0.25,
        max_dist: float = 0.02, min_norm: float = 0.0, return_report: bool = False,
    ):  # fmt: skip
        """``(Guided IG, Guided IG + IDGI)`` from one walk of the guided path (IDGI reads each step's gradient
        and output as Guided IG takes it)."""
        target, baselines = self._check(inputs, target, baselines, n_steps)
        self._check_guided(fraction, max_dist)
        both = self._grouped(
            inputs, target, baselines, lambda x, t, b: self._gig_both(x, t, b, n_steps, fraction, max_dist, min_norm)
        )
        return self._returned(both, return_report)

    def _gig_both(self, inputs, target, baselines, n_steps, fraction, max_dist, min_norm=0.0):
        acc = IDGIAccumulator(inputs.shape[1:], min_norm)
        attr = guided_ig(
            lambda x: self.grad_fn(x, target), inputs, baselines, n_steps, fraction, max_dist,
            lambda f, g: acc.update(f[None], g[None]),
        )  # fmt: skip
        acc.finish(self.forward_outputs(inputs, target))
        self._report = acc.report()
        return attr, acc.total

    @staticmethod
    def _check_guided(fraction: float, max_dist: float) -> None:
        if not 0 < fraction <= 1:
            raise ValueError(f"fraction: expected a number in (0, 1], got {fraction!r}")
        if not 0 <= max_dist <= 1:
            raise ValueError(f"max_dist: expected a number in [0, 1], got {max_dist!r}")


class BlurIG(_PathMethod):
    """Blur IG (Xu et al. 2020): the path blurs the image from ``max_sigma`` down to the input.

    ``idgi=False`` follows PAIR: ``-sum_i (sigma_{i+1} - sigma_i) * dblur/dsigma(sigma_i) * grad f(blur_i)``,
    gradients at ``sigma_0..sigma_{N-1}`` (``sigma_0 = 0``: the input itself), the derivative by forward
    difference of step ``grad_step`` (both blurs with one kernel radius: see :func:`.paths.blur_derivative`).
    ``idgi=True``: IDGI along the path from the most blurred image to the input (gradients at
    ``sigma_N..sigma_1``, outputs at every sigma). No baselines: the reference is the
    most blurred image, and completeness holds against it.
    """

    def attribute(
        self, inputs, baselines=None, target=None, *, n_steps: int = 100, idgi: bool = False,
        max_sigma: float = 50.0, grad_step: float = 0.01, min_norm: float = 0.0, return_report: bool = False,
    ):  # fmt: skip
        target = self._check_blur(inputs, target, baselines, n_steps, max_sigma, grad_step)
        attr = self._grouped(
            inputs, target, None, lambda x, t, _b: self._blur(x, t, n_steps, idgi, max_sigma, grad_step, min_norm)
        )
        return self._returned(attr, return_report)

    def _blur(self, inputs, target, n_steps, idgi, max_sigma, grad_step, min_norm=0.0):
        sigmas = blur_sigmas(n_steps, max_sigma)
        if idgi:
            order = list(range(n_steps, 0, -1))  # sigma_N (most blurred) .. sigma_1
            acc = IDGIAccumulator(inputs.shape[1:], min_norm)
            for lo, hi in self._point_chunks(n_steps, len(inputs)):
                pts = torch.stack([gaussian_blur(inputs, sigmas[i]) for i in order[lo:hi]])
                acc.update(*self._points_grads(pts, target))
            acc.finish(self.forward_outputs(inputs, target))
            self._report = acc.report()
            return acc.total
        total = torch.zeros_like(inputs)
        for lo, hi in self._point_chunks(n_steps, len(inputs)):
            blurred = [gaussian_blur(inputs, sigmas[i]) for i in range(lo, hi)]
            _, g = self._points_grads(torch.stack(blurred), target)
            for j, i in enumerate(range(lo, hi)):
                total += (sigmas[i + 1] - sigmas[i]) * self._derivative(inputs, sigmas[i], grad_step, blurred[j]) * g[j]
        self._report = {}
        return -total

    @staticmethod
    def _derivative(inputs, sigma, grad_step, point):
        """d blur / d sigma at ``sigma``; the path point serves as the lower blur when its radius is the shared one."""
        same = sigma == 0 or derivative_radius(sigma, grad_step) == gaussian_radius(sigma)
        return blur_derivative(inputs, sigma, grad_step, low=point if same else None)

    def attribute_with_idgi(
        self, inputs, baselines=None, target=None, *, n_steps: int = 100, max_sigma: float = 50.0,
        grad_step: float = 0.01, min_norm: float = 0.0, return_report: bool = False,
    ):  # fmt: skip
        """``(Blur IG, Blur IG + IDGI)`` from one pass over the ``N + 1`` blurred images ``sigma_N .. sigma_0``:
        Blur IG uses the gradients at ``sigma_0..sigma_{N-1}``, IDGI those at ``sigma_N..sigma_1`` and every
        output (``sigma_0 = 0`` is the input)."""
        target = self._check_blur(inputs, target, baselines, n_steps, max_sigma, grad_step)
        both = self._grouped(
            inputs, target, None, lambda x, t, _b: self._blur_both(x, t, n_steps, max_sigma, grad_step, min_norm)
        )
        return self._returned(both, return_report)

    def _blur_both(self, inputs, target, n_steps, max_sigma, grad_step, min_norm=0.0):
        sigmas = blur_sigmas(n_steps, max_sigma)
        order = list(range(n_steps, -1, -1))  # sigma_N (most blurred) .. sigma_0 (the input)
        acc, total = IDGIAccumulator(inputs.shape[1:], min_norm), torch.zeros_like(inputs)
        for lo, hi in self._point_chunks(n_steps + 1, len(inputs)):
            points = [gaussian_blur(inputs, sigmas[i]) for i in order[lo:hi]]
            f, g = self._points_grads(torch.stack(points), target)
            for j, i in enumerate(order[lo:hi]):
                if i < n_steps:
                    d_blur = self._derivative(inputs, sigmas[i], grad_step, points[j])
                    total += (sigmas[i + 1] - sigmas[i]) * d_blur * g[j]
            _feed_path(acc, f, g, hi == n_steps + 1)
        self._report = acc.report()
        return -total, acc.total

    def _check_blur(self, inputs, target, baselines, n_steps, max_sigma, grad_step) -> torch.Tensor:
        if baselines is not None:
            raise ValueError("baselines: Blur IG takes no baselines (its reference is the most blurred input)")
        target, _ = self._check(inputs, target, None, n_steps)
        if inputs.dim() != 4:
            raise ValueError(f"inputs: Blur IG needs images of shape (B, C, H, W), got {tuple(inputs.shape)}")
        if not max_sigma > 0:
            raise ValueError(f"max_sigma: expected > 0, got {max_sigma!r}")
        if not grad_step > 0:
            raise ValueError(f"grad_step: expected > 0, got {grad_step!r}")
        return target

    def reference(self, inputs: torch.Tensor, max_sigma: float = 50.0) -> torch.Tensor:
        """The most blurred input: Blur IG's reference point."""
        return gaussian_blur(inputs, max_sigma)


class VanillaGradient(_PathMethod):
    """The gradient of the target output with respect to the input (Simonyan et al. 2014): the tables' VG."""

    def attribute(self, inputs, target=None):
        """The gradient of ``target``'s output (captum's ``Saliency(abs=False)`` order: ``(inputs, target)``)."""
        target, _ = self._check(inputs, target, None, 1)
        return self._grouped(inputs, target, None, lambda x, t, _b: self.grad_fn(x, t)[1])
