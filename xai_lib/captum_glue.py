"""captum methods behind one call, chunked and quiet, and the normalised heatmaps of the GAX paper's six methods
(used by the CO-score chapters and GAD's maps).

captum's notices about the hooks it sets and the TqdmWarning of its ``tqdm.auto`` import are silenced: they
would land in every chapter's stderr. DeepLift, GuidedBackprop and Deconvolution run on a copy of the model
with one non-inplace module per activation call (:func:`xai_lib.models.activations.separate_activations`), so
they are right on models that reuse one in-place ReLU (torchvision's ResNets); a model where that cannot be
done raises :class:`~xai_lib.models.activations.UnsupportedModel` (see :func:`unsupported_reason`).
"""

from __future__ import annotations

import warnings

import torch
from torch import nn

from .captum_import import captum_attr

#: methods that hook activation modules and need one module per call site
HOOKED_METHODS = ("DeepLift", "GuidedBackprop", "Deconvolution")
#: the methods :func:`attributions` knows (captum class names)
CAPTUM_METHODS = (
    "Saliency", "InputXGradient", "LayerGradCam", "Deconvolution", "GuidedBackprop", "DeepLift", "IntegratedGradients",
)  # fmt: skip


def first_conv(model: nn.Module) -> nn.Conv2d | None:
    """The model's first ``Conv2d`` (LayerGradCam's layer in the GAX paper), or None."""
    return next((m for m in model.modules() if isinstance(m, nn.Conv2d)), None)


def attributions(
    model: nn.Module,
    x: torch.Tensor,
    method: str,
    target: torch.Tensor | int | None = None,
    batch_size: int | str | None = None,
    signed_saliency: bool = True,
    n_steps: int = 20,
) -> torch.Tensor:
    """Raw attributions of a captum method, shaped like ``x``, for ``target`` (default: the predicted class).

    Saliency is signed unless ``signed_saliency=False`` (captum's default ``abs=True``); LayerGradCam is taken
    on the first convolution and upsampled (image models only); IntegratedGradients uses a zero baseline and
    ``n_steps`` (captum's Gauss-Legendre rule). ``batch_size``: model evaluations per call (``None``: the process
    plan; ``"auto"``: a calibrated one, :mod:`xai_lib.batching`); images go to captum in chunks of that many (of that
    many divided by ``n_steps`` for IntegratedGradients, whose evaluations captum chunks with the same size).
    """
    if method not in CAPTUM_METHODS:
        raise ValueError(f"method: expected one of {list(CAPTUM_METHODS)}, got {method!r}")
    from . import batching

    if target is None:
        target = batching.batched_logits(model, x).argmax(1).to(x.device)
    elif isinstance(target, int):
        target = torch.full((len(x),), target, dtype=torch.long, device=x.device)
    if method in HOOKED_METHODS:
        from .models.activations import separate_activations

        model = separate_activations(model, x[:1])
    plan = batching.resolve(batch_size, model, x[:1], backward=True, name="batch_size")
    per_call = max(1, plan.size // n_steps) if method == "IntegratedGradients" else plan.size
    parts = []
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=UserWarning, module=r"captum\..*")
        warnings.filterwarnings("ignore", message=r".*(hooks|require gradients|requires_grad).*")
        for a, b in batching.chunks(len(x), per_call):
            chunk = plan.layout(x[a:b].detach().clone()).requires_grad_(True)
            parts.append(_chunk(model, chunk, method, target[a:b], signed_saliency, n_steps, plan.size).contiguous())
    return torch.cat(parts)


def _chunk(model, x, method, target, signed_saliency, n_steps, evals_per_call) -> torch.Tensor:
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
        attr = ca.IntegratedGradients(model).attribute(
            x, target=target, n_steps=n_steps, internal_batch_size=max(evals_per_call, len(x))
        )
    else:
        attr = getattr(ca, method)(model).attribute(x, target=target)
    return attr.detach()


def unsupported_reason(model: nn.Module, method: str, example: torch.Tensor) -> str | None:
    """Why ``method`` cannot run on ``model`` (``None`` when it can): LayerGradCam needs a convolution and image
    inputs; the hooked methods need a model whose activations can be separated."""
    if method == "LayerGradCam" and (first_conv(model) is None or example.dim() != 4):
        return "LayerGradCam needs an image model with a Conv2d layer"
    if method in HOOKED_METHODS:
        from .models.activations import UnsupportedModel, separate_activations

        try:
            separate_activations(model, example[:1])
        except UnsupportedModel as exc:
            return str(exc)
    return None


def normalise(attributions: torch.Tensor) -> torch.Tensor:
    """``h = a / max|a|`` per input, into [-1, 1] (an all-zero map stays zero)."""
    m = attributions.flatten(1).abs().max(1).values
    m = torch.where(m > 0, m, torch.ones_like(m))
    return attributions / m.reshape(-1, *([1] * (attributions.dim() - 1)))


#: the six captum methods whose heatmaps the GAX paper scores
GAX_METHODS = ("Saliency", "InputXGradient", "LayerGradCam", "Deconvolution", "GuidedBackprop", "DeepLift")


def heatmaps(
    model: nn.Module, x: torch.Tensor, method: str, target: torch.Tensor | None = None, batch_size: int | None = None
) -> torch.Tensor:
    """Normalised heatmap of one of the paper's six captum methods for the PREDICTED class (by default).

    Saliency is signed (``abs=False``); LayerGradCam is taken on the first convolution and upsampled to the
    input (image models only). Computed in chunks of ``batch_size`` (:func:`attributions`).
    """
    if method not in GAX_METHODS:
        raise ValueError(f"method: expected one of {list(GAX_METHODS)}, got {method!r}")
    return normalise(attributions(model, x, method, target, batch_size))
