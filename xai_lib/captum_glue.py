"""captum methods behind one call, chunked and quiet (used by GAX's heatmaps and GAD's maps).

captum's notices about the hooks it sets and the TqdmWarning of its ``tqdm.auto`` import are silenced: they
would land in every chapter's stderr.
"""

from __future__ import annotations

import warnings

import torch
from torch import nn

#: the methods :func:`attributions` knows (captum class names)
CAPTUM_METHODS = (
    "Saliency", "InputXGradient", "LayerGradCam", "Deconvolution", "GuidedBackprop", "DeepLift", "IntegratedGradients",
)  # fmt: skip


def captum_attr():
    """``captum.attr``, imported without the TqdmWarning it emits where ipywidgets is absent."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r".*IProgress not found.*")
        import captum.attr as ca
    return ca


def first_conv(model: nn.Module) -> nn.Conv2d | None:
    """The model's first ``Conv2d`` (LayerGradCam's layer in the GAX paper), or None."""
    return next((m for m in model.modules() if isinstance(m, nn.Conv2d)), None)


def attributions(
    model: nn.Module,
    x: torch.Tensor,
    method: str,
    target: torch.Tensor | int | None = None,
    batch_size: int = 128,
    signed_saliency: bool = True,
    n_steps: int = 20,
) -> torch.Tensor:
    """Raw attributions of a captum method, shaped like ``x``, for ``target`` (default: the predicted class).

    Saliency is signed unless ``signed_saliency=False`` (captum's default ``abs=True``); LayerGradCam is taken
    on the first convolution and upsampled (image models only); IntegratedGradients uses a zero baseline and
    ``n_steps`` (captum's Gauss-Legendre rule).
    """
    if method not in CAPTUM_METHODS:
        raise ValueError(f"method: expected one of {list(CAPTUM_METHODS)}, got {method!r}")
    if target is None:
        with torch.no_grad():
            target = torch.cat([model(x[i : i + batch_size]).argmax(1) for i in range(0, len(x), batch_size)])
    elif isinstance(target, int):
        target = torch.full((len(x),), target, dtype=torch.long, device=x.device)
    parts = []
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=UserWarning, module=r"captum\..*")
        warnings.filterwarnings("ignore", message=r".*(hooks|require gradients|requires_grad).*")
        for i in range(0, len(x), batch_size):
            chunk = x[i : i + batch_size].detach().clone().requires_grad_(True)
            parts.append(_chunk(model, chunk, method, target[i : i + batch_size], signed_saliency, n_steps))
    return torch.cat(parts)


def _chunk(model, x, method, target, signed_saliency, n_steps) -> torch.Tensor:
    ca = captum_attr()
    if method == "Saliency":
        attr = ca.Saliency(model).attribute(x, target=target, abs=not signed_saliency)
    elif method == "LayerGradCam":
        layer = first_conv(model)
        if layer is None or x.dim() != 4:
            raise ValueError("method: LayerGradCam needs an image model with a Conv2d layer")
        cam = ca.LayerGradCam(model, layer).attribute(x, target=target)
        attr = ca.LayerAttribution.interpolate(cam, x.shape[-2:]).expand_as(x)
    elif method == "IntegratedGradients":
        attr = ca.IntegratedGradients(model).attribute(x, target=target, n_steps=n_steps, internal_batch_size=len(x))
    else:
        attr = getattr(ca, method)(model).attribute(x, target=target)
    return attr.detach()
