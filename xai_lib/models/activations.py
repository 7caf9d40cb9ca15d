"""Models as captum's DeepLift, GuidedBackprop and Deconvolution need them: every use of a non-linearity is its
own, non-inplace module.

Those methods hook activation modules (ReLU, max-pooling, ...): DeepLift stores each module's input and output
on the module, so a module called twice in one forward pass (torchvision's ResNet blocks call one
``nn.ReLU(inplace=True)`` twice) silently gets the wrong multipliers, and backward hooks fail on in-place
outputs. :func:`separate_activations` returns a model that computes exactly the same function with one fresh
module per call site: a **deep copy** of the model is traced with ``torch.fx``, every call of a reused or
in-place activation module is pointed at its own copy (``inplace=False``), and functional ReLUs
(``F.relu``, ``torch.relu``, ``x.relu()``) become ``nn.ReLU`` modules. The caller's model is never modified.
A model that ``torch.fx`` cannot trace (data-dependent control flow) is accepted when no activation module is
called twice (in-place flags are simply switched off on the copy); otherwise :class:`UnsupportedModel` says why.
"""

from __future__ import annotations

import copy
import weakref

import torch
import torch.nn.functional as F
from torch import nn

_CACHE: weakref.WeakKeyDictionary[nn.Module, nn.Module] = weakref.WeakKeyDictionary()
_FUNCTIONAL_RELU = {torch.relu, torch.relu_, F.relu, torch.nn.functional.relu}


class UnsupportedModel(ValueError):
    """The model cannot be given one activation module per call site (untraceable and reusing modules)."""


def hooked_types() -> tuple[type, ...]:
    """The module types captum's DeepLift treats as non-linearities (and hooks)."""
    from ..captum_import import captum_attr

    captum_attr()  # the quiet import
    from captum.attr._core.deep_lift import SUPPORTED_NON_LINEAR

    return tuple(SUPPORTED_NON_LINEAR)


def _fresh(module: nn.Module) -> nn.Module:
    new = copy.deepcopy(module)
    if hasattr(new, "inplace"):
        new.inplace = False
    return new


def _trace_and_separate(model: nn.Module, types: tuple[type, ...]) -> nn.Module | None:
    """The fx rewrite, or ``None`` when nothing needs changing; raises when fx cannot trace the model."""
    import torch.fx as fx

    gm = fx.symbolic_trace(copy.deepcopy(model))
    modules = dict(gm.named_modules())
    seen: set[str] = set()
    changed = 0
    for node in list(gm.graph.nodes):
        fresh: nn.Module | None = None
        if node.op == "call_module" and isinstance(modules[node.target], types):
            mod = modules[node.target]
            if node.target in seen or getattr(mod, "inplace", False):
                fresh = _fresh(mod)
            seen.add(node.target)
        elif (node.op == "call_function" and node.target in _FUNCTIONAL_RELU) or (
            node.op == "call_method" and node.target in ("relu", "relu_")
        ):
            fresh = nn.ReLU(inplace=False)
        if fresh is None:
            continue
        name = f"separated_activation_{changed}"
        changed += 1
        gm.add_submodule(name, fresh)
        source = node.args[0] if node.args else node.kwargs["input"]
        with gm.graph.inserting_after(node):
            new = gm.graph.call_module(name, args=(source,))
        node.replace_all_uses_with(new)
        gm.graph.erase_node(node)
    if not changed:
        return None
    gm.graph.lint()
    gm.recompile()
    gm.delete_all_unused_submodules()
    return gm


def _calls_per_module(model: nn.Module, example: torch.Tensor, types: tuple[type, ...]) -> dict[str, int]:
    calls = {name: 0 for name, m in model.named_modules() if isinstance(m, types)}
    handles = [
        m.register_forward_hook(lambda mod, i, o, name=name: calls.__setitem__(name, calls[name] + 1))
        for name, m in model.named_modules()
        if isinstance(m, types)
    ]
    try:
        with torch.no_grad():
            model(example)
    finally:
        for h in handles:
            h.remove()
    return calls


def separate_activations(model: nn.Module, example: torch.Tensor) -> nn.Module:
    """``model`` itself when every activation module is used once and not in place, else an equivalent copy
    with one non-inplace module per call site (see the module notes). ``example``: one input batch, used to
    check that the copy computes the same outputs."""
    if model in _CACHE:
        return _CACHE[model]
    types = hooked_types()
    try:
        safe = _trace_and_separate(model, types)
    except Exception as trace_error:  # torch.fx cannot trace data-dependent control flow
        reused = {k: v for k, v in _calls_per_module(model, example, types).items() if v > 1}
        if reused:
            raise UnsupportedModel(
                f"model: activation module(s) {sorted(reused)} are called more than once per forward pass and "
                f"torch.fx cannot trace the model to separate them ({type(trace_error).__name__}: {trace_error}); "
                "captum's DeepLift, GuidedBackprop and Deconvolution would give wrong maps on it"
            ) from trace_error
        safe = copy.deepcopy(model)
        for m in safe.modules():
            if isinstance(m, types) and getattr(m, "inplace", False):
                m.inplace = False
    if safe is None:
        safe = model
    else:
        safe = safe.eval()
        for p in safe.parameters():
            p.requires_grad_(False)
        with torch.no_grad():
            same = torch.allclose(model(example), safe(example), rtol=1e-5, atol=1e-6)
        if not same:
            raise UnsupportedModel("model: the copy with separated activations does not reproduce the model's outputs")
    _CACHE[model] = safe
    return safe
