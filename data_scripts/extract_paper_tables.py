"""Extract the papers' own result tables from their text into ``xai_lib/reference/*.csv`` (run once; the CSVs are
committed so that the book and its reproduction cards never depend on the paper files).

    python -m data_scripts.extract_paper_tables --papers ../shared/papers

IDGI (Yang et al. 2023) Tables 1-4: one row per (table, metric, model, method, value). GAD (Rodrigues et al. 2024)
Tables 1-2: one row per (table, dataset, architecture, row, method, value).
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import pandas as pd

OUT = Path(__file__).resolve().parents[1] / "xai_lib" / "reference"
IDGI_METHODS = ["IG", "IG+IDGI", "GIG", "GIG+IDGI", "BlurIG", "BlurIG+IDGI", "VG"]
IDGI_METRICS = {  # the paper's row label -> (table, our metric name)
    ("1", "Insertion Score with Probability"): "insertion (prob)",
    ("1", "Insertion Score with Probability Ratio"): "insertion (ratio)",
    ("2", "AUC AIC"): "AIC (entropy)",
    ("2", "AUC SIC"): "SIC (entropy)",
    ("3", "AUC AIC"): "AIC (MS-SSIM)",
    ("3", "AUC SIC"): "SIC (MS-SSIM)",
    ("4", "F1"): "F1",
    ("4", "ROC AUC"): "ROC-AUC",
    ("4", "MAE"): "MAE",
}
GAD_METHODS = ["Saliency", "Deconvolution", "InputXGradient", "GuidedBackprop", "IntegratedGradients"]
GAD_BLOCKS = [("cat x dog", "vgg"), ("cat x dog", "resnet"), ("birds", "vgg"), ("birds", "resnet")]


def idgi(text: str) -> pd.DataFrame:
    rows, table, metric = [], 0, None
    for line in text.splitlines():
        if line.startswith("| Metrics | Models |"):
            table += 1
            continue
        if not line.startswith("| ") or line.startswith("|---") or table == 0:
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if cells and cells[-1] == "":  # continuation rows end with an empty cell
            cells = cells[:-1]
        if len(cells) == 9:  # metric | model | 7 values
            label = re.sub(r"\s*\(\)$", "", cells[0])
            metric = IDGI_METRICS[(str(table), label)]
            cells = cells[1:]
        if len(cells) != 8 or metric is None:
            continue
        model, values = cells[0], cells[1:]
        for method, v in zip(IDGI_METHODS, values, strict=True):
            rows.append({"table": table, "metric": metric, "model": model, "method": method, "value": float(v)})
    return pd.DataFrame(rows)


def gad(text: str) -> pd.DataFrame:
    rows = []
    for table, (first, second) in ((1, ("Orig.", "GAD")), (2, ("Sup.", "GAD"))):
        start = text.index("S D GxI GB IG", text.index(f"Table {table}:"))
        lines = [ln for ln in text[start:].splitlines()[1:17]]
        for block, (dataset, arch) in enumerate(GAD_BLOCKS):
            for j, line in enumerate(lines[4 * block : 4 * block + 4]):
                values = [float(v) for v in line.split()[-5:]]
                row = f"{first if j % 2 == 0 else second} {1 + j // 2}"
                for method, v in zip(GAD_METHODS, values, strict=True):
                    rows.append({"table": table, "dataset": dataset, "arch": arch, "row": row, "method": method,
                                 "value": v})  # fmt: skip
    return pd.DataFrame(rows)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--papers", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "papers")
    args = ap.parse_args()
    OUT.mkdir(exist_ok=True)
    t_idgi = idgi((args.papers / "idgi-important-direction-gradient-integration.txt").read_text())
    t_gad = gad((args.papers / "gad-gradient-artificial-distancing.txt").read_text())
    assert len(t_idgi) == 9 * 11 * 7, len(t_idgi)
    assert len(t_gad) == 2 * 4 * 4 * 5, len(t_gad)
    t_idgi.to_csv(OUT / "idgi_tables.csv", index=False)
    t_gad.to_csv(OUT / "gad_tables.csv", index=False)
    print(f"{len(t_idgi)} IDGI values, {len(t_gad)} GAD values -> {OUT}")


if __name__ == "__main__":
    main()
