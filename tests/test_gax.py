"""CO score and GAX: closed forms on linear models, invariances, stopping, batching, errors."""

import pytest
import torch
from torch import nn

import xai_lib
from xai_lib.captum_glue import GAX_METHODS, heatmaps, normalise
from xai_lib.gax import gax, gax_heatmap
from xai_lib.metrics import co_score, co_scores, kappa, mask_enrichment


def linear(weight, bias=None):
    w = torch.as_tensor(weight, dtype=torch.float32)
    m = nn.Linear(w.shape[1], w.shape[0], bias=bias is not None)
    with torch.no_grad():
        m.weight.copy_(w)
        if bias is not None:
            m.bias.copy_(torch.as_tensor(bias))
    return m.eval()


def test_kappa_sums_to_zero_and_marks_the_truth():
    k = kappa(torch.tensor([0, 2, 1]), 4)
    torch.testing.assert_close(k.sum(1), torch.zeros(3))
    assert k[1, 2] == 1 and k[1, 0] == pytest.approx(-1 / 3)
    with pytest.raises(ValueError, match="C >= 2"):
        kappa(torch.tensor([0]), 1)


def test_co_score_in_float64_is_exact_to_1e_12():
    """kappa is built in the outputs' dtype: on a float64 model with 7 classes (-1/6 is not a float32 number)
    the CO score equals the closed form kappa . (W h) computed in exact float64 arithmetic."""
    torch.manual_seed(0)
    W = torch.randn(7, 5, dtype=torch.float64)
    m = nn.Linear(5, 7, dtype=torch.float64)
    with torch.no_grad():
        m.weight.copy_(W)
    x, h = torch.rand(6, 5, dtype=torch.float64), torch.randn(6, 5, dtype=torch.float64)
    y = torch.tensor([0, 3, 6, 1, 2, 5])
    wh = h @ W.T
    expected = wh[torch.arange(6), y] - (wh.sum(1) - wh[torch.arange(6), y]) / 6
    got = co_score(m, x, h, y)
    assert got.dtype == torch.float64
    torch.testing.assert_close(got, expected, rtol=0, atol=1e-12)
    assert kappa(y, 7, torch.float64)[0, 1].item() == -1 / 6


def test_co_on_a_linear_model_is_the_closed_form():
    W = torch.tensor([[1.0, 2.0, 0.0], [0.0, 1.0, -1.0], [3.0, 0.0, 1.0]])
    m = linear(W, bias=[0.5, -0.2, 0.1])
    x, h = torch.rand(4, 3), torch.randn(4, 3)
    y = torch.tensor([0, 1, 2, 1])
    expected = (kappa(y, 3) * (h @ W.T)).sum(1)  # the bias cancels; kappa . (W h)
    torch.testing.assert_close(co_score(m, x, h, y), expected)
    mul = (kappa(y, 3) * ((x * h - x) @ W.T)).sum(1)
    torch.testing.assert_close(co_score(m, x, h, y, combine="mul"), mul)


def test_a_heatmap_shifting_every_output_equally_scores_zero():
    m = linear(torch.ones(4, 3))  # every output is sum(x): any h shifts all outputs by sum(h)
    x, h = torch.rand(5, 3), torch.randn(5, 3)
    y = torch.tensor([0, 1, 2, 3, 0])
    torch.testing.assert_close(co_score(m, x, h, y), torch.zeros(5), atol=1e-6, rtol=0)
    torch.testing.assert_close(co_score(m, x, h, y, softmax=True), torch.zeros(5), atol=1e-6, rtol=0)


def test_softmax_variant_applies_softmax_to_both_outputs():
    torch.manual_seed(0)
    m = linear(torch.randn(3, 5))
    x, h, y = torch.rand(2, 5), torch.randn(2, 5), torch.tensor([2, 0])
    manual = ((torch.softmax(m(x + h), 1) - torch.softmax(m(x), 1)) * kappa(y, 3)).sum(1)
    torch.testing.assert_close(co_score(m, x, h, y, softmax=True), manual)


def test_gax_reaches_a_reachable_target_and_reports_an_unreachable_one():
    torch.manual_seed(0)
    m = linear(torch.randn(3, 6))
    x = torch.rand(4, 6) * 0.8 + 0.1
    y = torch.tensor([0, 1, 2, 0])
    res = gax(m, x, y, target_co=0.5, max_steps=300, similarity=1e-3)
    assert res.reached.all() and (res.co >= 0.5).all() and res.not_reached == []
    torch.testing.assert_close(co_score(m, x, res.heatmaps, y), res.co)  # the kept heatmap scores what was logged
    # tanh bounds |h| <= 1, so the CO of a linear model is bounded by sum |kappa . W| row-wise: unreachable
    bound = (kappa(y, 3) @ m.weight.detach()).abs().sum(1)
    res2 = gax(m, x, y, target_co=float(bound.max()) + 1.0, max_steps=15, similarity=1e-3)
    assert not res2.reached.any() and res2.not_reached == [0, 1, 2, 3] and (res2.steps == 15).all()
    assert res2.history.shape == (16, 4)


def test_batched_gax_equals_per_image_gax():
    torch.manual_seed(1)
    m = nn.Sequential(linear(torch.randn(8, 6) * 2), nn.Tanh(), linear(torch.randn(3, 8) * 2)).eval()
    x = torch.rand(3, 6)
    y = torch.tensor([2, 0, 1])
    batch = gax(m, x, y, target_co=1.5, max_steps=60, similarity=1e-3)
    for i in range(3):
        one = gax(m, x[i : i + 1], y[i : i + 1], target_co=1.5, max_steps=60, similarity=1e-3)
        torch.testing.assert_close(batch.heatmaps[i : i + 1], one.heatmaps, atol=1e-6, rtol=1e-5)
        assert int(batch.steps[i]) == int(one.steps[0]) and bool(batch.reached[i]) == bool(one.reached[0])
    assert len(set(batch.steps.tolist())) > 1  # images stopped at different iterations


def test_stop_at_gives_each_image_its_path_at_the_matched_iteration():
    torch.manual_seed(1)
    m = nn.Sequential(linear(torch.randn(8, 6) * 2), nn.Tanh(), linear(torch.randn(3, 8) * 2)).eval()
    x = torch.rand(3, 6)
    y = torch.tensor([2, 0, 1])
    full = gax(m, x, y, target_co=1.5, max_steps=60, similarity=1e-3)
    assert len(set(full.steps.tolist())) > 1
    # caps at or beyond each image's own stop change nothing
    same = gax(m, x, y, target_co=1.5, max_steps=60, similarity=1e-3, stop_at=torch.full((3,), 60))
    assert torch.equal(same.heatmaps, full.heatmaps) and torch.equal(same.steps, full.steps)
    # an earlier cap stops the image there: its CO is the full run's CO at that iteration (the path does not depend on
    # when the others stop, up to the float32 summation order of a batch of another size)
    cap = torch.minimum(full.steps, torch.tensor([2, 0, 5]))
    early = gax(m, x, y, target_co=1.5, max_steps=60, similarity=1e-3, stop_at=cap)
    assert torch.equal(early.steps, cap)
    for i in range(3):
        assert abs(float(early.co[i]) - float(full.history[int(cap[i]), i])) < 1e-5
    assert bool(early.reached[2]) == bool(full.history[int(cap[2]), 2] >= 1.5)
    assert torch.equal(early.weights[1], torch.ones(6))  # a cap of 0: the starting w = 1
    with pytest.raises(ValueError, match="stop_at"):
        gax(m, x, y, target_co=1.5, max_steps=60, stop_at=torch.tensor([1, 2]))
    with pytest.raises(ValueError, match="stop_at"):
        gax(m, x, y, target_co=1.5, max_steps=60, stop_at=torch.tensor([1, 2, 61]))


def test_gax_follows_the_reference_loop_with_torch_adam():
    """One image, written as the reference code runs it (torch.optim.Adam on w, stop when CO >= target)."""
    torch.manual_seed(3)
    m = nn.Sequential(linear(torch.randn(8, 6) * 2), nn.Tanh(), linear(torch.randn(3, 8) * 2)).eval()
    x, y, eps, ls = torch.rand(1, 6), torch.tensor([1]), 1e-4, 1e-3
    w = torch.ones_like(x, requires_grad=True)
    opt = torch.optim.Adam([w], lr=0.1, betas=(0.9, 0.999))
    for t in range(61):  # noqa: B007  (t is read after the loop)
        h = torch.tanh(w * x)
        s = co_score(m, x, h, y)
        if float(s.detach()) >= 1.5:
            break
        loss = -s.sum() + ls / ((h - x + eps) ** 2 / (x + eps)).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    res = gax(m, x, y, target_co=1.5, max_steps=60, similarity=ls)
    assert int(res.steps[0]) == t and bool(res.reached[0])
    torch.testing.assert_close(res.heatmaps, h.detach(), atol=1e-6, rtol=1e-5)


@pytest.mark.parametrize("combine", ["sum", "mul"])
@pytest.mark.parametrize("bias,inside", [(None, True), (0.3, True), (-0.2, False)])
def test_written_out_loss_gradient_equals_autograd(combine, bias, inside):
    """GAX's d loss / d w (eq. 6, chain rule written out from the model's input gradient) equals autograd
    through the whole expression, in float64 to 1e-12; stopped rows get zero."""
    from xai_lib.gax import _loss_grad, _tanh_and_heatmap
    from xai_lib.metrics import augment

    torch.manual_seed(4)
    m = nn.Sequential(nn.Linear(6, 8), nn.Tanh(), nn.Linear(8, 3)).double()
    x, w = torch.rand(4, 6, dtype=torch.float64), torch.randn(4, 6, dtype=torch.float64)
    k, going, ls, eps = (
        kappa(torch.tensor([0, 1, 2, 1]), 3, torch.float64),
        torch.tensor([True, False, True, True]),
        7.0,
        1e-4,
    )
    wg = w.clone().requires_grad_(True)
    h = gax_heatmap(wg, x, bias, inside)
    s = (m(augment(x, h, combine)) * k).sum(1)
    sim = ((h - x + eps) ** 2 / (x + eps)).mean(1)
    (expected,) = torch.autograd.grad(((-s + ls / sim) * going).sum(), wg)
    th, h = _tanh_and_heatmap(w, x, bias, inside)
    inp = augment(x, h, combine).requires_grad_(True)
    (g,) = torch.autograd.grad(((m(inp) * k).sum(1) * going).sum(), inp)
    got = _loss_grad(g, x, h, th, going, combine, ls, eps, 6.0)
    torch.testing.assert_close(got, expected, atol=1e-12, rtol=1e-12)
    assert (got[1] == 0).all()


def test_row_adam_is_torch_adam_bit_for_bit():
    """The rows' Adam computes what torch.optim.Adam computes, to the bit, for every row; dropping rows leaves
    the others' trajectories unchanged."""
    from xai_lib.gax import _Adam

    torch.manual_seed(5)
    grads = torch.randn(12, 3, 5)
    ours = _Adam(torch.ones(3, 5), lr=0.1)
    ref = [torch.ones(1, 5, requires_grad=True) for _ in range(3)]
    opts = [torch.optim.Adam([p], lr=0.1, betas=(0.9, 0.999)) for p in ref]
    rows = [0, 1, 2]
    for step, g in enumerate(grads):
        if step == 6:  # the middle image stops
            ours.keep(torch.tensor([True, False, True]))
            rows = [0, 2]
        ours.step(g[rows])
        for i in rows:
            ref[i].grad = g[i : i + 1].clone()
            opts[i].step()
    assert torch.equal(ours.param, torch.cat([ref[0], ref[2]]).detach())


def test_gax_snapshots_are_bounded_and_ordered():
    torch.manual_seed(2)
    m = linear(torch.randn(3, 6))
    x = torch.rand(2, 6)
    res = gax(
        m, x, torch.tensor([0, 1]), target_co=1.0, max_steps=200, similarity=1e-3, snapshot_images=(0,), milestones=4
    )
    snaps = res.snapshots[0]
    assert 3 <= len(snaps) <= 4 + 2  # start, at least one milestone, the stop; at most milestones + 2
    assert snaps[0][0] == 0 and snaps[-1][0] == int(res.steps[0])
    assert [s[0] for s in snaps] == sorted({s[0] for s in snaps})  # strictly increasing iterations
    first_mark = snaps[0][1] + (1.0 - snaps[0][1]) / 4
    assert all(s[1] >= first_mark for s in snaps[1:]) and bool(res.reached[0]) and snaps[-1][1] >= 1.0
    torch.testing.assert_close(snaps[-1][2], res.heatmaps[0])
    assert all(s[2].shape == (6,) for s in snaps)


@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize("method", GAX_METHODS)
def test_heatmaps_are_normalised_to_unit_max(method):
    torch.manual_seed(3)
    net = xai_lib.models.SmallVGG(3, 4, widths=(8, 8)).eval()
    x = torch.rand(2, 3, 16, 16)
    h = heatmaps(net, x, method)
    assert h.shape == x.shape and h.abs().max() <= 1 + 1e-6
    torch.testing.assert_close(h.flatten(1).abs().max(1).values, torch.ones(2))


def test_heatmaps_on_tabular_models_and_gradcam_refusal():
    m = nn.Sequential(nn.Linear(5, 4), nn.ReLU(), nn.Linear(4, 3)).eval()
    x = torch.rand(3, 5)
    assert heatmaps(m, x, "InputXGradient").shape == x.shape
    with pytest.raises(ValueError, match="LayerGradCam"):
        heatmaps(m, x, "LayerGradCam")


def test_normalise_keeps_zero_maps():
    h = normalise(torch.stack([torch.zeros(4), torch.tensor([2.0, -4.0, 1.0, 0.0])]))
    torch.testing.assert_close(h, torch.tensor([[0.0, 0, 0, 0], [0.5, -1.0, 0.25, 0.0]]))


@pytest.mark.parametrize(
    "call,name",
    [
        (lambda m, x: gax(m, x * 2, 0, 1.0), "x"),
        (lambda m, x: gax(m, x - 1, 0, 1.0), "x"),
        (lambda m, x: gax(m, x, 5, 1.0), "y"),
        (lambda m, x: gax(m, x, 0, 1.0, max_steps=0), "max_steps"),
        (lambda m, x: co_score(m, x, x[:, :2], 0), "h"),
        (lambda m, x: co_score(m, x, x, torch.tensor([0, 9])), "y"),
        (lambda m, x: co_score(m, x, x, 0, combine="max"), "combine"),
        (lambda m, x: co_score(linear(torch.ones(1, 3)), x, x, 0), "C >= 2"),
        (lambda m, x: heatmaps(m, x, "LRP"), "method"),
    ],
)
def test_bad_input_raises_naming_the_argument(call, name):
    with pytest.raises(ValueError, match=name):
        call(linear(torch.randn(3, 3)), torch.rand(2, 3) * 0.9 + 0.05)


def test_mask_enrichment_closed_forms():
    h = torch.zeros(2, 3, 4, 4)
    mask = torch.zeros(2, 4, 4, dtype=torch.bool)
    mask[:, 0, :2] = True  # 2 of 16 pixels: area share 1/8
    h[0, :, 0, :2] = 1.0  # all mass in the mask -> 8
    h[1] = 0.5  # uniform mass -> 1
    torch.testing.assert_close(mask_enrichment(h, mask), torch.tensor([8.0, 1.0]))
    # against a reference: only the change counts (here the change is uniform again)
    torch.testing.assert_close(mask_enrichment(h + 0.25, mask, reference=h), torch.tensor([1.0, 1.0]))
    with pytest.raises(ValueError, match="mask"):
        mask_enrichment(h, torch.zeros(2, 4, 4, dtype=torch.bool))
    with pytest.raises(ValueError, match="mask"):
        mask_enrichment(h, mask[:1])


def test_co_scores_in_chunks_equal_one_call():
    torch.manual_seed(3)
    m = linear(torch.randn(4, 6), bias=[0.1, 0.0, -0.2, 0.3])
    x, h = torch.rand(9, 6), torch.randn(9, 6)
    y = torch.tensor([0, 1, 2, 3, 0, 1, 2, 3, 0])
    for combine, soft in (("sum", False), ("mul", True)):
        one = co_score(m, x, h, y, combine, soft).detach()
        torch.testing.assert_close(co_scores(m, x, h, y, combine, soft, batch_size=2), one)


# -- the CO-gap chapter's library: where the heatmap is added, the scale study, the claims' statistics -----------


def test_co_from_outputs_equals_co_score():
    from xai_lib.experiments.co_gap import co_from_outputs

    torch.manual_seed(6)
    m = linear(torch.randn(4, 5), bias=[0.1, 0.2, -0.3, 0.0])
    x, h, y = torch.rand(6, 5), torch.randn(6, 5), torch.tensor([0, 1, 2, 3, 0, 1])
    for soft in (False, True):
        got = co_from_outputs(m(x).detach(), m(x + h).detach(), y, soft)
        torch.testing.assert_close(got, co_score(m, x, h, y, softmax=soft).detach())


def test_model_input_variant_adds_std_times_h_in_pixel_space():
    """The paper's variant (heatmap added to the normalised input) on a Preprocessed linear model: its CO is the
    closed form kappa . W h, which is the pixel-space CO of std * h; without a normalisation nothing changes."""
    from xai_lib.experiments.co_gap import co_from_outputs, model_input
    from xai_lib.models import Preprocessed

    torch.manual_seed(7)
    W = torch.randn(3, 8)
    net = nn.Sequential(nn.Flatten(), linear(W)).eval()
    mean, std = (0.4, 0.6), (0.5, 0.25)
    model = Preprocessed(net, mean, std).eval()
    x, h, y = torch.rand(5, 2, 2, 2), torch.rand(5, 2, 2, 2) * 2 - 1, torch.tensor([0, 1, 2, 0, 1])
    inner, xn = model_input(model, x)
    assert inner is net
    s = torch.tensor(std).reshape(1, 2, 1, 1)
    torch.testing.assert_close(xn, (x - torch.tensor(mean).reshape(1, 2, 1, 1)) / s)
    co = co_from_outputs(net(xn).detach(), net(xn + h).detach(), y)
    torch.testing.assert_close(co, (kappa(y, 3) * (h.flatten(1) @ W.T)).sum(1))
    torch.testing.assert_close(co, co_score(model, x, s * h, y).detach(), atol=1e-5, rtol=1e-5)
    same, x_same = model_input(net, x)
    assert same is net and x_same is x


def test_scaled_ax_is_linear_in_the_scale_on_a_linear_model():
    from xai_lib.experiments.co_gap import scaled_ax

    W = torch.eye(3)
    m = linear(W)
    x = torch.tensor([[0.6, 0.2, 0.1], [0.1, 0.7, 0.3]])
    h = torch.tensor([[-1.0, 1.0, 0.0], [0.0, -1.0, 1.0]])
    y = torch.tensor([0, 1])
    table = scaled_ax(m, x, h, y, [0.1, 0.5, 1.0])
    assert table.scale.tolist() == [0.1, 0.1, 0.5, 0.5, 1.0, 1.0] and table.item.tolist() == [0, 1] * 3
    unit = (kappa(y, 3) * h).sum(1)  # kappa . W h with W = I
    for s in (0.1, 0.5, 1.0):
        part = table[table.scale == s]
        torch.testing.assert_close(torch.tensor(part.co.to_numpy(), dtype=torch.float32), s * unit)
        expected = ((x + s * h).argmax(1) == y).tolist()  # image 0: right until 0.2 + s > 0.6 - s
        assert part["correct after"].tolist() == expected
    assert table[table.scale == 0.1]["correct after"].tolist() == [True, True]
    assert table[table.scale == 1.0]["correct after"].tolist() == [False, False]


@pytest.mark.parametrize(
    "cells,expected",
    [
        (["reproduced"] * 3, "reproduced"),
        (["reproduced"] + ["inconclusive"] * 11, "inconclusive"),
        (["reproduced"] * 6 + ["inconclusive"] * 6, "partly"),
        (["not reproduced"] * 6 + ["inconclusive"] * 6, "not reproduced"),
        (["not reproduced", "inconclusive", "inconclusive"], "inconclusive"),
        (["not reproduced", "not reproduced", "reproduced"], "not reproduced"),
        (["not comparable"] * 2, "not comparable"),
        ([], "not comparable"),
    ],
)
def test_cells_verdict_rule(cells, expected):
    from xai_lib.experiments.co_gap import cells_verdict

    assert cells_verdict(cells) == expected


def test_best_methods_and_dataset_dependence():
    import numpy as np
    import pandas as pd

    from xai_lib.experiments.co_gap import best_methods, cells_verdict, dataset_dependence

    rng = np.random.default_rng(0)
    correct = np.array([True] * 60 + [False] * 40)

    def system(name, scores):
        n = len(next(iter(scores.values())))
        return pd.concat([pd.DataFrame({"system": name, "image": np.arange(n), "method": m,
                                        "correct": correct[:n], "co": s}) for m, s in scores.items()])  # fmt: skip

    good, noise = correct + 0.1 * rng.random(100), rng.random(100)
    co = pd.concat([
        system("a/net", {"Saliency": good, "DeepLift": noise}),  # distinct: Saliency
        system("b/net", {"Saliency": good, "DeepLift": good.copy()}),  # a tie at AUROC 1
        system("c/net", {"Saliency": noise[:70], "DeepLift": good[:70]}),  # 10 wrong: too few
    ])  # fmt: skip
    best = best_methods(co, few_wrong=20, n_boot=100).set_index("system")
    assert best.status.to_dict() == {"a/net": "distinct", "b/net": "tie", "c/net": "too few wrong predictions"}
    assert best.loc["a/net", "best"] == "Saliency" and best.loc["a/net", "AUROC"] == 1.0
    assert dataset_dependence(best.reset_index())[0] == "inconclusive"  # two eligible datasets, one distinct best
    other = best_methods(system("d/net", {"Saliency": noise, "DeepLift": good}), few_wrong=20, n_boot=100)
    verdict, distinct = dataset_dependence(pd.concat([best.reset_index(), other]))
    assert verdict == "reproduced" and distinct == {"a": ["Saliency"], "d": ["DeepLift"]}
    same = best_methods(system("d/net", {"Saliency": good, "DeepLift": noise}), few_wrong=20, n_boot=100)
    assert dataset_dependence(pd.concat([best.reset_index(), same]))[0] == "not reproduced"
    assert dataset_dependence(best.reset_index().iloc[[0, 2]])[0] == "not comparable"
    assert cells_verdict(["reproduced", "not comparable"]) == "reproduced"


def test_pixel_correlation_closed_forms():
    import math

    from xai_lib.metrics import pixel_correlation

    x = torch.rand(3, 2, 4, 4)
    r = pixel_correlation(torch.stack([2 * x[0] + 1, -x[1], torch.ones_like(x[2])]), x)
    torch.testing.assert_close(r[:2], torch.tensor([1.0, -1.0], dtype=torch.float64))
    assert math.isnan(float(r[2]))
    with pytest.raises(ValueError, match="b"):
        pixel_correlation(x, x[:2])


def test_gax_keeps_the_weights_of_its_heatmaps_and_says_which_misses_were_rising():
    from xai_lib.gax import GAXResult

    torch.manual_seed(0)
    m = linear(torch.randn(3, 6))
    x = torch.rand(4, 6) * 0.8 + 0.1
    y = torch.tensor([0, 1, 2, 0])
    res = gax(m, x, y, target_co=0.5, max_steps=300, similarity=1e-3)
    torch.testing.assert_close(res.heatmaps, torch.tanh(res.weights * x))  # h = tanh(w x) with the kept w
    start = gax(m, x, y, target_co=-1e9, max_steps=5)  # every image stops at iteration 0: w is still ones
    assert (start.weights == 1).all() and (start.steps == 0).all()
    assert not res.still_rising().any()  # reached images are never "still rising"
    nan = float("nan")
    history = torch.tensor([[0.0, 0.0, 0.0], [1.0, 2.0, 1.0], [2.0, 1.0, 3.0], [1.5, 1.5, nan], [3.0, 1.9, nan]])
    r = GAXResult(torch.zeros(3, 1), torch.zeros(3), torch.tensor([4, 4, 2]), torch.tensor([False, False, True]),
                  history)  # fmt: skip
    # image 0: a new best (3.0) in its last quarter; image 1: its best (2.0) came early; image 2 reached the target
    assert r.still_rising().tolist() == [True, False, False]
    with pytest.raises(ValueError, match="tail"):
        r.still_rising(tail=1.0)


def test_similarity_distance_closed_forms():
    from xai_lib.gax import similarity_distance

    eps = 1e-4
    x = torch.tensor([[0.0, 0.5], [0.0, 0.0]])
    torch.testing.assert_close(similarity_distance(x, x), (eps**2 / (x + eps)).mean(1))  # a copy: tiny
    d = similarity_distance(torch.full_like(x, 0.01), x)
    torch.testing.assert_close(d[1], torch.tensor((0.01 + eps) ** 2 / eps))  # h = 0.01 over black adds about 1
    assert float(similarity_distance(x, x)[1]) == pytest.approx(eps)  # h = x = 0 adds eps per pixel
    with pytest.raises(ValueError, match="x"):
        similarity_distance(x, x[:1])


def test_shuffle_positions_keeps_the_values_and_drops_the_layout():
    from xai_lib.experiments.co_gap import shuffle_key, shuffle_positions

    h = torch.arange(2 * 3 * 4 * 5, dtype=torch.float32).reshape(2, 3, 4, 5)
    s = shuffle_positions(h, [7, 8])
    for i in range(2):
        torch.testing.assert_close(s[i].flatten().sort().values, h[i].flatten().sort().values)  # same values
        # one permutation of the pixels for every channel: channel c is channel 0 shifted by c * 20
        torch.testing.assert_close(s[i, 1] - s[i, 0], torch.full((4, 5), 20.0))
    assert not torch.equal(s, h)
    torch.testing.assert_close(shuffle_positions(h[1:], [8]), s[1:])  # per key, whatever the batch
    tab = torch.arange(12.0).reshape(2, 6)
    assert sorted(shuffle_positions(tab, [1, 2])[0].tolist()) == tab[0].tolist()
    assert shuffle_key(0, 5, "Saliency") != shuffle_key(0, 5, "DeepLift") != shuffle_key(1, 5, "DeepLift")
    with pytest.raises(ValueError, match="keys"):
        shuffle_positions(h, [1])


def test_roll_half_keeps_values_and_neighbours_and_moves_the_layout():
    from xai_lib.experiments.co_gap import roll_half

    h = torch.zeros(2, 3, 8, 6)
    h[:, :, 1:3, 1:3] = 1.0  # a blob near the top left
    r = roll_half(h)
    torch.testing.assert_close(r[:, :, 5:7, 4:6], h[:, :, 1:3, 1:3])  # moved by (4, 3)
    assert r[:, :, 1:3, 1:3].abs().sum() == 0  # not where it was
    torch.testing.assert_close(r.flatten(1).sort().values, h.flatten(1).sort().values)  # the same values
    # the same total variation on the torus: the neighbours are kept, so is the smoothness
    tv = lambda t: (t - t.roll(1, 2)).abs().sum() + (t - t.roll(1, 3)).abs().sum()  # noqa: E731
    torch.testing.assert_close(tv(r), tv(h))
    torch.testing.assert_close(roll_half(roll_half(h)), h)  # even sides: twice is the identity
    with pytest.raises(ValueError, match="h: expected images"):
        roll_half(torch.zeros(2, 5))


def test_best_method_counts_a_reversed_separation_and_a_dataset_needs_a_majority():
    import numpy as np
    import pandas as pd

    from xai_lib.experiments.co_gap import best_methods, dataset_dependence

    rng = np.random.default_rng(0)
    correct = np.array([True] * 60 + [False] * 40)

    def system(name, scores):
        return pd.concat([pd.DataFrame({"system": name, "image": np.arange(100), "method": m, "correct": correct,
                                        "co": s}) for m, s in scores.items()])  # fmt: skip

    good, noise = correct + 0.1 * rng.random(100), rng.random(100)
    fair = correct * 0.3 + rng.random(100)  # AUROC well above 0.5, below 1
    best = best_methods(system("a/net", {"Saliency": fair, "DeepLift": -good}), few_wrong=20, n_boot=100)
    row = best.iloc[0]
    assert row.best == "DeepLift" and row.AUROC == 0.0 and row.direction == "wrong higher"
    assert row.status == "distinct" and row["runner-up"] == "Saliency"
    # dataset a: one distinct best (Saliency) and one tie among two eligible systems: no majority, not established
    two = pd.concat([
        best_methods(system("a/one", {"Saliency": good, "DeepLift": noise}), few_wrong=20, n_boot=100),
        best_methods(system("a/two", {"Saliency": good, "DeepLift": good.copy()}), few_wrong=20, n_boot=100),
        best_methods(system("d/net", {"Saliency": noise, "DeepLift": good}), few_wrong=20, n_boot=100),
    ])  # fmt: skip
    verdict, established = dataset_dependence(two)
    assert verdict == "inconclusive" and established == {"d": ["DeepLift"]}


def test_co_gradient_of_a_linear_model_is_kappa_times_its_weights():
    """out = W vec(z) + c: d s_co / d z = kappa . W for every input (closed form), whatever the chunking."""
    from xai_lib.metrics import co_gradient, kappa

    torch.manual_seed(0)
    lin = torch.nn.Linear(2 * 3 * 3, 4).double()
    model = torch.nn.Sequential(torch.nn.Flatten(), lin)
    x = torch.rand(5, 2, 3, 3, dtype=torch.float64)
    h = torch.rand_like(x) - 0.5
    y = torch.tensor([0, 3, 1, 2, 0])
    expected = (kappa(y, 4, torch.float64) @ lin.weight.detach()).reshape(x.shape)
    for size in (1, 2, 5):
        torch.testing.assert_close(co_gradient(model, x, h, y, batch_size=size), expected, rtol=0, atol=1e-12)
    # x * h: the same gradient with respect to the model's input
    torch.testing.assert_close(co_gradient(model, x, h, y, combine="mul", batch_size=5), expected, rtol=0, atol=1e-12)
    with pytest.raises(ValueError, match="h: expected the shape of x"):
        co_gradient(model, x, h[:2], y)


@pytest.mark.parametrize("combine", ["sum", "mul"])
@pytest.mark.parametrize("inside", [True, False])
def test_written_out_gradient_of_a_trained_bias_equals_autograd(combine, inside):
    """With a per-pixel bias trained beside w (the reference code's Generator), d loss / d w and d loss / d b
    written out equal autograd through eq. 6 in float64 to 1e-12."""
    from xai_lib.gax import _loss_grad, _tanh_and_heatmap
    from xai_lib.metrics import augment

    torch.manual_seed(6)
    m = nn.Sequential(nn.Linear(6, 8), nn.Tanh(), nn.Linear(8, 3)).double()
    x, w = torch.rand(4, 6, dtype=torch.float64), torch.randn(4, 6, dtype=torch.float64)
    b = 0.01 + 0.1 * torch.randn(4, 6, dtype=torch.float64)
    k, going, ls, eps = (
        kappa(torch.tensor([0, 1, 2, 1]), 3, torch.float64),
        torch.tensor([1, 1, 0, 1]).bool(),
        7.0,
        1e-4,
    )
    wg, bg = w.clone().requires_grad_(True), b.clone().requires_grad_(True)
    h = gax_heatmap(wg, x, bg, inside)
    s = (m(augment(x, h, combine)) * k).sum(1)
    sim = ((h - x + eps) ** 2 / (x + eps)).mean(1)
    exp_w, exp_b = torch.autograd.grad(((-s + ls / sim) * going).sum(), (wg, bg))
    th, h = _tanh_and_heatmap(w, x, b, inside)
    inp = augment(x, h, combine).requires_grad_(True)
    (g,) = torch.autograd.grad(((m(inp) * k).sum(1) * going).sum(), inp)
    got_w, got_b = _loss_grad(g, x, h, th, going, combine, ls, eps, 6.0, "inside" if inside else "outside")
    torch.testing.assert_close(got_w, exp_w, atol=1e-12, rtol=1e-12)
    torch.testing.assert_close(got_b, exp_b, atol=1e-12, rtol=1e-12)
    assert (got_b[2] == 0).all()


def test_only_a_trained_bias_moves_the_heatmap_on_zero_pixels():
    """On a pixel with x = 0, d h / d w = 0: with no bias or a fixed one h never moves there; a trained bias
    (initialised to 0.01) does, and the fixed-bias run is the trained one's starting point."""
    torch.manual_seed(7)
    m = linear(torch.randn(3, 6))
    x = torch.rand(2, 6)
    x[:, :3] = 0.0
    y = torch.tensor([0, 2])
    fixed = gax(m, x, y, target_co=1e6, max_steps=5, similarity=1e-3, bias=0.01)
    trained = gax(m, x, y, target_co=1e6, max_steps=5, similarity=1e-3, bias=0.01, train_bias=True)
    torch.testing.assert_close(fixed.heatmaps[:, :3], torch.full((2, 3), float(torch.tanh(torch.tensor(0.01)))))
    assert fixed.biases is None and trained.biases.shape == x.shape
    assert (trained.heatmaps[:, :3] - fixed.heatmaps[:, :3]).abs().min() > 0.1  # five Adam steps of lr 0.1
    torch.testing.assert_close(trained.heatmaps, torch.tanh(trained.weights * x + trained.biases))
    with pytest.raises(ValueError, match="train_bias"):
        gax(m, x, y, target_co=1.0, train_bias=True)


def test_gax_class_is_captum_shaped_and_equals_the_function():
    from xai_lib.gax import GAX

    torch.manual_seed(9)
    m = linear(torch.randn(3, 6))
    x, y = torch.rand(4, 6), torch.tensor([0, 1, 2, 1])
    ref = gax(m, x, y, target_co=0.5, max_steps=30, similarity=1e-3, bias=0.01, train_bias=True)
    explainer = GAX(m, max_steps=30, similarity=1e-3, bias=0.01, train_bias=True)
    h = explainer.attribute(x, target=y, target_co=0.5)
    assert torch.equal(h, ref.heatmaps)
    h2, res = explainer.attribute(x, target=y, target_co=0.5, return_result=True)
    assert torch.equal(h2, ref.heatmaps) and torch.equal(res.reached, ref.reached) and torch.equal(res.co, ref.co)
    with pytest.raises(ValueError, match="target: GAX needs"):
        explainer.attribute(x, target=None, target_co=0.5)
    with pytest.raises(ValueError, match="target_co"):
        explainer.attribute(x, target=y, target_co=float("nan"))
    with pytest.raises(ValueError, match="combine"):
        GAX(m, combine="max")
