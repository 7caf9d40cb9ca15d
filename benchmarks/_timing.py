"""Timing shared by the benchmarks (run as scripts: ``benchmarks/`` is on ``sys.path``)."""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F

from xai_lib.batching import Plan, confirm


def run_file(name: str) -> Path:
    """``benchmarks/results/<name>-<UTC time>.csv``: each run keeps its own results file (git-ignored); the README
    keeps one current table."""
    return Path(__file__).parent / "results" / f"{name}-{time.strftime('%Y%m%d-%H%M%S', time.gmtime())}.csv"


@dataclass
class Paired:
    """Timings of ours and a peer run alternately: best of each, and the median over pairs of ours / peer."""

    ours_s: float
    ours_out: object
    peer_s: float
    peer_out: object
    ratio: float  # median of the per-pair ratios (robust to the machine's drift between pairs)
    ratio_spread: tuple[float, float]  # lowest and highest per-pair ratio


def interleaved(ours, peer, repeat: int) -> Paired:
    """Time ``ours`` and ``peer`` back to back ``repeat`` times, alternating which runs first (the first run of
    a process pays allocator warm-up, which a fixed order would charge to one side).

    The ratio is the median of the ``repeat`` per-pair ratios: both runs of a pair see the same state of the
    machine (another process, frequency, cache), so the ratio varies far less between runs than the ratio of
    two independent best-ofs (seen here: the same floor's best-of varied by 15% between two calls)."""
    best = {"ours": (float("inf"), None), "peer": (float("inf"), None)}
    ratios = []
    for i in range(repeat):
        pair = {}
        for name, fn in [("ours", ours), ("peer", peer)][:: 1 if i % 2 else -1]:
            t0 = time.perf_counter()
            out = fn()
            pair[name] = time.perf_counter() - t0
            if pair[name] < best[name][0]:
                best[name] = (pair[name], out)
        ratios.append(pair["ours"] / pair["peer"])
    return Paired(*best["ours"], *best["peer"], statistics.median(ratios), (min(ratios), max(ratios)))


class Recorder:
    """Wraps a method's ``grad_fn`` and keeps every batch it sends to the model (inputs and targets): the
    evaluations the floor replays."""

    def __init__(self, method) -> None:
        self.method, self.inputs, self.targets = method, [], []
        self._inner = method.grad_fn

        def grad_fn(x, target):
            self.inputs.append(x.detach().clone())
            self.targets.append(target.detach().clone())
            return self._inner(x, target)

        method.grad_fn = grad_fn

    def stacked(self) -> tuple[torch.Tensor, torch.Tensor]:
        return torch.cat(self.inputs), torch.cat(self.targets)


def replay(model, inputs: torch.Tensor, targets: torch.Tensor, plan: Plan, output: str = "probability",
           group: int | None = None) -> None:  # fmt: skip
    """Forward and backward (to the input) passes of the model on ``inputs``, ``plan.size`` per call in the
    plan's layout: nothing but the model's own work on exactly the evaluations a method made. ``group``: the
    evaluations come in groups of that many consecutive rows that one call may not merge (the steps of a
    sequential method such as Guided IG: each step's points depend on the previous step's gradients)."""
    group = len(inputs) if group is None else group
    for g0 in range(0, len(inputs), group):
        g1 = min(len(inputs), g0 + group)
        for a in range(g0, g1, plan.size):
            b = min(g1, a + plan.size)
            xi = plan.layout(inputs[a:b]).requires_grad_(True)
            with torch.enable_grad():
                out = model(xi)
                if output == "probability":
                    out = F.softmax(out, 1)
                torch.autograd.grad(out.gather(1, targets[a:b, None]).sum(), xi)


def _confirm(timings: dict[Plan, list[float]], run, within: float, rounds: int) -> tuple[float, Plan]:
    """The plan with the lowest median after the plans within ``within`` of the best first-pass time are timed
    again round-robin (:func:`xai_lib.batching.confirm`): a single lucky run on a shared machine must not choose
    the floor's plan (a floor at a plan that is slower in steady state would flatter ours)."""

    def timed(plan: Plan) -> float:
        t0 = time.perf_counter()
        run(plan)
        return time.perf_counter() - t0

    return min((t, plan) for plan, t in confirm(timings, timed, within, rounds).items())


def floor(model, inputs: torch.Tensor, targets: torch.Tensor, output: str = "probability", repeat: int = 2,
          sizes=(8, 16, 32, 64, 128, 256, 512), rounds: int = 2,
          group: int | None = None) -> tuple[float, Plan]:  # fmt: skip
    """The model's floor for the evaluations ``(inputs, targets)``: the best time over batch sizes and memory
    layouts (measured in this run, on this machine; the close candidates measured again alternately, see
    :func:`_confirm`), and the plan that achieved it. ``group``: see :func:`replay` (sizes above it are not
    tried: a call cannot hold more than one group)."""
    timings: dict[Plan, list[float]] = {}
    layouts = (False, True) if inputs.dim() == 4 else (False,)
    if group is not None:
        sizes = sorted({min(size, group) for size in sizes})
    for cl in layouts:
        for size in sizes:
            plan = Plan(size, cl)
            replay(model, inputs[: 2 * size], targets[: 2 * size], plan, output, group)  # warm-up
            for _ in range(repeat):
                t0 = time.perf_counter()
                replay(model, inputs, targets, plan, output, group)
                timings.setdefault(plan, []).append(time.perf_counter() - t0)
    return _confirm(timings, lambda plan: replay(model, inputs, targets, plan, output, group), 0.15, rounds)


class CallRecorder(torch.nn.Module):
    """Wraps a model and counts the inputs of every call that needs a backward pass (grad mode on): what a
    sequential optimiser such as GAX evaluates, iteration by iteration."""

    def __init__(self, model: torch.nn.Module) -> None:
        super().__init__()
        self.model, self.counts = model, []

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if torch.is_grad_enabled():
            self.counts.append(len(x))
        return self.model(x)


def sequential_floor(model, x: torch.Tensor, counts: list[int], sizes=(8, 16, 32, 64), repeat: int = 1,
                     layouts=(False, True), rounds: int = 2) -> tuple[float, Plan]:  # fmt: skip
    """The floor of a sequence of dependent calls (``counts[t]`` inputs at step ``t``; calls of one step may be
    split but never merged with another step's): the best total time over batch sizes and layouts of a
    forward+backward pass per step, on the first ``counts[t]`` rows of ``x`` (close candidates measured again
    alternately, see :func:`_confirm`)."""
    targets = torch.zeros(len(x), dtype=torch.long)

    def run(plan: Plan) -> None:
        for n in counts:
            replay(model, x[:n], targets[:n], plan, "logit")

    timings: dict[Plan, list[float]] = {}
    for cl in layouts if x.dim() == 4 else (False,):
        for size in sizes:
            plan = Plan(size, cl)
            replay(model, x[:size], targets[:size], plan, "logit")  # warm-up
            for _ in range(repeat):
                t0 = time.perf_counter()
                run(plan)
                timings.setdefault(plan, []).append(time.perf_counter() - t0)
    return _confirm(timings, run, 0.15, rounds)
