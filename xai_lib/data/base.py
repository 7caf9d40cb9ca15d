"""The dataset container every loader returns."""

from __future__ import annotations

from dataclasses import dataclass, field

import torch


@dataclass(frozen=True)
class Dataset:
    """One split of a dataset, as tensors.

    ``inputs``: images ``(N, C, H, W)`` in [0, 1] or tabular features ``(N, D)`` min-max scaled to [0, 1].
    ``masks``: optional ``(N, H, W)`` bool ground truth of the class-discriminative part.
    ``extra_masks``: other per-image masks by name (``object``: the whole object; ``cue``: a spurious mark).
    """

    name: str
    split: str
    inputs: torch.Tensor
    labels: torch.Tensor
    class_names: tuple[str, ...]
    masks: torch.Tensor | None = None
    extra_masks: dict[str, torch.Tensor] = field(default_factory=dict)
    feature_names: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        n = self.inputs.shape[0]
        if self.labels.shape != (n,):
            raise ValueError(f"labels: expected shape ({n},), got {tuple(self.labels.shape)}")
        for name, m in [("masks", self.masks), *self.extra_masks.items()]:
            if m is not None and (m.shape[0] != n or m.shape[1:] != self.inputs.shape[2:]):
                raise ValueError(f"{name}: expected shape ({n}, *{tuple(self.inputs.shape[2:])})")

    @property
    def kind(self) -> str:
        return "image" if self.inputs.dim() == 4 else "tabular"

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    @property
    def input_shape(self) -> tuple[int, ...]:
        return tuple(self.inputs.shape[1:])

    def __len__(self) -> int:
        return self.inputs.shape[0]

    def subset(self, index: torch.Tensor | list[int] | slice) -> Dataset:
        """The same dataset restricted to ``index`` (rows of every tensor)."""
        return Dataset(
            name=self.name,
            split=self.split,
            inputs=self.inputs[index],
            labels=self.labels[index],
            class_names=self.class_names,
            masks=None if self.masks is None else self.masks[index],
            extra_masks={k: v[index] for k, v in self.extra_masks.items()},
            feature_names=self.feature_names,
        )

    def class_balanced_index(self, per_class: int, classes: tuple[int, ...] | None = None) -> torch.Tensor:
        """The first ``per_class`` rows of each class in ``classes`` (all classes by default), in order."""
        classes = tuple(range(self.num_classes)) if classes is None else classes
        rows = []
        for c in classes:
            idx = torch.nonzero(self.labels == c).flatten()[:per_class]
            if len(idx) < per_class:
                raise ValueError(f"per_class: class {c} has only {len(idx)} rows, {per_class} requested")
            rows.append(idx)
        return torch.cat(rows)
