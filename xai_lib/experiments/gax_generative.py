"""Chapter 8's measures of where GAX changes an image: pixel groups by intensity and the ratio of a change on a group
to the change on the middle values (paper sec. 4.3: GAX "seems to be more sensitive to changes in extreme values")."""

from __future__ import annotations

import torch

from xai_lib.gax import GAXResult, gax

#: the absolute thresholds of :func:`absolute_sides` on inputs in [0, 1]
DARK_BELOW, BRIGHT_ABOVE = 0.2, 0.8
#: the fewest values a group of one image needs for its ratio (fewer: NaN, the image is left out)
MIN_VALUES = 20


def absolute_sides(
    x: torch.Tensor, lo: float = DARK_BELOW, hi: float = BRIGHT_ABOVE
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Per channel value of ``x`` (any shape, values in [0, 1]): dark where ``0 < x < lo``, bright where ``x > hi``,
    middle where ``lo <= x <= hi``. Exact zeros are in no group: GAX's ``w`` cannot move there (``h = tanh(w x)``
    has a zero gradient in ``w`` at ``x = 0``)."""
    if not 0.0 < lo < hi < 1.0:
        raise ValueError(f"lo, hi: expected 0 < lo < hi < 1, got {lo!r}, {hi!r}")
    dark, bright = (x > 0) & (x < lo), x > hi
    return dark, bright, (x >= lo) & (x <= hi)


def group_ratio(
    values: torch.Tensor, side: torch.Tensor, middle: torch.Tensor, min_values: int = MIN_VALUES
) -> torch.Tensor:
    """Per image (first dimension): the mean of ``values`` over its ``side`` entries over their mean over its
    ``middle`` entries; NaN where either group has fewer than ``min_values`` entries or the middle's mean is 0."""
    side_f, middle_f = side.flatten(1).to(values.dtype), middle.flatten(1).to(values.dtype)
    v = values.flatten(1)
    n_side, n_middle = side_f.sum(1), middle_f.sum(1)
    on_side = (v * side_f).sum(1) / n_side.clamp_min(1)
    in_middle = (v * middle_f).sum(1) / n_middle.clamp_min(1)
    ratio = on_side / in_middle
    enough = (n_side >= min_values) & (n_middle >= min_values) & (in_middle > 0)
    return torch.where(enough, ratio, torch.full_like(ratio, float("nan")))


#: verdicts of :func:`xai_lib.report.interval_verdict` that decide a direction
DECIDED = ("reproduced", "not reproduced")


def matched_reading(at_target: str, at_matched: str) -> str:
    """What a difference between two GAX runs measured at the target (``at_target``, an interval verdict) becomes when
    both runs are stopped at a matched iteration (``at_matched``): *persists*, *reverses*, *does not persist* (the
    unequal number of steps accounts for part of it), *appears only at a matched iteration* (the unequal steps hid
    it) or *undecided either way*."""
    if at_target in DECIDED:
        if at_matched == at_target:
            return "persists at a matched iteration"
        if at_matched in DECIDED:
            return "reverses at a matched iteration"
        return "does not persist at a matched iteration (the unequal number of steps accounts for part of it)"
    if at_matched in DECIDED:
        return "appears only at a matched iteration (the unequal number of steps hid it)"
    return "is undecided either way"


#: the largest difference of a heatmap value (``h`` in [-1, 1]) allowed between a run stopped at ``stop_at`` and the
#: full run, on an image the cap did not cut. Only rounding differs (float32 batches of other sizes once other images
#: stop sooner), but Adam's steps carry it along: measured 0 on the book's models and up to 1.1e-3 on a model of the
#: seed study. Another path (other settings, a bug) differs by far more.
RERUN_ATOL = 0.05


def stopped_rerun(
    full: GAXResult, model: torch.nn.Module, x: torch.Tensor, y, target_co: float, stop_at: torch.Tensor, **gax_kwargs
) -> GAXResult:
    """GAX again on ``x`` with per-image caps ``stop_at`` (:func:`xai_lib.gax.gax`), checked against the ``full``
    run it repeats: every image whose cap is at or beyond its own stop in ``full`` must stop at the same iteration
    with the same heatmap (within :data:`RERUN_ATOL`), since GAX's path does not depend on when the other images
    stop. Raises ``RuntimeError`` naming the images otherwise: a matched-iteration comparison would then compare
    other paths, not other stopping points."""
    stop_at = torch.as_tensor(stop_at).cpu()
    rerun = gax(model, x, y, target_co, stop_at=stop_at, **gax_kwargs)
    uncut = stop_at >= full.steps.cpu()
    if uncut.any():
        gap = (rerun.heatmaps.cpu() - full.heatmaps.cpu()).flatten(1).abs().amax(1)
        bad = uncut & ((rerun.steps.cpu() != full.steps.cpu()) | ~(gap <= RERUN_ATOL))
        if bad.any():
            raise RuntimeError(
                f"stop_at: the rerun does not reproduce the full run on images {bad.nonzero().flatten().tolist()} "
                f"that no cap cut (largest heatmap difference {float(gap[uncut].max()):.2g}, allowed {RERUN_ATOL:g}; "
                f"steps differ on {int((uncut & (rerun.steps.cpu() != full.steps.cpu())).sum())} of them)"
            )
    return rerun
