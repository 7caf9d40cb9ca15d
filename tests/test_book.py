"""The book's text against its outputs, its template, its references and its student edition.

**What counts as a hand-typed result** in a chapter's prose (markdown cells): a decimal number (``0.93``,
``4.5``), a percentage (``12%``, ``12.7 %``) or a count of the form "N of M" / "N out of M", anywhere outside

* math (``$...$``, ``$$...$$``), inline code and code fences (parameter values belong there: ```fill=0.5```),
* MyST roles and directives (``{glue:text}`...```, ``{eq}``, ``{cite}``, ``{doc}``; directive option lines),
* link targets, and
* references to the papers' artefacts: "sec. 4.3", "section 4.2", "Table 2", "Fig. 4", "eq. (5)".

Such a number must be glued from the output that computed it (``{glue:text}`name:.3f```). Integers alone
(settings such as "64 images", references such as "Tables 1-4") are allowed.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
CHAPTERS = sorted(p.stem for p in NOTEBOOKS.glob("[0-9][0-9]_*.py"))
PAPER_CHAPTERS = [c for c in CHAPTERS if not c.startswith(("01_", "09_"))]

_REFERENCE = r"(?:sec(?:tion)?s?\.?|tables?|figs?\.?|figures?|eqs?\.?|equations?|theorem|chapters?|appendix)"
_STRIP = [
    re.compile(r"\$\$.*?\$\$", re.S),  # display math
    re.compile(r"\$[^$\n]+\$"),  # inline math
    re.compile(r"`{3,}.*?`{3,}", re.S),  # fences (directives, code)
    re.compile(r"\{[\w:.-]+\}`[^`]*`"),  # roles: {glue:text}`x`, {eq}`...`, {cite}`...`
    re.compile(r"`[^`\n]*`"),  # inline code
    re.compile(r"\]\([^)]*\)"),  # link targets
    re.compile(r"^\s*:[\w-]+:.*$", re.M),  # directive options
    re.compile(r"^\(\S+\)=\s*$", re.M),  # targets
    re.compile(rf"\b{_REFERENCE}\s*\(?\d+(?:\.\d+)*(?:\s*[-–,]\s*\d+(?:\.\d+)*)*\)?", re.I),
]
_RESULT = re.compile(r"(?<![\w.])\d+\.\d+(?![\w.])|\d+(?:\.\d+)?\s?%|\b\d+\s+(?:out\s+)?of\s+\d+\b")


def prose(name: str) -> list[tuple[int, str]]:
    """(cell number, markdown text with everything that is not prose removed) of a chapter."""
    nb = nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)
    cells = []
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "markdown":
            continue
        text = cell.source
        for pattern in _STRIP:
            text = pattern.sub(" ", text)
        cells.append((i, text))
    return cells


def hand_typed_results(text: str) -> list[str]:
    return [m.group(0) for m in _RESULT.finditer(text)]


def test_the_rule_finds_typed_results_and_spares_the_rest():
    typed = "IDGI wins 13 of 20 cells; the mean error falls from 2.3 to 0.29, a 12% gain."
    assert hand_typed_results(typed) == ["13 of 20", "2.3", "0.29", "12%"]
    clean = (
        "Tables 1-4 and sec. 4.3 of the paper, Fig. 4, eq. (5); {glue:text}`n_better` of {glue:text}`n_cells` "
        "cells; $a_1 = 0.7$; `-p fill 0.5`; 64 images at 200 steps; [link](https://x.org/v1.2)"
    )
    for pattern in _STRIP:
        clean = pattern.sub(" ", clean)
    assert hand_typed_results(clean) == []


@pytest.mark.parametrize("name", CHAPTERS)
def test_prose_quotes_no_hand_typed_result(name):
    found = [(i, hit) for i, text in prose(name) for hit in hand_typed_results(text)]
    assert not found, f"{name}: numbers typed into the prose (glue them from the output): {found}"


def _glued_names(nb) -> set[str]:
    names = set()
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            meta = out.get("metadata", {}).get("scrapbook", {})
            if "name" in meta:
                names.add(meta["name"])
    return names


@pytest.mark.parametrize("name", CHAPTERS)
def test_every_glue_reference_has_a_glued_output(name):
    nb = nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)
    referenced = set()
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            referenced |= set(re.findall(r"\{glue(?::\w+)?\}`([\w-]+)", cell.source))
            referenced |= set(re.findall(r"```\{glue(?::\w+)?\}\s+([\w-]+)", cell.source))
    missing = referenced - _glued_names(nb)
    assert referenced and not missing, f"{name}: glue names without an output: {sorted(missing)}"


@pytest.mark.parametrize("name", CHAPTERS)
def test_every_glued_real_is_shown_with_a_format(name):
    """A real glued without a format spec is shown with all its digits, whose last ones are rounding and differ from
    CPU to CPU: every sentence that quotes a real must say how many digits it shows (``{glue:text}`x:.3f```)."""
    import ast

    from data_scripts.checked_outputs import glue_formats

    nb = nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)
    unformatted = {n for n, specs in glue_formats(nb.cells).items() if "" in specs}
    bad = []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            glued = out.get("metadata", {}).get("scrapbook", {}).get("name")
            if glued in unformatted:
                data = out.get("data", {})
                text = data.get("text/plain", data.get("application/papermill.record/text/plain", ""))
                try:
                    value = ast.literal_eval(text)
                except (ValueError, SyntaxError):
                    continue
                if isinstance(value, float):
                    bad.append(glued)
    assert not bad, f"{name}: reals quoted without a format: {sorted(set(bad))}"


@pytest.mark.parametrize("name", [c for c in CHAPTERS if c != "09_scorecard"])
def test_chapter_follows_the_template(name):
    """Objectives, prerequisites, times (computed), summary, exercises with a solution each, resources or
    implementation notes; no talk of the project's process."""
    text = (NOTEBOOKS / f"{name}.py").read_text()
    for needle in ("{chapter-times}", "**Learning objectives.**", "**Prerequisites.**", "## Summary"):
        assert needle in text, f"{name}: no {needle}"
    assert "## Exercises" in text and "## Implementation notes" in text, name
    exercises = re.findall(r"\{exercise-start\}\n# :label: ([\w-]+)", text)
    solutions = re.findall(r"\{solution-start\} ([\w-]+)", text)
    assert len(exercises) >= 3 and exercises == solutions, f"{name}: exercises {exercises}, solutions {solutions}"
    for word in ("the issue", "our goal", "shared notes", "TODO", "the session"):
        assert word.lower() not in text.lower(), f"{name}: process talk {word!r}"


@pytest.mark.parametrize("name", PAPER_CHAPTERS)
def test_paper_chapters_open_with_a_reproduction_card(name):
    nb = nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)
    head = "\n".join(c.source for c in nb.cells[:3] if c.cell_type == "markdown")
    assert "{glue:} card_settings" in head and "{glue:} card_claims" in head
    assert {"card_settings", "card_claims", "card_json"} <= _glued_names(nb)


def test_every_bibliography_entry_is_cited_and_has_an_identifier():
    bib = (ROOT / "book" / "references.bib").read_text()
    entries = re.findall(r"@\w+\{([\w-]+),(.*?)\n\}", bib, re.S)
    keys = {k for k, _ in entries}
    sources = [p.read_text() for p in NOTEBOOKS.glob("*.py")] + [p.read_text() for p in (ROOT / "book").glob("*.md")]
    cited = set()
    for text in sources:
        for group in re.findall(r"\{cite(?::\w+)?\}`([^`]+)`", text):
            cited |= {k.strip() for k in group.split(",")}
    assert cited <= keys, f"cited but not in references.bib: {sorted(cited - keys)}"
    assert keys <= cited, f"in references.bib but never cited: {sorted(keys - cited)}"
    for key, body in entries:
        if "software" in body.lower() or "howpublished" in body.lower() or "url" in body.lower():
            assert re.search(r"\b(doi|eprint|url)\s*=", body, re.I), key
        else:
            assert re.search(r"\b(doi|eprint)\s*=", body, re.I), f"{key}: no DOI or arXiv id"
    assert "Bilgic" in bib  # IDGI's third author


def test_student_edition_keeps_exercises_and_drops_every_solution(tmp_path):
    subprocess.run([sys.executable, "-m", "data_scripts.student_edition", "--out", str(tmp_path)], cwd=ROOT,
                   check=True, capture_output=True)  # fmt: skip
    written = sorted(p.stem for p in tmp_path.glob("*.ipynb"))
    assert written == sorted(p.stem for p in NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))
    for name in written:
        book = nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)
        student = nbformat.read(tmp_path / f"{name}.ipynb", as_version=4)
        solution_code = [c.source for c in book.cells if "solution" in c.metadata.get("tags", [])]
        text = "\n".join(c.source for c in student.cells)
        assert "solution-start" not in text and "solution-end" not in text, name
        assert "{chapter-times}" not in text and "jupytext" not in student.metadata, name  # JupyterLab knows neither
        assert not any("solution" in c.metadata.get("tags", []) for c in student.cells), name
        assert all(src not in text for src in solution_code if src.strip()), name
        assert text.count("{exercise-start}") == "\n".join(c.source for c in book.cells).count("{exercise-start}")
        # glue is rewritten for JupyterLab (jupyterlab-myst's {eval}), one role per glued use of the book
        glued = {o.metadata["scrapbook"]["name"] for c in book.cells if c.cell_type == "code" for o in c.outputs
                 if "scrapbook" in o.get("metadata", {})}  # fmt: skip
        evaluated = re.findall(r'\{eval\}`report\.recall\("([\w.-]+)"', text)
        assert "{glue" not in text and evaluated, name
        assert set(evaluated) <= glued, f"{name}: eval of names never glued: {set(evaluated) - glued}"
        # and none of a value that only a removed solution computes (a student's run never shows it)
        name_in = re.compile(r"""report\.(?:glue|phrase)\(\s*["']([\w.-]+)["']""")
        kept = {n for c in student.cells if c.cell_type == "code" for n in name_in.findall(c.source)}
        by_solutions = {n for src in solution_code for n in name_in.findall(src)} - kept
        assert not set(evaluated) & by_solutions, f"{name}: quotes a solution's value: {set(evaluated) & by_solutions}"
        for cell in student.cells:
            tags = set(cell.metadata.get("tags", []))
            assert "instructor" not in tags, f"{name}: an instructor note reached the student edition"
            if tags & {"exercise", "answers-prediction"}:
                assert cell.outputs == [], f"{name}: a cell that answers an exercise or a prediction kept its output"


def glossary_terms() -> list[str]:
    text = (ROOT / "book" / "glossary.md").read_text()
    body = text.split("```{glossary}", 1)[1].split("\n```", 1)[0]
    return [line.strip() for line in body.splitlines() if line.strip() and not line.startswith(" ")]


def test_every_glossary_term_is_linked_and_every_link_has_a_term():
    """Each term of the glossary is linked ({term}`...`) from the pages that use it, and no link points to a
    term the glossary lacks (Sphinx only warns about the latter, and only where the page is rendered)."""
    pages = [NOTEBOOKS / f"{c}.py" for c in CHAPTERS] + sorted((ROOT / "book").glob("*.md"))
    role = re.compile(r"\{term\}`(?:[^`<]*<([^>]+)>|([^`]+))`")
    used = {re.sub(r"\s*\n#?\s*", " ", m.group(1) or m.group(2)) for p in pages for m in role.finditer(p.read_text())}
    terms = glossary_terms()
    assert len(terms) == len(set(terms)) and len(terms) > 20
    assert sorted(set(terms) - used) == [], "glossary terms that no page links"
    assert sorted(used - set(terms)) == [], "links to terms the glossary does not define"
