"""Write the student edition of the chapters: every worked solution removed, the exercise cells' outputs cleared.

    .venv/bin/python -m data_scripts.student_edition [--out _student]

A solution is everything between a ``{solution-start}`` directive and the fence that closes its
``{solution-end}`` (markdown and code cells, and parts of markdown cells), plus any code cell tagged
``solution``. Scaffold cells (tagged ``exercise``) stay, with their outputs cleared. The chapters are the
committed, executed notebooks, so students see every result of the chapter itself; the edition's notebooks
run exactly like the book's (``make student`` then open ``_student/NN_name.ipynb``).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
START, END, FENCE = "````{solution-start}", "````{solution-end}", "````"


def _strip_markdown(text: str, inside: bool) -> tuple[str, bool]:
    """The lines of ``text`` outside solutions, and whether a solution is still open at its end."""
    kept, closing = [], False
    for line in text.split("\n"):
        stripped = line.strip()
        if not inside and stripped.startswith(START):
            inside = True
        if inside:
            if closing and stripped == FENCE:
                inside = closing = False
            elif stripped.startswith(END):
                closing = True
            continue
        kept.append(line)
    if closing:  # a solution-end whose closing fence never came
        raise ValueError("unterminated {solution-end} directive")
    return "\n".join(kept).strip("\n"), inside


def student_notebook(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """A copy of ``nb`` without solutions and with the exercise cells' outputs cleared."""
    out = nbformat.from_dict(nb)
    cells, inside = [], False
    for cell in out.cells:
        tags = set(cell.metadata.get("tags", []))
        if cell.cell_type == "markdown":
            text, inside = _strip_markdown(cell.source, inside)
            if text.strip():
                cell.source = text
                cells.append(cell)
            continue
        if inside or "solution" in tags:
            continue
        if "exercise" in tags and cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
        cells.append(cell)
    if inside:
        raise ValueError("a {solution-start} is never closed")
    out.cells = cells
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=ROOT / "_student", help="folder of the student edition")
    args = ap.parse_args(argv)
    from xai_lib.cache import atomic_write_text

    args.out.mkdir(parents=True, exist_ok=True)
    chapters = sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))
    for path in chapters:
        nb = student_notebook(nbformat.read(path, as_version=4))
        atomic_write_text(args.out / path.name, nbformat.writes(nb) + "\n")
    print(f"student edition: {len(chapters)} chapters -> {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
