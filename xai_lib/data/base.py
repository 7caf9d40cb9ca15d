"""The dataset container every loader returns."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace

import torch


@dataclass(frozen=True)
class Dataset:
    """One split of a dataset, as tensors.

    ``inputs``: images ``(N, C, H, W)`` in [0, 1] or tabular features ``(N, D)`` min-max scaled to [0, 1].
    ``masks``: optional ``(N, H, W)`` bool ground truth of the class-discriminative part.
    ``extra_masks``: other per-image masks by name (``object``: the whole object; ``cue``: a spurious mark).
    ``output_index``: the model output that stands for each class (a model may have more outputs than the
    dataset has classes, e.g. an ImageNet model on a folder of ten synsets); ``None`` means class ``k`` is
    output ``k``. :attr:`targets` are the labels in that output space: compare them with ``model(x).argmax(1)``.
    ``files``: for image folders, each row's file (relative to the folder).
    """

    name: str
    split: str
    inputs: torch.Tensor
    labels: torch.Tensor
    class_names: tuple[str, ...]
    masks: torch.Tensor | None = None
    extra_masks: dict[str, torch.Tensor] = field(default_factory=dict)
    feature_names: tuple[str, ...] | None = None
    output_index: tuple[int, ...] | None = None
    files: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        n = self.inputs.shape[0]
        if self.output_index is not None and len(self.output_index) != len(self.class_names):
            raise ValueError(
                f"output_index: expected one model output per class ({len(self.class_names)}), got {self.output_index}"
            )
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
    def targets(self) -> torch.Tensor:
        """The labels as model output indices (``labels`` itself when classes are outputs ``0..K-1``)."""
        if self.output_index is None:
            return self.labels
        return torch.tensor(self.output_index, dtype=torch.long)[self.labels]

    def output_of(self, class_id: int) -> int:
        """The model output that stands for dataset class ``class_id``."""
        return class_id if self.output_index is None else self.output_index[class_id]

    def classes_of(self, outputs: torch.Tensor) -> torch.Tensor:
        """Model output indices -> class ids; an output that stands for no class becomes ``num_classes``."""
        if self.output_index is None:
            return outputs.long()
        lookup = {o: c for c, o in enumerate(self.output_index)}
        return torch.tensor([lookup.get(int(o), self.num_classes) for o in outputs], dtype=torch.long)

    def with_outputs(self, output_index: tuple[int, ...] | None) -> Dataset:
        return replace(self, output_index=None if output_index is None else tuple(int(i) for i in output_index))

    def fingerprint(self) -> str:
        """SHA-256 (16 hex digits) of the split's content: inputs, labels and masks, bit for bit."""
        h = hashlib.sha256()
        for name, t in (("inputs", self.inputs), ("labels", self.labels), ("masks", self.masks),
                        *sorted(self.extra_masks.items())):  # fmt: skip
            if t is not None:
                h.update(f"{name}|{t.dtype}|{tuple(t.shape)}|".encode())
                h.update(t.contiguous().reshape(-1).view(torch.uint8).numpy().tobytes())
        return h.hexdigest()[:16]

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
            output_index=self.output_index,
            files=None if self.files is None else tuple(self.files[i] for i in torch.arange(len(self))[index].tolist()),
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
