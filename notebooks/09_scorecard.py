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
# number, ours and a verdict computed from the chapter's outputs (*reproduced*: every comparable cell agrees with the
# paper's claim; *partly*: at least half do; *not reproduced*: fewer; *not comparable*: no cell can be compared, for
# instance a claim the paper makes by eye). This page gathers the cards of the executed chapters in one table.

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
for verdict in VERDICTS:
    report.glue(f"n_{verdict.replace(' ', '_')}", int((cards.verdict == verdict).sum()))
report.glue("n_claims", len(cards))
report.glue("n_chapters", cards.chapter.nunique())
report.show(counts.reset_index(), None, caption="claims per verdict")

# %% [markdown]
# Of {glue:text}`n_claims` claims in {glue:text}`n_chapters` chapters, {glue:text}`n_reproduced` are reproduced,
# {glue:text}`n_partly` partly, {glue:text}`n_not_reproduced` not reproduced and {glue:text}`n_not_comparable` not
# comparable. Every claim, with the chapter that tests it:

# %%
# NBVAL_CHECK_OUTPUT
report.show(cards[["chapter", "artefact", "claim", "paper", "ours", "verdict"]], None)

# %% [markdown]
# Each card is computed where its numbers are: re-running a chapter on another profile or your own system updates its
# card (in that run's notebook and in `card.csv` in its output folder); this page reads the book's executed chapters.
# See {doc}`03_idgi_tables`, {doc}`05_gad_tables` and {doc}`07_gax_co_gap` for the tables behind the verdicts.
