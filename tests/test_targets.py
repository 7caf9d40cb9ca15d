"""The one target normaliser (``xai_lib.targets.as_targets``), used by the methods, the metrics and GAX."""

import pytest
import torch

from xai_lib.targets import as_targets


def test_an_int_or_one_id_is_every_inputs_class_and_n_ids_are_kept_in_order():
    assert as_targets(2, 3).tolist() == [2, 2, 2]
    assert as_targets(torch.tensor(1), 2).tolist() == [1, 1]
    assert as_targets(torch.tensor([4]), 3).tolist() == [4, 4, 4]
    assert as_targets([0, 2, 1], 3, num_classes=3).tolist() == [0, 2, 1]
    got = as_targets(torch.tensor([3, 0], dtype=torch.int32), 2)
    assert got.dtype == torch.long and got.tolist() == [3, 0]


@pytest.mark.parametrize(
    ("target", "message"),
    [(None, "required"), (True, "integer class ids"), (0.5, "integer class ids"), (torch.tensor([0.0, 1.0]), "integer"),
     ([0, 1, 2], r"shape \(2,\)"), (torch.tensor([0, 3]), r"\[0, 3\)"), (torch.tensor([-1, 0]), r"\[0, 3\)"),
     ("cat", "integer")],
)  # fmt: skip
def test_bad_targets_are_refused_naming_the_parameter(target, message):
    with pytest.raises(ValueError, match=rf"labels: .*{message}"):
        as_targets(target, 2, num_classes=3, name="labels")


def test_the_methods_metrics_and_gax_share_its_rules():
    from xai_lib import IG
    from xai_lib.metrics import co_score
    from xai_lib.metrics.common import check_batch

    model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(12, 3))
    x = torch.rand(2, 3, 2, 2)
    ig = lambda t: IG(model).attribute(x, target=t, n_steps=2)  # noqa: E731
    co = lambda t: co_score(model, x, torch.zeros_like(x), t)  # noqa: E731
    metric = lambda t: check_batch(model, x, torch.zeros(2, 2, 2), t)  # noqa: E731  (no class count: no range)
    for call, name in ((ig, "target"), (co, "y"), (metric, "targets")):
        with pytest.raises(ValueError, match=f"{name}: expected integer class ids"):
            call(0.5)
        with pytest.raises(ValueError, match=rf"{name}: expected an int or an integer tensor of shape \(2,\)"):
            call([0, 1, 2])
    for call, name in ((ig, "target"), (co, "y")):
        with pytest.raises(ValueError, match=rf"{name}: class ids must lie in \[0, 3\)"):
            call(3)
    assert metric(torch.tensor(1)).tolist() == [1, 1]
