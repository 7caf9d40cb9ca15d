"""Interop with PAIR saliency 0.2.1, the oracle of the tests and the peer of the benchmarks (``bench`` extra).

Never imported by the library itself: PAIR is not a runtime dependency, and nothing here imports it at module
level.

* :func:`numpy_for_pair`: ``numpy`` as PAIR's modules expect it under numpy >= 2.4 (``trapz`` was removed, use
  ``trapezoid``; ``quantile(interpolation=)`` became ``method=``); assign it to a PAIR module's ``np``
  (``saliency.metrics.pic.np``, ``saliency.core.guided_ig.np``) for the duration of a comparison.
* :func:`call_model_function`: PAIR's ``call_model_function`` for a torch model: an HWC numpy batch in, the
  gradients of one output out.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch
from torch import nn


class _NumpyForPair:
    def __getattr__(self, name):
        return np.trapezoid if name == "trapz" else getattr(np, name)

    @staticmethod
    def quantile(a, q, *args, interpolation=None, **kwargs):
        if interpolation is not None:
            kwargs["method"] = interpolation
        return np.quantile(a, q, *args, **kwargs)


def numpy_for_pair() -> _NumpyForPair:
    """``numpy`` with the two names PAIR 0.2.1 uses that numpy >= 2.4 no longer has."""
    return _NumpyForPair()


def call_model_function(
    model: nn.Module, target: int, output: str = "logit", dtype: np.dtype = np.float32
) -> Callable[..., dict[str, np.ndarray]]:
    """PAIR's ``call_model_function``: ``x_value_batch`` (N, H, W, C) -> ``{INPUT_OUTPUT_GRADIENTS: d out / d x}``
    for output ``target`` of ``model`` (its logit, or its softmax probability with ``output="probability"``),
    computed in ``dtype``."""
    from saliency.core.base import INPUT_OUTPUT_GRADIENTS

    if output not in ("logit", "probability"):
        raise ValueError(f"output: expected 'logit' or 'probability', got {output!r}")

    def call(x_value_batch, call_model_args=None, expected_keys=None):
        x = torch.as_tensor(np.asarray(x_value_batch, dtype=dtype)).permute(0, 3, 1, 2).requires_grad_(True)
        out = model(x)
        if output == "probability":
            out = torch.softmax(out, 1)
        (g,) = torch.autograd.grad(out[:, target].sum(), x)
        return {INPUT_OUTPUT_GRADIENTS: g.permute(0, 2, 3, 1).numpy()}

    return call
