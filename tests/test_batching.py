"""Calibrated model calls: a measured plan within the memory bound, cached per model and shape; explicit sizes
win; results do not depend on the size beyond floating-point summation order."""

import math

import pytest
import torch
from torch import nn

from xai_lib import batching
from xai_lib.attribution import IG, BlurIG, GuidedIG, IDGIAccumulator
from xai_lib.models import SmallVGG


@pytest.fixture
def vgg():
    torch.manual_seed(0)
    return SmallVGG(3, 5, widths=(8, 16)).eval()


def test_calibration_measures_caches_and_respects_the_memory_bound(vgg):
    x = torch.rand(1, 3, 32, 32)
    plan = batching.calibrate(vgg, x, sizes=(8, 16, 32, 64), min_time=0.005)
    assert plan.size in (8, 16, 32, 64) and isinstance(plan.channels_last, bool)
    assert batching.calibrate(vgg, x) is plan  # cached per (model, shape, device, dtype, backward)
    assert batching.calibrate(vgg, x, backward=False, sizes=(8, 16), min_time=0.005).size in (8, 16)
    per_input = batching.bytes_per_input(vgg, x)
    assert per_input > x.numel() * 4  # the input plus every layer's output, doubled for gradients
    small = batching.calibrate(SmallVGG(3, 5, widths=(8, 16)).eval(), x, memory_bound=per_input * 20, min_time=0.005)
    assert small.size <= 20  # a bound of 20 inputs admits only sizes up to 16
    with pytest.raises(ValueError, match="memory_bound"):
        batching.calibrate(nn.Sequential(nn.Flatten(), nn.Linear(3 * 32 * 32, 2)), x, memory_bound=-1)


def test_calibration_chooses_among_the_remeasured_candidates_only(vgg, monkeypatch):
    """The machine slows down by a third after the first pass: the sizes left out then (8 and 64, over 25% worse
    than the best) keep their early, fast measurement, which must not beat the re-measured candidates' medians."""
    calls = []

    def scripted(model, x, backward, min_time, repeat):
        size, first_pass = len(x), len(calls) < 8
        calls.append(size)
        if first_pass:
            return {8: 1.3, 16: 1.0, 32: 1.02, 64: 1.5}[size]
        return {16: 1.4, 32: 1.32}[size]  # 8 and 64 are not measured again

    monkeypatch.setattr(batching, "_cost_per_input", scripted)
    x = torch.rand(1, 3, 16, 16)
    # medians: 16 -> 1.4, 32 -> 1.32; 8's single 1.3 would be the "best" if it were compared with them
    # (the scripted costs are not seconds: no time budget)
    assert batching.calibrate(vgg, x, sizes=(8, 16, 32, 64), confirm_rounds=2, budget=math.inf) == batching.Plan(
        32, False
    )
    assert sorted(set(calls[8:])) == [16, 32]


def test_calibration_measures_close_candidates_again_so_drift_does_not_decide(vgg, monkeypatch):
    """A machine that runs fast while 64 is measured first (drift) and steadily afterwards: the first pass alone
    picks 64; the alternating re-measurement of the close candidates picks the steady-state best, 32."""
    calls = []

    def scripted(model, x, backward, min_time, repeat):
        size, first_pass = len(x), len(calls) < 8  # 4 sizes x 2 layouts in the first pass
        calls.append(size)
        steady = {8: 1.5, 16: 1.1, 32: 1.0, 64: 1.2}[size]
        return 0.9 if (first_pass and size == 64) else steady

    monkeypatch.setattr(batching, "_cost_per_input", scripted)
    x = torch.rand(1, 3, 16, 16)
    assert batching.calibrate(vgg, x, sizes=(8, 16, 32, 64), confirm_rounds=0, budget=math.inf) == batching.Plan(
        64, False
    )
    calls.clear()
    fresh = SmallVGG(3, 5, widths=(8, 16)).eval()  # the plan is cached per model
    assert batching.calibrate(fresh, x, sizes=(8, 16, 32, 64), confirm_rounds=2, budget=math.inf) == batching.Plan(
        32, False
    )
    # only the candidates within 25% of the first pass's best (0.9) are measured again: 16, 32 and 64 (not 8),
    # twice each, in both layouts
    assert sorted(calls[8:]) == sorted([16, 32, 64] * 2 * 2)


def _simulated(monkeypatch, per_input: float) -> tuple[list, list]:
    """Calibration on a simulated clock: every call costs ``per_input`` seconds per input, so a measurement (a
    warm-up call and ``repeat`` calls) takes ``(repeat + 1) * per_input * size``. The measured plans, in order,
    and the simulated clock ``[seconds]``."""
    now, measured = [0.0], []

    def scripted(model, x, backward, min_time, repeat):
        measured.append(batching.Plan(len(x), x.is_contiguous(memory_format=torch.channels_last)))
        now[0] += (repeat + 1) * per_input * len(x)
        return per_input

    monkeypatch.setattr(batching, "_cost_per_input", scripted)
    monkeypatch.setattr(batching, "_clock", lambda: now[0])
    return measured, now


def test_calibration_keeps_within_its_time_budget(vgg, monkeypatch):
    """Calls that cost the same per input at every size (a CPU whose allocator reuses memory comes close) would
    have the first pass try every size; the budget stops it: half of it (1 s) for the first pass, shared by the
    layouts, a size tried only if its predicted measurement fits, then as many whole re-measurement rounds as
    fit in the rest."""
    log, now = _simulated(monkeypatch, per_input=1e-3)
    x = torch.rand(1, 3, 16, 16)
    plan = batching.calibrate(vgg, x, min_time=0.0, budget=2.0)
    # contiguous: 8..64 take 0.032 + 0.064 + 0.128 + 0.256 = 0.48 s of its 0.5 s; 128 (0.512 s) would not fit;
    # channels-last gets the rest of the first pass's second (0.52 s): 8..64 again; sizes beyond 64 are never tried
    sizes = [8, 16, 32, 64]
    first_pass = [batching.Plan(s, False) for s in sizes] + [batching.Plan(s, True) for s in sizes]
    assert log[:8] == first_pass
    # one round re-measures all eight (equal costs: all close) in 0.96 s, ending at 1.92 s; a second would not fit
    assert sorted(log[8:]) == sorted(first_pass)
    assert now[0] == pytest.approx(1.92) and now[0] <= 2.0
    assert plan == batching.Plan(8, False)  # equal costs: the smallest size, contiguous
    with pytest.raises(ValueError, match="budget"):
        batching.calibrate(SmallVGG(3, 5, widths=(8, 16)).eval(), x, budget=0)


def test_a_slow_model_is_measured_once_within_a_small_budget(vgg, monkeypatch):
    """One measurement at the smallest size already takes longer than the budget (a large network on a slow
    CPU): it is the only one; neither the other layout nor a re-measurement follows."""
    log, now = _simulated(monkeypatch, per_input=1.0)
    assert batching.calibrate(vgg, torch.rand(1, 3, 16, 16), budget=10.0) == batching.Plan(8, False)
    assert log == [batching.Plan(8, False)] and now[0] == 32.0


@pytest.mark.parametrize(
    ("read", "variable", "value", "expected"),
    [
        (batching._env_budget, "XAI_LIB_CALIBRATION_BUDGET", "2.5", 2.5),
        (batching._env_budget, "XAI_LIB_CALIBRATION_BUDGET", "inf", math.inf),
        (batching._env_budget, "XAI_LIB_CALIBRATION_BUDGET", "0", ValueError),
        (batching._env_budget, "XAI_LIB_CALIBRATION_BUDGET", "soon", ValueError),
        (batching._env_memory_fraction, "XAI_LIB_MEMORY_FRACTION", "0.5", 0.5),
        (batching._env_memory_fraction, "XAI_LIB_MEMORY_FRACTION", "1.5", ValueError),
    ],
)
def test_environment_bounds_are_read_or_rejected_by_name(monkeypatch, read, variable, value, expected):
    monkeypatch.setenv(variable, value)
    if expected is ValueError:
        with pytest.raises(ValueError, match=variable):
            read()
    else:
        assert read() == expected


def test_confirm_remeasures_only_close_candidates_alternately_and_takes_medians():
    """Shared by calibration and the benchmarks' floors: candidates within ``within`` of the best first-pass
    value are measured again, in alternating order, and each one's median decides."""
    first = {"a": [1.0], "b": [1.1, 1.3], "c": [2.0]}  # a is best; b is within 20%; c is not
    script = {"a": iter([1.4, 1.5]), "b": iter([1.2, 1.0])}
    order = []

    def measure(k):
        order.append(k)
        return next(script[k])

    got = batching.confirm(first, measure, within=0.2, rounds=2)
    assert order == ["b", "a", "a", "b"]  # reversed, then forward: both see the start and the end of the drift
    assert got == {"a": 1.4, "b": 1.15}  # medians of [1.0, 1.4, 1.5] and [1.1, 1.3, 1.2, 1.0]; c left out
    assert min(got, key=got.get) == "b"  # the first pass alone would have chosen a
    assert batching.confirm({"a": [1.0], "c": [2.0]}, measure, 0.2, 5) == {"a": 1.0}  # one candidate: no rounds
    with pytest.raises(ValueError, match="first"):
        batching.confirm({}, measure, 0.2, 2)


def test_resolve_explicit_default_and_environment(vgg, monkeypatch):
    x = torch.rand(1, 3, 16, 16)
    assert batching.resolve(7, vgg, x) == batching.Plan(7, False)
    assert batching.resolve(7, vgg, x, channels_last=True) == batching.Plan(7, True)
    with pytest.raises(ValueError, match="internal_batch_size"):
        batching.resolve(0, vgg, x)
    previous = batching.default()
    try:
        batching.set_default(12, channels_last=True)
        assert batching.resolve(None, vgg, x) == batching.Plan(12, True)
        with pytest.raises(ValueError, match="evals_per_call"):
            batching.set_default(-3)
    finally:
        batching.set_default(previous.size if previous else "auto", previous.channels_last if previous else False)
    monkeypatch.setenv("XAI_LIB_EVALS_PER_CALL", "32,channels_last")
    assert batching.env_default() == batching.Plan(32, True)
    monkeypatch.setenv("XAI_LIB_EVALS_PER_CALL", "lots")
    with pytest.raises(ValueError, match="XAI_LIB_EVALS_PER_CALL"):
        batching.env_default()


def test_a_call_that_names_no_size_never_calibrates_unless_asked(vgg, monkeypatch):
    x = torch.rand(1, 3, 16, 16)
    calls = []
    monkeypatch.setattr(batching, "calibrate", lambda *a, **k: calls.append(a) or batching.Plan(8, True))
    previous = batching.default()
    try:
        batching.set_default(None)
        assert batching.default() == batching.LIBRARY_DEFAULT == batching.Plan(32, False)
        assert batching.resolve(None, vgg, x) == batching.LIBRARY_DEFAULT and not calls
        assert batching.set_default("auto") is None and batching.resolve(None, vgg, x) == batching.Plan(8, True)
        assert batching.resolve("auto", vgg, x, channels_last=False) == batching.Plan(8, False) and len(calls) == 2
    finally:
        batching.set_default(previous.size if previous else "auto", previous.channels_last if previous else False)
    # the process's starting default, by the environment: unset -> the library's; "auto" -> calibrate; N -> N
    for value, expected in (("", batching.LIBRARY_DEFAULT), ("auto", None), ("16", batching.Plan(16, False))):
        monkeypatch.setenv("XAI_LIB_EVALS_PER_CALL", value)
        assert batching._initial_default() == expected
    # the profiles: the book's fix their plan, paper calibrates
    from xai_lib.profiles import PROFILES

    assert {n: p.evals_per_call for n, p in PROFILES.items()} == {"smoke": 32, "book": 32, "class": 32, "paper": "auto"}


def test_layout_changes_memory_not_values():
    x = torch.rand(2, 3, 8, 8)
    y = batching.Plan(4, True).layout(x)
    assert y.is_contiguous(memory_format=torch.channels_last) and torch.equal(x, y)
    assert batching.Plan(4, True).layout(torch.rand(2, 5)).is_contiguous()


class _RecordingAccumulator(IDGIAccumulator):
    """IDGI's accumulator, keeping the outputs and gradients it is fed (per instance, in path order)."""

    made: list = []

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.f, self.g = [], []
        _RecordingAccumulator.made.append(self)

    def update(self, f, g):
        self.f.append(f.clone())
        self.g.append(g.clone())
        super().update(f, g)

    def finish(self, f_last):
        self.f.append(f_last[None].clone())
        super().finish(f_last)


def _recorded(method, x, y, kw, monkeypatch):
    """The method's (base, IDGI) maps and, per image, the path's outputs ``(N + 1, B)`` and gradients ``(N, B, *F)``
    that IDGI was fed (groups of images concatenated in order)."""
    import xai_lib.attribution.methods as methods_module

    monkeypatch.setattr(methods_module, "IDGIAccumulator", _RecordingAccumulator)
    _RecordingAccumulator.made = []
    base, with_idgi, report = method.attribute_with_idgi(x, target=y, return_report=True, **kw)
    f = torch.cat([torch.cat(a.f) for a in _RecordingAccumulator.made], 1)
    g = torch.cat([torch.cat(a.g) for a in _RecordingAccumulator.made], 1)
    return base, with_idgi, f, g, report["lost"]


@pytest.mark.parametrize("size,channels_last", [(1, False), (5, True), (7, False), (64, True)])
def test_results_do_not_depend_on_the_plan(vgg, size, channels_last, monkeypatch):
    """Images grouped or not, points chunked differently, either layout: what each method guarantees holds.

    IG, Guided IG and Blur IG average gradients: equal up to summation order (float64, 1e-10 of the map). IDGI is
    complete under every plan (its sum telescopes to f(x) - f(x') whatever the rounding), and its maps agree within
    the bound its conditioning gives: a step's weights ``g^2 / |g|^2`` are the gradient's direction, which moves by at
    most ``min(2, 4 |dg| / |g|)`` in L1 when the gradient moves by ``dg``, so the maps of two plans differ by at most
    ``sum_j |df_j| min(2, 4 |dg_j| / |g_j|) + |d(df_j)|`` (an inequality, not a first-order estimate). Where a
    step's gradient is tiny, rounding differences of the gradient are amplified: on one CPU the plans agreed to
    1e-14, on another IDGI moved by 2.5% of its maximum while IG agreed to 1e-10; the bound holds on both."""
    torch.manual_seed(1)
    vgg = vgg.double()
    x = torch.rand(3, 3, 16, 16, dtype=torch.float64)
    y = torch.tensor([0, 3, 1])
    for cls, kw in ((IG, {"n_steps": 9}), (GuidedIG, {"n_steps": 6}), (BlurIG, {"n_steps": 7, "max_sigma": 4.0})):
        ref, ref_idgi, f_ref, g_ref, lost_ref = _recorded(cls(vgg, "probability", internal_batch_size=256), x, y, kw,
                                                          monkeypatch)  # fmt: skip
        method = cls(vgg, "probability", internal_batch_size=size, channels_last=channels_last)
        got, got_idgi, f_got, g_got, lost_got = _recorded(method, x, y, kw, monkeypatch)
        name = cls.__name__
        assert (got - ref).abs().max() <= 1e-10 * ref.abs().max(), name
        total = (f_ref[-1] - f_ref[0]).abs()
        for maps, f, lost in ((ref_idgi, f_ref, lost_ref), (got_idgi, f_got, lost_got)):
            assert ((maps.flatten(1).sum(1) + lost - (f[-1] - f[0])).abs() <= 1e-12 * total.clamp_min(1e-300)).all(), (
                name
            )
        df_ref, df_got = f_ref[1:] - f_ref[:-1], f_got[1:] - f_got[:-1]
        g_norm = g_ref.flatten(2).norm(dim=2)
        moved = (g_got - g_ref).flatten(2).norm(dim=2)
        direction = torch.where(g_norm > 0, 4 * moved / g_norm.clamp_min(1e-300), torch.full_like(g_norm, 2.0))
        bound = (df_ref.abs() * direction.clamp(max=2.0) + (df_got - df_ref).abs()).sum(0)
        bound += 1e-12 * df_ref.abs().sum(0)  # the accumulation's own rounding
        assert ((got_idgi - ref_idgi).flatten(1).abs().sum(1) <= bound).all(), name
        assert lost_got.shape == lost_ref.shape == (3,)
