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
# number, ours, a verdict computed from the chapter's outputs, and the test that decides it. The verdicts:
# *reproduced* (every comparable cell agrees with the paper's claim), *partly* (at least half do), *not reproduced*
# (fewer), *inconclusive* (the interval on the claim's statistic spans the decision threshold: too few data to
# decide), *by construction* (true by the method's definition, so not evidence) and *not comparable* (no cell can be
# compared, for instance a claim the paper makes by eye). A verdict is evidence only if it survives retraining: the
# {term}`seed study` recomputes every claim with the default models trained from two other seeds, and a verdict is
# *stable* when all three agree. This page gathers the cards of the executed chapters in one table; the count of
# reproduced claims counts only stable ones.

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

from xai_lib import params, report
from xai_lib.plotting import save_table
from xai_lib.report import VERDICTS, read_cards

out = params.output_dir("output_dir", output_dir)
cards = read_cards(Path(notebooks_dir))
save_table(cards, out / "scorecard.csv")
counts = (
    cards.groupby(["chapter", "verdict"]).size().unstack(fill_value=0).reindex(columns=list(VERDICTS), fill_value=0)
)
measured = cards[cards["across seeds"] != "not measured"]
stable = cards["across seeds"] == "stable"
for verdict in VERDICTS:
    report.glue(f"n_{verdict.replace(' ', '_')}", int((cards.verdict == verdict).sum()))
report.glue("n_reproduced_stable", int(((cards.verdict == "reproduced") & stable).sum()))
report.glue(
    "n_reproduced_unstable", int(((cards.verdict == "reproduced") & (cards["across seeds"] == "unstable")).sum())
)
report.glue("n_claims", len(cards))
report.glue("n_chapters", cards.chapter.nunique())
report.glue("n_stable", int(stable.sum()))
report.glue("n_unstable", int((cards["across seeds"] == "unstable").sum()))
report.glue("n_seed_measured", len(measured))
report.show(counts.reset_index(), None, caption="claims per verdict (seed 0)")

# %% [markdown]
# Of {glue:text}`n_claims` claims in {glue:text}`n_chapters` chapters, the seed study measured
# {glue:text}`n_seed_measured`; {glue:text}`n_stable` have the same verdict with all three training seeds and
# {glue:text}`n_unstable` do not. **Reproduced, and stable across seeds: {glue:text}`n_reproduced_stable`**;
# reproduced with seed 0 only: {glue:text}`n_reproduced_unstable`. With seed 0: {glue:text}`n_partly` partly,
# {glue:text}`n_not_reproduced` not reproduced, {glue:text}`n_inconclusive` inconclusive, {glue:text}`n_by_construction`
# by construction, {glue:text}`n_not_comparable` not comparable. Every claim, with the chapter that tests it, its
# verdicts with seeds 0, 1 and 2, and the test that decides it:

# %%
# NBVAL_CHECK_OUTPUT
report.show(cards[["chapter", "artefact", "claim", "paper", "ours", "verdict", "seeds", "across seeds", "test"]], None)

# %% [markdown]
# Each card is computed where its numbers are: re-running a chapter on another profile or your own system updates its
# card (in that run's notebook and in `card.csv` in its output folder; the seed columns then say "not measured": the
# study covers the book's own runs); this page reads the book's executed chapters. The seed study is
# `python -m data_scripts.seed_study` ({doc}`../book/how_to_run`). See {doc}`03_idgi_tables`, {doc}`05_gad_tables`
# and {doc}`07_gax_co_gap` for the tables behind the verdicts.
