"""What every per-shard task shares: the payload layout, the system and images of a shard, predictions."""

from __future__ import annotations

from typing import Any

import pandas as pd
import torch

from ..batching import batched_logits
from ..parallel import Runner, register, shards_of, system_for
from ..profiles import Profile


def payload(system, profile: Profile, seed: int, device: str, runner: Runner, indices, **settings: Any) -> dict:
    """A shard's payload: the system spec (JSON), profile name, seed, device, the digest of the model's weights
    and the thread count it was loaded with (a worker checks that it computes with the same model), the threads
    a task pins and the model-call plan of this run, the image indices of the shard and the task's settings.
    In-process runs reuse the already loaded system."""
    from .. import batching

    plan = batching.default()
    p = {
        "system": system.spec.to_dict(), "profile": profile.name, "seed": seed, "device": device,
        "weights": system.weights_digest(), "load_threads": system.load_threads, "threads": runner.threads,
        "plan": None if plan is None else list(plan), "indices": [int(i) for i in indices],
        **settings,
    }  # fmt: skip
    if runner.client is None:
        register(system, p)
    return p


def shard_data(p: dict, split: str = "test"):
    """The loaded system (once per process) and the shard's images (a subset of ``split``) on its device."""
    system = system_for(p)
    return system, system.data(split).subset(torch.tensor(p["indices"], dtype=torch.long))


def predict(p: dict) -> dict[str, pd.DataFrame]:
    """Task: the model's prediction for each image of the shard, and whether it is the class's output."""
    system, data = shard_data(p, p.get("split", "test"))
    probs = torch.softmax(batched_logits(system.model, data.inputs), 1)
    pred = probs.argmax(1)
    t = data.targets
    return {"pred": pd.DataFrame({
        "image": p["indices"], "label": data.labels.tolist(), "target": t.tolist(), "pred": pred.tolist(),
        "correct": (pred == t).tolist(), "p_target": probs[torch.arange(len(t)), t].tolist(),
    })}  # fmt: skip


def predictions(systems, profile: Profile, seed: int, device: str, runner: Runner, split: str = "test") -> pd.DataFrame:
    """Every system's predictions on ``split`` (sharded like the rest of the work), one tidy table."""
    payloads, owners = [], []
    for system in systems:
        for idx in shards_of(range(len(system.data(split))), 256):
            payloads.append(payload(system, profile, seed, device, runner, idx, split=split))
            owners.append(system.name)
    res = runner.map("xai_lib.experiments.common:predict", payloads, desc="predictions")
    return pd.concat([r["pred"].assign(system=o) for r, o in zip(res, owners, strict=True)], ignore_index=True)


def first_correct(pred: pd.DataFrame, system: str, n: int) -> list[int]:
    """The first ``n`` correctly predicted images of a system (all of them if fewer)."""
    part = pred[(pred.system == system) & pred.correct]
    return part.image.head(n).tolist()
