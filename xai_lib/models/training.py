"""Deterministic training of the default models, with the under-trained ``_sub`` snapshot.

The GAX paper's ``_sub`` models are trained until a target validation accuracy (80%) and stopped. We take
the same snapshot from the run that trains the well-trained model: validation accuracy is checked every
few batches, and the weights whose accuracy is closest to ``sub_target`` are kept.
"""

from __future__ import annotations

import copy
import sys
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import nn
from tqdm import tqdm

from ..batching import batched_logits, model_device  # noqa: F401  (re-exported: the models' API)
from ..data import Dataset

#: training's evaluations use one fixed batch size: the ``_sub`` snapshot depends on them, and must not depend on a
#: timing-based batch size (which can change outputs in their last bits)
EVAL_BATCH = 256


def accuracy(model: nn.Module, data: Dataset, batch_size: int | None = None) -> float:
    """Share of ``data`` whose argmax output is its target (the class's model output, :attr:`Dataset.targets`)."""
    was_training = model.training
    model.eval()
    acc = (batched_logits(model, data.inputs, batch_size).argmax(1) == data.targets).float().mean().item()
    model.train(was_training)
    return acc


@dataclass
class TrainResult:
    final: dict[str, torch.Tensor]
    sub: dict[str, torch.Tensor] | None
    history: list[dict[str, float]] = field(default_factory=list)
    sub_val_accuracy: float | None = None
    sub_step: int | None = None


def train_classifier(
    model: nn.Module,
    train: Dataset,
    val: Dataset,
    *,
    epochs: int,
    batch_size: int,
    lr: float,
    seed: int,
    sub_target: float | None = None,
    sub_checks_per_epoch: int = 8,
    sub_check_size: int = 128,
    sub_margin: float = 0.08,
    progress: bool = True,
    desc: str = "train",
) -> TrainResult:
    """Adam with a one-cycle learning-rate schedule (peak ``lr``) on cross-entropy, batches shuffled by a
    seeded generator; returns the final weights, the ``_sub`` snapshot and the per-epoch history.

    ``_sub``: ``sub_checks_per_epoch`` times an epoch the accuracy on the first ``sub_check_size`` validation
    images is measured, and the snapshot closest to ``sub_target`` is kept; checking stops once that accuracy
    exceeds ``sub_target + sub_margin``.
    """
    if epochs < 1:
        raise ValueError(f"epochs: expected >= 1, got {epochs}")
    device = next(model.parameters()).device
    images = train.inputs.dim() == 4
    if images:  # NHWC is ~25% faster for these small convnets on CPU; values are unchanged
        model.to(memory_format=torch.channels_last)
    gen = torch.Generator().manual_seed(seed)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    steps_per_epoch = (len(train) + batch_size - 1) // batch_size
    sub_check_every = max(1, steps_per_epoch // sub_checks_per_epoch)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=epochs * steps_per_epoch)
    sub_val = val.subset(slice(0, sub_check_size))
    result = TrainResult(final={}, sub=None)
    step = 0
    checking = sub_target is not None
    n = len(train)
    bar = tqdm(
        total=epochs * steps_per_epoch, desc=desc, disable=not progress, leave=False,
        mininterval=0.1 if sys.stderr.isatty() else 10.0,  # logs (CI, files) get a line every 10 s
    )  # fmt: skip
    for epoch in range(epochs):
        model.train()
        perm = torch.randperm(n, generator=gen)
        total = 0.0
        for start in range(0, n, batch_size):
            idx = perm[start : start + batch_size]
            x, y = train.inputs[idx].to(device), train.labels[idx].to(device)
            if images:
                x = x.contiguous(memory_format=torch.channels_last)
            loss = F.cross_entropy(model(x), y)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            total += loss.item() * len(idx)
            step += 1
            bar.update()
            if checking and step % sub_check_every == 0:
                acc = accuracy(model, sub_val, EVAL_BATCH)
                if result.sub_val_accuracy is None or abs(acc - sub_target) < abs(result.sub_val_accuracy - sub_target):
                    result.sub = copy.deepcopy(model.state_dict())
                    result.sub_val_accuracy, result.sub_step = acc, step
                checking = acc < sub_target + sub_margin
        result.history.append({"epoch": epoch + 1, "loss": total / n, "val_accuracy": accuracy(model, val, EVAL_BATCH)})
        bar.set_postfix(val_acc=f"{result.history[-1]['val_accuracy']:.3f}")
    bar.close()
    model.eval()
    model.to(memory_format=torch.contiguous_format)
    result.final = copy.deepcopy(model.state_dict())
    if result.sub is not None:
        result.sub = {k: v.contiguous() for k, v in result.sub.items()}
    return result
