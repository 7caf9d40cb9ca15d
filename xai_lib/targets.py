"""The one target normaliser: every method, metric and GAX call turns its ``target`` (captum's name) into ``(B,)``
class ids here, with the same rules and the same errors."""

from __future__ import annotations

import torch


def as_targets(target, n: int, num_classes: int | None = None, name: str = "target", device=None) -> torch.Tensor:
    """``target`` as a ``(n,)`` long tensor: an int or a one-element integer tensor (the same class for every input),
    or ``n`` integer class ids (a tensor or a sequence); with ``num_classes``, each in ``[0, num_classes)``. A
    ``ValueError`` naming ``name`` for anything else (``None``, booleans, floats, another length, ids out of range)."""
    if target is None:
        raise ValueError(f"{name}: required, an int or an integer tensor of shape ({n},)")
    try:
        t = torch.as_tensor(target)
    except (TypeError, ValueError, RuntimeError) as err:
        raise ValueError(f"{name}: expected an int or an integer tensor of shape ({n},), got {target!r}") from err
    if isinstance(target, bool) or t.is_floating_point() or t.is_complex() or t.dtype == torch.bool:
        raise ValueError(f"{name}: expected integer class ids, got {target!r}")
    t = t.long().reshape(-1)
    if t.numel() == 1:
        t = t.expand(n)
    if t.shape != (n,):
        raise ValueError(f"{name}: expected an int or an integer tensor of shape ({n},), got shape {tuple(t.shape)}")
    if num_classes is not None and ((t < 0) | (t >= num_classes)).any():
        raise ValueError(f"{name}: class ids must lie in [0, {num_classes}), got {t.tolist()}")
    return t if device is None else t.to(device)
