"""The papers' own numbers, extracted once from their text (``data_scripts/extract_paper_tables.py``) and shipped
with the library, so that the chapters' reproduction cards set the paper's values beside ours.

* :func:`idgi_tables`: IDGI paper Tables 1-4, one row per (table, metric, model, method, value): 11 ImageNet
  models, the seven methods of the tables;
* :func:`gad_tables`: GAD paper Tables 1-2, one row per (table, dataset, arch, row, method, value).
"""

from __future__ import annotations

from functools import cache
from importlib import resources

import pandas as pd


@cache
def idgi_tables() -> pd.DataFrame:
    with resources.files(__package__).joinpath("idgi_tables.csv").open() as fh:
        return pd.read_csv(fh)


@cache
def gad_tables() -> pd.DataFrame:
    with resources.files(__package__).joinpath("gad_tables.csv").open() as fh:
        return pd.read_csv(fh)
