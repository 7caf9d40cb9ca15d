"""CO score and GAX: closed forms on linear models, invariances, stopping, batching, errors."""

import pytest
import torch
from torch import nn

import xai_lib
from xai_lib.gax import METHODS, co_score, co_scores, gax, gax_heatmap, heatmaps, kappa, mask_enrichment, normalise


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
    from xai_lib.gax import _loss_grad, _tanh_and_heatmap, augment

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
@pytest.mark.parametrize("method", METHODS)
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
