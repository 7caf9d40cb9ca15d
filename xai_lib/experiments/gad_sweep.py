"""Chapter 4's measures (Rodrigues et al. 2024, GAD, secs. 4.1-4.3 and the future work of sec. 7): how well each
support regression fits its shifted targets (eq-gad-targets), how the kept region of the intersection (eq-gad-mask)
changes as supports are added, the automatic choice of alpha, and the card's claims, with the sentences chosen from
those numbers.

The automatic rule walks the candidate alphas in order and stops at the first support that fails (a) the pooled rank
test (the lower Spearman correlation of its two outputs with the original's, over both classes, at least
``rank_threshold``) or (b) the fit test (point fit at least ``fit_threshold``). Both are point tests: the rule as first
designed. :class:`Rule` also reports where the fits' bootstrap intervals span the threshold and the walk with the rank
test taken inside each class (GAD's premise, the caption of the paper's Fig. 1).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from itertools import product

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch

from .. import report
from ..batching import batched_logits
from ..captum_glue import attributions, unsupported_reason
from ..gad import gad_mask, importance, top_count_mask
from ..gad_glue import GAD_METHODS, gad_maps, share_inside
from ..metrics import hull_complexity
from ..metrics.support_fit import FIT, SHIFT, SPLIT_ONLY, WITHIN, support_fit
from ..plotting import finish, to_hwc
from ..report import printed, shown, span, verdict_with_undecided
from ..stats import paired_comparison
from .gad_tables import per_class_available, rc_summary

#: the fit table's columns, in order
FIT_COLUMNS = [
    "alpha", FIT, "fit CI low", "fit CI high", SHIFT, "shift CI low", "shift CI high", "rank corr a", "rank corr b",
    WITHIN, "within-class CI low", "within-class CI high", SPLIT_ONLY, "MSE to targets", "MSE original to targets",
    "MSE to original outputs",
]  # fmt: skip
#: how the fit table prints
FIT_FORMATS = {
    "alpha": "{:g}", FIT: "{:.4f}", "fit CI low": "{:.3f}", "fit CI high": "{:.3f}", SHIFT: "{:.4f}",
    "shift CI low": "{:.3f}", "shift CI high": "{:.3f}", "rank corr a": "{:.4f}", "rank corr b": "{:.4f}",
    WITHIN: "{:.3f}", "within-class CI low": "{:.3f}", "within-class CI high": "{:.3f}", SPLIT_ONLY: "{:.2f}",
}  # fmt: skip
#: the rule's table (:meth:`Rule.table`) prints as the fit table
RULE_COLUMNS = [
    "alpha", FIT, "fit CI low", "fit CI high", SHIFT, "rank corr a", "rank corr b", "passes", WITHIN,
    "within-class CI low", "within-class CI high", "within-class test",
]  # fmt: skip
RULE_FORMATS = {k: v for k, v in FIT_FORMATS.items() if k in RULE_COLUMNS}
#: the region table's columns
REGION_COLUMNS = ["method", "up to alpha", "image", "kept share", "RC", "inside original"]
#: a pooled rank correlation within this of ``rank_threshold`` at the sweep's end is named a narrow margin
NARROW = 0.01


# --- the supports' fit ----------------------------------------------------------------------------------------------


def fit_table(model, supports: Mapping[float, torch.nn.Module], data, out_a: int, out_b: int, alphas: Sequence[float],
              n_boot: int, seed: int, device) -> pd.DataFrame:  # fmt: skip
    """:func:`~xai_lib.metrics.support_fit.support_fit` of each support of ``alphas`` on ``data`` (the validation
    split), one row per alpha in :data:`FIT_COLUMNS`."""
    rows = []
    for alpha in alphas:
        f = support_fit(model, supports[alpha], data.inputs.to(device), data.targets.to(device), out_a, out_b, alpha,
                        n_boot=n_boot, seed=seed)  # fmt: skip
        rows.append({"alpha": alpha, **f})
    return pd.DataFrame(rows)[FIT_COLUMNS]


def row_of(fits: pd.DataFrame, alpha: float) -> pd.Series:
    """The fit table's row of ``alpha``."""
    return fits[fits.alpha == alpha].iloc[0]


def fit_sentence(fits: pd.DataFrame, top_alpha: float | None, n_val_pair: int) -> str:
    """The fit of the fixed sweep's largest support, with its intervals, in words."""
    if top_alpha is None:
        return report.not_measured("the fixed sweep has no alpha above 0, so no support was asked to move")
    top = row_of(fits, top_alpha)
    return (
        f"At alpha = {top_alpha:g}, the largest of the fixed sweep, the support realises "
        f"{printed(top[SHIFT], '.0%')} of the requested shift; its fit (1 - MSE ratio) is {top[FIT]:.3f} (95% "
        f"interval {top['fit CI low']:.3f} to "
        f"{top['fit CI high']:.3f} over the {n_val_pair} validation images), and the rank correlations of its two "
        f"outputs with the original's, pooled over both classes, are {shown(top['rank corr a'])} and "
        f"{shown(top['rank corr b'])}. Within each class the lowest of them is {shown(top[WITHIN])} (95% interval "
        f"{shown(top['within-class CI low'])} to {shown(top['within-class CI high'])}); the class split alone would "
        f"give about {shown(top[SPLIT_ONLY], '.2f')} pooled."
    )


def rank_prediction(fits: pd.DataFrame, top_alpha: float | None) -> tuple[str | None, str]:
    """The prediction exercise's answer: is the lower pooled rank correlation of the largest support ``"higher"``
    or ``"not higher"`` than its lowest within-class one (None where either is not measured), and the sentence."""
    if top_alpha is None:
        pooled_lower = within = float("nan")
    else:
        top = row_of(fits, top_alpha)
        pooled_lower, within = float(top[["rank corr a", "rank corr b"]].min()), float(top[WITHIN])
    if top_alpha is None or not (np.isfinite(pooled_lower) and np.isfinite(within)):
        return None, report.not_measured(
            "no support with alpha above 0, or a class with fewer than 3 validation images", start=True
        )
    answer = "higher" if pooled_lower > within else "not higher"
    return answer, (
        f"At alpha = {top_alpha:g}, the lower of the two pooled rank correlations, {pooled_lower:.3f}, is "
        f"{answer} than the lowest within-class one, {shown(within)}."
    )


def split_only_level(fits: pd.DataFrame) -> str:
    """The range of the pooled correlation the class split alone gives, over the supports."""
    levels = fits[SPLIT_ONLY].dropna()
    return span(levels, ".2f") if len(levels) else "not measured"


# --- the supports' outputs (paper Fig. 1) ---------------------------------------------------------------------------


def plot_outputs(models: Mapping[str, torch.nn.Module], images: torch.Tensor, labels: torch.Tensor,
                 classes: tuple[int, int], outputs: tuple[int, int], class_names: Sequence[str],
                 path) -> dict[str, np.ndarray]:  # fmt: skip
    """Paper Fig. 1: each image as a point (output a, output b), one panel per model; returns each model's logits."""
    (ca, cb), (out_a, out_b) = classes, outputs
    fig, axes = plt.subplots(1, len(models), figsize=(3.0 * len(models), 3.1), sharex=True, sharey=True)
    axes = np.atleast_1d(axes)
    logits = {}
    for ax, (label, m) in zip(axes, models.items(), strict=True):
        o = batched_logits(m, images).numpy()
        logits[label] = o
        for c, colour in ((ca, "tab:blue"), (cb, "tab:red")):
            sel = (labels == c).numpy()
            ax.scatter(o[sel, out_a], o[sel, out_b], s=4, alpha=0.5, color=colour, label=class_names[c])
        ax.set_title(label, fontsize=9)
        ax.set_xlabel(f"output {class_names[ca]}", fontsize=8)
    axes[0].set_ylabel(f"output {class_names[cb]}", fontsize=8)
    axes[0].legend(fontsize=7, markerscale=3)
    finish(fig, path)
    return logits


def moved_sentence(logits: Mapping[str, np.ndarray], labels: torch.Tensor, classes: tuple[int, int],
                   outputs: tuple[int, int], names: tuple[str, str], alpha: float | None) -> str:  # fmt: skip
    """How far the support of ``alpha`` moved each output of each class on average (``logits``: per model, as
    :func:`plot_outputs` returns them), against the shift asked for."""
    if alpha is None:
        return report.not_measured("the fixed sweep has no support with alpha above 0")
    original, support = logits["original"], logits[f"alpha = {alpha:g}"]
    (ca, cb), (out_a, out_b) = classes, outputs
    is_a, is_b = (labels == ca).numpy(), (labels == cb).numpy()
    move_ab = float((support[is_a, out_b] - original[is_a, out_b]).mean())  # output b of the class-a images
    move_ba = float((support[is_b, out_a] - original[is_b, out_a]).mean())  # output a of the class-b images
    own_a = float((support[is_a, out_a] - original[is_a, out_a]).mean())
    own_b = float((support[is_b, out_b] - original[is_b, out_b]).mean())
    return (
        f"On the {len(labels)} test images of the pair, the alpha = {alpha:g} support moves output "
        f"{names[1]} of the {names[0]} images by {move_ab:+.2f} on average and output {names[0]} of the {names[1]} "
        f"images by {move_ba:+.2f} (asked: {-alpha:+g} each); their own outputs move by {own_a:+.2f} and "
        f"{own_b:+.2f} (asked: 0)."
    )


# --- the kept region as supports are added (eq-gad-mask) ------------------------------------------------------------


def runnable_methods(model, images: torch.Tensor) -> tuple[list[str], dict[str, str]]:
    """The GAD methods captum can run on ``model`` and, for the others, why not."""
    methods, skipped = [], {}
    for method in GAD_METHODS:
        reason = unsupported_reason(model, method, images)
        if reason is None:
            methods.append(method)
        else:
            skipped[method] = reason
    return methods, skipped


class Region:
    """The maps of the original and of every support (``sweep_alphas``) on the sweep images, each attributed for its
    own class, and the kept share and RC of GAD as supports are added (``table``: one row per method, largest alpha
    used and image; ``up to alpha`` 0 is the original alone)."""

    def __init__(self, model, supports: Mapping[float, torch.nn.Module], images: torch.Tensor, labels: torch.Tensor,
                 classes: tuple[int, int], output_of, methods: Sequence[str], sweep_alphas: Sequence[float],
                 keep: float, n_steps: int) -> None:  # fmt: skip
        self.methods, self.sweep_alphas, self.keep = list(methods), list(sweep_alphas), keep
        self.maps: dict[tuple[str, object], torch.Tensor] = {}  # (method, alpha or "original") -> (N, C, H, W)
        for method in self.methods:
            for key, m in [("original", model), *((a, supports[a]) for a in self.sweep_alphas)]:
                self.maps[method, key] = torch.cat([attributions(m, images[labels == c], method, output_of(c),
                                                                 n_steps=n_steps).cpu() for c in classes])  # fmt: skip
        self.order = torch.cat([torch.nonzero(labels == c).flatten() for c in classes]).cpu()  # the maps' row order
        ladder = [(upto, [a for a in self.sweep_alphas if a <= upto]) for upto in [0.0, *self.sweep_alphas]]
        self.table = self._rows(ladder)

    def mask(self, method: str, i: int, used: Sequence[float]) -> torch.Tensor:
        """The GAD mask (eq-gad-mask) of image ``i`` with the supports in ``used``."""
        return gad_mask(self.maps[method, "original"][i], [self.maps[method, a][i] for a in used], self.keep)

    def _rows(self, ladder: Sequence[tuple[float, Sequence[float]]]) -> pd.DataFrame:
        """One row per method, (largest alpha, supports used) of ``ladder`` and image."""
        rows = []
        for method, (up_to, used), i in product(self.methods, ladder, range(len(self.order))):
            g, o = self.mask(method, i, used), self.mask(method, i, [])
            rows.append({"method": method, "up to alpha": up_to, "image": int(self.order[i]),
                         "kept share": float(g.float().mean()), "RC": hull_complexity(g, o) if g.any() else np.nan,
                         "inside original": not bool((g & ~o).any())})  # fmt: skip
        return pd.DataFrame(rows, columns=REGION_COLUMNS)

    def exact(self, used: Sequence[float]) -> pd.DataFrame:
        """The region rows of GAD with exactly the supports in ``used`` (a sweep need not hold every support up to
        its largest alpha: ``alphas="0,4,8"`` leaves out the candidates 2 and 6)."""
        up_to = max(used, default=0.0)
        if [a for a in self.sweep_alphas if a <= up_to] == sorted(used):
            return self.table[self.table["up to alpha"] == up_to]  # the ladder's row holds exactly those supports
        return self._rows([(up_to, used)])

    def kept_with(self, method: str, used: Sequence[float]) -> float:
        """Mean kept share of the sweep images when GAD intersects the original with the supports in ``used``."""
        return float(np.mean([float(self.mask(method, i, used).float().mean()) for i in range(len(self.order))]))

    def mean_kept(self) -> dict[str, pd.Series]:
        """Per method, the mean kept share by the largest alpha used."""
        return {m: g.groupby("up to alpha")["kept share"].mean() for m, g in self.table.groupby("method", sort=False)}

    def original_kept(self) -> pd.Series:
        """Per method, the mean share of the image the original's important pixels cover."""
        return self.table[self.table["up to alpha"] == 0.0].groupby("method", sort=False)["kept share"].mean()

    def plot(self, top_alpha: float | None, path) -> None:
        """Mean kept share and mean RC per method against the largest alpha used (the fixed sweep's end dashed)."""
        fig, axes = plt.subplots(1, 2, figsize=(10, 3.6))
        for method, g in self.table.groupby("method", sort=False):
            mean = g.groupby("up to alpha")[["kept share", "RC"]].mean()
            axes[0].plot(mean.index, mean["kept share"], "o-", label=method, ms=3)
            axes[1].plot(mean.index, mean["RC"], "o-", label=method, ms=3)
        axes[0].set_ylabel("share of the image kept")
        axes[1].set_ylabel("mean RC (hull GAD / hull original)")
        for ax in axes:
            ax.set_xlabel("supports used: alpha up to")
            if top_alpha is not None:
                ax.axvline(top_alpha, color="0.6", ls="--", lw=0.8)
        axes[1].legend(fontsize=7)
        finish(fig, path)

    def plot_fig3(self, image: torch.Tensor, fixed_pos: Sequence[float], path) -> None:
        """Paper Fig. 3 for the first sweep image: per method, the original's and each support's importance (top
        ``keep`` share outlined), then the GAD map."""
        cols = 2 + len(fixed_pos) + 1
        fig, axes = plt.subplots(len(self.methods), cols, figsize=(1.55 * cols, 1.6 * len(self.methods)),
                                 squeeze=False)  # fmt: skip
        for r, method in enumerate(self.methods):
            axes[r, 0].imshow(to_hwc(image), cmap="gray")
            axes[r, 0].set_ylabel(method[:14], fontsize=7)
            panels = [("original", self.maps[method, "original"][0])]
            panels += [(f"α={a:g}", self.maps[method, a][0]) for a in fixed_pos]
            for c, (title, attr) in enumerate(panels, start=1):
                axes[r, c].imshow(importance(attr).numpy(), cmap="magma")
                axes[r, c].contour(gad_mask(attr, [], self.keep).numpy().astype(float), levels=[0.5], colors="cyan",
                                   linewidths=0.4)  # fmt: skip
                if r == 0:
                    axes[r, c].set_title(title, fontsize=7)
            g = self.mask(method, 0, fixed_pos)
            axes[r, -1].imshow((importance(self.maps[method, "original"][0]) * g).numpy(), cmap="magma")
            if r == 0:
                axes[r, -1].set_title("GAD", fontsize=7)
        for ax in axes.flat:
            ax.set_xticks([])
            ax.set_yticks([])
        finish(fig, path)


def rc_stats(part: pd.DataFrame) -> pd.DataFrame:
    """Per method: mean kept share; over the images with a GAD hull, the share with RC < 1, the mean RC and the median
    shrink 1 - RC; and the number of empty GAD masks (no hull, left out of RC) (:func:`gad_tables.rc_summary`)."""
    t = rc_summary(part.groupby("method", sort=False), **{"kept share": ("kept share", "mean")})
    return t.rename(columns={"share RC < 1": "RC < 1 share"})[["kept share", "RC < 1 share", "mean RC", "median shrink",
                                                                "empty"]]  # fmt: skip


def region_study(region: Region, fixed_pos: Sequence[float]) -> dict:
    """What the kept-region section reports: per method at exactly the fixed sweep (``per_method``), the original's
    kept share, the methods whose mean kept share falls strictly with every added support (``strict``), and the
    masks with at least one support inside the original's (``n_inside`` of ``n_maps``; the ladder's first step, alpha 0,
    is the original itself and inside it trivially). Asserts eq-gad-mask's guarantees on every mask."""
    table = region.table
    at_fixed = region.exact(list(fixed_pos)) if fixed_pos else table.iloc[:0]
    per_method = rc_stats(at_fixed).reset_index()
    original_kept = region.original_kept()
    per_method.insert(1, "original kept share", per_method.method.map(original_kept))
    mean_kept = region.mean_kept()
    strict = [m for m, v in mean_kept.items() if len(v) > 1 and bool((np.diff(v.to_numpy()) < 0).all())]
    with_support = table[table["up to alpha"] > 0]
    n_inside, n_maps = int(with_support["inside original"].sum()), len(with_support)
    assert bool(table["inside original"].all()), "a GAD mask holds a pixel outside the original's important pixels"
    assert (table.RC.dropna() <= 1 + 1e-9).all(), "a GAD hull larger than the original's"  # follows from eq-gad-mask
    return {"per_method": per_method, "original_kept": original_kept, "mean_kept": mean_kept, "strict": strict,
            "n_inside": n_inside, "n_maps": n_maps}  # fmt: skip


def region_sentence(study: dict, region: Region, top_alpha: float | None) -> str:
    """The kept share and RC with the fixed sweep, and the guarantees checked, in words."""
    per_method = study["per_method"]
    if not len(per_method):
        return report.not_measured(
            "no support with alpha above 0 in the fixed sweep"
            if top_alpha is None
            else "no method could run on this model"
        )
    measured = per_method[per_method["RC < 1 share"].notna()]
    n_empty = int(per_method["empty"].sum())
    rc_text = (
        f"RC, which cannot exceed 1 (the GAD hull lies inside the original's), is below 1 for "
        f"{span(measured['RC < 1 share'], '.0%')} of the images with a GAD hull, and the hull shrinks by a median "
        f"{span(measured['median shrink'], '.1%')} of its area (1 - RC, per method)"
        if len(measured) else f"RC is {report.not_measured('every GAD mask is empty')}"
    )  # fmt: skip
    return (
        f"The original's important pixels (its top {region.keep:.0%}, ties included, zero-importance pixels left out) "
        f"cover {span(study['original_kept'], '.2f')} of the image (per method); with the "
        f"fixed sweep (supports up to alpha = {top_alpha:g}) GAD keeps {span(per_method['kept share'], '.2f')}. "
        f"{rc_text}; {report.numbered(n_empty, 'GAD mask is', 'GAD masks are') if n_empty else 'no GAD mask is'} "
        f"empty. Every GAD mask lies inside the original's "
        f"({study['n_inside']} of {study['n_maps']} masks with at least one support checked), as the intersection "
        "guarantees; the mean kept "
        f"share falls strictly with every added support (up to alpha = {max(region.sweep_alphas):g}) for "
        f"{report.counted(len(study['strict']), len(study['mean_kept']), 'methods')}."
    )


# --- the automatic rule ---------------------------------------------------------------------------------------------


class Rule:
    """The automatic choice of alpha on a fit table: ``fits`` gains the rule's test columns (``rank ok``, ``fit ok``,
    ``passes``, ``lowest rank corr``) and the within-class test by its interval; ``selected`` is the walk's sweep and
    ``first_fail`` the candidate where it stops (None: it accepts every candidate)."""

    def __init__(self, fits: pd.DataFrame, candidates: Sequence[float], rank_threshold: float,
                 fit_threshold: float) -> None:  # fmt: skip
        if list(candidates) != sorted(set(candidates)):
            raise ValueError(
                f"candidates: expected strictly increasing alphas (the rule walks them in order), got "
                f"{list(candidates)}"
            )
        fits = fits.copy()
        # a NaN correlation (a constant output) fails the rank test: the lower of the two is NaN then
        fits["lowest rank corr"] = fits[["rank corr a", "rank corr b"]].min(axis=1, skipna=False)
        fits["rank ok"] = fits["lowest rank corr"] >= rank_threshold
        fits["fit ok"] = fits[FIT] >= fit_threshold
        fits["passes"] = fits["rank ok"] & fits["fit ok"]
        # GAD's premise, inside each class: the lowest within-class correlation against rank_threshold, by its interval
        bounds = zip(fits["within-class CI low"], fits["within-class CI high"], strict=True)
        fits["within-class test"] = [report.interval_verdict(lo, hi, rank_threshold, "above") for lo, hi in bounds]
        self.fits, self.candidates = fits, list(candidates)
        self.rank_threshold, self.fit_threshold = rank_threshold, fit_threshold
        self.selected = self.walk(fits["passes"])
        self.first_fail = next((a for a in self.candidates if a not in self.selected), None)

    def walk(self, passes: pd.Series) -> list[float]:
        """The candidates in order, up to (not including) the first whose support fails (``passes``: per fit row)."""
        chosen = []
        for alpha in self.candidates:
            if not bool(passes[self.fits.alpha == alpha].iloc[0]):
                break
            chosen.append(alpha)
        return chosen

    def walk_with_fit(self, fit_min: float) -> list[float]:
        """The walk with the fit test at ``fit_min`` (the rank test unchanged)."""
        return self.walk(self.fits["rank ok"] & (self.fits[FIT] >= fit_min))

    def _failures(self, alpha: float, fit_min: float | None) -> list[tuple[str, str]]:
        """The rule's tests (the fit test with ``fit_min``, default ``fit_threshold``) that the support of ``alpha``
        fails: each test's name and its measured value against its threshold."""
        fit_min = self.fit_threshold if fit_min is None else fit_min
        row = row_of(self.fits, alpha)
        failed = []
        if not row["rank ok"]:
            failed.append(("the rank test", f"the rank test (pooled over both classes: rank correlation "
                           f"{shown(row['lowest rank corr'])} against rank_threshold {self.rank_threshold:g}; within a "
                           f"class its lowest is {shown(row[WITHIN])})"))  # fmt: skip
        if not row[FIT] >= fit_min:
            failed.append(("the fit test", f"the fit test (fit {row[FIT]:.3f} against the threshold {fit_min:g})"))
        return failed

    def failed_tests(self, alpha: float, fit_min: float | None = None) -> str:
        """Which of the rule's tests the support of ``alpha`` fails, in words ("no test" when it passes both)."""
        return " and ".join(name for name, _ in self._failures(alpha, fit_min)) or "no test"

    def failed_measures(self, alpha: float, fit_min: float | None = None) -> str:
        """The failed tests of the support of ``alpha`` with the measured value against its threshold, in words."""
        return " and ".join(text for _, text in self._failures(alpha, fit_min)) or "no test"

    def trend(self, column: str, label: str) -> str:
        """How ``column`` (a fit measure) moves over the candidates above 0, in words, with its values."""
        values = self.fits.set_index("alpha").loc[[a for a in self.candidates if a > 0], column]
        listed = ", ".join(f"{v:.3f}" for v in values)
        if len(values) > 1 and bool((np.diff(values.to_numpy()) < 0).all()):
            return f"the {label} falls with every larger alpha ({listed})"
        return f"the {label} does not fall with every larger alpha ({listed})"

    @property
    def selects_nothing(self) -> bool:
        """The rule selects no support beyond the original."""
        return not any(a > 0 for a in self.selected)

    def table(self) -> pd.DataFrame:
        """The rule's tests per candidate, beside the within-class test by its interval."""
        return self.fits[self.fits.alpha.isin(self.candidates)][RULE_COLUMNS]

    def stop_sentence(self) -> str:
        """Where the walk stops and which test stopped it, with the trend of the failing measure."""
        first_fail, selected = self.first_fail, self.selected
        if first_fail is None:
            return (
                f"The automatic rule accepts every candidate, up to alpha = {max(self.candidates):g}: no support fails "
                "a test, so larger candidates could be tried."
            )
        start = (
            "The automatic rule selects no support beyond the original: the first candidate above 0, alpha = "
            f"{first_fail:g}, fails {self.failed_measures(first_fail)}"
            if self.selects_nothing else
            f"The automatic rule extends the sweep up to alpha = {max(selected):g} and stops at alpha = "
            f"{first_fail:g}, which fails {self.failed_measures(first_fail)}"
        )  # fmt: skip
        row = row_of(self.fits, first_fail)
        measures = ([self.trend(FIT, "fit")] if not row["fit ok"] else []) + (
            [self.trend("lowest rank corr", "lower rank correlation")] if not row["rank ok"] else []
        )
        return f"{start}; {'; '.join(measures)}." if measures else f"{start}."

    def noise_sentence(self) -> str:
        """Where the rule could stop within the fits' intervals: the walk with every fit at its interval's lower end
        (the shortest sweep the data allow) and at its upper end (the longest); the rank test as the rule has it."""
        fits, selected, first_fail, fit_threshold = self.fits, self.selected, self.first_fail, self.fit_threshold
        shortest = self.walk(fits["rank ok"] & (fits["fit CI low"] >= fit_threshold))
        longest = self.walk(fits["rank ok"] & (fits["fit CI high"] >= fit_threshold))
        end = max(selected) if first_fail is None else first_fail
        walked = [a for a in self.candidates if 0 < a <= end]
        spanning = [a for a in walked
                    if report.interval_verdict(*fits.loc[fits.alpha == a, ["fit CI low", "fit CI high"]].iloc[0],
                                               fit_threshold, "above") == "inconclusive"]  # fmt: skip

        def upto(sweep):
            return f"alpha = {max(sweep):g}" if sweep else "no alpha"

        # the rank test is a point test (no interval): how near its threshold the walked candidates pass is not a
        # noise bound
        rank_note = (
            "the rank test is a point test, so whether its passes lie within the noise of the images is not measured"
        )
        if not walked:
            return ""
        if not spanning:
            decided = (f"The fits' 95% intervals decide every candidate the rule walks (none spans fit_threshold "
                       f"{fit_threshold:g})")  # fmt: skip
            if first_fail is None:
                return f"{decided}; {rank_note}."
            stop_row = row_of(fits, first_fail)
            if not stop_row["fit ok"]:  # not spanning and failed: its fit interval lies wholly below the threshold
                return (f"{decided}: the stop at alpha = {first_fail:g} is decided by a fit whose interval lies wholly "
                        f"below the threshold; {rank_note}.")  # fmt: skip
            return (f"{decided}; the stop at alpha = {first_fail:g} is decided by the rank test (lowest rank "
                    f"correlation {stop_row['lowest rank corr']:.4f} against rank_threshold {self.rank_threshold:g}), "
                    f"and {rank_note}.")  # fmt: skip
        listed = ", ".join(f"{a:g}" for a in spanning)
        if shortest != longest:
            return (
                f"By their 95% intervals the fits of alpha = {listed} span fit_threshold {fit_threshold:g}: "
                f"{'that support is' if len(spanning) == 1 else 'those supports are'} undecided by the fit test, and "
                f"the validation images allow a sweep up to anything from {upto(shortest)} to {upto(longest)} (the "
                "walk with every fit at the lower end, then at the upper end of its interval); the rule's point test "
                f"picks {upto(selected)}."
            )
        return (
            f"By their 95% intervals the fits of alpha = {listed} span fit_threshold {fit_threshold:g}, but the walk "
            "ends at the same place with every fit at either end of its interval."
        )

    def within_sentence(self) -> str:
        """Whether the selected supports keep the order within each class (GAD's premise), and the walk with the rank
        test taken inside each class."""
        fits, selected, rank_threshold = self.fits, self.selected, self.rank_threshold
        chosen_pos = fits[fits.alpha.isin([a for a in selected if a > 0])]
        below_within = chosen_pos[chosen_pos["within-class test"] != "reproduced"]
        if not len(chosen_pos):
            return "No support above alpha 0 is selected, so none is used with a weak order."
        if not len(below_within):
            return (
                f"The rule's rank test pools both classes; within each class too, every selected support keeps the "
                f"order (the lowest within-class correlation, {shown(chosen_pos[WITHIN].min())}, lies above "
                f"rank_threshold {rank_threshold:g} by its interval)."
            )
        listed = "; ".join(
            f"alpha {r.alpha:g}: {shown(r[WITHIN])}, interval {shown(r['within-class CI low'])} to "
            f"{shown(r['within-class CI high'])}" + (" (spans it)" if r["within-class test"] == "inconclusive" else "")
            for _, r in below_within.iterrows()
        )  # fmt: skip
        outcomes = below_within["within-class test"].value_counts()
        words = {"not reproduced": ("lies below it", "lie below it"), "inconclusive": ("spans it", "span it"),
                 "not comparable": ("has no interval", "have no interval")}  # fmt: skip
        parts = [f"{n} {words[k][n != 1]}" for k in words if (n := int(outcomes.get(k, 0)))]
        # the same walk with the rank test taken inside each class (GAD's premise), by point value like the rule's
        if fits[WITHIN].notna().all():
            within_walk = self.walk((fits[WITHIN] >= rank_threshold) & fits["fit ok"])
            within_rule = (
                f"With the rank test taken within each class instead (the same point test, the same threshold), the "
                f"rule would select {within_walk}"
                + (" as well." if within_walk == selected else
                   f", not {selected}: the pooled test is the "
                   + ("weaker" if len(within_walk) < len(selected) else "stricter") + " one here, and the card judges "
                   "the order within each class.")
            )  # fmt: skip
        else:
            within_rule = (
                "The rule with the rank test taken within each class is "
                + report.not_measured("a within-class correlation could not be computed (a class has fewer than 3 "
                                      "validation images)") + "."
            )  # fmt: skip
        return (
            f"The rule's rank test pools both classes, where the class split alone gives about "
            f"{shown(chosen_pos[SPLIT_ONLY].mean(), '.2f')}; within a class, of the "
            f"{report.numbered(len(chosen_pos), 'selected support', 'selected supports')} above alpha 0, judged "
            f"against rank_threshold {rank_threshold:g} by their interval, "
            f"{' and '.join(parts)} "
            f"(lowest within-class correlation: {listed}). {within_rule}"
        )

    def sentence(self) -> str:
        """The rule's stop, its noise and the within-class order, in words."""
        return " ".join(t for t in (self.stop_sentence(), self.noise_sentence(), self.within_sentence()) if t)

    def beyond_sentence(self, region: Region) -> str:
        """What the supports beyond the selected sweep still remove."""
        upto_selected = max([a for a in self.selected if a > 0], default=0.0)
        beyond = [a for a in region.sweep_alphas if a > upto_selected]
        mean_kept = region.mean_kept()
        if not beyond:
            return "No support lies beyond the selected sweep."
        if not mean_kept:
            return "What the supports beyond the selected sweep add is " + report.not_measured(
                "no method's maps were computed") + "."  # fmt: skip
        with_selected = region.exact([a for a in self.selected if a > 0]).groupby("method", sort=False)["kept share"]
        with_selected = with_selected.mean()
        kept_at = {m: (float(with_selected[m]), float(v[max(beyond)])) for m, v in mean_kept.items()}
        n_lower = sum(after < before for before, after in kept_at.values())
        if self.first_fail is not None:
            stop_row = row_of(self.fits, self.first_fail)
            first = (
                f"At alpha = {self.first_fail:g}, where the rule stops, the support realises "
                f"{printed(stop_row[SHIFT], '.0%')} of its shift (fit {stop_row[FIT]:.3f}, interval "
                f"{stop_row['fit CI low']:.3f} to "
                f"{stop_row['fit CI high']:.3f}). "
            )
        else:
            first = "The rule stops at no candidate; the fixed sweep goes further. "
        return (
            f"{first}Adding the supports beyond the selected sweep, up to alpha = {max(beyond):g}, still lowers the "
            f"mean kept share for {report.counted(n_lower, len(kept_at), 'methods')} (mean kept share per method: "
            f"{span([b for b, _ in kept_at.values()], '.2f')} with the selected sweep, "
            f"{span([a for _, a in kept_at.values()], '.2f')} with every support)."
        )

    def advice(self, config, n_train: int) -> str:
        """What to change when the supports do not fit (``config``: their SupportConfig; ``n_train``: the training
        images per class they used)."""
        if not any(a > 0 for a in self.candidates):
            return "No candidate alpha above 0 was given: add some to candidate_alphas."
        if not self.selects_nothing:
            return (
                f"On this run the rule accepts the supports up to alpha = {max(self.selected):g}, trained for "
                f"{config.epochs} epochs at lr {config.lr:g} on {n_train} training images per class"
                + self._within_note()
                + ". On a model whose supports fail the fit test, train them longer (support_epochs), with a larger "
                "step (support_lr) or on more images (train_per_class); where they fail the rank test, try smaller "
                "alphas."
            )
        row = row_of(self.fits, self.first_fail)
        advice = (
            f"On this run the first support, alpha = {self.first_fail:g}, fails {self.failed_tests(self.first_fail)} "
            f"(fit {row[FIT]:.2f}, shift realised {printed(row[SHIFT], '.0%')}, rank correlations "
            f"{shown(row['rank corr a'])} and {shown(row['rank corr b'])})."
        )
        if not row["fit ok"]:
            advice += (
                " A support far from its targets has maps close to the original's, and GAD then keeps nearly the "
                f"original's pixels: train the supports longer (support_epochs, now {config.epochs}), with a larger "
                f"step (support_lr, now {config.lr:g}) or on more images (train_per_class: these supports used "
                f"{n_train} training images per class)."
            )
        if not row["rank ok"]:
            advice += (
                " A support that reorders the samples breaks GAD's premise (same order, larger distance): try smaller "
                f"alphas in candidate_alphas or a smaller step (support_lr, now {config.lr:g})."
            )
        return advice

    def _within_note(self) -> str:
        """Which selected supports do not keep the order inside each class (GAD's premise; the rule's rank test is
        pooled over both classes, which the class split alone raises): ``""`` when every one does."""
        rows = self.fits[self.fits.alpha.isin(self.selected) & (self.fits.alpha > 0)]
        if WITHIN not in rows or not len(rows):
            return ""
        below = rows[rows["within-class test"] == "not reproduced"]
        if not len(below):
            return ""
        listed = report.listed(f"alpha {r.alpha:g} ({r[WITHIN]:.3f})" for _, r in below.iterrows())
        return (f"; but inside each class, GAD's premise, {listed} "
                f"{'falls' if len(below) == 1 else 'fall'} below rank_threshold {self.rank_threshold:g} by the 95% "
                "interval of the lowest within-class rank correlation: the rule's pooled test accepts "
                f"{'it' if len(below) == 1 else 'them'}")  # fmt: skip

    def loose_answer(self, loose_fit: float) -> tuple[list[float], float | None, str]:
        """Exercise 1: the sweep with the fit test at ``loose_fit``, where it stops, and the answer in words (with a
        narrow margin of the pooled rank test at the sweep's end named)."""
        reach = self.walk_with_fit(loose_fit)
        selected = self.selected
        stop = next((a for a in self.candidates if a not in reach), None)
        if len(reach) > len(selected):
            more = len(reach) - len(selected)
            text = (f"The looser fit test admits {report.numbered(more, 'more alpha', 'more alphas')}: the sweep now "
                    f"goes up to alpha = {max(reach):g}")  # fmt: skip
        elif len(reach) == len(selected):
            text = "The looser fit test admits no larger alpha: the sweep is the same"
        else:
            text = f"Here the looser threshold is the stricter one: the sweep stops earlier, with {reach}"
        if stop is None:
            text += ", and no candidate fails."
        else:
            text += f"; it stops at alpha = {stop:g}, which fails {self.failed_measures(stop, loose_fit)}."
        # the rank test is a point test (no interval): a margin below NARROW on either side of the sweep's end
        for a_end, side in ((max(reach) if reach else None, "passes"), (stop, "fails")):
            if a_end is None:
                continue
            lowest_rank = float(row_of(self.fits, a_end)["lowest rank corr"])
            margin = abs(lowest_rank - self.rank_threshold)
            if (lowest_rank >= self.rank_threshold) == (side == "passes") and margin <= NARROW:
                text += (f" Alpha = {a_end:g} {side} the rank test by {margin:.4f}, within {NARROW:g} of "
                         "rank_threshold: a narrow margin that another training could move.")  # fmt: skip
        return reach, stop, text


def sweeps_compared(region: Region, fixed: Sequence[float], selected: Sequence[float]) -> pd.DataFrame:
    """:func:`rc_stats` of the fixed sweep and of the automatic one, one block each."""
    return pd.concat([rc_stats(region.exact([a for a in sweep if a > 0])).assign(sweep=f"{label} {list(sweep)}")
                      for sweep, label in ((fixed, "fixed"), (selected, "automatic"))])  # fmt: skip


# --- the card -------------------------------------------------------------------------------------------------------


def passing(part: pd.DataFrame, column: str) -> str:
    """``k of n pass (alpha ...)`` for the supports in ``part``, or not measured."""
    if not len(part):
        return report.not_measured("no such support")
    alphas_txt = ", ".join(f"{a:g}" for a in part.alpha)
    return f"{report.counted(int(part[column].sum()), len(part))} pass (alpha {alphas_txt})"


class Card:
    """The card's tests on the supports of the fixed sweep (``fixed_pos``): the fit test by each fit's interval and
    the order test within each class by its interval; ``beyond`` are the other supports above 0."""

    def __init__(self, rule: Rule, fixed_pos: Sequence[float]) -> None:
        fits = rule.fits
        self.rule = rule
        self.sweep = fits[fits.alpha.isin(fixed_pos)]
        self.beyond = fits[(fits.alpha > 0) & ~fits.alpha.isin(fixed_pos)]
        sweep = self.sweep
        fit_by_interval = pd.Series([report.interval_verdict(lo, hi, rule.fit_threshold, "above") for lo, hi in
                                     zip(sweep["fit CI low"], sweep["fit CI high"], strict=True)],
                                    index=sweep.index, dtype=object)  # fmt: skip
        self.n_fit_pass = int((fit_by_interval == "reproduced").sum())
        self.n_fit_open = int((fit_by_interval == "inconclusive").sum())
        # the order claim, judged where the paper places it: inside each class (the lowest within-class rank
        # correlation of each support against rank_threshold, by its bootstrap interval)
        self.n_order_pass = int((sweep["within-class test"] == "reproduced").sum())
        self.n_order_open = int((sweep["within-class test"] == "inconclusive").sum())
        self.n_order_fail = int((sweep["within-class test"] == "not reproduced").sum())
        # a support without an interval is not counted
        self.n_order_measured = self.n_order_pass + self.n_order_open + self.n_order_fail

    def fit_ours(self) -> str:
        sweep = self.sweep
        if not len(sweep):
            return report.not_measured("no support in the fixed sweep")
        lowest = sweep.loc[sweep[FIT].idxmin()]
        return (
            f"fixed sweep: fit {span(sweep[FIT], '.3f')}, shift realised {span(sweep[SHIFT], '.2f')}; by the "
            f"95% interval, {self.n_fit_pass} above fit_threshold, {self.n_fit_open} spanning it, "
            f"{len(sweep) - self.n_fit_pass - self.n_fit_open} below (lowest fit: alpha {lowest.alpha:g}, "
            f"{lowest[FIT]:.3f}, interval {lowest['fit CI low']:.3f} to {lowest['fit CI high']:.3f}); beyond it (point "
            f"fits): {passing(self.beyond, 'fit ok')}"
        )

    def order_ours(self) -> str:
        sweep = self.sweep
        if not len(sweep):
            return report.not_measured("no support in the fixed sweep")
        return (
            "fixed sweep, within each class: lowest rank corr "
            + ", ".join(f"{shown(r[WITHIN])} (alpha {r.alpha:g})" for _, r in sweep.iterrows())
            + f"; by the 95% interval, {self.n_order_pass} above rank_threshold, {self.n_order_open} spanning it, "
            f"{self.n_order_fail} below"
            + (f", {len(sweep) - self.n_order_measured} without an interval (not counted)"
               if self.n_order_measured < len(sweep) else "")
            + "; pooled over both classes (the automatic rule's test): rank corr >= "
            f"{sweep[['rank corr a', 'rank corr b']].min().min():.3f}, {passing(sweep, 'rank ok')}, "
            f"where the class split alone gives about {shown(sweep[SPLIT_ONLY].mean(), '.2f')}; beyond it (pooled): "
            f"{passing(self.beyond, 'rank ok')}"
        )  # fmt: skip

    def claims(self, n_inside: int, n_maps: int) -> list[dict]:
        """The card's four claims (``n_inside`` of ``n_maps`` GAD masks lie inside the original's)."""
        rule = self.rule
        return [
            {"artefact": "sec. 4.2, Fig. 1", "claim": "supports of the fixed sweep fit their shifted targets",
             "paper": "the method's premise, stated (sec. 4.2) but not measured", "ours": self.fit_ours(),
             "verdict": verdict_with_undecided(self.n_fit_pass, self.n_fit_open, len(self.sweep)),
             "test": f"fit (1 - MSE ratio, validation images of the pair) of each support of the fixed sweep above "
                     f"fit_threshold {rule.fit_threshold:g} (the chapter's bar: the paper states none), decided by its "
                     "95% bootstrap interval over the images (undecided where the interval spans the threshold); "
                     "reproduced if every support passes, partly if at least half; inconclusive where the undecided "
                     "supports could change that verdict"},
            {"artefact": "sec. 3-4.2", "claim": "supports of the fixed sweep keep the samples' order in each output",
             "paper": "the method's premise, stated (sec. 3, Fig. 1 caption, sec. 4) but not measured",
             "ours": self.order_ours(),
             "verdict": verdict_with_undecided(self.n_order_pass, self.n_order_open, self.n_order_measured)
                        if self.n_order_measured else "not comparable",
             "test": f"the paper's premise is the order among samples of the same class: per support of the fixed "
                     f"sweep, the lowest Spearman rank correlation with the original's output over the two classes and "
                     f"the two outputs, each computed inside one class (validation images of the pair), must lie above "
                     f"rank_threshold {rule.rank_threshold:g}, the bar the chapter sets for a kept order, decided by "
                     "its 95% bootstrap interval (each class resampled within itself; undecided where it spans the "
                     "threshold); the pooled correlation is not used, as the class split alone raises it; reproduced "
                     "if every support passes, partly if at least half; inconclusive where the undecided supports "
                     "could change that verdict"},
            {"artefact": "sec. 4.3", "claim": "GAD keeps only pixels important in every map (never adds one)",
             "paper": "by construction",
             "ours": f"GAD mask inside the original's in {report.counted(n_inside, n_maps)} masks with at least one "
                     "support",
             "verdict": "by construction",
             "test": "an intersection of masks (eq-gad-mask) cannot add a pixel; checked on every image, method and "
                     "sweep (an assert fails otherwise)"},
            {"artefact": "sec. 7", "claim": "future work: choose alpha automatically",
             "paper": "open", "ours": f"rule selects {rule.selected}", "verdict": "not comparable",
             "test": "none: the paper states no rule to compare with; the rule's choice is reported"},
        ]  # fmt: skip

    def summary_fit(self) -> str:
        """The summary's sentence on the fixed sweep's fit and order."""
        sweep, rule = self.sweep, self.rule
        if not len(sweep):
            return report.not_measured("the fixed sweep has no support with alpha above 0")
        finite = sweep[WITHIN].dropna()
        return (
            f"On the fixed sweep, {report.counted(int(sweep['fit ok'].sum()), len(sweep), 'supports')} pass "
            f"the fit test (fit >= {rule.fit_threshold:g}) by their point fit; by their 95% intervals, "
            f"{report.numbered(self.n_fit_pass, 'lies', 'lie')} above the threshold, "
            f"{report.numbered(self.n_fit_open, 'spans', 'span')} it and "
            f"{report.numbered(len(sweep) - self.n_fit_pass - self.n_fit_open, 'lies', 'lie')} below. Pooled over "
            f"both classes (the automatic rule's rank test), {report.counted(int(sweep['rank ok'].sum()), len(sweep))} "
            f"keep the order (rank correlation >= {rule.rank_threshold:g}); within each class, where GAD's premise "
            f"lies, {report.numbered(self.n_order_pass, 'stays', 'stay')} above rank_threshold by the 95% interval, "
            f"{report.numbered(self.n_order_open, 'spans', 'span')} it and "
            f"{report.numbered(self.n_order_fail, 'lies', 'lie')} below (lowest within-class correlation "
            f"{span(finite, '.3f') if len(finite) else 'not measured'}). They realise "
            f"{span(sweep[SHIFT], '.0%')} of the requested shift."
        )


def summary_region(study: dict) -> str:
    """The summary's sentence on the kept region with the fixed sweep."""
    if not len(study["per_method"]):
        return report.not_measured("no map was computed with the fixed sweep")
    return (
        f"Each added support can only remove pixels (by construction); with the fixed sweep GAD keeps "
        f"{span(study['per_method']['kept share'], '.2f')} of the image, where the original marks "
        f"{span(study['original_kept'], '.2f')}."
    )


def card_settings(system_name: str, names: tuple[str, str], config, n_train_images: int, alphas: Sequence[float],
                  n_methods: int, keep: float) -> list[tuple[str, str, str]]:  # fmt: skip
    """The card's settings rows: the paper's against this run's."""
    return [
        ("data", "cats vs dogs; CUB birds (warbler vs sparrow)", f"{system_name}: {names[0]} vs {names[1]}"),
        ("models", "VGG16, ResNet18", system_name),
        ("supports", "Adam lr 4e-5, 10 epochs, alpha 0-8",
         f"Adam lr {config.lr:g}, {config.epochs} epochs, {n_train_images} images, alpha {list(alphas)}"),
        ("maps", "five gradient methods, top 50%", f"{n_methods} methods (captum), top {keep:.0%}"),
    ]  # fmt: skip


# --- the exercises --------------------------------------------------------------------------------------------------


def reduction_study(region: Region, fixed_pos: Sequence[float]) -> tuple[pd.DataFrame, dict[str, pd.Series], str]:
    """Exercise 2: per method, the share of the fixed sweep's reduction of the kept share that the largest support
    alone, the first and the first two give; the table, the shares per subset and the answer in words."""
    subsets: dict[str, list[float]] = {}
    if fixed_pos:
        top_alpha = max(fixed_pos)
        subsets = {f"the alpha {top_alpha:g} support alone": [top_alpha],
                   f"the first support (alpha {fixed_pos[0]:g})": list(fixed_pos[:1])}  # fmt: skip
        if len(fixed_pos) > 2:
            subsets[f"the first two (alpha {fixed_pos[0]:g}, {fixed_pos[1]:g})"] = list(fixed_pos[:2])
    rows = []
    for m in region.methods if fixed_pos else []:
        base_kept, sweep_kept = region.kept_with(m, []), region.kept_with(m, fixed_pos)
        row = {"method": m, "original": base_kept, "fixed sweep": sweep_kept}
        for label, used in subsets.items():
            kept = region.kept_with(m, used)
            assert sweep_kept <= kept <= base_kept  # fewer supports in the intersection keep at least as many pixels
            row[label] = (base_kept - kept) / (base_kept - sweep_kept) if base_kept > sweep_kept else np.nan
        rows.append(row)
    reduction = pd.DataFrame(rows, columns=["method", "original", "fixed sweep", *subsets])
    shares = {label: reduction[label].dropna() for label in subsets}
    if not fixed_pos or not len(reduction) or not len(shares[next(iter(subsets))]):
        return reduction, shares, report.not_measured("the fixed sweep removes no pixel from the original's maps")
    parts = []
    for label, s in shares.items():
        most = int((s > 0.5).sum())
        parts.append(f"{label}: {span(s, '.0%')} (most of it for {report.counted(most, len(s), 'methods')})")
    text = "Of the fixed sweep's reduction of the kept share, per method, " + "; ".join(parts)
    labels = list(subsets)
    if len(labels) > 2:  # does the largest support alone give more than the first two together, method by method?
        alone, two = reduction.set_index("method")[labels[0]], reduction.set_index("method")[labels[2]]
        more = [m for m in alone.index if two[m] > alone[m]]
        text += (f". The first two together give more than the largest alone for "
                 f"{report.counted(len(more), int((alone.notna() & two.notna()).sum()), 'methods')}"
                 + (f": {report.listed(more)}" if more else ""))  # fmt: skip
    n_images = region.table.image.nunique()
    return reduction, shares, text + f". These are means over the {n_images} sweep images, without an interval."


#: exercise 3's table: per method, the mean share on the strokes of the original's important pixels, GAD's kept
#: pixels and the size-matched control (the original's own top pixels, as many as GAD keeps), with the paired tests
STROKE_COLUMNS = ["method", "original", "GAD", "GAD - original", "p", "verdict", "size-matched", "GAD - size-matched",
                  "p (size-matched)", "verdict (size-matched)"]  # fmt: skip


def stroke_mask(train, classes: tuple[int, int], per_class: int, share: float = 0.2) -> torch.Tensor:
    """The pixels where the mean training images of the two ``classes`` differ most (the top ``share``), (H, W)."""
    da, db = classes
    rows = train.class_balanced_index(per_class_available(train.labels, classes, per_class), classes)
    x, y = train.inputs[rows], train.labels[rows]
    difference = (x[y == db].mean(0) - x[y == da].mean(0)).abs().sum(0).double()
    return difference >= torch.quantile(difference.flatten(), 1 - share)


def stroke_study(system, supports: Mapping[float, torch.nn.Module], fixed_pos: Sequence[float], per_class: int,
                 n_images: int, keep: float, prof, seed: int, device) -> dict:  # fmt: skip
    """Exercise 3: on ``system`` (its class pair), the share of the original's important pixels and of GAD's kept
    pixels on the strokes that tell the classes apart (:func:`stroke_mask`), per image and method; the paired test per
    method; and the fit of the largest fixed support. Asserts eq-gad-mask on every map."""
    da, db = system.class_pair()
    train, test, val = system.data("train"), system.data("test"), system.data("val")
    strokes = stroke_mask(train, (da, db), per_class)
    n_img = per_class_available(test.labels, (da, db), n_images)
    rows = []
    for method in GAD_METHODS:
        for c in (da, db):
            xc = test.inputs[test.class_balanced_index(n_img, (c,))].to(device)
            if unsupported_reason(system.model, method, xc) is not None:
                continue
            g = gad_maps(system.model, [supports[a] for a in fixed_pos], xc, train.output_of(c), method, keep,
                         n_steps=prof.gad_ig_steps)  # fmt: skip
            assert not (g.gad & ~g.important).any()  # GAD keeps only pixels the original marked (eq-gad-mask)
            # the control: the original's own top pixels, as many as GAD keeps in each image
            matched = torch.stack([top_count_mask(a, int(m.sum())) for a, m in zip(g.original, g.gad, strict=True)])
            shares = zip(share_inside(g.important, strokes), share_inside(g.gad, strokes),
                         share_inside(matched, strokes), strict=True)  # fmt: skip
            for orig, gad, same_size in shares:
                rows.append({"method": method, "class": test.class_names[c], "original": orig, "GAD": gad,
                             "size-matched": same_size})  # fmt: skip
    stroke = pd.DataFrame(rows, columns=["method", "class", "original", "GAD", "size-matched"])
    table = []
    for method, g in stroke.groupby("method", sort=False):
        t = paired_comparison(g["GAD"], g["original"], n_boot=prof.n_boot, seed=seed)
        tm = paired_comparison(g["GAD"], g["size-matched"], n_boot=prof.n_boot, seed=seed)
        table.append({"method": method, "original": g["original"].mean(), "GAD": g["GAD"].mean(),
                      "GAD - original": t["mean diff"], "p": t["p"], "verdict": t["verdict"],
                      "size-matched": g["size-matched"].mean(), "GAD - size-matched": tm["mean diff"],
                      "p (size-matched)": tm["p"], "verdict (size-matched)": tm["verdict"]})  # fmt: skip
    table = pd.DataFrame(table, columns=STROKE_COLUMNS)
    fit = (
        support_fit(system.model, supports[max(fixed_pos)], val.inputs.to(device), val.targets.to(device),
                    train.output_of(da), train.output_of(db), max(fixed_pos), n_boot=prof.n_boot, seed=seed)
        if fixed_pos else None
    )  # fmt: skip
    return {
        "stroke": stroke,
        "table": table,
        "fit": fit,
        "chance": float(strokes.float().mean()),
        "n_img": n_img,
        "classes": (test.class_names[da], test.class_names[db]),
    }


def strokes_answer(study: dict, system_name: str, top_alpha: float | None, rank_threshold: float) -> dict:
    """Exercise 3's answer in words, with what decides it: the tested methods, how many put more (``n_more``) or less
    (``n_less``) of GAD's pixels on the strokes, and whether the difference is small against chance (``size``)."""
    table, fit, chance = study["table"], study["fit"], study["chance"]
    tested = table[table.verdict != "n/a"]
    n_more, n_less = int((tested.verdict == "better").sum()), int((tested.verdict == "worse").sum())
    out = {"tested": tested, "n_more": n_more, "n_less": n_less, "size": None}
    if not len(tested) or fit is None:
        out["text"] = report.not_measured(
            "no method could run, or no support with alpha above 0, or fewer than 5 images"
        )
        return out
    n_rest = len(tested) - n_more - n_less
    rest = f", with no significant difference for {n_rest}" if n_rest else ""
    diff_pp = 100 * tested["GAD - original"]
    size = "small" if diff_pp.abs().max() < 0.25 * 100 * chance else "not small"
    pooled_low = float(np.min([fit["rank corr a"], fit["rank corr b"]]))  # NaN (a constant output) fails the test
    within_verdict = report.interval_verdict(fit["within-class CI low"], fit["within-class CI high"], rank_threshold,
                                             "above")  # fmt: skip
    rank_text = (
        f"keep the order by the chapter's rank test (pooled rank correlation {shown(pooled_low)}, rank_threshold "
        f"{rank_threshold:g})" if pooled_low >= rank_threshold else
        f"fail the chapter's rank test (pooled rank correlation {shown(pooled_low)} against rank_threshold "
        f"{rank_threshold:g}), so the automatic rule would not use them"
    )  # fmt: skip
    within_word = {"reproduced": "above", "not reproduced": "below", "inconclusive": "spanning"}.get(
        within_verdict, "not measured against"
    )
    out["size"] = size
    name_a, name_b = study["classes"]
    out["n_more_matched"] = m_more = int((tested["verdict (size-matched)"] == "better").sum())
    out["n_less_matched"] = m_less = int((tested["verdict (size-matched)"] == "worse").sum())
    m_rest = len(tested) - m_more - m_less
    if m_more == len(tested):
        reading = ("so GAD's choice of pixels, not only the smaller size of its set, puts more of them on the strokes "
                   "for every method")  # fmt: skip
    elif m_more == 0:
        reading = ("so the smaller size of GAD's set accounts for its gain over the original's important pixels: its "
                   "choice of pixels adds nothing on the strokes for any method")  # fmt: skip
    else:
        reading = (f"so GAD's choice of pixels adds to the effect of its smaller set for "
                   f"{report.numbered(m_more, 'method', 'methods')} only")  # fmt: skip
    matched_text = (
        f" GAD keeps fewer pixels than the original marks, and a map's own top pixels may lie on the strokes more as "
        f"the set shrinks: the original's own most important pixels, as many as GAD keeps in each image, put "
        f"{span(tested['size-matched'], '.2f')} there. GAD's share is higher than this size-matched control's for "
        f"{report.counted(m_more, len(tested), 'methods')}, lower for {m_less}"
        + (f", with no significant difference for {m_rest}" if m_rest else "")
        + f" (the same test; GAD - control {span(100 * tested['GAD - size-matched'], '+.2g')} percentage points per "
        f"method), {reading}."
    )
    out["text"] = (
        f"On {system_name} ({2 * study['n_img']} test images per method), the strokes where the classes {name_a} and "
        f"{name_b} differ most cover {chance:.0%} of the image, the share a map placed at random "
        f"would put on them; the original's important pixels put {span(tested['original'], '.2f')} there (per "
        f"method), GAD's kept pixels {span(tested['GAD'], '.2f')}. GAD's share is higher than the original's for "
        f"{report.counted(n_more, len(tested), 'methods')}, lower for {n_less}{rest} (paired Wilcoxon signed-rank "
        f"test at 5%); the mean difference GAD - original is {span(diff_pp, '+.2g')} percentage points per method, "
        f"{size} against the {chance:.0%} a random map would reach (small: below a quarter of it)."
        + matched_text
        + " The supports "
        f"behind it (alpha = {top_alpha:g}: fit {fit[FIT]:.3f}, shift realised {printed(fit[SHIFT], '.0%')}) "
        f"{rank_text}; "
        f"within a class their lowest rank correlation is {shown(fit[WITHIN])} (95% interval "
        f"{shown(fit['within-class CI low'])} to {shown(fit['within-class CI high'])}, {within_word} rank_threshold)."
    )
    return out
