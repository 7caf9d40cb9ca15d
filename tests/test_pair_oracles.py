"""Guided IG and Blur IG against PAIR saliency 0.2.1's own code, the oracle (installed by the ``bench`` extra;
skipped where it is absent). Float64 throughout, so any difference is a difference of algorithm, not of
rounding: Guided IG's adaptive path amplifies float32 rounding into visible differences (the benchmark reports
those separately).
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from xai_lib.attribution import BlurIG, GuidedIG
from xai_lib.reference.pair import call_model_function, numpy_for_pair

pair = pytest.importorskip("saliency.core")
pair_gig = pytest.importorskip("saliency.core.guided_ig")


def small_convnet() -> nn.Module:
    torch.manual_seed(3)
    net = nn.Sequential(
        nn.Conv2d(3, 6, 3, padding=1), nn.Softplus(), nn.Conv2d(6, 4, 3, padding=1), nn.Softplus(),
        nn.AdaptiveAvgPool2d(2), nn.Flatten(), nn.Linear(16, 3),
    )  # fmt: skip
    return net.double().eval()


@pytest.fixture(scope="module")
def setting():
    torch.manual_seed(0)
    x = torch.rand(3, 3, 12, 12, dtype=torch.float64)
    return small_convnet(), x, torch.tensor([0, 1, 2])


def test_guided_ig_equals_pair(setting, monkeypatch):
    model, x, y = setting
    monkeypatch.setattr(pair_gig, "np", numpy_for_pair())
    ours = GuidedIG(model).attribute(x, target=y, baselines=torch.zeros_like(x), n_steps=40, fraction=0.25,
                                     max_dist=0.02)  # fmt: skip
    for i in range(len(x)):
        hwc = x[i].permute(1, 2, 0).numpy()
        call = call_model_function(model, int(y[i]), dtype=np.float64)
        theirs = pair.GuidedIG().GetMask(hwc, call, None, x_baseline=np.zeros_like(hwc),
                                         x_steps=40, fraction=0.25, max_dist=0.02)  # fmt: skip
        theirs = torch.as_tensor(theirs).permute(2, 0, 1)
        assert torch.allclose(ours[i], theirs, rtol=0, atol=1e-10 * float(theirs.abs().max())), i


def test_blur_ig_equals_pair(setting):
    model, x, y = setting
    ours = BlurIG(model).attribute(x, target=y, n_steps=20, max_sigma=8.0, grad_step=0.01)
    for i in range(len(x)):
        hwc = x[i].permute(1, 2, 0).numpy()
        call = call_model_function(model, int(y[i]), dtype=np.float64)
        theirs = pair.BlurIG().GetMask(hwc, call, None, max_sigma=8.0, steps=20,
                                       grad_step=0.01, batch_size=4)  # fmt: skip
        theirs = torch.as_tensor(theirs).permute(2, 0, 1)
        assert torch.allclose(ours[i], theirs, rtol=0, atol=1e-8 * float(theirs.abs().max())), i
