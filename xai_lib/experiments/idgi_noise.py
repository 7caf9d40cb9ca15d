"""Chapter 2's measures (Yang et al. 2023, IDGI, secs. 2-3): Theorem 1 on the 2D function of Fig. 2, completeness
of IG, Guided IG and Blur IG with and without IDGI along a step sweep, the base maps' Riemann error, the maps' mass on
the object (Fig. 3), and the TMLR reproduction study's questions (a JPEG-75 input, the step count), with the card's
claims and the sentences chosen from those numbers.

A base method whose map misses completeness by at least :data:`CONFOUNDED_FROM` of its output change at the maps'
steps is reported but not counted in a verdict: comparing IDGI with it compares IDGI with discretisation error.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch

from .. import report, stats
from ..attribution import IG, AnalyticModel, VanillaGradient, curved_valley, step_decomposition, straight_line
from ..metrics import saliency_2d
from ..plotting import finish, saliency_grid
from . import conditioning

#: from this share of its output change up, a base map's Riemann error is of the order of the change it explains
CONFOUNDED_FROM = 0.5
#: Theorem 1's card test: the miss, as a share of the step's change, ends below this at the largest step count
THM1_TOLERANCE = 0.1
#: the step counts of the Theorem 1 study (the first is the exercises' coarse path, the second the one drawn)
THM1_COUNTS = (4, 12, 48)
#: the step counts of the toy's attribution table (the prediction exercise)
TOY_COUNTS = (2, 6, 50, 1000)
#: the toy function of Fig. 2 (:func:`~xai_lib.attribution.curved_valley`), its input and its baseline
TOY = AnalyticModel(curved_valley)
TOY_INPUT, TOY_BASELINE = torch.tensor([[1.0, 1.0]]), torch.zeros(1, 2)
#: IDGI's norm guard in the conditioning study: (float32 rounding / 1%)^2, below which a gradient's direction is
#: known only to worse than 1%
GUARD = 1e-10


def toy_ig() -> IG:
    """IG on the toy function's output 0 (its logit: the function itself)."""
    return IG(TOY, "logit")


def noisiest_step(n: int) -> dict:
    """The toy path cut into ``n`` steps, and its step with the largest noise part, decomposed by Theorem 1."""
    path = straight_line(TOY_INPUT, TOY_BASELINE, torch.arange(n + 1, dtype=torch.float64) / n)[:, 0]
    f_path, g_path = toy_ig().grad_fn(path, torch.zeros(n + 1, dtype=torch.long))
    parts = [step_decomposition(path[j], path[j + 1], g_path[j], float(f_path[j]), float(f_path[j + 1]))
             for j in range(n)]  # fmt: skip
    j = max(range(n), key=lambda k: float(parts[k]["noise"].norm()))
    f_star = float(TOY(parts[j]["projection"][None].float())[0, 0])
    return {"N": n, "step": j, "path": path, "f": f_path, "g": g_path, "all": parts, "parts": parts[j],
            "df": float(f_path[j + 1] - f_path[j]), "miss": f_star - float(f_path[j + 1])}  # fmt: skip


@dataclass(frozen=True)
class Theorem1:
    """Theorem 1 to first order on the toy: the miss of the point reached along the gradient, by step count."""

    steps: list[dict]  #: :func:`noisiest_step` per count of :data:`THM1_COUNTS`
    table: pd.DataFrame
    ratios: list[float]  #: |miss / step change| per count
    first_order: bool  #: the card's test: the ratio falls at every refinement and ends below THM1_TOLERANCE
    sentence: str


def theorem1_study(counts: Sequence[int] = THM1_COUNTS) -> Theorem1:
    """Theorem 1 is first order: the point reached along g_j misses the level set of x_{j+1} by O(step^2) against a
    step change of O(step), so its share of the step's change shrinks as the steps refine (``counts``: at least two,
    increasing). The drawing uses the second count, at which the miss is below the step's change."""
    if len(counts) < 2 or list(counts) != sorted(set(counts)):
        raise ValueError(f"counts: expected at least two increasing step counts, got {list(counts)}")
    steps = [noisiest_step(n) for n in counts]
    table = pd.DataFrame([{"N": t["N"], "drawn step j": t["step"], "f(x_{j+1}) - f(x_j)": t["df"],
                           "f(x*_{j+1}) - f(x_{j+1})": t["miss"], "miss / step change": t["miss"] / t["df"]}
                          for t in steps])  # fmt: skip
    ratios = [abs(t["miss"] / t["df"]) for t in steps]
    first_order = bool(np.all(np.diff(ratios) < 0) and ratios[-1] < THM1_TOLERANCE)
    drawn = steps[1]
    sentence = (
        f"At N = {drawn['N']}, the drawn step changes f by {drawn['df']:.4f}, and the point reached along the "
        f"important direction misses the level set of x_(j+1) by {drawn['miss']:.4f} "
        f"({abs(drawn['miss'] / drawn['df']):.0%} of the step's change). The miss is "
        + report.listed(f"{r:.0%}" + (" of the step's change" if k == 0 else "") + f" at N = {t['N']}"
                        for k, (r, t) in enumerate(zip(ratios, steps, strict=True)))
        + ": "
        + (f"it shrinks at every refinement and ends below {THM1_TOLERANCE:.0%}, so Theorem 1 holds to first order "
           "here (at the coarsest step the straight arrows would mislead)." if first_order else
           f"it does not shrink at every refinement to below {THM1_TOLERANCE:.0%}, so these step counts do not show "
           "Theorem 1's first-order picture.")
    )  # fmt: skip
    return Theorem1(steps, table, ratios, first_order, sentence)


def draw_theorem1(drawn: dict, path) -> None:
    """Fig. 2 on the toy: its level sets, the IG path and the drawn step split into its important and noise
    directions, whole and magnified."""
    grid = torch.linspace(-0.1, 1.15, 200)
    gx, gy = torch.meshgrid(grid, grid, indexing="xy")
    levels = curved_valley(torch.stack([gx.flatten(), gy.flatten()], 1)).reshape(gx.shape)
    step = drawn["step"]
    p0, p1 = drawn["path"][step].numpy(), drawn["path"][step + 1].numpy()
    proj = drawn["parts"]["projection"].numpy()
    fig, axes = plt.subplots(1, 2, figsize=(9.4, 4.6))
    for ax, zoom in zip(axes, (False, True), strict=True):
        ax.contour(gx, gy, levels, levels=60 if zoom else 18, cmap="Greys", linewidths=0.7)
        ax.plot(drawn["path"][:, 0], drawn["path"][:, 1], "o-", color="0.3", ms=3, label="IG path")
        for a, b, colour, ls in ((p0, p1, "tab:blue", "-"), (p0, proj, "tab:green", "-"), (proj, p1, "tab:red", "--")):
            ax.annotate("", xy=b, xytext=a, arrowprops={"arrowstyle": "->", "color": colour, "lw": 2, "ls": ls})
        ax.set_xlabel("$x_1$")
        ax.set_ylabel("$x_2$")
        ax.set_aspect("equal")
        if zoom:  # the drawn step, magnified
            pts = np.stack([p0, p1, proj])
            centre, half = pts.mean(0), 0.75 * float(np.ptp(pts, 0).max())
            ax.set_xlim(centre[0] - half, centre[0] + half)
            ax.set_ylim(centre[1] - half, centre[1] + half)
            ax.set_title(f"step {step}, magnified", fontsize=9)
        else:
            ax.plot([], [], color="tab:blue", label="original direction $x_{j+1} - x_j$")
            ax.plot([], [], color="tab:green", label="important direction (along $g_j$)")
            ax.plot([], [], color="tab:red", ls="--", label="noise direction")
            ax.legend(fontsize=7, loc="lower right")
            ax.set_title(f"level sets of f; step {step} of {drawn['N']} decomposed", fontsize=9)
    finish(fig, path, tight=False)


def toy_attributions(n: int) -> tuple[torch.Tensor, torch.Tensor]:
    """IG's and IDGI's attribution of the toy at ``n`` steps, in float64."""
    ig = toy_ig()
    return (ig.attribute(TOY_INPUT, target=0, n_steps=n)[0].double(),
            ig.attribute(TOY_INPUT, target=0, n_steps=n, idgi=True)[0].double())  # fmt: skip


def toy_gap(n: int) -> tuple[float, float, int]:
    """At ``n`` steps: the L1 distance between IG's and IDGI's toy attributions, IG's remaining completeness error,
    and the input (1 or 2) IDGI credits more than IG."""
    ig, idgi = toy_attributions(n)
    change = float(TOY(TOY_INPUT)[0, 0] - TOY(TOY_BASELINE)[0, 0])
    return float((ig - idgi).abs().sum()), abs(float(ig.sum()) - change), int(torch.argmax(idgi - ig)) + 1


def toy_table(counts: Sequence[int] = TOY_COUNTS) -> tuple[pd.DataFrame, dict[str, object], bool]:
    """IG and IDGI on the toy at each step count, the glued values of the prediction exercise (``toy_delta``,
    ``toy_ig_n2``, ``toy_n_last``, ``toy_limit``) and whether the two stay apart at the largest count (their gap more
    than ten times IG's remaining completeness error: not discretisation)."""
    rows = []
    for n in counts:
        ig, idgi = toy_attributions(n)
        rows.append({"N": n, "IG": str(np.round(ig.numpy(), 4).tolist()), "IG sum": float(ig.sum()),
                     "IDGI": str(np.round(idgi.numpy(), 4).tolist()), "IDGI sum": float(idgi.sum())})  # fmt: skip
    table = pd.DataFrame(rows)
    n_last = int(counts[-1])  # the loop's last: ig and idgi are its attributions
    change = float(TOY(TOY_INPUT)[0, 0] - TOY(TOY_BASELINE)[0, 0])
    gap, ig_miss, more = float((ig - idgi).abs().sum()), abs(float(ig.sum()) - change), int(torch.argmax(idgi - ig)) + 1
    apart = gap > 10 * ig_miss
    limit = (
        f"At N = {n_last} IDGI gives x_1 {float(idgi[0]):.4f} and x_2 {float(idgi[1]):.4f}, IG "
        f"{float(ig[0]):.4f} and {float(ig[1]):.4f}: "
        + (f"the two differ by {gap:.3f} in L1, more than ten times IG's remaining completeness error "
           f"({ig_miss:.1e}), so they stay apart and IDGI credits x_{more} more than IG does."
           if apart else
           f"they differ by only {gap:.1e} in L1, within ten times IG's remaining completeness error "
           f"({ig_miss:.1e}), so here IDGI approaches IG's attribution.")
    )  # fmt: skip
    glue = {"toy_delta": change, "toy_ig_n2": table["IG sum"].iloc[0],
            "toy_n_last": n_last, "toy_limit": limit}  # fmt: skip
    return table, glue, apart


class Maps:
    """The chapter's base and IDGI maps per (method, steps), each pair from one pass over the path, computed once."""

    def __init__(self, methods: Mapping[str, object], images: torch.Tensor, targets: torch.Tensor, prof) -> None:
        self.methods, self.images, self.targets, self.prof = methods, images, targets, prof
        self.pairs: dict[tuple[str, int], tuple[torch.Tensor, torch.Tensor]] = {}

    def steps_of(self, name: str) -> int:
        """The steps of the maps (Fig. 3, the JPEG study): Blur IG's profile count, else the path methods'."""
        return self.prof.blur_steps if name == "Blur IG" else self.prof.idgi_steps

    def baseline(self, name: str) -> torch.Tensor:
        """Blur IG's blurred reference, the black image for the others."""
        method = self.methods[name]
        return method.reference(self.images) if name == "Blur IG" else torch.zeros_like(self.images)

    def __call__(self, name: str, n: int | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        n = self.steps_of(name) if n is None else n
        if (name, n) not in self.pairs:
            self.pairs[name, n] = tuple(
                self.methods[name].attribute_with_idgi(self.images, target=self.targets, n_steps=n)
            )
        return self.pairs[name, n]


def completeness_table(maps: Maps, sweep: Sequence[int], blur_counts: Sequence[int]) -> pd.DataFrame:
    """Per method (IG along ``sweep``, Guided IG at the profile's steps, Blur IG along ``blur_counts``), with and
    without IDGI: the mean and largest |sum(attr) + lost - (f(x) - f(x'))| over the images, the output change, the
    steps IDGI skipped and the output change it reported lost (eq. 2 against the sum). Stores each pair of maps it
    computes in ``maps`` (:class:`Maps`), so later uses of the same (method, steps) reuse them."""
    rows = []
    for name, method in maps.methods.items():
        counts = sweep if name == "IG" else (maps.prof.idgi_steps,) if name == "Guided IG" else blur_counts
        delta = method.forward_outputs(maps.images, maps.targets) - method.forward_outputs(
            maps.baseline(name), maps.targets)  # fmt: skip
        for n in counts:
            *pair, idgi_report = method.attribute_with_idgi(maps.images, target=maps.targets, n_steps=n,
                                                            return_report=True)  # fmt: skip
            maps.pairs[name, n] = tuple(pair)
            for use_idgi, attr in zip((False, True), pair, strict=True):
                lost = idgi_report["lost"] if use_idgi else torch.zeros_like(delta)
                err = (attr.flatten(1).sum(1) + lost - delta).abs()
                rows.append({"method": name + (" + IDGI" if use_idgi else ""), "steps": n,
                             "mean |error|": float(err.mean()), "max |error|": float(err.max()),
                             "mean |f(x) - f(x')|": float(delta.abs().mean()),
                             "steps skipped": int(idgi_report["skipped_steps"].sum()) if use_idgi else 0,
                             "mean |lost|": float(lost.abs().mean())})  # fmt: skip
    return pd.DataFrame(rows)


def riemann_table(maps: Maps) -> pd.DataFrame:
    """Each base map's Riemann error at the steps the maps use, against its own output change."""
    rows = []
    for name, method in maps.methods.items():
        ref = maps.baseline(name)
        err = method.completeness_error(maps.images, maps(name)[0], maps.targets, baselines=ref).abs().mean()
        change = (method.forward_outputs(maps.images, maps.targets) - method.forward_outputs(ref, maps.targets)).abs()
        rows.append({"method": name, "steps": maps.steps_of(name), "mean |error|": float(err),
                     "mean |change|": float(change.mean()),
                     "error / change": float(err / change.mean().clamp_min(1e-30))})  # fmt: skip
    return pd.DataFrame(rows)


def confounded_methods(riemann: pd.DataFrame) -> list[str]:
    """The base methods whose map misses completeness by at least :data:`CONFOUNDED_FROM` of the output change."""
    return riemann.loc[riemann["error / change"] >= CONFOUNDED_FROM, "method"].tolist()


def confounded_text(confounded: Sequence[str]) -> str:
    """The sentence that says which base methods the card's verdicts leave out, and why ("" for none)."""
    if not confounded:
        return ""
    return (f" The card's verdicts (at the top of the chapter) do not count {report.listed(confounded)}: at the maps' "
            f"steps {'its base map misses' if len(confounded) == 1 else 'their base maps miss'} completeness by at "
            f"least {CONFOUNDED_FROM:.0%} of the output change, so a comparison with IDGI is one with discretisation "
            "error.")  # fmt: skip


@dataclass(frozen=True)
class Completeness:
    """What the completeness study decides: IDGI complete to round-off, IG's and Blur IG's errors falling."""

    roundoff_bound: float  #: report.ROUNDOFF scaled by the largest output change
    idgi_complete: bool
    ig_converges: bool  #: strictly, at every step of the sweep
    blur_converges: bool
    idgi_max_error: float


def completeness_reading(completeness: pd.DataFrame) -> Completeness:
    """IDGI's sum telescopes: what is left is float round-off, below report.ROUNDOFF (scaled by the output change)."""
    idgi_rows = completeness[completeness.method.str.contains("IDGI")]
    bound = report.ROUNDOFF * max(1.0, float(completeness["mean |f(x) - f(x')|"].max()))
    ig_rows = completeness[completeness.method == "IG"]
    blur_rows = completeness[completeness.method == "Blur IG"]
    return Completeness(
        bound, bool(idgi_rows["max |error|"].max() < bound),
        bool((ig_rows["mean |error|"].diff().dropna() < 0).all()),
        bool((blur_rows["mean |error|"].diff().dropna() < 0).all()), float(idgi_rows["max |error|"].max()),
    )  # fmt: skip


def completeness_glue(completeness: pd.DataFrame, riemann: pd.DataFrame, reading: Completeness, prof) -> dict:
    """The glued values of the completeness section: the sum sentence, IG's and Blur IG's errors along their sweeps
    and their directions, and Blur IG's caveat at the maps' steps with the instructor notes' answer."""
    confounded = confounded_methods(riemann)
    idgi_sum = ("IDGI's is the output change to round-off" if reading.idgi_complete else
                "IDGI's misses the output change beyond round-off")  # fmt: skip
    sum_sentence = (
        f"The sum does not separate the methods at these steps: {idgi_sum}, and every base map's "
        f"misses it by less than {CONFOUNDED_FROM:.0%} of the change ("
        if not confounded else
        f"The sum separates some base maps from IDGI's at these steps: {idgi_sum}, while "
        f"{report.listed(confounded)} miss{'es' if len(confounded) == 1 else ''} it by at least "
        f"{CONFOUNDED_FROM:.0%} of the change ("
    ) + "; ".join(f"{r.method} at {r.steps} steps: {r['mean |error|']:.2g} against {r['mean |change|']:.2g}"
                  for _, r in riemann.iterrows()) + ")."  # fmt: skip
    ig_rows = completeness[completeness.method == "IG"]
    blur_rows = completeness[completeness.method == "Blur IG"]
    blur_row = riemann.set_index("method").loc["Blur IG"]
    share = float(blur_row["error / change"])
    caveat = (
        f"At {prof.blur_steps} steps Blur IG's base map misses completeness by {float(blur_row['mean |error|']):.2f} "
        f"on average against a mean output change of {float(blur_row['mean |change|']):.2f}: "
        + ("its Riemann error is at least half the output change, so Blur IG's rows compare IDGI with a base map whose "
           "discretisation error is of the order of the change it explains." if share >= CONFOUNDED_FROM else
           "a sizeable part of its sum is Riemann error, which its IDGI version does not have." if share >= 0.1 else
           "its Riemann error is small against the output change.")
    )  # fmt: skip
    more_steps = (f"; compare at more steps (at {int(blur_rows.steps.iloc[-1])} steps the base map's mean error is "
                  f"{float(blur_rows['mean |error|'].iloc[-1]):.3f}) before crediting IDGI's reweighting"
                  if int(blur_rows.steps.iloc[-1]) > prof.blur_steps else
                  "; the sweep has no count above the maps' steps, so more steps are not measured here")  # fmt: skip
    answer = (
        "mostly the step count: the base map carries a Riemann error of the order of the change it explains, which "
        "IDGI's telescoping sum does not have" + more_steps if share >= CONFOUNDED_FROM else
        "partly the step count: part of the base map's sum is Riemann error, which IDGI's telescoping sum does not "
        "have" + more_steps if share >= 0.1 else
        "mostly the reweighting: the base map's Riemann error is small here, so the comparison is between two "
        "attributions that both explain the change"
    )  # fmt: skip
    return {
        "sum_sentence": sum_sentence,
        "idgi_max_error": report.roundoff(reading.idgi_max_error, reading.roundoff_bound),
        "idgi_complete": "is complete on all three paths at every step count: its largest error is"
        if reading.idgi_complete else "is not complete to round-off here: its largest error is",
        "ig_error_first": ig_rows["mean |error|"].iloc[0], "ig_error_last": ig_rows["mean |error|"].iloc[-1],
        "ig_steps_first": int(ig_rows.steps.iloc[0]), "ig_steps_last": int(ig_rows.steps.iloc[-1]),
        "ig_delta": ig_rows["mean |f(x) - f(x')|"].iloc[-1],
        "blur_error_first": blur_rows["mean |error|"].iloc[0], "blur_delta": blur_rows["mean |f(x) - f(x')|"].iloc[0],
        "blur_steps_first": int(blur_rows.steps.iloc[0]), "blur_error_last": blur_rows["mean |error|"].iloc[-1],
        "blur_steps_last": int(blur_rows.steps.iloc[-1]),
        "ig_direction": "falls steadily" if reading.ig_converges else "does not fall steadily",
        "blur_direction": "falls" if reading.blur_converges else "does not fall",
        "blur_vs_delta": "larger than the output change it should explain"
        if bool(blur_rows["mean |error|"].iloc[0] > blur_rows["mean |f(x) - f(x')|"].iloc[0])
        else "smaller than the output change it should explain",
        "blur_caveat": caveat, "blur_caveat_answer": answer,
        "blur_used_steps": prof.blur_steps, "maps_steps": prof.idgi_steps,
    }  # fmt: skip


def plot_completeness(completeness: pd.DataFrame, reading: Completeness, path) -> None:
    """Mean completeness error against the step count, IG and Blur IG with and without IDGI (log-log)."""
    fig, ax = plt.subplots(figsize=(6, 3.5))
    for name, style in [("IG", "o-"), ("IG + IDGI", "s--"), ("Blur IG", "^-"), ("Blur IG + IDGI", "v--")]:
        part = completeness[completeness.method == name]
        ax.loglog(part.steps, part["mean |error|"].clip(lower=1e-9), style, label=name)
    ax.set_xlabel("Riemann steps N")
    ax.set_ylabel("mean |completeness error|")
    ax.set_title(
        f"IG's error {'falls' if reading.ig_converges else 'does not fall steadily'}, Blur IG's "
        f"{'falls' if reading.blur_converges else 'does not fall steadily'}; IDGI "
        f"{'stays at round-off' if reading.idgi_complete else 'is not complete to round-off'}"
    )
    ax.legend(fontsize=8)
    finish(fig, path, tight=False)


def plot_maps(maps: Maps, model, output: str, n_show: int, path) -> None:
    """Fig. 3: each method's map with and without IDGI, and Vanilla Gradient, on the first images."""
    show = maps.images[: min(n_show, 4)]
    show_t = maps.targets[: len(show)]
    drawn = {}
    for name in maps.methods:  # the chapter's maps (computed once), on the first images
        drawn[name], drawn[name + "\n+ IDGI"] = (a[: len(show)].cpu() for a in maps(name))
    drawn["VG"] = VanillaGradient(model, output).attribute(show, target=show_t).cpu()
    finish(saliency_grid(show.cpu(), drawn), path, tight=False)


MASS_COLUMNS = ["method", "mass on object", "+ IDGI", "difference", "CI low", "CI high", "p", "IDGI more on object"]


def mass_on_object(maps: Maps, object_mask: torch.Tensor | None, n_boot: int, seed: int) -> pd.DataFrame:
    """Per base method: the share of |sum_c attr| on the object mask, base and IDGI, and a paired Wilcoxon test of
    IDGI against base (empty without a mask)."""
    rows = []
    if object_mask is not None:
        obj = object_mask[: len(maps.images)].to(maps.images.device)
        for name in maps.methods:
            share = {}
            for label, attr in zip(("base", "idgi"), maps(name), strict=True):
                mass = saliency_2d(attr, absolute=True)
                share[label] = ((mass * obj).flatten(1).sum(1) / mass.flatten(1).sum(1).clamp_min(1e-30)).cpu().numpy()
            test = stats.paired_comparison(share["idgi"], share["base"], n_boot=n_boot, seed=seed)
            rows.append({"method": name, "mass on object": share["base"].mean(), "+ IDGI": share["idgi"].mean(),
                         "difference": test["mean diff"], "CI low": test["CI low"], "CI high": test["CI high"],
                         "p": test["p"], "IDGI more on object": test["verdict"]})  # fmt: skip
    return pd.DataFrame(rows, columns=MASS_COLUMNS)


def tested(table: pd.DataFrame, column: str) -> pd.DataFrame:
    """The rows whose paired test ran (``column`` not ``"n/a"``: at least 5 images)."""
    return table[table[column] != "n/a"]


def few_images(n_images: int) -> str:
    """The *not measured* sentence of a paired test on fewer than 5 images."""
    return report.not_measured(f"a paired test needs at least 5 images, this run has {n_images}", start=True) + "."


def mass_sentence(table: pd.DataFrame, object_mask, n_images: int, confounded: Sequence[str]) -> str:
    """The Fig. 3 sentence: for how many base methods IDGI puts more of the map's mass on the object (the object's
    mean share of the first ``n_images`` images of ``object_mask`` beside it)."""
    if object_mask is None:
        return report.not_measured("this dataset has no object masks", start=True) + "."
    done = tested(table, "IDGI more on object")
    if not len(done):
        return few_images(n_images)
    n_more = int((done["IDGI more on object"] == "better").sum())
    n_less = int((done["IDGI more on object"] == "worse").sum())
    return (
        f"By a paired Wilcoxon signed-rank test over the {n_images} images (5% level), IDGI puts more of the map's "
        f"mass on the object than its base method for {n_more} of the {len(done)} base methods, less for "
        f"{n_less}, and the difference is not significant for {len(done) - n_more - n_less}; the object "
        f"covers {float(object_mask[:n_images].float().mean()):.2f} of an image on average."
        f"{confounded_text(confounded)}"
    )


def rounding_table(f32: Mapping, f64: Mapping, other: Mapping, n_other: int) -> pd.DataFrame:
    """How far IG's and IDGI's maps move under rounding: float32 against float64 and other CPU kernels against these
    (relative L1 change, median and largest over the images)."""
    keys = ["IG", "IG + IDGI", f"IG + IDGI, tau={GUARD:g}"]
    return pd.DataFrame([{
        "map": key,
        "float32 vs float64: median": np.median(conditioning.relative_change(f32[key], f64[key])),
        "largest": conditioning.relative_change(f32[key], f64[key]).max(),
        "other kernels vs these: median": np.median(conditioning.relative_change(other[key], f32[key][:n_other])),
        "largest ": conditioning.relative_change(other[key], f32[key][:n_other]).max(),
    } for key in keys])  # fmt: skip


def rounding_phrase(rounding: pd.DataFrame) -> str:
    """How far IDGI's map moves under rounding against IG's (medians of :func:`rounding_table`): float32 against
    float64, and other CPU kernels against these; "amplifies rounding" where either is more than ten times IG's."""
    parts, amplified = [], False
    for column, what in (("float32 vs float64: median", "float32 against float64"),
                         ("other kernels vs these: median", "other CPU kernels against these")):  # fmt: skip
        ratio = rounding[column].iloc[1] / max(rounding[column].iloc[0], 1e-300)
        if ratio > 10:
            amplified = True
            parts.append(f"moves {conditioning.order_of(ratio)} times as far as IG's under {what} (medians)")
        else:
            parts.append(f"moves about as far as IG's or less under {what} (medians, within a factor of ten)")
    return " and ".join(parts) + (": on this system IDGI amplifies rounding" if amplified else "")


def cancellation(maps: torch.Tensor) -> float:
    """Median over the images of |sum_c A_c|_1 / |sum A|: 1 without cancellation, large when signs cancel."""
    summed = maps.double().sum(1).flatten(1)
    return float(np.median((summed.abs().sum(1) / summed.sum(1).abs().clamp_min(1e-300)).cpu().numpy()))


def tmlr_table(maps: Maps, lossy: torch.Tensor, n_boot: int, seed: int) -> pd.DataFrame:
    """The TMLR study's question on this chapter's maps: per method, how far the base and IDGI maps move under a
    lossy input (relative L1 change, median; paired Wilcoxon test), beside the study's sum-normalised MSE and the
    maps' cancellation."""
    rows = []
    for name, method in maps.methods.items():
        n = maps.steps_of(name)
        clean = maps(name)
        lossy_maps = method.attribute_with_idgi(lossy, target=maps.targets, n_steps=n)
        change = {k: conditioning.relative_change(lossy_maps[k], clean[k]) for k in (0, 1)}
        test = stats.paired_comparison(change[1], change[0], higher_is_better=False, n_boot=n_boot, seed=seed)
        rows.append({"method": name, "steps": n, "L1 / |sum|, base": cancellation(clean[0]),
                     "L1 / |sum|, + IDGI": cancellation(clean[1]),
                     "TMLR MSE, base": conditioning.tmlr_mse(clean[0], lossy_maps[0]),
                     "TMLR MSE, + IDGI": conditioning.tmlr_mse(clean[1], lossy_maps[1]),
                     "L1 change, base": float(np.median(change[0])), "L1 change, + IDGI": float(np.median(change[1])),
                     "p": test["p"], "IDGI moves less": test["verdict"]})  # fmt: skip
    return pd.DataFrame(rows)


def jpeg_sentence(tmlr: pd.DataFrame, n_images: int, confounded: Sequence[str]) -> str:
    """For how many methods IDGI's maps move less under the lossy input, on the study's measure and by the paired
    test, naming the methods whose medians lean against the test's direction."""
    done = tested(tmlr, "IDGI moves less")
    if not len(done):
        return few_images(n_images)
    n_better = int((done["IDGI moves less"] == "better").sum())
    n_worse = int((done["IDGI moves less"] == "worse").sum())
    n_mse_lower = int((tmlr["TMLR MSE, + IDGI"] < tmlr["TMLR MSE, base"]).sum())
    # a significant verdict whose medians lean the other way (the test's direction is that of the paired differences)
    leans_more = done["L1 change, + IDGI"] > done["L1 change, base"]
    leans_less = done["L1 change, + IDGI"] < done["L1 change, base"]
    apart = done[
        ((done["IDGI moves less"] == "better") & leans_more) | ((done["IDGI moves less"] == "worse") & leans_less)
    ]
    sentence = (
        f"On the study's measure IDGI's maps move less for {n_mse_lower} of {len(tmlr)} methods. By the relative L1 "
        f"change (median over the {n_images} images, paired test at 5%), IDGI's maps move less than their base "
        f"method's for {n_better} of {len(done)} methods and more for {n_worse}."
    )
    if len(apart):
        sentence += (
            " For " + ", ".join(apart.method) + " the two medians lean the other way ("
            + "; ".join(f"{r.method}: {r['L1 change, + IDGI']:.2f} with IDGI against {r['L1 change, base']:.2f}"
                        for _, r in apart.iterrows())
            + "): the test's direction is that of the paired differences, image by image, not of the medians."
        )  # fmt: skip
    return sentence + confounded_text(confounded)


def cancellation_sentence(tmlr: pd.DataFrame) -> str:
    """Whether the base maps cancel more than IDGI's (the study's MSE grows with cancellation)."""
    more_cancel = tmlr.loc[tmlr["L1 / |sum|, base"] > tmlr["L1 / |sum|, + IDGI"], "method"].tolist()
    return (
        "Cancellation: the base maps' L1 norm is " + ", ".join(f"{v:.1e}" for v in tmlr["L1 / |sum|, base"])
        + " times their sum, IDGI's " + ", ".join(f"{v:.1e}" for v in tmlr["L1 / |sum|, + IDGI"])
        + f" ({', '.join(tmlr.method)}; medians over the images): "
        + (f"the base maps cancel more for {len(more_cancel)} of {len(tmlr)} methods, so the study's measure, which "
           "grows with cancellation, leans towards IDGI there." if more_cancel else
           "no base map cancels more than its IDGI version, so the study's measure has no such bias here.")
    )  # fmt: skip


STEP_COLUMNS = ["steps", "against", "IG", "IG + IDGI", "p", "IDGI moves less"]


def step_sensitivity(maps: Maps, sweep: Sequence[int], n_boot: int, seed: int) -> pd.DataFrame:
    """How far IG's and IDGI's IG maps at each smaller step count lie from their map at the sweep's largest count
    (median relative L1, paired Wilcoxon test per count)."""
    last, rows = sweep[-1], []
    for n in sweep[:-1]:
        d = {k: conditioning.relative_change(maps("IG", n)[k], maps("IG", last)[k]) for k in (0, 1)}
        test = stats.paired_comparison(d[1], d[0], higher_is_better=False, n_boot=n_boot, seed=seed)
        rows.append({"steps": n, "against": last, "IG": float(np.median(d[0])), "IG + IDGI": float(np.median(d[1])),
                     "p": test["p"], "IDGI moves less": test["verdict"]})  # fmt: skip
    return pd.DataFrame(rows, columns=STEP_COLUMNS)


def steps_sentence(steps: pd.DataFrame, last: int, n_images: int) -> str:
    """At how many smaller step counts IDGI's map lies further from its largest-count map than IG's does."""
    done = tested(steps, "IDGI moves less")
    if not len(done):
        return few_images(n_images)
    n_more = int((done["IDGI moves less"] == "worse").sum())  # IDGI's map moves more with N
    n_less = int((done["IDGI moves less"] == "better").sum())
    return (f"IDGI's IG map lies further from its {last}-step map than IG's does at {n_more} of the "
            f"{len(done)} smaller step counts and nearer at {n_less} (median relative L1, paired test at "
            "5% each, no correction for the comparisons sharing one reference map).")  # fmt: skip


def card_claims(completeness: pd.DataFrame, reading: Completeness, riemann: pd.DataFrame, thm1: Theorem1,
                mass: pd.DataFrame, has_masks: bool, tmlr: pd.DataFrame, steps: pd.DataFrame, sweep: Sequence[int],
                n_images: int) -> list[dict[str, str]]:  # fmt: skip
    """The card's claims (artefact, claim, paper, ours, verdict, test) from the chapter's tables."""
    confounded = confounded_methods(riemann)
    confounded_card = ("; not counted (Riemann error of the order of the change): "
                       + "; ".join(f"{r.method} at {r.steps} steps, error {r['mean |error|']:.2g} against "
                                   f"{r['mean |change|']:.2g}"
                                   for _, r in riemann[riemann.method.isin(confounded)].iterrows())
                       if confounded else "")  # fmt: skip
    ig_errors = completeness.loc[completeness.method == "IG", "mean |error|"].tolist()
    error_chain = f"{ig_errors[0]:.1e}" + "".join(
        f" {'>' if b < a else '<='} {b:.1e}" for a, b in zip(ig_errors[:-1], ig_errors[1:], strict=True)
    )  # IG's mean error along the sweep, each step marked by whether it fell
    none_counted = report.not_measured(f"every base map misses completeness by at least {CONFOUNDED_FROM:.0%} of the "
                                       "output change")  # fmt: skip
    mass_tested = tested(mass, "IDGI more on object")
    mass_counted = mass_tested[~mass_tested.method.isin(confounded)]
    n_more = int((mass_tested["IDGI more on object"] == "better").sum())
    n_more_counted = int((mass_counted["IDGI more on object"] == "better").sum())
    jpeg_tested = tested(tmlr, "IDGI moves less")
    jpeg_counted = jpeg_tested[~jpeg_tested.method.isin(confounded)]
    steps_tested = tested(steps, "IDGI moves less")
    n_steps_more = int((steps_tested["IDGI moves less"] == "worse").sum())
    n_jpeg = {v: int((jpeg_tested["IDGI moves less"] == v).sum()) for v in ("better", "worse")}
    n_mse_lower = int((tmlr["TMLR MSE, + IDGI"] < tmlr["TMLR MSE, base"]).sum())
    return [
        {"artefact": "sec. 3.3", "claim": "IDGI is complete at any number of steps", "paper": "proved",
         "ours": f"max |error| {report.roundoff(reading.idgi_max_error, reading.roundoff_bound)} (IG, Guided IG, "
                 "Blur IG)",
         "verdict": "by construction" if reading.idgi_complete else "not reproduced",
         "test": "max over images of |sum(attr) + lost - (f(x) - f(x'))| (lost: the output change of the steps IDGI "
                 "skips, reported) below round-off (1e-5 x max(1, the table's largest mean |f(x) - f(x')|)); the sum "
                 "telescopes, so this checks the implementation, not the paper"},
        {"artefact": "sec. 2.2", "claim": "IG's Riemann sum is complete only as N grows",
         "paper": "stated", "ours": error_chain,
         "verdict": "reproduced" if reading.ig_converges else "not reproduced",
         "test": f"mean |error| falls at every step of the sweep {list(sweep)}"},
        {"artefact": "Fig. 2, Thm. 1", "claim": "a step's noise direction does not change f (to first order)",
         "paper": "proved",
         "ours": "on the 2D function of Fig. 2, |f(x*) - f(x_(j+1))| / |step change| of the noisiest step: "
                 + ", ".join(f"{r:.2f} at N = {t['N']}" for r, t in zip(thm1.ratios, thm1.steps, strict=True)),
         "verdict": "reproduced" if thm1.first_order else "not reproduced", "seed_independent": True,
         "test": f"the miss of the point reached along the gradient, relative to the step's change, falls as N grows "
                 f"and is below {THM1_TOLERANCE:.0%} at the largest N (first order: it shrinks with the step)"},
        {"artefact": "Fig. 3", "claim": "IDGI's maps are more concentrated on the object",
         "paper": "by eye (one image)",
         "ours": (f"more mass on the object for {n_more} of {len(mass_tested)} base methods; counted: "
                  + (f"{n_more_counted} of {len(mass_counted)}" if len(mass_counted) else none_counted)
                  + confounded_card if len(mass_tested)
                  else "not measured (no object masks)" if not has_masks
                  else f"not measured ({n_images} images: a paired test needs 5)"),
         "verdict": report.verdict(n_more_counted, len(mass_counted)) if len(mass_counted) else "not comparable",
         "test": "mass of |sum_c attr| on the object mask, IDGI vs base, paired Wilcoxon signed-rank test at 5% per "
                 "method, each base map at the chapter's steps; a base method whose map misses completeness by at "
                 f"least {CONFOUNDED_FROM:.0%} of the output change (Riemann error of the order of the change) is "
                 "reported, not counted; reproduced if every counted base method is better, partly if at least half, "
                 "else not reproduced; not comparable without a counted method"},
        {"artefact": "TMLR study, sec. numerical stability",
         "claim": "IDGI's maps move less under a lossy (JPEG-75) input",
         "paper": "protocol: JPEG-75, sum-normalised MSE (ImageNet); its results are not quoted here, so nothing is "
                  "reproduced",
         "ours": (f"TMLR measure lower for {n_mse_lower} of {len(tmlr)}; relative L1 change: less for "
                  f"{n_jpeg['better']}, more for {n_jpeg['worse']} of {len(jpeg_tested)}; counted: "
                  + (f"less for {int((jpeg_counted['IDGI moves less'] == 'better').sum())} of {len(jpeg_counted)}"
                     if len(jpeg_counted) else none_counted)
                  + confounded_card if len(jpeg_tested)
                  else "not measured (fewer than 5 images)"),
         "verdict": "not comparable",
         "test": "not comparable: the study's results (ImageNet) are not quoted, so nothing is reproduced; its "
                 "question asked of this chapter's maps: relative L1 change of each map under JPEG-75 (the study's "
                 "sum-normalised MSE is shown but grows with a map's cancellation), IDGI vs base, paired Wilcoxon "
                 "signed-rank test at 5% per method, each base map at the chapter's steps; a base method whose map "
                 f"misses completeness by at least {CONFOUNDED_FROM:.0%} of the output change (Riemann error of the "
                 "order of the change) is reported, not counted"},
        {"artefact": "TMLR study, sec. step count", "claim": "IDGI is more sensitive to the number of steps than IG",
         "paper": "examined for evaluation scores (ImageNet)",
         "ours": (f"IDGI's map moves more at {n_steps_more} of {len(steps_tested)} step counts" if len(steps_tested)
                  else "not measured"),
         "verdict": "not comparable",
         "test": "none that matches: the study measured evaluation scores against the step count, this chapter "
                 "measures the maps' change (paired Wilcoxon per step count, shown in 'ours')"},
    ]  # fmt: skip


def card_settings(system: str, n_images: int, sweep: Sequence[int], idgi_steps: int, blur_counts: Sequence[int],
                  blur_steps: int, output: str) -> list[tuple[str, str, str]]:  # fmt: skip
    """The card's settings rows: the paper's against this run's."""
    return [
        ("models", "11 ImageNet CNNs (TensorFlow)", system),
        ("images", "ImageNet validation (Fig. 3: one image)", f"{n_images} test images, predicted class explained"),
        ("steps", "200 for every method but VG (sec. 4.1)",
         f"completeness: IG {list(sweep)}, Guided IG {idgi_steps}, Blur IG {list(blur_counts)}; the maps (Fig. 3, "
         f"mass, JPEG): IG and Guided IG {idgi_steps}, Blur IG {blur_steps}"),
        ("attributed output", "softmax probability (reference code)", output),
        ("Riemann sums", "gradient at each step's start x_j (sec. 3)",
         "IG: at each step's end x_(j+1) (right sum, eq-ig); IDGI: at x_j"),
    ]  # fmt: skip


def noise_by_step(path: torch.Tensor, f_path: torch.Tensor, g_path: torch.Tensor, decomposed: list) -> pd.DataFrame:
    """Per step of the toy path (Theorem 1's decomposition ``decomposed``): the noise's length, the angle between the
    step and its gradient, the noise across and along the gradient, the output change and g . step, and the noise
    over its first-order part (the noise across g, which is exactly the step's component across g)."""
    rows = []
    for j, part in enumerate(decomposed):
        move = path[j + 1] - path[j]
        unit = g_path[j] / g_path[j].norm()  # the gradient's direction
        cos = float(move @ unit / move.norm())
        along = float(part["noise"] @ unit)  # the noise's component along the gradient
        rows.append({
            "step": j, "|noise|": float(part["noise"].norm()), "angle (deg)": float(np.degrees(np.arccos(cos))),
            "across g": float((part["noise"] - along * unit).norm()),
            "|step| sin(angle)": float(move.norm()) * float(np.sqrt(max(0.0, 1 - cos**2))), "along g": abs(along),
            "f change": float(f_path[j + 1] - f_path[j]), "g . step": float(g_path[j] @ move),
        })  # fmt: skip
    table = pd.DataFrame(rows)
    table["noise / first order"] = table["|noise|"] / table["across g"].clip(lower=1e-12)
    return table


def output_completeness(model, images: torch.Tensor, targets: torch.Tensor, n_steps: int = 16) -> dict:
    """IG's and IDGI's mean completeness error at ``n_steps`` for the logit and the probability, and each output's
    mean change from the black image: ``errors[output, idgi]`` and ``errors[output, "delta"]``."""
    errors = {}
    for name in ("logit", "probability"):
        method = IG(model, name)
        delta_f = method.forward_outputs(images, targets) - method.forward_outputs(torch.zeros_like(images), targets)
        for use_idgi in (False, True):
            attr = method.attribute(images, target=targets, n_steps=n_steps, idgi=use_idgi)
            errors[name, use_idgi] = float(method.completeness_error(images, attr, targets).abs().mean())
        errors[name, "delta"] = float(delta_f.abs().mean())
    return errors


def tiny_glue(at_guard: pd.Series, n_images: int) -> dict[str, object]:
    """The guard and the glued counts of the tiny-gradient steps below it (``at_guard``: the guard's row of
    :func:`conditioning.tiny_steps`)."""
    return {"tiny_steps": int(at_guard["steps below"]), "all_steps": int(at_guard["of steps"]),
            "tiny_images": report.counted(int(at_guard["images with such steps"]), n_images, "images"),
            "tiny_share": float(at_guard["share of all output change"]),
            "tiny_image_share": float(at_guard["largest share of an image's"]), "guard": GUARD}  # fmt: skip


def noise_glue(table: pd.DataFrame) -> dict[str, object]:
    """The glued values of the noise exercise (``table``: :func:`noise_by_step`): the quietest and the loudest step."""
    quiet, loud = table.loc[table["|noise|"].idxmin()], table.loc[table["|noise|"].idxmax()]
    return {"quiet_step": int(quiet.step), "quiet_noise": quiet["|noise|"], "quiet_angle": quiet["angle (deg)"],
            "quiet_across": quiet["across g"], "quiet_along": quiet["along g"], "quiet_df": quiet["f change"],
            "quiet_gdx": quiet["g . step"], "quiet_ratio": quiet["noise / first order"],
            "quiet_side": "short of" if quiet["f change"] < quiet["g . step"] else "beyond",
            "loud_step": int(loud.step), "loud_noise": loud["|noise|"],
            "loud_ratio": loud["noise / first order"]}  # fmt: skip


def output_glue(errors: Mapping, bounds: Mapping[str, float], n_images: int) -> dict[str, object]:
    """The glued values of the logit-against-probability exercise (``errors``: :func:`output_completeness`)."""
    relative = {name: errors[name, False] / max(errors[name, "delta"], 1e-300) for name in ("logit", "probability")}
    return {
        "few_images": n_images, "logit_delta": errors["logit", "delta"], "prob_delta": errors["probability", "delta"],
        "logit_ig_error": errors["logit", False], "prob_ig_error": errors["probability", False],
        "logit_ig_relative": relative["logit"], "prob_ig_relative": relative["probability"],
        "logit_error_direction": "larger" if errors["logit", False] > errors["probability", False] else "smaller",
        "logit_relative_direction": "larger" if relative["logit"] > relative["probability"] else "smaller",
        "logit_idgi_error": report.roundoff(errors["logit", True], bounds["logit"]),
    }  # fmt: skip
