"""Execute the book's chapters with papermill, skipping those whose inputs did not change.

    python -m data_scripts.execute_chapters                    # every chapter, default profile, in place
    python -m data_scripts.execute_chapters --chapter 02_rotation_toy --force
    python -m data_scripts.execute_chapters --chapter 02_rotation_toy --output-dir runs/ -p profile smoke

A chapter's source of truth is its jupytext file ``notebooks/<name>.py``. With the default profile and no
``--output-dir`` the executed notebook replaces ``notebooks/<name>.ipynb`` (the committed, rendered one), and
records in its metadata (``xai_lib.inputs_sha256``) the digest of everything it was computed from: its source, its
quiz file, the library's files (sources, reference tables, the shipped models' manifest), this script and the
parameters (for the scorecard, also the chapters whose cards it reads). A chapter is re-run only when that digest
changed: a fresh clone whose committed notebooks match their sources executes nothing and changes no tracked file.
With ``-p`` parameters or ``--output-dir`` the result goes to the output folder and the committed notebooks
are left untouched. Run times are recorded in ``book/execution_times.csv``.
"""

from __future__ import annotations

import argparse
import ast
import hashlib
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import jupytext
import nbformat
import papermill

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
TIMES = ROOT / "book" / "execution_times.csv"
VOLATILE_CELL_KEYS = ("papermill", "execution")
#: the library files a chapter's outputs can depend on (the shipped models enter through their manifest's SHA-256s)
LIBRARY_SUFFIXES = (".py", ".csv", ".json")
#: chapters that read other chapters' executed notebooks (the scorecard reads their cards)
READS_OTHER_CHAPTERS = ("09_scorecard",)
#: where an executed notebook records the digest of its inputs
STAMP_KEY = "inputs_sha256"


def chapters() -> list[str]:
    return sorted(p.stem for p in NOTEBOOKS.glob("[0-9][0-9]_*.py"))


def content_key(name: str, parameters: dict, exclude: tuple[str, ...] = ()) -> str:
    """SHA-256 of everything the chapter's committed outputs are computed from (see the module notes); ``exclude``:
    library files (paths relative to the repository) that the run does not read."""
    h = hashlib.sha256()
    library = sorted(
        p for p in (ROOT / "xai_lib").rglob("*")
        if p.suffix in LIBRARY_SUFFIXES and "__pycache__" not in p.parts
        and p.relative_to(ROOT).as_posix() not in exclude
    )  # fmt: skip
    quiz = NOTEBOOKS / "quizzes" / f"{name}.json"  # a chapter's self-check quiz is embedded in its output
    files = [NOTEBOOKS / f"{name}.py", *([quiz] if quiz.exists() else []), Path(__file__).resolve(), *library]
    if name in READS_OTHER_CHAPTERS:
        files += [NOTEBOOKS / f"{c}.ipynb" for c in chapters() if c != name and (NOTEBOOKS / f"{c}.ipynb").exists()]
    for f in files:
        h.update(f.relative_to(ROOT).as_posix().encode())
        h.update(f.read_bytes())
    h.update(json.dumps(parameters, sort_keys=True).encode())
    return h.hexdigest()


def recorded_key(path: Path) -> str | None:
    """The inputs digest an executed notebook recorded (``None``: none, or not a notebook)."""
    try:
        return nbformat.read(str(path), as_version=4).metadata.get("xai_lib", {}).get(STAMP_KEY)
    except (OSError, ValueError):
        return None


def stale(names: list[str] | None = None) -> list[str]:
    """The chapters whose committed notebook was not computed from the current sources."""
    return [n for n in names or chapters() if recorded_key(NOTEBOOKS / f"{n}.ipynb") != content_key(n, {})]


def _atomic_write(path: Path, text: str) -> None:
    from xai_lib.cache import atomic_write_text

    atomic_write_text(path, text)


def _last_redraw(line: str) -> str:
    """The last non-empty ``\r``-separated state of one line."""
    return next((part for part in reversed(line.split("\r")) if part), "")


def settle_progress(outputs: list) -> list:
    """What a live notebook shows of a cell's stream outputs: progress-bar redraws settled to their last state.

    A progress bar redraws its line many times; the executed notebook stores every redraw as a separate
    stream message (or with ``\r`` inside one), which a rendered page would show as dozens of lines.
    Consecutive messages of one stream are merged, and a message that follows an unfinished line replaces
    that line, as the redraw does on screen.
    """
    settled: list = []
    for output in outputs:
        if output.get("output_type") != "stream":
            settled.append(output)
            continue
        text = "\n".join(_last_redraw(line) for line in output["text"].split("\n"))
        last = settled[-1] if settled else None
        if last is not None and last.get("output_type") == "stream" and last["name"] == output["name"]:
            done, newline, partial = last["text"].rpartition("\n")
            if partial and not text.startswith("\n"):
                last["text"] = done + newline + text
            else:
                last["text"] += text
        else:
            output["text"] = text
            settled.append(output)
    return settled


def clean(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Drop per-cell timestamps (they change on every run) and settle progress-bar redraws."""
    for cell in nb.cells:
        for key in VOLATILE_CELL_KEYS:
            cell.metadata.pop(key, None)
        if "outputs" in cell:
            cell.outputs = settle_progress(cell.outputs)
    nb.metadata.get("papermill", {}).pop("input_path", None)
    nb.metadata.get("papermill", {}).pop("output_path", None)
    for key in ("start_time", "end_time", "environment_variables"):
        nb.metadata.get("papermill", {}).pop(key, None)
    return nb


def execute(name: str, parameters: dict, target: Path, stamp: str | None = None) -> float:
    """Run one chapter with papermill (cwd = notebooks/) and write it atomically to ``target`` (with ``stamp``,
    the inputs digest recorded in its metadata)."""
    source = jupytext.read(NOTEBOOKS / f"{name}.py")
    source.metadata.setdefault("jupytext", {})["formats"] = "ipynb,py:percent"
    for i, cell in enumerate(source.cells):  # stable ids: re-execution diffs show only real changes
        cell.id = hashlib.sha1(f"{name}:{i}".encode()).hexdigest()[:12]
    with tempfile.TemporaryDirectory() as tmp:
        src, dst = Path(tmp) / f"{name}.ipynb", Path(tmp) / f"{name}.out.ipynb"
        nbformat.write(source, src)
        t0 = time.perf_counter()
        papermill.execute_notebook(
            str(src), str(dst), parameters=parameters, cwd=str(NOTEBOOKS), kernel_name="python3",
            progress_bar=False, log_output=False, request_save_on_cell_execute=False,
        )  # fmt: skip
        seconds = time.perf_counter() - t0
        nb = clean(nbformat.read(dst, as_version=4))
    if stamp is not None:
        nb.metadata["xai_lib"] = {STAMP_KEY: stamp}
    _atomic_write(target, nbformat.writes(nb) + "\n")
    return seconds


def record_time(name: str, profile: str, seconds: float) -> None:
    rows = {}
    if TIMES.exists():
        for line in TIMES.read_text().splitlines()[1:]:
            chapter, prof, secs = line.split(",")
            rows[(chapter, prof)] = secs
    rows[(name, profile)] = f"{seconds:.0f}"
    lines = ["chapter,profile,seconds"] + [f"{c},{p},{s}" for (c, p), s in sorted(rows.items())]
    _atomic_write(TIMES, "\n".join(lines) + "\n")


def _parse_value(text: str):
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


def main(argv: list[str] | None = None) -> int:
    # figures must reach the notebook: an inherited non-interactive backend (e.g. MPLBACKEND=Agg in a CI
    # environment) would make every plt.show() draw nothing
    os.environ["MPLBACKEND"] = "module://matplotlib_inline.backend_inline"
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--chapter", action="append", help="chapter name (default: all)")
    ap.add_argument("--force", action="store_true", help="re-run even when nothing changed")
    ap.add_argument("--output-dir", type=Path, help="write executed notebooks here instead of in place")
    ap.add_argument("-p", nargs=2, action="append", default=[], metavar=("NAME", "VALUE"), help="parameter")
    ap.add_argument(
        "--record", action="store_true",
        help="record the run time in book/execution_times.csv under the run's profile (with --output-dir)",
    )  # fmt: skip
    args = ap.parse_args(argv)
    names = args.chapter or chapters()
    unknown = set(names) - set(chapters())
    if unknown:
        ap.error(f"--chapter: unknown chapter(s) {sorted(unknown)}; expected some of {chapters()}")
    parameters = {k: _parse_value(v) for k, v in args.p}
    in_place = args.output_dir is None and not parameters
    for name in names:
        key = None
        if in_place:
            target = NOTEBOOKS / f"{name}.ipynb"
            key = content_key(name, parameters)
            if not args.force and recorded_key(target) == key:
                print(f"{name}: up to date", flush=True)
                continue
        else:
            target = args.output_dir / f"{name}.ipynb"
            target.parent.mkdir(parents=True, exist_ok=True)
        print(f"{name}: executing ...", flush=True)
        seconds = execute(name, parameters, target, key)
        print(f"{name}: done in {seconds:.0f} s -> {target}", flush=True)
        if in_place or args.record:
            record_time(name, str(parameters.get("profile", "book")), seconds)
    return 0


if __name__ == "__main__":
    sys.exit(main())
