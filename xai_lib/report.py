"""How a chapter reports: numbers glued into its prose, tables as HTML, and a reproduction card.

* :func:`glue` stores a value under a name (myst-nb's glue, with numpy scalars made plain Python so that
  ``{glue:text}`name:.3f``` formats them); the prose quotes results only through such names, so a re-execution on
  another model or profile cannot leave a sentence wrong.
* :func:`phrase` glues a sentence fragment chosen by a computed condition (a statement of direction).
* :func:`show` displays a DataFrame as an HTML table with fixed number formats (and a stable element id, so a
  re-execution changes the page only where the numbers change).
* :func:`card` displays the chapter's **reproduction card**: the paper's setting beside ours, and each claim with
  the paper's number, ours, and a verdict computed by :func:`verdict` (reproduced / partly / not reproduced / not
  comparable); the card is also glued as JSON (``card_json``) for the book's scorecard.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

#: what a claim's verdict can be: the paper's claim holds here (*reproduced*), holds in part of the comparable cells
#: (*partly*: at least half, :func:`verdict`), fails (*not reproduced*); the statistic's interval spans the decision
#: threshold (*inconclusive*: too few data to decide); true by the method's definition, so not evidence
#: (*by construction*); or no cell can be compared (*not comparable*)
VERDICTS = ("reproduced", "partly", "not reproduced", "inconclusive", "by construction", "not comparable")


def plain(value: Any) -> Any:
    """numpy scalars and 0-d tensors as Python numbers (their reprs would not format)."""
    if hasattr(value, "item") and getattr(value, "ndim", 0) == 0 and not isinstance(value, str):
        return value.item()
    if isinstance(value, np.generic):
        return value.item()
    return value


#: every value glued in this kernel, by name: the student edition reads them back (JupyterLab
#: with jupyterlab-myst renders ``{eval}`` roles, not the book's ``{glue:text}``): :func:`recall`
GLUED: dict[str, Any] = {}


def glue(name: str, value: Any, display: bool = False) -> None:
    """Glue ``value`` (made plain) under ``name`` (returns nothing: a cell that ends with a glue shows no output)."""
    from myst_nb import glue as nb_glue

    value = plain(value)
    if isinstance(value, float) and not math.isfinite(value):
        value = float("nan")
    GLUED[name] = value
    nb_glue(name, value, display=display)


def recall(name: str, fmt: str = "") -> Any:
    """The value last glued under ``name`` in this kernel, formatted as ``{glue:text}`name:fmt``` shows it (a
    string); a DataFrame or figure is returned as it is. Before the cell that glues it has run: a note saying so."""
    if name not in GLUED:
        return f"[{name}: not computed yet; run the chapter's cells, then this cell again]"
    value = GLUED[name]
    if isinstance(value, str | int | float | bool) or value is None:
        return format(value, fmt) if fmt else str(value)
    return value


#: an error that is zero in exact arithmetic and below this is shown as ``< 1e-05``: its digits are rounding (float32
#: round-off of sums of order one is about 1e-7) and differ from CPU to CPU, so they are neither printed nor checked
ROUNDOFF = 1e-5


def roundoff(value: float, bound: float = ROUNDOFF, fmt: str = "{:.1e}") -> str:
    """``value`` in ``fmt``, or ``"< bound"`` when ``|value|`` is below ``bound`` (round-off: see :data:`ROUNDOFF`);
    the bound is shown rounded up to one significant digit (1.44e-4 as ``< 2e-04``, never understated)."""
    value = float(plain(value))
    if not math.isfinite(value):
        return "n/a"
    if abs(value) >= bound:
        return fmt.format(value)
    exponent = math.floor(math.log10(bound))
    digit = math.ceil(round(bound / 10.0**exponent, 9))
    if digit == 10:
        digit, exponent = 1, exponent + 1
    return f"< {digit}e{exponent:+03d}"


def glue_all(prefix: str, values: Mapping[str, Any]) -> None:
    """Glue each ``values[k]`` as ``prefix + k``."""
    for k, v in values.items():
        glue(prefix + k, v)


def phrase(name: str, condition: bool, if_true: str, if_false: str) -> None:
    """Glue the fragment that is true of the computed ``condition`` (prose states directions only so)."""
    glue(name, if_true if condition else if_false)


def styled(df: pd.DataFrame, formats: Mapping[str, str] | str | None = "{:.3f}", caption: str | None = None,
           index: bool = False, uid: str | None = None):  # fmt: skip
    """A pandas Styler: numbers formatted (one format for every float column, or per column; other float columns
    ``{:.4g}``), NaN as "n/a", styled as the book's tables."""
    floats = [c for c in df.columns if pd.api.types.is_float_dtype(df[c])]
    if isinstance(formats, str):
        formats = dict.fromkeys(floats, formats)
    formats = {**dict.fromkeys(floats, "{:.4g}"), **(formats or {})}
    styler = df.style.format(formats, na_rep="n/a").set_table_attributes('class="table table-sm dataframe"')
    if not index:
        styler = styler.hide(axis="index")
    if caption:
        styler = styler.set_caption(caption)
    if uid is None:  # stable across runs (Python's hash() of strings is salted per process)
        uid = "t" + hashlib.sha1(repr((list(map(str, df.columns)), caption, len(df))).encode()).hexdigest()[:10]
    return styler.set_uuid(uid)


class Table:
    """A table for display and glue: HTML from the Styler, and the same numbers as fixed-width text (both
    deterministic, so a checked cell compares equal on every re-run)."""

    def __init__(self, df: pd.DataFrame, formats=None, caption: str | None = None, index: bool = False, uid=None):
        self.styler = styled(df, formats, caption, index, uid)
        self.text = self.styler.to_string(delimiter="  ")

    def _repr_html_(self) -> str:
        return self.styler.to_html()

    def __repr__(self) -> str:
        return self.text


def show(df: pd.DataFrame, formats: Mapping[str, str] | str | None = "{:.3f}", caption: str | None = None,
         index: bool = False) -> None:  # fmt: skip
    """Display ``df`` as an HTML table (and as aligned text in the notebook file)."""
    from IPython.display import display

    display(Table(df, formats, caption, index))


#: the share of comparable cells that must agree with the paper for *partly* (one rule for every card)
PARTLY_FROM = 0.5


def verdict(agreeing: int, total: int) -> str:
    """The verdict of a claim tested cell by cell: ``reproduced`` when every comparable cell agrees with the paper's
    claim, ``partly`` when at least :data:`PARTLY_FROM` of them do, ``not reproduced`` below that, ``not comparable``
    without any comparable cell."""
    if total == 0:
        return "not comparable"
    if agreeing == total:
        return "reproduced"
    return "partly" if agreeing >= PARTLY_FROM * total else "not reproduced"


def verdict_with_undecided(passing: int, undecided: int, total: int) -> str:
    """The card verdict (:func:`verdict`) of a claim tested member by member when ``undecided`` of the
    ``total`` members could not be decided (an interval that spans the threshold): the verdict if it is the same
    whether they all pass or all fail, else ``inconclusive``."""
    if passing < 0 or undecided < 0 or passing + undecided > total:
        raise ValueError(f"passing, undecided: expected non-negative counts within total {total}, got {passing}, "
                         f"{undecided}")  # fmt: skip
    low, high = verdict(passing, total), verdict(passing + undecided, total)
    return low if low == high else "inconclusive"


def interval_verdict(low: float, high: float, threshold: float = 0.0, claimed: str = "above") -> str:
    """The verdict of a claim about one statistic with a confidence interval ``[low, high]``: ``reproduced`` when
    the whole interval lies on the claimed side of ``threshold`` (``claimed``: "above" or "below"), ``not
    reproduced`` when it lies wholly on the other side, ``inconclusive`` when it spans the threshold (too few data
    to decide), ``not comparable`` when the interval could not be computed (NaN)."""
    if claimed not in ("above", "below"):
        raise ValueError(f"claimed: expected 'above' or 'below', got {claimed!r}")
    if not (math.isfinite(low) and math.isfinite(high)):
        return "not comparable"
    above, below = low > threshold, high < threshold
    if claimed == "below":
        above, below = below, above
    return "reproduced" if above else "not reproduced" if below else "inconclusive"


#: a close call: the interval's end nearer the threshold lies within this share of the interval's half-width of it
#: (half the half-width of a 95% interval is about one standard error of the estimate)
CLOSE_SHARE = 0.5


def close_call(low: float, high: float, threshold: float, share: float = CLOSE_SHARE) -> bool:
    """Whether an end of the interval ``[low, high]`` lies within ``share`` of the interval's half-width of
    ``threshold`` (with the default, about one standard error): a verdict that another sample of the same size
    (another training, other images) could move to or from *inconclusive*. The margin scales with the interval, so a
    wide interval's near miss counts as a narrow one's. ``False`` for an interval that could not be computed (NaN)."""
    if share < 0:
        raise ValueError(f"share: expected a non-negative number, got {share}")
    if not (math.isfinite(low) and math.isfinite(high)):
        return False
    return min(abs(low - threshold), abs(high - threshold)) <= share * (high - low) / 2


def close_calls(
    table: pd.DataFrame, threshold: float, labels: Sequence[str], share: float = CLOSE_SHARE,
    low: str = "CI low", high: str = "CI high", what: str = "",
) -> str:  # fmt: skip
    """A sentence naming the rows of ``table`` whose interval (columns ``low``, ``high``) ends close to
    ``threshold`` (:func:`close_call`), each named by its ``labels`` columns joined by a space; ``what`` names the
    test (e.g. ``" of the card's test"``); empty when there is none, so that it can follow any count of verdicts."""
    missing = [c for c in (*labels, low, high) if c not in table.columns]
    if missing:
        raise ValueError(f"table: missing columns {missing}")
    close = [close_call(lo, hi, threshold, share) for lo, hi in zip(table[low], table[high], strict=True)]
    names = [" ".join(str(r[c]) for c in labels) for (_, r), c in zip(table.iterrows(), close, strict=True) if c]
    if not names:
        return ""
    return (f" Close calls{what} (an interval end within about one standard error of {threshold:g}, so that another "
            f"sample could move the verdict): {', '.join(names)}.")  # fmt: skip


def counted(n: int, total: int, noun: str = "", none: str | None = None) -> str:
    """``"3 of 5 cells"``; with ``none`` and ``total == 0``: that text instead (a measurement that could not be
    made is said so, never "0 of 0")."""
    if total == 0 and none is not None:
        return none
    return f"{n} of {total}" + (f" {noun}" if noun else "")


def numbered(n: int, one: str, many: str) -> str:
    """``n`` and the word that agrees with it: ``numbered(1, "lies", "lie")`` is ``"1 lies"``, with 2 ``"2 lie"``."""
    return f"{n} {one if n == 1 else many}"


def printed(value: float, fmt: str) -> str:
    """``value`` in ``fmt``, without the sign of a value that prints as zero (``-0%`` is ``0%``; with a ``+`` format,
    ``+0``)."""
    text = format(value, fmt)
    if text.startswith("-") and not any(c in "123456789" for c in text):
        return ("+" if fmt.startswith("+") else "") + text[1:]
    return text


def shown(value: float, fmt: str = ".3f") -> str:
    """``value`` in ``fmt``, or "not measured" where it could not be computed (NaN: e.g. a within-class correlation
    on fewer than 3 validation images of a class)."""
    return format(value, fmt) if np.isfinite(value) else "not measured"


def span(values, fmt: str, sep: str = " to ") -> str:
    """The range of ``values`` in ``fmt``: ``"lo to hi"`` (``sep`` between them), or one value when both ends print
    alike; values that could not be computed (NaN) are left out, and "not measured" stands for none at all."""
    finite = [float(v) for v in values if not math.isnan(float(v))]
    if not finite:
        return "not measured"
    lo, hi = printed(min(finite), fmt), printed(max(finite), fmt)
    return lo if lo == hi else f"{lo}{sep}{hi}"


def listed(names) -> str:
    """``"a, b and c"`` (``""`` for no names: callers say "not measured" first)."""
    names = [str(n) for n in names]
    return ", ".join(names[:-1]) + " and " + names[-1] if len(names) > 1 else "".join(names)


def not_measured(reason: str, start: bool = False) -> str:
    """The book's wording for a measurement that could not be made: ``"not measured: <reason>"``; with ``start``
    (the text begins a sentence or a bullet): ``"Not measured: <reason>"``."""
    return f"{'Not' if start else 'not'} measured: {reason}"


#: the columns of a reproduction card's claims
CARD_COLUMNS = ["artefact", "claim", "paper", "ours", "verdict", "test"]
#: the verdicts of the book's default runs with the other training seeds (``data_scripts/seed_study.py``)
SEED_VERDICTS = Path(__file__).resolve().parent / "reference" / "seed_verdicts.csv"
#: the seeds the study trains besides seed 0 (the shipped models)
STUDY_SEEDS = (1, 2)


def settings_key(chapter: str, settings: Sequence[tuple[str, str, str]]) -> str:
    """What identifies a run's configuration on its card (the chapter and its settings rows, which name systems,
    image counts and steps but not the seed): runs with the same key differ only in their seed."""
    blob = json.dumps([chapter, [list(map(str, row)) for row in settings]])
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def seed_verdicts(chapter: str, key: str, path=None) -> pd.DataFrame | None:
    """The study's verdicts for this chapter's configuration (``artefact``, ``claim``, ``test``, ``seed``,
    ``verdict``), or ``None`` when the study did not run this configuration with every seed of :data:`STUDY_SEEDS`
    (or its table predates the ``test`` column, so its rules are unknown)."""
    path = Path(SEED_VERDICTS if path is None else path)
    if not path.exists():
        return None
    table = pd.read_csv(path, dtype=str, keep_default_na=False)
    if "test" not in table.columns:
        return None
    rows = table[(table.chapter == chapter) & (table.settings_key == key)]
    if not len(rows) or {str(s) for s in STUDY_SEEDS} - set(rows.seed):
        return None
    return rows.assign(seed=rows.seed.astype(int))


#: the seed columns of a card whose chapter trains no model (``card(..., seed_independent=True)``)
NOT_APPLICABLE = "not applicable"


#: the ``across seeds`` value of a claim that no seed could compare: nothing was tested, so nothing can be stable
NOTHING_COMPARED = "nothing compared"


def across_seeds(verdicts: Sequence[str]) -> str:
    """``stable`` when every seed gives the same verdict, else ``unstable``; :data:`NOTHING_COMPARED` when every
    seed's verdict is *not comparable* (the same verdict, but no evidence that a retraining could have moved);
    :data:`NOT_APPLICABLE` when every seed's verdict is *by construction* (true by the method's definition: no
    retraining can move it)."""
    if set(verdicts) == {"not comparable"}:
        return NOTHING_COMPARED
    if set(verdicts) == {"by construction"}:
        return NOT_APPLICABLE
    return "stable" if len(set(verdicts)) == 1 else "unstable"


def stability_sentence(claims: pd.DataFrame, seed: int = 0, seed_independent: bool = False) -> str:
    """One sentence on whether a card's verdicts survive retraining (the ``across seeds`` column of
    :func:`card`): how many of the measured claims are stable, and each unstable claim with its three verdicts.
    A run with another seed, or a configuration the study did not run, says the comparison was not made."""
    if seed_independent:
        return "No verdict here depends on a trained model, so retraining cannot change one."
    if seed != 0:
        return (f"This run trains with seed {seed}; the seed study compares the verdicts of seed 0's run with "
                f"seeds {', '.join(map(str, STUDY_SEEDS))}.")  # fmt: skip
    col = f"seeds 0 / {' / '.join(map(str, STUDY_SEEDS))}"
    measured = claims[claims["across seeds"].isin(("stable", "unstable"))]
    n_none = int((claims["across seeds"] == NOTHING_COMPARED).sum())
    n_free = int((claims["across seeds"] == NOT_APPLICABLE).sum())
    seeds = ", ".join(map(str, (0, *STUDY_SEEDS)))
    free_text = (f"{numbered(n_free, 'has a verdict', 'have verdicts')} that no retraining can change (true "
                 "by construction, or computed without a trained model), not counted as stable")  # fmt: skip
    if not len(measured) and n_none:  # the study ran, but no seed gave a verdict to compare
        return (f"Across the seed study's {len(STUDY_SEEDS) + 1} trainings of the default models (seeds {seeds}), "
                f"every verdict that the study measured ({n_none}) is *not comparable* with every seed: there was no "
                "verdict to compare, so none is counted as stable" + (f"; {free_text}" if n_free else "")
                + ".")  # fmt: skip
    if not len(measured):
        return not_measured("the seed study did not run this configuration, so whether these verdicts survive "
                            "retraining is unknown", start=True) + "." + (
            f" Of these claims, {free_text}." if n_free else "")  # fmt: skip
    unstable = measured[measured["across seeds"] == "unstable"]
    same = counted(len(measured) - len(unstable), len(measured), "measured verdicts")
    text = (f"Across the seed study's {len(STUDY_SEEDS) + 1} trainings of the default models (seeds {seeds}), "
            f"{same} are the same with every seed (stable)")  # fmt: skip
    if n_none:
        text += (f"; {numbered(n_none, 'more is', 'more are')} *not comparable* with every seed, so there was no "
                 f"verdict to compare and {'it is' if n_none == 1 else 'they are'} not counted as stable")  # fmt: skip
    if n_free:
        text += "; " + free_text
    if not len(unstable):
        return text + "."

    def reading(seeds_text: str) -> str:
        """What the seeds' verdicts agree on: a "partly" falls short of the claim in part, an "inconclusive" decides
        nothing (the seeds that could decide are read, and the others named)."""
        labels = set(seeds_text.split(" / "))
        decided, undecided = labels - {"inconclusive"}, "inconclusive" in labels
        which = " that could decide it, though not every seed could" if undecided else ""
        if decided == {"reproduced"}:
            return "no seed contradicts it, but not every seed could decide it"
        if decided == {"not reproduced"}:
            return "no seed reproduces it, but not every seed could decide it"
        if decided == {"partly"}:
            return f"partly with every seed{which}: no seed finds it in full or not at all"
        if decided <= {"reproduced", "partly"}:
            return (f"at least partly with every seed{which}: the claim's direction survives retraining, its extent "
                    "does not")  # fmt: skip
        if decided <= {"not reproduced", "partly"}:
            return (f"at most partly with every seed{which}: its shortfall survives retraining, its extent does "
                    "not")  # fmt: skip
        return "no direction holds with every seed: not evidence either way"

    listed = "; ".join(f"{r['claim']} ({r['artefact']}): {r[col]} ({reading(r[col])})"
                       for _, r in unstable.iterrows())  # fmt: skip
    return f"{text}; unstable (the label moves with the training seed): {listed}."


def card(
    chapter: str,
    settings: Sequence[tuple[str, str, str]],
    claims: Sequence[Mapping[str, Any]],
    out=None,
    seed: int = 0,
    seed_independent: bool = False,
) -> pd.DataFrame:
    """Glue the reproduction card, which the chapter's opening pastes (``{glue:} card_settings`` and
    ``{glue:} card_claims``). ``settings``: (aspect, the paper, ours) rows; ``claims``: dicts with ``artefact``,
    ``claim``, ``paper``, ``ours``, ``verdict`` (one of :data:`VERDICTS`) and ``test`` (which test and tolerance
    decide the verdict). For seed 0, each claim gets its verdicts with the other training seeds of the seed study
    (``seeds 0 / 1 / 2``; a study row counts only for the same artefact, claim and test text) and whether they
    agree (``across seeds``: stable / unstable, or :data:`NOTHING_COMPARED` when every seed's verdict is *not
    comparable*), where the study ran this configuration; else "not measured".
    ``seed_independent=True`` (a chapter without a trained model, whose numbers no training seed can change): both
    seed columns say :data:`NOT_APPLICABLE` and the study is not consulted; a claim with ``"seed_independent": True``
    (computed without a trained model in a chapter that has one) gets the same. Also saved as ``card.csv`` in ``out``
    when given; returns the claims table."""
    for c in claims:
        if c["verdict"] not in VERDICTS:
            raise ValueError(f"verdict: expected one of {list(VERDICTS)}, got {c['verdict']!r}")
    setting_df = pd.DataFrame(settings, columns=["", "the paper", "this chapter"])
    claim_df = pd.DataFrame(claims, columns=CARD_COLUMNS).fillna({"test": ""})
    key = settings_key(chapter, settings)
    study = seed_verdicts(chapter, key) if seed == 0 and not seed_independent else None
    seeds_col, stable_col = [], []
    free = [seed_independent or bool(c.get("seed_independent")) for c in claims]
    for c, claim_free in zip(claim_df.itertuples(), free, strict=True):
        if claim_free:
            seeds_col.append(NOT_APPLICABLE)
            stable_col.append(NOT_APPLICABLE)
            continue
        # the same claim decided by the same test: a rule changed since the study (same words, other test) is not
        # paired with verdicts of the old rule
        found = None if study is None else study[(study.artefact == c.artefact) & (study.claim == c.claim)
                                                 & (study.test == c.test)]  # fmt: skip
        if found is None or not len(found):
            seeds_col.append("not measured")
            stable_col.append("not measured")
            continue
        verdicts = [c.verdict, *(found.set_index("seed").verdict.get(s, "missing") for s in STUDY_SEEDS)]
        seeds_col.append(" / ".join(verdicts))
        stable_col.append(across_seeds(verdicts))
    claim_df.insert(5, f"seeds 0 / {' / '.join(map(str, STUDY_SEEDS))}", seeds_col)
    claim_df.insert(6, "across seeds", stable_col)
    glue("summary_seeds", stability_sentence(claim_df, seed, seed_independent))
    glue("card_settings", Table(setting_df, None, "Reproduction card: setting", uid=f"{chapter}-setting"))
    glue("card_claims", Table(claim_df, None, "Reproduction card: claims", uid=f"{chapter}-claims"))
    glue("card_json", json.dumps({"chapter": chapter, "settings_key": key, "seed": seed,
                                  "claims": claim_df.to_dict("records")}))  # fmt: skip
    if out is not None:
        from .plotting import save_table

        save_table(claim_df.assign(chapter=chapter, settings_key=key, seed=seed), out / "card.csv")
    return claim_df


def glued(path, name: str):
    """The value glued under ``name`` in an executed notebook (``None`` when it is not there)."""
    import ast

    import nbformat

    nb = nbformat.read(str(path), as_version=4)
    for cell in nb.cells:
        for o in cell.get("outputs", []):
            if o.get("metadata", {}).get("scrapbook", {}).get("name") == name:
                data = o.get("data", {})
                text = data.get("text/plain", data.get("application/papermill.record/text/plain"))
                try:
                    return ast.literal_eval(text)
                except (ValueError, SyntaxError):
                    return text
    return None


def read_card(path) -> dict | None:
    """The reproduction card glued in one executed notebook (``chapter``, ``settings_key``, ``seed``, ``claims``), or
    ``None``."""
    value = glued(path, "card_json")
    return None if value is None else json.loads(value)


def read_cards(folder) -> pd.DataFrame:
    """Every chapter's reproduction card (glued as ``card_json``) in the notebooks of ``folder``, one table."""
    rows = []
    for path in sorted(Path(folder).glob("[0-9][0-9]_*.ipynb")):
        card_data = read_card(path)
        if card_data is None:
            continue
        for claim in card_data["claims"]:
            seeds = next((v for k, v in claim.items() if k.startswith("seeds ")), None)
            rows.append({"chapter": card_data["chapter"], **claim, "seeds": seeds})
    columns = ["chapter", *CARD_COLUMNS[:5], "seeds", "across seeds", "test"]
    missing = {"test": "", "seeds": "not measured", "across seeds": "not measured"}
    return pd.DataFrame(rows, columns=columns).fillna(missing)
