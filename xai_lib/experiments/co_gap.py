"""The GAX paper's CO-score gap (Tjoa et al. 2021, sec. 4.1), per shard of test inputs.

For every input: the model's prediction; the normalised heatmap of each of the paper's six captum methods for the
**predicted** class; its CO score (eq. 5, kappa from the **ground truth**) in four variants (AX by ``x + h`` or
``x * h``, on raw or softmax outputs); and whether the model is right on ``x (+) h``. A method that cannot run on
the model (LayerGradCam without a convolution, a hooked method on a model whose activations cannot be separated)
is skipped with its reason.
"""

from __future__ import annotations

import pandas as pd

from ..captum_glue import unsupported_reason
from ..gax import METHODS, augment, co_scores, heatmaps
from ..models.training import batched_logits
from .common import shard_data

VARIANTS = (("sum", False), ("sum", True), ("mul", False), ("mul", True))  # (AX process, softmax)


def scores(p: dict) -> dict[str, pd.DataFrame]:
    """Task: CO scores of every method and variant, and accuracy after AX, for the shard's inputs."""
    system, data = shard_data(p)
    dev = system.device
    x, y = data.inputs.to(dev), data.targets.to(dev)
    pred = batched_logits(system.model, x).argmax(1).to(dev)
    images = p["indices"]
    correct = (pred == y).cpu()
    co_rows, ax_rows, skipped = [], [], []
    for method in METHODS:
        reason = unsupported_reason(system.model, method, x)
        if reason is not None:
            skipped.append({"method": method, "reason": reason})
            continue
        h = heatmaps(system.model, x, method, target=pred)
        for combine, soft in VARIANTS:
            co = co_scores(system.model, x, h, y, combine, soft).cpu()
            co_rows += [{"image": i, "method": method, "AX": combine, "softmax": soft, "correct": bool(c),
                         "co": float(v)}
                        for i, c, v in zip(images, correct.tolist(), co.tolist(), strict=True)]  # fmt: skip
        for combine in ("sum", "mul"):
            right = (batched_logits(system.model, augment(x, h, combine)).argmax(1) == y.cpu()).tolist()
            ax_rows += [{"image": i, "method": method, "AX": combine, "correct after": r}
                        for i, r in zip(images, right, strict=True)]  # fmt: skip
    base = pd.DataFrame({"image": images, "target": y.tolist(), "pred": pred.tolist(), "correct": correct.tolist()})
    return {"co": pd.DataFrame(co_rows), "ax": pd.DataFrame(ax_rows), "pred": base, "skipped": pd.DataFrame(skipped)}
