"""Write the student edition of the chapters: every worked solution and instructor note removed, every output that
answers an exercise or a prediction cleared.

    .venv/bin/python -m data_scripts.student_edition [--out _student]

A solution is everything between a ``{solution-start}`` directive and the fence that closes its
``{solution-end}`` (markdown and code cells, and parts of markdown cells), plus any code cell tagged
``solution``. Cells tagged ``instructor`` (the instructor notes) are removed. Scaffold cells (tagged ``exercise``)
stay, with their outputs cleared, and so do the chapter's own cells tagged ``answers-prediction`` (the cells whose
outputs answer a predict-first exercise asked before them). The chapters are the committed, executed notebooks, so
students see every other result of the chapter; the edition's notebooks run exactly like the book's (``make
student`` then ``make lab``).

Glued results are written for JupyterLab: jupyterlab-myst renders MyST and its ``{eval}`` role but not the book's
``{glue:text}``, so each ``{glue:text}`name:fmt``` becomes ``{eval}`report.recall("name", "fmt")``` and each
``{glue:}`` block (the reproduction cards) an ``{eval}`` line: the value the student's own run glued, shown once the
cell that computes it has run (:func:`xai_lib.report.recall`; every chapter imports ``report``). A value that only a
removed solution computes cannot be shown: its role becomes a pointer to the solution in the book.
"""

from __future__ import annotations

import argparse
import csv
import functools
import importlib.util
import re
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
START, END, FENCE = "````{solution-start}", "````{solution-end}", "````"
#: cells left out of the edition, and code cells kept with their outputs cleared (the answers to find)
REMOVED, CLEARED = {"instructor"}, {"exercise", "answers-prediction"}
_GLUE_ROLE = re.compile(r"\{glue(?::text)?\}`([\w.-]+)(?::([^`]*))?`")
_GLUE_BLOCK = re.compile(r"```\{glue:?\}\s+([\w.-]+)\s*\n```")
_CHAPTER_TIMES = re.compile(r"```\{chapter-times\}[ \t]*([\w.-]*)[ \t]*\n```")
#: a literal name glued in code (``report.glue("name", ...)``, ``report.phrase("name", ...)``)
_GLUED_NAME = re.compile(r"""report\.(?:glue|phrase)\(\s*["']([\w.-]+)["']""")
#: what a sentence of the edition shows where the book quotes a value only an exercise's solution computes
SOLUTION_VALUE = "*(an exercise's answer: see its solution in the book)*"


@functools.cache
def _chapter_meta():
    """The book's Sphinx extension that prints ``{chapter-times}`` (loaded from its file, once)."""
    spec = importlib.util.spec_from_file_location("chapter_meta", ROOT / "book" / "_ext" / "chapter_meta.py")
    meta = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(meta)
    return meta


def run_times(chapter: str) -> str:
    """The run times the book's ``{chapter-times}`` directive prints (a Sphinx extension, unknown to JupyterLab),
    from the same record (``book/execution_times.csv``), as plain MyST."""
    rows = list(csv.DictReader((ROOT / "book" / "execution_times.csv").open()))
    runs = {r["profile"]: float(r["seconds"]) for r in rows if r["chapter"] == chapter}
    order = [p for p in ("smoke", "class", "book", "paper") if p in runs]
    duration = _chapter_meta()._duration
    listed = ", ".join(f"{p} {duration(runs[p])}" for p in order) + "." if order else "not recorded yet."
    return f"**Time to run** (2-core CPU, default models already trained): {listed}"


def evaluated_glue(text: str, solution_only: frozenset[str] = frozenset()) -> str:
    """``text`` with the book's glue markup replaced by jupyterlab-myst ``{eval}`` roles reading
    :func:`xai_lib.report.recall` (same names, same formats); a name in ``solution_only`` (glued only by a
    solution the edition removes) becomes a pointer to the book instead."""

    def shown(name: str, fmt: str | None = None) -> str:
        if name in solution_only:
            return SOLUTION_VALUE
        fmt_arg = f', "{fmt}"' if fmt else ""
        return f'{{eval}}`report.recall("{name}"{fmt_arg})`'

    text = _GLUE_BLOCK.sub(lambda m: shown(m[1]), text)
    return _GLUE_ROLE.sub(lambda m: shown(m[1], m[2]), text)


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


def student_notebook(nb: nbformat.NotebookNode, chapter: str = "") -> nbformat.NotebookNode:
    """A copy of ``nb`` without solutions and instructor notes, with the outputs of the exercise cells and of the
    cells that answer a prediction cleared."""
    out = nbformat.from_dict(nb)
    # no jupytext pairing: JupyterLab's jupytext extension would write a .py beside each notebook a student saves,
    # and a later `make student` (newer notebooks beside older .py files) would then refuse to open them
    out.metadata.pop("jupytext", None)
    cells, markdown, removed_code, inside = [], [], [], False
    for cell in out.cells:
        tags = set(cell.metadata.get("tags", []))
        if REMOVED & tags:
            continue
        if cell.cell_type == "markdown":
            text, inside = _strip_markdown(cell.source, inside)
            if text.strip():
                cell.source = text
                cells.append(cell)
                markdown.append(cell)
            continue
        if inside or "solution" in tags:
            removed_code.append(cell.source)
            continue
        if CLEARED & tags and cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
        cells.append(cell)
    if inside:
        raise ValueError("a {solution-start} is never closed")
    kept = {n for c in cells if c.cell_type == "code" for n in _GLUED_NAME.findall(c.source)}
    solution_only = frozenset(n for src in removed_code for n in _GLUED_NAME.findall(src)) - kept
    for cell in markdown:
        text = _CHAPTER_TIMES.sub(lambda m: run_times(m[1] or chapter), cell.source)
        cell.source = evaluated_glue(text, solution_only)
    out.cells = cells
    return out


def run_edition(folder: Path, profile: str) -> list[str]:
    """Execute every notebook of the edition in ``folder`` top to bottom at ``profile`` (papermill, outputs to a
    temporary folder, cwd = the chapters' folder as in the book); returns the failures, one line each."""
    import tempfile
    import time

    import papermill

    failures = []
    for path in sorted(folder.glob("[0-9][0-9]_*.ipynb")):
        with tempfile.TemporaryDirectory() as tmp:
            t0 = time.perf_counter()
            try:
                papermill.execute_notebook(
                    str(path), str(Path(tmp) / path.name), parameters={"profile": profile, "output_dir": tmp},
                    cwd=str(NOTEBOOKS), kernel_name="python3", progress_bar=False, log_output=False,
                )  # fmt: skip
            except papermill.PapermillExecutionError as err:
                failures.append(f"{path.name}: cell {err.exec_count}: {err.ename}: {err.evalue}")
                print(f"{path.name}: FAILED ({err.ename}: {err.evalue})", flush=True)
                continue
            print(f"{path.name}: runs top to bottom at {profile} ({time.perf_counter() - t0:.0f} s)", flush=True)
    return failures


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=ROOT / "_student", help="folder of the student edition")
    ap.add_argument("--run", metavar="PROFILE", help="then execute every notebook of the edition at this profile")
    args = ap.parse_args(argv)
    from xai_lib.cache import atomic_write_text

    args.out.mkdir(parents=True, exist_ok=True)
    chapters = sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))
    for path in chapters:
        nb = student_notebook(nbformat.read(path, as_version=4), path.stem)
        atomic_write_text(args.out / path.name, nbformat.writes(nb) + "\n")
    print(f"student edition: {len(chapters)} chapters -> {args.out}")
    if args.run:
        failures = run_edition(args.out, args.run)
        if failures:
            print("the student edition does not run:\n" + "\n".join(failures), file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
