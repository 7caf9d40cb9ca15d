"""IG, Guided IG, Blur IG and IDGI: closed forms on analytic models, axioms, captum parity, batching, errors."""

import numpy as np
import pytest
import torch
from scipy import ndimage
from torch import nn

import xai_lib
from xai_lib.attribution import IG, BlurIG, GuidedIG, IDGIAccumulator, VanillaGradient, gaussian_blur, idgi


@pytest.fixture(autouse=True)
def _float64():
    """Closed forms are checked at float64 precision in this module (restored after each test)."""
    torch.set_default_dtype(torch.float64)
    yield
    torch.set_default_dtype(torch.float32)


class Linear2(nn.Module):
    """f(x) = (w.x, -w.x) on 2-vectors."""

    def __init__(self, w=(1.0, 2.0)):
        super().__init__()
        self.w = torch.tensor(w)

    def forward(self, x):
        s = x @ self.w
        return torch.stack([s, -s], 1)


class Quadratic2(nn.Module):
    """f(x) = (x1^2 + 3 x2^2, 0)."""

    def forward(self, x):
        q = x[:, 0] ** 2 + 3 * x[:, 1] ** 2
        return torch.stack([q, torch.zeros_like(q)], 1)


def smooth_cnn(seed=0, c_in=3, n_classes=4):
    torch.manual_seed(seed)
    return nn.Sequential(
        nn.Conv2d(c_in, 6, 3, padding=1), nn.Softplus(), nn.AvgPool2d(2),
        nn.Conv2d(6, 8, 3, padding=1), nn.Tanh(), nn.AdaptiveAvgPool2d(2), nn.Flatten(), nn.Linear(32, n_classes),
    ).eval()  # fmt: skip


def relu_cnn(seed=0):
    torch.manual_seed(seed)
    return xai_lib.models.SmallVGG(3, 4, widths=(8, 8)).eval()


# ---------------------------------------------------------------------------------------------- closed forms
@pytest.mark.parametrize("n", [1, 3, 50])
def test_linear_ig_and_idgi_by_hand(n):
    m = Linear2()
    x, b = torch.tensor([[3.0, -1.0]]), torch.zeros(1, 2)
    ig = IG(m).attribute(x, b, target=0, n_steps=n)
    torch.testing.assert_close(ig, torch.tensor([[3.0, -2.0]]))  # (x - x') * w, exact for any N
    ours = IG(m).attribute(x, b, target=0, n_steps=n, idgi=True)
    torch.testing.assert_close(ours, torch.tensor([[0.2, 0.8]]))  # w^2 (w.dx) / |w|^2 = (1, 4) * 1 / 5
    torch.testing.assert_close(IG(m).attribute(x, b, target=1, n_steps=n, idgi=True), -torch.tensor([[0.2, 0.8]]))


@pytest.mark.parametrize("n", [2, 10, 200])
def test_quadratic_ig_and_idgi_by_hand(n):
    m = Quadratic2()
    x = torch.tensor([[1.0, 1.0]])
    # mean of alpha_k = k/N is (N+1)/(2N): IG_i = (N+1)/N * (x1^2, 3 x2^2)
    right = IG(m).attribute(x, target=0, n_steps=n)
    torch.testing.assert_close(right, torch.tensor([[1.0, 3.0]]) * (n + 1) / n)
    mid = IG(m).attribute(x, target=0, n_steps=n, method="riemann_middle")  # exact: the integrand is linear in alpha
    torch.testing.assert_close(mid, torch.tensor([[1.0, 3.0]]))
    # captum's convergence delta: sum(attr) - (f(x) - f(x')) = 4 (N+1)/N - 4 = 4/N; IG without IDGI reports nothing
    again, delta, report = IG(m).attribute(x, 0.0, 0, n_steps=n, return_convergence_delta=True, return_report=True)
    torch.testing.assert_close(again, right)
    torch.testing.assert_close(delta, torch.tensor([4.0 / n]))
    assert report == {}
    with pytest.raises(ValueError, match="target: required"):  # a target passed where captum puts baselines
        IG(m).attribute(x, 0)
    ours, report = IG(m).attribute(x, target=0, n_steps=n, idgi=True, return_report=True)
    # gradients along the line all point along v = (2, 6); the one at the baseline is zero and is skipped
    f = 4.0
    torch.testing.assert_close(ours, torch.tensor([[0.1, 0.9]]) * f * (1 - 1 / n**2))
    assert report["skipped_steps"].tolist() == [1]
    torch.testing.assert_close(report["lost"], torch.tensor([f / n**2]))


def test_idgi_kernel_matches_accumulator_and_telescopes():
    torch.manual_seed(0)
    g, p = torch.randn(9, 3, 4), torch.randn(10)
    out = idgi(g, p)
    assert out.shape == (3, 4)
    torch.testing.assert_close(out.sum(), p[-1] - p[0])
    acc = IDGIAccumulator((3, 4))
    for lo in range(0, 9, 4):
        acc.update(p[lo : min(lo + 4, 9)], g[lo : min(lo + 4, 9)])
    acc.finish(p[-1])
    torch.testing.assert_close(acc.total, out)
    manual = sum(g[j] ** 2 * (p[j + 1] - p[j]) / (g[j] ** 2).sum() for j in range(9))
    torch.testing.assert_close(out, manual)


def _guarded_by_hand(g, f, tau):
    """IDGI with the norm guard, written directly: the global largest norm, the binade rule, per step."""
    norms = g.flatten(2).square().sum(2)  # (N, B)
    top = torch.frexp(norms.max(0).values).exponent - 1
    offset = int(np.floor(np.log2(tau)))
    total, lost, skipped = torch.zeros(g.shape[1:], dtype=g.dtype), torch.zeros(g.shape[1]), torch.zeros(g.shape[1])
    for j in range(g.shape[0]):
        for b in range(g.shape[1]):
            df, n = f[j + 1, b] - f[j, b], norms[j, b]
            if n == 0 or (torch.frexp(n).exponent - 1) < top[b] + offset:
                lost[b] += df
                skipped[b] += 1
            else:
                total[b] += g[j, b] ** 2 / n * df
    return total, lost, skipped


@pytest.mark.parametrize("chunk", [1, 3, 40])
@pytest.mark.parametrize("tau", [1e-3, 1e-9])
def test_the_norm_guard_streams_exactly_what_its_rule_says(chunk, tau):
    """Gradient norms spanning twenty decades, rising and falling along the path (so bins must move down as larger
    norms arrive), a zero-gradient step: any chunking gives the direct rule's result, and completeness holds with
    the lost output change added back."""
    gen = torch.Generator().manual_seed(3)
    n, b = 40, 3
    scales = 10.0 ** torch.cat([torch.linspace(-10, 0, 15), torch.linspace(0, -10, 10), torch.linspace(-9, 1, 15)])
    g = torch.randn(n, b, 2, 5, generator=gen, dtype=torch.float64) * scales[:, None, None, None]
    g[7, 1] = 0.0
    f = torch.randn(n + 1, b, generator=gen, dtype=torch.float64)
    acc = IDGIAccumulator((2, 5), min_norm=tau)
    for lo in range(0, n, chunk):
        acc.update(f[lo : min(lo + chunk, n)], g[lo : min(lo + chunk, n)])
    acc.finish(f[-1])
    total, lost, skipped = _guarded_by_hand(g, f, tau)
    torch.testing.assert_close(acc.total, total, rtol=1e-12, atol=1e-15)
    torch.testing.assert_close(acc.lost, lost, rtol=1e-12, atol=1e-15)
    assert acc.skipped.tolist() == skipped.long().tolist() and 1 <= skipped.min() and skipped.max() < n
    torch.testing.assert_close(acc.total.flatten(1).sum(1) + acc.lost, f[-1] - f[0], rtol=1e-12, atol=1e-12)
    plain = IDGIAccumulator((2, 5))
    plain.update(f[:-1], g)
    plain.finish(f[-1])
    assert plain.skipped.tolist() == [0, 1, 0]  # without the guard only the zero gradient is skipped


def test_the_norm_guard_is_validated():
    for bad in (-1e-3, 1.0, float("nan"), "1e-6"):
        with pytest.raises(ValueError, match="min_norm"):
            IDGIAccumulator((3,), min_norm=bad)


def test_idgi_moves_with_its_gradients_within_its_condition_bound():
    """IDGI's weights are the gradient's direction: a gradient error delta moves a step's weights by at most
    ``4 |delta| / |g|`` in L1 (to first order), so the map moves by at most ``sum_j |df_j| 4 |delta_j| / |g_j|``.
    A step whose gradient is a thousand times smaller than the others, perturbed at a relative 1e-9 of the
    others' size, moves the map a thousand times more than the same perturbation of a large step."""
    gen = torch.Generator().manual_seed(0)
    g = torch.randn(12, 50, generator=gen, dtype=torch.float64)
    g[5] *= 1e-3
    f = torch.cumsum(torch.rand(13, generator=gen, dtype=torch.float64), 0)
    base = idgi(g, f)
    moves = {}
    for step in (5, 6):
        delta = torch.zeros_like(g)
        delta[step] = 1e-9 * torch.randn(50, generator=gen, dtype=torch.float64) * g[6].norm() / 50**0.5
        moved = idgi(g + delta, f)
        bound = float(((f[1:] - f[:-1]).abs() * 4 * delta.norm(dim=1) / g.norm(dim=1)).sum())
        moves[step] = float((moved - base).abs().sum())
        assert 0 < moves[step] <= bound * (1 + 1e-6), step
    assert moves[5] > 100 * moves[6]


def test_vanilla_gradient_on_linear():
    torch.testing.assert_close(
        VanillaGradient(Linear2()).attribute(torch.rand(3, 2), target=1), -torch.tensor([[1.0, 2.0]]).expand(3, 2)
    )


# ------------------------------------------------------------------------------------------------ axioms
@pytest.mark.parametrize("n", [1, 4, 17, 64])
@pytest.mark.parametrize("output", ["logit", "probability"])
def test_idgi_is_complete_on_every_path_for_any_n(n, output):
    model = relu_cnn()
    torch.manual_seed(1)
    x = torch.rand(2, 3, 16, 16)
    target = torch.tensor([0, 3])
    for method, kwargs in [
        (IG(model, output), {}),
        (GuidedIG(model, output), {}),
        (BlurIG(model, output), {"max_sigma": 8.0}),
    ]:
        attr, report = method.attribute(x, target=target, n_steps=n, idgi=True, return_report=True, **kwargs)
        ref = BlurIG(model).reference(x, 8.0) if isinstance(method, BlurIG) else torch.zeros_like(x)
        expected = method.forward_outputs(x, target) - method.forward_outputs(ref, target)
        got = attr.flatten(1).sum(1) + report["lost"]
        torch.testing.assert_close(got, expected, atol=1e-5, rtol=0)


def test_ig_converges_as_n_grows():
    model = smooth_cnn()
    torch.manual_seed(2)
    x = torch.rand(3, 3, 12, 12)
    ig = IG(model)
    errs = [ig.completeness_error(x, ig.attribute(x, target=1, n_steps=n), 1).abs().max().item()
            for n in (2, 8, 32, 128)]  # fmt: skip
    assert errs[0] > errs[1] > errs[2] > errs[3]
    assert errs[3] < errs[0] / 20  # right Riemann error is O(1/N)


def test_guided_ig_reduces_to_left_riemann_ig():
    model = smooth_cnn()
    torch.manual_seed(3)
    x = torch.rand(2, 3, 12, 12)
    target = torch.tensor([2, 0])
    left = IG(model).attribute(x, target=target, n_steps=20, method="riemann_left")
    for kwargs in ({"max_dist": 0.0}, {"fraction": 1.0}):
        gig = GuidedIG(model).attribute(x, target=target, n_steps=20, **kwargs)
        torch.testing.assert_close(gig, left, atol=1e-8, rtol=1e-6)


def test_guided_ig_path_ends_at_the_input_and_is_complete_in_the_limit():
    model = smooth_cnn()
    torch.manual_seed(4)
    x = torch.rand(2, 3, 12, 12)
    gig = GuidedIG(model)
    errs = [gig.completeness_error(x, gig.attribute(x, target=1, n_steps=n), 1).abs().max().item() for n in (10, 200)]
    assert errs[1] < errs[0] and errs[1] < 2e-2


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16, torch.float32])
def test_guided_ig_selects_on_low_precision_gradients_and_stays_complete(dtype):
    """The selection reads |gradient| as same-width integers and blocks features with the dtype's largest value
    where 1e30 does not fit (float16): the kernel runs on half-precision gradients, and for the analytic
    ``f(x) = sum(w x^2)`` from a zero baseline its attributions sum to ``f(x)`` within the path's left-sum error."""
    from xai_lib.attribution.guided import guided_ig

    g0 = torch.Generator().manual_seed(7)
    w = torch.rand(3, 8, 8, generator=g0) + 0.5
    x = torch.rand(2, 3, 8, 8, generator=g0)

    def grad_fn(z):
        z64 = z.double()
        return (w * z64**2).sum((1, 2, 3)).to(dtype), (2 * w * z64).to(dtype)

    attr = guided_ig(grad_fn, x.to(dtype), torch.zeros_like(x, dtype=dtype), 400, 0.25, 0.1).double()
    total = (w * x.to(dtype).double() ** 2).sum((1, 2, 3))
    rel = ((attr.flatten(1).sum(1) - total).abs() / total).max().item()
    assert torch.isfinite(attr).all()
    assert rel < {torch.float16: 3e-2, torch.bfloat16: 5e-2, torch.float32: 3e-2}[dtype], rel  # left-sum error


def test_blur_ig_complete_against_most_blurred_image():
    model = smooth_cnn()
    torch.manual_seed(5)
    x = torch.rand(2, 3, 16, 16)
    blur = BlurIG(model)
    ref = blur.reference(x, 10.0)
    diff = blur.forward_outputs(x, torch.tensor([1, 1])) - blur.forward_outputs(ref, torch.tensor([1, 1]))
    for grad_step in (0.01, 1e-4):  # a small step must not expose the kernel's truncation radius
        errs = []
        for n in (10, 50, 200, 800):  # scipy's truncation radius jumps along the path: convergence is slow
            attr = blur.attribute(x, target=1, n_steps=n, max_sigma=10.0, grad_step=grad_step)
            errs.append(((attr.flatten(1).sum(1) - diff).abs() / diff.abs()).max().item())
        assert errs[0] > errs[1] > errs[2] > errs[3] and errs[3] < 5e-3, (grad_step, errs)


def test_gaussian_blur_matches_scipy_constant_mode():
    x = torch.rand(2, 3, 20, 17)
    for sigma in (0.0, 0.51, 0.7, 1.26, 3.0, 25.0):  # 0.51 and 1.26: int(4 sigma + 0.5) != ceil(4 sigma)
        ours = gaussian_blur(x, sigma).numpy()
        ref = np.stack(
            [[ndimage.gaussian_filter(x[i, c].numpy(), sigma, mode="constant") for c in range(3)] for i in range(2)]
        )
        np.testing.assert_allclose(ours, ref, atol=1e-10)


# -------------------------------------------------------------------------------------------- parity, batching
@pytest.mark.filterwarnings("ignore::UserWarning")
def test_our_ig_equals_captum_ig():
    from captum.attr import IntegratedGradients

    torch.set_default_dtype(torch.float32)
    try:
        model = relu_cnn()
        x = torch.rand(3, 3, 16, 16)
        b = torch.rand(3, 3, 16, 16) * 0.1
        target = torch.tensor([0, 1, 3])
        for method in ("riemann_right", "riemann_left", "riemann_middle"):
            ours = IG(model, internal_batch_size=7).attribute(x, b, target=target, n_steps=30, method=method)
            ref = IntegratedGradients(model).attribute(x, b, target=target, n_steps=30, method=method)
            torch.testing.assert_close(ours, ref, atol=1e-5, rtol=1e-4)
    finally:
        torch.set_default_dtype(torch.float64)


@pytest.mark.parametrize("idgi_flag", [False, True])
def test_batch_equals_one_by_one_and_chunking_is_invisible(idgi_flag):
    model = relu_cnn()
    torch.manual_seed(6)
    x = torch.rand(3, 3, 16, 16)
    target = torch.tensor([1, 0, 2])
    cases = [(IG, {"n_steps": 13}), (GuidedIG, {"n_steps": 9}), (BlurIG, {"n_steps": 11, "max_sigma": 6.0})]
    for cls, kw in cases:
        batch = cls(model, internal_batch_size=4).attribute(x, target=target, idgi=idgi_flag, **kw)
        single = torch.cat(
            [
                cls(model, internal_batch_size=64).attribute(x[i : i + 1], target=int(target[i]), idgi=idgi_flag, **kw)
                for i in range(3)
            ]
        )
        torch.testing.assert_close(batch, single, atol=1e-10, rtol=1e-8)


@pytest.mark.parametrize("chunk", [1, 4, 12, 64])  # 12 and 4 leave a last chunk of one point for IG's 13 + 1
def test_one_pass_gives_both_base_and_idgi(chunk):
    """``attribute_with_idgi`` equals the two separate calls, whatever the chunking (here on a ReLU CNN)."""
    model = relu_cnn()
    torch.manual_seed(7)
    x = torch.rand(2, 3, 16, 16)
    target = torch.tensor([3, 1])
    cases = [(IG, {"n_steps": 12}), (GuidedIG, {"n_steps": 9}), (BlurIG, {"n_steps": 11, "max_sigma": 6.0})]
    for cls, kw in cases:
        method = cls(model, internal_batch_size=chunk)
        base, with_idgi, report = method.attribute_with_idgi(x, target=target, return_report=True, **kw)
        torch.testing.assert_close(base, cls(model).attribute(x, target=target, **kw), atol=1e-10, rtol=1e-8)
        alone = cls(model).attribute(x, target=target, idgi=True, **kw)
        torch.testing.assert_close(with_idgi, alone, atol=1e-10, rtol=1e-8)
        assert set(report) == {"skipped_steps", "lost", "step_norms", "output_changes"}
        n = kw["n_steps"]
        assert report["step_norms"].shape == report["output_changes"].shape == (2, n)
        start = method.reference(x, kw["max_sigma"]) if cls is BlurIG else torch.zeros_like(x)
        delta = method.forward_outputs(x, target) - method.forward_outputs(start, target)
        torch.testing.assert_close(report["output_changes"].sum(1), delta.double(), atol=1e-6, rtol=1e-5)
        if cls is IG:  # the steps' squared norms are those of the gradients at x' + (j/N) x, j = 0..N-1
            _, g = method.grad_fn(torch.cat([x * (j / n) for j in range(n)]), target.repeat(n))
            norms = g.reshape(n, 2, -1).square().sum(2).T.double()
            torch.testing.assert_close(report["step_norms"], norms, rtol=1e-5, atol=0)


# ------------------------------------------------------------------------------------------------- errors
@pytest.mark.parametrize(
    "call,name",
    [
        (lambda m, x: IG(m).attribute(x * float("nan"), target=0), "inputs"),
        (lambda m, x: IG(m).attribute(x[0, 0, 0], target=0), "inputs"),
        (lambda m, x: IG(m).attribute(x, target=0, baselines=torch.zeros(2, 3, 8, 8)), "baselines"),
        (lambda m, x: IG(m).attribute(x, target=0, baselines=torch.full_like(x, float("inf"))), "baselines"),
        (lambda m, x: IG(m).attribute(x, target=4), "target"),
        (lambda m, x: IG(m).attribute(x, target=torch.tensor([0, -1])), "target"),
        (lambda m, x: IG(m).attribute(x, target=torch.tensor([0.5, 1.0])), "target"),
        (lambda m, x: IG(m).attribute(x, target=0, n_steps=0), "n_steps"),
        (lambda m, x: IG(m).attribute(x, target=0, method="trapezoid"), "method"),
        (lambda m, x: IG(m, output="softmax"), "output"),
        (lambda m, x: IG("not a model"), "model"),
        (lambda m, x: GuidedIG(m).attribute(x, target=0, fraction=0.0), "fraction"),
        (lambda m, x: GuidedIG(m).attribute(x, target=0, max_dist=-0.1), "max_dist"),
        (lambda m, x: BlurIG(m).attribute(x, target=0, baselines=torch.zeros_like(x)), "baselines"),
        (lambda m, x: BlurIG(m).attribute(x, target=0, max_sigma=0.0), "max_sigma"),
        (lambda m, x: BlurIG(m).attribute_with_idgi(x, target=0, grad_step=0.0), "grad_step"),
        (lambda m, x: GuidedIG(m).attribute_with_idgi(x, target=0, fraction=1.5), "fraction"),
        (lambda m, x: IG(m).attribute_with_idgi(x, target=0, n_steps=0), "n_steps"),
        (lambda m, x: BlurIG(Linear2()).attribute(torch.rand(2, 2), target=0), "inputs"),
        (lambda m, x: idgi(torch.zeros(3, 4), torch.zeros(3)), "predictions"),
        (lambda m, x: idgi(torch.zeros(3, 4), torch.tensor([0.0, float("nan"), 0.0, 0.0])), "predictions"),
    ],
)
def test_bad_input_raises_naming_the_argument(call, name):
    with pytest.raises(ValueError, match=name):
        call(relu_cnn(), torch.rand(2, 3, 16, 16))


# --------------------------------------------------------------------------------------- teaching helpers
def test_step_decomposition_on_a_linear_function():
    from xai_lib.attribution import step_decomposition

    g = torch.tensor([1.0, 2.0])
    x0, x1 = torch.tensor([0.0, 0.0]), torch.tensor([0.3, -0.1])
    f0, f1 = 0.0, float(g @ x1)  # linear f: the step's output change is g . dx exactly
    parts = step_decomposition(x0, x1, g, f0, f1)
    assert float(parts["idgi"].sum()) == pytest.approx(f1 - f0)
    assert float(parts["ig"].sum()) == pytest.approx(f1 - f0)
    assert float(g @ parts["noise"]) == pytest.approx(0.0, abs=1e-12)  # the noise runs along the level set
    direction = parts["projection"] - x0
    assert float(direction[0] * g[1] - direction[1] * g[0]) == pytest.approx(0.0, abs=1e-12)  # along g
    with pytest.raises(ValueError, match="g_j"):
        step_decomposition(x0, x1, torch.zeros(2), f0, f1)


def test_analytic_model_attributions_are_complete():
    from xai_lib.attribution import AnalyticModel, curved_valley

    m = AnalyticModel(curved_valley)
    x = torch.tensor([[1.0, 1.0], [0.2, 0.9]])
    delta = (m(x) - m(torch.zeros_like(x)))[:, 0]
    ig = IG(m)
    torch.testing.assert_close(ig.attribute(x, target=0, n_steps=3, idgi=True).sum(1), delta)
    assert (ig.completeness_error(x, ig.attribute(x, target=0, n_steps=400), 0).abs() < 5e-3).all()


def test_visualise_saliency_range_and_clipping():
    from xai_lib.plotting import visualise_saliency

    attr = torch.zeros(3, 10, 10)
    attr[:, 0, 0] = 100.0  # one hot pixel
    attr[:, 5:, :] = -1.0
    v = visualise_saliency(attr, percentile=99.0)
    assert v.min() >= 0 and v.max() <= 1 and v[0, 0] == 1.0
    assert v[9, 9] > 0.4  # unclipped, the hot pixel would squash the region to 3 / 300 = 0.01
