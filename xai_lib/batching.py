"""How many inputs per model call, in which memory layout: chosen by measurement, not guessed.

The cost of a path attribution is, at best, its forward and backward passes, and the cost per input of those
passes depends on the batch size and on the memory layout: on a 2-core CPU a call of 16-32 small images costs
2.4 times less per image than a call of 512, and the same convolutions run 1.3-1.5 times faster on
channels-last images; on a GPU the best size is far larger. :func:`calibrate` times a few forward(+backward)
calls at growing batch sizes (8, 16, 32, ...) in both layouts on the actual model, input shape, device and
dtype (each for at least ``min_time`` seconds; the median call counts), stops when a size is clearly worse than
the best, would exceed the memory bound or would not fit in the time budget, measures the close candidates again
alternately (so that the machine's drift during the first pass does not decide), and returns the smallest size
(and the contiguous layout) whose time per input is within ``min_gain`` of the best: a :class:`Plan`. The result
is cached per (model, input shape, device, dtype, backward) for the process.

The time budget (``budget``, default :data:`CALIBRATION_BUDGET` = 10 s, ``XAI_LIB_CALIBRATION_BUDGET``) bounds
what a calibration costs when larger calls keep getting slightly cheaper per input, as they do on a CPU whose
allocator reuses freed memory: unbounded, the `shapes` VGG's calibration explored up to 1,024 inputs per call and
took 34 s (backward) and 32 s (forward only). Half the budget goes to the first pass, shared by the layouts in
turn; a size is tried only if its measurement, predicted from the previous size's time per input, fits in its
layout's share (the first size of the first layout is always measured); the re-measurement rounds run while a whole
round fits in what is left. A slow model (a 224-px network on a laptop's CPU) thus tries few sizes, a fast one (a
GPU) many.

:func:`resolve` is what the methods call: an explicit size wins; ``"auto"`` calibrates; ``None`` takes the
process-wide default: :data:`LIBRARY_DEFAULT` (32 inputs per call, the caller's layout) unless :func:`set_default`
(called by :func:`xai_lib.setup` with a profile) or the environment variable ``XAI_LIB_EVALS_PER_CALL`` (``"32"``,
``"32,channels_last"`` or ``"auto"``; it takes precedence over a profile's choice) chooses another plan or
calibration. A call that names no size therefore never depends on timing unless someone asked for ``"auto"``.

Timing varies between runs and machines, so a calibrated batch size can too; results do not depend on it beyond
floating-point summation order (tested). The book's ``smoke``, ``class`` and ``book`` profiles fix the size they
execute with (``Profile.evals_per_call``), so their committed outputs reproduce bit for bit; ``paper`` calibrates.
"""

from __future__ import annotations

import os
import statistics
import time
import weakref
from collections.abc import Callable, Mapping, Sequence
from typing import NamedTuple, TypeVar

import torch
from torch import nn

from . import settings
from .stopwatch import timed

K = TypeVar("K")


class Plan(NamedTuple):
    """How to call a model: ``size`` inputs per call, in channels-last layout or not (4-D inputs only)."""

    size: int
    channels_last: bool = False

    def layout(self, x: torch.Tensor) -> torch.Tensor:
        """``x`` in the plan's memory layout (values unchanged)."""
        if self.channels_last and x.dim() == 4:
            return x.contiguous(memory_format=torch.channels_last)
        return x


_CACHE: weakref.WeakKeyDictionary[nn.Module, dict[tuple, Plan]] = weakref.WeakKeyDictionary()


def env_default() -> Plan | None:
    """The plan ``XAI_LIB_EVALS_PER_CALL`` fixes (``None``: unset or ``auto``)."""
    value = settings.raw("XAI_LIB_EVALS_PER_CALL")
    if not value or value == "auto":
        return None
    size, _, layout = value.partition(",")
    if not size.isdigit() or int(size) < 1 or layout not in ("", "channels_last"):
        raise ValueError(f"XAI_LIB_EVALS_PER_CALL: expected 'N' or 'N,channels_last' or 'auto', got {value!r}")
    return Plan(int(size), layout == "channels_last")


#: the plan of a call that names no size where neither a profile nor ``XAI_LIB_EVALS_PER_CALL`` chose one: fixed
#: (never timing-based); contiguous, because a model that flattens with ``.view`` fails on channels-last activations
LIBRARY_DEFAULT = Plan(32, False)


def _initial_default() -> Plan | None:
    value = settings.raw("XAI_LIB_EVALS_PER_CALL")
    return None if value == "auto" else env_default() or LIBRARY_DEFAULT


_DEFAULT: Plan | None = _initial_default()


def set_default(size: int | str | None, channels_last: bool = False) -> Plan | None:
    """Fix the plan of every call site that does not choose its own: a size (and layout); ``None``:
    :data:`LIBRARY_DEFAULT`; ``"auto"``: calibrate (returns ``None``)."""
    global _DEFAULT
    if size is None:
        _DEFAULT = LIBRARY_DEFAULT
    elif size == "auto":
        _DEFAULT = None
    elif isinstance(size, bool) or not isinstance(size, int) or size < 1:
        raise ValueError(f"evals_per_call: expected a positive int or 'auto', got {size!r}")
    else:
        _DEFAULT = Plan(size, bool(channels_last))
    return _DEFAULT


def default() -> Plan | None:
    """The process-wide plan (``None``: calibrate)."""
    return _DEFAULT


def _env_number(name: str, default: str, valid: Callable[[float], bool], expected: str) -> float:
    """The number in the environment variable ``name`` (``default`` where unset); a clear error where it is not
    a number or not ``valid``."""
    value = settings.raw(name, default)
    try:
        number = float(value)
    except ValueError:
        number = float("nan")  # not valid for any test below
    if not valid(number):
        raise ValueError(f"{name}: expected {expected}, got {value!r}")
    return number


def _env_memory_fraction() -> float:
    return _env_number("XAI_LIB_MEMORY_FRACTION", "0.25", lambda f: 0.0 < f <= 1.0, "a number in (0, 1]")


def _env_budget() -> float:
    return _env_number("XAI_LIB_CALIBRATION_BUDGET", "10", lambda b: b > 0.0, "a positive number of seconds")


#: the share of free memory (host RAM, or the GPU's free memory) one call may use by default
#: (``XAI_LIB_MEMORY_FRACTION``, default 0.25)
MEMORY_FRACTION = _env_memory_fraction()
SIZES = (8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096)


#: seconds one calibration may spend, about (``XAI_LIB_CALIBRATION_BUDGET``, default 10; ``inf``: no bound)
CALIBRATION_BUDGET = _env_budget()
_clock = time.perf_counter  # the budget's clock (the calls themselves are timed by ``_timed_call``)


def free_memory(device: torch.device) -> int:
    """Free bytes on ``device`` (GPU: ``torch.cuda.mem_get_info``; CPU: available physical memory)."""
    if device.type == "cuda":
        return int(torch.cuda.mem_get_info(device)[0])
    try:
        return int(os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
    except (ValueError, OSError, AttributeError):  # not Linux: assume 4 GiB free
        return 4 << 30


def bytes_per_input(model: nn.Module, example: torch.Tensor, backward: bool = True) -> int:
    """Memory one input needs in a call: the input and every module's output (what autograd keeps for the
    backward pass), doubled for their gradients when ``backward``."""
    total = [example[:1].numel() * example.element_size()]

    def hook(_m, _i, out):
        if torch.is_tensor(out):
            total[0] += out.numel() * out.element_size()

    handles = [m.register_forward_hook(hook) for m in model.modules() if not list(m.children())]
    try:
        with torch.no_grad():
            model(example[:1])
    finally:
        for h in handles:
            h.remove()
    return total[0] * (2 if backward else 1)


def _timed_call(model: nn.Module, x: torch.Tensor, backward: bool) -> float:
    if x.device.type == "cuda":
        torch.cuda.synchronize(x.device)
    t0 = time.perf_counter()
    if backward:
        xg = x.detach().requires_grad_(True)
        with torch.enable_grad():
            out = model(xg)
            (g,) = torch.autograd.grad(out[:, 0].sum(), xg)
        del g
    else:
        with torch.no_grad():
            model(x)
    if x.device.type == "cuda":
        torch.cuda.synchronize(x.device)
    return time.perf_counter() - t0


_MAX_CALLS = 50  # timed calls of one measurement at most, however short they are


def _cost_per_input(model, x: torch.Tensor, backward: bool, min_time: float, repeat: int) -> float:
    """Median time per input of calls on ``x``, after a warm-up, over at least ``repeat`` calls and ``min_time``."""
    _timed_call(model, x, backward)  # warm-up (allocator, kernel selection)
    times: list[float] = []
    while len(times) < repeat or sum(times) < min_time:
        times.append(_timed_call(model, x, backward))
        if len(times) >= _MAX_CALLS:
            break
    return sorted(times)[len(times) // 2] / len(x)


def _filled(example: torch.Tensor, size: int, plan: Plan) -> torch.Tensor:
    """``size`` copies of ``example[0]`` in the plan's layout: a calibration call's input."""
    return plan.layout(example[:1].expand(size, *example.shape[1:]).contiguous())


def confirm(
    first: Mapping[K, Sequence[float]],
    measure: Callable[[K], float],
    within: float,
    rounds: int,
    affords: Callable[[list[K]], bool] | None = None,
) -> dict[K, float]:
    """The candidates whose best first-pass measurement lies within ``within`` (a fraction) of the overall best,
    measured again by ``measure`` round-robin for ``rounds`` rounds (the order reversed every other round), and
    the median of each one's measurements. A shared machine drifts (another process, the CPU's clock) by more
    than the differences between good candidates; measuring them alternately exposes every candidate to the
    same drift, so one lucky measurement does not decide. ``affords(candidates)``, if given, is asked before
    every round and ends the rounds when it says no (a time budget). Used by :func:`calibrate` (time per input
    of a plan) and by the benchmarks' floors (total time of a plan)."""
    if not first:
        raise ValueError("first: expected at least one candidate with its measurements")
    best = min(min(v) for v in first.values())
    close = [k for k, v in first.items() if min(v) <= best * (1 + within)]
    seen = {k: list(first[k]) for k in close}
    for r in range(rounds if len(close) > 1 else 0):
        if affords is not None and not affords(close):
            break
        for k in close[:: 1 if r % 2 else -1]:
            seen[k].append(measure(k))
    return {k: statistics.median(v) for k, v in seen.items()}


def _measured(seconds: dict, plan: Plan, model, example, backward, min_time, repeat) -> float:
    """The time per input of ``plan`` (:func:`_cost_per_input` on ``plan.size`` copies of ``example[0]``), the
    measurement's wall time (on the budget's clock) recorded in ``seconds[plan]``."""
    t0 = _clock()
    try:
        return _cost_per_input(model, _filled(example, plan.size, plan), backward, min_time, repeat)
    finally:
        seconds[plan] = _clock() - t0


def _predicted(cost: float, size: int, repeat: int, min_time: float) -> float:
    """Seconds a measurement at ``size`` takes if a call costs ``cost`` per input: a warm-up call, then
    ``repeat`` calls or ``min_time``, whichever is longer."""
    call = cost * size
    return call + max(repeat * call, min(min_time, _MAX_CALLS * call))


def _costs(
    model, example, backward, limit, repeat, sizes, channels_last, min_time, deadline, seconds
) -> dict[int, float]:
    """Time per input at growing sizes, until a size is clearly worse (by 25%) than the best twice in a row,
    memory runs out, the next measurement would end after ``deadline`` (the first size is always measured) or
    the sizes end. Each measurement's wall time goes to ``seconds[Plan(size, channels_last)]``."""
    costs: dict[int, float] = {}
    worse = 0
    for size in [s for s in sizes if s <= limit] or [limit]:
        if costs and _clock() + _predicted(costs[max(costs)], size, repeat, min_time) > deadline:
            break  # (``max(costs)``: the previous size)
        try:
            costs[size] = _measured(seconds, Plan(size, channels_last), model, example, backward, min_time, repeat)
        except RuntimeError as exc:  # out of memory: the previous size is the largest that fits
            if "out of memory" not in str(exc).lower():
                raise
            if example.device.type == "cuda":
                torch.cuda.empty_cache()
            break
        worse = worse + 1 if costs[size] > 1.25 * min(costs.values()) else 0
        if worse == 2:
            break
    return costs


def calibrate(
    model: nn.Module,
    example: torch.Tensor,
    backward: bool = True,
    memory_bound: int | None = None,
    min_gain: float = 0.03,
    repeat: int = 3,
    sizes: tuple[int, ...] = SIZES,
    min_time: float = 0.05,
    confirm_rounds: int = 2,
    budget: float | None = None,
) -> Plan:
    """The batch size and layout with the best time per input for ``model`` on inputs shaped like
    ``example[0]`` (see the module notes). ``memory_bound``: bytes one call may use (default
    :data:`MEMORY_FRACTION` of the free memory of ``example``'s device). The plans within 25% of the best are
    then measured again alternately for ``confirm_rounds`` rounds (the median counts), so that a machine's drift
    during the first pass does not pick a size that is slower in steady state. ``budget``: about how many
    seconds the calibration may take (default :data:`CALIBRATION_BUDGET`; ``math.inf``: no bound; the module
    notes say how it is spent). It is a bound on what is started, not a hard limit: the first measurement is
    always made, and a measurement predicted to fit may take longer than predicted."""
    device = example.device
    key = (tuple(example.shape[1:]), str(device), example.dtype, backward)
    per_model = _CACHE.setdefault(model, {})
    if key in per_model:
        return per_model[key]
    bound = int(MEMORY_FRACTION * free_memory(device)) if memory_bound is None else int(memory_bound)
    if bound <= 0:
        raise ValueError(f"memory_bound: expected a positive number of bytes, got {memory_bound!r}")
    budget = CALIBRATION_BUDGET if budget is None else float(budget)
    if not budget > 0:
        raise ValueError(f"budget: expected a positive number of seconds, got {budget!r}")
    start = _clock()
    limit = max(1, bound // max(1, bytes_per_input(model, example, backward)))
    layouts = (False, True) if example.dim() == 4 else (False,)
    seconds: dict[Plan, float] = {}
    costs: dict[Plan, float] = {}
    for i, cl in enumerate(layouts):
        if seconds and _clock() + min(seconds.values()) > start + budget:
            break  # not even this layout's smallest size would fit in what is left
        # half the budget for the first pass, shared by the layouts still to measure
        deadline = _clock() + (start + budget / 2 - _clock()) / (len(layouts) - i)
        found = _costs(model, example, backward, limit, repeat, sizes, cl, min_time, deadline, seconds)
        costs.update({Plan(size, cl): cost for size, cost in found.items()})
    # the choice is made among the close candidates only, on their medians: a candidate left out after the first
    # pass keeps a single early measurement, which a machine that slowed down since would make look good
    costs = confirm(
        {k: [c] for k, c in costs.items()},
        lambda plan: _measured(seconds, plan, model, example, backward, min_time, repeat),
        0.25,
        confirm_rounds,
        lambda plans: _clock() + sum(seconds[p] for p in plans) <= start + budget,
    )
    best = min(costs.values())
    # the smallest size (then the contiguous layout) within ``min_gain`` of the best: less memory, same speed
    plan = min(k for k, c in costs.items() if c <= best * (1 + min_gain))
    per_model[key] = plan
    return plan


def resolve(
    value: int | str | None,
    model: nn.Module,
    example: torch.Tensor,
    backward: bool = True,
    channels_last: bool | None = None,
    name: str = "internal_batch_size",
) -> Plan:
    """The plan for a call site: an explicit positive size (layout ``channels_last``, default contiguous); for
    ``None`` the process-wide default (:func:`default`; :data:`LIBRARY_DEFAULT` unless set otherwise); for ``"auto"``,
    or ``None`` where the default is to calibrate, the calibrated plan (its layout unless ``channels_last`` is
    given)."""
    if value is None and _DEFAULT is not None:
        return _DEFAULT if channels_last is None else Plan(_DEFAULT.size, channels_last)
    if value is None or value == "auto":
        plan = calibrate(model, example, backward)
        return plan if channels_last is None else Plan(plan.size, channels_last)
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name}: expected a positive int or 'auto', got {value!r}")
    return Plan(value, bool(channels_last))


def chunks(n: int, size: int):
    """``(start, stop)`` pairs covering ``range(n)`` in pieces of at most ``size``."""
    for start in range(0, n, size):
        yield start, min(n, start + size)


def map_chunks(fn: Callable[[int, int], torch.Tensor], n: int, size: int) -> torch.Tensor:
    """``fn(start, stop)`` for the :func:`chunks` of ``range(n)``, without gradients, concatenated along the first
    axis: the one chunked no-grad forward (:func:`batched_logits`, the methods' outputs, the CO scores)."""
    with torch.no_grad():
        return torch.cat([fn(a, b) for a, b in chunks(n, size)])


def model_device(model: nn.Module) -> torch.device:
    """The device of the model's parameters (or buffers; CPU for a module with neither)."""
    for t in (*model.parameters(), *model.buffers()):
        return t.device
    return torch.device("cpu")


def batched_logits(model: nn.Module, inputs: torch.Tensor, batch_size: int | str | None = None) -> torch.Tensor:
    """Model outputs for ``inputs`` without gradients, on the model's device, returned on CPU; in calls of
    ``batch_size`` inputs (``None``: the process plan; ``"auto"``: a calibrated forward-only plan)."""
    if not len(inputs):
        return torch.empty(0)
    device = model_device(model)
    plan = resolve(batch_size, model, inputs[:1].to(device), backward=False, name="batch_size")
    with timed("model"):
        return map_chunks(lambda a, b: model(plan.layout(inputs[a:b].to(device))).cpu(), len(inputs), plan.size)
