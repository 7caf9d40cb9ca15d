# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# (scorecard)=
# # Scorecard
#
# Every paper chapter opens with a reproduction card: the paper's setting beside ours, and each claim with the paper's
# number, ours, a verdict computed from the chapter's outputs, and the test that decides it. The vocabulary of
# verdicts: *reproduced* (the chapter's numbers agree with the claim), *partly* (they agree with part of it, for
# instance with some of the cells the claim covers but not all), *not reproduced* (they contradict it),
# *inconclusive* (they cannot decide it, for instance because an interval spans the decision threshold or too few
# cells could be compared), *by construction* (true by the method's definition, so not evidence) and *not
# comparable* (nothing in the chapter can be compared with the paper's claim). Which numbers, which test and which
# tolerance turn a claim into one of these words differs from claim to claim: each card's *test* column states its
# own rule.
#
# A verdict is evidence only if it survives retraining: the {term}`seed study` recomputes every claim with the
# default models trained from two other seeds, and a claim whose three verdicts agree is *stable* (unless all three
# are *not comparable*: then there is no verdict to compare, and its *across seeds* says *nothing compared*; or all
# three *by construction*: then no seed could change it, and it says *not applicable*). Once the study has run, the
# table below shows each claim's three verdicts and the count of reproduced claims separates the stable ones from the
# others; where it has not run for a claim, its seed columns say *not measured*; a claim computed without a trained
# model (the rotation toy, a claim on a fixed function) says *not applicable* in both. This page gathers the
# cards of the executed chapters in one table.

# %% [markdown] tags=["instructor"]
# ````{admonition} Instructor notes
# :class: dropdown
# **Learning objectives in practice.**
# * For any row of the table, say which test and which tolerance produced its verdict (the *test* column), and what
#   result would have changed it.
# * Tell a verdict that is evidence (reproduced and stable across seeds) from one that is not yet (unstable,
#   inconclusive, by construction, not comparable), and say what would make an inconclusive claim decidable.
# * Read the seed columns: which claims change with the training seed, and why a chapter without a trained model
#   has no seed study.
#
# **Common misconceptions.**
# 1. "*Reproduced* means we matched the paper's number." The book runs small models on small datasets; a verdict
#    tests the claim's direction or threshold under the stated rule, never the paper's value
#    ({glue:text}`seed_free_exception`). *Exposed by*: the full table's *paper*, *ours* and *test* columns side by
#    side: the numbers differ, the test says what had to agree.
# 2. "*Inconclusive* is a polite *not reproduced*." It means the chapter's stated rule cannot decide the claim, in
#    either direction; the row's *test* column says what left it undecided. The inconclusive rows of this table, one
#    per chapter: {glue:text}`inconclusive_examples`; each row's *test* column gives its rule. *Exposed by*: the counts
#    table "claims per verdict", which keeps the two apart ({glue:text}`n_inconclusive` inconclusive against {glue:text}`n_not_reproduced` not
#    reproduced); read the *test* column of an inconclusive row for its rule, then its *ours* column for the numbers
#    that rule could not decide.
# 3. "A verdict with seed 0 is a finding." A verdict can flip when the same models are trained from another seed.
#    *Exposed by*: the *seeds* and *across seeds* columns, and the sentence above the table:
#    {glue:text}`seed_summary`
#
# **Discussion prompts.**
# 1. Which claims would you cite as reproduced in a report? *Expected answer*: those reproduced and stable across
#    seeds ({glue:text}`n_reproduced_stable` here), and among them only those whose *test* decides the paper's own
#    claim rather than a weaker one (e.g. "beyond chance" where the paper says "distinct gaps"); not the
#    {glue:text}`n_reproduced_unstable` reproduced with seed 0 but not with every seed (the seed study's sentence
#    above the table). The rotation-toy claims ({doc}`06_rotation_toy`) are a different kind: closed-form
#    computations on a model that no one trains, so they have no seed study; cite them as computed properties of
#    the toy, not as results that survived retraining.
# 2. Why are *by construction* claims not counted as evidence? *Expected answer*: they hold by the method's
#    definition (completeness of an attribution, a bound that any model satisfies): a failure would be a bug in the
#    code, so a pass tests the implementation, not the paper's empirical claim.
# 3. An inconclusive claim: what would you change to decide it, and what must you not change? *Expected answer*:
#    more images or more wrong predictions (a narrower interval), or a higher iteration cap for an optimisation
#    still rising at it, fixed in advance; not the threshold, the tolerance or the subset of cells after seeing the
#    result.
#
# **What to project.**
# 1. The counts table "claims per verdict (seed 0)": the shape of the evidence per chapter.
# 2. The full table, filtered to the rows whose *across seeds* is unstable: what changes with the seed.
# 3. One row per verdict word, read through its *test* column.
# ````

# %% tags=["remove-cell"]
# Colab, Binder or a fresh kernel: install xai_lib when it is missing, from XAI_LIB_SOURCE (a git URL, checkout or
# wheel) or else from the clone this notebook sits in; where xai_lib is installed this cell does nothing.
def _install_xai_lib() -> None:
    import importlib.util
    import os
    import subprocess
    import sys
    from pathlib import Path

    if importlib.util.find_spec("xai_lib") is not None:
        return
    here = Path.cwd().resolve()
    clone = next((p for p in (here, *here.parents) if (p / "xai_lib" / "__init__.py").is_file()), None)
    source = os.environ.get("XAI_LIB_SOURCE") or (str(clone) if clone else None)
    if source is None:
        raise RuntimeError("xai_lib is not installed: set XAI_LIB_SOURCE (e.g. git+https://...) and re-run this cell")
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", source], check=True)
    importlib.invalidate_caches()


_install_xai_lib()

# %% tags=["parameters"]
notebooks_dir = "."  # where the executed chapters are (their glued cards are read from there)
output_dir = "outputs/scorecard"

# %%
# NBVAL_CHECK_OUTPUT
from pathlib import Path

import pandas as pd
from myst_nb import glue as nb_glue

from xai_lib import params, report
from xai_lib.plotting import save_table
from xai_lib.report import VERDICTS, read_cards

out = params.output_dir("output_dir", output_dir)
cards = read_cards(Path(notebooks_dir))
# a seed whose verdict the study did not record ("missing" in the seeds column) was not measured: such a claim is
# counted, and shown, as not measured across seeds, never as unstable
seed_missing = cards["seeds"].astype(str).str.contains("missing")
cards.loc[seed_missing, "across seeds"] = "not measured"
cards.loc[seed_missing, "seeds"] = cards.loc[seed_missing, "seeds"].str.replace("missing", "not measured")
save_table(cards, out / "scorecard.csv")
counts = (
    cards.groupby(["chapter", "verdict"]).size().unstack(fill_value=0).reindex(columns=list(VERDICTS), fill_value=0)
    if len(cards)
    else pd.DataFrame(columns=list(VERDICTS))
)
# a claim no seed can change (its card says "not applicable": a chapter without a trained model, a claim computed on a
# fixed function, a verdict by construction with every seed): neither measured nor counted as stable
seed_free = cards["across seeds"] == report.NOT_APPLICABLE
measured = cards[cards["across seeds"].isin(["stable", "unstable"])]
stable = cards["across seeds"] == "stable"
reproduced = cards.verdict == "reproduced"
for verdict in VERDICTS:
    report.glue(f"n_{verdict.replace(' ', '_')}", int((cards.verdict == verdict).sum()))
n_claims, n_measured = len(cards), len(measured)
n_reproduced_stable = int((reproduced & stable).sum())
n_reproduced_unstable = int((reproduced & (cards["across seeds"] == "unstable")).sum())
n_toy_reproduced = int((reproduced & seed_free).sum())
# reproduced with another seed of the study but not with seed 0 (the seeds column reads "seed 0 / seed 1 / seed 2")
seed_lists = cards["seeds"].astype(str).str.split(" / ")
n_reproduced_elsewhere = int(
    sum(len(v) > 1 and v[0] != "reproduced" and "reproduced" in v[1:] for v in seed_lists if isinstance(v, list))
)
report.glue("n_reproduced_stable", n_reproduced_stable)
report.glue("n_reproduced_unstable", n_reproduced_unstable)
report.glue("n_claims", n_claims)
report.glue("n_chapters", cards.chapter.nunique())
report.glue("n_stable", int(stable.sum()))
report.glue("n_unstable", int((cards["across seeds"] == "unstable").sum()))
report.glue("n_seed_measured", n_measured)
n_seed_free = int(seed_free.sum())
seed_free_chapters = list(dict.fromkeys(cards.chapter[seed_free]))
seed_free_text = (f" Not applicable: {n_seed_free} claims (in {', '.join(seed_free_chapters)}) that no seed can "
                  "change (computed without a trained model, or true by construction with every seed); they are not "
                  "counted as stable." if n_seed_free else "")  # fmt: skip
if n_claims == 0:
    seed_core = report.not_measured("no executed chapter with a reproduction card was found", start=True) + "."
elif n_measured == 0:
    seed_core = (
        "Across training seeds: not measured (the seed study has not been run), so every count below is that of the "
        "models trained with seed 0."
    )
else:
    seed_core = (
        f"The seed study measured {n_measured} of the {n_claims} claims; {int(stable.sum())} have the same verdict with all three "
        f"training seeds and {int((cards['across seeds'] == 'unstable').sum())} do not. Reproduced with seed 0 but "
        f"not with every seed: {n_reproduced_unstable}; reproduced with another seed but not with seed 0: "
        f"{n_reproduced_elsewhere}"
    )
    n_nothing = int((cards["across seeds"] == report.NOTHING_COMPARED).sum())
    if n_nothing:
        seed_core += f"; not comparable with every seed, so not counted as stable: {n_nothing}"
    n_unmeasured_claims = n_claims - n_measured - n_seed_free - n_nothing
    if n_unmeasured_claims:
        n_unmeasured = int((reproduced & (cards["across seeds"] == "not measured")).sum())
        seed_core += (
            f"; reproduced with seed 0 and not measured across seeds: {n_unmeasured} (the study did not measure "
            f"{n_unmeasured_claims} claims with every seed)"
        )
    seed_core += "."
seed_summary = seed_core + seed_free_text
report.glue("seed_summary", seed_summary)
# the page's opening: reproduced-and-stable first, the seed-free toy's claims apart, seed 0's counts last
if n_claims == 0:
    headline = (
        report.not_measured(
            f"no executed chapter with a reproduction card was found in {notebooks_dir!r}, so there is nothing to count",
            start=True,
        )
        + "."
    )
else:
    stable_text = (
        f"Reproduced and stable across the seed study's three training seeds: {n_reproduced_stable} of the "
        f"{n_claims} claims"
        if n_measured
        else "Reproduced and stable across training seeds: not measured (the seed study has not been run)"
    )
    toy_text = (
        f"; besides them, {n_toy_reproduced} of the {n_seed_free} claims that no seed can change "
        f"(in {', '.join(seed_free_chapters)}) are reproduced as computed properties of a fixed function"
        if n_seed_free
        else ""
    )
    seed0_text = "; ".join(f"{int((cards.verdict == v).sum())} {v}" for v in VERDICTS)
    headline = (
        f"The executed chapters make {n_claims} claims in {cards.chapter.nunique()} chapters. {stable_text}"
        f"{toy_text}. {seed_core} With seed 0 alone: {seed0_text}."
    )
report.glue("headline", headline)
# verdict (seed 0) against what the seed study says of it
SEED_STATES = ["stable", "unstable", report.NOTHING_COMPARED, "not measured", report.NOT_APPLICABLE]
# every claim is counted in one of the columns
assert set(cards["across seeds"]) <= set(SEED_STATES), set(cards["across seeds"]) - set(SEED_STATES)
by_seeds = (
    pd.crosstab(cards.verdict, cards["across seeds"])
    .reindex(index=list(VERDICTS), columns=SEED_STATES, fill_value=0)
    .fillna(0)
    .astype(int)
    .rename_axis(index="verdict (seed 0)", columns=None)
    .reset_index()
)
nb_glue("verdict_by_seeds", report.Table(by_seeds, None, "claims per verdict (seed 0) and across seeds"), False)
# the rules that left claims undecided: the inconclusive rows themselves (one example per chapter)
inconclusive = cards[cards.verdict == "inconclusive"].drop_duplicates("chapter")
if len(inconclusive):
    inconclusive_examples = "; ".join(f"'{r.claim}' ({r.chapter})" for r in inconclusive.itertuples())
else:
    inconclusive_examples = "no claim of the executed chapters is inconclusive, so there is no example here"
report.glue("inconclusive_examples", inconclusive_examples)
# misconception 1 does not hold for a chapter whose every claim is seed-free: its toy is the paper's own model
toy_chapters = [
    ch for ch, g in cards.groupby("chapter", sort=False) if (g["across seeds"] == report.NOT_APPLICABLE).all()
]
report.glue("seed_free_exception", (
    f"the exception is {', '.join(toy_chapters)}, whose closed-form toy is the paper's own model, so there the "
    "numbers can be the paper's" if toy_chapters else "no chapter of this table is an exception"
))  # fmt: skip
card_chapters = list(dict.fromkeys(cards.chapter))
report.glue("card_chapters", ", ".join(card_chapters) if card_chapters else "none (no executed card was found)")
report.show(counts.reset_index(), None, caption="claims per verdict (seed 0)")

# %% [markdown]
# {glue:text}`headline`
#
# Each verdict with seed 0 against what the seed study says of it (*not measured*: the study has no verdict for it
# with every seed; *not applicable*: no seed can change it):
#
# ```{glue:} verdict_by_seeds
# ```
#
# Every claim, with the chapter that tests it, its verdict with seed 0, its verdicts with seeds 0, 1 and 2 where the
# seed study has measured them, and the test that decides it:

# %%
# NBVAL_CHECK_OUTPUT
report.show(cards[["chapter", "artefact", "claim", "paper", "ours", "verdict", "seeds", "across seeds", "test"]], None)

# %% [markdown]
# Each card is computed where its numbers are: re-running a chapter on another profile or your own system updates its
# card (in that run's notebook and in `card.csv` in its output folder). The seed study covers only the book's own
# runs, so the seed columns of any other run say "not measured" (or "not applicable" for a claim no seed can change);
# for the book's runs they show the study's verdicts
# once it has been run and "not measured" before. This page reads the book's executed chapters. The seed study is
# `python -m data_scripts.seed_study` ({doc}`../book/how_to_run`). The cards on this page come from
# {glue:text}`card_chapters`; each chapter's card opens it, and the chapter's sections hold the tables behind its
# verdicts.
